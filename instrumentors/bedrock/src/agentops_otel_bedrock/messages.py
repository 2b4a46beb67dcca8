"""Bedrock messages in the GenAI semantic conventions' formats (recorded only with capture on).

Two content formats reach Bedrock: Converse's (also Amazon Nova's ``invoke_model`` body), whose
content blocks are one-key dicts (``{"text": ...}``, ``{"toolUse": {...}}``, ``{"toolResult": {...}}``,
``{"reasoningContent": {...}}``, ``{"image": ...}``), and Anthropic's Messages format (Claude's
``invoke_model`` body), whose blocks carry a ``type``. Both become ``{"role", "parts": [...],
"finish_reason"?}`` messages: text -> ``{"type": "text", "content"}``, a tool use ->
``{"type": "tool_call", "id", "name", "arguments"}``, a tool result -> ``{"type":
"tool_call_response", "id", "response"}``, reasoning -> ``{"type": "reasoning", "content"}``.
Images, documents, videos and guard content are recorded by type only, never their bytes;
cache points are markers, not content, and are left out. Tool definitions become the
conventions' ``{"type": "function", "name", "description", "parameters"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Message = dict[str, Any]
Part = dict[str, Any]

_MARKERS = frozenset({"cachePoint", "cache_control"})


def _list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple)) else ()


def _get(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else None


def arguments(text: str) -> Any:
    """Tool arguments streamed as JSON text in pieces: the object they make, or the text if cut short."""
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def assistant(parts: list[Part], finish_reason: Any) -> Message:
    message: Message = {"role": "assistant", "parts": parts}
    if isinstance(finish_reason, str):
        message["finish_reason"] = finish_reason
    return message


# -- Converse (and Amazon Nova) ----------------------------------------------------------------------

def streamed_output(blocks: Mapping[int, list[Any]], finish_reason: Any) -> Message:
    """The assistant message of a stream's content blocks, by index: ``[kind, text pieces, tool use
    id, tool name]`` each (a ``tool_call`` block's pieces are its JSON arguments)."""
    parts: list[Part] = []
    for index in sorted(blocks):
        kind, pieces, tool_id, name = blocks[index]
        text = "".join(pieces)
        if kind == "tool_call":
            parts.append({"type": "tool_call", "id": tool_id, "name": name, "arguments": arguments(text)})
        else:
            parts.append({"type": kind, "content": text})
    return assistant(parts, finish_reason)


def _tool_result(result: Any) -> Any:
    """A ``toolResult``'s content: the text or JSON of a single block, else the blocks as parts."""
    blocks = list(_list(_get(result, "content")))
    if len(blocks) == 1 and isinstance(blocks[0], Mapping):
        if "text" in blocks[0]:
            return blocks[0]["text"]
        if "json" in blocks[0]:
            return blocks[0]["json"]
    return converse_parts(blocks)


def converse_part(block: Any) -> Part | None:
    """One Converse content block as a message part (``None`` for a cache point)."""
    if not isinstance(block, Mapping):
        return None
    if "text" in block:
        return {"type": "text", "content": block["text"]}
    if "toolUse" in block:
        use = block["toolUse"]
        return {"type": "tool_call", "id": _get(use, "toolUseId"), "name": _get(use, "name"),
                "arguments": _get(use, "input")}
    if "toolResult" in block:
        result = block["toolResult"]
        return {"type": "tool_call_response", "id": _get(result, "toolUseId"), "response": _tool_result(result)}
    if "reasoningContent" in block:
        return {"type": "reasoning", "content": _get(_get(block["reasoningContent"], "reasoningText"), "text")}
    for kind in block:
        if kind not in _MARKERS:
            return {"type": kind}
    return None


def converse_parts(blocks: Any) -> list[Part]:
    return [part for part in map(converse_part, _list(blocks)) if part is not None]


def converse_messages(messages: Any) -> list[Message]:
    """``messages`` of a Converse request (or of a Nova ``invoke_model`` body)."""
    return [{"role": _get(message, "role"), "parts": converse_parts(_get(message, "content"))}
            for message in _list(messages)]


def converse_tool_definitions(tools: Any) -> list[Any]:
    """``toolConfig.tools``: each ``toolSpec`` as a function definition; other tools by kind."""
    definitions: list[Any] = []
    for tool in _list(tools):
        spec = _get(tool, "toolSpec")
        if isinstance(spec, Mapping):
            definition = {"type": "function", "name": spec.get("name")}
            if spec.get("description") is not None:
                definition["description"] = spec["description"]
            schema = _get(spec.get("inputSchema"), "json")
            if schema is not None:
                definition["parameters"] = schema
            definitions.append(definition)
        elif isinstance(tool, Mapping):
            definitions.extend({"type": kind, **({"name": value["name"]} if _get(value, "name") else {})}
                               for kind, value in tool.items() if kind not in _MARKERS)
    return definitions


# -- Anthropic Claude (invoke_model) ---------------------------------------------------------------

def claude_part(block: Any) -> Part:
    if isinstance(block, str):
        return {"type": "text", "content": block}
    kind = _get(block, "type")
    if kind == "text":
        return {"type": "text", "content": _get(block, "text")}
    if kind == "tool_use":
        return {"type": "tool_call", "id": _get(block, "id"), "name": _get(block, "name"),
                "arguments": _get(block, "input")}
    if kind == "tool_result":
        content = _get(block, "content")
        response = content if isinstance(content, str) or content is None else claude_parts(content)
        return {"type": "tool_call_response", "id": _get(block, "tool_use_id"), "response": response}
    if kind == "thinking":
        return {"type": "reasoning", "content": _get(block, "thinking")}
    return {"type": kind if isinstance(kind, str) else "unknown"}


def claude_parts(content: Any) -> list[Part]:
    """A Messages API ``content``: a string or a list of blocks."""
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    return [claude_part(block) for block in _list(content)]


def claude_messages(messages: Any) -> list[Message]:
    return [{"role": _get(message, "role"), "parts": claude_parts(_get(message, "content"))}
            for message in _list(messages)]


def claude_tool_definitions(tools: Any) -> list[Any]:
    """Messages API ``tools``: client tools (``name``, ``description``, ``input_schema``) as function
    definitions; server tools (with a ``type``) by type and name."""
    definitions: list[Any] = []
    for tool in _list(tools):
        if not isinstance(tool, Mapping):
            continue
        if "input_schema" in tool or "type" not in tool or tool.get("type") == "custom":
            definition = {"type": "function", "name": tool.get("name")}
            if tool.get("description") is not None:
                definition["description"] = tool["description"]
            if tool.get("input_schema") is not None:
                definition["parameters"] = tool["input_schema"]
            definitions.append(definition)
        else:
            definitions.append({"type": tool.get("type"), "name": tool.get("name")})
    return definitions


def text_message(role: str, text: Any) -> Message:
    """A prompt or a completion of the text formats (Titan's ``inputText``, Llama's ``prompt``)."""
    return {"role": role, "parts": [{"type": "text", "content": text}] if isinstance(text, str) else []}
