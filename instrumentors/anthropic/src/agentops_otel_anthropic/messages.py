"""What the Anthropic Messages API's requests and responses mean in GenAI semantic-convention attributes.

``POST /v1/messages`` serves ``messages.create`` (plain and ``stream=True``), ``messages.stream``,
``messages.parse`` and their ``beta`` twins: a ``Message`` comes back whole, or as a stream of
``RawMessageStreamEvent`` objects that ``MessageStreamAccumulator`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, system_instructions, to_json, tool_definitions
from agentops_otel_anthropic import parts

# Request body field -> attribute. The current SDK takes the sampling parameters only through
# ``extra_body``; older releases and the raw API take them as fields.
_SAMPLING = (
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GEN_AI_REQUEST_TOP_P),
    ("top_k", GEN_AI_REQUEST_TOP_K),
)

# What a streamed content block starts with, and what its deltas add to (``input`` arrives as JSON text).
_STREAMED_BLOCK_FIELDS = ("type", "id", "name", "input", "text", "thinking")

# A content delta's type -> the block field it adds to, and the delta's field holding the piece.
_DELTA_FIELDS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "input_json_delta": ("input", "partial_json"),
}

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _output_format(body: Mapping[str, Any]) -> Any:
    """The structured output format asked for: ``output_config.format`` (``messages.parse`` and
    ``output_config=``), or the beta API's ``output_format``; ``None`` for free text."""
    config = body.get("output_config")
    if isinstance(config, Mapping):
        found = config.get("format")
        if isinstance(found, Mapping):
            return found
    found = body.get("output_format")
    return found if isinstance(found, Mapping) else None


class Usage:
    """Token counts of one Message, filled from a whole ``Message`` or from stream events."""

    __slots__ = _USAGE_FIELDS

    def __init__(self) -> None:
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read_input_tokens: int | None = None
        self.cache_creation_input_tokens: int | None = None

    def update(self, usage: Any) -> None:
        """Take every count ``usage`` reports (a stream's ``message_delta`` leaves some ``None``)."""
        if usage is None:
            return
        for field in _USAGE_FIELDS:
            value = getattr(usage, field, None)
            if isinstance(value, int):
                setattr(self, field, value)

    def attributes(self) -> Attributes:
        attributes: Attributes = {}
        cache_read = self.cache_read_input_tokens or 0
        cache_creation = self.cache_creation_input_tokens or 0
        if self.input_tokens is not None:
            # The API's ``input_tokens`` leaves out cached tokens; the convention's count includes them.
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = self.input_tokens + cache_read + cache_creation
        if self.output_tokens is not None:
            attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = self.output_tokens
        if self.cache_read_input_tokens is not None:
            attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cache_read_input_tokens
        if self.cache_creation_input_tokens is not None:
            attributes[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = self.cache_creation_input_tokens
        return attributes


def _message_attributes(response_id: Any, model: Any, stop_reason: Any, usage: Usage,
                        blocks: list[Any] | None) -> Attributes:
    attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: [stop_reason] if isinstance(stop_reason, str) else []}
    if isinstance(response_id, str):
        attributes[GEN_AI_RESPONSE_ID] = response_id
    if isinstance(model, str):
        attributes[GEN_AI_RESPONSE_MODEL] = model
    attributes.update(usage.attributes())
    if blocks is not None:
        attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([parts.assistant(blocks, stop_reason)])
    return attributes


def _arguments(text: str) -> Any:
    """Tool arguments streamed as JSON text in pieces: the object they make, or the text if it is cut short."""
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


class Messages:
    """``POST /v1/messages``."""

    operation = "chat"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        for field, key in _SAMPLING:
            value = body.get(field)
            if _number(value):
                attributes[key] = value
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
            attributes[GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        stop = body.get("stop_sequences")
        if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
            attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
        if body.get("stream") is True:
            attributes[GEN_AI_REQUEST_STREAM] = True
        output_format = _output_format(body)
        if output_format is not None and str(output_format.get("type", "")).startswith("json"):
            attributes[GEN_AI_OUTPUT_TYPE] = "json"
        if capture_content():
            # Unset fields hold the SDK's ``Omit`` marker at this point, so test for the real types;
            # ``messages`` may be any iterable, but one that is not a list could be used up here.
            if isinstance(body.get("messages"), (list, tuple)):
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(parts.input_messages(body["messages"]))
            system = body.get("system")
            if isinstance(system, (str, list, tuple)):
                attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(system_instructions(system))
            if isinstance(body.get("tools"), (list, tuple)):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(body["tools"]))
        model = body.get("model")
        return (model if isinstance(model, str) else None), attributes

    def response(self, message: Any) -> Attributes:
        if getattr(message, "type", None) != "message":
            return {}  # e.g. the raw response of a stream, whose events were not read here
        usage = Usage()
        usage.update(getattr(message, "usage", None))
        blocks = list(message.content) if capture_content() else None
        return _message_attributes(message.id, message.model, message.stop_reason, usage, blocks)

    def accumulator(self) -> MessageStreamAccumulator:
        return MessageStreamAccumulator()


class MessageStreamAccumulator:
    """Reads ``RawMessageStreamEvent`` objects: id, model and input usage from ``message_start``,
    stop reason and output usage from ``message_delta``; content blocks only when capture is on."""

    __slots__ = ("blocks", "model", "pieces", "response_id", "stop_reason", "usage")

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.stop_reason: str | None = None
        self.usage = Usage()
        self.blocks: dict[int, dict[str, Any]] | None = {} if capture_content() else None
        # (block index, field) -> the deltas of that field, joined once at the end.
        self.pieces: dict[tuple[int, str], list[str]] = {}

    def feed(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            message = event.message
            self.response_id = message.id
            self.model = message.model
            self.usage.update(message.usage)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self.usage.update(event.usage)
        elif self.blocks is not None:
            if kind == "content_block_start":
                block = event.content_block
                self.blocks[event.index] = {field: getattr(block, field, None) for field in _STREAMED_BLOCK_FIELDS}
            elif kind == "content_block_delta":
                target = _DELTA_FIELDS.get(str(getattr(event.delta, "type", "")))
                if target is not None:
                    field, piece = target
                    self.pieces.setdefault((event.index, field), []).append(getattr(event.delta, piece))

    def attributes(self) -> Attributes:
        blocks: list[Any] | None = None
        if self.blocks is not None:
            blocks = []
            for index in sorted(self.blocks):
                block = dict(self.blocks[index])
                for field, _piece in _DELTA_FIELDS.values():
                    pieces = self.pieces.get((index, field))
                    if pieces is not None:
                        text = "".join(pieces)
                        block[field] = _arguments(text) if field == "input" else (block.get(field) or "") + text
                blocks.append(block)
        return _message_attributes(self.response_id, self.model, self.stop_reason, self.usage, blocks)


MESSAGES = Messages()


def endpoint_for(options: Any) -> Messages | None:
    """The endpoint a request goes to, if it is one we trace: ``POST /v1/messages`` (and its beta twin)."""
    if options.method != "post":
        return None
    return MESSAGES if options.url == "/v1/messages" else None
