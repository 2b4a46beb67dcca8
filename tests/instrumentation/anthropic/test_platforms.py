"""Anthropic's models on other platforms and structured output, as the GenAI conventions name them.

``AnthropicVertex`` and ``AnthropicBedrock`` send the Messages API to Google Vertex AI and AWS
Bedrock (here: the stand-in's Vertex route and its Bedrock API); their spans say so in ``gen_ai.provider.name``.
Structured output (``messages.parse(output_format=...)``, ``output_config``) is ``gen_ai.output.type``
``json``.
"""

from __future__ import annotations

import anthropic
import pytest
from agentops_otel_standin import StandInServer
from anthropic.types import MessageParam
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from pydantic import BaseModel

from tests.support.spans import attributes, call_spans, only_call_span

USER: list[MessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]


class Weather(BaseModel):
    city: str
    celsius: int


def test_vertex_client_records_gcp_vertex_ai(
    exporter: InMemorySpanExporter, standin: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    model = "claude-sonnet-4-5@20250929"
    with anthropic.AnthropicVertex(region="us-east5", project_id="standin-project", access_token="vertex-token",
                                   base_url=standin.url_for("anthropic") + "/v1", max_retries=0) as vertex:
        message = vertex.messages.create(model=model, max_tokens=64, messages=USER)
        with vertex.messages.stream(model=model, max_tokens=64, messages=USER) as stream:
            streamed = stream.get_final_message()
    plain, from_stream = call_spans(exporter)
    for span, reply in ((plain, message), (from_stream, streamed)):
        found = attributes(span)
        assert found[GEN_AI_PROVIDER_NAME] == "gcp.vertex_ai"
        assert found[GEN_AI_REQUEST_MODEL] == model
        assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == reply.usage.output_tokens
        assert found[GEN_AI_RESPONSE_FINISH_REASONS] == (reply.stop_reason,)


def test_bedrock_client_records_aws_bedrock(
    exporter: InMemorySpanExporter, standin: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    with anthropic.AnthropicBedrock(aws_access_key="AKIASTANDIN", aws_secret_key="standin-secret",
                                    aws_region="us-east-1", base_url=standin.url_for("bedrock"),
                                    max_retries=0) as bedrock:
        message = bedrock.messages.create(model=model, max_tokens=64, messages=USER)
    found = attributes(only_call_span(exporter))
    assert found[GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert found[GEN_AI_REQUEST_MODEL] == model
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == message.usage.output_tokens


def test_the_anthropic_client_still_records_anthropic(exporter: InMemorySpanExporter,
                                                       client: anthropic.Anthropic) -> None:
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=USER)
    assert attributes(only_call_span(exporter))[GEN_AI_PROVIDER_NAME] == "anthropic"


def test_structured_output_is_json(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    parsed = client.messages.parse(model="claude-sonnet-4-5", max_tokens=256, messages=USER, output_format=Weather)
    assert isinstance(parsed.parsed_output, Weather)
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=USER,
                           output_config={"format": {"type": "json_schema", "schema": schema}})
    client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=USER)
    parse_span, config_span, text_span = call_spans(exporter)
    assert attributes(parse_span)[GEN_AI_OUTPUT_TYPE] == "json"
    assert attributes(config_span)[GEN_AI_OUTPUT_TYPE] == "json"
    assert GEN_AI_OUTPUT_TYPE not in attributes(text_span)  # free text was not asked for explicitly
