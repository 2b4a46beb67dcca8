"""What Ollama's ``/api/chat``, ``/api/generate`` and ``/api/embed`` requests and responses mean in
GenAI semantic-convention attributes.

The request body is the JSON the client sends (``ollama`` dumps its request model before calling
``_request``); responses are the client's ``ChatResponse`` / ``GenerateResponse`` /
``EmbedResponse`` objects, one per NDJSON line for a stream. Ollama reports no response id; its
token counts are ``prompt_eval_count`` (input) and ``eval_count`` (output). Messages, recorded
only with capture on, use the conventions' shapes (``role``, ``parts``, ``finish_reason``); tool-call
arguments arrive as objects and are recorded as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, to_json, tool_definitions

Message = dict[str, Any]
Part = dict[str, Any]

# ``options`` field -> attribute.
_OPTIONS = (
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GEN_AI_REQUEST_TOP_P),
    ("top_k", GEN_AI_REQUEST_TOP_K),
    ("seed", GEN_AI_REQUEST_SEED),
    ("num_predict", GEN_AI_REQUEST_MAX_TOKENS),
    ("frequency_penalty", GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def _request_attributes(body: Mapping[str, Any]) -> Attributes:
    attributes: Attributes = {}
    options = body.get("options")
    if isinstance(options, Mapping):
        for field, key in _OPTIONS:
            value = options.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attributes[key] = value
        stop = options.get("stop")
        if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
            attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    if body.get("stream") is True:
        attributes[GEN_AI_REQUEST_STREAM] = True
    output_format = body.get("format")
    if output_format == "json" or isinstance(output_format, Mapping):
        attributes[GEN_AI_OUTPUT_TYPE] = "json"
    return attributes


def _model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) and model else None


def _summary(response: Any) -> Attributes:
    """Model, finish reason and token counts of a response (a final stream line has them too)."""
    attributes: Attributes = {}
    model = getattr(response, "model", None)
    if isinstance(model, str):
        attributes[GEN_AI_RESPONSE_MODEL] = model
    reason = getattr(response, "done_reason", None)
    attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [reason.lower()] if isinstance(reason, str) and reason else []
    for field, key in (("prompt_eval_count", GEN_AI_USAGE_INPUT_TOKENS), ("eval_count", GEN_AI_USAGE_OUTPUT_TOKENS)):
        value = getattr(response, field, None)
        if isinstance(value, int):
            attributes[key] = value
    return attributes


def _text(content: Any) -> list[Part]:
    return [{"type": "text", "content": content}] if isinstance(content, str) and content else []


def _tool_call_parts(tool_calls: Any) -> list[Part]:
    parts: list[Part] = []
    for call in tool_calls or ():
        function = call.get("function") if isinstance(call, Mapping) else getattr(call, "function", None)
        if isinstance(function, Mapping):
            name, arguments = function.get("name"), function.get("arguments")
        else:
            name, arguments = getattr(function, "name", None), getattr(function, "arguments", None)
        if isinstance(arguments, Mapping):
            arguments = dict(arguments)
        parts.append({"type": "tool_call", "name": name, "arguments": arguments})
    return parts


def chat_input(messages: Any) -> list[Message]:
    """``messages`` of a chat request (dicts: the client sends them dumped)."""
    out: list[Message] = []
    for message in messages if isinstance(messages, Iterable) else ():
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role == "tool":
            part: Part = {"type": "tool_call_response", "response": message.get("content")}
            if isinstance(message.get("tool_name"), str):
                part["name"] = message["tool_name"]
            out.append({"role": "tool", "parts": [part]})
            continue
        parts = _text(message.get("content"))
        parts += [{"type": "image"} for _ in message.get("images") or ()]
        parts += _tool_call_parts(message.get("tool_calls"))
        out.append({"role": role, "parts": parts})
    return out


def _assistant(parts: list[Part], finish_reason: Any) -> Message:
    message: Message = {"role": "assistant", "parts": parts}
    if isinstance(finish_reason, str) and finish_reason:
        message["finish_reason"] = finish_reason.lower()
    return message


class Chat:
    """``POST /api/chat``: ``chat``."""

    operation = "chat"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = _request_attributes(body)
        if capture_content():
            attributes[GEN_AI_INPUT_MESSAGES] = to_json(chat_input(body.get("messages")))
            if body.get("tools"):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(body["tools"]))
        return _model(body), attributes

    def response(self, response: Any) -> Attributes:
        attributes = _summary(response)
        if capture_content():
            message = response.message
            parts = _text(message.content) + _tool_call_parts(message.tool_calls)
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([_assistant(parts, response.done_reason)])
        return attributes

    def accumulator(self) -> StreamAccumulator:
        return StreamAccumulator(chat=True)


class Generate:
    """``POST /api/generate``: ``generate``, a completion of a prompt."""

    operation = "text_completion"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = _request_attributes(body)
        if capture_content():
            prompt = body.get("prompt")
            if isinstance(prompt, str):
                attributes[GEN_AI_INPUT_MESSAGES] = to_json([{"role": "user", "parts": _text(prompt)}])
            if isinstance(body.get("system"), str):
                attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(_text(body["system"]))
        return _model(body), attributes

    def response(self, response: Any) -> Attributes:
        attributes = _summary(response)
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([_assistant(_text(response.response), response.done_reason)])
        return attributes

    def accumulator(self) -> StreamAccumulator:
        return StreamAccumulator(chat=False)


class StreamAccumulator:
    """Reads the lines of a chat or generate stream: the final one has the reason and the counts."""

    __slots__ = ("chat", "final", "text", "tool_calls")

    def __init__(self, chat: bool) -> None:
        self.chat = chat
        self.final: Any = None
        self.text: list[str] | None = [] if capture_content() else None
        self.tool_calls: list[Part] = []

    def feed(self, chunk: Any) -> None:
        if chunk.done:
            self.final = chunk
        if self.text is None:
            return
        if self.chat:
            message = chunk.message
            if message.content:
                self.text.append(message.content)
            if message.tool_calls:
                self.tool_calls += _tool_call_parts(message.tool_calls)
        elif chunk.response:
            self.text.append(chunk.response)

    def attributes(self) -> Attributes:
        attributes = _summary(self.final) if self.final is not None else {GEN_AI_RESPONSE_FINISH_REASONS: []}
        if self.text is not None:
            parts = _text("".join(self.text)) + self.tool_calls
            reason = getattr(self.final, "done_reason", None)
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([_assistant(parts, reason)])
        return attributes


class Embed:
    """``POST /api/embed`` (``embed``) and the older ``POST /api/embeddings`` (``embeddings``)."""

    operation = "embeddings"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        dimensions = body.get("dimensions")
        if isinstance(dimensions, int):
            attributes[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return _model(body), attributes

    def response(self, response: Any) -> Attributes:
        attributes: Attributes = {}
        model = getattr(response, "model", None)
        if isinstance(model, str):
            attributes[GEN_AI_RESPONSE_MODEL] = model
        tokens = getattr(response, "prompt_eval_count", None)
        if isinstance(tokens, int):
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = tokens
        return attributes


ENDPOINTS: dict[str, Any] = {
    "/api/chat": Chat(),
    "/api/generate": Generate(),
    "/api/embed": Embed(),
    "/api/embeddings": Embed(),
}


def endpoint_for(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Client._request(cls, method, path, json=body, stream=...)``: the endpoint, if one we trace."""
    if len(args) < 3 or args[1] != "POST":
        return None
    endpoint = ENDPOINTS.get(args[2])
    body = kwargs.get("json")
    if endpoint is None or not isinstance(body, Mapping):
        return None
    return endpoint, body, bool(kwargs.get("stream"))
