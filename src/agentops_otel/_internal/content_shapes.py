"""The GenAI conventions' shapes of the content attributes every provider's tools and system
instructions take (``gen_ai.tool.definitions``, ``gen_ai.system_instructions``).

Providers describe tools each their own way: OpenAI chat (and the APIs copying it: Groq, Mistral,
Ollama, LiteLLM) nests them (``{"type": "function", "function": {"name", ...}}``), the Responses
API has them flat, Anthropic names their schema ``input_schema`` and has no ``type`` on a custom
tool. The conventions' schema wants ``{"type": "function", "name", "description"?, "parameters"?}``
for a function and ``{"type", "name"}`` for anything else (a built-in tool is named by its type when
it has no name). Only these fields are kept: a tool's other settings (an MCP server's headers, ...)
can hold credentials. Asked only with content capture on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentops_otel._internal.serialization import to_text

ToolDefinition = dict[str, Any]
Part = dict[str, Any]


def _field(item: Any, name: str) -> Any:
    """A field of a request's dict or of an SDK's model object."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def tool_definition(tool: Any) -> ToolDefinition | None:
    """One tool of a request in the conventions' shape, or ``None`` if it is no tool."""
    kind = _field(tool, "type")
    nested = _field(tool, kind) if isinstance(kind, str) else None
    if nested is not None and not isinstance(nested, (str, int, float, list)):
        tool = nested  # OpenAI chat: {"type": "function", "function": {...}}, {"type": "custom", "custom": {...}}
    parameters = _field(tool, "parameters")
    if parameters is None:
        parameters = _field(tool, "input_schema")  # Anthropic
    name = _field(tool, "name")
    if not isinstance(kind, str):
        if not isinstance(name, str):
            return None
        kind = "function"  # an Anthropic custom tool: ``type`` is optional ("custom")
    elif kind == "custom" and parameters is not None:
        kind = "function"
    if not isinstance(name, str):
        label = _field(tool, "server_label")  # an MCP server's tools
        name = label if isinstance(label, str) else kind
    definition: ToolDefinition = {"type": kind, "name": name}
    description = _field(tool, "description")
    if isinstance(description, str):
        definition["description"] = description
    if isinstance(parameters, (Mapping, bool)):
        definition["parameters"] = parameters
    return definition


def tool_definitions(tools: Any) -> list[ToolDefinition]:
    """A request's ``tools`` (any provider's shapes) as the conventions' ``gen_ai.tool.definitions``."""
    if not isinstance(tools, Iterable) or isinstance(tools, (str, bytes, Mapping)):
        return []
    definitions = []
    for tool in tools:
        definition = tool_definition(tool)
        if definition is not None:
            definitions.append(definition)
    return definitions


def system_instructions(instructions: Any) -> list[Part]:
    """System instructions (a string, or a list of parts such as Anthropic's text blocks) as the
    conventions' ``gen_ai.system_instructions``: ``[{"type": "text", "content": ...}, ...]``."""
    if isinstance(instructions, str):
        return [{"type": "text", "content": instructions}]
    if not isinstance(instructions, Iterable) or isinstance(instructions, (bytes, Mapping)):
        return []
    parts: list[Part] = []
    for part in instructions:
        if isinstance(part, str):
            parts.append({"type": "text", "content": part})
            continue
        kind = _field(part, "type")
        text = _field(part, "text")
        if text is None:
            text = _field(part, "content")
        if isinstance(text, str) and kind in (None, "text", "input_text", "message"):
            parts.append({"type": "text", "content": text})  # a text block, or a message of text
        elif isinstance(kind, str) and kind != "text":
            parts.append({"type": kind})
    return parts


def _text_parts(content: Any) -> list[Part]:
    """A message's ``content`` as parts: a string, or a list of parts holding ``text``/``content``."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, Iterable) and not isinstance(content, (bytes, Mapping)):
        parts: list[Part] = []
        for part in content:
            if isinstance(part, str):
                parts.append({"type": "text", "content": part})
                continue
            text = _field(part, "text")
            if text is None:
                text = _field(part, "content")
            kind = _field(part, "type")
            if isinstance(text, str):
                parts.append({"type": "text", "content": text})
            elif isinstance(kind, str) and kind != "text":
                parts.append({"type": kind})
        return parts
    return [{"type": "text", "content": to_text(content)}]


def _message(item: Any, role: str) -> dict[str, Any]:
    if isinstance(item, Mapping) and isinstance(item.get("role"), str):
        if isinstance(item.get("parts"), list):
            return dict(item)  # the conventions' shape already
        return {"role": item["role"], "parts": _text_parts(item.get("content"))}
    return {"role": role, "parts": _text_parts(item)}


def chat_messages(value: Any, role: str) -> list[dict[str, Any]]:
    """Messages given by hand (``LLMEvent``'s ``prompt``/``completion``: a string, a message
    ``{"role", "content"}``, or a list of either) as the conventions' ``gen_ai.input.messages`` /
    ``gen_ai.output.messages``: ``[{"role", "parts": [...]}]``; ``role`` for those that name none."""
    if isinstance(value, (list, tuple)):
        return [_message(item, role) for item in value]
    return [_message(value, role)]
