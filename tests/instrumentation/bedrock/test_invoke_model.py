"""``invoke_model`` and ``invoke_model_with_response_stream`` with a real boto3 client and the stand-in,
in the body formats of Anthropic Claude, Amazon Nova, Amazon Titan (text and embeddings) and Meta
Llama: token counts from Bedrock's headers and stream metrics, finish reasons and content from the
bodies, and a response body the application still reads whole."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from agentops_otel_standin.apis import bedrock as standin_bedrock
from botocore.exceptions import EventStreamError
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import StatusCode

from agentops_otel._internal import content
from agentops_otel._internal.attribute_names import STREAM_COMPLETED
from tests.support.spans import attributes, only_call_span

PROMPT = "What is the weather in Paris?"
CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@dataclass(frozen=True)
class Family:
    model: str
    body: dict[str, Any]
    operation: str
    finish_reason: str
    max_tokens: int


FAMILIES = {
    "claude": Family(CLAUDE, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "temperature": 0.2,
                              "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]},
                     "chat", "end_turn", 64),
    "nova": Family("amazon.nova-lite-v1:0", {
        "schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
        "inferenceConfig": {"max_new_tokens": 64, "temperature": 0.2}}, "chat", "end_turn", 64),
    "titan": Family("amazon.titan-text-express-v1", {"inputText": PROMPT, "textGenerationConfig": {
        "maxTokenCount": 64, "temperature": 0.2}}, "text_completion", "FINISH", 64),
    "llama": Family("meta.llama3-8b-instruct-v1:0", {"prompt": PROMPT, "max_gen_len": 64, "temperature": 0.2},
                    "chat", "stop", 64),
}


def output_text(family: str, body: dict[str, Any]) -> str:
    """The completion in a family's response body."""
    if family == "claude":
        return str(body["content"][0]["text"])
    if family == "nova":
        return str(body["output"]["message"]["content"][0]["text"])
    if family == "titan":
        return str(body["results"][0]["outputText"])
    return str(body["generation"])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_invoke_model(exporter: InMemorySpanExporter, client: Any, name: str) -> None:
    family = FAMILIES[name]
    response = client.invoke_model(modelId=family.model, body=json.dumps(family.body))
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    body = json.loads(response["body"].read())  # the application still reads the whole body
    assert output_text(name, body) == standin_bedrock.TEXT

    span = only_call_span(exporter)
    found = attributes(span)
    assert span.name == f"{family.operation} {family.model}" and span.status.status_code is StatusCode.UNSET
    assert found[GEN_AI_OPERATION_NAME] == family.operation and found[GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert found[GEN_AI_REQUEST_MODEL] == family.model
    assert (found[GEN_AI_REQUEST_MAX_TOKENS], found[GEN_AI_REQUEST_TEMPERATURE]) == (family.max_tokens, 0.2)
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == (family.finish_reason,)
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == int(headers["x-amzn-bedrock-input-token-count"])
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == int(headers["x-amzn-bedrock-output-token-count"])
    assert GEN_AI_REQUEST_STREAM not in found and GEN_AI_INPUT_MESSAGES not in found
    if name == "claude":  # Claude's body names its id and model; the other formats name neither
        assert (found[GEN_AI_RESPONSE_ID], found[GEN_AI_RESPONSE_MODEL]) == (body["id"], body["model"])
    else:
        assert GEN_AI_RESPONSE_ID not in found and GEN_AI_RESPONSE_MODEL not in found


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_invoke_model_with_response_stream(exporter: InMemorySpanExporter, client: Any, name: str) -> None:
    content.set_capture_content(True)
    family = FAMILIES[name]
    response = client.invoke_model_with_response_stream(modelId=family.model, body=json.dumps(family.body))
    chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]

    span = only_call_span(exporter)
    found = attributes(span)
    assert span.name == f"{family.operation} {family.model}" and span.status.status_code is StatusCode.UNSET
    assert found[GEN_AI_REQUEST_STREAM] is True and found[STREAM_COMPLETED] is True
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == (family.finish_reason,)
    assert (found[GEN_AI_USAGE_INPUT_TOKENS], found[GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        metrics["inputTokenCount"], metrics["outputTokenCount"])
    assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": family.finish_reason,
                                                          "parts": [{"type": "text", "content": standin_bedrock.TEXT}]}]
    if name == "claude":
        start = chunks[0]["message"]
        assert (found[GEN_AI_RESPONSE_ID], found[GEN_AI_RESPONSE_MODEL]) == (start["id"], start["model"])


def test_claude_content_and_tool_use(exporter: InMemorySpanExporter, client: Any) -> None:
    content.set_capture_content(True)
    tool = {"name": "get_weather", "description": "The current weather in a city.",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "system": "Be brief.", "tools": [tool],
            "messages": [{"role": "user", "content": PROMPT}]}
    response = json.loads(client.invoke_model(modelId=CLAUDE, body=json.dumps(body))["body"].read())
    streamed = list(client.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(body))["body"])
    assert streamed and response["stop_reason"] == "tool_use"

    plain, stream = exporter.get_finished_spans()
    for span in (plain, stream):
        found = attributes(span)
        assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
        assert json.loads(found[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
        assert json.loads(found[GEN_AI_TOOL_DEFINITIONS]) == [{
            "type": "function", "name": "get_weather", "description": tool["description"],
            "parameters": tool["input_schema"]}]
        assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
            {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
        (message,) = json.loads(found[GEN_AI_OUTPUT_MESSAGES])
        assert message["finish_reason"] == "tool_use"
        assert message["parts"] == [{"type": "tool_call", "id": message["parts"][0]["id"], "name": "get_weather",
                                     "arguments": standin_bedrock.TOOL_INPUT}]
    assert json.loads(attributes(plain)[GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]["id"] == response["content"][0]["id"]


def test_embeddings(exporter: InMemorySpanExporter, client: Any) -> None:
    model = "amazon.titan-embed-text-v2:0"
    response = client.invoke_model(modelId=model, body=json.dumps({"inputText": PROMPT, "dimensions": 4}))
    body = json.loads(response["body"].read())
    assert len(body["embedding"]) == 4
    span = only_call_span(exporter)
    found = attributes(span)
    assert span.name == f"embeddings {model}" and found[GEN_AI_OPERATION_NAME] == "embeddings"
    assert found[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == body["inputTextTokenCount"]
    assert GEN_AI_USAGE_OUTPUT_TOKENS not in found and GEN_AI_RESPONSE_FINISH_REASONS not in found


def test_body_as_bytes_and_streamed_body_read_in_pieces(exporter: InMemorySpanExporter, client: Any) -> None:
    family = FAMILIES["llama"]
    response = client.invoke_model(modelId=family.model, body=json.dumps(family.body).encode(),
                                   contentType="application/json", accept="application/json")
    pieces = list(response["body"].iter_chunks(chunk_size=5))
    assert json.loads(b"".join(pieces))["generation"] == standin_bedrock.TEXT
    assert attributes(only_call_span(exporter))[GEN_AI_REQUEST_MAX_TOKENS] == 64


def test_errors(exporter: InMemorySpanExporter, client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId="cohere.unknown-v9", body=json.dumps({"prompt": PROMPT}))
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "ValidationException"
    exporter.clear()

    family = FAMILIES["claude"]
    response = client.invoke_model_with_response_stream(modelId=standin_bedrock.STREAM_ERROR_MODEL,
                                                        body=json.dumps(family.body))
    with pytest.raises(EventStreamError) as broken:
        for _ in response["body"]:
            pass
    assert broken.value.response["Error"]["Code"] == "modelStreamErrorException"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "EventStreamError" and attributes(span)[STREAM_COMPLETED] is False
