"""Ending a session: end state as status and attributes, tags at the end, once only."""

from __future__ import annotations

import warnings

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import agentops_otel as agentops
from agentops_otel import EndState
from agentops_otel._internal import registry
from agentops_otel._internal.attribute_names import SESSION_END_STATE, SESSION_END_STATE_REASON, SESSION_TAGS
from tests.support.spans import spans_named


def only_root(exporter: InMemorySpanExporter) -> ReadableSpan:
    [root] = spans_named(exporter, "session")
    return root


@pytest.mark.parametrize(
    ("end_state", "reason", "status_code", "description"),
    [
        ("Success", None, StatusCode.OK, None),
        ("Fail", "tool timed out", StatusCode.ERROR, "tool timed out"),
        ("Fail", None, StatusCode.ERROR, None),
        ("Indeterminate", None, StatusCode.UNSET, None),
        ("Indeterminate", "stopped by user", StatusCode.UNSET, None),
        (EndState.SUCCESS, None, StatusCode.OK, None),
        (EndState.FAIL, "bad plan", StatusCode.ERROR, "bad plan"),
        (EndState.INDETERMINATE, None, StatusCode.UNSET, None),
    ],
)
def test_end_state_becomes_status_and_attributes(
    exporter: InMemorySpanExporter,
    end_state: str | EndState,
    reason: str | None,
    status_code: StatusCode,
    description: str | None,
) -> None:
    session = agentops.start_session(tags=["end", "states"])
    session.end_session(end_state, end_state_reason=reason)

    root = only_root(exporter)
    assert root.status.status_code is status_code
    assert root.status.description == description
    attributes = root.attributes or {}
    assert attributes[SESSION_END_STATE] == str(EndState(end_state).value)
    assert attributes.get(SESSION_END_STATE_REASON) == reason
    assert list(attributes[SESSION_TAGS]) == ["end", "states"]  # type: ignore[arg-type]
    assert session.end_state is EndState(end_state)


def test_end_state_enum_is_str_valued() -> None:
    assert [state.value for state in EndState] == ["Success", "Fail", "Indeterminate"]
    assert EndState.FAIL == "Fail"  # type: ignore[comparison-overlap]  # it is: a str enum
    assert isinstance(EndState.SUCCESS, str)


def test_default_end_state_is_indeterminate(exporter: InMemorySpanExporter) -> None:
    agentops.start_session().end_session()
    root = only_root(exporter)
    assert root.status.status_code is StatusCode.UNSET
    assert (root.attributes or {})[SESSION_END_STATE] == "Indeterminate"


@pytest.mark.parametrize("bad", ["Done", "success", "", "FAIL "])
def test_unknown_end_state_raises_and_session_stays_open(exporter: InMemorySpanExporter, bad: str) -> None:
    session = agentops.start_session()
    with pytest.raises(ValueError) as raised:
        session.end_session(bad)
    message = str(raised.value)
    for allowed in ("Success", "Fail", "Indeterminate"):
        assert allowed in message
    assert repr(bad) in message

    assert not session.is_ended
    assert session in registry.active_sessions()
    assert spans_named(exporter, "session") == []
    session.add_tags(["still-open"])  # the session still takes changes
    session.end_session("Success")
    assert (only_root(exporter).attributes or {})[SESSION_END_STATE] == "Success"


def test_unknown_end_state_through_module_function_keeps_session_open(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(ValueError, match="Success"):
        agentops.end_session("Finished")
    assert registry.active_sessions() == [session]
    agentops.end_session("Fail", end_state_reason="x")
    assert only_root(exporter).status.status_code is StatusCode.ERROR


@pytest.mark.parametrize("bad", [None, 1, True, ["Success"]])
def test_end_state_of_wrong_type_raises_type_error(exporter: InMemorySpanExporter, bad: object) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError, match="end_state"):
        session.end_session(bad)  # type: ignore[arg-type]
    assert not session.is_ended
    session.end_session()


def test_ending_twice_warns_and_exports_one_span(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.end_session("Success")
    with pytest.warns(RuntimeWarning, match="already ended"):
        session.end_session("Fail", end_state_reason="second time")

    root = only_root(exporter)
    assert root.status.status_code is StatusCode.OK
    assert (root.attributes or {})[SESSION_END_STATE] == "Success"
    assert SESSION_END_STATE_REASON not in (root.attributes or {})
    assert session.end_state is EndState.SUCCESS


def test_first_end_does_not_warn(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.end_session("Success")
    assert len(spans_named(exporter, "session")) == 1


def test_changes_after_end_raise(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.end_session()
    with pytest.raises(agentops.SessionEndedException, match=session.session_id):
        session.add_tags(["late"])
    with pytest.raises(agentops.SessionEndedException):
        session.record(agentops.ActionEvent(action_type="late"))
    assert [span.name for span in exporter.get_finished_spans()] == ["session"]


def test_tags_keep_order_without_duplicates(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session(tags=["b", "a", "b"])
    assert session.tags == ["b", "a"]
    session.add_tags(["c", "a", "d", "c"])
    session.add_tags("e")
    assert session.tags == ["b", "a", "c", "d", "e"]
    session.end_session()
    assert list((only_root(exporter).attributes or {})[SESSION_TAGS]) == ["b", "a", "c", "d", "e"]  # type: ignore[arg-type]


def test_set_tags_replaces(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session(tags=["old"])
    session.set_tags(["z", "y", "z"])
    session.end_session()
    assert list((only_root(exporter).attributes or {})[SESSION_TAGS]) == ["z", "y"]  # type: ignore[arg-type]


def test_session_without_tags_ends_with_empty_tag_list(exporter: InMemorySpanExporter) -> None:
    agentops.start_session().end_session()
    assert list((only_root(exporter).attributes or {})[SESSION_TAGS]) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[1], [""], b"bytes", None, [None]])
def test_bad_tags_raise_and_change_nothing(exporter: InMemorySpanExporter, bad: object) -> None:
    session = agentops.start_session(tags=["kept"])
    with pytest.raises((TypeError, ValueError)):
        session.add_tags(bad)  # type: ignore[arg-type]
    session.end_session()
    assert list((only_root(exporter).attributes or {})[SESSION_TAGS]) == ["kept"]  # type: ignore[arg-type]
