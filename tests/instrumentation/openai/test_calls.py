"""OpenAI calls as GenAI client spans: every path of the client, their attributes and errors.

A real ``openai`` client talks HTTP to the stand-in server on 127.0.0.1; what is asserted is what
reaches the exporter (and the metric reader).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from agentops_otel_standin import StandInServer
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_ENCODING_FORMATS,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOKEN_TYPE,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

import agentops_otel as agentops
from agentops_otel._internal import content
from tests.support.clients import OPENAI_API_KEY, async_openai_client
from tests.support.spans import call_spans, only_call_span
from tests.support.subprocesses import run_python

MODEL = "gpt-4o-mini"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is the weather in Paris today?"}]
TOOLS: list[ChatCompletionToolParam] = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOOL_DEFINITIONS)


def root_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (root,) = [span for span in exporter.get_finished_spans() if span.name == "session"]
    return root


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


# -- chat completions -----------------------------------------------------------------------------


def test_chat_create_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: openai.OpenAI
) -> None:
    session = agentops.start_session()
    completion = client.chat.completions.create(
        model=MODEL, messages=USER, temperature=0.2, top_p=0.9, max_tokens=60, seed=7, stop=["\n\n"],
        frequency_penalty=0.1, presence_penalty=0.3, n=2,
    )
    session.end_session("Success")

    span, root = only_call_span(exporter), root_span(exporter)
    a = attrs(span)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.context.trace_id == root.context.trace_id
    assert a[SESSION_ID] == session.session_id
    assert a[GEN_AI_OPERATION_NAME] == "chat"
    assert a[GEN_AI_PROVIDER_NAME] == "openai" and a[GEN_AI_SYSTEM] == "openai"
    assert a[GEN_AI_REQUEST_MODEL] == MODEL
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert a[GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 60
    assert a[GEN_AI_REQUEST_SEED] == 7
    assert a[GEN_AI_REQUEST_STOP_SEQUENCES] == ("\n\n",)
    assert a[GEN_AI_REQUEST_FREQUENCY_PENALTY] == 0.1
    assert a[GEN_AI_REQUEST_PRESENCE_PENALTY] == 0.3
    assert a[GEN_AI_REQUEST_CHOICE_COUNT] == 2
    assert a[GEN_AI_RESPONSE_MODEL] == completion.model != MODEL  # the dated snapshot the API reports
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == tuple(c.finish_reason for c in completion.choices)
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
    assert a[SERVER_ADDRESS] == "127.0.0.1"
    assert a[SERVER_PORT] == int(standin.base_url.rsplit(":", 1)[1])
    assert GEN_AI_REQUEST_STREAM not in a
    assert span.status.status_code is StatusCode.UNSET


def test_request_parameters_not_given_are_not_recorded(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=USER)
    a = attrs(only_call_span(exporter))
    for key in (GEN_AI_REQUEST_TEMPERATURE, GEN_AI_REQUEST_TOP_P, GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_SEED,
                GEN_AI_REQUEST_STOP_SEQUENCES, GEN_AI_REQUEST_CHOICE_COUNT, GEN_AI_REQUEST_STREAM):
        assert key not in a


def test_max_tokens_cut_answer_reports_finish_reason_length(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, max_completion_tokens=4)
    a = attrs(only_call_span(exporter))
    assert completion.choices[0].finish_reason == "length"
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 4
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens <= 4  # type: ignore[union-attr]


def test_chat_create_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops.start_session()

    async def main() -> Any:
        async with async_openai_client(standin) as client:
            return await client.chat.completions.create(model=MODEL, messages=USER, temperature=0.5)

    completion = asyncio.run(main())
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attrs(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens


def test_chat_stream_without_usage_ends_when_exhausted(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    chunks = [next(stream), next(stream)]
    assert call_spans(exporter) == []  # still streaming: the span is open
    chunks += list(stream)

    a = attrs(only_call_span(exporter))
    assert len(chunks) > 3
    assert a[GEN_AI_REQUEST_STREAM] is True
    assert a[GEN_AI_RESPONSE_ID] == chunks[0].id
    assert a[GEN_AI_RESPONSE_MODEL] == chunks[0].model
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert all(chunk.usage is None for chunk in chunks)
    assert GEN_AI_USAGE_INPUT_TOKENS not in a and GEN_AI_USAGE_OUTPUT_TOKENS not in a


def test_chat_stream_with_include_usage_takes_usage_from_the_final_chunk(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}))
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens > 0
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens > 0
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_chat_stream_async_with_usage(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops.start_session()

    async def main() -> list[Any]:
        async with async_openai_client(standin) as client:
            stream = await client.chat.completions.create(
                model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True})
            return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    a = attrs(span)
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == chunks[-1].usage.prompt_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_chat_tool_call(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens  # type: ignore[union-attr]
    # Tool arguments are content: not recorded with capture off.
    assert not any(key in a for key in CONTENT_KEYS)
    assert not any(call.function.arguments in str(value) for value in a.values())  # type: ignore[union-attr]


def test_chat_tool_call_result_round_trip_streamed(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=USER, tools=TOOLS, stream=True, stream_options={"include_usage": True}))
    deltas = [tc for chunk in chunks if chunk.choices for tc in (chunk.choices[0].delta.tool_calls or ())]
    arguments = "".join(delta.function.arguments or "" for delta in deltas if delta.function)
    call_id = deltas[0].id
    assert json.loads(arguments)["city"]
    first = attrs(only_call_span(exporter))
    assert first[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert first[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens  # type: ignore[union-attr]
    exporter.clear()

    messages = [*USER,
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "Sunny, 24 °C"}]
    answer = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert answer.choices[0].message.content
    assert attrs(only_call_span(exporter))[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


class Weather(BaseModel):
    city: str
    temperature_c: float


def test_chat_completions_parse(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(model=MODEL, messages=USER, response_format=Weather)
    assert isinstance(completion.choices[0].message.parsed, Weather)
    span = only_call_span(exporter)
    a = attrs(span)
    assert span.name == f"chat {MODEL}"
    assert a[GEN_AI_OUTPUT_TYPE] == "json"
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens  # type: ignore[union-attr]


def test_chat_completions_stream_helper(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=USER, stream_options={"include_usage": True}) as stream:
        for _event in stream:
            pass
        final = stream.get_final_completion()
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_ID] == final.id
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.completion_tokens  # type: ignore[union-attr]


def test_chat_completions_stream_helper_left_early_ends_on_exit(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    with client.chat.completions.stream(model=MODEL, messages=USER) as stream:
        next(iter(stream))
        assert call_spans(exporter) == []
    span = only_call_span(exporter)  # ended on leaving ``with``, the stream object still alive
    assert span.status.status_code is StatusCode.UNSET
    assert stream is not None


# -- Responses API --------------------------------------------------------------------------------


def test_responses_create(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    response = client.responses.create(model=MODEL, input="Hello from Lisbon", max_output_tokens=200,
                                       temperature=0.3, instructions="Be brief.")
    session.end_session("Success")
    span, root = only_call_span(exporter), root_span(exporter)
    a = attrs(span)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert a[GEN_AI_OPERATION_NAME] == "chat" and a[GEN_AI_PROVIDER_NAME] == "openai"
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 200 and a[GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[GEN_AI_RESPONSE_ID] == response.id
    assert a[GEN_AI_RESPONSE_MODEL] == response.model
    assert response.status == "completed"
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)  # why it stopped, not its status
    assert response.usage is not None
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == response.usage.input_tokens > 0
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.output_tokens > 0
    assert not any(key in a for key in CONTENT_KEYS)


def test_responses_incomplete_reports_the_reason(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Tell me a long story", max_output_tokens=3)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    assert attrs(only_call_span(exporter))[GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)


def test_responses_create_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> Any:
        async with async_openai_client(standin) as client:
            return await client.responses.create(model=MODEL, input="Hello")

    response = asyncio.run(main())
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_ID] == response.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == response.usage.input_tokens


def test_responses_stream(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input="Hello", stream=True))
    kinds = [event.type for event in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    final = events[-1].response  # type: ignore[union-attr]
    assert final.usage is not None
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_REQUEST_STREAM] is True
    assert a[GEN_AI_RESPONSE_ID] == final.id
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == final.usage.input_tokens
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens


def test_responses_stream_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> list[Any]:
        async with async_openai_client(standin) as client:
            return [event async for event in await client.responses.create(model=MODEL, input="Hi", stream=True)]

    events = asyncio.run(main())
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == events[-1].response.usage.output_tokens


def test_responses_stream_helper(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Hello") as stream:
        texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_ID] == final.id
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens  # type: ignore[union-attr]


def test_responses_stream_helper_async_left_early(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> None:
        async with async_openai_client(standin) as client, \
                client.responses.stream(model=MODEL, input="Hello") as stream:
            async for _event in stream:
                break
            assert call_spans(exporter) == []

    asyncio.run(main())
    assert only_call_span(exporter).name == f"chat {MODEL}"


def test_responses_parse_and_tool_call(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    parsed = client.responses.parse(model=MODEL, input="Weather in Oslo?", text_format=Weather)
    assert isinstance(parsed.output_parsed, Weather)
    assert attrs(only_call_span(exporter))[GEN_AI_RESPONSE_ID] == parsed.id
    assert attrs(only_call_span(exporter))[GEN_AI_OUTPUT_TYPE] == "json"
    exporter.clear()

    tools = [{"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}]
    response = client.responses.create(model=MODEL, input="Weather in Oslo?", tools=tools)  # type: ignore[arg-type]
    assert response.output[0].type == "function_call" and response.status == "completed"
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.output_tokens  # type: ignore[union-attr]
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_call",)


def test_responses_stream_failing_midway_is_an_error(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="error-stream", input="Hello", stream=True))
    assert events[-1].type == "response.failed"
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[ERROR_TYPE] == "server_error"
    assert attrs(span)[GEN_AI_RESPONSE_FINISH_REASONS] == ("error",)


# -- embeddings and legacy completions ------------------------------------------------------------


def test_embeddings(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["first text", "second"], dimensions=8)
    assert [len(item.embedding) for item in result.data] == [8, 8]
    span = only_call_span(exporter)
    a = attrs(span)
    assert span.name == "embeddings text-embedding-3-small"
    assert a[GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 8
    assert a[GEN_AI_REQUEST_ENCODING_FORMATS] == ("base64",)  # what the client asks for by default
    assert a[GEN_AI_RESPONSE_MODEL] == result.model
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens > 0
    assert GEN_AI_USAGE_OUTPUT_TOKENS not in a


def test_legacy_completions(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hello", max_tokens=5)
    span = only_call_span(exporter)
    a = attrs(span)
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    assert a[GEN_AI_REQUEST_MAX_TOKENS] == 5
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == (completion.choices[0].finish_reason,) == ("length",)
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens  # type: ignore[union-attr]


# -- with_raw_response ----------------------------------------------------------------------------


def test_with_raw_response(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER)
    assert raw.headers["x-request-id"].startswith("req_")
    completion = raw.parse()
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_ID] == completion.id
    assert a[GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens  # type: ignore[union-attr]


def test_with_raw_response_of_a_stream_ends_when_the_stream_does(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True})
    assert isinstance(raw, openai._legacy_response.LegacyAPIResponse)
    assert call_spans(exporter) == []
    stream = raw.parse()
    assert raw.parse() is stream
    chunks = list(stream)
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens  # type: ignore[union-attr]
    assert a[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_with_raw_response_async(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> Any:
        async with async_openai_client(standin) as client:
            raw = await client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="hi")
            return raw.parse()

    result = asyncio.run(main())
    assert attrs(only_call_span(exporter))[GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens


def test_with_streaming_response(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(model=MODEL, messages=USER) as response:
        completion = response.parse()
    a = attrs(only_call_span(exporter))
    assert a[GEN_AI_RESPONSE_ID] == completion.id


def test_async_with_streaming_response(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> tuple[Any, list[Any]]:
        async with async_openai_client(standin) as client:
            async with client.chat.completions.with_streaming_response.create(model=MODEL, messages=USER) as response:
                assert call_spans(exporter) == []  # nothing read yet
                completion = await response.parse()
            async with client.chat.completions.with_streaming_response.create(
                model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
            ) as response:
                chunks = [chunk async for chunk in await response.parse()]
            return completion, chunks

    completion, chunks = asyncio.run(main())
    plain, streamed = call_spans(exporter)
    assert attrs(plain)[GEN_AI_RESPONSE_ID] == completion.id
    assert attrs(streamed)[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_raw_response_never_parsed_still_ends(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    import gc

    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, stream=True)
    assert raw.http_response.status_code == 200
    del raw
    gc.collect()
    assert only_call_span(exporter).name == f"chat {MODEL}"


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "error_class", "status"), [
    ("error-429", openai.RateLimitError, 429),
    ("error-500", openai.InternalServerError, 500),
    ("error-400", openai.BadRequestError, 400),
])
def test_http_errors_reach_the_caller_and_mark_the_span(
    exporter: InMemorySpanExporter, client: openai.OpenAI, model: str, error_class: type[Exception], status: int
) -> None:
    session = agentops.start_session()
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(model=model, messages=USER)
    session.end_session("Fail")
    assert type(caught.value) is error_class and caught.value.status_code == status  # type: ignore[attr-defined]

    span, root = only_call_span(exporter), root_span(exporter)
    a = attrs(span)
    assert span.name == f"chat {model}"
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.status.status_code is StatusCode.ERROR
    assert a[ERROR_TYPE] == error_class.__qualname__
    assert a[HTTP_RESPONSE_STATUS_CODE] == status
    (event,) = [e for e in span.events if e.name == "exception"]
    assert event.attributes is not None and str(event.attributes["exception.type"]).endswith(error_class.__name__)
    assert str(event.attributes["exception.message"]) == str(caught.value)


def test_async_error(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> None:
        async with async_openai_client(standin) as client:
            await client.responses.create(model="error-429", input="Hi")

    with pytest.raises(openai.RateLimitError):
        asyncio.run(main())
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[ERROR_TYPE] == "RateLimitError"


def test_connection_error(exporter: InMemorySpanExporter) -> None:
    # A port nothing listens on: bind one, note it, close it.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=OPENAI_API_KEY, max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=USER)
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[ERROR_TYPE] == "APIConnectionError"
    assert attrs(span)[SERVER_PORT] == port


def test_stream_failing_midway(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    received = []
    with pytest.raises(openai.APIError, match="broke off"):
        for chunk in client.chat.completions.create(model="error-stream", messages=USER, stream=True):
            received.append(chunk)
    assert received
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[ERROR_TYPE] == "APIError"


# -- content and secrets --------------------------------------------------------------------------


def _calls_of_every_kind(client: openai.OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER])
    client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    client.responses.create(model=MODEL, input="What is the weather in Paris today?", instructions="Be brief.")
    client.embeddings.create(model="text-embedding-3-small", input="What is the weather in Paris today?")
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="What is the weather in Paris today?")


def test_content_is_not_captured_by_default(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    _calls_of_every_kind(client)
    spans = call_spans(exporter)
    assert len(spans) == 6
    for span in spans:
        a = attrs(span)
        assert not any(key in a for key in CONTENT_KEYS), span.name
        assert not any("Paris" in str(value) or "stand-in model" in str(value) for value in a.values()), span.name


def test_content_is_captured_when_switched_on(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    content.set_capture_content(True)
    system = {"role": "system", "content": "Be brief."}
    completion = client.chat.completions.create(model=MODEL, messages=[system, *USER])  # type: ignore[list-item]
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    response = client.responses.create(model=MODEL, input="Hello from Lisbon", instructions="Be brief.")
    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hello")
    chat, streamed, responses, completions = (attrs(span) for span in call_spans(exporter))

    assert json.loads(chat[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]},
    ]
    assert json.loads(chat[GEN_AI_OUTPUT_MESSAGES]) == [{
        "role": "assistant", "finish_reason": "stop",
        "parts": [{"type": "text", "content": completion.choices[0].message.content}],
    }]
    streamed_text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert json.loads(streamed[GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": streamed_text}]}]
    assert json.loads(responses[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello from Lisbon"}]}]
    assert json.loads(responses[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(responses[GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": response.output_text}]}]
    assert json.loads(completions[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}]
    assert json.loads(completions[GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]["content"] == legacy.choices[0].text


@pytest.mark.parametrize("stream", [False, True])
def test_captured_tool_calls_and_results(exporter: InMemorySpanExporter, client: openai.OpenAI, stream: bool) -> None:
    content.set_capture_content(True)
    if stream:
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS, stream=True))
        (delta,) = [tc for chunk in chunks for tc in (chunk.choices[0].delta.tool_calls or ()) if tc.id]
        call_id = delta.id
        arguments = "".join(tc.function.arguments or "" for chunk in chunks
                            for tc in (chunk.choices[0].delta.tool_calls or ()) if tc.function)
    else:
        completion = client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS)
        call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
        call_id, arguments = call.id, call.function.arguments  # type: ignore[union-attr]
    assert call_id is not None
    (output,) = json.loads(attrs(only_call_span(exporter))[GEN_AI_OUTPUT_MESSAGES])
    assert output == {"role": "assistant", "finish_reason": "tool_calls", "parts": [
        {"type": "tool_call", "id": call_id, "name": "get_weather", "arguments": json.loads(arguments)}]}
    assert json.loads(attrs(only_call_span(exporter))[GEN_AI_TOOL_DEFINITIONS]) == [{  # the conventions' flat shape
        "type": "function", "name": "get_weather", "description": "The current weather in a city.",
        "parameters": TOOLS[0]["function"]["parameters"]}]
    exporter.clear()

    client.chat.completions.create(model=MODEL, tools=TOOLS, messages=[
        *USER,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "Sunny, 24 °C"},
    ])
    history = json.loads(attrs(only_call_span(exporter))[GEN_AI_INPUT_MESSAGES])
    assert history[1:] == [
        {"role": "assistant", "parts": [
            {"type": "tool_call", "id": call_id, "name": "get_weather", "arguments": json.loads(arguments)}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": "Sunny, 24 °C"}]},
    ]


def test_content_capture_follows_the_environment_variable(
    exporter: InMemorySpanExporter, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(content.CAPTURE_CONTENT_ENV, "true")
    client.chat.completions.create(model=MODEL, messages=USER)
    assert "Paris" in attrs(only_call_span(exporter))[GEN_AI_INPUT_MESSAGES]


def test_no_api_key_or_header_is_ever_recorded(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    content.set_capture_content(True)  # even with content on
    session = agentops.start_session()
    client.chat.completions.create(model=MODEL, messages=USER, extra_headers={"x-custom-token": "hdr-secret-42"})
    _calls_of_every_kind(client)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="error-400", messages=USER)
    session.end_session("Success")

    spans = exporter.get_finished_spans()
    assert len(spans) == 9
    for span in spans:
        texts = [*attrs(span).keys(), *(str(v) for v in attrs(span).values())]
        texts += [str(v) for event in span.events for v in (event.attributes or {}).values()]
        blob = "\n".join(texts).lower()
        for secret in (OPENAI_API_KEY.lower(), "hdr-secret-42", "bearer", "authorization", "x-custom-token"):
            assert secret not in blob, (span.name, secret)


# -- metrics --------------------------------------------------------------------------------------


def _points(reader: InMemoryMetricReader, metric_name: str, model: str) -> list[Any]:
    """The OpenAI instrumentor's points. Other instrumentors record the same metrics, some with the
    same attributes (LiteLLM's ``openai/error-429`` call in tests/instrumentation/litellm)."""
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics if scope_metrics.scope.name == "agentops_otel_openai"
        for metric in scope_metrics.metrics if metric.name == metric_name
        for point in metric.data.data_points if (point.attributes or {}).get(GEN_AI_REQUEST_MODEL) == model
    ]


def test_genai_client_metrics(
    standin: StandInServer, client: openai.OpenAI, metric_reader: InMemoryMetricReader
) -> None:
    model = "gpt-4o-mini-metrics-test"
    completions = [client.chat.completions.create(model=model, messages=USER) for _ in range(2)]

    (duration,) = _points(metric_reader, "gen_ai.client.operation.duration", model)
    assert duration.count == 2 and duration.sum > 0
    point_attributes = dict(duration.attributes)
    assert point_attributes[GEN_AI_OPERATION_NAME] == "chat"
    assert point_attributes[GEN_AI_PROVIDER_NAME] == "openai"
    assert point_attributes[GEN_AI_RESPONSE_MODEL] == completions[0].model
    assert point_attributes[SERVER_ADDRESS] == "127.0.0.1"
    assert ERROR_TYPE not in point_attributes

    token_points = _points(metric_reader, "gen_ai.client.token.usage", model)
    tokens = {dict(p.attributes)[GEN_AI_TOKEN_TYPE]: p for p in token_points}
    usages = [c.usage for c in completions if c.usage is not None]
    assert len(usages) == len(completions)
    assert tokens["input"].sum == sum(u.prompt_tokens for u in usages)
    assert tokens["output"].sum == sum(u.completion_tokens for u in usages)
    assert tokens["input"].count == 2


def test_failed_calls_are_measured_with_their_error_type(
    client: openai.OpenAI, metric_reader: InMemoryMetricReader
) -> None:
    # Metrics are cumulative over the test process: compare counts before and after this call.
    def counts(metric_name: str) -> dict[Any, int]:
        points = _points(metric_reader, metric_name, "error-429")
        return {tuple(sorted(dict(p.attributes).items())): p.count for p in points}

    durations_before, tokens_before = counts("gen_ai.client.operation.duration"), counts("gen_ai.client.token.usage")
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="error-429", messages=USER)
    durations = counts("gen_ai.client.operation.duration")
    (grown,) = [key for key, count in durations.items() if count > durations_before.get(key, 0)]
    assert durations[grown] == durations_before.get(grown, 0) + 1
    assert dict(grown)[ERROR_TYPE] == "RateLimitError"
    assert dict(grown)[GEN_AI_OPERATION_NAME] == "chat"
    assert counts("gen_ai.client.token.usage") == tokens_before  # no tokens for a failed call


SEEN_AT_START = """
    import json, os
    import openai
    from opentelemetry import trace
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, SamplingResult
    import agentops_otel as agentops

    seen = []

    class Recording(SpanProcessor):  # an application's processor that reads a span's attributes at its start
        def on_start(self, span, parent_context=None):
            seen.append(dict(span.attributes))

    class Sampler:  # an application's sampler that decides on the attributes
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None):
            seen.append(dict(attributes or {}))
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

        def get_description(self):
            return "Sampler"

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=Sampler() if os.environ["READER"] == "sampler" else ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    if os.environ["READER"] == "processor":
        provider.add_span_processor(Recording())
    trace.set_tracer_provider(provider)
    agentops.init(auto_start_session=False)
    client = openai.OpenAI(base_url=os.environ["STANDIN_URL"], api_key="sk-seen-at-start", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", temperature=0.5, messages=[{"role": "user", "content": "hi"}])
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    print(json.dumps({"seen": seen, "ended": dict(span.attributes)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["processor", "sampler"])
def test_an_applications_sampler_and_span_processors_see_the_request_attributes_at_the_start(
    reader: str, standin: StandInServer
) -> None:
    # Where neither reads attributes at the start (the SDK's samplers and export processors), the
    # span starts without them and they are written in after, for less: the span ends the same.
    result = run_python(SEEN_AT_START, {"STANDIN_URL": standin.openai_base_url, "READER": reader})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (at_start,) = [attributes for attributes in report["seen"] if attributes.get(GEN_AI_OPERATION_NAME) == "chat"]
    assert at_start[GEN_AI_REQUEST_MODEL] == MODEL
    assert at_start[GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert at_start[GEN_AI_PROVIDER_NAME] == "openai"
    assert at_start[SERVER_ADDRESS] == "127.0.0.1"
    assert {key: report["ended"][key] for key in at_start} == at_start
    assert report["ended"][GEN_AI_RESPONSE_MODEL]
