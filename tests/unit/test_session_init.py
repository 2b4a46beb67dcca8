"""``init()``: configuring OpenTelemetry once, joining an existing provider, and lazy start."""

from __future__ import annotations

import os
import re

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

import agentops_otel as agentops
from agentops_otel import ConfigurationError
from agentops_otel._internal import exporters
from agentops_otel._internal.attribute_names import SESSION_TAGS
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, json_documents, run_python

CONSOLE = {"OTEL_TRACES_EXPORTER": "console", **NO_LLM_INSTRUMENTATION}


def console_spans(stdout: str) -> list[dict[str, object]]:
    """The spans ``ConsoleSpanExporter`` printed (each a JSON object with a ``name``), but the
    sessions' start records (``session (pending)``)."""
    return [doc for doc in json_documents(stdout)
            if isinstance(doc, dict) and "context" in doc and doc.get("name") != "session (pending)"]


def test_second_init_in_process_returns_none_and_adds_nothing(exporter: InMemorySpanExporter) -> None:
    provider = trace.get_tracer_provider()
    assert agentops.init(auto_start_session=False) is None
    assert trace.get_tracer_provider() is provider
    session = agentops.init(tags=["again"])  # an already-initialised init still starts a session
    assert session is not None
    session.end_session()
    # One export per span: no second exporter or stamping processor was added.
    assert [span.name for span in exporter.get_finished_spans()] == ["session"]


@pytest.mark.parametrize(("setting", "value"), [
    ("service_name", "another-service"), ("cost", False), ("prices", {"my-model": {"input_mtok": 1.0}}),
])
def test_second_init_cannot_change_settings(setting: str, value: object) -> None:
    """A setting a second init() cannot apply is refused by name, never silently ignored."""
    with pytest.raises(ConfigurationError, match=f"already called with {setting}="):
        agentops.init(**{setting: value}, auto_start_session=False)  # type: ignore[arg-type]


@pytest.mark.slow
def test_init_twice_configures_once() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        from opentelemetry import trace
        first = agentops.init(service_name="svc", tags=["one"])
        provider = trace.get_tracer_provider()
        second = agentops.init(service_name="svc", auto_start_session=False)
        assert second is None
        assert trace.get_tracer_provider() is provider
        first.end_session("Success")
        """,
        {**CONSOLE, "OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"},
    )
    assert result.returncode == 0, result.stderr
    spans = console_spans(result.stdout)
    # Printed once: a second init() would have added a second console exporter.
    assert [span["name"] for span in spans] == ["session"]
    resource = spans[0]["resource"]["attributes"]  # type: ignore[index]
    assert resource["service.name"] == "svc"  # the argument wins over OTEL_SERVICE_NAME
    assert resource["deployment.environment"] == "test"
    assert spans[0]["status"]["status_code"] == "OK"  # type: ignore[index]


@pytest.mark.slow
def test_init_after_an_implicit_set_up_says_what_set_it_up() -> None:
    """A session started before init() set up with the defaults: init(cost=False) then names that."""
    result = run_python(
        """
        import agentops_otel as agentops
        session = agentops.start_session()
        try:
            agentops.init(cost=False, auto_start_session=False)
        except agentops.ConfigurationError as error:
            print("REFUSED", error)
        session.end_session("Success")
        """,
        CONSOLE,
    )
    assert result.returncode == 0, result.stderr
    refusal = result.stdout.split("REFUSED ", 1)[1].splitlines()[0]
    assert "set up with the defaults (cost=None) by a session started before any init() call" in refusal
    assert "init() was already called" not in refusal


@pytest.mark.slow
def test_start_session_before_init_initialises_with_defaults() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        session = agentops.start_session(tags=["lazy"])
        assert isinstance(trace.get_tracer_provider(), TracerProvider)
        with trace.get_tracer("user").start_as_current_span("child", context=session.context()):
            pass
        session.end_session("Success")
        print(f"SESSION {session.session_id}")  # one write: the export thread prints spans meanwhile
        """,
        {**CONSOLE, "OTEL_SERVICE_NAME": "from-env"},
    )
    assert result.returncode == 0, result.stderr
    found = re.search(r"SESSION ([0-9a-f-]{36})", result.stdout)  # the export thread's output may follow it
    assert found, result.stdout
    session_id = found.group(1)
    spans = {span["name"]: span for span in console_spans(result.stdout)}
    root, child = spans["session"], spans["child"]
    assert root["attributes"][SESSION_ID] == session_id  # type: ignore[index]
    assert root["attributes"][SESSION_TAGS] == ["lazy"]  # type: ignore[index]
    assert root["resource"]["attributes"]["service.name"] == "from-env"  # type: ignore[index]
    assert child["parent_id"] == root["context"]["span_id"]  # type: ignore[index]
    assert child["attributes"][SESSION_ID] == session_id  # type: ignore[index]


@pytest.mark.slow
def test_start_session_before_init_from_many_threads_configures_once() -> None:
    result = run_python(
        """
        import threading
        import agentops_otel as agentops
        barrier = threading.Barrier(20)
        def run(n):
            barrier.wait()
            agentops.start_session(tags=[f"thread-{n}"]).end_session("Success")
        threads = [threading.Thread(target=run, args=(n,)) for n in range(20)]
        for t in threads: t.start()
        for t in threads: t.join()
        """,
        CONSOLE,
    )
    assert result.returncode == 0, result.stderr
    tags = sorted(span["attributes"][SESSION_TAGS][0] for span in console_spans(result.stdout))  # type: ignore[index]
    # Each root printed exactly once: one provider, one console exporter, whatever the race.
    assert tags == sorted(f"thread-{n}" for n in range(20))


@pytest.mark.slow
def test_init_joins_an_installed_provider_without_installing_another() -> None:
    result = run_python(
        """
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        mine = TracerProvider()
        mine.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(mine)

        import agentops_otel as agentops
        session = agentops.init(tags=["joined"])
        assert trace.get_tracer_provider() is mine, trace.get_tracer_provider()
        def work():
            with trace.get_tracer("user").start_as_current_span("user-span"):
                pass
        session.patch(work)()
        agentops.end_session("Success")
        agentops.init(auto_start_session=False)
        agentops.start_session().end_session()
        spans = exporter.get_finished_spans()
        print(json.dumps([
            {"name": s.name, "attributes": dict(s.attributes),
             "parent": s.parent.span_id if s.parent else None, "span_id": s.context.span_id}
            for s in spans
        ]))
        """,
        CONSOLE,  # would print spans if init() had installed its own exporter
    )
    assert result.returncode == 0, result.stderr
    assert console_spans(result.stdout) == []
    [spans] = [doc for doc in json_documents(result.stdout) if isinstance(doc, list)]
    # The application's exporter gets the sessions' start records too, each at its session's start.
    assert [span["name"] for span in spans] == ["session (pending)", "user-span", "session",
                                                 "session (pending)", "session"]
    user_span, root = spans[1], spans[2]
    assert spans[0]["parent"] == root["span_id"]
    assert user_span["parent"] == root["span_id"]
    assert user_span["attributes"][SESSION_ID] == root["attributes"][SESSION_ID]


@pytest.mark.slow
def test_exporter_argument_replaces_the_environments_choice() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel as agentops
        mine = InMemorySpanExporter()
        agentops.init(exporter=mine, tags=["mine"]).end_session("Success")
        trace.get_tracer_provider().force_flush()
        print("EXPORTED", [span.name for span in mine.get_finished_spans()])
        """,
        CONSOLE,  # would print the span if the environment's exporter were used as well
    )
    assert result.returncode == 0, result.stderr
    assert "EXPORTED ['session (pending)', 'session']" in result.stdout
    assert console_spans(result.stdout) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"tags": 5}, TypeError),
        ({"tags": [""]}, ValueError),
        ({"auto_start_session": "yes"}, TypeError),
        ({"instrument_llm_calls": 1}, TypeError),
        ({"capture_content": "on"}, TypeError),
        ({"service_name": "  "}, TypeError),
        ({"exporter": "console"}, TypeError),
    ],
)
def test_init_rejects_wrong_arguments_and_starts_nothing(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        agentops.init(**kwargs)  # type: ignore[arg-type]
    assert agentops.get_active_sessions() == []


@pytest.mark.slow
def test_otel_traces_exporter_none_exports_nothing() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        agentops.init().end_session("Success")
        print("done")
        """,
        {"OTEL_TRACES_EXPORTER": "none", **NO_LLM_INSTRUMENTATION},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"


@pytest.mark.slow
def test_malformed_protocol_is_a_configuration_error() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        try:
            agentops.init()
        except agentops.ConfigurationError as error:
            print("ERROR", error)
        """,
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", **NO_LLM_INSTRUMENTATION},
    )
    assert result.returncode == 0, result.stderr
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" in result.stdout and "'grpc'" in result.stdout


# -- the OTEL_* variables init() reads: malformed ones fail clearly, before any exporter exists ------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "'grpc', 'http/protobuf'"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift", "'grpc', 'http/protobuf'"),
        ("OTEL_TRACES_EXPORTER", "zipkin_nope", "available"),
        ("OTEL_TRACES_EXPORTER", " , ", "names no exporter"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "in seconds"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1", "in seconds"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4317", "http://"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://bad host:4318", "http://"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc,team", "entry 2 is not of the form key=value"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "Bearer sk-live-123", "entry 1"),
    ],
)
def test_malformed_variables_raise_configuration_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        exporters.exporters_from_env()
    assert variable in str(raised.value) or variable == "OTEL_TRACES_EXPORTER"
    assert says in str(raised.value)
    assert "sk-live-123" not in str(raised.value)  # a bare token is never repeated into a log


@pytest.mark.parametrize(
    ("env", "exporter_types"),
    [
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["ConsoleSpanExporter"]),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["opentelemetry.exporter.otlp.proto.grpc"]),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, ["opentelemetry.exporter.otlp.proto.http"]),
        (
            {"OTEL_TRACES_EXPORTER": "otlp,console", "OTEL_EXPORTER_OTLP_TIMEOUT": "2.5"},
            ["opentelemetry.exporter.otlp.proto.grpc", "ConsoleSpanExporter"],
        ),
    ],
)
def test_exporters_chosen_by_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], exporter_types: list[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    chosen = exporters.exporters_from_env()
    described = [f"{type(each).__module__}.{type(each).__name__}" for each in chosen]
    assert len(described) == len(exporter_types)
    for description, expected in zip(described, exporter_types, strict=True):
        assert expected in description
    for each in chosen:
        each.shutdown()
