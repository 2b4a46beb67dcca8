"""``session.record(event)``: every event type as a child span, with safe JSON params and returns."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_CONVERSATION_ID,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_TOOL_NAME,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.exception_attributes import EXCEPTION_MESSAGE, EXCEPTION_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel._internal import content
from agentops_otel._internal.attribute_names import (
    ACTION_TYPE,
    ERROR_DETAILS,
    EVENT_PARAMS,
    EVENT_RETURNS,
    EVENT_TYPE,
    SESSION_ACTIONS,
    SESSION_ERRORS,
    SESSION_INPUT_TOKENS,
    SESSION_LLM_CALLS,
    SESSION_OUTPUT_TOKENS,
    SESSION_TOOL_CALLS,
)
from agentops_otel._internal.serialization import MAX_JSON_CHARS
from tests.support.spans import attributes, spans_named


def record_one(exporter: InMemorySpanExporter, event: agentops.Event) -> tuple[ReadableSpan, ReadableSpan]:
    """Record ``event`` in a fresh session and return (event span, root span)."""
    session = agentops.start_session()
    session.record(event)
    session.end_session("Success")
    spans = exporter.get_finished_spans()
    [root] = [span for span in spans if span.name == "session"]
    [child] = [span for span in spans if span.name != "session"]
    assert child.parent is not None and child.parent.span_id == root.context.span_id
    assert child.context.trace_id == root.context.trace_id
    assert (child.attributes or {})[SESSION_ID] == session.session_id
    assert (child.attributes or {})[GEN_AI_CONVERSATION_ID] == session.session_id
    assert "agentops.session.id" not in (child.attributes or {})  # the root's alone
    return child, root


def attrs(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def test_action_event_without_content_capture_names_the_action_only(exporter: InMemorySpanExporter) -> None:
    params = {"goal": "book a table", "party": 4, "when": ["19:00", "20:00"]}
    span, root = record_one(exporter, agentops.ActionEvent(action_type="plan", params=params, returns="ok"))

    assert span.name == "action plan"
    assert span.kind is SpanKind.INTERNAL
    assert attrs(span) == {
        EVENT_TYPE: "action", ACTION_TYPE: "plan", SESSION_ID: attrs(root)[SESSION_ID],
        GEN_AI_CONVERSATION_ID: attrs(root)[GEN_AI_CONVERSATION_ID],
    }
    # Parameters and return value are content (they can hold the user's prompt): not recorded.
    assert "book a table" not in json.dumps(attrs(span))
    assert span.status.status_code is StatusCode.UNSET
    assert attrs(root)[SESSION_ACTIONS] == 1


def test_action_event_with_content_capture_records_params_and_returns(exporter: InMemorySpanExporter) -> None:
    content.set_capture_content(True)
    params = {"goal": "book a table", "party": 4, "when": ["19:00", "20:00"]}
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="plan", params=params, returns="ok"))
    attributes = attrs(span)
    assert attributes[ACTION_TYPE] == "plan"
    assert json.loads(str(attributes[EVENT_PARAMS])) == params
    assert json.loads(str(attributes[EVENT_RETURNS])) == "ok"


def test_tool_event_without_content_capture_names_the_tool_and_its_call_only(exporter: InMemorySpanExporter) -> None:
    span, root = record_one(exporter, agentops.ToolEvent(
        name="search", params={"q": "pizza"}, returns=["Luigi's", "Mario's"], call_id="call_abc123"))

    assert span.name == "execute_tool search"
    assert attrs(span) == {
        EVENT_TYPE: "tool", GEN_AI_OPERATION_NAME: "execute_tool", GEN_AI_TOOL_NAME: "search",
        GEN_AI_TOOL_CALL_ID: "call_abc123", SESSION_ID: attrs(root)[SESSION_ID],
        GEN_AI_CONVERSATION_ID: attrs(root)[GEN_AI_CONVERSATION_ID],
    }
    # Arguments and results are the conventions' opt-in content: under no name without capture.
    assert "pizza" not in json.dumps(attrs(span)) and "Luigi" not in json.dumps(attrs(span))
    assert attrs(root)[SESSION_TOOL_CALLS] == 1


def test_tool_event_with_content_capture_records_arguments_and_result(exporter: InMemorySpanExporter) -> None:
    content.set_capture_content(True)
    span, _ = record_one(exporter, agentops.ToolEvent(
        name="search", params={"q": "pizza"}, returns=["Luigi's", "Mario's"], call_id="call_abc123"))
    attributes = attrs(span)
    assert attributes[GEN_AI_TOOL_NAME] == "search"
    assert attributes[GEN_AI_TOOL_CALL_ID] == "call_abc123"
    assert json.loads(str(attributes[GEN_AI_TOOL_CALL_ARGUMENTS])) == {"q": "pizza"}
    assert json.loads(str(attributes[GEN_AI_TOOL_CALL_RESULT])) == ["Luigi's", "Mario's"]
    assert EVENT_PARAMS not in attributes and EVENT_RETURNS not in attributes

    # As start_tool records them: a string as it is (a model's arguments are JSON text already).
    exporter.clear()
    span, _ = record_one(exporter, agentops.ToolEvent(name="echo", params='{"text": "hi"}', returns="hi"))
    assert attrs(span)[GEN_AI_TOOL_CALL_ARGUMENTS] == '{"text": "hi"}'
    assert attrs(span)[GEN_AI_TOOL_CALL_RESULT] == "hi"
    assert GEN_AI_TOOL_CALL_ID not in attrs(span)


def test_event_without_params_or_returns_has_no_such_attributes(exporter: InMemorySpanExporter) -> None:
    content.set_capture_content(True)
    span, _ = record_one(exporter, agentops.ToolEvent(name="ping"))
    assert not {EVENT_PARAMS, EVENT_RETURNS, GEN_AI_TOOL_CALL_ARGUMENTS, GEN_AI_TOOL_CALL_RESULT} & set(attrs(span))
    exporter.clear()
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="wait"))
    assert EVENT_PARAMS not in attrs(span) and EVENT_RETURNS not in attrs(span)


def test_error_event_with_exception(exporter: InMemorySpanExporter) -> None:
    try:
        raise TimeoutError("tool took too long")
    except TimeoutError as caught:
        error = caught
    span, root = record_one(exporter, agentops.ErrorEvent(exception=error, details={"tool": "search"}))

    assert span.name == "error TimeoutError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "tool took too long"
    attributes = attrs(span)
    assert attributes[EVENT_TYPE] == "error"
    assert attributes[ERROR_TYPE] == "TimeoutError"
    assert json.loads(str(attributes[ERROR_DETAILS])) == {"tool": "search"}
    [exception_event] = [event for event in span.events if event.name == "exception"]
    assert exception_event.attributes is not None
    assert exception_event.attributes[EXCEPTION_TYPE] == "TimeoutError"
    assert exception_event.attributes[EXCEPTION_MESSAGE] == "tool took too long"
    assert attrs(root)[SESSION_ERRORS] == 1
    # The error is the event's, not the session's: the session ended Success.
    assert root.status.status_code is StatusCode.OK


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


def test_error_event_with_unprintable_exception_never_raises(exporter: InMemorySpanExporter) -> None:
    span, _ = record_one(exporter, agentops.ErrorEvent(exception=_Unprintable("x")))
    assert span.name == "error _Unprintable"
    assert span.status.status_code is StatusCode.ERROR
    [exception_event] = [event for event in span.events if event.name == "exception"]
    assert str((exception_event.attributes or {})[EXCEPTION_TYPE]).endswith("_Unprintable")


def test_error_event_without_exception(exporter: InMemorySpanExporter) -> None:
    span, _ = record_one(exporter, agentops.ErrorEvent(error_type="RateLimited", details="retry in 3s"))
    assert span.name == "error RateLimited"
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[ERROR_TYPE] == "RateLimited"
    assert attrs(span)[ERROR_DETAILS] == "retry in 3s"
    assert [event.name for event in span.events] == []


def test_llm_event_has_genai_attributes_and_no_content_by_default(exporter: InMemorySpanExporter) -> None:
    event = agentops.LLMEvent(
        model="gpt-4o-mini", prompt="What is 2+2?", completion="4", prompt_tokens=12, completion_tokens=3
    )
    span, root = record_one(exporter, event)

    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    attributes = attrs(span)
    assert attributes[EVENT_TYPE] == "llm"
    assert attributes[GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attributes[GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert GEN_AI_INPUT_MESSAGES not in attributes and GEN_AI_OUTPUT_MESSAGES not in attributes
    assert "What is 2+2?" not in json.dumps(attributes)
    root_attributes = attrs(root)
    assert root_attributes[SESSION_LLM_CALLS] == 1
    assert root_attributes[SESSION_INPUT_TOKENS] == 12
    assert root_attributes[SESSION_OUTPUT_TOKENS] == 3
    assert GEN_AI_USAGE_INPUT_TOKENS not in root_attributes and GEN_AI_USAGE_OUTPUT_TOKENS not in root_attributes


def test_llm_event_records_content_when_capture_is_on(exporter: InMemorySpanExporter) -> None:
    content.set_capture_content(True)
    messages = [{"role": "user", "content": "What is 2+2?"}]
    span, _ = record_one(exporter, agentops.LLMEvent(model="m", prompt=messages, completion="4"))
    # In the conventions' message shapes, whatever shape they were given in.
    assert json.loads(str(attrs(span)[GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]}]
    assert json.loads(str(attrs(span)[GEN_AI_OUTPUT_MESSAGES])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "4"}]}]


def test_llm_event_content_follows_the_environment_variable(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(content.CAPTURE_CONTENT_ENV, "true")
    span, _ = record_one(exporter, agentops.LLMEvent(model="m", prompt="hello"))
    assert json.loads(str(attrs(span)[GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]}]


def test_event_has_its_own_start_and_end_times(exporter: InMemorySpanExporter) -> None:
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    end = start + timedelta(seconds=2, milliseconds=500)
    span, _ = record_one(exporter, agentops.ToolEvent(name="slow", start_time=start, end_time=end))
    assert span.start_time == int(start.timestamp()) * 1_000_000_000
    assert span.end_time is not None and span.start_time is not None
    assert span.end_time - span.start_time == 2_500_000_000


def test_event_starts_when_created_and_ends_when_recorded(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    event = agentops.ActionEvent(action_type="wait")
    after_creation = time.time_ns()
    time.sleep(0.002)
    before_recording = time.time_ns()
    session.record(event)
    session.end_session()
    [span] = spans_named(exporter, "action wait")
    assert span.start_time is not None and span.end_time is not None
    assert span.start_time <= after_creation
    assert span.end_time >= before_recording


# -- JSON of params and returns (content capture on) --------------------------------------------


@pytest.fixture
def capture_on() -> None:
    content.set_capture_content(True)  # tests/conftest.py sets it back after each test


@pytest.mark.usefixtures("capture_on")
def test_long_params_are_truncated_at_max_json_chars(exporter: InMemorySpanExporter) -> None:
    long_text = "x" * (MAX_JSON_CHARS * 2)
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="big", params=long_text, returns=[long_text]))

    full_params = json.dumps(long_text)
    params = str(attrs(span)[EVENT_PARAMS])
    assert params[:MAX_JSON_CHARS] == full_params[:MAX_JSON_CHARS]
    assert params[MAX_JSON_CHARS:] == "...[truncated]"  # a short mark (serialising stopped there)
    returns = str(attrs(span)[EVENT_RETURNS])
    assert returns.startswith('["xxx') and len(returns) < MAX_JSON_CHARS + 50


@pytest.mark.usefixtures("capture_on")
def test_params_at_the_limit_are_kept_whole(exporter: InMemorySpanExporter) -> None:
    exact = "y" * (MAX_JSON_CHARS - 2)  # its JSON, with the quotes, is exactly MAX_JSON_CHARS long
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="edge", params=exact))
    assert attrs(span)[EVENT_PARAMS] == json.dumps(exact)


class _Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


def _cycle() -> list[object]:
    items: list[object] = [1]
    items.append(items)
    return items


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"when": _Opaque()}, '{"when": "<Opaque thing>"}'),
        (_Opaque(), '"<Opaque thing>"'),
        ({1, 2}, '"{1, 2}"'),
        (b"raw", "\"b'raw'\""),
        (_BrokenRepr(), '"<unrepresentable _BrokenRepr>"'),
        ({"broken": _BrokenRepr()}, '{"broken": "<unrepresentable _BrokenRepr>"}'),
        (_cycle(), '"[1, [...]]"'),
        ({(1, 2): "tuple key"}, json.dumps(repr({(1, 2): "tuple key"}))),
        ("h\u00e9llo \u2603", '"h\u00e9llo \u2603"'),
    ],
    ids=["repr-in-dict", "repr", "set", "bytes", "broken-repr", "broken-repr-in-dict", "cycle", "tuple-key", "unicode"],
)
@pytest.mark.usefixtures("capture_on")
def test_unserialisable_values_are_recorded_by_repr(
    exporter: InMemorySpanExporter, value: object, expected: str
) -> None:
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="odd", params=value, returns=value))
    assert attrs(span)[EVENT_PARAMS] == expected
    assert attrs(span)[EVENT_RETURNS] == expected
    json.loads(expected)  # still JSON: a consumer can always parse params and returns


@pytest.mark.usefixtures("capture_on")
def test_lone_surrogates_become_exportable_text(exporter: InMemorySpanExporter) -> None:
    span, _ = record_one(exporter, agentops.ActionEvent(action_type="bad-text", params="a\ud800b"))
    params = str(attrs(span)[EVENT_PARAMS])
    params.encode("utf-8")  # protobuf strings must be valid UTF-8; this would raise otherwise
    assert params.startswith('"a') and params.endswith('b"')


def test_record_rejects_what_is_not_an_event(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    with pytest.raises(TypeError, match="ActionEvent, ToolEvent, ErrorEvent or LLMEvent"):
        session.record({"action_type": "plan"})  # type: ignore[arg-type]
    session.end_session()
    assert [span.name for span in exporter.get_finished_spans()] == ["session"]


def test_llm_event_ignores_booleans_as_token_counts(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.record(agentops.LLMEvent(model="m", prompt_tokens=True, completion_tokens=7))
    session.end_session("Success")
    span = spans_named(exporter, "chat m")[0]
    assert "gen_ai.usage.input_tokens" not in attributes(span)
    assert attributes(span)["gen_ai.usage.output_tokens"] == 7


def test_the_capture_variable_is_read_once_until_asked_again(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_one(exporter, agentops.LLMEvent(model="m", prompt="first"))  # reads the variable: unset, off
    exporter.clear()
    monkeypatch.setenv(content.CAPTURE_CONTENT_ENV, "true")
    span, _ = record_one(exporter, agentops.LLMEvent(model="m", prompt="second"))
    assert GEN_AI_INPUT_MESSAGES not in attrs(span)
    exporter.clear()
    content.set_capture_content(None)
    span, _ = record_one(exporter, agentops.LLMEvent(model="m", prompt="third"))
    assert json.loads(str(attrs(span)[GEN_AI_INPUT_MESSAGES]))[0]["parts"] == [{"type": "text", "content": "third"}]
