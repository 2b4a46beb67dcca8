"""A session is a root span, and every span started under it carries its id."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel._internal import registry
from agentops_otel._internal.attribute_names import SESSION_END_STATE, SESSION_END_STATE_REASON
from tests.support.spans import attributes, spans_named

user_tracer = trace.get_tracer("user-app")


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), f"span names repeat: {[span.name for span in spans]}"
    return named


def assert_child_of(span: ReadableSpan, root: ReadableSpan) -> None:
    assert span.parent is not None, f"{span.name} has no parent"
    assert span.parent.span_id == root.context.span_id, f"{span.name} is not a child of {root.name}"
    assert span.context.trace_id == root.context.trace_id


def test_root_span_shape(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.end_session("Success")

    [root] = spans_named(exporter, "session")
    assert root.parent is None
    assert root.kind is SpanKind.INTERNAL
    assert root.attributes is not None
    session_id = root.attributes[SESSION_ID]
    assert session_id == session.session_id
    assert isinstance(session_id, str)
    assert uuid.UUID(session_id).version == 4
    assert str(uuid.UUID(session_id)) == session_id


def test_session_started_under_a_user_span_is_its_own_trace(exporter: InMemorySpanExporter) -> None:
    with user_tracer.start_as_current_span("request") as request:
        first = agentops.start_session()
        second = agentops.start_session()
        first.end_session()
        second.end_session()

    roots = spans_named(exporter, "session")
    assert len(roots) == 2
    trace_ids = {root.context.trace_id for root in roots}
    assert len(trace_ids) == 2
    assert request.get_span_context().trace_id not in trace_ids
    assert all(root.parent is None for root in roots)
    assert {root.attributes[SESSION_ID] for root in roots if root.attributes} == {
        first.session_id,
        second.session_id,
    }


def test_session_started_inside_another_is_its_own_root(exporter: InMemorySpanExporter) -> None:
    with agentops.start_session() as outer:
        inner = agentops.start_session()
        with inner:
            _make_span("in-inner")
        _make_span("in-outer")

    roots = {(root.attributes or {})[SESSION_ID]: root for root in spans_named(exporter, "session")}
    assert roots[inner.session_id].parent is None
    assert roots[inner.session_id].context.trace_id != roots[outer.session_id].context.trace_id
    [in_inner] = spans_named(exporter, "in-inner")
    [in_outer] = spans_named(exporter, "in-outer")
    assert_child_of(in_inner, roots[inner.session_id])
    assert (in_inner.attributes or {})[SESSION_ID] == inner.session_id
    assert_child_of(in_outer, roots[outer.session_id])
    assert (in_outer.attributes or {})[SESSION_ID] == outer.session_id


def test_user_spans_inside_with_session_are_children_and_stamped(exporter: InMemorySpanExporter) -> None:
    with (
        agentops.start_session() as session,
        user_tracer.start_as_current_span("plan"),
        user_tracer.start_as_current_span("plan.step"),
    ):
        pass
    with user_tracer.start_as_current_span("after"):
        pass

    spans = by_name(exporter)
    root = spans["session"]
    assert_child_of(spans["plan"], root)
    assert_child_of(spans["plan.step"], spans["plan"])
    for name in ("plan", "plan.step"):
        assert (spans[name].attributes or {})[SESSION_ID] == session.session_id
    assert SESSION_ID not in (spans["after"].attributes or {})
    assert spans["after"].context.trace_id != root.context.trace_id


def _make_span(name: str) -> None:
    with user_tracer.start_as_current_span(name):
        pass


def test_threads_carrying_the_session_context_are_stamped(exporter: InMemorySpanExporter) -> None:
    with agentops.start_session() as session:
        # Threads do not inherit contextvars; the standard idiom hands the current context over.
        thread = threading.Thread(target=contextvars.copy_context().run, args=(_make_span, "in-thread"))
        thread.start()
        thread.join()
        # Or bind the thread's function to the session.
        bound = threading.Thread(target=session.patch(_make_span), args=("in-bound-thread",))
        bound.start()
        bound.join()
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(contextvars.copy_context().run, _make_span, f"in-pool-{i}") for i in range(4)]
            for future in futures:
                future.result()

    spans = by_name(exporter)
    root = spans["session"]
    for name in ["in-thread", "in-bound-thread"] + [f"in-pool-{i}" for i in range(4)]:
        assert_child_of(spans[name], root)
        assert (spans[name].attributes or {}).get(SESSION_ID) == session.session_id


def test_asyncio_tasks_started_in_a_session_are_stamped(exporter: InMemorySpanExporter) -> None:
    async def work(name: str) -> None:
        await asyncio.sleep(0)
        _make_span(name)

    async def main() -> str:
        async with agentops.start_session() as session:
            await asyncio.gather(*(asyncio.create_task(work(f"task-{i}")) for i in range(5)))
        return session.session_id

    session_id = asyncio.run(main())

    spans = by_name(exporter)
    for i in range(5):
        assert_child_of(spans[f"task-{i}"], spans["session"])
        assert (spans[f"task-{i}"].attributes or {}).get(SESSION_ID) == session_id


def test_concurrent_tasks_in_different_sessions_keep_their_own(exporter: InMemorySpanExporter) -> None:
    async def run(label: str) -> str:
        async with agentops.start_session(tags=[label]) as session:
            for step in range(3):
                await asyncio.sleep(0)  # interleave the tasks between spans
                _make_span(f"{label}-{step}")
        return session.session_id

    async def main() -> tuple[str, str]:
        return await asyncio.gather(run("a"), run("b"))

    id_a, id_b = asyncio.run(main())

    spans = exporter.get_finished_spans()
    roots = {(root.attributes or {})[SESSION_ID]: root for root in spans if root.name == "session"}
    for label, session_id in (("a", id_a), ("b", id_b)):
        for step in range(3):
            [span] = [span for span in spans if span.name == f"{label}-{step}"]
            assert (span.attributes or {}).get(SESSION_ID) == session_id
            assert_child_of(span, roots[session_id])


def test_session_patch_binds_calls_to_that_session(exporter: InMemorySpanExporter) -> None:
    first = agentops.start_session()
    second = agentops.start_session()
    second.patch(_make_span)("for-second")
    first.end_session()
    second.end_session()

    [span] = spans_named(exporter, "for-second")
    assert (span.attributes or {}).get(SESSION_ID) == second.session_id
    [root] = [
        root for root in spans_named(exporter, "session") if (root.attributes or {})[SESSION_ID] == second.session_id
    ]
    assert_child_of(span, root)


def test_with_block_ends_success(exporter: InMemorySpanExporter) -> None:
    with agentops.start_session() as session:
        assert registry.active_sessions() == [session]
    assert session.is_ended
    assert registry.active_sessions() == []

    [root] = spans_named(exporter, "session")
    assert root.status.status_code is StatusCode.OK
    assert (root.attributes or {})[SESSION_END_STATE] == "Success"


def test_with_block_ends_fail_when_it_raises(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(KeyError), agentops.start_session():
        raise KeyError("missing-tool")

    [root] = spans_named(exporter, "session")
    assert root.status.status_code is StatusCode.ERROR
    attributes = root.attributes or {}
    assert attributes[SESSION_END_STATE] == "Fail"
    reason = attributes[SESSION_END_STATE_REASON]
    assert isinstance(reason, str) and reason.startswith("KeyError")
    assert root.status.description == reason
    assert registry.active_sessions() == []


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


def test_with_block_ends_fail_even_when_the_exception_cannot_be_printed(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(_Unprintable), agentops.start_session():
        raise _Unprintable()

    [root] = spans_named(exporter, "session")
    assert root.status.status_code is StatusCode.ERROR
    assert str((root.attributes or {})[SESSION_END_STATE_REASON]).startswith("_Unprintable")
    assert registry.active_sessions() == []


def test_with_block_keeps_an_explicit_end(exporter: InMemorySpanExporter) -> None:
    with agentops.start_session() as session:
        session.end_session("Fail", end_state_reason="gave up")

    [root] = spans_named(exporter, "session")
    assert (root.attributes or {})[SESSION_END_STATE] == "Fail"
    assert root.status.description == "gave up"


def test_with_block_left_by_sys_exit_0_is_success(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(SystemExit), agentops.start_session():
        raise SystemExit(0)
    root = spans_named(exporter, "session")[0]
    assert attributes(root)[SESSION_END_STATE] == "Success"
    assert root.status.status_code is StatusCode.OK


def test_with_block_left_by_sys_exit_1_is_fail(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(SystemExit), agentops.start_session():
        raise SystemExit(1)
    assert attributes(spans_named(exporter, "session")[0])[SESSION_END_STATE] == "Fail"


def test_cancelled_async_with_block_is_indeterminate(exporter: InMemorySpanExporter) -> None:
    started = asyncio.Event()

    async def agent() -> None:
        async with agentops.start_session():
            started.set()
            await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.create_task(agent())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    root = spans_named(exporter, "session")[0]
    assert attributes(root)[SESSION_END_STATE] == "Indeterminate"
    assert attributes(root)[SESSION_END_STATE_REASON] == "CancelledError"
    assert root.status.status_code is StatusCode.UNSET
