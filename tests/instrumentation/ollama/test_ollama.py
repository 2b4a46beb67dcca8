"""The ollama instrumentor with the real ``ollama`` client talking to the stand-in's Ollama API:
``chat``, ``generate`` and ``embed`` (module-level functions, ``Client``, ``AsyncClient``; plain
and streamed), tool calls, errors, content capture, the session rules and ``uninstrument()``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import ollama
import pytest
from agentops_otel_ollama import OllamaInstrumentor
from agentops_otel_standin import StandInServer
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
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
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, StatusCode
from wrapt import FunctionWrapper

import agentops_otel as agentops
from agentops_otel._internal import content
from agentops_otel._internal.exceptions import MultiSessionException
from tests.support.spans import attributes, call_spans, only_call_span
from tests.support.threads import run_in_threads

MODEL = "llama3.2"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]
CONTENT_KEYS = (GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOOL_DEFINITIONS)


@pytest.fixture
def client(standin: StandInServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=standin.url_for("ollama")) as c:
        yield c


def session_root(exporter: InMemorySpanExporter) -> ReadableSpan:
    (root,) = [span for span in exporter.get_finished_spans() if span.name == "session"]
    return root


def assert_chat_span(span: ReadableSpan, response: Any, standin: StandInServer, operation: str = "chat") -> None:
    found = attributes(span)
    assert span.name == f"{operation} {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert found[GEN_AI_OPERATION_NAME] == operation
    assert found[GEN_AI_PROVIDER_NAME] == "ollama"
    assert found[GEN_AI_REQUEST_MODEL] == MODEL and found[GEN_AI_RESPONSE_MODEL] == response.model
    assert found[GEN_AI_RESPONSE_FINISH_REASONS] == (response.done_reason,) == ("stop",)
    assert found[GEN_AI_USAGE_INPUT_TOKENS] == response.prompt_eval_count
    assert found[GEN_AI_USAGE_OUTPUT_TOKENS] == response.eval_count
    assert found[SERVER_ADDRESS] == "127.0.0.1" and found[SERVER_PORT] == urlsplit(standin.base_url).port
    assert not set(CONTENT_KEYS) & set(found)  # content is off by default


def test_chat_is_one_client_span_under_the_session(
    exporter: InMemorySpanExporter, standin: StandInServer, client: ollama.Client
) -> None:
    session = agentops.start_session()
    response = client.chat(model=MODEL, messages=USER, options={"temperature": 0.2, "top_k": 5, "num_predict": 64})
    session.end_session("Success")

    span = only_call_span(exporter)
    assert_chat_span(span, response, standin)
    found = attributes(span)
    assert (found[GEN_AI_REQUEST_TEMPERATURE], found[GEN_AI_REQUEST_TOP_K], found[GEN_AI_REQUEST_MAX_TOKENS]) == (
        0.2, 5, 64)
    assert found[SESSION_ID] == session.session_id
    assert span.parent is not None and span.parent.span_id == session_root(exporter).context.span_id


def test_generate_and_embed(exporter: InMemorySpanExporter, standin: StandInServer, client: ollama.Client) -> None:
    generated = client.generate(model=MODEL, prompt="Say hello.")
    assert_chat_span(only_call_span(exporter), generated, standin, operation="text_completion")
    exporter.clear()

    embedded = client.embed(model=MODEL, input=["one", "two"], dimensions=4)
    span = only_call_span(exporter)
    assert span.name == f"embeddings {MODEL}" and len(embedded.embeddings) == 2
    assert attributes(span)[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert attributes(span)[GEN_AI_USAGE_INPUT_TOKENS] == embedded.prompt_eval_count


def test_module_level_functions_are_traced(
    exporter: InMemorySpanExporter, standin: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ollama.chat`` and friends are methods of a client bound when ollama was imported."""
    default_client: Any = ollama._client  # the module-level functions' Client (shadowing the submodule's name)
    monkeypatch.setattr(default_client, "_client", httpx.Client(base_url=standin.url_for("ollama")))
    ollama.chat(model=MODEL, messages=USER)
    list(ollama.generate(model=MODEL, prompt="Hi.", stream=True))
    ollama.embed(model=MODEL, input="one")
    assert [span.name for span in call_spans(exporter)] == [
        f"chat {MODEL}", f"text_completion {MODEL}", f"embeddings {MODEL}"]


def test_stream_ends_once_with_the_final_line(
    exporter: InMemorySpanExporter, standin: StandInServer, client: ollama.Client
) -> None:
    chunks = list(client.chat(model=MODEL, messages=USER, stream=True))
    assert "".join(chunk.message.content or "" for chunk in chunks) == "Hello from the Ollama stand-in."
    span = only_call_span(exporter)
    assert_chat_span(span, chunks[-1], standin)
    assert attributes(span)[GEN_AI_REQUEST_STREAM] is True


def test_stream_left_early_ends_when_closed(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    stream = client.chat(model=MODEL, messages=USER, stream=True)
    next(iter(stream))
    assert call_spans(exporter) == []
    stream.close()  # type: ignore[attr-defined]
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.UNSET and GEN_AI_USAGE_INPUT_TOKENS not in attributes(span)


def test_async_client(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> tuple[Any, list[Any]]:
        client = ollama.AsyncClient(host=standin.url_for("ollama"))
        response = await client.chat(model=MODEL, messages=USER)
        chunks = [chunk async for chunk in await client.generate(model=MODEL, prompt="Hi.", stream=True)]
        await client.embed(model=MODEL, input="one")
        return response, chunks

    response, chunks = asyncio.run(main())
    chat, generate, embed = call_spans(exporter)
    assert_chat_span(chat, response, standin)
    assert_chat_span(generate, chunks[-1], standin, operation="text_completion")
    assert embed.name == f"embeddings {MODEL}"


def test_tool_call_round_trip_with_content(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    content.set_capture_content(True)
    response = client.chat(model=MODEL, messages=USER, tools=TOOLS)
    (call,) = response.message.tool_calls or ()
    assert call.function.arguments == {"location": "Paris"}
    streamed = list(client.chat(model=MODEL, messages=USER, tools=TOOLS, stream=True))
    assert streamed[0].message.tool_calls

    for span in call_spans(exporter):  # the plain call and the stream
        first = attributes(span)
        assert json.loads(first[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "stop", "parts": [
            {"type": "tool_call", "name": "get_weather", "arguments": {"location": "Paris"}}]}]
        assert json.loads(first[GEN_AI_TOOL_DEFINITIONS]) == TOOLS


def test_tool_response_is_recorded_as_a_tool_message(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    content.set_capture_content(True)
    messages: list[Any] = [{"role": "system", "content": "Be brief."}, *USER,
                {"role": "assistant", "content": "", "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"location": "Paris"}}}]},
                {"role": "tool", "content": "18°C and sunny", "tool_name": "get_weather"}]
    response = client.chat(model=MODEL, messages=messages, tools=TOOLS)
    found = attributes(only_call_span(exporter))
    assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]},
        {"role": "assistant", "parts": [
            {"type": "tool_call", "name": "get_weather", "arguments": {"location": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "name": "get_weather",
                                    "response": "18°C and sunny"}]},
    ]
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "stop", "parts": [
        {"type": "text", "content": response.message.content}]}]


def test_streamed_content_is_joined(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    content.set_capture_content(True)
    list(client.generate(model=MODEL, prompt="Say hello.", system="Be brief.", stream=True))
    found = attributes(only_call_span(exporter))
    assert json.loads(found[GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello."}]}]
    assert json.loads(found[GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(found[GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "stop", "parts": [
        {"type": "text", "content": "Hello from the Ollama stand-in."}]}]


def test_errors_end_the_span_with_error_status(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model="error-500", messages=USER)
    assert raised.value.status_code == 500
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)[ERROR_TYPE] == "ResponseError"
    assert attributes(span)[HTTP_RESPONSE_STATUS_CODE] == 500
    exporter.clear()

    stream = client.chat(model="error-stream", messages=USER, stream=True)
    with pytest.raises(ollama.ResponseError):
        for _ in stream:
            pass
    span = only_call_span(exporter)
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "ResponseError"


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: ollama.Client
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(MultiSessionException):
        client.chat(model=MODEL, messages=USER)
    with pytest.raises(MultiSessionException):
        client.chat(model=MODEL, messages=USER, stream=True)

    async def call_async() -> None:
        await ollama.AsyncClient(host=standin.url_for("ollama")).embed(model=MODEL, input="one")

    with pytest.raises(MultiSessionException):
        asyncio.run(call_async())
    assert len(standin.requests) == sent_before and call_spans(exporter) == []

    second.patch(client.chat)(model=MODEL, messages=USER)
    with first:
        client.generate(model=MODEL, prompt="Hi.")
    second.end_session("Success")
    assert {attributes(span)[SESSION_ID] for span in call_spans(exporter)} == {first.session_id, second.session_id}


def test_sessions_in_threads_and_tasks(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    def in_thread(session: agentops.Session) -> None:
        with session, ollama.Client(host=standin.url_for("ollama")) as client:
            list(client.chat(model=MODEL, messages=USER, stream=True))

    run_in_threads(*(lambda s=s: in_thread(s) for s in sessions))
    tasks = [agentops.start_session(), agentops.start_session()]

    async def in_task(session: agentops.Session) -> None:
        with session:
            await ollama.AsyncClient(host=standin.url_for("ollama")).chat(model=MODEL, messages=USER)

    async def main() -> None:
        await asyncio.gather(*(in_task(s) for s in tasks))

    asyncio.run(main())
    roots = {attributes(s)[SESSION_ID]: s for s in exporter.get_finished_spans() if s.name == "session"}
    spans = call_spans(exporter)
    assert sorted(attributes(s)[SESSION_ID] for s in spans) == sorted(s.session_id for s in sessions + tasks)
    for span in spans:
        assert span.parent is not None and span.parent.span_id == roots[attributes(span)[SESSION_ID]].context.span_id


def test_no_session_still_traced(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    client.chat(model=MODEL, messages=USER)
    span = only_call_span(exporter)
    assert span.parent is None and SESSION_ID not in attributes(span)


def test_metrics(exporter: InMemorySpanExporter, client: ollama.Client, metric_reader: InMemoryMetricReader) -> None:
    def durations() -> int:
        data = metric_reader.get_metrics_data()
        return sum(point.count  # type: ignore[union-attr,misc]
                   for resource_metrics in (data.resource_metrics if data else ())
                   for scope_metrics in resource_metrics.scope_metrics
                   for metric in scope_metrics.metrics if metric.name == "gen_ai.client.operation.duration"
                   for point in metric.data.data_points
                   if (point.attributes or {}).get(GEN_AI_PROVIDER_NAME) == "ollama")

    before = durations()
    client.chat(model=MODEL, messages=USER)
    assert durations() == before + 1


def test_uninstrument_restores_the_client(exporter: InMemorySpanExporter, client: ollama.Client) -> None:
    module = __import__("ollama._client", fromlist=["Client"])
    instrumentor = OllamaInstrumentor()
    assert isinstance(module.Client.__dict__["_request"], FunctionWrapper)
    instrumentor.uninstrument()
    try:
        assert not isinstance(module.Client.__dict__["_request"], FunctionWrapper)
        assert not isinstance(module.AsyncClient.__dict__["_request"], FunctionWrapper)
        client.chat(model=MODEL, messages=USER)
        list(client.chat(model=MODEL, messages=USER, stream=True))
        assert call_spans(exporter) == []
    finally:
        instrumentor.instrument()
    client.chat(model=MODEL, messages=USER)
    assert len(call_spans(exporter)) == 1
