"""Every kind of LiteLLM call against the stand-in, for a backend LiteLLM reaches through the openai
SDK (``openai/...``) and one it calls itself (``anthropic/...``): one span per call, named and
attributed for the provider LiteLLM routed it to, with usage, finish reasons, tool calls and errors.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import litellm
import pytest
from litellm.exceptions import InternalServerError, RateLimitError
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from tests.support.spans import attributes, only_call_span

OURS = "agentops_otel_litellm"
USER = [{"role": "user", "content": "Say hello."}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}}
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-sonnet-5-5"


def routed(request: pytest.FixtureRequest, provider: str) -> tuple[str, dict[str, Any]]:
    """The LiteLLM model name and the arguments that send a call to ``provider`` on the stand-in."""
    model = OPENAI_MODEL if provider == "openai" else ANTHROPIC_MODEL
    return f"{provider}/{model}", request.getfixturevalue(f"{provider}_route")


def ours(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The call's one span (the openai SDK's call inside LiteLLM's has none), from this instrumentor."""
    span = only_call_span(exporter)
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == OURS
    return span


PROVIDERS = ["openai", "anthropic"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_completion(request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str) -> None:
    model, route = routed(request, provider)
    session = agentops.start_session()
    response = litellm.completion(model=model, messages=USER, **route)
    session.end_session("Success")

    span = ours(exporter)
    found = attributes(span)
    bare_model = model.split("/", 1)[1]
    assert span.name == f"chat {bare_model}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is not None and span.parent.span_id == session.span.get_span_context().span_id
    assert found[GEN_AI_PROVIDER_NAME] == provider
    assert found[GEN_AI_OPERATION_NAME] == "chat"
    assert found[GEN_AI_REQUEST_MODEL] == bare_model
    assert found[GEN_AI_RESPONSE_MODEL] == response.model
    assert found[GEN_AI_RESPONSE_ID] == response.id
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    usage = response.usage
    assert (found[GEN_AI_USAGE_INPUT_TOKENS], found[GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        usage.prompt_tokens, usage.completion_tokens)
    assert found[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 0
    assert found[SERVER_ADDRESS] == "127.0.0.1" and isinstance(found[SERVER_PORT], int)
    assert GEN_AI_INPUT_MESSAGES not in found and GEN_AI_OUTPUT_MESSAGES not in found  # content is opt-in
    if provider == "anthropic":
        assert found[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_streamed_completion_ends_with_the_stream(
    request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str
) -> None:
    model, route = routed(request, provider)
    stream = litellm.completion(model=model, messages=USER, stream=True, stream_options={"include_usage": True},
                                **route)
    assert exporter.get_finished_spans() == ()  # open while the stream is read
    chunks = list(stream)

    span = ours(exporter)
    found = attributes(span)
    assert found[GEN_AI_REQUEST_STREAM] is True
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert found[GEN_AI_RESPONSE_ID] == chunks[0].id
    usage = chunks[-1].usage  # with include_usage, the last chunk: no choices, the usage
    assert (found[GEN_AI_USAGE_INPUT_TOKENS], found[GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        usage.prompt_tokens, usage.completion_tokens)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_async_completion_and_stream(
    request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str
) -> None:
    model, route = routed(request, provider)

    async def main() -> list[Any]:
        await litellm.acompletion(model=model, messages=USER, **route)
        stream = await litellm.acompletion(model=model, messages=USER, stream=True, **route)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
    assert [s.instrumentation_scope.name for s in spans if s.instrumentation_scope] == [OURS, OURS]
    plain, streamed = (attributes(s) for s in spans)
    assert plain[GEN_AI_PROVIDER_NAME] == streamed[GEN_AI_PROVIDER_NAME] == provider
    assert plain[GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert streamed[GEN_AI_REQUEST_STREAM] is True and streamed[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert streamed[GEN_AI_RESPONSE_ID] == chunks[0].id


def test_embedding(openai_route: dict[str, Any], exporter: InMemorySpanExporter) -> None:
    result = litellm.embedding(model="openai/text-embedding-3-small", input=["one", "two"], **openai_route)

    span = ours(exporter)
    found = attributes(span)
    assert span.name == "embeddings text-embedding-3-small"
    assert found[GEN_AI_PROVIDER_NAME] == "openai" and found[GEN_AI_OPERATION_NAME] == "embeddings"
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens

    exporter.clear()
    asyncio.run(litellm.aembedding(model="openai/text-embedding-3-small", input="three", **openai_route))
    assert attributes(ours(exporter))[GEN_AI_OPERATION_NAME] == "embeddings"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_responses(request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str) -> None:
    """Native for OpenAI; for Anthropic LiteLLM bridges it to a chat call: still one span, ours."""
    model, route = routed(request, provider)
    response: Any = litellm.responses(model=model, input="Say hello.", **route)

    span = ours(exporter)
    found = attributes(span)
    assert span.name == f"chat {model.split('/', 1)[1]}"
    assert found[GEN_AI_PROVIDER_NAME] == provider
    assert found[GEN_AI_RESPONSE_ID] == response.id
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert (found[GEN_AI_USAGE_INPUT_TOKENS], found[GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        response.usage.input_tokens, response.usage.output_tokens)
    assert found[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 0


def test_streamed_and_async_responses(openai_route: dict[str, Any], exporter: InMemorySpanExporter) -> None:
    stream: Any = litellm.responses(model="openai/gpt-4o-mini", input="Say hello.", stream=True, **openai_route)
    events = list(stream)
    final = events[-1].response
    found = attributes(ours(exporter))
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens

    exporter.clear()
    asyncio.run(litellm.aresponses(model="openai/gpt-4o-mini", input="Say hello.", **openai_route))
    assert attributes(ours(exporter))[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


@pytest.mark.parametrize(("provider", "status", "error"), [
    ("openai", 429, RateLimitError),
    ("anthropic", 500, InternalServerError),
])
def test_errors(request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str, status: int,
                error: type[Exception]) -> None:
    _, route = routed(request, provider)
    with pytest.raises(error):
        litellm.completion(model=f"{provider}/error-{status}", messages=USER, **route)

    span = ours(exporter)
    found = attributes(span)
    assert span.status.status_code is StatusCode.ERROR
    assert found[ERROR_TYPE] == error.__qualname__
    assert found[HTTP_RESPONSE_STATUS_CODE] == status
    assert found[GEN_AI_PROVIDER_NAME] == provider


def test_error_mid_stream_ends_the_span_with_error(openai_route: dict[str, Any],
                                                   exporter: InMemorySpanExporter) -> None:
    stream = litellm.completion(model="openai/error-stream", messages=USER, stream=True, **openai_route)
    with pytest.raises(Exception) as raised:
        for _ in stream:
            pass

    span = ours(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == type(raised.value).__qualname__


def test_stream_closed_early_or_dropped_ends_once(openai_route: dict[str, Any],
                                                   exporter: InMemorySpanExporter) -> None:
    stream = litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, **openai_route)
    next(iter(stream))
    stream.close()
    assert len(ours(exporter).events) == 0

    exporter.clear()
    dropped = litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, **openai_route)
    next(iter(dropped))
    del dropped
    gc.collect()
    ours(exporter)  # ended when collected, once


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls(request: pytest.FixtureRequest, exporter: InMemorySpanExporter, provider: str,
                    stream: bool) -> None:
    """The finish reason says a tool was called; with capture on, the output message carries the call."""
    model, route = routed(request, provider)
    agentops.set_capture_content(True)
    result = litellm.completion(model=model, messages=[{"role": "user", "content": "Weather in Paris?"}],
                                tools=[WEATHER_TOOL], stream=stream, **route)
    if stream:
        list(result)

    found = attributes(ours(exporter))
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    output = str(found.get(GEN_AI_OUTPUT_MESSAGES, ""))
    assert '"type": "tool_call"' in output and "get_weather" in output
    assert "Weather in Paris?" in str(found[GEN_AI_INPUT_MESSAGES])


def test_a_stream_litellm_sends_through_the_openai_client_is_recorded_whole(
    openai_route: dict[str, Any], exporter: InMemorySpanExporter
) -> None:
    # Without the LiteLLM instrumentor, the openai client's span is the call's: LiteLLM reads every
    # stream through ``with_raw_response`` and keeps only what ``parse()`` returns, so that span
    # must stay open (and learn model, tokens and finish reason) until the stream ends.
    from agentops_otel_litellm import LiteLLMInstrumentor

    LiteLLMInstrumentor().uninstrument()
    try:
        stream = litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True,
                                    stream_options={"include_usage": True}, **openai_route)
        gc.collect()  # LiteLLM dropped the raw response
        assert exporter.get_finished_spans() == ()
        chunks = list(stream)
    finally:
        LiteLLMInstrumentor().instrument()
    span = only_call_span(exporter)
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentops_otel_openai"
    found = attributes(span)
    assert found[GEN_AI_PROVIDER_NAME] == "openai"
    assert found[GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    usage = chunks[-1].usage
    assert (found[GEN_AI_USAGE_INPUT_TOKENS], found[GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        usage.prompt_tokens, usage.completion_tokens)
