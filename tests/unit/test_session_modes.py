"""Single- and multi-session mode: the module-level functions and their exceptions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.trace import StatusCode

import agentops_otel as agentops
from agentops_otel import MultiSessionException, NoSessionException
from agentops_otel._internal.attribute_names import SESSION_END_STATE, SESSION_TAGS
from tests.support.spans import attributes, spans_named

NO_SESSION_MESSAGE = "A session action was attempted while no session existed on the client."
MULTI_SESSION_MESSAGE = (
    "If multiple sessions exist, you must use session.function(). "
    "Example: session.add_tags(...) instead of agentops.add_tags(...)."
)

MODULE_CALLS: dict[str, Callable[[], object]] = {
    "end_session": lambda: agentops.end_session("Success"),
    "add_tags": lambda: agentops.add_tags(["x"]),
    "set_tags": lambda: agentops.set_tags(["x"]),
    "record": lambda: agentops.record(agentops.ActionEvent(action_type="x")),
}


@pytest.mark.parametrize("call", MODULE_CALLS.values(), ids=MODULE_CALLS.keys())
def test_no_session_raises_with_exact_message(exporter: InMemorySpanExporter, call: Callable[[], None]) -> None:
    with pytest.raises(NoSessionException) as raised:
        call()
    assert str(raised.value) == NO_SESSION_MESSAGE
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize("call", MODULE_CALLS.values(), ids=MODULE_CALLS.keys())
def test_two_sessions_raise_with_exact_message(exporter: InMemorySpanExporter, call: Callable[[], None]) -> None:
    first = agentops.start_session(tags=["first"])
    second = agentops.start_session(tags=["second"])
    with pytest.raises(MultiSessionException) as raised:
        call()
    assert str(raised.value) == MULTI_SESSION_MESSAGE
    assert not first.is_ended and not second.is_ended
    assert first.tags == ["first"] and second.tags == ["second"]
    assert exporter.get_finished_spans() == ()


def test_exceptions_are_importable_from_the_package() -> None:
    from agentops_otel import MultiSessionException as Multi
    from agentops_otel import NoSessionException as NoSession

    assert Multi is MultiSessionException and NoSession is NoSessionException
    assert issubclass(Multi, Exception) and issubclass(NoSession, Exception)


def test_mode_follows_the_number_of_active_sessions(exporter: InMemorySpanExporter) -> None:
    first = agentops.start_session(tags=["first"])
    agentops.add_tags(["single"])  # one session: module functions act on it
    second = agentops.start_session(tags=["second"])
    with pytest.raises(MultiSessionException):
        agentops.add_tags(["multi"])
    first.add_tags(["via-method"])
    first.end_session("Fail", end_state_reason="tool timed out")

    agentops.add_tags(["single-again"])  # back to one: acts on the second
    agentops.record(agentops.ToolEvent(name="search"))
    agentops.end_session("Success")
    with pytest.raises(NoSessionException):
        agentops.end_session()

    roots = {(root.attributes or {})[SESSION_ID]: root for root in spans_named(exporter, "session")}
    first_root, second_root = roots[first.session_id], roots[second.session_id]
    assert list(attributes(first_root)[SESSION_TAGS]) == ["first", "single", "via-method"]
    assert first_root.status.status_code is StatusCode.ERROR
    assert list(attributes(second_root)[SESSION_TAGS]) == ["second", "single-again"]
    assert attributes(second_root)[SESSION_END_STATE] == "Success"
    [tool] = spans_named(exporter, "execute_tool search")
    assert tool.parent is not None and tool.parent.span_id == second_root.context.span_id


def test_set_tags_and_end_session_act_on_the_only_session(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session(tags=["a"])
    agentops.set_tags(["b", "c"])
    agentops.end_session("Fail", end_state_reason="nope")
    assert session.is_ended
    [root] = spans_named(exporter, "session")
    assert list(attributes(root)[SESSION_TAGS]) == ["b", "c"]
    assert root.status.description == "nope"


def test_get_active_sessions_lists_open_sessions_oldest_first() -> None:
    first = agentops.start_session()
    second = agentops.start_session()
    assert agentops.get_active_sessions() == [first, second]
    first.end_session()
    assert agentops.get_active_sessions() == [second]
    second.end_session()
    assert agentops.get_active_sessions() == []
