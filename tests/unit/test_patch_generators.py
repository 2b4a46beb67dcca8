"""``session.patch()`` holds for generators and async generators, at every resumption.

In multi-session mode an LLM call made inside a patched generator belongs to the patched
session, wherever the generator is iterated; without the binding it raises MultiSessionException.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from typing import Any

import openai
import pytest
from agentops_otel_standin import StandInServer
from opentelemetry import context, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

import agentops_otel as agentops
from agentops_otel import MultiSessionException
from tests.support.clients import async_openai_client
from tests.support.spans import call_spans, spans_named

USER = [{"role": "user", "content": "Which session am I in?"}]
tracer = trace.get_tracer("test_patch_generators")


def chat_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in call_spans(exporter) if span.name.startswith("chat ")]


def in_session(span: ReadableSpan, session_id: str) -> bool:
    return span.attributes is not None and span.attributes.get(SESSION_ID) == session_id


def answers(client: openai.OpenAI, count: int) -> Generator[str, str, None]:
    for _ in range(count):
        # A span the generator keeps open across its yield: the call after the yield is its child.
        with tracer.start_as_current_span("step"):
            first = client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
            received = yield str(first.id)
            second = client.chat.completions.create(model="gpt-4.1-mini", messages=USER)  # type: ignore[arg-type]
            yield f"{received}:{second.id}"


def test_a_patched_generator_keeps_its_session_at_every_resumption(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    with pytest.raises(MultiSessionException):
        next(answers(client, 1))  # not bound: no session chosen

    generator = s1.patch(answers)(client, 2)
    outside = trace.get_current_span()
    results = [next(generator)]
    assert trace.get_current_span() is outside  # the generator's span did not leak into the caller
    results.append(generator.send("sent"))
    token = context.attach(s2.context())  # iterated where another session is current: still s1's
    results.extend(generator)
    context.detach(token)
    assert results[1].startswith("sent:") and len(results) == 4
    s1.end_session("Success")
    s2.end_session("Success")

    calls = chat_spans(exporter)
    assert len(calls) == 4
    steps = {span.context.span_id: span for span in spans_named(exporter, "step") if in_session(span, s1.session_id)}
    assert len(steps) == 2
    for call in calls:
        assert call.attributes is not None and call.attributes[SESSION_ID] == s1.session_id
        assert call.parent is not None and call.parent.span_id in steps  # the open span stayed current
    for step in steps.values():
        assert step.parent is not None and step.parent.span_id == s1.span.get_span_context().span_id
    assert s1.get_analytics().llm_calls == 4 and s2.get_analytics().llm_calls == 0


def test_closing_a_patched_generator_runs_its_cleanup_in_the_session(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()

    def with_cleanup() -> Generator[int, None, None]:
        try:
            yield 1
            yield 2
        finally:  # runs at close(): the call it makes still belongs to s2
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]

    generator = s2.patch(with_cleanup)()
    assert next(generator) == 1
    generator.close()
    s1.end_session("Success")
    s2.end_session("Success")
    (call,) = chat_spans(exporter)
    assert call.attributes is not None and call.attributes[SESSION_ID] == s2.session_id


def test_a_patched_async_generator_keeps_its_session(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()

    async def stream_answers(client: openai.AsyncOpenAI, count: int) -> AsyncGenerator[str, None]:
        for _ in range(count):
            with tracer.start_as_current_span("step"):
                response = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
                yield str(response.id)
                await asyncio.sleep(0)
                response = await client.chat.completions.create(model="gpt-4.1-mini", messages=USER)  # type: ignore[arg-type]
                yield str(response.id)

    async def main() -> list[Any]:
        async with async_openai_client(standin) as client:
            with pytest.raises(MultiSessionException):
                await stream_answers(client, 1).__anext__()
            received = [item async for item in s2.patch(stream_answers)(client, 2)]
            # Cancelled mid-way from outside, with its step span open: closed in its context.
            generator = s2.patch(stream_answers)(client, 1)
            received.append(await generator.__anext__())
            await generator.aclose()
            return received

    results = asyncio.run(main())
    assert len(results) == 5
    s1.end_session("Success")
    s2.end_session("Success")
    calls = chat_spans(exporter)
    assert len(calls) == 5
    steps = {span.context.span_id for span in spans_named(exporter, "step") if in_session(span, s2.session_id)}
    assert len(steps) == 3
    for call in calls:
        assert call.attributes is not None and call.attributes[SESSION_ID] == s2.session_id
        assert call.parent is not None and call.parent.span_id in steps
