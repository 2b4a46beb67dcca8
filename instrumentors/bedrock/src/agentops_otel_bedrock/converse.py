"""What Bedrock's ``converse`` and ``converse_stream`` calls mean in GenAI attributes.

The request is the operation's parameters (``modelId``, ``messages``, ``system``,
``inferenceConfig``, ``toolConfig``, ``additionalModelRequestFields``); the response is botocore's
parsed dict (``output.message``, ``stopReason``, ``usage``). A Converse response has no id and
names no model, so the span has neither ``gen_ai.response.id`` nor ``gen_ai.response.model``.
A stream's events are dicts with one key each (``messageStart``, ``contentBlockStart``,
``contentBlockDelta``, ``contentBlockStop``, ``messageStop``, ``metadata``); Amazon Nova's
``invoke_model_with_response_stream`` chunks have the same shape, so its accumulator is this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, to_json
from agentops_otel_bedrock import messages

# (field of inferenceConfig, attribute); Nova's invoke_model body spells the token limit max_new_tokens.
_INFERENCE_CONFIG = (
    ("maxTokens", GEN_AI_REQUEST_MAX_TOKENS),
    ("max_new_tokens", GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("topP", GEN_AI_REQUEST_TOP_P),
    ("topK", GEN_AI_REQUEST_TOP_K),
)
# (usage field, attribute): Converse's names, then Nova invoke_model's.
_CACHE_FIELDS = (
    ("cacheReadInputTokens", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("cacheWriteInputTokens", GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    ("cacheReadInputTokenCount", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("cacheWriteInputTokenCount", GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
)
_CACHE_FIELD_NAMES = frozenset(field for field, _ in _CACHE_FIELDS)


def number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_of(params: Mapping[str, Any]) -> str | None:
    model = params.get("modelId")
    return model if isinstance(model, str) else None


def inference_attributes(config: Any, attributes: Attributes) -> None:
    """``inferenceConfig`` (Converse, Nova): sampling parameters and stop sequences."""
    if not isinstance(config, Mapping):
        return
    for field, key in _INFERENCE_CONFIG:
        value = config.get(field)
        if number(value):
            attributes[key] = value
    stop = config.get("stopSequences")
    if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)


def messages_request(body: Mapping[str, Any], attributes: Attributes) -> None:
    """The content of a Converse-format request (Converse, Nova ``invoke_model``), with capture on."""
    if not capture_content():
        return
    if body.get("messages") is not None:
        attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.converse_messages(body.get("messages")))
    system = messages.converse_parts(body.get("system"))
    if system:
        attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(system)
    tool_config = body.get("toolConfig")
    tools = tool_config.get("tools") if isinstance(tool_config, Mapping) else None
    if tools:
        attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(messages.converse_tool_definitions(tools))


def usage_attributes(usage: Any, attributes: Attributes) -> None:
    """Converse's (and Nova's) ``usage``. Its ``inputTokens`` leaves out the tokens read from or written
    to the prompt cache; the conventions' input count includes them. Read at the end of every call:
    botocore's parsed response and ``json.loads`` give a dict, so it is asked for one (the ``Mapping``
    ABC's check is a Python call), and the four cache fields are looked up only if one is there."""
    if not isinstance(usage, dict):
        return
    cached = 0
    if not _CACHE_FIELD_NAMES.isdisjoint(usage):
        for field, key in _CACHE_FIELDS:
            value = usage.get(field)
            if isinstance(value, int):
                attributes[key] = value
                cached += value
    input_tokens = usage.get("inputTokens")
    if isinstance(input_tokens, int):
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = input_tokens + cached
    output_tokens = usage.get("outputTokens")
    if isinstance(output_tokens, int):
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens


def message_response(response: Mapping[str, Any]) -> Attributes:
    """A Converse-shaped response (Converse, Nova ``invoke_model``): stop reason, usage, output."""
    stop_reason = response.get("stopReason")
    attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: [stop_reason] if isinstance(stop_reason, str) else []}
    usage_attributes(response.get("usage"), attributes)
    if capture_content():
        output = response.get("output")
        message = output.get("message") if isinstance(output, Mapping) else None
        content = message.get("content") if isinstance(message, Mapping) else None
        parts = messages.converse_parts(content)
        attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([messages.assistant(parts, stop_reason)])
    return attributes


class Converse:
    """``POST /model/{modelId}/converse`` (``converse``) and ``/converse-stream`` (``converse_stream``)."""

    operation = "chat"

    def __init__(self, stream: bool) -> None:
        self.stream = stream

    def request(self, params: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        inference_attributes(params.get("inferenceConfig"), attributes)
        extra = params.get("additionalModelRequestFields")
        if isinstance(extra, Mapping) and number(extra.get("top_k")):  # Anthropic's and Meta's models take top_k
            attributes[GEN_AI_REQUEST_TOP_K] = extra["top_k"]
        if self.stream:
            attributes[GEN_AI_REQUEST_STREAM] = True
        messages_request(params, attributes)
        return model_of(params), attributes

    def response(self, response: Any) -> Attributes:
        if not isinstance(response, Mapping) or "stream" in response:
            return {}  # a stream's response whose events were not read here
        return message_response(response)

    def accumulator(self) -> ConverseStreamAccumulator:
        return ConverseStreamAccumulator()


class ConverseStreamAccumulator:
    """Reads Converse stream events: the stop reason, the usage, and (capture on) the content."""

    __slots__ = ("blocks", "stop_reason", "usage")

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self.usage: Any = None
        # content block index -> [kind, text pieces, tool use id, tool name], kept only with capture on
        self.blocks: dict[int, list[Any]] | None = {} if capture_content() else None

    def feed(self, event: Any) -> None:
        if "metadata" in event:
            self.usage = event["metadata"].get("usage")
        elif "messageStop" in event:
            reason = event["messageStop"].get("stopReason")
            self.stop_reason = reason if isinstance(reason, str) else self.stop_reason
        elif self.blocks is not None:
            if "contentBlockDelta" in event:
                _delta(self.blocks, event["contentBlockDelta"])
            elif "contentBlockStart" in event:
                start = event["contentBlockStart"]
                use = (start.get("start") or {}).get("toolUse")
                if isinstance(use, Mapping):
                    self.blocks[start.get("contentBlockIndex", 0)] = ["tool_call", [], use.get("toolUseId"),
                                                                      use.get("name")]

    def attributes(self) -> Attributes:
        reasons = [self.stop_reason] if self.stop_reason is not None else []
        attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: reasons}
        usage_attributes(self.usage, attributes)
        if self.blocks is not None:
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([messages.streamed_output(self.blocks, self.stop_reason)])
        return attributes


def _delta(blocks: dict[int, list[Any]], delta_event: Mapping[str, Any]) -> None:
    """One ``contentBlockDelta``: a piece of text, of a tool use's input JSON, or of reasoning."""
    delta = delta_event.get("delta") or {}
    index = delta_event.get("contentBlockIndex", 0)
    if "text" in delta:
        blocks.setdefault(index, ["text", [], None, None])[1].append(delta["text"])
    elif "toolUse" in delta:
        blocks.setdefault(index, ["tool_call", [], None, None])[1].append(delta["toolUse"].get("input", ""))
    elif "reasoningContent" in delta:
        text = delta["reasoningContent"].get("text")
        if isinstance(text, str):
            blocks.setdefault(index, ["reasoning", [], None, None])[1].append(text)


CONVERSE = Converse(stream=False)
CONVERSE_STREAM = Converse(stream=True)
