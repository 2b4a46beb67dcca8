"""The Groq instrumentor as a user installs it: found by ``init()``, idempotent, removable, and
applied only when the application imports ``groq``."""

from __future__ import annotations

from importlib.metadata import entry_points

import groq
import groq._base_client as base_client
import pytest
from agentops_otel_groq import GroqInstrumentor
from agentops_otel_standin import StandInServer
from groq.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_RESPONSE_ID
from wrapt import FunctionWrapper

from agentops_otel._internal.activation import instrument_installed_clients
from tests.support.clients import groq_client
from tests.support.spans import attributes, only_call_span
from tests.support.subprocesses import run_python

MODEL = "llama-3.3-70b-versatile"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]


def _is_wrapped(cls: type, name: str) -> bool:
    return isinstance(cls.__dict__[name], FunctionWrapper)


def test_registered_under_the_opentelemetry_instrumentor_entry_point() -> None:
    (entry_point,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "agentops_groq"]
    assert entry_point.load() is GroqInstrumentor
    assert "agentops_groq" in instrument_installed_clients()
    assert GroqInstrumentor().instrumentation_dependencies() == ("groq >= 1.0",)


def test_instrumenting_twice_gives_one_span_per_call(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    assert GroqInstrumentor().is_instrumented_by_opentelemetry  # init() in conftest did it
    GroqInstrumentor().instrument()
    instrument_installed_clients()
    completion = client.chat.completions.create(model=MODEL, messages=USER)
    assert attributes(only_call_span(exporter))[GEN_AI_RESPONSE_ID] == completion.id
    assert not isinstance(base_client.SyncAPIClient.__dict__["request"].__wrapped__, FunctionWrapper)


def test_uninstrument_restores_the_originals_and_instrument_wraps_again(
    exporter: InMemorySpanExporter, standin: StandInServer, client: groq.Groq
) -> None:
    instrumentor = GroqInstrumentor()
    assert _is_wrapped(base_client.SyncAPIClient, "request")
    assert _is_wrapped(base_client.AsyncAPIClient, "request")
    requests_before = len(standin.requests)
    instrumentor.uninstrument()
    try:
        assert not _is_wrapped(base_client.SyncAPIClient, "request")
        assert not _is_wrapped(base_client.AsyncAPIClient, "request")
        client.chat.completions.create(model=MODEL, messages=USER)
        list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
        assert len(standin.requests) == requests_before + 2  # the calls went out ...
        assert exporter.get_finished_spans() == ()  # ... untraced
        instrumentor.uninstrument()  # a second uninstrument is harmless too
    finally:
        instrumentor.instrument()
    with groq_client(standin) as again:
        completion = again.chat.completions.create(model=MODEL, messages=USER)
    assert attributes(only_call_span(exporter))[GEN_AI_RESPONSE_ID] == completion.id


@pytest.mark.slow
def test_init_does_not_import_groq_and_wraps_it_when_the_app_does(standin: StandInServer) -> None:
    result = run_python(f"""
        import sys
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel

        exporter = InMemorySpanExporter()
        agentops_otel.init(exporter=exporter)
        print("imported after init:", "groq" in sys.modules)

        import groq

        client = groq.Groq(base_url={standin.url_for("groq")!r}, api_key="k", max_retries=0)
        client.chat.completions.create(model="llama-3.1-8b-instant", messages=[{{"role": "user", "content": "hi"}}])
        agentops_otel.end_session("Success")
        from opentelemetry import trace
        trace.get_tracer_provider().force_flush()
        print("spans:", sorted((s.name, s.instrumentation_scope.name) for s in exporter.get_finished_spans()))
    """, {"OTEL_METRICS_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert "imported after init: False" in result.stdout
    # The session's start record (``session (pending)``) is exported too, once.
    expected = sorted([("chat llama-3.1-8b-instant", "agentops_otel_groq"), ("session", "agentops_otel"),
                       ("session (pending)", "agentops_otel")])
    assert f"spans: {expected}" in result.stdout


@pytest.mark.slow
def test_uninstrumented_before_groq_is_imported_never_wraps_it() -> None:
    result = run_python("""
        import agentops_otel
        from agentops_otel_groq import GroqInstrumentor

        agentops_otel.init(auto_start_session=False)
        GroqInstrumentor().uninstrument()
        import groq._base_client as base_client
        print("wrapped:", hasattr(base_client.SyncAPIClient.request, "__wrapped__"))
    """, {"OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert "wrapped: False" in result.stdout
