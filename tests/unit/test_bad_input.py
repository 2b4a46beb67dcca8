"""Bad input to the public API: a clear error naming what was wrong and what is allowed, nothing lost.

Property-based (``hypothesis``): each test draws many wrong values of one kind, checks the error
(type and message), and checks that the session it was aimed at still works and still exports.
Values that are accepted by design (event params of any type, any size) are checked to export as
something an OTLP collector can decode.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel as agentops
from agentops_otel._internal import exporters
from agentops_otel._internal.export_guard import ExportGuard
from agentops_otel._internal.serialization import MAX_JSON_CHARS
from agentops_otel._internal.tags import MAX_TAG_LENGTH, MAX_TAGS
from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.spans import attributes

ALLOWED_END_STATES = ("Success", "Fail", "Indeterminate")
FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=60)

lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
# A str holding at least one lone surrogate: not encodable as UTF-8, so not exportable as is.
non_utf8_text = st.tuples(st.text(max_size=5), lone_surrogates, st.text(max_size=5)).map("".join)
not_a_string = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.binary(min_size=1), st.none(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.just(object()),
)


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    yield exporter


def _session_spans(exporter: InMemorySpanExporter, session: agentops.Session) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans()
            if s.attributes and s.attributes.get("session.id") == session.session_id]


def _root(exporter: InMemorySpanExporter, session: agentops.Session) -> ReadableSpan:
    (root,) = [s for s in _session_spans(exporter, session) if s.name == "session"]
    return root


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[ExportGuard, OTLPReceiver]]:
    """A real OTLP receiver, and the guarded exporter agentops-otel would install for it."""
    with OTLPReceiver("http/protobuf") as receiver:
        guard = ExportGuard(OTLPSpanExporter(endpoint=receiver.traces_endpoint, timeout=5))
        yield guard, receiver
        guard.shutdown()


def _exported(spans: list[ReadableSpan], collector: tuple[ExportGuard, OTLPReceiver]) -> list[ReceivedSpan]:
    """What the collector receives when agentops-otel's exporter sends ``spans``."""
    guard, receiver = collector
    receiver.clear()
    assert guard.export(spans) == SpanExportResult.SUCCESS
    return receiver.wait_for_spans(len(spans))


# -- end states ----------------------------------------------------------------------------------


@FIXTURE_OK
@given(value=st.text(max_size=40).filter(lambda v: v not in ALLOWED_END_STATES))
def test_unknown_end_state_is_refused_and_the_session_stays_open(value: str, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(ValueError) as raised:
        session.end_session(value)
    message = str(raised.value)
    assert repr(value) in message and "'Success', 'Fail', 'Indeterminate'" in message
    assert not session.is_ended and session in agentops.get_active_sessions()
    session.end_session("Fail", "refused end state")
    assert attributes(_root(spans, session))["agentops.session.end_state"] == "Fail"


@FIXTURE_OK
@given(value=st.sampled_from(ALLOWED_END_STATES).flatmap(
    lambda state: st.sampled_from([state.lower(), state.upper(), f" {state} ", state.swapcase()])
))
def test_mistyped_end_state_suggests_the_right_one(value: str, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(ValueError, match=r"did you mean '(Success|Fail|Indeterminate)'\?") as raised:
        session.end_session(value)
    assert value.strip().lower() in str(raised.value).lower()
    session.end_session()
    assert attributes(_root(spans, session))["agentops.session.end_state"] == "Indeterminate"


@FIXTURE_OK
@given(value=not_a_string)
def test_end_state_of_the_wrong_type_is_refused(value: Any, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError) as raised:
        session.end_session(value)
    message = str(raised.value)
    assert type(value).__name__ in message and "EndState" in message and "'Success'" in message
    assert not session.is_ended
    session.end_session(agentops.EndState.SUCCESS)
    assert _root(spans, session).status.is_ok


@FIXTURE_OK
@given(reason=not_a_string.filter(lambda v: v is not None))
def test_end_state_reason_of_the_wrong_type_is_refused(reason: Any, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError, match="end_state_reason must be a str or None"):
        session.end_session("Fail", reason)
    session.end_session("Fail", "a str reason")
    assert _root(spans, session).status.description == "a str reason"


# -- tags ------------------------------------------------------------------------------------------

bad_tag_values = st.one_of(
    not_a_string.filter(lambda v: v is not None).map(lambda v: ("type", v)),  # None: no tags, by design
    st.lists(not_a_string, min_size=1, max_size=3).map(lambda items: ("type", ["ok", *items])),
    st.just(("value", "")),
    st.text(min_size=MAX_TAG_LENGTH + 1, max_size=MAX_TAG_LENGTH + 50).map(lambda t: ("value", t)),
    st.integers(MAX_TAGS + 1, MAX_TAGS + 20).map(lambda n: ("value", [f"t{i}" for i in range(n)])),
    non_utf8_text.map(lambda t: ("value", [t])),
)


def _check_tag_error(kind: str, value: Any, error: BaseException) -> None:
    message = str(error)
    if kind == "type":
        assert isinstance(error, TypeError)
        assert "string" in message or "str" in message  # what is allowed ...
        assert re.search(r"got \w+", message)  # ... and what it got
    else:
        assert isinstance(error, ValueError)
        assert any(word in message for word in ("non-empty", "at most", "UTF-8"))


@FIXTURE_OK
@given(bad=bad_tag_values)
def test_bad_tags_are_refused_with_what_is_allowed_and_lose_nothing(
    bad: tuple[str, Any], spans: InMemorySpanExporter, collector: tuple[ExportGuard, OTLPReceiver]
) -> None:
    kind, value = bad
    before = len(agentops.get_active_sessions())
    with pytest.raises((TypeError, ValueError)) as raised:
        agentops.start_session(tags=value)
    _check_tag_error(kind, value, raised.value)
    assert len(agentops.get_active_sessions()) == before  # no half-made session

    session = agentops.start_session(tags=["kept"])
    for method in (session.add_tags, session.set_tags):
        with pytest.raises((TypeError, ValueError)) as raised:
            method(value)
        _check_tag_error(kind, value, raised.value)
    session.end_session("Success")
    root = _root(spans, session)
    assert attributes(root)["agentops.session.tags"] == ("kept",)
    (received,) = _exported([root], collector)
    assert received.attributes["agentops.session.tags"] == ["kept"]


def test_none_tags_mean_no_tags_at_start_but_are_refused_by_add_tags(spans: InMemorySpanExporter) -> None:
    session = agentops.start_session(tags=None)
    with pytest.raises(TypeError, match="tags must be a string or a list of strings; got NoneType"):
        session.add_tags(None)  # type: ignore[arg-type]
    session.end_session("Success")
    assert attributes(_root(spans, session))["agentops.session.tags"] == ()


# -- events ---------------------------------------------------------------------------------------


class _Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _circular() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


odd_params = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), non_utf8_text,
        st.binary(max_size=20), st.just(object()), st.builds(_Unrepresentable), st.builds(_circular),
        st.just(float("nan")), st.just({1, 2}), st.integers(MAX_JSON_CHARS - 5, MAX_JSON_CHARS + 5).map("é".__mul__),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(), non_utf8_text), children, max_size=4),
        st.tuples(children, children),
    ),
    max_leaves=12,
)


@settings(FIXTURE_OK, max_examples=40)
@given(params=odd_params, returns=odd_params, text=st.one_of(st.text(max_size=30), non_utf8_text))
def test_events_with_unserialisable_or_huge_params_are_recorded_and_exportable(
    params: Any, returns: Any, text: str, spans: InMemorySpanExporter, collector: tuple[ExportGuard, OTLPReceiver]
) -> None:
    session = agentops.start_session()
    session.record(agentops.ActionEvent(action_type=text, params=params, returns=returns))
    session.record(agentops.ToolEvent(name=text, params=params, returns=returns))
    session.record(agentops.ErrorEvent(error_type=text, details=params))
    session.record(agentops.LLMEvent(model=text, prompt=params, completion=returns))
    session.end_session("Fail", text)

    recorded = _session_spans(spans, session)
    assert len(recorded) == 5
    for span in recorded:
        for key in ("agentops.event.params", "agentops.event.returns", "gen_ai.tool.call.arguments",
                    "gen_ai.tool.call.result"):
            value = (span.attributes or {}).get(key)
            if value is not None:
                assert isinstance(value, str) and len(value) <= MAX_JSON_CHARS + 40
    # Exported whole, even the text that is not valid Unicode (escaped): nothing lost.
    received = _exported(recorded, collector)
    assert sorted(s.span_id for s in received) == sorted(format(s.context.span_id, "016x") for s in recorded)
    (root,) = [s for s in received if s.name == "session"]
    assert root.attributes["agentops.session.end_state"] == "Fail"


def test_huge_params_are_truncated_with_a_mark(spans: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # an action's params are content
    session = agentops.start_session()
    session.record(agentops.ActionEvent(action_type="big", params={"blob": "x" * 1_000_000}))
    session.end_session("Success")
    (action,) = [s for s in _session_spans(spans, session) if s.name == "action big"]
    params = attributes(action)["agentops.event.params"]
    assert isinstance(params, str) and len(params) < MAX_JSON_CHARS + 40 and params.endswith("...[truncated]")


@FIXTURE_OK
@given(value=not_a_string)
def test_recording_something_that_is_not_an_event_is_refused(value: Any, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError, match="record\\(\\) takes an ActionEvent, ToolEvent, ErrorEvent or LLMEvent"):
        session.record(value)
    session.end_session("Success")
    assert _root(spans, session).status.is_ok


# -- a session after it ended ------------------------------------------------------------------


def test_session_methods_after_end_raise_session_ended(spans: InMemorySpanExporter) -> None:
    session = agentops.start_session(tags=["done"])
    session.end_session("Success")
    calls: tuple[Callable[[], object], ...] = (
        lambda: session.add_tags(["late"]),
        lambda: session.set_tags(["late"]),
        lambda: session.record(agentops.ActionEvent(action_type="late")),
    )
    for call in calls:
        with pytest.raises(agentops.SessionEndedException) as raised:
            call()
        message = str(raised.value)
        assert session.session_id in message and "already ended (Success)" in message
        assert "start_session()" in message  # what to do instead
    with pytest.warns(RuntimeWarning, match="already ended"):
        session.end_session("Fail")
    with pytest.raises(agentops.NoSessionException):
        agentops.record(agentops.ActionEvent(action_type="late"))
    # Exported once, as it was when it ended.
    root = _root(spans, session)
    assert attributes(root)["agentops.session.end_state"] == "Success"
    assert attributes(root)["agentops.session.tags"] == ("done",)
    assert [s.name for s in _session_spans(spans, session)] == ["session"]


# -- patch() ------------------------------------------------------------------------------------


@FIXTURE_OK
@given(value=st.one_of(not_a_string, st.text(max_size=10), st.lists(st.integers(), max_size=2)))
def test_patch_on_a_non_callable_is_refused(value: Any, spans: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError) as raised:
        session.patch(value)
    assert "takes a function or method" in str(raised.value) and type(value).__name__ in str(raised.value)
    assert session.patch(len)("abc") == 3  # the session still binds what it should
    session.end_session("Success")
    assert _root(spans, session).status.is_ok


# -- init() twice ---------------------------------------------------------------------------------


@FIXTURE_OK
@given(setting=st.one_of(
    st.text(min_size=1, max_size=20).filter(str.strip).map(lambda name: {"service_name": name}),
    st.booleans().map(lambda capture: {"capture_content": capture}),
))
def test_second_init_with_conflicting_settings_raises_and_changes_nothing(
    setting: dict[str, Any], spans: InMemorySpanExporter
) -> None:
    # conftest's init() set no service name and left content capture to the environment.
    session = agentops.start_session()
    (name, value), = setting.items()
    with pytest.raises(agentops.ConfigurationError) as raised:
        agentops.init(auto_start_session=False, **setting)
    message = str(raised.value)
    assert name in message and repr(value) in message and "first init()" in message
    assert agentops.get_active_sessions() == [session]
    session.end_session("Success")
    assert _root(spans, session).status.is_ok


# -- malformed OTEL_* variables -----------------------------------------------------------------


def _exporter_error(env: dict[str, str]) -> str:
    """The ConfigurationError message init() gives for ``env`` (it builds exporters with this)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with mock.patch.dict(os.environ, {**clean, **env}, clear=True), \
            pytest.raises(agentops.ConfigurationError) as raised:
        exporters.exporters_from_env()
    return str(raised.value)


variable_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)


@settings(deadline=None, max_examples=60)
@given(protocol=variable_text.filter(lambda p: p.strip() not in exporters.PROTOCOLS))
def test_bad_protocol_names_the_allowed_ones(protocol: str) -> None:
    for variable in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        message = _exporter_error({variable: protocol})
        assert variable in message and repr(protocol.strip()) in message and "'grpc', 'http/protobuf'" in message


def _not_a_timeout(value: str) -> bool:
    try:
        seconds = float(value)
    except ValueError:
        return True
    return seconds < 0 or not math.isfinite(seconds)


@settings(deadline=None, max_examples=60)
@given(timeout=st.one_of(variable_text, st.sampled_from(["nan", "inf", "-inf", "-1", "1e400", "10ms"]))
       .filter(_not_a_timeout))
def test_bad_timeout_says_seconds(timeout: str) -> None:
    for variable in ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        message = _exporter_error({variable: timeout})
        assert variable in message and "seconds" in message


@settings(deadline=None, max_examples=60)
@given(entry=variable_text.filter(lambda e: "=" not in e and "," not in e))
def test_bad_headers_say_key_value_pairs(entry: str) -> None:
    message = _exporter_error({"OTEL_EXPORTER_OTLP_HEADERS": f"api-key=abc,{entry}"})
    assert "OTEL_EXPORTER_OTLP_HEADERS" in message and "key=value" in message


@settings(deadline=None, max_examples=40)
@given(name=st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=3, max_size=12))
def test_unknown_exporter_lists_the_available_ones(name: str) -> None:
    from importlib.metadata import entry_points

    available = {ep.name for ep in entry_points(group=exporters.TRACES_EXPORTER_GROUP)}
    if name in available or name in ("otlp", "none"):
        return
    message = _exporter_error({"OTEL_TRACES_EXPORTER": name})
    assert repr(name) in message and "not installed" in message and "console" in message and "otlp" in message
