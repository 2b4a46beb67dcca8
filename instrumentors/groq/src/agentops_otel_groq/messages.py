"""Groq chat messages in the GenAI semantic conventions' message format (recorded only with capture on).

Groq's chat API is OpenAI's: ``gen_ai.input.messages`` / ``gen_ai.output.messages`` hold JSON
arrays of ``{"role", "parts": [...], "finish_reason"?}`` exactly as the OpenAI instrumentor writes
them, a part being ``{"type": "text", "content"}``, ``{"type": "tool_call", "id", "name",
"arguments"}`` or ``{"type": "tool_call_response", "id", "response"}``; images are recorded by
type only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Message = dict[str, Any]
Part = dict[str, Any]


def arguments(text: Any) -> Any:
    """Tool-call arguments: the JSON object they encode, or the text itself when it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def content_parts(content: Any) -> list[Part]:
    """The parts of a message's ``content``: a string, or a list of typed content parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[Part] = []
    for part in content if isinstance(content, Iterable) else ():
        kind = part.get("type") if isinstance(part, Mapping) else getattr(part, "type", None)
        if kind == "text":
            text = part.get("text") if isinstance(part, Mapping) else getattr(part, "text", None)
            parts.append({"type": "text", "content": text})
        elif isinstance(kind, str):
            parts.append({"type": kind})
    return parts


def tool_call_part(call_id: Any, name: Any, args: Any) -> Part:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments(args)}


def chat_input(messages: Any) -> list[Message]:
    """``messages`` of a chat completion request."""
    out: list[Message] = []
    for message in messages if isinstance(messages, Iterable) else ():
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role in ("tool", "function"):
            parts: list[Part] = [{"type": "tool_call_response", "id": message.get("tool_call_id"),
                                  "response": message.get("content")}]
        else:
            parts = content_parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                if isinstance(call, Mapping):
                    function = call.get("function") or {}
                    parts.append(tool_call_part(call.get("id"), function.get("name"), function.get("arguments")))
        entry: Message = {"role": role, "parts": parts}
        if isinstance(message.get("name"), str):
            entry["name"] = message["name"]
        out.append(entry)
    return out


def chat_output(choices: Iterable[Any]) -> list[Message]:
    """The assistant messages of a chat completion's choices."""
    out: list[Message] = []
    for choice in choices:
        message = choice.message
        parts = content_parts(message.content)
        for call in getattr(message, "tool_calls", None) or ():
            function = getattr(call, "function", None)
            if function is not None:
                parts.append(tool_call_part(call.id, function.name, function.arguments))
        out.append(assistant(parts, choice.finish_reason))
    return out


def assistant(parts: list[Part], finish_reason: Any) -> Message:
    message: Message = {"role": "assistant", "parts": parts}
    if isinstance(finish_reason, str):
        message["finish_reason"] = finish_reason
    return message
