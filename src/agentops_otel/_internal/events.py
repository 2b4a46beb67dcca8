"""Events a session records: each becomes one child span of the session, with its own times.

Example::

    session.record(ActionEvent(action_type="plan", params={"goal": "book a table"}, returns="ok"))
    session.record(ToolEvent(name="search", params={"q": "pizza"}, returns=["Luigi's"], call_id=call.id))
    session.record(ErrorEvent(exception=err))
    session.record(LLMEvent(model="gpt-4o-mini", prompt_tokens=12, completion_tokens=30))

An action's and a tool's ``params`` and ``returns`` are content (a function's arguments and return
value can hold the user's prompts), recorded only with content capture on, as the decorators
record them: an action's as JSON strings (``agentops.event.params`` / ``agentops.event.returns``)
of at most ``serialization.MAX_JSON_CHARS`` characters, values JSON cannot express by ``repr``; a
tool's as the GenAI conventions' tool call arguments and result, as ``start_tool`` records them.
Recording never raises on odd values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal import content
from agentops_otel._internal.attribute_names import ACTION_TYPE, ERROR_DETAILS, EVENT_PARAMS, EVENT_RETURNS, EVENT_TYPE
from agentops_otel._internal.content_shapes import chat_messages
from agentops_otel._internal.serialization import to_json, to_text
from agentops_otel._internal.step_attributes import tool_attributes, tool_value

__all__ = ["ActionEvent", "ErrorEvent", "Event", "LLMEvent", "ToolEvent"]


def _now_ns() -> int:
    return time.time_ns()


@dataclass
class Event:
    """Common fields: when the event started and ended (default: created, and recorded)."""

    start_time: datetime | None = field(default=None, kw_only=True)
    end_time: datetime | None = field(default=None, kw_only=True)
    _created_ns: int = field(default_factory=_now_ns, init=False, repr=False, compare=False)

    event_type: ClassVar[str] = "event"

    def start_ns(self) -> int:
        return _to_ns(self.start_time) if self.start_time is not None else self._created_ns

    def end_ns(self) -> int | None:
        return _to_ns(self.end_time) if self.end_time is not None else None

    def span_name(self) -> str:
        return self.event_type

    def span_kind(self) -> SpanKind:
        return SpanKind.INTERNAL

    def attributes(self) -> dict[str, AttributeValue]:
        return {EVENT_TYPE: self.event_type}

    def status(self) -> Status | None:
        return None

    def recorded_exception(self) -> BaseException | None:
        return None


@dataclass
class ActionEvent(Event):
    """Something the agent did: a plan step, a decision, a sub-task; ``params`` and ``returns``
    only with content capture on."""

    action_type: str = "action"
    params: object = None
    returns: object = None
    event_type: ClassVar[str] = "action"

    def span_name(self) -> str:
        return f"action {self.action_type}"

    def attributes(self) -> dict[str, AttributeValue]:
        attributes = super().attributes()
        attributes[ACTION_TYPE] = str(self.action_type)
        if content.capture_content():
            _add_json(attributes, self.params, self.returns)
        return attributes


@dataclass
class ToolEvent(Event):
    """A tool the agent called, as a GenAI ``execute_tool`` span: ``gen_ai.tool.name``,
    ``gen_ai.tool.call.id`` (``call_id``, the model's id of the call, e.g. an OpenAI
    ``tool_calls[i].id``) and, with content capture on, ``gen_ai.tool.call.arguments`` /
    ``gen_ai.tool.call.result`` (``params`` / ``returns``: a string as it is, anything else as JSON).

    Arguments and results are the conventions' opt-in, possibly sensitive attributes, so they
    follow the capture setting as ``start_tool``'s do, with the same code.
    """

    name: str = "tool"
    params: object = None
    returns: object = None
    call_id: str | None = None
    event_type: ClassVar[str] = "tool"

    def span_name(self) -> str:
        return f"execute_tool {self.name}"

    def attributes(self) -> dict[str, AttributeValue]:
        attributes = super().attributes()
        record_content = content.capture_content()
        attributes.update(tool_attributes(str(self.name), self.call_id, self.params, record_content))
        if self.returns is not None and record_content:
            attributes[GEN_AI_TOOL_CALL_RESULT] = tool_value(self.returns)
        return attributes


@dataclass
class ErrorEvent(Event):
    """An error in the agent: status ERROR, with the exception recorded when one is given."""

    exception: BaseException | None = field(default=None, repr=False)
    error_type: str | None = None
    details: object = None
    event_type: ClassVar[str] = "error"

    def _type_name(self) -> str:
        if self.error_type:
            return str(self.error_type)
        if self.exception is not None:
            return type(self.exception).__qualname__
        return "error"

    def span_name(self) -> str:
        return f"error {self._type_name()}"

    def attributes(self) -> dict[str, AttributeValue]:
        attributes = super().attributes()
        attributes[ERROR_TYPE] = self._type_name()
        if self.details is not None:
            attributes[ERROR_DETAILS] = self.details if isinstance(self.details, str) else to_json(self.details)
        return attributes

    def status(self) -> Status:
        description = to_text(self.exception) if self.exception is not None else self._type_name()
        return Status(StatusCode.ERROR, description)

    def recorded_exception(self) -> BaseException | None:
        return self.exception


@dataclass
class LLMEvent(Event):
    """An LLM call made outside the instrumented clients, recorded by hand.

    ``prompt`` and ``completion`` are recorded only when content capture is on.
    """

    model: str | None = None
    prompt: object = None
    completion: object = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    event_type: ClassVar[str] = "llm"

    def span_name(self) -> str:
        return f"chat {self.model}" if self.model else "chat"

    def span_kind(self) -> SpanKind:
        return SpanKind.CLIENT

    def attributes(self) -> dict[str, AttributeValue]:
        attributes = super().attributes()
        attributes[GEN_AI_OPERATION_NAME] = "chat"
        if self.model:
            attributes[GEN_AI_REQUEST_MODEL] = str(self.model)
        # bool is an int subclass; True is not a token count.
        if isinstance(self.prompt_tokens, int) and not isinstance(self.prompt_tokens, bool):
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = self.prompt_tokens
        if isinstance(self.completion_tokens, int) and not isinstance(self.completion_tokens, bool):
            attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = self.completion_tokens
        if content.capture_content():
            # In the conventions' message shapes, whatever shape they were given in.
            if self.prompt is not None:
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(chat_messages(self.prompt, "user"))
            if self.completion is not None:
                attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(chat_messages(self.completion, "assistant"))
        return attributes


def _add_json(attributes: dict[str, AttributeValue], params: object, returns: object) -> None:
    if params is not None:
        attributes[EVENT_PARAMS] = to_json(params)
    if returns is not None:
        attributes[EVENT_RETURNS] = to_json(returns)


def _to_ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
