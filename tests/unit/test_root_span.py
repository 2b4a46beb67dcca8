"""The session root span is reserved at start and made at the end: the trace must not show it."""

from __future__ import annotations

import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

import agentops_otel as agentops
from agentops_otel._internal.attribute_names import SESSION_TAGS
from agentops_otel._internal.events import ActionEvent
from agentops_otel._internal.session import Session
from tests.support.spans import attributes, spans_named
from tests.support.subprocesses import run_python

user_tracer = trace.get_tracer("user-app")


def test_root_keeps_its_start_time_ids_and_late_tags(exporter: InMemorySpanExporter) -> None:
    before = time.time_ns()
    session = agentops.start_session(tags=["early"])
    reserved = session.span.get_span_context()
    time.sleep(0.01)
    with session:
        with user_tracer.start_as_current_span("step"):
            pass
        session.record(ActionEvent(action_type="plan"))
        session.add_tags(["late"])
    after = time.time_ns()

    root = spans_named(exporter, "session")[0]
    step = spans_named(exporter, "step")[0]
    assert (root.context.trace_id, root.context.span_id) == (reserved.trace_id, reserved.span_id)
    assert root.context.trace_flags.sampled
    assert step.parent is not None and step.parent.span_id == root.context.span_id
    assert root.start_time is not None and root.end_time is not None and step.start_time is not None
    assert before <= root.start_time < step.start_time <= root.end_time <= after
    assert attributes(root)[SESSION_TAGS] == ("early", "late")


def test_sessions_have_distinct_reserved_ids(exporter: InMemorySpanExporter) -> None:
    sessions = [agentops.start_session() for _ in range(50)]
    for session in sessions:
        session.end_session("Success")
    roots = spans_named(exporter, "session")
    assert len({root.context.span_id for root in roots}) == 50
    assert len({root.context.trace_id for root in roots}) == 50


def test_a_tracer_that_is_not_the_sdks_still_gives_working_sessions() -> None:
    session = Session(NoOpTracerProvider().get_tracer("x"), ["t"])
    session.add_tags(["u"])
    session.end_session("Success")
    assert session.end_state == "Success" and session.tags == ["t", "u"]


@pytest.mark.slow
def test_a_sampler_that_drops_sessions_drops_their_children_too() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        import agentops_otel as agentops
        agentops.init(auto_start_session=False)
        session = agentops.start_session()
        with session:
            with trace.get_tracer("app").start_as_current_span("step"):
                pass
        print("sampled:", session.span.get_span_context().trace_flags.sampled)
        """,
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_TRACES_SAMPLER": "always_off",
         "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_openai,agentops_anthropic"},
    )
    assert result.returncode == 0, result.stderr
    assert "sampled: False" in result.stdout
    assert '"name"' not in result.stdout  # the console exporter printed no span at all
