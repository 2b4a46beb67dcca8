"""What agent, tool and action spans say about themselves: their operations and attributes.

One place for them, so that every way of making such a span (``steps.start_agent`` /
``start_tool``, the decorators, ``Session.create_agent``) writes the same attributes.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_NAME,
    GEN_AI_WORKFLOW_NAME,
)
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal.attribute_names import ACTION_TYPE, EVENT_TYPE
from agentops_otel._internal.serialization import MAX_JSON_CHARS, to_json

Attributes = dict[str, AttributeValue]

INVOKE_AGENT = "invoke_agent"
CREATE_AGENT = "create_agent"
EXECUTE_TOOL = "execute_tool"
INVOKE_WORKFLOW = "invoke_workflow"
ACTION = "action"
"""``agentops.event.type`` of an action step, as on an ``ActionEvent``'s span."""


def check_name(what: str, name: object) -> str:
    """``name`` if it is a non-empty str; a TypeError saying what ``what`` must be otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"{what} must be a non-empty str; got {type(name).__name__} {name!r:.80}")
    return name


def tool_value(value: object) -> str:
    """A tool's arguments or result as an attribute: a string as it is (arguments often arrive as
    JSON text already), cut to ``MAX_JSON_CHARS``; anything else as bounded JSON."""
    if not isinstance(value, str):
        return to_json(value)
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")  # OTLP strings are UTF-8
    if len(text) > MAX_JSON_CHARS:
        text = f"{text[:MAX_JSON_CHARS]}...[truncated {len(text) - MAX_JSON_CHARS} chars]"
    return text



def agent_attributes(name: str, agent_id: str | None, operation: str = INVOKE_AGENT) -> Attributes:
    """The attributes of an ``invoke_agent`` (or ``create_agent``) span."""
    attributes: Attributes = {GEN_AI_OPERATION_NAME: operation, GEN_AI_AGENT_NAME: name}
    if agent_id is not None:
        attributes[GEN_AI_AGENT_ID] = str(agent_id)
    return attributes


def tool_attributes(name: str, call_id: str | None, arguments: object, record_content: bool) -> Attributes:
    """The attributes of an ``execute_tool`` span when it starts; ``arguments`` only if ``record_content``."""
    attributes: Attributes = {GEN_AI_OPERATION_NAME: EXECUTE_TOOL, GEN_AI_TOOL_NAME: name}
    if call_id is not None:
        attributes[GEN_AI_TOOL_CALL_ID] = str(call_id)
    if arguments is not None and record_content:
        attributes[GEN_AI_TOOL_CALL_ARGUMENTS] = tool_value(arguments)
    return attributes


def workflow_attributes(name: str) -> Attributes:
    """The attributes of an ``invoke_workflow`` span."""
    return {GEN_AI_OPERATION_NAME: INVOKE_WORKFLOW, GEN_AI_WORKFLOW_NAME: name}


def action_attributes(action_type: str) -> Attributes:
    """The attributes of an ``action {type}`` span (an ``ActionEvent``'s span has the same)."""
    return {EVENT_TYPE: ACTION, ACTION_TYPE: action_type}

