"""The OpenAI instrumentor as a user installs it: found by ``init()``, idempotent, removable."""

from __future__ import annotations

from importlib.metadata import entry_points

import openai
import openai._base_client as base_client
from agentops_otel_openai import OpenAIInstrumentor
from agentops_otel_standin import StandInServer
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_RESPONSE_ID

from agentops_otel._internal.activation import instrument_installed_clients

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]


def _unwrapped(method: object) -> object:
    return getattr(method, "__wrapped__", method)


def test_registered_under_the_opentelemetry_instrumentor_entry_point() -> None:
    (entry_point,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "agentops_openai"]
    assert entry_point.load() is OpenAIInstrumentor
    assert "agentops_openai" in instrument_installed_clients()
    assert OpenAIInstrumentor().instrumentation_dependencies() == ("openai >= 1.0",)


def test_instrumenting_twice_gives_one_span_per_call(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    assert OpenAIInstrumentor().is_instrumented_by_opentelemetry  # init() in conftest did it
    OpenAIInstrumentor().instrument()
    OpenAIInstrumentor().instrument()
    instrument_installed_clients()
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes[GEN_AI_RESPONSE_ID] == completion.id
    assert not hasattr(_unwrapped(base_client.SyncAPIClient.request), "__wrapped__")  # wrapped once only


def test_uninstrument_restores_the_originals_exactly(
    exporter: InMemorySpanExporter, standin: StandInServer, client: openai.OpenAI
) -> None:
    from openai.lib.streaming.chat._completions import ChatCompletionStream
    from openai.lib.streaming.responses._responses import AsyncResponseStream

    originals = {
        "sync request": _unwrapped(base_client.SyncAPIClient.request),
        "async request": _unwrapped(base_client.AsyncAPIClient.request),
        "chat helper close": _unwrapped(ChatCompletionStream.close),
        "async responses helper close": _unwrapped(AsyncResponseStream.close),
    }
    assert all(hasattr(method, "__wrapped__") for method in (
        base_client.SyncAPIClient.request, base_client.AsyncAPIClient.request, ChatCompletionStream.close))
    requests_before = len(standin.requests)
    OpenAIInstrumentor().uninstrument()
    try:
        assert base_client.SyncAPIClient.request is originals["sync request"]
        assert base_client.AsyncAPIClient.request is originals["async request"]
        assert ChatCompletionStream.close is originals["chat helper close"]
        assert AsyncResponseStream.close is originals["async responses helper close"]
        assert base_client.SyncAPIClient.__dict__["request"] is originals["sync request"]

        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
        client.embeddings.create(model="text-embedding-3-small", input="hi")
        assert len(standin.requests) == requests_before + 3  # the calls went out ...
        assert exporter.get_finished_spans() == ()  # ... untraced
        OpenAIInstrumentor().uninstrument()  # a second uninstrument is harmless too
        assert base_client.SyncAPIClient.request is originals["sync request"]
    finally:
        OpenAIInstrumentor().instrument()

    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert [span.name for span in exporter.get_finished_spans()] == ["chat gpt-4o-mini"]
    assert _unwrapped(base_client.SyncAPIClient.request) is originals["sync request"]
