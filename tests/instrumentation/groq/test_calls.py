"""Groq chat completions as GenAI client spans: sync, async, streams, tool calls, errors, sessions.

A real ``groq`` client talks HTTP to the stand-in server on 127.0.0.1 (Groq's OpenAI-compatible
API under ``/openai/v1``); what is asserted is what reaches the exporter.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import groq
import pytest
from agentops_otel_standin import StandInServer
from groq.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel._internal import content
from tests.support.clients import async_groq_client
from tests.support.spans import attributes, call_spans, only_call_span, spans_named

MODEL = "llama-3.3-70b-versatile"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is the weather in Paris today?"}]
TOOLS: list[ChatCompletionToolParam] = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_TOOL_DEFINITIONS)


def root_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (root,) = spans_named(exporter, "session")
    return root


def test_chat_create_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: groq.Groq
) -> None:
    session = agentops.start_session()
    completion = client.chat.completions.create(model=MODEL, messages=USER, temperature=0.2, top_p=0.9,
                                                max_completion_tokens=60)
    session.end_session("Success")

    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[SESSION_ID] == session.session_id
    assert a[GEN_AI_OPERATION_NAME] == "chat"
    assert a[GEN_AI_PROVIDER_NAME] == "groq"
    assert a[GEN_AI_REQUEST_MODEL] == MODEL == a[GEN_AI_RESPONSE_MODEL]
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.2 and a[GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 60
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
    assert a[SERVER_ADDRESS] == "127.0.0.1"
    assert a[SERVER_PORT] == int(standin.base_url.rsplit(":", 1)[1])
    assert GEN_AI_REQUEST_STREAM not in a
    assert span.status.status_code is StatusCode.UNSET


def test_chat_create_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops.start_session()

    async def main() -> Any:
        async with async_groq_client(standin) as client:
            return await client.chat.completions.create(model=MODEL, messages=USER, temperature=0.5)

    completion = asyncio.run(main())
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_PROVIDER_NAME] == "groq"
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens > 0


def test_stream_ends_once_when_exhausted_with_usage_from_x_groq(
    exporter: InMemorySpanExporter, client: groq.Groq
) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    chunks = [next(stream), next(stream)]
    assert call_spans(exporter) == []  # still streaming: the span is open
    chunks += list(stream)
    stream.close()  # closing an exhausted stream ends nothing twice

    a = attributes(only_call_span(exporter))
    assert a[GEN_AI_REQUEST_STREAM] is True
    assert a[GEN_AI_RESPONSE_ID] == chunks[0].id
    assert a[GEN_AI_RESPONSE_MODEL] == MODEL
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert all(chunk.usage is None for chunk in chunks)
    final = chunks[-1]
    assert final.x_groq is not None and final.x_groq.usage is not None
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == final.x_groq.usage.prompt_tokens > 0
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == final.x_groq.usage.completion_tokens > 0


def test_stream_with_include_usage_takes_usage_from_the_final_chunk(
    exporter: InMemorySpanExporter, client: groq.Groq
) -> None:
    # groq's create() has no stream_options parameter; the API takes it in the body.
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, extra_body={"stream_options": {"include_usage": True}}))
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert all(chunk.x_groq is None or chunk.x_groq.usage is None for chunk in chunks)
    a = attributes(only_call_span(exporter))
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens > 0
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens > 0


def test_stream_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops.start_session()

    async def main() -> list[Any]:
        async with async_groq_client(standin) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
            return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_RESPONSE_ID] == chunks[0].id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].x_groq.usage.completion_tokens


def test_stream_closed_early_ends_once_on_close(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    with client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
        first = next(stream)
    (span,) = call_spans(exporter)
    assert attributes(span)[GEN_AI_RESPONSE_ID] == first.id
    assert span.status.status_code is not StatusCode.ERROR
    list(stream)  # nothing more to read: still one span
    assert len(call_spans(exporter)) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls(exporter: InMemorySpanExporter, client: groq.Groq, stream: bool) -> None:
    content.set_capture_content(True)
    if stream:
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS, stream=True))
        calls = [call for chunk in chunks for choice in chunk.choices for call in choice.delta.tool_calls or ()]
        call_id = calls[0].id
    else:
        completion = client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
        tool_calls = completion.choices[0].message.tool_calls
        assert tool_calls is not None
        call_id = tool_calls[0].id
    a = attributes(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    (output,) = json.loads(str(a[GEN_AI_OUTPUT_MESSAGES]))
    (part,) = output["parts"]
    assert part["type"] == "tool_call" and part["id"] == call_id and part["name"] == "get_weather"
    assert isinstance(part["arguments"], dict) and isinstance(part["arguments"]["city"], str)
    assert output["finish_reason"] == "tool_calls"
    assert json.loads(str(a[GEN_AI_TOOL_DEFINITIONS])) == TOOLS


def test_tool_result_round_trip_is_recorded_as_input(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    content.set_capture_content(True)
    first = client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
    assert first.choices[0].message.tool_calls is not None
    call = first.choices[0].message.tool_calls[0]
    exporter.clear()
    client.chat.completions.create(model=MODEL, tools=TOOLS, messages=[
        *USER,
        {"role": "assistant", "tool_calls": [{"id": call.id, "type": "function", "function": {
            "name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 °C"},
    ])
    a = attributes(only_call_span(exporter))
    inputs = json.loads(str(a[GEN_AI_INPUT_MESSAGES]))
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[1]["parts"][0]["type"] == "tool_call" and inputs[1]["parts"][0]["id"] == call.id
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": call.id, "response": "Sunny, 21 °C"}]
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


@pytest.mark.parametrize(("model", "error_class", "status"), [
    ("error-429", groq.RateLimitError, 429),
    ("error-500", groq.InternalServerError, 500),
    ("error-400", groq.BadRequestError, 400),
])
def test_http_errors_reach_the_caller_and_mark_the_span(
    exporter: InMemorySpanExporter, client: groq.Groq, model: str, error_class: type[Exception], status: int
) -> None:
    session = agentops.start_session()
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(model=model, messages=USER)
    session.end_session("Fail")
    assert type(caught.value) is error_class
    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.status.status_code is StatusCode.ERROR
    assert a[ERROR_TYPE] == error_class.__qualname__
    assert a[HTTP_RESPONSE_STATUS_CODE] == status


def test_async_error(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> None:
        async with async_groq_client(standin) as client:
            await client.chat.completions.create(model="error-429", messages=USER)

    with pytest.raises(groq.RateLimitError):
        asyncio.run(main())
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "RateLimitError"


def test_stream_failing_midway_is_an_error(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    received = []
    with pytest.raises(groq.APIError, match="broke off"):
        for chunk in client.chat.completions.create(model="error-stream", messages=USER, stream=True):
            received.append(chunk)
    assert received
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "APIError"


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: groq.Groq
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(agentops.MultiSessionException):
        client.chat.completions.create(model=MODEL, messages=USER)
    with pytest.raises(agentops.MultiSessionException):
        client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    assert len(standin.requests) == sent_before
    assert call_spans(exporter) == []

    completion = second.patch(client.chat.completions.create)(model=MODEL, messages=USER)
    with first:  # leaving the block ends the session
        list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    second.end_session("Success")
    by_session = {str(attributes(s)[SESSION_ID]): s for s in call_spans(exporter)}
    assert set(by_session) == {first.session_id, second.session_id}
    assert attributes(by_session[second.session_id])[GEN_AI_RESPONSE_ID] == completion.id
    assert attributes(by_session[first.session_id])[GEN_AI_REQUEST_STREAM] is True


def test_two_sessions_and_none_chosen_raise_before_an_async_request(
    exporter: InMemorySpanExporter, standin: StandInServer
) -> None:
    agentops.start_session()
    agentops.start_session()
    sent_before = len(standin.requests)

    async def main() -> None:
        async with async_groq_client(standin) as client:
            await client.chat.completions.create(model=MODEL, messages=USER)

    with pytest.raises(agentops.MultiSessionException):
        asyncio.run(main())
    assert len(standin.requests) == sent_before
    assert call_spans(exporter) == []


def test_content_is_not_captured_by_default(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER])
    client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    spans = call_spans(exporter)
    assert len(spans) == 3
    for span in spans:
        a = attributes(span)
        assert not any(key in a for key in CONTENT_KEYS), span.name
        assert all("Paris" not in str(value) for value in a.values())


def test_content_is_captured_when_switched_on(exporter: InMemorySpanExporter, client: groq.Groq) -> None:
    content.set_capture_content(True)
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER])
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    plain, streamed = call_spans(exporter)
    inputs = json.loads(str(attributes(plain)[GEN_AI_INPUT_MESSAGES]))
    assert inputs == [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                      {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert json.loads(str(attributes(plain)[GEN_AI_OUTPUT_MESSAGES])) == [{
        "role": "assistant", "parts": [{"type": "text", "content": completion.choices[0].message.content}],
        "finish_reason": "stop"}]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    (output,) = json.loads(str(attributes(streamed)[GEN_AI_OUTPUT_MESSAGES]))
    assert output["parts"] == [{"type": "text", "content": text}] and text
