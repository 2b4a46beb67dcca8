"""``start_agent_run``: the session an agent framework's run goes into, as the exported spans show.

The OpenAI Agents SDK's runs are checked end to end in tests/instrumentation/openai_agents/; these
are the rules themselves, for any framework, with a span made in the run standing for its work.
"""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel
from agentops_otel.instrumentation import start_agent_run
from tests.support.spans import attributes, spans_named

SESSION_ID = "session.id"


def work() -> None:
    trace.get_tracer("framework").start_span("work").end()


def test_a_run_with_no_session_is_a_session_that_ends_with_it(exporter: InMemorySpanExporter) -> None:
    with start_agent_run() as run:
        work()

    assert run.owns_session and run.session is not None and run.session.is_ended
    (root,) = spans_named(exporter, "session")
    (span,) = spans_named(exporter, "work")
    assert attributes(span)[SESSION_ID] == attributes(root)[SESSION_ID] == run.session.session_id
    assert attributes(root)["agentops.session.end_state"] == "Success"


def test_a_run_that_raises_fails_its_session_and_a_cancelled_one_is_indeterminate(
    exporter: InMemorySpanExporter,
) -> None:
    with pytest.raises(KeyError), start_agent_run():
        raise KeyError("order")
    cancelled = start_agent_run()
    cancelled.finish(asyncio.CancelledError())
    cancelled.finish(None)  # only the first ending counts

    failed, interrupted = sorted(spans_named(exporter, "session"), key=lambda span: span.start_time or 0)
    assert attributes(failed)["agentops.session.end_state"] == "Fail"
    assert failed.status.description == "KeyError: 'order'"
    assert attributes(interrupted)["agentops.session.end_state"] == "Indeterminate"
    assert attributes(interrupted)["agentops.session.end_state_reason"] == "CancelledError"


def test_a_run_in_another_processs_session_joins_it_and_starts_none(exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session() as remote:
        headers: dict[str, str] = {}
        agentops_otel.inject(headers)
    exporter.clear()

    with agentops_otel.attach_session(headers), start_agent_run() as run:
        work()

    assert run.session is None and not run.owns_session
    assert not spans_named(exporter, "session")
    (span,) = spans_named(exporter, "work")
    assert attributes(span)[SESSION_ID] == remote.session_id


def test_two_sessions_and_none_current_raise_naming_the_ways_out() -> None:
    first, second = agentops_otel.start_session(), agentops_otel.start_session()

    with pytest.raises(agentops_otel.MultiSessionException, match=r"`with session:`.*session_per_agent_run=True"):
        start_agent_run()

    with second:
        assert start_agent_run().session is second
    first.end_session("Success")


def test_a_session_started_for_a_run_is_not_the_only_session_for_the_next(exporter: InMemorySpanExporter) -> None:
    first = start_agent_run()  # in flight, its session active but not current here
    second = start_agent_run()

    assert first.owns_session and second.owns_session and first.session is not second.session
    first.finish()
    second.finish()
    assert len(spans_named(exporter, "session")) == 2


def test_init_rejects_a_session_per_agent_run_that_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="session_per_agent_run must be True or False"):
        agentops_otel.init(session_per_agent_run="yes")  # type: ignore[arg-type]
