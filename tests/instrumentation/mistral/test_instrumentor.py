"""The Mistral instrumentor as a user installs it: found by ``init()``, idempotent, removable, and
applied only when the application imports ``mistralai``."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import mistralai.client.chat as chat_module
import mistralai.client.embeddings as embeddings_module
import pytest
from agentops_otel_mistral import MistralInstrumentor
from agentops_otel_standin import StandInServer
from mistralai.client import Mistral
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_RESPONSE_ID
from wrapt import FunctionWrapper

from agentops_otel._internal.activation import instrument_installed_clients
from tests.support.spans import attributes, only_call_span
from tests.support.subprocesses import run_python

MODEL = "mistral-small-latest"
HELLO: list[Any] = [{"role": "user", "content": "Hello"}]
WRAPPED = [(chat_module.Chat, name) for name in ("complete", "complete_async", "stream", "stream_async")] + [
    (embeddings_module.Embeddings, name) for name in ("create", "create_async")]


def _is_wrapped(cls: type, name: str) -> bool:
    return isinstance(cls.__dict__[name], FunctionWrapper)


def test_registered_under_the_opentelemetry_instrumentor_entry_point() -> None:
    (entry_point,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "agentops_mistral"]
    assert entry_point.load() is MistralInstrumentor
    assert "agentops_mistral" in instrument_installed_clients()
    assert MistralInstrumentor().instrumentation_dependencies() == ("mistralai >= 3.0",)


def test_instrumenting_twice_gives_one_span_per_call(exporter: InMemorySpanExporter, client: Mistral) -> None:
    assert MistralInstrumentor().is_instrumented_by_opentelemetry  # init() in conftest did it
    MistralInstrumentor().instrument()
    instrument_installed_clients()
    completion = client.chat.complete(model=MODEL, messages=HELLO)
    assert attributes(only_call_span(exporter))[GEN_AI_RESPONSE_ID] == completion.id
    assert not isinstance(chat_module.Chat.__dict__["complete"].__wrapped__, FunctionWrapper)


def test_uninstrument_restores_the_originals_and_instrument_wraps_again(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Mistral
) -> None:
    instrumentor = MistralInstrumentor()
    assert all(_is_wrapped(cls, name) for cls, name in WRAPPED)
    requests_before = len(standin.requests)
    instrumentor.uninstrument()
    try:
        assert not any(_is_wrapped(cls, name) for cls, name in WRAPPED)
        client.chat.complete(model=MODEL, messages=HELLO)
        list(client.chat.stream(model=MODEL, messages=HELLO))
        client.embeddings.create(model="mistral-embed", inputs="Hello")
        assert len(standin.requests) == requests_before + 3  # the calls went out ...
        assert exporter.get_finished_spans() == ()  # ... untraced
        instrumentor.uninstrument()  # a second uninstrument is harmless too
    finally:
        instrumentor.instrument()
    assert all(_is_wrapped(cls, name) for cls, name in WRAPPED)
    completion = client.chat.complete(model=MODEL, messages=HELLO)
    assert attributes(only_call_span(exporter))[GEN_AI_RESPONSE_ID] == completion.id


@pytest.mark.slow
def test_init_does_not_import_mistralai_and_wraps_it_when_the_app_does(standin: StandInServer) -> None:
    result = run_python(f"""
        import sys
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel

        exporter = InMemorySpanExporter()
        agentops_otel.init(exporter=exporter)
        print("imported after init:", "mistralai" in sys.modules)

        from mistralai.client import Mistral

        client = Mistral(server_url={standin.url_for("mistral")!r}, api_key="k")
        client.chat.complete(model="mistral-large-latest", messages=[{{"role": "user", "content": "hi"}}])
        client.embeddings.create(model="mistral-embed", inputs="hi")
        agentops_otel.end_session("Success")
        from opentelemetry import trace
        trace.get_tracer_provider().force_flush()
        print("spans:", sorted((s.name, s.instrumentation_scope.name) for s in exporter.get_finished_spans()))
    """, {"OTEL_METRICS_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert "imported after init: False" in result.stdout
    # The session's start record (``session (pending)``) is exported too, once.
    expected = sorted([("chat mistral-large-latest", "agentops_otel_mistral"),
                       ("embeddings mistral-embed", "agentops_otel_mistral"), ("session", "agentops_otel"),
                       ("session (pending)", "agentops_otel")])
    assert f"spans: {expected}" in result.stdout


@pytest.mark.slow
def test_uninstrumented_before_mistralai_is_imported_never_wraps_it() -> None:
    result = run_python("""
        import agentops_otel
        from agentops_otel_mistral import MistralInstrumentor

        agentops_otel.init(auto_start_session=False)
        MistralInstrumentor().uninstrument()
        import mistralai.client.chat as chat_module
        print("wrapped:", hasattr(chat_module.Chat.complete, "__wrapped__"))
    """, {"OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert "wrapped: False" in result.stdout
