"""OpenAI messages in the GenAI semantic conventions' message format (recorded only with capture on).

``gen_ai.input.messages`` / ``gen_ai.output.messages`` hold JSON arrays of
``{"role", "parts": [...], "finish_reason"?}``, where a part is ``{"type": "text", "content"}``,
``{"type": "tool_call", "id", "name", "arguments"}`` or ``{"type": "tool_call_response", "id",
"response"}``. Images and other media are recorded by type only: never their bytes or URLs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Message = dict[str, Any]
Part = dict[str, Any]

_TEXT_PARTS = frozenset({"text", "input_text", "output_text", "refusal"})


def arguments(text: Any) -> Any:
    """Tool-call arguments: the JSON object they encode, or the text itself when it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def _field(item: Any, name: str) -> Any:
    """A field of a request dict or of a response model object."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def content_parts(content: Any) -> list[Part]:
    """The parts of a message's ``content``: a string, or a list of typed content parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[Part] = []
    if isinstance(content, Iterable):
        for part in content:
            kind = _field(part, "type")
            if kind in _TEXT_PARTS:
                parts.append({"type": "text", "content": _field(part, "text") or _field(part, "refusal")})
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
        refusal = getattr(message, "refusal", None)
        if isinstance(refusal, str):  # a refusal is what the model said instead of an answer
            parts.append({"type": "text", "content": refusal})
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


def text_input(prompt: Any) -> list[Message]:
    """A legacy completion's ``prompt`` (a string or a list of strings) as user messages."""
    prompts = [prompt] if isinstance(prompt, str) else prompt if isinstance(prompt, list) else []
    return [{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts if isinstance(p, str)]


def responses_input(items: Any) -> list[Message]:
    """``input`` of a Responses API request: a string, or a list of input items."""
    if isinstance(items, str):
        return [{"role": "user", "parts": [{"type": "text", "content": items}]}]
    out: list[Message] = []
    for item in items if isinstance(items, Iterable) else ():
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "function_call":
            out.append({"role": "assistant", "parts": [
                tool_call_part(item.get("call_id"), item.get("name"), item.get("arguments"))]})
        elif kind == "function_call_output":
            out.append({"role": "tool", "parts": [
                {"type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")}]})
        elif "role" in item:
            out.append({"role": item.get("role"), "parts": content_parts(item.get("content"))})
        elif isinstance(kind, str):
            out.append({"role": "user", "parts": [{"type": kind}]})
    return out


def responses_output(response: Any, finish_reason: Any) -> list[Message]:
    """The output items of a Responses API ``Response`` as one assistant message."""
    parts: list[Part] = []
    for item in getattr(response, "output", None) or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            parts.extend(content_parts(getattr(item, "content", None)))
        elif kind == "function_call":
            parts.append(tool_call_part(item.call_id, item.name, item.arguments))
        elif isinstance(kind, str):
            parts.append({"type": kind})
    return [assistant(parts, finish_reason)]
