"""What Groq's chat completions request and response mean in GenAI semantic-convention attributes.

Groq's API is OpenAI's chat completions API under ``/openai/v1``: the request, response and chunk
fields read here are OpenAI's, plus ``x_groq.usage``, where a stream reports its token counts
(in the chunk with the finish reason) unless ``stream_options.include_usage`` asks for OpenAI's
final usage chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentops_otel_openai import messages  # Groq's chat messages are OpenAI's
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, to_json, tool_definitions

# Request body field -> attribute, for the numeric sampling parameters.
_SAMPLING = (
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", GEN_AI_REQUEST_SEED),
)
_MAX_TOKENS_FIELDS = ("max_completion_tokens", "max_tokens")


def _request_attributes(body: Mapping[str, Any]) -> Attributes:
    attributes: Attributes = {}
    for field, key in _SAMPLING:
        value = body.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[key] = value
    for field in _MAX_TOKENS_FIELDS:
        value = body.get(field)
        if isinstance(value, int):
            attributes[GEN_AI_REQUEST_MAX_TOKENS] = value
            break
    n = body.get("n")
    if isinstance(n, int) and n != 1:
        attributes[GEN_AI_REQUEST_CHOICE_COUNT] = n
    stop = body.get("stop")
    if isinstance(stop, str):
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    if body.get("stream") is True:
        attributes[GEN_AI_REQUEST_STREAM] = True
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    if isinstance(kind, str):
        attributes[GEN_AI_OUTPUT_TYPE] = "json" if kind.startswith("json") else kind
    return attributes


def _usage(usage: Any) -> Attributes:
    """Token counts; Groq reports cached input tokens in ``prompt_tokens_details`` on models that cache."""
    attributes: Attributes = {}
    if usage is None:
        return attributes
    value = getattr(usage, "prompt_tokens", None)
    if isinstance(value, int):
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = value
        cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
        if isinstance(cached, int):
            attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    value = getattr(usage, "completion_tokens", None)
    if isinstance(value, int):
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = value
    return attributes


class ChatCompletions:
    """``POST /openai/v1/chat/completions``: ``chat.completions.create`` (sync, async, stream)."""

    operation = "chat"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = _request_attributes(body)
        if capture_content():
            if body.get("messages") is not None:
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.chat_input(body.get("messages")))
            if isinstance(body.get("tools"), (list, tuple)):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(body["tools"]))
        model = body.get("model")
        return (model if isinstance(model, str) else None), attributes

    def response(self, completion: Any) -> Attributes:
        attributes: Attributes = {}
        response_id = getattr(completion, "id", None)
        if isinstance(response_id, str):
            attributes[GEN_AI_RESPONSE_ID] = response_id
        model = getattr(completion, "model", None)
        if isinstance(model, str):
            attributes[GEN_AI_RESPONSE_MODEL] = model
        choices = getattr(completion, "choices", None) or ()
        attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [str(c.finish_reason) for c in choices if c.finish_reason]
        attributes.update(_usage(getattr(completion, "usage", None)))
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(messages.chat_output(choices))
        return attributes

    def accumulator(self) -> ChatStreamAccumulator:
        return ChatStreamAccumulator()


class _ChoiceContent:
    """What one choice of a stream said: its text and tool calls (kept only with capture on)."""

    __slots__ = ("finish_reason", "text", "tool_calls")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tool_calls: dict[int, list[Any]] = {}  # tool index -> [id, name, argument pieces]
        self.finish_reason: str | None = None

    def message(self) -> messages.Message:
        parts: list[messages.Part] = [{"type": "text", "content": "".join(self.text)}] if self.text else []
        for call_id, name, pieces in self.tool_calls.values():
            parts.append(messages.tool_call_part(call_id, name, "".join(pieces)))
        return messages.assistant(parts, self.finish_reason)


class ChatStreamAccumulator:
    """Reads ``ChatCompletionChunk`` objects: id, model, finish reasons, usage (``x_groq.usage`` or ``usage``)."""

    __slots__ = ("choices", "finish_reasons", "model", "response_id", "usage")

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish_reasons: list[str] = []
        self.usage: Any = None
        self.choices: dict[int, _ChoiceContent] | None = {} if capture_content() else None

    def feed(self, chunk: Any) -> None:
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
        for choice in chunk.choices:
            if choice.finish_reason:
                self.finish_reasons.append(choice.finish_reason)
            if self.choices is not None:
                self._keep(choice)
        usage = getattr(chunk, "usage", None)
        if usage is None:
            usage = getattr(getattr(chunk, "x_groq", None), "usage", None)
        if usage is not None:
            self.usage = usage

    def _keep(self, choice: Any) -> None:
        assert self.choices is not None
        content = self.choices.setdefault(choice.index, _ChoiceContent())
        if choice.finish_reason:
            content.finish_reason = choice.finish_reason
        delta = choice.delta
        if delta is None:
            return
        if delta.content:
            content.text.append(delta.content)
        for call in delta.tool_calls or ():
            kept = content.tool_calls.setdefault(call.index, [None, None, []])
            kept[0] = call.id or kept[0]
            if call.function is not None:
                kept[1] = call.function.name or kept[1]
                if call.function.arguments:
                    kept[2].append(call.function.arguments)

    def attributes(self) -> Attributes:
        attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: self.finish_reasons}
        if self.response_id:
            attributes[GEN_AI_RESPONSE_ID] = self.response_id
        if self.model:
            attributes[GEN_AI_RESPONSE_MODEL] = self.model
        attributes.update(_usage(self.usage))
        if self.choices is not None:
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(
                [self.choices[index].message() for index in sorted(self.choices)])
        return attributes


CHAT_COMPLETIONS = ChatCompletions()


def endpoint_for(options: Any) -> Any:
    """The endpoint a request goes to, if it is one we trace (chat completions)."""
    if options.method == "post" and options.url == "/openai/v1/chat/completions":
        return CHAT_COMPLETIONS
    return None
