"""Anthropic messages in the GenAI semantic conventions' message format (recorded only with capture on).

``gen_ai.input.messages`` / ``gen_ai.output.messages`` hold JSON arrays of
``{"role", "parts": [...], "finish_reason"?}``, the format the OpenAI instrumentor records too.
A content block becomes a part: ``text`` -> ``{"type": "text", "content"}``, ``tool_use`` ->
``{"type": "tool_call", "id", "name", "arguments"}``, ``tool_result`` -> ``{"type":
"tool_call_response", "id", "response"}``, ``thinking`` -> ``{"type": "reasoning", "content"}``.
Images, documents and other blocks are recorded by type only: never their bytes or URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Message = dict[str, Any]
Part = dict[str, Any]

_TOOL_CALLS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_TOOL_RESULTS = frozenset({"tool_result", "mcp_tool_result"})


def _field(block: Any, name: str) -> Any:
    """A field of a request's block (a dict) or of a response's block (an SDK model object)."""
    return block.get(name) if isinstance(block, Mapping) else getattr(block, name, None)


def part(block: Any) -> Part:
    """One content block as a message part."""
    kind = _field(block, "type")
    if kind == "text":
        return {"type": "text", "content": _field(block, "text")}
    if kind in _TOOL_CALLS:
        return {"type": "tool_call", "id": _field(block, "id"), "name": _field(block, "name"),
                "arguments": _field(block, "input")}
    if kind in _TOOL_RESULTS:
        result = _field(block, "content")
        response = result if isinstance(result, str) or result is None else parts(result)
        return {"type": "tool_call_response", "id": _field(block, "tool_use_id"), "response": response}
    if kind == "thinking":
        return {"type": "reasoning", "content": _field(block, "thinking")}
    return {"type": kind if isinstance(kind, str) else "unknown"}


def parts(content: Any) -> list[Part]:
    """The parts of a message's ``content``: a string, or a list of content blocks."""
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return [part(block) for block in content]
    return []


def input_messages(messages: Iterable[Any]) -> list[Message]:
    """``messages`` of a Messages API request."""
    return [{"role": _field(message, "role"), "parts": parts(_field(message, "content"))} for message in messages]


def assistant(blocks: Iterable[Any], stop_reason: Any) -> Message:
    """A reply's content blocks as the assistant's output message."""
    message: Message = {"role": "assistant", "parts": [part(block) for block in blocks]}
    if isinstance(stop_reason, str):
        message["finish_reason"] = stop_reason
    return message
