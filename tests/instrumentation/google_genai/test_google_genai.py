"""The google-genai instrumentor with the real ``google-genai`` client talking to the stand-in's
Gemini API: ``generate_content`` (plain, streamed, async, chats, automatic function calling),
``embed_content``, tool calls, errors, content capture, the session rules and ``uninstrument()``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import genai_prices
import pytest
from agentops_otel_google_genai import GoogleGenAIInstrumentor
from agentops_otel_standin import StandInServer
from google import genai
from google.genai import errors, types
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
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
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode
from wrapt import FunctionWrapper

import agentops_otel as agentops
from agentops_otel._internal import content
from agentops_otel._internal.exceptions import MultiSessionException
from tests.support.spans import attributes, call_spans, only_call_span
from tests.support.threads import run_in_threads

MODEL = "gemini-2.5-flash"
API_KEY = "sk-gemini-test-secret"
PROMPT = "What is the weather in Paris?"
WEATHER = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather", description="The current weather in a city.",
    parameters_json_schema={"type": "object", "properties": {"location": {"type": "string"}}})])
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOOL_DEFINITIONS)


def make_client(standin: StandInServer) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=standin.url_for("gemini")))


@pytest.fixture
def client(standin: StandInServer) -> Iterator[genai.Client]:
    with make_client(standin) as c:
        yield c


def assert_generate_span(span: ReadableSpan, response: Any, standin: StandInServer) -> None:
    found = attributes(span)
    assert span.name == f"generate_content {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert found[GEN_AI_OPERATION_NAME] == "generate_content" and found[GEN_AI_PROVIDER_NAME] == "gcp.gemini"
    assert found[GEN_AI_REQUEST_MODEL] == MODEL and found[GEN_AI_RESPONSE_MODEL] == response.model_version
    assert found[GEN_AI_RESPONSE_ID] == response.response_id
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)  # the API's STOP, as the conventions spell it
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == response.usage_metadata.prompt_token_count
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage_metadata.candidates_token_count
    assert found[SERVER_ADDRESS] == "127.0.0.1" and found[SERVER_PORT] == urlsplit(standin.base_url).port
    assert not set(CONTENT_KEYS) & set(found)


def test_generate_content_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: genai.Client
) -> None:
    session = agentops.start_session()
    response = client.models.generate_content(
        model=f"models/{MODEL}", contents=PROMPT,
        config=types.GenerateContentConfig(temperature=0.2, max_output_tokens=64,
                                           response_mime_type="application/json"))
    session.end_session("Success")

    span = only_call_span(exporter)
    assert_generate_span(span, response, standin)
    found = attributes(span)
    assert (found[GEN_AI_REQUEST_TEMPERATURE], found[GEN_AI_REQUEST_MAX_TOKENS], found[GEN_AI_OUTPUT_TYPE]) == (
        0.2, 64, "json")
    (root,) = [s for s in exporter.get_finished_spans() if s.name == "session"]
    assert found[SESSION_ID] == session.session_id and span.parent is not None
    assert span.parent.span_id == root.context.span_id


def test_config_as_a_dict_and_cached_tokens(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    response = client.models.generate_content(
        model=MODEL, contents=PROMPT, config={"temperature": 0.5, "cached_content": "cachedContents/standin"})
    found = attributes(only_call_span(exporter))
    assert found[GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert response.usage_metadata is not None and response.usage_metadata.cached_content_token_count
    assert found[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == response.usage_metadata.cached_content_token_count
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == response.usage_metadata.prompt_token_count  # includes the cached


def test_stream_ends_once_with_the_last_event(
    exporter: InMemorySpanExporter, standin: StandInServer, client: genai.Client
) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    assert "".join(chunk.text or "" for chunk in chunks) == "Hello from the Gemini stand-in."
    span = only_call_span(exporter)
    assert_generate_span(span, chunks[-1], standin)
    assert attributes(span)[GEN_AI_REQUEST_STREAM] is True


def test_stream_left_early_ends_when_closed(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    stream = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
    next(iter(stream))
    assert call_spans(exporter) == []
    stream.close()  # type: ignore[attr-defined]
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET and attributes(span)[GEN_AI_RESPONSE_FINISH_REASONS] == ()


def test_async_generate_stream_and_embed(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> tuple[Any, list[Any], Any]:
        client = make_client(standin)
        response = await client.aio.models.generate_content(model=MODEL, contents=PROMPT)
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents=PROMPT)
        chunks = [chunk async for chunk in stream]
        embedded = await client.aio.models.embed_content(model="text-embedding-004", contents="one")
        await client.aio.aclose()
        return response, chunks, embedded

    response, chunks, embedded = asyncio.run(main())
    generate, stream, embed = call_spans(exporter)
    assert_generate_span(generate, response, standin)
    assert_generate_span(stream, chunks[-1], standin)
    assert embed.name == "embeddings text-embedding-004" and embedded.embeddings


def test_embed_content(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    embedded = client.models.embed_content(model="text-embedding-004", contents=["one", "two"],
                                           config={"output_dimensionality": 4})
    span = only_call_span(exporter)
    assert embedded.embeddings is not None and [len(e.values or ()) for e in embedded.embeddings] == [4, 4]
    assert span.name == "embeddings text-embedding-004" and attributes(span)[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert attributes(span)[GEN_AI_PROVIDER_NAME] == "gcp.gemini"


def test_chat_sends_history_and_records_messages(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    content.set_capture_content(True)
    chat = client.chats.create(model=MODEL, config={"system_instruction": "Be brief."})
    first = chat.send_message("Hello.")
    chat.send_message("And again.")
    spans = call_spans(exporter)
    assert len(spans) == 2
    found = attributes(spans[1])
    assert json.loads(found[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello."}]},
        {"role": "assistant", "parts": [{"type": "text", "content": first.text}]},
        {"role": "user", "parts": [{"type": "text", "content": "And again."}]},
    ]
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": first.text}]}]


def test_tool_calls_by_automatic_function_calling(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    """The SDK calls the Python function itself and asks again: one span per request."""
    content.set_capture_content(True)
    called: list[str] = []

    def get_weather(location: str) -> str:
        """The current weather in a city."""
        called.append(location)
        return "18°C and sunny"

    response = client.models.generate_content(model=MODEL, contents=PROMPT, config={"tools": [get_weather]})
    assert called == ["Paris"] and response.text == "Hello from the Gemini stand-in."
    ask, answer = call_spans(exporter)
    assert json.loads(attributes(ask)[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "stop",
        "parts": [{"type": "tool_call", "id": None, "name": "get_weather", "arguments": {"location": "Paris"}}]}]
    assert json.loads(attributes(ask)[GEN_AI_TOOL_DEFINITIONS]) == [{"name": "get_weather"}]
    sent = json.loads(attributes(answer)[GEN_AI_INPUT_MESSAGES])
    assert sent[-1] == {"role": "tool", "parts": [{"type": "tool_call_response", "id": None, "name": "get_weather",
                                                   "response": {"result": "18°C and sunny"}}]}


def test_declared_tool_streamed(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    content.set_capture_content(True)
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=PROMPT,
                                                      config=types.GenerateContentConfig(tools=[WEATHER])))
    assert chunks[0].function_calls and chunks[0].function_calls[0].args == {"location": "Paris"}
    found = attributes(only_call_span(exporter))
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "tool_call", "id": None, "name": "get_weather", "arguments": {"location": "Paris"}}]
    assert json.loads(found[GEN_AI_TOOL_DEFINITIONS])[0]["function_declarations"][0]["name"] == "get_weather"


def test_errors_end_the_span_with_error_status(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model="error-429", contents=PROMPT)
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "ClientError"
    assert API_KEY not in str(span.events)
    exporter.clear()

    with pytest.raises(errors.ServerError):
        for _ in client.models.generate_content_stream(model="error-stream", contents=PROMPT):
            pass
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "ServerError"


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: genai.Client
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(MultiSessionException):
        client.models.generate_content(model=MODEL, contents=PROMPT)
    with pytest.raises(MultiSessionException):
        client.models.generate_content_stream(model=MODEL, contents=PROMPT).__next__()

    async def call_async() -> None:
        await client.aio.models.generate_content(model=MODEL, contents=PROMPT)

    with pytest.raises(MultiSessionException):
        asyncio.run(call_async())
    assert len(standin.requests) == sent_before and call_spans(exporter) == []

    second.patch(client.models.generate_content)(model=MODEL, contents=PROMPT)
    with first:
        client.models.embed_content(model="text-embedding-004", contents="one")
    second.end_session("Success")
    assert {attributes(span)[SESSION_ID] for span in call_spans(exporter)} == {first.session_id, second.session_id}


def test_sessions_in_threads_and_tasks(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    def in_thread(session: agentops.Session) -> None:
        client = make_client(standin)  # kept: a collected Client closes its HTTP client
        with session:
            list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))

    run_in_threads(*(lambda s=s: in_thread(s) for s in sessions))
    tasks = [agentops.start_session(), agentops.start_session()]

    async def in_task(session: agentops.Session, client: genai.Client) -> None:
        with session:
            await client.aio.models.generate_content(model=MODEL, contents=PROMPT)

    async def main() -> None:
        client = make_client(standin)
        await asyncio.gather(*(in_task(s, client) for s in tasks))
        await client.aio.aclose()

    asyncio.run(main())
    roots = {attributes(s)[SESSION_ID]: s for s in exporter.get_finished_spans() if s.name == "session"}
    spans = call_spans(exporter)
    assert sorted(attributes(s)[SESSION_ID] for s in spans) == sorted(s.session_id for s in sessions + tasks)
    for span in spans:
        assert span.parent is not None and span.parent.span_id == roots[attributes(span)[SESSION_ID]].context.span_id


def test_no_session_still_traced(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    client.models.generate_content(model=MODEL, contents=PROMPT)
    span = only_call_span(exporter)
    assert span.parent is None and SESSION_ID not in attributes(span)


def test_uninstrument_restores_the_client(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    from google.genai import models

    instrumentor = GoogleGenAIInstrumentor()
    assert isinstance(models.Models.__dict__["_generate_content"], FunctionWrapper)
    instrumentor.uninstrument()
    try:
        for cls in (models.Models, models.AsyncModels):
            for name in ("_generate_content", "_generate_content_stream", "_embed_content"):
                assert not isinstance(cls.__dict__[name], FunctionWrapper)
        client.models.generate_content(model=MODEL, contents=PROMPT)
        list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
        assert call_spans(exporter) == []
    finally:
        instrumentor.instrument()
    client.models.generate_content(model=MODEL, contents=PROMPT)
    assert len(call_spans(exporter)) == 1


def test_cost_from_the_price_table(exporter: InMemorySpanExporter, client: genai.Client) -> None:
    """The core prices a Gemini call from provider, model and usage (cached input at its own rate)."""
    response = client.models.generate_content(model=MODEL, contents=PROMPT, config={"cached_content": "c/standin"})
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.cached_content_token_count
    expected = float(genai_prices.calc_price(genai_prices.Usage(
        input_tokens=usage.prompt_token_count, cache_read_tokens=usage.cached_content_token_count,
        output_tokens=usage.candidates_token_count), MODEL, provider_id="google").total_price)
    assert expected > 0
    assert attributes(only_call_span(exporter))["gen_ai.usage.cost"] == pytest.approx(expected)
