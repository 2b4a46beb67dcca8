"""The Bedrock instrumentor with a real boto3 ``bedrock-runtime`` client talking to the stand-in:
``converse`` and ``converse_stream`` (read to the end, closed, dropped, broken off), tool calls,
prompt caching, errors, content capture and credentials kept out of spans."""

from __future__ import annotations

import gc
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from agentops_otel_standin import StandInServer
from agentops_otel_standin.apis import bedrock as standin_bedrock
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError, EventStreamError
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
from agentops_otel._internal.attribute_names import STREAM_COMPLETED
from tests.support.clients import AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
from tests.support.spans import attributes, call_spans, only_call_span

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
USER: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}]
TOOL_SCHEMA = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "description": "The current weather in a city.",
                                 "inputSchema": {"json": TOOL_SCHEMA}}}]}
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOOL_DEFINITIONS)


def session_root(exporter: InMemorySpanExporter) -> ReadableSpan:
    (root,) = [span for span in exporter.get_finished_spans() if span.name == "session"]
    return root


def assert_converse_span(span: ReadableSpan, usage: dict[str, Any], stop_reason: str, standin: StandInServer) -> None:
    found = attributes(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert found[GEN_AI_OPERATION_NAME] == "chat" and found[GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert found[GEN_AI_REQUEST_MODEL] == MODEL
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == (stop_reason,)
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == usage["inputTokens"]
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == usage["outputTokens"]
    # Converse answers with neither an id nor a model.
    assert GEN_AI_RESPONSE_ID not in found and GEN_AI_RESPONSE_MODEL not in found
    assert found[SERVER_ADDRESS] == "127.0.0.1" and found[SERVER_PORT] == urlsplit(standin.base_url).port
    assert not set(CONTENT_KEYS) & set(found)  # content is off by default


def test_converse_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Any
) -> None:
    session = agentops.start_session()
    response = client.converse(
        modelId=MODEL, messages=USER, system=[{"text": "Be brief."}],
        inferenceConfig={"maxTokens": 64, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        additionalModelRequestFields={"top_k": 5})
    session.end_session("Success")

    assert response["output"]["message"]["content"] == [{"text": standin_bedrock.TEXT}]
    span = only_call_span(exporter)
    assert_converse_span(span, response["usage"], "end_turn", standin)
    found = attributes(span)
    assert (found[GEN_AI_REQUEST_MAX_TOKENS], found[GEN_AI_REQUEST_TEMPERATURE], found[GEN_AI_REQUEST_TOP_P],
            found[GEN_AI_REQUEST_TOP_K], found[GEN_AI_REQUEST_STOP_SEQUENCES]) == (64, 0.2, 0.9, 5, ("END",))
    assert GEN_AI_REQUEST_STREAM not in found
    assert found[SESSION_ID] == session.session_id
    assert span.parent is not None and span.parent.span_id == session_root(exporter).context.span_id
    # The model id went percent-encoded in the path, as botocore sends it.
    assert standin.requests[-1].path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"


def test_stream_read_to_the_end_ends_the_span_once(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Any
) -> None:
    response = client.converse_stream(modelId=MODEL, messages=USER)
    stream = response["stream"]
    assert isinstance(stream, EventStream)  # the traced stream is still botocore's EventStream
    assert call_spans(exporter) == []
    events = list(stream)

    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == standin_bedrock.TEXT
    (metadata,) = [e["metadata"] for e in events if "metadata" in e]
    span = only_call_span(exporter)
    assert_converse_span(span, metadata["usage"], "end_turn", standin)
    assert attributes(span)[GEN_AI_REQUEST_STREAM] is True and attributes(span)[STREAM_COMPLETED] is True
    stream.close()
    assert len(call_spans(exporter)) == 1


def test_stream_closed_early_or_dropped_ends_its_span(exporter: InMemorySpanExporter, client: Any) -> None:
    stream = client.converse_stream(modelId=MODEL, messages=USER)["stream"]
    next(iter(stream))
    assert call_spans(exporter) == []
    stream.close()
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET and attributes(span)[STREAM_COMPLETED] is False
    assert GEN_AI_USAGE_INPUT_TOKENS not in attributes(span)
    exporter.clear()

    response = client.converse_stream(modelId=MODEL, messages=USER)
    next(iter(response["stream"]))
    del response
    gc.collect()
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET and attributes(span)[STREAM_COMPLETED] is False


def test_tool_call_round_trip_with_content(exporter: InMemorySpanExporter, client: Any) -> None:
    content.set_capture_content(True)
    response = client.converse(modelId=MODEL, messages=USER, toolConfig=TOOLS, system=[{"text": "Be brief."}])
    assert response["stopReason"] == "tool_use"
    (block,) = response["output"]["message"]["content"]
    use = block["toolUse"]
    streamed = list(client.converse_stream(modelId=MODEL, messages=USER, toolConfig=TOOLS)["stream"])
    assert any("contentBlockStart" in event for event in streamed)

    plain, stream = call_spans(exporter)
    definitions = [{"type": "function", "name": "get_weather", "description": "The current weather in a city.",
                    "parameters": TOOL_SCHEMA}]
    for span in (plain, stream):
        found = attributes(span)
        assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
        assert json.loads(found[GEN_AI_TOOL_DEFINITIONS]) == definitions
        (message,) = json.loads(found[GEN_AI_OUTPUT_MESSAGES])
        assert message["role"] == "assistant" and message["finish_reason"] == "tool_use"
        (part,) = message["parts"]
        assert part["type"] == "tool_call" and part["name"] == "get_weather"
        assert part["arguments"] == standin_bedrock.TOOL_INPUT and part["id"].startswith("tooluse_")
    assert json.loads(attributes(plain)[GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]["id"] == use["toolUseId"]
    assert json.loads(attributes(plain)[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    exporter.clear()

    # The tool's result goes back in a user message; the model answers with text.
    history = [*USER, {"role": "assistant", "content": [block]},
               {"role": "user", "content": [{"toolResult": {"toolUseId": use["toolUseId"],
                                                             "content": [{"json": {"celsius": 18}}]}}]}]
    answer = client.converse(modelId=MODEL, messages=history, toolConfig=TOOLS)
    found = attributes(only_call_span(exporter))
    assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"][0]["text"]}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": use["toolUseId"], "name": "get_weather",
                                         "arguments": standin_bedrock.TOOL_INPUT}]},
        {"role": "user", "parts": [{"type": "tool_call_response", "id": use["toolUseId"],
                                    "response": {"celsius": 18}}]},
    ]
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "end_turn", "parts": [
        {"type": "text", "content": answer["output"]["message"]["content"][0]["text"]}]}]


def test_streamed_text_is_joined_with_content_on(exporter: InMemorySpanExporter, client: Any) -> None:
    content.set_capture_content(True)
    list(client.converse_stream(modelId=MODEL, messages=USER)["stream"])
    assert json.loads(attributes(only_call_span(exporter))[GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "finish_reason": "end_turn",
         "parts": [{"type": "text", "content": standin_bedrock.TEXT}]}]


def test_cached_prompt_tokens_count_as_input(exporter: InMemorySpanExporter, client: Any) -> None:
    response = client.converse(modelId=MODEL, messages=USER,
                               system=[{"text": "A long shared prefix."}, {"cachePoint": {"type": "default"}}])
    usage = response["usage"]
    found = attributes(only_call_span(exporter))
    assert usage["cacheReadInputTokens"] == standin_bedrock.CACHED_TOKENS
    assert found[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == usage["cacheReadInputTokens"]
    assert found[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == usage["cacheWriteInputTokens"] == 0
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == usage["inputTokens"] + usage["cacheReadInputTokens"]
    assert found[GEN_AI_USAGE_INPUT_TOKENS] + found[GEN_AI_USAGE_OUTPUT_TOKENS] == usage["totalTokens"]


def test_errors_end_the_span_with_error_status(exporter: InMemorySpanExporter, client: Any) -> None:
    with pytest.raises(client.exceptions.ThrottlingException) as raised:
        client.converse(modelId="error-429", messages=USER)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "ThrottlingException"
    assert attributes(span)[HTTP_RESPONSE_STATUS_CODE] == 429
    assert [event.name for event in span.events] == ["exception"]
    exporter.clear()

    with pytest.raises(client.exceptions.ValidationException):
        client.converse_stream(modelId="error-400", messages=USER)
    assert attributes(only_call_span(exporter))[ERROR_TYPE] == "ValidationException"
    assert attributes(only_call_span(exporter))[HTTP_RESPONSE_STATUS_CODE] == 400
    exporter.clear()

    stream = client.converse_stream(modelId=standin_bedrock.STREAM_ERROR_MODEL, messages=USER)["stream"]
    with pytest.raises(EventStreamError) as broken:
        for _ in stream:
            pass
    assert broken.value.response["Error"]["Code"] == "modelStreamErrorException"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "EventStreamError"
    assert attributes(span)[STREAM_COMPLETED] is False


def test_credentials_quoted_by_an_error_are_cut_out(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Any
) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse(modelId=standin_bedrock.SIGNATURE_ERROR_MODEL, messages=USER)
    assert AWS_SESSION_TOKEN in str(raised.value)  # the API quoted the token the client signed with
    span = only_call_span(exporter)
    (event,) = span.events
    texts = [span.status.description or "", *map(str, (event.attributes or {}).values())]
    assert any("[REDACTED]" in text for text in texts)
    for secret in (AWS_SESSION_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID):
        assert not any(secret in text for text in texts)
    # The request itself was signed: the credentials went on the wire, not into the span.
    assert standin.requests[-1].headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}")

