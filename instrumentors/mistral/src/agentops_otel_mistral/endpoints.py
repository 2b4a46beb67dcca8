"""What Mistral's chat and embeddings calls mean in GenAI semantic-convention attributes.

The request is the keyword arguments of ``chat.complete`` / ``chat.stream`` / ``embeddings.create``
(messages as dicts or as the SDK's models); responses are the SDK's ``ChatCompletionResponse``,
``CompletionEvent`` stream items (usage on the chunk with the finish reason) and
``EmbeddingResponse``. Messages are recorded (capture on) in the GenAI conventions' shape:
``{"role", "parts": [...], "finish_reason"?}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_REQUEST_ENCODING_FORMATS,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, request_parameters, to_json, tool_definitions

Message = dict[str, Any]
Part = dict[str, Any]

def _field(item: Any, name: str) -> Any:
    """A field of a dict (a TypedDict the caller wrote) or of one of the SDK's models."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) else None


def _as_plain(value: Any) -> Any:
    """A request value (an SDK model or plain data) as plain JSON-able data, for tool definitions."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, (list, tuple)):
        return [_as_plain(item) for item in value]
    return value


def _arguments(value: Any) -> Any:
    """Tool-call arguments (a JSON string or already a dict) as the object they encode."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value else {}
        except ValueError:
            return value
    return value


def _parts(content: Any) -> list[Part]:
    if content is None or not isinstance(content, (str, Iterable)):
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[Part] = []
    for chunk in content:
        kind = _field(chunk, "type")
        if kind == "text":
            parts.append({"type": "text", "content": _field(chunk, "text")})
        elif isinstance(kind, str):
            parts.append({"type": kind})  # images, documents, ...: by type only
    return parts


def _tool_call_parts(calls: Any) -> list[Part]:
    parts: list[Part] = []
    for call in calls if isinstance(calls, Iterable) else ():
        function = _field(call, "function")
        if function is not None:
            parts.append({"type": "tool_call", "id": _field(call, "id"), "name": _field(function, "name"),
                          "arguments": _arguments(_field(function, "arguments"))})
    return parts


def _input_messages(messages: Any) -> list[Message]:
    out: list[Message] = []
    for message in messages if isinstance(messages, Iterable) else ():
        role = _field(message, "role")
        if role == "tool":
            parts: list[Part] = [{"type": "tool_call_response", "id": _field(message, "tool_call_id"),
                                  "response": _field(message, "content")}]
        else:
            parts = _parts(_field(message, "content")) + _tool_call_parts(_field(message, "tool_calls"))
        out.append({"role": role, "parts": parts})
    return out


def _assistant(parts: list[Part], finish_reason: Any) -> Message:
    message: Message = {"role": "assistant", "parts": parts}
    if isinstance(finish_reason, str):
        message["finish_reason"] = finish_reason
    return message


def _usage(usage: Any) -> Attributes:
    attributes: Attributes = {}
    for field, key in (("prompt_tokens", GEN_AI_USAGE_INPUT_TOKENS), ("completion_tokens", GEN_AI_USAGE_OUTPUT_TOKENS)):
        value = getattr(usage, field, None)
        if isinstance(value, int):
            attributes[key] = value
    return attributes


def _id_and_model(result: Any, attributes: Attributes) -> None:
    for field, key in (("id", GEN_AI_RESPONSE_ID), ("model", GEN_AI_RESPONSE_MODEL)):
        value = getattr(result, field, None)
        if isinstance(value, str):
            attributes[key] = value


class Chat:
    """``POST /v1/chat/completions``: ``chat.complete``, ``chat.stream`` and their async forms."""

    operation = "chat"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = request_parameters(body, seed_field="random_seed")
        kind = _field(body.get("response_format"), "type")
        if isinstance(kind, str):
            attributes[GEN_AI_OUTPUT_TYPE] = "json" if kind.startswith("json") else kind
        if capture_content():
            if body.get("messages") is not None:
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(_input_messages(body.get("messages")))
            if isinstance(body.get("tools"), (list, tuple)):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(_as_plain(body["tools"])))
        return _model(body), attributes

    def response(self, completion: Any) -> Attributes:
        attributes: Attributes = {}
        _id_and_model(completion, attributes)
        choices = getattr(completion, "choices", None) or ()
        attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [str(c.finish_reason) for c in choices if c.finish_reason]
        attributes.update(_usage(getattr(completion, "usage", None)))
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([_assistant(
                _parts(_field(c.message, "content")) + _tool_call_parts(_field(c.message, "tool_calls")),
                c.finish_reason) for c in choices])
        return attributes

    def accumulator(self) -> ChatStreamAccumulator:
        return ChatStreamAccumulator()


class ChatStreamAccumulator:
    """Reads ``CompletionEvent`` items: id, model, finish reasons, usage (on the finish chunk)."""

    __slots__ = ("finish_reasons", "model", "outputs", "response_id", "usage")

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish_reasons: list[str] = []
        self.usage: Any = None
        # choice index -> [text pieces, tool-call parts, finish reason], kept only with capture on
        self.outputs: dict[int, list[Any]] | None = {} if capture_content() else None

    def feed(self, event: Any) -> None:
        chunk = getattr(event, "data", event)
        if self.response_id is None:
            self.response_id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
        for choice in getattr(chunk, "choices", None) or ():
            if choice.finish_reason:
                self.finish_reasons.append(str(choice.finish_reason))
            if self.outputs is not None:
                kept = self.outputs.setdefault(choice.index, [[], [], None])
                content = _field(choice.delta, "content")
                if isinstance(content, str):
                    kept[0].append(content)
                else:
                    kept[0].extend(part["content"] for part in _parts(content) if part["type"] == "text")
                kept[1].extend(_tool_call_parts(_field(choice.delta, "tool_calls")))
                kept[2] = choice.finish_reason or kept[2]
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage

    def attributes(self) -> Attributes:
        attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: self.finish_reasons}
        if isinstance(self.response_id, str):
            attributes[GEN_AI_RESPONSE_ID] = self.response_id
        if isinstance(self.model, str):
            attributes[GEN_AI_RESPONSE_MODEL] = self.model
        attributes.update(_usage(self.usage))
        if self.outputs is not None:
            messages = []
            for index in sorted(self.outputs):
                pieces, calls, finish_reason = self.outputs[index]
                text = "".join(pieces)
                messages.append(_assistant(([{"type": "text", "content": text}] if text else []) + calls,
                                           finish_reason))
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(messages)
        return attributes


class Embeddings:
    """``POST /v1/embeddings``: ``embeddings.create`` and ``create_async``."""

    operation = "embeddings"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        encoding = body.get("encoding_format")
        if isinstance(encoding, str):
            attributes[GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        dimensions = body.get("output_dimension")
        if isinstance(dimensions, int):
            attributes[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return _model(body), attributes

    def response(self, result: Any) -> Attributes:
        attributes: Attributes = {}
        _id_and_model(result, attributes)
        usage = _usage(getattr(result, "usage", None))
        if GEN_AI_USAGE_INPUT_TOKENS in usage:
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = usage[GEN_AI_USAGE_INPUT_TOKENS]
        return attributes


CHAT = Chat()
EMBEDDINGS = Embeddings()
