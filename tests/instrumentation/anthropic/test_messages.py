"""Anthropic ``messages.create`` (sync, async, tool use, errors): one GenAI client span per call.

A real ``anthropic`` client talks HTTP to the stand-in server; the spans are read from the exporter.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import anthropic
import pytest
from agentops_otel_standin import StandInServer
from anthropic.types import MessageParam, ToolParam
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
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
from agentops_otel._internal.attribute_names import SESSION_LLM_CALLS
from agentops_otel._internal.exceptions import MultiSessionException
from tests.support.clients import ANTHROPIC_API_KEY
from tests.support.spans import call_spans, only_call_span

MODEL = "claude-sonnet-5-5"
USER: list[MessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS: list[ToolParam] = [{
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}]
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOOL_DEFINITIONS)


def session_root(exporter: InMemorySpanExporter) -> ReadableSpan:
    (root,) = [span for span in exporter.get_finished_spans() if span.name == "session"]
    return root


def assert_response_matches(span: ReadableSpan, message: anthropic.types.Message) -> None:
    attributes = span.attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == message.id
    assert attributes[GEN_AI_RESPONSE_MODEL] == message.model
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == (message.stop_reason,)
    assert attributes[GEN_AI_USAGE_INPUT_TOKENS] == message.usage.input_tokens
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == message.usage.output_tokens


def test_create_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: anthropic.Anthropic
) -> None:
    session = agentops.start_session()
    message = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stop_sequences=["END"],
                                     extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 40})
    session.end_session("Success")

    span, root = only_call_span(exporter), session_root(exporter)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentops_otel_anthropic"
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.context.trace_id == root.context.trace_id
    assert span.status.status_code is StatusCode.UNSET
    attributes = span.attributes or {}
    assert attributes[SESSION_ID] == session.session_id
    assert attributes[GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[GEN_AI_PROVIDER_NAME] == attributes[GEN_AI_SYSTEM] == "anthropic"
    assert attributes[GEN_AI_REQUEST_MODEL] == MODEL
    assert attributes[GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attributes[GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert attributes[GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attributes[GEN_AI_REQUEST_TOP_P] == 0.9
    assert attributes[GEN_AI_REQUEST_TOP_K] == 40
    assert GEN_AI_REQUEST_STREAM not in attributes
    assert_response_matches(span, message)
    assert attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == message.usage.cache_read_input_tokens
    assert attributes[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == message.usage.cache_creation_input_tokens
    assert attributes[SERVER_ADDRESS] == "127.0.0.1"
    assert attributes[SERVER_PORT] == int(standin.base_url.rsplit(":", 1)[1])
    assert root.attributes is not None and root.attributes[SESSION_LLM_CALLS] == 1
    assert root.attributes["agentops.session.input_tokens"] == message.usage.input_tokens


def test_async_create(exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic) -> None:
    session = agentops.start_session()

    async def main() -> anthropic.types.Message:
        async with async_client:
            return await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER)

    message = asyncio.run(main())
    session.end_session("Success")

    span = only_call_span(exporter)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == session_root(exporter).context.span_id
    assert (span.attributes or {})[SESSION_ID] == session.session_id
    assert_response_matches(span, message)


def test_cached_input_tokens_count_in_input_tokens(
    exporter: InMemorySpanExporter, standin: StandInServer, client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The convention's input tokens include cached ones, which the API counts apart."""
    from agentops_otel_standin.apis import anthropic as anthropic_api

    def cached_reply(request: Any) -> Any:
        reply = anthropic_api.messages(request)
        reply.body["usage"].update(cache_read_input_tokens=100, cache_creation_input_tokens=30)
        return reply

    monkeypatch.setitem(standin.routes, ("POST", "/v1/messages"), cached_reply)
    message = client.messages.create(model=MODEL, max_tokens=64, messages=USER)

    attributes = only_call_span(exporter).attributes or {}
    assert attributes[GEN_AI_USAGE_INPUT_TOKENS] == message.usage.input_tokens + 130
    assert attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attributes[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 30


def test_tool_use_round_trip(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    content.set_capture_content(True)
    first = client.messages.create(model=MODEL, max_tokens=64, messages=USER, tools=TOOLS)
    (tool_use,) = first.content
    assert tool_use.type == "tool_use"
    # The reply's own content blocks (pydantic models) go back in the conversation, as users do.
    conversation: list[Any] = [*USER, {"role": "assistant", "content": first.content}, {
        "role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18°C, sunny"}]}]
    second = client.messages.create(model=MODEL, max_tokens=64, messages=conversation, tools=TOOLS)

    spans = call_spans(exporter)
    assert len(spans) == 2
    first_span, second_span = sorted(spans, key=lambda s: s.start_time or 0)
    assert_response_matches(first_span, first)
    assert (first_span.attributes or {})[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    (output,) = json.loads(str((first_span.attributes or {})[GEN_AI_OUTPUT_MESSAGES]))
    assert output["role"] == "assistant" and output["finish_reason"] == "tool_use"
    assert output["parts"] == [{"type": "tool_call", "id": tool_use.id, "name": tool_use.name,
                                "arguments": tool_use.input}]
    assert json.loads(str((first_span.attributes or {})[GEN_AI_TOOL_DEFINITIONS])) == TOOLS

    assert_response_matches(second_span, second)
    assert (second_span.attributes or {})[GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    sent = json.loads(str((second_span.attributes or {})[GEN_AI_INPUT_MESSAGES]))
    assert sent == [
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]},
        {"role": "assistant", "parts": [
            {"type": "tool_call", "id": tool_use.id, "name": tool_use.name, "arguments": tool_use.input}]},
        {"role": "user", "parts": [{"type": "tool_call_response", "id": tool_use.id, "response": "18°C, sunny"}]},
    ]


@pytest.mark.parametrize(("model", "error_class", "status"), [
    ("error-429-claude", anthropic.RateLimitError, 429),
    ("error-529-claude", anthropic.OverloadedError, 529),
    ("error-400-claude", anthropic.BadRequestError, 400),
])
def test_error_ends_the_span_with_error_status(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, model: str,
    error_class: type[anthropic.APIStatusError], status: int
) -> None:
    session = agentops.start_session()
    with pytest.raises(error_class) as raised:
        client.messages.create(model=model, max_tokens=64, messages=USER)
    session.end_session("Fail")

    # The caller gets the SDK's own exception, with the API's error body.
    assert type(raised.value) is error_class and raised.value.status_code == status
    assert isinstance(raised.value.body, dict) and raised.value.body["type"] == "error"
    span = only_call_span(exporter)
    assert span.name == f"chat {model}"
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes[ERROR_TYPE] == error_class.__qualname__
    assert attributes[HTTP_RESPONSE_STATUS_CODE] == status
    assert attributes[SESSION_ID] == session.session_id
    (event,) = [e for e in span.events if e.name == "exception"]
    assert str((event.attributes or {})["exception.type"]).endswith(error_class.__qualname__)
    assert span.parent is not None and span.parent.span_id == session_root(exporter).context.span_id


def test_async_error(exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic) -> None:
    async def main() -> None:
        async with async_client:
            await async_client.messages.create(model="error-529-claude", max_tokens=64, messages=USER)

    with pytest.raises(anthropic.OverloadedError):
        asyncio.run(main())
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[ERROR_TYPE] == "OverloadedError"


def test_content_is_not_captured_by_default(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=64, messages=USER, system="Be brief.", tools=TOOLS)
    client.messages.create(model=MODEL, max_tokens=64, messages=USER, system="Be brief.")

    spans = call_spans(exporter)
    assert len(spans) == 2
    for span in spans:
        attributes = span.attributes or {}
        assert not set(CONTENT_KEYS) & set(attributes)
        assert all("Paris" not in str(value) and "Be brief" not in str(value) for value in attributes.values())
        assert all("stand-in" not in str(value) for value in attributes.values())
    assert message.stop_reason == "tool_use"


def test_content_is_captured_when_switched_on(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    content.set_capture_content(True)
    message = client.messages.create(model=MODEL, max_tokens=64, messages=USER, system="Be brief.")

    attributes = only_call_span(exporter).attributes or {}
    assert json.loads(str(attributes[GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert attributes[GEN_AI_SYSTEM_INSTRUCTIONS] == "Be brief."
    (output,) = json.loads(str(attributes[GEN_AI_OUTPUT_MESSAGES]))
    assert output["parts"] == [{"type": "text", "content": message.content[0].text}]  # type: ignore[union-attr]


def test_images_are_recorded_by_type_only(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    content.set_capture_content(True)
    image_data = base64.b64encode(b"\x89PNG not really an image" * 20).decode()
    client.messages.create(model=MODEL, max_tokens=64, system=[{"type": "text", "text": "Describe images."}],
                           messages=[{"role": "user", "content": [
                               {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                            "data": image_data}},
                               {"type": "text", "text": "What is this?"}]}])

    attributes = only_call_span(exporter).attributes or {}
    assert json.loads(str(attributes[GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "image"}, {"type": "text", "content": "What is this?"}]}]
    assert json.loads(str(attributes[GEN_AI_SYSTEM_INSTRUCTIONS])) == [{"type": "text", "content": "Describe images."}]
    assert all(image_data[:40] not in str(value) for value in attributes.values())


def test_api_key_never_reaches_a_span(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    content.set_capture_content(True)
    session = agentops.start_session()
    client.messages.create(model=MODEL, max_tokens=64, messages=USER, tools=TOOLS)
    with pytest.raises(anthropic.AuthenticationError):
        client.messages.create(model="error-401-claude", max_tokens=64, messages=USER)
    for _ in client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True):
        pass
    session.end_session("Success")

    spans = exporter.get_finished_spans()
    assert len(spans) == 4
    for span in spans:
        values = [*(span.attributes or {}).values()]
        for event in span.events:
            values += [*(event.attributes or {}).values()]
        assert all(ANTHROPIC_API_KEY not in str(value) for value in values), span.name
        assert not any("x-api-key" in key or "authorization" in key for key in (span.attributes or {}))


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: anthropic.Anthropic
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(MultiSessionException):
        client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    assert len(standin.requests) == sent_before
    assert call_spans(exporter) == []

    # Chosen explicitly, the call goes through and lands in the chosen session.
    message = second.patch(client.messages.create)(model=MODEL, max_tokens=64, messages=USER)
    with first:  # leaving the block ends the session
        client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    second.end_session("Success")
    by_session = {str((s.attributes or {})[SESSION_ID]): s for s in call_spans(exporter)}
    assert set(by_session) == {first.session_id, second.session_id}
    assert (by_session[second.session_id].attributes or {})[GEN_AI_RESPONSE_ID] == message.id


def test_two_sessions_and_none_chosen_raise_before_an_async_request(
    exporter: InMemorySpanExporter, standin: StandInServer, async_client: anthropic.AsyncAnthropic
) -> None:
    agentops.start_session()
    agentops.start_session()
    sent_before = len(standin.requests)

    async def main() -> None:
        async with async_client:
            await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER)

    with pytest.raises(MultiSessionException):
        asyncio.run(main())
    assert len(standin.requests) == sent_before
    assert call_spans(exporter) == []


def test_sessions_in_two_asyncio_tasks(exporter: InMemorySpanExporter, async_client: anthropic.AsyncAnthropic) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    async def work(session: agentops.Session) -> str:
        with session:
            message = await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER)
            await asyncio.sleep(0)
            return message.id

    async def main() -> list[str]:
        async with async_client:
            return list(await asyncio.gather(*(work(s) for s in sessions)))

    ids = asyncio.run(main())  # each ``with session:`` block ended its session

    roots = {(s.attributes or {})[SESSION_ID]: s for s in exporter.get_finished_spans() if s.name == "session"}
    spans = call_spans(exporter)
    assert len(spans) == 2
    for session, message_id in zip(sessions, ids, strict=True):
        (span,) = [s for s in spans if (s.attributes or {})[GEN_AI_RESPONSE_ID] == message_id]
        assert (span.attributes or {})[SESSION_ID] == session.session_id
        assert span.parent is not None and span.parent.span_id == roots[session.session_id].context.span_id


def test_no_session_still_traced(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    span = only_call_span(exporter)
    assert span.parent is None and SESSION_ID not in (span.attributes or {})
    assert_response_matches(span, message)


def test_with_raw_response_and_beta(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=USER)
    message = raw.parse()
    assert_response_matches(only_call_span(exporter), message)
    exporter.clear()

    beta = client.beta.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi."}])
    span = only_call_span(exporter)
    assert span.name == f"chat {MODEL}"
    assert (span.attributes or {})[GEN_AI_RESPONSE_ID] == beta.id
    exporter.clear()

    with client.beta.messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi."}]) as s:
        streamed = s.get_final_message()
    attributes = only_call_span(exporter).attributes or {}
    assert attributes[GEN_AI_RESPONSE_ID] == streamed.id
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == streamed.usage.output_tokens
