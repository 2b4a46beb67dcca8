"""Which session an OpenAI call belongs to: the resolution rules 1-5 of the LLM-calls issue.

1. a session bound by ``session.patch(fn)``; 2. the session whose context is current (``with
session:``, threads and tasks started there); 3. the only active session; 4. with two or more
sessions active and none chosen, ``MultiSessionException`` before the request is sent; 5. with
none active, a span of its own (or under the current span), never an exception.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import Any

import openai
import pytest
from agentops_otel_standin import StandInServer
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

import agentops_otel as agentops
from agentops_otel import MultiSessionException
from agentops_otel._internal.session import Session
from tests.support.clients import async_openai_client
from tests.support.spans import call_spans
from tests.support.threads import run_in_threads

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Which session am I in?"}]


def ask(client: openai.OpenAI, model: str = "gpt-4o-mini") -> Any:
    return client.chat.completions.create(model=model, messages=USER)


def end_all(*sessions: Session) -> None:
    for session in sessions:
        session.end_session("Success")


def assert_under(span: ReadableSpan, session: Session) -> None:
    """The span is a child of the session's root span and carries its id."""
    root = session.span.get_span_context()
    assert span.parent is not None, span.name
    assert (span.parent.trace_id, span.parent.span_id) == (root.trace_id, root.span_id), span.name
    assert span.attributes is not None and span.attributes[SESSION_ID] == session.session_id


# -- rule 1: session.patch ------------------------------------------------------------------------


def test_patch_binds_a_sync_call_in_multi_session_mode(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    s2.patch(client.chat.completions.create)(model="gpt-4o-mini", messages=USER)
    s1.patch(ask)(client, "gpt-4.1-mini")
    end_all(s1, s2)
    first, second = call_spans(exporter)
    assert_under(first, s2)
    assert_under(second, s1)


def test_patch_wins_over_the_current_session(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    with s1:
        s2.patch(ask)(client)
    end_all(s2)
    (span,) = call_spans(exporter)
    assert_under(span, s2)


def test_patch_binds_async_calls(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()

    async def main() -> None:
        async with async_openai_client(standin) as client:
            await s1.patch(client.chat.completions.create)(model="gpt-4o-mini", messages=USER)

            async def answer() -> Any:
                return await client.responses.create(model="gpt-4.1-mini", input="Hi")

            await s2.patch(answer)()

    asyncio.run(main())
    end_all(s1, s2)
    chat, responses = call_spans(exporter)
    assert_under(chat, s1)
    assert_under(responses, s2)


def test_patch_binds_a_stream_read_outside_it(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    stream = s2.patch(client.chat.completions.create)(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)  # read with no session chosen: the span still belongs to s2
    end_all(s1, s2)
    (span,) = call_spans(exporter)
    assert_under(span, s2)
    usage = chunks[-1].usage
    assert usage is not None and s2.get_analytics().output_tokens == usage.completion_tokens
    assert s1.get_analytics().llm_calls == 0


def test_patch_binds_an_async_stream(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()

    async def main() -> None:
        async with async_openai_client(standin) as client:
            stream = await s1.patch(client.chat.completions.create)(
                model="gpt-4o-mini", messages=USER, stream=True)
            async for _chunk in stream:
                pass

    asyncio.run(main())
    end_all(s1, s2)
    (span,) = call_spans(exporter)
    assert_under(span, s1)


# -- rule 2: the current session ------------------------------------------------------------------


def test_with_blocks_choose_the_session(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    with s1:
        ask(client, "model-a")
        with s2:
            ask(client, "model-b")
        ask(client, "model-c")
    assert s1.is_ended and s2.is_ended  # a with block ends its session
    a, b, c = call_spans(exporter)
    assert_under(a, s1)
    assert_under(b, s2)
    assert_under(c, s1)


def test_two_sessions_in_two_asyncio_tasks(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()

    async def work(client: openai.AsyncOpenAI, session: Session, tag: str) -> None:
        with session:
            for round_ in range(2):
                await client.chat.completions.create(model=f"task-{tag}-{round_}", messages=USER)
                stream = await client.chat.completions.create(
                    model=f"task-{tag}-stream-{round_}", messages=USER, stream=True)
                async for _chunk in stream:
                    await asyncio.sleep(0)  # interleave the two tasks chunk by chunk
            # A task started here copies the context, session included.
            await asyncio.create_task(client.embeddings.create(model=f"task-{tag}-subtask", input="hi"))

    async def main() -> None:
        async with async_openai_client(standin) as client:
            await asyncio.gather(work(client, s1, "one"), work(client, s2, "two"))

    asyncio.run(main())
    spans = call_spans(exporter)
    assert len(spans) == 10
    for span in spans:
        assert_under(span, s1 if "task-one" in span.name else s2)
    assert s1.get_analytics().llm_calls == s2.get_analytics().llm_calls == 5


def test_two_sessions_in_two_threads(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    barrier = threading.Barrier(2)

    def work(session: Session, tag: str) -> None:
        with session:
            barrier.wait(timeout=10)
            for round_ in range(3):
                ask(client, f"thread-{tag}-{round_}")
                list(client.chat.completions.create(
                    model=f"thread-{tag}-stream-{round_}", messages=USER, stream=True))

    run_in_threads(functools.partial(work, s1, "one"), functools.partial(work, s2, "two"))
    spans = call_spans(exporter)
    assert len(spans) == 12
    for span in spans:
        assert_under(span, s1 if "thread-one" in span.name else s2)


def test_threads_started_with_the_current_context_inherit_its_session(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    with s2:
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(ask, client, "copied-context"))
        thread.start()
        thread.join(timeout=30)

    async def in_a_worker_thread() -> None:
        with s1:
            await asyncio.to_thread(ask, client, "to-thread")  # asyncio.to_thread copies the context

    asyncio.run(in_a_worker_thread())
    spans = {span.name: span for span in call_spans(exporter)}
    assert_under(spans["chat copied-context"], s2)
    assert_under(spans["chat to-thread"], s1)


# -- rule 3: the only active session --------------------------------------------------------------


def test_the_only_active_session_gets_the_call_from_anywhere(
    exporter: InMemorySpanExporter, client: openai.OpenAI
) -> None:
    session = agentops.start_session()
    ask(client, "main-thread")
    thread = threading.Thread(target=ask, args=(client, "bare-thread"))  # no context at all
    thread.start()
    thread.join(timeout=30)
    agentops.end_session("Success")
    spans = call_spans(exporter)
    assert {span.name for span in spans} == {"chat main-thread", "chat bare-thread"}
    for span in spans:
        assert_under(span, session)


# -- rule 4: several sessions, none chosen --------------------------------------------------------


def test_multi_session_call_raises_before_the_request_is_sent(
    exporter: InMemorySpanExporter, standin: StandInServer, client: openai.OpenAI
) -> None:
    s1, s2 = agentops.start_session(), agentops.start_session()
    before = len(standin.requests)
    attempts: list[Callable[[], object]] = [
        lambda: ask(client),
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True),
        lambda: client.responses.create(model="gpt-4o-mini", input="Hi"),
        lambda: client.embeddings.create(model="text-embedding-3-small", input="Hi"),
        lambda: client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER),
    ]
    for attempt in attempts:
        with pytest.raises(MultiSessionException):
            attempt()

    async def async_attempt() -> None:
        async with async_openai_client(standin) as async_client:
            await async_client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    with pytest.raises(MultiSessionException):
        asyncio.run(async_attempt())

    assert len(standin.requests) == before  # nothing reached the API
    assert call_spans(exporter) == []
    end_all(s1, s2)
    assert s1.get_analytics().llm_calls == s2.get_analytics().llm_calls == 0


def test_multi_session_exception_is_an_exception_users_can_catch(client: openai.OpenAI) -> None:
    agentops.start_session()
    agentops.start_session()
    with pytest.raises(Exception) as caught:
        ask(client)
    assert isinstance(caught.value, MultiSessionException)
    assert "session" in str(caught.value).lower()


# -- rule 5: no session ---------------------------------------------------------------------------


def test_no_session_the_call_is_traced_on_its_own(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    assert agentops.get_active_sessions() == []
    completion = ask(client)
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.parent is None
    assert span.attributes is not None and SESSION_ID not in span.attributes
    assert completion.choices[0].message.content


def test_no_session_the_call_nests_under_the_current_span(
    exporter: InMemorySpanExporter, client: openai.OpenAI, standin: StandInServer
) -> None:
    tracer = trace.get_tracer("the-application")
    with tracer.start_as_current_span("handle request") as outer:
        ask(client)
        list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))

        async def async_call() -> None:
            async with async_openai_client(standin) as async_client:
                await async_client.embeddings.create(model="text-embedding-3-small", input="hi")

        asyncio.run(async_call())
    spans = [span for span in exporter.get_finished_spans() if span.name != "handle request"]
    assert len(spans) == 3
    for span in spans:
        assert span.parent is not None and span.parent.span_id == outer.get_span_context().span_id
        assert span.attributes is not None and SESSION_ID not in span.attributes
