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
from agentops_otel_standin import StandInServer
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionStreamOptionsParam
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.trace import StatusCode

import agentops_otel as agentops
from tests.support.clients import async_openai_client
from tests.support.spans import call_spans

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
    assert len(call_spans(exporter)) == 1
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
