"""Mistral calls as GenAI client spans: chat (sync, async, streams), embeddings, tool calls, errors,
sessions and content capture.

A real ``mistralai`` client talks HTTP to the stand-in server on 127.0.0.1; what is asserted is what
reaches the exporter.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from agentops_otel_standin import StandInServer
from mistralai.client import Mistral, errors
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_SEED,
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
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel._internal import content
from tests.support.clients import MISTRAL_API_KEY
from tests.support.spans import attributes, call_spans, only_call_span, spans_named

MODEL = "mistral-small-latest"
USER: list[Any] = [{"role": "user", "content": "What is the weather in Paris today?"}]
TOOLS: list[Any] = [{
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


def test_complete_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Mistral
) -> None:
    session = agentops.start_session()
    completion = client.chat.complete(model=MODEL, messages=USER, temperature=0.2, top_p=0.9, max_tokens=60,
                                      random_seed=7)
    session.end_session("Success")

    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[SESSION_ID] == session.session_id
    assert a[GEN_AI_OPERATION_NAME] == "chat"
    assert a[GEN_AI_PROVIDER_NAME] == "mistral_ai"
    assert a[GEN_AI_REQUEST_MODEL] == MODEL == a[GEN_AI_RESPONSE_MODEL]
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.2 and a[GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 60 and a[GEN_AI_REQUEST_SEED] == 7
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert completion.usage.prompt_tokens
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
    assert a[SERVER_ADDRESS] == "127.0.0.1"
    assert a[SERVER_PORT] == int(standin.base_url.rsplit(":", 1)[1])
    assert GEN_AI_REQUEST_STREAM not in a
    assert span.status.status_code is StatusCode.UNSET


def test_complete_async(exporter: InMemorySpanExporter, client: Mistral) -> None:
    session = agentops.start_session()
    completion = asyncio.run(client.chat.complete_async(model=MODEL, messages=USER, temperature=0.5))
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.name == f"chat {MODEL}" and span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens


def test_stream_ends_once_with_the_usage_of_the_finish_chunk(exporter: InMemorySpanExporter, client: Mistral) -> None:
    stream = client.chat.stream(model=MODEL, messages=USER)
    events = [next(stream), next(stream)]
    assert call_spans(exporter) == []  # still streaming: the span is open
    events += list(stream)
    stream.close()  # type: ignore[no-untyped-call]

    a = attributes(only_call_span(exporter))
    final = events[-1].data
    assert final.choices[0].finish_reason == "stop" and final.usage is not None
    assert a[GEN_AI_REQUEST_STREAM] is True
    assert a[GEN_AI_RESPONSE_ID] == events[0].data.id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == final.usage.prompt_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.completion_tokens


def test_stream_left_in_with_ends_on_exit(exporter: InMemorySpanExporter, client: Mistral) -> None:
    with client.chat.stream(model=MODEL, messages=USER) as stream:
        first = next(stream)
        assert call_spans(exporter) == []
    span = only_call_span(exporter)
    assert attributes(span)[GEN_AI_RESPONSE_ID] == first.data.id
    assert span.status.status_code is not StatusCode.ERROR


def test_stream_async(exporter: InMemorySpanExporter, client: Mistral) -> None:
    session = agentops.start_session()

    async def main() -> list[Any]:
        stream = await client.chat.stream_async(model=MODEL, messages=USER)
        return [event async for event in stream]

    events = asyncio.run(main())
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attributes(span)
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_RESPONSE_ID] == events[0].data.id
    assert events[-1].data.usage is not None
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == events[-1].data.usage.completion_tokens


def test_embeddings(exporter: InMemorySpanExporter, client: Mistral) -> None:
    result = client.embeddings.create(model="mistral-embed", inputs=["Paris", "Lyon"], output_dimension=256)
    span = only_call_span(exporter)
    a = attributes(span)
    assert span.name == "embeddings mistral-embed"
    assert a[GEN_AI_OPERATION_NAME] == "embeddings" and a[GEN_AI_PROVIDER_NAME] == "mistral_ai"
    assert a[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 256 == len(result.data[0].embedding or ())
    assert a[GEN_AI_RESPONSE_ID] == result.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens
    assert asyncio.run(client.embeddings.create_async(model="mistral-embed", inputs="Nice")).data
    assert len(call_spans(exporter)) == 2


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls(exporter: InMemorySpanExporter, client: Mistral, stream: bool) -> None:
    content.set_capture_content(True)
    if stream:
        events = list(client.chat.stream(model=MODEL, messages=USER, tools=TOOLS))
        calls = [call for event in events for choice in event.data.choices for call in choice.delta.tool_calls or ()]
    else:
        completion = client.chat.complete(model=MODEL, messages=USER, tools=TOOLS)
        calls = completion.choices[0].message.tool_calls or [] if completion.choices[0].message else []
    (call,) = calls
    a = attributes(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    (output,) = json.loads(str(a[GEN_AI_OUTPUT_MESSAGES]))
    (part,) = output["parts"]
    assert part == {"type": "tool_call", "id": call.id, "name": "get_weather",
                    "arguments": json.loads(str(call.function.arguments))}
    assert output["finish_reason"] == "tool_calls"
    assert json.loads(str(a[GEN_AI_TOOL_DEFINITIONS]))[0]["function"]["name"] == "get_weather"


def test_tool_result_round_trip_is_recorded_as_input(exporter: InMemorySpanExporter, client: Mistral) -> None:
    content.set_capture_content(True)
    first = client.chat.complete(model=MODEL, messages=USER, tools=TOOLS)
    assert first.choices[0].message is not None and first.choices[0].message.tool_calls
    call = first.choices[0].message.tool_calls[0]
    exporter.clear()
    client.chat.complete(model=MODEL, tools=TOOLS, messages=[
        *USER,
        {"role": "assistant", "content": "", "tool_calls": [{"id": call.id, "type": "function", "function": {
            "name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "Sunny, 21 °C"},
    ])
    inputs = json.loads(str(attributes(only_call_span(exporter))[GEN_AI_INPUT_MESSAGES]))
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[1]["parts"][0]["type"] == "tool_call" and inputs[1]["parts"][0]["id"] == call.id
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": call.id, "response": "Sunny, 21 °C"}]


@pytest.mark.parametrize("status", [429, 500])
def test_http_errors_reach_the_caller_and_mark_the_span(
    exporter: InMemorySpanExporter, client: Mistral, status: int
) -> None:
    session = agentops.start_session()
    with pytest.raises(errors.SDKError) as caught:
        client.chat.complete(model=f"error-{status}", messages=USER, retries=None)
    session.end_session("Fail")
    assert caught.value.status_code == status
    span, root = only_call_span(exporter), root_span(exporter)
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "SDKError"
    assert MISTRAL_API_KEY not in (span.status.description or "")


def test_async_error(exporter: InMemorySpanExporter, client: Mistral) -> None:
    with pytest.raises(errors.SDKError):
        asyncio.run(client.chat.stream_async(model="error-500", messages=USER))
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "SDKError"


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Mistral
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(agentops.MultiSessionException):
        client.chat.complete(model=MODEL, messages=USER)
    with pytest.raises(agentops.MultiSessionException):
        client.chat.stream(model=MODEL, messages=USER)
    with pytest.raises(agentops.MultiSessionException):
        asyncio.run(client.chat.complete_async(model=MODEL, messages=USER))
    with pytest.raises(agentops.MultiSessionException):
        client.embeddings.create(model="mistral-embed", inputs="Paris")
    assert len(standin.requests) == sent_before
    assert call_spans(exporter) == []

    completion = second.patch(client.chat.complete)(model=MODEL, messages=USER)
    with first:  # leaving the block ends the session
        list(client.chat.stream(model=MODEL, messages=USER))
    second.end_session("Success")
    by_session = {str(attributes(s)[SESSION_ID]): s for s in call_spans(exporter)}
    assert set(by_session) == {first.session_id, second.session_id}
    assert attributes(by_session[second.session_id])[GEN_AI_RESPONSE_ID] == completion.id
    assert attributes(by_session[first.session_id])[GEN_AI_REQUEST_STREAM] is True


def test_content_is_not_captured_by_default(exporter: InMemorySpanExporter, client: Mistral) -> None:
    client.chat.complete(model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER])
    client.chat.complete(model=MODEL, messages=USER, tools=TOOLS)
    list(client.chat.stream(model=MODEL, messages=USER))
    spans = call_spans(exporter)
    assert len(spans) == 3
    for span in spans:
        a = attributes(span)
        assert not any(key in a for key in CONTENT_KEYS), span.name
        assert all("Paris" not in str(value) for value in a.values())


def test_content_is_captured_when_switched_on(exporter: InMemorySpanExporter, client: Mistral) -> None:
    content.set_capture_content(True)
    completion = client.chat.complete(model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER])
    events = list(client.chat.stream(model=MODEL, messages=USER))
    plain, streamed = call_spans(exporter)
    assert json.loads(str(attributes(plain)[GEN_AI_INPUT_MESSAGES])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert completion.choices[0].message is not None
    assert json.loads(str(attributes(plain)[GEN_AI_OUTPUT_MESSAGES])) == [{
        "role": "assistant", "parts": [{"type": "text", "content": completion.choices[0].message.content}],
        "finish_reason": "stop"}]
    text = "".join(str(e.data.choices[0].delta.content or "") for e in events if e.data.choices)
    (output,) = json.loads(str(attributes(streamed)[GEN_AI_OUTPUT_MESSAGES]))
    assert output["parts"] == [{"type": "text", "content": text}] and text
