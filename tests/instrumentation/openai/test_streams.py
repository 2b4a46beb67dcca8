"""A streamed OpenAI call's span ends exactly once, however the stream ends.

Exhausted, closed early, left in ``with``, or dropped unfinished and garbage collected: each way
exports the call's span once (no "ended span" warning from the SDK), with what the stream saw.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from agentops_otel_standin import Reply, Request, StandInServer
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionStreamOptionsParam
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import StatusCode

import agentops_otel as agentops
from agentops_otel._internal.attribute_names import STREAM_COMPLETED
from tests.support.clients import async_openai_client
from tests.support.spans import call_spans, only_call_span

MODEL = "gpt-4o-mini"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Stream me a sentence, please."}]
USAGE: ChatCompletionStreamOptionsParam = {"include_usage": True}


@pytest.fixture
def ended_twice(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """The SDK's warnings about ending a span that had ended already."""
    caplog.set_level(logging.WARNING, logger="opentelemetry.sdk.trace")
    yield lambda: [r.getMessage() for r in caplog.records if "ended span" in r.getMessage()]


def test_exhausted_stream_ends_once_with_final_chunk_usage(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    with client.chat.completions.create(model=MODEL, messages=USER, stream=True, stream_options=USAGE) as stream:
        chunks = list(stream)
        assert len(call_spans(exporter)) == 1  # ended on exhaustion, before leaving ``with``
        stream.close()
    (span,) = call_spans(exporter)
    usage = chunks[-1].usage
    assert usage is not None
    assert span.attributes is not None
    assert span.attributes[GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
    assert span.attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens
    assert span.status.status_code is StatusCode.UNSET
    assert ended_twice() == []


def test_stream_closed_early_ends_on_close(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True, stream_options=USAGE)
    next(stream)
    next(stream)
    assert call_spans(exporter) == []
    stream.close()
    (span,) = call_spans(exporter)
    assert span.attributes is not None
    assert span.attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ()  # it never got that far
    assert GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    stream.close()
    del stream
    gc.collect()
    assert len(call_spans(exporter)) == 1
    assert ended_twice() == []


def test_stream_left_in_with_ends_on_exit(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    with client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
        for _chunk in stream:
            break
        assert call_spans(exporter) == []
    assert len(call_spans(exporter)) == 1
    assert ended_twice() == []


def test_stream_left_by_an_exception_in_with_ends_once(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    with pytest.raises(KeyError), client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
        next(stream)
        raise KeyError("the caller's own bug")
    (span,) = call_spans(exporter)
    assert (span.attributes or {})[ERROR_TYPE] == "KeyError"
    assert ended_twice() == []


def test_stream_dropped_unfinished_ends_when_collected(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    session = agentops.start_session()
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    next(stream)
    assert call_spans(exporter) == []
    del stream
    gc.collect()
    (span,) = call_spans(exporter)
    session.end_session("Success")
    assert span.parent is not None
    assert session.get_analytics().llm_calls == 1
    assert ended_twice() == []


def test_many_streams_dropped_unfinished_each_end_once(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    for _ in range(30):
        stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        next(stream)
        del stream
    gc.collect()
    assert len(call_spans(exporter)) == 30
    assert ended_twice() == []


def test_responses_stream_closed_early_then_exhausted_ends_once(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    stream = client.responses.create(model=MODEL, input="Hi", stream=True)
    first = next(stream)
    assert first.type == "response.created"
    stream.close()
    list(stream)  # whatever the SDK had buffered still comes out; the span stays ended
    (span,) = call_spans(exporter)
    assert span.attributes is not None
    assert span.attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ()  # the response never finished
    assert ended_twice() == []


def _run_async(standin: StandInServer, body: Callable[[openai.AsyncOpenAI], Any]) -> Any:
    async def main() -> Any:
        async with async_openai_client(standin) as client:
            return await body(client)

    return asyncio.run(main())


@pytest.mark.parametrize("how", ["exhausted", "close", "async with", "collected"])
def test_async_stream_ends_once(
    exporter: InMemorySpanExporter, standin: StandInServer, ended_twice: Callable[[], list[str]], how: str
) -> None:
    seen_while_open: list[int] = []

    async def body(client: openai.AsyncOpenAI) -> Any:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, stream_options=USAGE)
        if how == "exhausted":
            return [chunk async for chunk in stream]
        if how == "close":
            await stream.__anext__()
            seen_while_open.append(len(call_spans(exporter)))
            await stream.close()
        elif how == "async with":
            async with stream:
                await stream.__anext__()
                seen_while_open.append(len(call_spans(exporter)))
        else:
            await stream.__anext__()
            seen_while_open.append(len(call_spans(exporter)))
            del stream
            gc.collect()
        return None

    chunks = _run_async(standin, body)
    (span,) = call_spans(exporter)
    assert seen_while_open in ([], [0])
    assert span.attributes is not None
    if how == "exhausted":
        assert span.attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
    else:
        assert GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    assert ended_twice() == []


# -- whether the stream was read to its end (agentops.stream.completed) ---------------------------


def _completed(span: ReadableSpan) -> object:
    return (span.attributes or {}).get(STREAM_COMPLETED)


@pytest.mark.parametrize("how", ["exhausted", "close", "break then close", "with left early", "collected"])
def test_a_stream_says_whether_it_was_read_to_its_end(
    exporter: InMemorySpanExporter, client: openai.OpenAI, how: str
) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True, stream_options=USAGE)
    if how == "exhausted":
        list(stream)
    elif how == "close":
        next(stream)
        stream.close()
    elif how == "break then close":
        for _chunk in stream:
            break
        stream.close()
    elif how == "with left early":
        with stream:
            next(stream)
    else:
        next(stream)
        del stream
        gc.collect()
    span = only_call_span(exporter)
    attributes = span.attributes or {}
    assert _completed(span) is (how == "exhausted")
    # Ended early by the application: not an error of the call, and no finish reason it never got.
    assert span.status.status_code is StatusCode.UNSET and ERROR_TYPE not in attributes
    assert bool(attributes[GEN_AI_RESPONSE_FINISH_REASONS]) is (how == "exhausted")


@pytest.mark.parametrize("where", ["async with", "async for"])
def test_a_task_cancelled_mid_stream_is_not_completed(
    exporter: InMemorySpanExporter, standin: StandInServer, where: str
) -> None:
    async def reader(client: openai.AsyncOpenAI, started: asyncio.Event) -> None:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        if where == "async with":
            async with stream:
                await stream.__anext__()
                started.set()
                await asyncio.Event().wait()  # the application's own await, where the cancellation lands
        else:
            async for _chunk in stream:
                started.set()
                await asyncio.Event().wait()

    async def body(client: openai.AsyncOpenAI) -> None:
        started = asyncio.Event()
        task = asyncio.create_task(reader(client, started))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()  # ``async for`` leaves the stream to be collected

    _run_async(standin, body)
    span = only_call_span(exporter)
    assert _completed(span) is False
    if where == "async with":
        # The cancellation left the stream's own ``async with``: the call was cancelled.
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})[ERROR_TYPE] == "CancelledError"
    else:
        # The stream was dropped unfinished (the cancellation never reached it): an early end.
        assert span.status.status_code is StatusCode.UNSET


def test_a_responses_stream_read_to_its_end_is_completed(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    events = list(client.responses.create(model=MODEL, input="Hi", stream=True))
    assert events[-1].type == "response.completed"
    assert _completed(only_call_span(exporter)) is True


# -- a stream ended by an exception failed --------------------------------------------------------


class _Bug(Exception):
    """The application's own error, raised while it reads a stream."""


def _failed_with(span: ReadableSpan, error_type: str) -> None:
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR, span.status
    assert attributes[ERROR_TYPE] == error_type
    assert _completed(span) is False
    assert [event.name for event in span.events] == ["exception"]


@pytest.mark.parametrize("where", ["loop in with", "with", "stream helper"])
def test_an_exception_in_the_with_block_fails_the_stream(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]], where: str
) -> None:
    with pytest.raises(_Bug):
        if where == "loop in with":
            with client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
                for _chunk in stream:
                    raise _Bug("the application's own bug, inside the loop")
        elif where == "with":
            with client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
                next(stream)
                raise _Bug("the application's own bug, after the loop")
        else:
            with client.chat.completions.stream(model=MODEL, messages=USER) as helper:
                for _event in helper:
                    raise _Bug("inside the SDK's stream helper")
    _failed_with(only_call_span(exporter), "_Bug")
    assert ended_twice() == []


@pytest.mark.parametrize("where", ["loop in async with", "async with"])
def test_an_exception_in_the_async_with_block_fails_the_stream(
    exporter: InMemorySpanExporter, standin: StandInServer, where: str
) -> None:
    async def body(client: openai.AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        with pytest.raises(_Bug):
            async with stream:
                if where == "loop in async with":
                    async for _chunk in stream:
                        raise _Bug("inside the loop")
                await stream.__anext__()
                raise _Bug("inside the block")

    _run_async(standin, body)
    _failed_with(only_call_span(exporter), "_Bug")


class _ClosingFails(Exception):
    pass


def test_a_close_that_raises_fails_the_stream(
    exporter: InMemorySpanExporter, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    next(stream)

    def close() -> None:
        raise _ClosingFails("the HTTP connection could not be released")

    monkeypatch.setattr(stream.response, "close", close)  # what the SDK's Stream.close() calls
    with pytest.raises(_ClosingFails):
        stream.close()
    _failed_with(only_call_span(exporter), "_ClosingFails")


def test_an_async_close_that_raises_fails_the_stream(
    exporter: InMemorySpanExporter, standin: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def body(client: openai.AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        await stream.__anext__()

        async def aclose() -> None:
            raise _ClosingFails("the HTTP connection could not be released")

        monkeypatch.setattr(stream.response, "aclose", aclose)
        with pytest.raises(_ClosingFails):
            await stream.close()

    _run_async(standin, body)
    _failed_with(only_call_span(exporter), "_ClosingFails")


# -- raw responses dropped once parsed ------------------------------------------------------------


def test_a_raw_stream_dropped_after_parse_keeps_its_span_open_until_the_stream_ends(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    # LiteLLM's way with every stream: ``with_raw_response``, ``parse()``, then only the stream is kept.
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, stream=True,
                                                           stream_options=USAGE)
    stream = raw.parse()
    del raw
    gc.collect()
    assert call_spans(exporter) == []  # the stream is still being read
    chunks = list(stream)
    span = only_call_span(exporter)
    attributes = span.attributes or {}
    usage = chunks[-1].usage
    assert usage is not None
    assert attributes[GEN_AI_RESPONSE_MODEL] == chunks[0].model
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert _completed(span) is True and span.status.status_code is StatusCode.UNSET
    assert ended_twice() == []


def test_a_raw_async_stream_dropped_after_parse_keeps_its_span_open(
    exporter: InMemorySpanExporter, standin: StandInServer
) -> None:
    async def body(client: openai.AsyncOpenAI) -> list[Any]:
        raw = await client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, stream=True,
                                                                     stream_options=USAGE)
        stream = raw.parse()  # ``with_raw_response`` gives a legacy response: parse() is synchronous
        del raw
        gc.collect()
        assert call_spans(exporter) == []
        return [chunk async for chunk in stream]

    chunks = _run_async(standin, body)
    attributes = only_call_span(exporter).attributes or {}
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
    assert attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_a_raw_stream_dropped_unparsed_still_ends(
    exporter: InMemorySpanExporter, client: openai.OpenAI, ended_twice: Callable[[], list[str]]
) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=USER, stream=True)
    del raw
    gc.collect()
    assert len(call_spans(exporter)) == 1
    assert ended_twice() == []


# DeepSeek's and other OpenAI-compatible APIs' streams: the usage arrives with the finish reason,
# in the last chunk, which has choices (OpenAI's own ``include_usage`` chunk has none).
_COMPATIBLE_CHUNK = {"id": "c7", "object": "chat.completion.chunk", "created": 1764720000,
                     "model": "deepseek-chat", "system_fingerprint": "fp_ds"}
_COMPATIBLE_STREAM = [
    {**_COMPATIBLE_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                       "logprobs": None, "finish_reason": None}], "usage": None},
    {**_COMPATIBLE_CHUNK, "choices": [{"index": 0, "delta": {"content": "Hello"}, "logprobs": None,
                                       "finish_reason": None}], "usage": None},
    {**_COMPATIBLE_CHUNK, "choices": [{"index": 0, "delta": {"content": ""}, "logprobs": None,
                                       "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13,
               "prompt_tokens_details": {"cached_tokens": 0}}},
]


def test_usage_sent_with_the_finish_reason_in_the_last_chunk_is_recorded(exporter: InMemorySpanExporter) -> None:
    def route(request: Request) -> Reply:
        return Reply(events=[*((None, chunk) for chunk in _COMPATIBLE_STREAM), (None, "[DONE]")])

    with StandInServer(routes={("POST", "/v1/chat/completions"): route}) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-compatible", max_retries=0)
        with agentops.start_session():
            chunks = list(client.chat.completions.create(model="deepseek-chat", messages=USER, stream=True))
    assert len(chunks) == 3
    span = only_call_span(exporter)
    assert span.attributes is not None
    assert span.attributes[GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert span.attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert span.attributes[GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
