"""Cold start: a client library is instrumented when the application imports it, never before.

``init()`` and ``opentelemetry-instrument`` import none of the instrumented client libraries (each
costs up to a second of CPU); importing one afterwards instruments it, calls go into the right
session, importing it before ``init()`` works too, and ``uninstrument()`` before the import leaves
it unwrapped. Every scenario runs in a fresh interpreter, the calls going to the stand-in API.

Every ``opentelemetry_instrumentor`` entry point of our distributions must have a row in
``LIBRARIES`` (``test_every_instrumentor_is_covered``): a new instrumentor is one line there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from agentops_otel_standin import StandInServer

from agentops_otel._internal.activation import INSTRUMENTOR_GROUP, INSTRUMENTS_GROUP, OUR_INSTRUMENTOR_PREFIX
from tests.support.clients import (
    ANTHROPIC_API_KEY,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    GROQ_API_KEY,
    MISTRAL_API_KEY,
    OPENAI_API_KEY,
)
from tests.support.subprocesses import clean_env, json_documents, run_python

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
QUIET = {"OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}


@dataclass(frozen=True)
class Library:
    module: str
    """What the application imports."""
    call: str
    """One call of the client against the stand-in at ``BASE_URL``, ``client`` bound first."""
    span: str
    """The name of the call's span."""
    api: str
    """The stand-in API the client talks to (``StandInServer.url_for``)."""


_USER = "[{'role': 'user', 'content': 'Hi'}]"
LIBRARIES = {
    "agentops_openai": Library(
        "openai", f"client.chat.completions.create(model='gpt-4o-mini', messages={_USER})",
        "chat gpt-4o-mini", "openai"),
    "agentops_anthropic": Library(
        "anthropic", f"client.messages.create(model='claude-haiku-4-5', max_tokens=8, messages={_USER})",
        "chat claude-haiku-4-5", "anthropic"),
    "agentops_openai_agents": Library(
        "agents", "agents.Runner.run_sync(agents.Agent(name='Assistant', model=client), 'Hi')",
        "invoke_agent Assistant", "openai"),
    "agentops_litellm": Library(
        "litellm", f"litellm.completion(model='openai/gpt-4o-mini', messages={_USER}, **client)",
        "chat gpt-4o-mini", "openai"),
    "agentops_groq": Library(
        "groq", f"client.chat.completions.create(model='llama-3.3-70b-versatile', messages={_USER})",
        "chat llama-3.3-70b-versatile", "groq"),
    "agentops_mistral": Library(
        "mistralai", f"client.chat.complete(model='mistral-small-latest', messages={_USER})",
        "chat mistral-small-latest", "mistral"),
    "agentops_google_genai": Library(
        "google.genai", "client.models.generate_content(model='gemini-2.0-flash', contents='Hi')",
        "generate_content gemini-2.0-flash", "gemini"),
    "agentops_ollama": Library(
        "ollama", f"client.chat(model='llama3.2', messages={_USER})", "chat llama3.2", "ollama"),
    # botocore is what is instrumented (boto3 imports it; its client is the same botocore client).
    "agentops_bedrock": Library(
        "botocore", "client.converse(modelId='amazon.nova-lite-v1:0', "
        "messages=[{'role': 'user', 'content': [{'text': 'Hi'}]}])",
        "chat amazon.nova-lite-v1:0", "bedrock"),
    "agentops_langchain": Library(
        "langchain_core", "RunnableLambda(lambda question: client.chat.completions.create("
        f"model='gpt-4o-mini', messages={_USER}), name='Ask').invoke('Hi')",
        "invoke_workflow Ask", "openai"),
}
CLIENTS = {
    "openai": f"openai.OpenAI(base_url=BASE_URL, api_key={OPENAI_API_KEY!r}, max_retries=0)",
    "anthropic": f"anthropic.Anthropic(base_url=BASE_URL, api_key={ANTHROPIC_API_KEY!r}, max_retries=0)",
    "agents": ("agents.OpenAIChatCompletionsModel('gpt-4o-mini', __import__('openai').AsyncOpenAI("
               f"base_url=BASE_URL, api_key={OPENAI_API_KEY!r}, max_retries=0))"),
    "litellm": f"dict(api_base=BASE_URL, api_key={OPENAI_API_KEY!r}, num_retries=0)",  # litellm has no client
    "groq": f"groq.Groq(base_url=BASE_URL, api_key={GROQ_API_KEY!r}, max_retries=0)",
    "mistralai": f"__import__('mistralai.client').client.Mistral(server_url=BASE_URL, api_key={MISTRAL_API_KEY!r})",
    "google.genai": ("google.genai.Client(api_key='sk-gemini-test-secret', "
                     "http_options={'base_url': BASE_URL})"),
    "ollama": "ollama.Client(host=BASE_URL)",
    "botocore": ("__import__('botocore.session').session.get_session().create_client('bedrock-runtime', "
                 "endpoint_url=BASE_URL, region_name='us-east-1', "
                 f"aws_access_key_id={AWS_ACCESS_KEY_ID!r}, aws_secret_access_key={AWS_SECRET_ACCESS_KEY!r})"),
    # langchain_core has no client: the runnable calls the openai client, and its span nests in the chain's.
    "langchain_core": (f"__import__('openai').OpenAI(base_url=BASE_URL, api_key={OPENAI_API_KEY!r}, max_retries=0); "
                       "from langchain_core.runnables import RunnableLambda"),
}
INSTRUMENTED_MODULES = sorted({library.module for library in LIBRARIES.values()})


def our_instrumentors() -> list[str]:
    return sorted(
        entry_point.name for entry_point in entry_points(group=INSTRUMENTOR_GROUP)
        if entry_point.dist is not None
        and entry_point.dist.name.replace("_", "-").startswith(OUR_INSTRUMENTOR_PREFIX)
    )


def test_every_instrumentor_is_covered() -> None:
    assert our_instrumentors() == sorted(LIBRARIES), "add a row to LIBRARIES for each new instrumentor"


def test_every_instrumentor_names_the_module_that_loads_it() -> None:
    """init() loads each instrumentor when the app imports its library: the entry point names it."""
    modules = {entry_point.name: entry_point.value for entry_point in entry_points(group=INSTRUMENTS_GROUP)}
    assert sorted(modules) == our_instrumentors()
    for name, module in modules.items():
        assert module.split(".")[0] == LIBRARIES[name].module.split(".")[0], (name, module)


def _app(name: str, standin: StandInServer) -> str:
    """Import the library, make one call; the client's construction and call from ``LIBRARIES``."""
    library = LIBRARIES[name]
    return textwrap.dedent(f"""
        import {library.module}
        BASE_URL = {standin.url_for(library.api)!r}
        client = {CLIENTS[library.module]}
        {library.call}
    """)


_PRINT_SPANS = """
import json
from opentelemetry import trace
trace.get_tracer_provider().force_flush()
print(json.dumps({"spans": [
    {"name": s.name, "scope": s.instrumentation_scope.name, "trace": s.context.trace_id, "id": s.context.span_id,
     "parent": s.parent.span_id if s.parent else None, "attributes": dict(s.attributes or {})}
    for s in exporter.get_finished_spans()
]}))
"""


def _documents(text: str, key: str) -> Any:
    found = [document[key] for document in json_documents(text) if isinstance(document, dict) and key in document]
    assert len(found) == 1, text
    return found[0]


def _in_session(spans: list[dict[str, Any]], call_name: str, tags: list[str]) -> None:
    """The one call span is a child of the session root tagged ``tags``, and carries its id."""
    roots = [span for span in spans
             if span["name"] == "session" and list(span["attributes"]["agentops.session.tags"]) == tags]
    calls = [span for span in spans if span["name"] == call_name]
    assert len(roots) == 1 and len(calls) == 1, [span["name"] for span in spans]
    root, call = roots[0], calls[0]
    assert (call["trace"], call["parent"]) == (root["trace"], root["id"])
    assert call["attributes"]["session.id"] == root["attributes"]["session.id"]


# What loading an instrumentor costs at start-up: its package, OpenTelemetry's instrumentation
# base and wrapt. init() loads an instrumentor only when the app imports its library.
_MACHINERY = ("agentops_otel_", "opentelemetry.instrumentation", "wrapt")


def _run_init(standin: StandInServer, name: str, *, import_first: bool = False, uninstrument: bool = False,
              disabled: bool = False) -> Any:
    """init() with two sessions open, then the app's call inside the second: what was imported, the spans.

    ``uninstrument``: this instrumentor is uninstrumented right after init(); ``disabled``: init()
    never activates it (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``). Without ``import_first``, checks
    that init() loaded no instrumentor (nor its machinery) before the app imported a library.
    """
    app = _app(name, standin)
    code = "\n".join([
        "import json, sys",
        f"import {LIBRARIES[name].module}" if import_first else "",
        "from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter",
        "import agentops_otel",
        "exporter = InMemorySpanExporter()",
        "agentops_otel.init(exporter=exporter, auto_start_session=False)",
        f"print(json.dumps({{'imported': sorted(m for m in {INSTRUMENTED_MODULES!r} if m in sys.modules)}}))",
        f"print(json.dumps({{'machinery': sorted(m for m in sys.modules if m.startswith({_MACHINERY!r}))}}))",
        (f"from importlib.metadata import entry_points\n"
         f"[ep.load()().uninstrument() for ep in entry_points(group={INSTRUMENTOR_GROUP!r}) if ep.name == {name!r}]"
         if uninstrument else ""),
        "other = agentops_otel.start_session(tags=['other'])",
        "session = agentops_otel.start_session(tags=['this'])",
        "with session:",
        textwrap.indent(app, "    "),
        "other.end_session('Success')",
        _PRINT_SPANS,
    ])
    env = {**QUIET, "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": name} if disabled else QUIET
    result = run_python(code, env, timeout=90)
    assert result.returncode == 0, result.stderr
    if not import_first:
        assert _documents(result.stdout, "machinery") == []
    return _documents(result.stdout, "imported"), _documents(result.stdout, "spans")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_init_imports_no_library_and_instruments_it_when_the_app_does(standin: StandInServer, name: str) -> None:
    requests_before = len(standin.requests)
    imported, spans = _run_init(standin, name)
    assert imported == []
    _in_session(spans, LIBRARIES[name].span, ["this"])
    assert len(standin.requests) == requests_before + 1


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_a_library_imported_before_init_is_instrumented(standin: StandInServer, name: str) -> None:
    imported, spans = _run_init(standin, name, import_first=True)
    assert LIBRARIES[name].module in imported  # (agents imports openai)
    _in_session(spans, LIBRARIES[name].span, ["this"])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_uninstrument_before_the_import_leaves_the_library_unwrapped(standin: StandInServer, name: str) -> None:
    requests_before = len(standin.requests)
    imported, spans = _run_init(standin, name, uninstrument=True)
    assert imported == []
    assert len(standin.requests) == requests_before + 1  # the call went out
    # ... with exactly the spans it has when this instrumentor was never active (the other
    # instrumentors' own: the model call inside an agent's run or a LiteLLM call, anthropic's).
    _, never_instrumented = _run_init(standin, name, disabled=True)

    def names_and_scopes(spans: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((span["name"], span["scope"]) for span in spans)

    assert names_and_scopes(spans) == names_and_scopes(never_instrumented)
    assert [span["name"] for span in spans].count("session") == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_under_opentelemetry_instrument_the_library_is_instrumented_when_the_app_imports_it(
    standin: StandInServer, name: str
) -> None:
    code = "\n".join([
        "import json, sys",
        f"print(json.dumps({{'imported': sorted(m for m in {INSTRUMENTED_MODULES!r} if m in sys.modules)}}))",
        f"print(json.dumps({{'machinery': sorted(m for m in sys.modules if m.startswith({_MACHINERY!r}))}}))",
        _app(name, standin),
    ])
    result = subprocess.run(
        [str(OPENTELEMETRY_INSTRUMENT), sys.executable, "-c", code],
        env=clean_env({**QUIET, "OTEL_TRACES_EXPORTER": "console", "AGENTOPS_AUTO_START_SESSION": "true",
                       "AGENTOPS_TAGS": "this"}),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _documents(result.stdout, "imported") == []
    spans = [
        {"name": doc["name"], "trace": doc["context"]["trace_id"], "id": doc["context"]["span_id"],
         "parent": doc["parent_id"], "attributes": doc["attributes"]}
        for doc in json_documents(result.stdout) if isinstance(doc, dict) and "context" in doc
    ]
    _in_session(spans, LIBRARIES[name].span, ["this"])


SETTLE = {
    # LiteLLM logs a call on its own worker thread, which imports modules of its own
    # (litellm.proxy.spend_tracking) some time after the call returns: wait for it.
    "litellm": "from litellm.litellm_core_utils.thread_pool_executor import executor\nexecutor.shutdown(wait=True)",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_the_app_imports_no_more_of_the_library_under_init_than_without(standin: StandInServer, name: str) -> None:
    """The library's import is paid once, as without us: instrumenting imports none of its modules."""
    module = LIBRARIES[name].module
    # The library's modules (``google.genai`` and its sub-modules, not the rest of ``google``), once
    # the library's own background work after the call is done (``SETTLE``).
    ours = f"(m + '.').startswith({module + '.'!r})"
    report = (f"{SETTLE.get(module, '')}\nimport json, sys\n"
              f"print(json.dumps({{'modules': sorted(m for m in sys.modules if {ours})}}))")
    modules = []
    for setup in ("", "import agentops_otel\nagentops_otel.init(auto_start_session=False)"):
        result = run_python("\n".join([setup, _app(name, standin), report]), {**QUIET, "OTEL_TRACES_EXPORTER": "none"},
                            timeout=60)
        assert result.returncode == 0, result.stderr
        modules.append(_documents(result.stdout, "modules"))
    bare, under_init = modules
    assert module in bare
    assert under_init == bare


GRPC_EXPORTER = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"
HTTP_EXPORTER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
# Modules init() must not import unless asked for: the other protocol's exporter (grpc alone is
# ~100 ms), the stand-in server, the console session tree.
WATCHED = [GRPC_EXPORTER, "grpc", HTTP_EXPORTER, "agentops_otel_standin", "agentops_otel._internal.session_tree",
           *INSTRUMENTED_MODULES]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["init", "opentelemetry-instrument"])
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, [HTTP_EXPORTER]),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, [GRPC_EXPORTER, "grpc"]),
        ({"OTEL_TRACES_EXPORTER": "agentops_console"}, ["agentops_otel._internal.session_tree"]),
    ],
)
def test_start_up_imports_only_the_exporter_configured(launcher: str, env: dict[str, str], expected: list[str]) -> None:
    report = f"import json, sys\nprint(json.dumps({{'watched': [m for m in {WATCHED!r} if m in sys.modules]}}))"
    if launcher == "init":
        code = f"import agentops_otel\nagentops_otel.init(auto_start_session=False)\n{report}"
        command = [sys.executable, "-c", code]
    else:
        command = [str(OPENTELEMETRY_INSTRUMENT), sys.executable, "-c", report]
    result = subprocess.run(command, env=clean_env({**QUIET, **env}), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(_documents(result.stdout, "watched")) == sorted(expected)


# What `import agentops_otel` leaves to the first call that needs it (each tens of ms of CPU): the
# SDK's auto-configuration module (the distro's), entry-point metadata (init() reads it), asyncio,
# wrapt and the contrib instrumentation base (the instrumentors bring them).
NOT_ON_IMPORT = ["opentelemetry.sdk._configuration", "importlib.metadata", "asyncio", "wrapt",
                 "opentelemetry.instrumentation", *INSTRUMENTED_MODULES]
# ... and what it leaves to first use of the public name that needs it, a millisecond or more each
# (making a dataclass costs about one): the event classes, the decorators, propagation
# (opentelemetry.propagate), the ExportStats and SessionAnalytics dataclasses, decimal (only
# init(prices=...) and the price table need it).
SESSION_ANALYTICS = "agentops_otel._internal.session_analytics"
ON_FIRST_USE = ["agentops_otel._internal.events", "agentops_otel._internal.decorators",
                "agentops_otel._internal.propagation", "opentelemetry.propagate",
                "agentops_otel._internal.export_stats", SESSION_ANALYTICS, "decimal"]
# What init() itself leaves out when the app imports no instrumented library: importlib.metadata
# and what it imports (init() reads entry points from the files, see _internal/entry_points.py).
NOT_ON_INIT = ["importlib.metadata", "email", "zipfile", "csv", "opentelemetry.instrumentation", "wrapt",
               *(name for name in ON_FIRST_USE if name != SESSION_ANALYTICS), *INSTRUMENTED_MODULES]


def _imported(code: str, watched: list[str], env: dict[str, str] | None = None) -> list[str]:
    result = run_python(f"import sys, json\n{code}\n"
                        f"print(json.dumps({{'imported': [m for m in {watched!r} if m in sys.modules]}}))", env)
    assert result.returncode == 0, result.stderr
    imported: list[str] = _documents(result.stdout, "imported")
    return imported


@pytest.mark.slow
def test_importing_agentops_otel_imports_nothing_heavy() -> None:
    assert _imported("import agentops_otel", [*NOT_ON_IMPORT, *ON_FIRST_USE]) == []


@pytest.mark.slow
def test_init_with_no_library_imported_reads_no_package_metadata() -> None:
    # The session init() starts is left open: ending it makes its SessionAnalytics.
    assert _imported("import agentops_otel\nagentops_otel.init()", NOT_ON_INIT, {"OTEL_TRACES_EXPORTER": "none"}) == []


@pytest.mark.slow
def test_the_public_names_left_to_first_use_are_there() -> None:
    names = ["ActionEvent", "ErrorEvent", "Event", "LLMEvent", "ToolEvent", "record_action", "record_tool", "session",
             "track_agent", "attach_session", "inject", "ExportStats", "SessionAnalytics"]
    code = (f"import agentops_otel\nfrom agentops_otel import *\n"
            f"print(json.dumps({{'found': [(n, n in dir(agentops_otel), getattr(agentops_otel, n).__module__) "
            f"for n in {names!r}]}}))")
    result = run_python(f"import json\n{code}")
    assert result.returncode == 0, result.stderr
    found = _documents(result.stdout, "found")
    assert [name for name, listed, module in found if listed and module.startswith("agentops_otel._internal.")] == names
