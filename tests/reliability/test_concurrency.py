"""Sessions started, tagged and ended concurrently from many threads or asyncio tasks."""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
from collections import Counter

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.trace import StatusCode

import agentops_otel as agentops
from agentops_otel._internal import registry
from agentops_otel._internal.attribute_names import SESSION_ACTIONS, SESSION_END_STATE, SESSION_TAGS
from tests.support.threads import run_in_threads

user_tracer = trace.get_tracer("user-app")


def expected_state(worker: int, round_: int) -> str:
    return ("Success", "Fail", "Indeterminate")[(worker + round_) % 3]


def check_exported(
    exporter: InMemorySpanExporter, expected_tags: dict[str, list[str]], expected_states: dict[str, str]
) -> None:
    spans = exporter.get_finished_spans()
    roots = [span for span in spans if span.name == "session"]
    ids = Counter(str((root.attributes or {})[SESSION_ID]) for root in roots)
    assert set(ids) == set(expected_tags), "a session was lost or a stranger exported"
    assert max(ids.values()) == 1, f"exported twice: {[sid for sid, n in ids.items() if n > 1][:5]}"
    for root in roots:
        attributes = root.attributes or {}
        session_id = str(attributes[SESSION_ID])
        assert list(attributes[SESSION_TAGS]) == expected_tags[session_id]  # type: ignore[arg-type]
        assert attributes[SESSION_END_STATE] == expected_states[session_id]
        assert (root.status.status_code is StatusCode.ERROR) == (expected_states[session_id] == "Fail")
    # Every user span went to its own session's trace.
    root_by_id = {str((root.attributes or {})[SESSION_ID]): root for root in roots}
    work = [span for span in spans if span.name == "work"]
    assert len(work) == len(roots)
    for span in work:
        root = root_by_id[str((span.attributes or {})[SESSION_ID])]
        assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert registry.active_sessions() == []


@pytest.mark.parametrize(("threads", "rounds"), [(200, 5)])
def test_many_threads(exporter: InMemorySpanExporter, threads: int, rounds: int) -> None:
    expected_tags: dict[str, list[str]] = {}
    expected_states: dict[str, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        barrier.wait()
        for r in range(rounds):
            session = agentops.start_session(tags=[f"worker-{n}", f"round-{r}"])
            session.add_tags([f"worker-{n}", "added"])
            state = expected_state(n, r)
            with session:
                with user_tracer.start_as_current_span("work"):
                    pass
                session.end_session(state, end_state_reason="because" if state == "Fail" else None)
            with lock:
                expected_tags[session.session_id] = [f"worker-{n}", f"round-{r}", "added"]
                expected_states[session.session_id] = state

    run_in_threads(*(functools.partial(worker, n) for n in range(threads)))
    assert len(expected_tags) == threads * rounds
    check_exported(exporter, expected_tags, expected_states)


@pytest.mark.parametrize(("tasks", "rounds"), [(200, 5)])
def test_many_asyncio_tasks(exporter: InMemorySpanExporter, tasks: int, rounds: int) -> None:
    expected_tags: dict[str, list[str]] = {}
    expected_states: dict[str, str] = {}

    async def worker(n: int) -> None:
        for r in range(rounds):
            state = expected_state(n, r)
            session = agentops.start_session(tags=[f"task-{n}"])
            async with session:
                await asyncio.sleep(0)  # let the other tasks interleave inside the session
                session.add_tags([f"round-{r}"])
                with user_tracer.start_as_current_span("work"):
                    await asyncio.sleep(0)
                if state != "Success":
                    session.end_session(state)
            expected_tags[session.session_id] = [f"task-{n}", f"round-{r}"]
            expected_states[session.session_id] = state

    async def main() -> None:
        await asyncio.gather(*(worker(n) for n in range(tasks)))

    asyncio.run(main())
    assert len(expected_tags) == tasks * rounds
    check_exported(exporter, expected_tags, expected_states)


def test_module_functions_race_with_session_starts(exporter: InMemorySpanExporter) -> None:
    """While sessions come and go, module functions raise one of the two exceptions or act on one."""
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []

    def churn() -> None:
        while not stop.is_set():
            agentops.start_session(tags=["churn"]).end_session()

    def probe() -> None:
        for _ in range(2000):
            try:
                agentops.add_tags(["probe"])
                outcomes["acted"] += 1
            except agentops.NoSessionException:
                outcomes["none"] += 1
            except agentops.MultiSessionException:
                outcomes["multi"] += 1
            except agentops.SessionEndedException:
                outcomes["ended-meanwhile"] += 1
            except BaseException as error:
                errors.append(error)

    churners = [threading.Thread(target=churn) for _ in range(3)]
    for thread in churners:
        thread.start()
    try:
        probe()
    finally:
        stop.set()
        for thread in churners:
            thread.join()
    assert not errors, errors[:3]
    assert sum(outcomes.values()) == 2000
    assert registry.active_sessions() == []
    roots = [span for span in exporter.get_finished_spans() if span.name == "session"]
    assert len({(root.attributes or {})[SESSION_ID] for root in roots}) == len(roots)


def test_one_session_shared_by_many_threads(exporter: InMemorySpanExporter) -> None:
    """Tags, events and ends from many threads at once on one session: nothing lost, one root."""
    threads, per_thread = 50, 20
    session = agentops.start_session(tags=["shared"])
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            session.add_tags([f"t{n}", "common"])
            session.record(agentops.ActionEvent(action_type=f"step-{n}-{i}"))

    run_in_threads(*(functools.partial(worker, n) for n in range(threads)))

    enders = [threading.Thread(target=session.end_session, args=("Success",)) for _ in range(10)]
    with pytest.warns(RuntimeWarning, match="already ended"):
        for thread in enders:
            thread.start()
        for thread in enders:
            thread.join()

    spans = exporter.get_finished_spans()
    [root] = [span for span in spans if span.name == "session"]
    tags = list((root.attributes or {})[SESSION_TAGS])  # type: ignore[arg-type]
    assert tags[0] == "shared"  # first added, first kept
    assert len(tags) == len(set(tags)) == threads + 2
    assert set(tags) == {"shared", "common", *(f"t{n}" for n in range(threads))}
    actions = [span for span in spans if span.name.startswith("action step-")]
    assert len(actions) == threads * per_thread
    assert len({span.name for span in actions}) == threads * per_thread
    assert all(span.parent is not None and span.parent.span_id == root.context.span_id for span in actions)
    assert (root.attributes or {})[SESSION_ACTIONS] == threads * per_thread


@pytest.mark.soak
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS from /proc")
def test_soak_a_million_session_operations(exporter: InMemorySpanExporter) -> None:
    """250,000 sessions x 4 operations from 8 threads, checked round by round; memory stays flat."""
    rounds, threads, per_thread = 50, 8, 625
    rss_after_round: list[int] = []

    def worker(n: int, round_: int, seen: dict[str, str], lock: threading.Lock) -> None:
        for i in range(per_thread):
            tag = f"r{round_}-w{n}-{i}"
            session = agentops.start_session(tags=[tag])
            session.add_tags(["soak"])
            session.record(agentops.ActionEvent(action_type="step"))
            session.end_session("Success")
            with lock:
                seen[session.session_id] = tag

    for round_ in range(rounds):
        seen: dict[str, str] = {}
        lock = threading.Lock()
        pool = [threading.Thread(target=worker, args=(n, round_, seen, lock)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        roots = [span for span in exporter.get_finished_spans() if span.name == "session"]
        ids = Counter(str((root.attributes or {})[SESSION_ID]) for root in roots)
        assert len(ids) == len(seen) == threads * per_thread and max(ids.values()) == 1
        for root in roots:
            attributes = root.attributes or {}
            assert list(attributes[SESSION_TAGS]) == [seen[str(attributes[SESSION_ID])], "soak"]  # type: ignore[arg-type]
        assert registry.active_sessions() == []
        exporter.clear()
        rss_after_round.append(_rss_kib())
    # After warming up, 200,000 more sessions must not grow the process noticeably.
    assert rss_after_round[-1] - rss_after_round[9] < 50 * 1024, rss_after_round


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
