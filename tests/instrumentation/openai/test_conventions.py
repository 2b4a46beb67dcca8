"""OpenAI spans and metrics to the letter of the GenAI conventions: the ``openai.*`` attributes under
their current names (on the metrics too), cached tokens, several choices, refusals, the advisory
histogram buckets, and an Azure client's provider name.

The real ``openai`` client talks to the stand-in, whose bodies carry ``service_tier``,
``system_fingerprint`` and ``prompt_tokens_details.cached_tokens`` as the real API's do.
"""

from __future__ import annotations

import json
from typing import Any

import openai
from agentops_otel_standin import StandInServer
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import (
    OPENAI_API_TYPE,
    OPENAI_REQUEST_SERVICE_TIER,
    OPENAI_RESPONSE_SERVICE_TIER,
    OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
)

from agentops_otel._internal import content
from tests.support.clients import OPENAI_API_KEY
from tests.support.spans import attributes, call_spans, only_call_span

MODEL = "gpt-4o-mini"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Which tier served this?"}]
DEPRECATED_PREFIX = "gen_ai.openai."
REFUSAL = "I'm sorry, I can't help with that."


def test_service_tier_and_fingerprint_under_their_current_names(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, service_tier="flex")
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, service_tier="priority", stream=True))
    response = client.responses.create(model=MODEL, input="Hello", service_tier="auto")
    chat, streamed, responses = (attributes(span) for span in call_spans(exporter))

    assert chat[OPENAI_API_TYPE] == streamed[OPENAI_API_TYPE] == "chat_completions"
    assert responses[OPENAI_API_TYPE] == "responses"
    assert chat[OPENAI_REQUEST_SERVICE_TIER] == "flex"
    assert chat[OPENAI_RESPONSE_SERVICE_TIER] == completion.service_tier == "flex"
    assert chat[OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == completion.system_fingerprint
    assert streamed[OPENAI_REQUEST_SERVICE_TIER] == "priority"
    assert streamed[OPENAI_RESPONSE_SERVICE_TIER] == chunks[0].service_tier == "priority"
    assert streamed[OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == chunks[0].system_fingerprint
    assert responses[OPENAI_REQUEST_SERVICE_TIER] == "auto"
    assert responses[OPENAI_RESPONSE_SERVICE_TIER] == response.service_tier == "default"
    for found in (chat, streamed, responses):
        assert not [key for key in found if key.startswith(DEPRECATED_PREFIX)]


def test_no_service_tier_asked_none_recorded(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=USER)
    found = attributes(only_call_span(exporter))
    assert OPENAI_REQUEST_SERVICE_TIER not in found
    assert found[OPENAI_RESPONSE_SERVICE_TIER] == "default"  # what the API answered


def _points(reader: InMemoryMetricReader, metric_name: str, model: str) -> list[HistogramDataPoint]:
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics if metric.name == metric_name
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint) and (point.attributes or {}).get(GEN_AI_REQUEST_MODEL) == model
    ]


def test_metrics_carry_the_openai_attributes_and_the_advisory_buckets(
    client: openai.OpenAI, metric_reader: InMemoryMetricReader
) -> None:
    model = "gpt-4o-mini-conventions-metrics"
    completion = client.chat.completions.create(model=model, messages=USER, service_tier="flex")

    (duration,) = _points(metric_reader, "gen_ai.client.operation.duration", model)
    assert duration.attributes is not None
    assert duration.attributes[OPENAI_RESPONSE_SERVICE_TIER] == "flex"
    assert duration.attributes[OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == completion.system_fingerprint
    assert tuple(duration.explicit_bounds) == (
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
    tokens = _points(metric_reader, "gen_ai.client.token.usage", model)
    assert len(tokens) == 2  # input and output
    for point in tokens:
        assert point.attributes is not None and point.attributes[OPENAI_RESPONSE_SERVICE_TIER] == "flex"
        assert tuple(point.explicit_bounds) == (
            1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)


def test_cached_input_tokens(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    cached = {"x-standin-cached-tokens": "8"}
    completion = client.chat.completions.create(model=MODEL, messages=USER, extra_headers=cached)
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True, extra_headers=cached,
                                                 stream_options={"include_usage": True}))
    response = client.responses.create(model=MODEL, input="Hello there", extra_headers=cached)
    chat, streamed, responses = (attributes(span) for span in call_spans(exporter))
    assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
    assert chat[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == completion.usage.prompt_tokens_details.cached_tokens == 8
    assert chat[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens  # cached ones included
    assert streamed[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 8
    assert chunks[-1].usage is not None and streamed[GEN_AI_USAGE_INPUT_TOKENS] == chunks[-1].usage.prompt_tokens
    assert response.usage is not None
    assert responses[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == response.usage.input_tokens_details.cached_tokens == 8


def test_several_choices_each_with_its_finish_reason(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    content.set_capture_content(True)
    completion = client.chat.completions.create(model=MODEL, messages=USER, n=3)
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, n=2, stream=True))
    chat, streamed = (attributes(span) for span in call_spans(exporter))
    assert chat[GEN_AI_REQUEST_CHOICE_COUNT] == 3
    assert chat[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "stop", "stop")
    outputs = json.loads(chat[GEN_AI_OUTPUT_MESSAGES])
    assert [output["parts"][0]["content"] for output in outputs] == [c.message.content for c in completion.choices]
    assert streamed[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "stop")
    assert len(json.loads(streamed[GEN_AI_OUTPUT_MESSAGES])) == 2
    assert {choice.index for chunk in chunks for choice in chunk.choices} == {0, 1}


def test_a_refusal_is_what_the_model_said(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    content.set_capture_content(True)
    refuse = {"x-standin-refusal": REFUSAL}
    completion = client.chat.completions.create(model=MODEL, messages=USER, extra_headers=refuse)
    assert completion.choices[0].message.refusal == REFUSAL and completion.choices[0].message.content is None
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True, extra_headers=refuse))
    response = client.responses.create(model=MODEL, input="Hello", extra_headers=refuse)
    assert response.output[0].content[0].type == "refusal"  # type: ignore[union-attr,index]
    streamed_response = list(client.responses.create(model=MODEL, input="Hello", stream=True, extra_headers=refuse))
    assert "response.refusal.delta" in [event.type for event in streamed_response]
    for span in call_spans(exporter):
        found = attributes(span)
        assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",), span.name
        (output,) = json.loads(found[GEN_AI_OUTPUT_MESSAGES])
        assert output["parts"] == [{"type": "text", "content": REFUSAL}], span.name


def test_an_azure_client_records_azure_openai(exporter: InMemorySpanExporter, standin: StandInServer,
                                              metric_reader: InMemoryMetricReader) -> None:
    model = "gpt-4o-mini-azure"
    with openai.AzureOpenAI(api_key=OPENAI_API_KEY, api_version="2024-10-21", max_retries=0,
                            azure_endpoint=standin.url_for("azure_openai")) as azure:
        completion = azure.chat.completions.create(model=model, messages=USER)
    with openai.OpenAI(api_key=OPENAI_API_KEY, base_url=standin.url_for("openai"), max_retries=0) as plain:
        plain.chat.completions.create(model=MODEL, messages=USER)
    on_azure, on_openai = (attributes(span) for span in call_spans(exporter))
    assert on_azure[GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert on_azure[GEN_AI_RESPONSE_FINISH_REASONS] == (completion.choices[0].finish_reason,)
    assert on_openai[GEN_AI_PROVIDER_NAME] == "openai"  # the class is looked up per client
    (duration,) = _points(metric_reader, "gen_ai.client.operation.duration", model)
    assert duration.attributes is not None and duration.attributes[GEN_AI_PROVIDER_NAME] == "azure.ai.openai"


def test_responses_tools_of_every_kind_in_the_conventions_shape(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    content.set_capture_content(True)
    parameters = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tools: Any = [
        {"type": "function", "name": "get_weather", "description": "The weather.", "parameters": parameters,
         "strict": True},
        {"type": "web_search"},
        # An MCP server's headers carry its credentials: never recorded.
        {"type": "mcp", "server_label": "wiki", "server_url": "https://mcp.example/sse",
         "headers": {"Authorization": "Bearer sk-mcp-secret-do-not-record"}},
    ]
    client.responses.create(model=MODEL, input="Weather in Oslo?", tools=tools,  # instructions as input items:
                            extra_body={"instructions": [{"role": "developer", "content": "Be brief."}]})
    found = attributes(only_call_span(exporter))
    assert json.loads(found[GEN_AI_TOOL_DEFINITIONS]) == [
        {"type": "function", "name": "get_weather", "description": "The weather.", "parameters": parameters},
        {"type": "web_search", "name": "web_search"},
        {"type": "mcp", "name": "wiki"},
    ]
    assert "mcp-secret" not in found[GEN_AI_TOOL_DEFINITIONS]
    assert json.loads(found[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
