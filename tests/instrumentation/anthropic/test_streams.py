"""Anthropic streams: ``messages.create(stream=True)`` and ``messages.stream(...)``, sync and async.

A stream's span ends exactly once, when the stream is exhausted or its ``with`` block is left, with
the id, model, stop reason and usage its events carried.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam, ToolParam
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel._internal import content
from agentops_otel._internal.attribute_names import STREAM_COMPLETED
from tests.support.spans import call_spans, only_call_span

MODEL = "claude-sonnet-5-5"
USER: list[MessageParam] = [{"role": "user", "content": "Say hello."}]
TOOLS: list[ToolParam] = [{"name": "get_weather", "description": "The current weather in a city.",
          "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}]


def assert_streamed(span: ReadableSpan, message: anthropic.types.Message) -> None:
    """The span holds what the stream's events said (``message`` is the SDK's accumulation of them)."""
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = span.attributes or {}
    assert attributes[GEN_AI_REQUEST_STREAM] is True
    assert attributes[GEN_AI_RESPONSE_ID] == message.id
    assert attributes[GEN_AI_RESPONSE_MODEL] == message.model
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == (message.stop_reason,)
    assert attributes[GEN_AI_USAGE_INPUT_TOKENS] == message.usage.input_tokens
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == message.usage.output_tokens


def test_create_stream_span_ends_when_the_stream_is_exhausted(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic
) -> None:
    session = agentops.start_session()
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    events = [next(stream)]
    assert call_spans(exporter) == []  # still open while the stream is read
    events += list(stream)
    session.end_session("Success")

    assert [e.type for e in events] == ["message_start", "content_block_start", *["content_block_delta"] * 4,
                                        "content_block_stop", "message_delta", "message_stop"]
    span = only_call_span(exporter)
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and delta.type == "message_delta"
    attributes = span.attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == start.message.id
    assert attributes[GEN_AI_RESPONSE_MODEL] == start.message.model
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == (delta.delta.stop_reason,)
    assert attributes[GEN_AI_USAGE_INPUT_TOKENS] == start.message.usage.input_tokens
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == delta.usage.output_tokens
    assert attributes[SESSION_ID] == session.session_id
    assert GEN_AI_OUTPUT_MESSAGES not in attributes


def test_async_create_stream(exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic) -> None:
    async def main() -> list[anthropic.types.RawMessageStreamEvent]:
        async with async_client:
            stream = await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
            return [event async for event in stream]

    events = asyncio.run(main())
    span = only_call_span(exporter)
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and delta.type == "message_delta"
    attributes = span.attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == start.message.id
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == delta.usage.output_tokens
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)


def test_create_stream_closed_early_ends_once(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    with client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True) as stream:
        first = next(stream)
    assert first.type == "message_start"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert (span.attributes or {})[GEN_AI_RESPONSE_ID] == first.message.id
    stream.close()  # closing again ends nothing again
    del stream
    gc.collect()
    assert len(call_spans(exporter)) == 1


def test_dropped_stream_ends_when_collected(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert len(call_spans(exporter)) == 1


def test_messages_stream_context_manager(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    session = agentops.start_session()
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
        assert len(call_spans(exporter)) == 1  # ended when the stream was exhausted, inside the block
    session.end_session("Success")

    assert text == message.content[0].text  # type: ignore[union-attr]
    span = only_call_span(exporter)
    assert_streamed(span, message)
    assert (span.attributes or {})[SESSION_ID] == session.session_id


def test_messages_stream_get_final_message_only(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER, tools=TOOLS) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    assert_streamed(only_call_span(exporter), message)


def test_messages_stream_left_early_ends_the_span(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        for event in stream:
            if event.type == "text":
                break
        assert call_spans(exporter) == []
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert (span.attributes or {})[GEN_AI_RESPONSE_ID] == stream.current_message_snapshot.id


def test_async_messages_stream(exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic) -> None:
    session = agentops.start_session()

    async def main() -> tuple[str, anthropic.types.Message]:
        async with async_client, async_client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            text = "".join([t async for t in stream.text_stream])
            return text, await stream.get_final_message()

    text, message = asyncio.run(main())
    session.end_session("Success")
    assert text == message.content[0].text  # type: ignore[union-attr]
    span = only_call_span(exporter)
    assert_streamed(span, message)
    assert (span.attributes or {})[SESSION_ID] == session.session_id


def test_async_messages_stream_left_early(
    exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic
) -> None:
    async def main() -> None:
        async with async_client, async_client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            async for event in stream:
                if event.type == "text":
                    break
            assert call_spans(exporter) == []

    asyncio.run(main())
    assert only_call_span(exporter).status.status_code is StatusCode.UNSET


def test_error_in_the_middle_of_a_stream(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    received = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        for event in client.messages.create(model="error-stream", max_tokens=64, messages=USER, stream=True):
            received.append(event)
    assert isinstance(raised.value.body, dict) and raised.value.body["error"]["type"] == "overloaded_error"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes[ERROR_TYPE] == type(raised.value).__qualname__
    assert received[0].type == "message_start"
    assert attributes[GEN_AI_RESPONSE_ID] == received[0].message.id
    assert [e.name for e in span.events] == ["exception"]


def test_stream_error_status_before_any_event(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="error-429-claude", max_tokens=64, messages=USER, stream=True)
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[GEN_AI_REQUEST_STREAM] is True


def test_raw_response_of_a_stream(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert raw.headers["request-id"].startswith("req_standin_")
    events = list(raw.parse())
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and delta.type == "message_delta"
    attributes = only_call_span(exporter).attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == start.message.id
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == delta.usage.output_tokens


def test_with_streaming_response(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    with client.messages.with_streaming_response.create(model=MODEL, max_tokens=64, messages=USER) as response:
        message = response.parse()
    attributes = only_call_span(exporter).attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == message.id
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == message.usage.output_tokens
    exporter.clear()

    with client.messages.with_streaming_response.create(model=MODEL, max_tokens=64, messages=USER) as response:
        lines = list(response.iter_lines())  # read as bytes, never parsed: the span ends with the block
    assert json.loads(lines[0])["type"] == "message"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET and GEN_AI_RESPONSE_ID not in (span.attributes or {})


def test_streamed_content_captured_when_switched_on(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic
) -> None:
    content.set_capture_content(True)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        text = stream.get_final_text()
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER, tools=TOOLS) as stream:
        message = stream.get_final_message()

    text_span, tool_span = sorted(call_spans(exporter), key=lambda s: s.start_time or 0)
    (output,) = json.loads(str((text_span.attributes or {})[GEN_AI_OUTPUT_MESSAGES]))
    assert output == {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "end_turn"}
    (tool_use,) = message.content
    assert tool_use.type == "tool_use"
    (output,) = json.loads(str((tool_span.attributes or {})[GEN_AI_OUTPUT_MESSAGES]))
    assert output["parts"] == [{"type": "tool_call", "id": tool_use.id, "name": tool_use.name,
                                "arguments": tool_use.input}]


# -- whether the stream was read to its end (agentops.stream.completed) ---------------------------


def _completed(span: ReadableSpan) -> object:
    return (span.attributes or {}).get(STREAM_COMPLETED)


def test_streams_read_to_the_end_are_completed(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    list(client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        stream.get_final_message()
    assert [_completed(span) for span in call_spans(exporter)] == [True, True]


@pytest.mark.parametrize("how", ["close", "break in with", "collected", "messages.stream left early"])
def test_streams_ended_early_are_not_completed_and_not_errors(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, how: str
) -> None:
    if how == "close":
        stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
        next(stream)
        stream.close()
    elif how == "break in with":
        with client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True) as stream:
            for _event in stream:
                break
    elif how == "collected":
        stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
        next(stream)
        del stream
        gc.collect()
    else:
        with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as helper:
            next(iter(helper))
    span = only_call_span(exporter)
    attributes = span.attributes or {}
    assert _completed(span) is False
    assert span.status.status_code is StatusCode.UNSET and ERROR_TYPE not in attributes
    assert GEN_AI_RESPONSE_FINISH_REASONS not in attributes or attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ()


@pytest.mark.parametrize("helper", [False, True], ids=["create(stream=True)", "messages.stream"])
def test_task_cancelled_mid_stream_is_not_completed(
    exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic, helper: bool
) -> None:
    async def reader(started: asyncio.Event) -> None:
        manager: Any = (async_client.messages.stream(model=MODEL, max_tokens=64, messages=USER) if helper else
                        await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True))
        async with manager as stream:
            await stream.__anext__()
            started.set()
            await asyncio.Event().wait()  # the application's own await, where the cancellation lands

    async def main() -> None:
        async with async_client:
            started = asyncio.Event()
            task = asyncio.create_task(reader(started))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    span = only_call_span(exporter)
    assert _completed(span) is False
    if helper:
        # The helper closes the HTTP response itself: the span ends as an early close.
        assert span.status.status_code is StatusCode.UNSET
    else:
        # The cancellation left the stream's own ``async with``: the call was cancelled.
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})[ERROR_TYPE] == "CancelledError"
