"""What each OpenAI endpoint's request and response mean in GenAI semantic-convention attributes."""

from __future__ import annotations

from collections.abc import Mapping
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
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import (
    OPENAI_API_TYPE,
    OPENAI_REQUEST_SERVICE_TIER,
    OPENAI_RESPONSE_SERVICE_TIER,
    OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE

from agentops_otel.instrumentation import (
    Attributes,
    capture_content,
    request_parameters,
    system_instructions,
    to_json,
    tool_definitions,
)
from agentops_otel_openai import messages


def _model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) else None


def _output_type(kind: Any, attributes: Attributes) -> None:
    """``gen_ai.output.type`` from a ``response_format`` / ``text.format`` type."""
    if isinstance(kind, str):
        attributes[GEN_AI_OUTPUT_TYPE] = "json" if kind.startswith("json") else kind


def _usage(usage: Any, input_field: str, output_field: str) -> Attributes:
    """Token counts: ``prompt_tokens``/``input_tokens`` and the cached tokens among them (their
    ``..._details``), ``completion_tokens``/``output_tokens`` and the reasoning tokens among them;
    the cost of a call depends on all four."""
    attributes: Attributes = {}
    if usage is None:
        return attributes
    value = getattr(usage, input_field, None)
    if isinstance(value, int):
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = value
        value = getattr(getattr(usage, input_field + "_details", None), "cached_tokens", None)
        if isinstance(value, int):
            attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = value
    value = getattr(usage, output_field, None)
    if isinstance(value, int):
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = value
        value = getattr(getattr(usage, output_field + "_details", None), "reasoning_tokens", None)
        if isinstance(value, int):
            attributes[GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = value
    return attributes


def _request_service_tier(body: Mapping[str, Any], attributes: Attributes) -> None:
    tier = body.get("service_tier")
    if isinstance(tier, str):
        attributes[OPENAI_REQUEST_SERVICE_TIER] = tier


def _served(response: Any, attributes: Attributes) -> None:
    """``openai.response.service_tier`` and ``openai.response.system_fingerprint``, when reported."""
    tier = getattr(response, "service_tier", None)
    if isinstance(tier, str):
        attributes[OPENAI_RESPONSE_SERVICE_TIER] = tier
    fingerprint = getattr(response, "system_fingerprint", None)
    if isinstance(fingerprint, str):
        attributes[OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def _id_and_model(response: Any, attributes: Attributes) -> None:
    response_id = getattr(response, "id", None)
    if isinstance(response_id, str):
        attributes[GEN_AI_RESPONSE_ID] = response_id
    model = getattr(response, "model", None)
    if isinstance(model, str):
        attributes[GEN_AI_RESPONSE_MODEL] = model


def _choices_summary(completion: Any) -> tuple[Attributes, Any]:
    """Id, model, finish reasons and usage of a (chat or text) completion, and its choices."""
    attributes: Attributes = {}
    _id_and_model(completion, attributes)
    choices = getattr(completion, "choices", None) or ()
    attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [str(c.finish_reason) for c in choices if c.finish_reason]
    attributes.update(_usage(getattr(completion, "usage", None), "prompt_tokens", "completion_tokens"))
    return attributes, choices


class ChatCompletions:
    """``POST /chat/completions``: ``chat.completions.create``, ``.parse`` and ``.stream``."""

    operation = "chat"
    api_type: str | None = "chat_completions"
    """``openai.api.type``; ``None`` for an endpoint whose calls may go to another provider than
    OpenAI (LiteLLM's), which the ``openai.*`` attributes must not describe."""

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = request_parameters(body, max_tokens_fields=("max_completion_tokens", "max_tokens"))
        response_format = body.get("response_format")
        if response_format is not None and isinstance(response_format, Mapping):  # see stainless._request_endpoint
            _output_type(response_format.get("type"), attributes)
        if self.api_type is not None:
            attributes[OPENAI_API_TYPE] = self.api_type
            _request_service_tier(body, attributes)
        if capture_content():
            if body.get("messages") is not None:
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.chat_input(body.get("messages")))
            if isinstance(body.get("tools"), (list, tuple)):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(body["tools"]))
        return _model(body), attributes

    def response(self, completion: Any) -> Attributes:
        attributes, choices = _choices_summary(completion)
        if self.api_type is not None:
            _served(completion, attributes)
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
    """Reads ``ChatCompletionChunk`` objects: id, model, service tier and fingerprint (first chunk),
    finish reasons, usage (a chunk without choices, OpenAI's ``include_usage`` chunk, or else the
    last chunk: where other OpenAI-compatible servers put it)."""

    __slots__ = ("choices", "finish_reasons", "first", "last", "model", "response_id", "usage")

    served = True
    """Whether the chunks' ``service_tier`` / ``system_fingerprint`` are OpenAI's (see ``ChatCompletions.api_type``)."""

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.first: Any = None
        self.finish_reasons: list[str] = []
        self.last: Any = None
        self.usage: Any = None
        self.choices: dict[int, _ChoiceContent] | None = {} if capture_content() else None

    def feed(self, chunk: Any) -> None:
        # Run on every chunk, so it reads as few of the chunk's attributes as it can: a pydantic
        # model's attribute is a slow read (its class defines ``__getattr__``, which the interpreter
        # cannot specialise), and ``usage`` is read only where it can be, not on every chunk.
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
            self.first = chunk
        self.last = chunk
        choices = chunk.choices
        if not choices:
            usage = chunk.usage
            if usage is not None:
                self.usage = usage
            return
        keep = self.choices is not None
        for choice in choices:
            finish = choice.finish_reason
            if finish:
                self.finish_reasons.append(finish)
            if keep:
                self._keep(choice)

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
        refusal = getattr(delta, "refusal", None)
        if refusal:
            content.text.append(refusal)
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
        if self.served and self.first is not None:
            _served(self.first, attributes)
        usage = self.usage
        if usage is None and self.last is not None:
            usage = getattr(self.last, "usage", None)
        attributes.update(_usage(usage, "prompt_tokens", "completion_tokens"))
        if self.choices is not None:
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(
                [self.choices[index].message() for index in sorted(self.choices)])
        return attributes


class Completions(ChatCompletions):
    """``POST /completions``: the legacy text completion endpoint."""

    operation = "text_completion"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = request_parameters(body)
        _request_service_tier(body, attributes)
        if capture_content() and body.get("prompt") is not None:
            attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.text_input(body.get("prompt")))
        return _model(body), attributes

    def response(self, completion: Any) -> Attributes:
        attributes, choices = _choices_summary(completion)
        _served(completion, attributes)
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(
                [messages.assistant([{"type": "text", "content": c.text}], c.finish_reason) for c in choices])
        return attributes

    def accumulator(self) -> ChatStreamAccumulator:
        return _CompletionStreamAccumulator()


class _CompletionStreamAccumulator(ChatStreamAccumulator):
    """Reads legacy ``Completion`` chunks: their choices carry ``text`` instead of a delta."""

    __slots__ = ()

    def _keep(self, choice: Any) -> None:
        assert self.choices is not None
        content = self.choices.setdefault(choice.index, _ChoiceContent())
        if choice.finish_reason:
            content.finish_reason = choice.finish_reason
        if choice.text:
            content.text.append(choice.text)


class Responses:
    """``POST /responses``: the Responses API (``responses.create``, ``.parse``, ``.stream``)."""

    operation = "chat"
    api_type: str | None = "responses"
    """``openai.api.type``; ``None`` for calls that may go to another provider (see ``ChatCompletions``)."""

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes = request_parameters(body, max_tokens_fields=("max_output_tokens",))
        text = body.get("text")
        output_format = text.get("format") if isinstance(text, Mapping) else None
        if isinstance(output_format, Mapping):
            _output_type(output_format.get("type"), attributes)
        if self.api_type is not None:
            attributes[OPENAI_API_TYPE] = self.api_type
            _request_service_tier(body, attributes)
        if capture_content():
            if body.get("input") is not None:
                attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.responses_input(body.get("input")))
            if isinstance(body.get("tools"), (list, tuple)):
                attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(tool_definitions(body["tools"]))
            instructions = body.get("instructions")
            if isinstance(instructions, (str, list, tuple)):
                attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(system_instructions(instructions))
        return _model(body), attributes

    def response(self, result: Any) -> Attributes:
        return response_attributes(result, self.api_type is not None)

    def accumulator(self) -> ResponsesStreamAccumulator:
        return ResponsesStreamAccumulator()


# Output items that ask the application to run a tool (the built-in tools the API runs itself,
# ``web_search_call``, ``file_search_call``, ..., are followed by the message that answers).
_TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call", "computer_call", "local_shell_call",
                              "shell_call", "apply_patch_call", "mcp_approval_request"})

# ``incomplete_details.reason`` -> the conventions' finish reason.
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def finish_reason(response: Any) -> str | None:
    """Why a Responses API ``Response`` stopped, as the conventions' finish reasons name it: ``stop``,
    ``tool_call`` (it asks for a tool call), ``length``, ``content_filter``, ``error``; ``None`` while
    it is not finished (a stream that ended early leaves it ``in_progress``) or was cancelled.
    The response's ``status`` (``completed``) says whether it finished, not why."""
    status = getattr(response, "status", None)
    if status == "completed":
        for item in getattr(response, "output", None) or ():
            if getattr(item, "type", None) in _TOOL_CALL_ITEMS:
                return "tool_call"
        return "stop"
    if status == "incomplete":
        incomplete = getattr(response, "incomplete_details", None)
        reason = getattr(incomplete, "reason", None) if incomplete is not None else None
        return _INCOMPLETE_REASONS.get(reason, reason) if isinstance(reason, str) else "length"
    if status == "failed":
        return "error"
    return None


def response_attributes(response: Any, served: bool = True) -> Attributes:
    """Attributes of a complete ``Response`` object of the Responses API (``served``: with its
    ``openai.response.service_tier``, for a response that came from OpenAI)."""
    attributes: Attributes = {}
    if response is None:
        return attributes
    _id_and_model(response, attributes)
    finish = finish_reason(response)
    attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [finish] if finish else []
    attributes.update(_usage(getattr(response, "usage", None), "input_tokens", "output_tokens"))
    if served:
        tier = getattr(response, "service_tier", None)
        if isinstance(tier, str):
            attributes[OPENAI_RESPONSE_SERVICE_TIER] = tier
    error = getattr(response, "error", None)
    if getattr(response, "status", None) == "failed" and error is not None:
        attributes[ERROR_TYPE] = str(getattr(error, "code", None) or "response_failed")
    if capture_content():
        attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(messages.responses_output(response, finish))
    return attributes


class ResponsesStreamAccumulator:
    """Keeps the final ``Response`` from a Responses API event stream."""

    __slots__ = ("final",)

    served = True
    """Whether the response's ``service_tier`` is OpenAI's (see ``ChatCompletions.api_type``)."""

    _FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def __init__(self) -> None:
        self.final: Any = None

    def feed(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind in self._FINAL_EVENTS or (kind == "response.created" and self.final is None):
            self.final = event.response

    def attributes(self) -> Attributes:
        return response_attributes(self.final, self.served)


class Embeddings:
    """``POST /embeddings``."""

    operation = "embeddings"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        encoding = body.get("encoding_format")
        if isinstance(encoding, str):
            attributes[GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        dimensions = body.get("dimensions")
        if isinstance(dimensions, int):
            attributes[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return _model(body), attributes

    def response(self, result: Any) -> Attributes:
        attributes: Attributes = {}
        _id_and_model(result, attributes)
        attributes.update(_usage(getattr(result, "usage", None), "prompt_tokens", "completion_tokens"))
        return attributes


ENDPOINTS: dict[str, Any] = {
    "/chat/completions": ChatCompletions(),
    "/completions": Completions(),
    "/responses": Responses(),
    "/embeddings": Embeddings(),
}


def endpoint_for(options: Any) -> Any:
    """The endpoint a request goes to, if it is one we trace (POST only)."""
    if options.method != "post":
        return None
    return ENDPOINTS.get(options.url)
