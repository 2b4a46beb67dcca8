"""What Bedrock's ``invoke_model`` and ``invoke_model_with_response_stream`` calls mean in GenAI attributes.

The request body is the model family's own JSON, told apart by its shape (a model id may be an
inference profile's ARN that names no family): Anthropic Claude's Messages format
(``anthropic_version``), Converse's format (Amazon Nova: ``messages`` of ``{"text"}`` blocks,
``inferenceConfig``), Amazon Titan Text's (``inputText``, ``textGenerationConfig``) and the prompt
formats (Meta Llama: ``prompt``, ``max_gen_len``; Mistral: ``prompt``, ``max_tokens``). Titan Text
is a ``text_completion``, an embedding model (``embed`` in its id) ``embeddings``, anything else
``chat``, as OpenTelemetry's botocore instrumentation names them.

Token counts come from Bedrock's own ``X-Amzn-Bedrock-Input-Token-Count`` /
``-Output-Token-Count`` response headers (every family), or in a stream from the
``amazon-bedrock-invocationMetrics`` of the last chunk; finish reasons, the response id and
model (Claude reports them) and the output come from the body. The body is read here (botocore
hands it over unread) and put back as a fresh ``StreamingBody`` over the same bytes, so the
application reads it as it would have. A streamed chunk is ``{"chunk": {"bytes": <JSON>}}``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
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

from agentops_otel.instrumentation import Attributes, capture_content, to_json
from agentops_otel_bedrock import converse, messages
from agentops_otel_bedrock.converse import ConverseStreamAccumulator, model_of, number

# Response headers (lower case, as botocore gives them) -> attribute.
_HEADERS = (
    ("x-amzn-bedrock-input-token-count", GEN_AI_USAGE_INPUT_TOKENS),
    ("x-amzn-bedrock-output-token-count", GEN_AI_USAGE_OUTPUT_TOKENS),
    ("x-amzn-bedrock-cache-read-input-token-count", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("x-amzn-bedrock-cache-write-input-token-count", GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
)
# Sampling parameters of the formats whose body holds them at the top (field, attribute).
_SAMPLING = (
    ("max_tokens", GEN_AI_REQUEST_MAX_TOKENS),  # Claude, Mistral
    ("max_gen_len", GEN_AI_REQUEST_MAX_TOKENS),  # Llama
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GEN_AI_REQUEST_TOP_P),
    ("top_k", GEN_AI_REQUEST_TOP_K),
)
_TITAN_SAMPLING = (
    ("maxTokenCount", GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("topP", GEN_AI_REQUEST_TOP_P),
)


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        return list(value)
    return None


def decoded_body(body: Any) -> Mapping[str, Any] | None:
    """An ``invoke_model`` request body (bytes or text; a file object is left unread) as JSON, if it is."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            decoded = json.loads(body)
        except ValueError:
            return None
        return decoded if isinstance(decoded, Mapping) else None
    return None


def operation_for(model: str | None, body: Mapping[str, Any] | None) -> str:
    """The GenAI operation of an ``invoke_model`` call."""
    if model is not None and "embed" in model:
        return "embeddings"
    if body is not None and "inputText" in body:
        return "text_completion"
    return "chat"


# -- requests --------------------------------------------------------------------------------------

def _request_attributes(body: Mapping[str, Any], attributes: Attributes) -> None:
    """The request attributes of a body, by its format."""
    for field, key in _SAMPLING:
        value = body.get(field)
        if number(value):
            attributes[key] = value
    stop = _strings(body.get("stop_sequences", body.get("stop")))
    if stop is not None:
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    if "messages" in body and "anthropic_version" not in body:  # Converse's format (Amazon Nova)
        converse.inference_attributes(body.get("inferenceConfig"), attributes)
        converse.messages_request(body, attributes)
        return
    titan = body.get("textGenerationConfig")
    if isinstance(titan, Mapping):
        for field, key in _TITAN_SAMPLING:
            value = titan.get(field)
            if number(value):
                attributes[key] = value
        stop = _strings(titan.get("stopSequences"))
        if stop is not None:
            attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    if not capture_content():
        return
    if "messages" in body:  # Anthropic Claude
        attributes[GEN_AI_INPUT_MESSAGES] = to_json(messages.claude_messages(body.get("messages")))
        system = body.get("system")
        if system is not None:
            attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(messages.claude_parts(system))
        if body.get("tools"):
            attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(messages.claude_tool_definitions(body.get("tools")))
    else:
        prompt = body.get("inputText", body.get("prompt"))
        if prompt is not None:
            attributes[GEN_AI_INPUT_MESSAGES] = to_json([messages.text_message("user", prompt)])


class InvokeModel:
    """``POST /model/{modelId}/invoke`` (``invoke_model``) and ``/invoke-with-response-stream``.

    ``request`` is given ``{"modelId": ..., "body": <the decoded JSON body or None>}``.
    """

    def __init__(self, operation: str, stream: bool) -> None:
        self.operation = operation
        self.stream = stream

    def request(self, params: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        if self.stream:
            attributes[GEN_AI_REQUEST_STREAM] = True
        body = params.get("body")
        if isinstance(body, Mapping):
            if self.operation == "embeddings":
                dimensions = body.get("dimensions")
                if isinstance(dimensions, int) and not isinstance(dimensions, bool):
                    attributes[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
            else:
                _request_attributes(body, attributes)
        return model_of(params), attributes

    def response(self, response: Any) -> Attributes:
        if not isinstance(response, Mapping) or self.stream:
            return {}  # a stream's response whose events were not read here
        attributes: Attributes = {}
        content_type = response.get("contentType")
        if not isinstance(content_type, str) or "json" in content_type:
            body = _read_body(response)
            decoded = decoded_body(body) if body is not None else None
            if decoded is not None:
                attributes.update(_body_attributes(decoded, self.operation))
        attributes.update(_header_usage(response))
        if self.operation == "embeddings":
            attributes.pop(GEN_AI_USAGE_OUTPUT_TOKENS, None)
            attributes.pop(GEN_AI_RESPONSE_FINISH_REASONS, None)
        return attributes

    def accumulator(self) -> InvokeStreamAccumulator:
        return InvokeStreamAccumulator()


def _header_usage(response: Mapping[str, Any]) -> Attributes:
    """Bedrock's token counts in the response headers (cached tokens, when reported, left out of the
    input count as in the bodies: the conventions' input count includes them)."""
    metadata = response.get("ResponseMetadata")
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    attributes: Attributes = {}
    if not isinstance(headers, Mapping):
        return attributes
    for header, key in _HEADERS:
        value = headers.get(header)
        if isinstance(value, str) and value.isdigit():
            attributes[key] = int(value)
    if GEN_AI_USAGE_INPUT_TOKENS in attributes:
        cached = attributes.get(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0)
        written = attributes.get(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, 0)
        attributes[GEN_AI_USAGE_INPUT_TOKENS] += cached + written  # type: ignore[operator]
    return attributes


class _Unreadable(io.RawIOBase):
    """A body whose reading failed here: the application's read raises the same error."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise self.error


def _read_body(response: Any) -> bytes | None:
    """The bytes of ``response["body"]`` (a botocore ``StreamingBody``), put back readable from the start."""
    body = response.get("body")
    read = getattr(body, "read", None)
    if read is None or isinstance(body, (bytes, bytearray)):
        return None
    from botocore.response import StreamingBody  # botocore is imported: it made this response

    try:
        data = read()
    except Exception as error:
        response["body"] = StreamingBody(_Unreadable(error), None)
        return None
    response["body"] = StreamingBody(io.BytesIO(data), len(data))
    return data if isinstance(data, bytes) else None


# -- responses ---------------------------------------------------------------------------------------

def _claude_usage(usage: Any) -> Attributes:
    attributes: Attributes = {}
    if not isinstance(usage, Mapping):
        return attributes
    cached = 0
    for field, key in (("cache_read_input_tokens", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
                       ("cache_creation_input_tokens", GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)):
        value = usage.get(field)
        if isinstance(value, int):
            attributes[key] = value
            cached += value
    if isinstance(usage.get("input_tokens"), int):
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = usage["input_tokens"] + cached
    if isinstance(usage.get("output_tokens"), int):
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = usage["output_tokens"]
    return attributes


def _text_response(texts: list[tuple[Any, Any]], input_tokens: Any, output_tokens: Any) -> Attributes:
    """A text format's response: (completion, finish reason) pairs and its token counts."""
    attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: [r for _, r in texts if isinstance(r, str)]}
    if isinstance(input_tokens, int):
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
    if isinstance(output_tokens, int):
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
    if capture_content():
        attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([
            messages.assistant(messages.text_message("assistant", text)["parts"], reason) for text, reason in texts])
    return attributes


def _body_attributes(body: Mapping[str, Any], operation: str) -> Attributes:
    """The response attributes a response body gives, by its format."""
    if operation == "embeddings":
        tokens = body.get("inputTextTokenCount")
        return {GEN_AI_USAGE_INPUT_TOKENS: tokens} if isinstance(tokens, int) else {}
    if body.get("type") == "message":  # Anthropic Claude
        stop = body.get("stop_reason")
        attributes: Attributes = {GEN_AI_RESPONSE_FINISH_REASONS: [stop] if isinstance(stop, str) else []}
        for field, key in (("id", GEN_AI_RESPONSE_ID), ("model", GEN_AI_RESPONSE_MODEL)):
            if isinstance(body.get(field), str):
                attributes[key] = body[field]
        attributes.update(_claude_usage(body.get("usage")))
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json(
                [messages.assistant(messages.claude_parts(body.get("content")), stop)])
        return attributes
    if "output" in body and "stopReason" in body:  # Amazon Nova
        return converse.message_response(body)
    results = body.get("results")
    if isinstance(results, list):  # Amazon Titan Text
        outputs = [(r.get("outputText"), r.get("completionReason")) for r in results if isinstance(r, Mapping)]
        counts = [r.get("tokenCount") for r in results if isinstance(r, Mapping)]
        known = [count for count in counts if isinstance(count, int)]
        total = sum(known) if counts and len(known) == len(counts) else None
        return _text_response(outputs, body.get("inputTextTokenCount"), total)
    if "generation" in body:  # Meta Llama
        return _text_response([(body.get("generation"), body.get("stop_reason"))],
                              body.get("prompt_token_count"), body.get("generation_token_count"))
    choices = body.get("outputs")
    if isinstance(choices, list):  # Mistral
        return _text_response([(o.get("text"), o.get("stop_reason")) for o in choices if isinstance(o, Mapping)],
                              None, None)
    return {}


class InvokeStreamAccumulator:
    """Reads ``invoke_model_with_response_stream`` chunks, whatever the family's format."""

    __slots__ = ("blocks", "converse", "finish_reasons", "metrics", "model", "response_id", "usage")

    def __init__(self) -> None:
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish_reasons: list[str] = []
        self.usage: Attributes = {}
        self.metrics: dict[str, int] = {}
        self.converse: ConverseStreamAccumulator | None = None  # Amazon Nova's chunks are Converse events
        # block index -> [kind, text pieces, tool use id, tool name], kept only with capture on
        self.blocks: dict[int, list[Any]] | None = {} if capture_content() else None

    def feed(self, event: Any) -> None:
        chunk = event.get("chunk") if isinstance(event, Mapping) else None
        data = chunk.get("bytes") if isinstance(chunk, Mapping) else None
        if not isinstance(data, (bytes, str)):
            return
        decoded = json.loads(data)
        if not isinstance(decoded, Mapping):
            return
        metrics = decoded.get("amazon-bedrock-invocationMetrics")
        if isinstance(metrics, Mapping):
            for field, key in (("inputTokenCount", GEN_AI_USAGE_INPUT_TOKENS),
                               ("outputTokenCount", GEN_AI_USAGE_OUTPUT_TOKENS),
                               ("cacheReadInputTokenCount", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
                               ("cacheWriteInputTokenCount", GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)):
                if isinstance(metrics.get(field), int):
                    self.metrics[key] = metrics[field]
        kind = decoded.get("type")
        if isinstance(kind, str):
            self._claude(kind, decoded)
        elif "outputText" in decoded:  # Amazon Titan Text
            self._text(decoded.get("outputText"), decoded.get("completionReason"))
            self._counts(decoded.get("inputTextTokenCount"), decoded.get("totalOutputTextTokenCount"))
        elif "generation" in decoded:  # Meta Llama
            self._text(decoded.get("generation"), decoded.get("stop_reason"))
            self._counts(decoded.get("prompt_token_count"), decoded.get("generation_token_count"))
        elif isinstance(decoded.get("outputs"), list):  # Mistral
            for output in decoded["outputs"]:
                if isinstance(output, Mapping):
                    self._text(output.get("text"), output.get("stop_reason"))
        else:  # Amazon Nova
            if self.converse is None:
                self.converse = ConverseStreamAccumulator()
            self.converse.feed(decoded)

    def _text(self, text: Any, reason: Any) -> None:
        if isinstance(reason, str):
            self.finish_reasons.append(reason)
        if self.blocks is not None and isinstance(text, str):
            self.blocks.setdefault(0, ["text", [], None, None])[1].append(text)

    def _counts(self, input_tokens: Any, output_tokens: Any) -> None:
        if isinstance(input_tokens, int):
            self.usage[GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
        if isinstance(output_tokens, int):
            self.usage[GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens

    def _claude(self, kind: str, chunk: Mapping[str, Any]) -> None:
        if kind == "message_start":
            message = chunk.get("message") or {}
            self.response_id = message.get("id")
            self.model = message.get("model")
            self.usage.update(_claude_usage(message.get("usage")))
        elif kind == "message_delta":
            stop = (chunk.get("delta") or {}).get("stop_reason")
            if isinstance(stop, str):
                self.finish_reasons.append(stop)
            output_tokens = (chunk.get("usage") or {}).get("output_tokens")
            if isinstance(output_tokens, int):
                self.usage[GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
        elif self.blocks is not None and kind == "content_block_start":
            block = chunk.get("content_block") or {}
            block_kind = {"tool_use": "tool_call", "thinking": "reasoning"}.get(str(block.get("type")), "text")
            self.blocks[chunk.get("index", 0)] = [block_kind, [block.get("text") or ""], block.get("id"),
                                                  block.get("name")]
        elif self.blocks is not None and kind == "content_block_delta":
            delta = chunk.get("delta") or {}
            piece = delta.get("text", delta.get("partial_json", delta.get("thinking")))
            if isinstance(piece, str):
                self.blocks.setdefault(chunk.get("index", 0), ["text", [], None, None])[1].append(piece)

    def attributes(self) -> Attributes:
        if self.converse is not None:
            attributes = self.converse.attributes()
        else:
            attributes = {GEN_AI_RESPONSE_FINISH_REASONS: self.finish_reasons, **self.usage}
            if self.blocks is not None:
                reason = self.finish_reasons[-1] if self.finish_reasons else None
                attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([messages.streamed_output(self.blocks, reason)])
        if isinstance(self.response_id, str):
            attributes[GEN_AI_RESPONSE_ID] = self.response_id
        if isinstance(self.model, str):
            attributes[GEN_AI_RESPONSE_MODEL] = self.model
        if self.metrics:
            # Bedrock's own counts of the whole invocation; cached tokens are part of the input count.
            attributes.update(self.metrics)
            if GEN_AI_USAGE_INPUT_TOKENS in self.metrics:
                attributes[GEN_AI_USAGE_INPUT_TOKENS] = sum(
                    self.metrics.get(key, 0) for key in (
                        GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                        GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS))
        return attributes


def endpoint(operation: str, stream: bool) -> InvokeModel:
    return _ENDPOINTS[operation, stream]


_ENDPOINTS = {(operation, stream): InvokeModel(operation, stream)
              for operation in ("chat", "text_completion", "embeddings") for stream in (False, True)}
