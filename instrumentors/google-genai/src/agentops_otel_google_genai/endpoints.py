"""What Gemini's ``generateContent``, ``streamGenerateContent`` and embedding requests and responses
mean in GenAI semantic-convention attributes.

The request "body" is the keyword arguments of the SDK's one-request methods (``model``,
``contents``, ``config``), where ``contents`` and ``config`` may be the SDK's pydantic types or
dicts (with snake_case or camelCase keys, as the SDK accepts both); responses are
``GenerateContentResponse`` objects (one per event for a stream) and ``EmbedContentResponse``.
Finish reasons arrive upper-case (``STOP``) and are recorded lower-case, as the conventions'
values are. ``promptTokenCount`` includes cached tokens, as the conventions' input count does;
the output count adds thinking tokens to the candidates' (both are billed as output).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
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
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, capture_content, to_json

Message = dict[str, Any]
Part = dict[str, Any]


def _field(item: Any, name: str, camel: str | None = None) -> Any:
    """A field of an SDK object, or of a dict written with the snake_case or camelCase key."""
    if isinstance(item, Mapping):
        value = item.get(name)
        return item.get(camel) if value is None and camel is not None else value
    return getattr(item, name, None)


def _attribute(item: Any, name: str, camel: str | None = None) -> Any:
    """``_field`` of an item known not to be a mapping (an SDK object)."""
    return getattr(item, name, None)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_name(model: Any) -> str | None:
    """``models/gemini-2.5-flash`` or a Vertex resource name -> ``gemini-2.5-flash``."""
    if not isinstance(model, str) or not model:
        return None
    return model.rsplit("models/", 1)[-1]


# config field (snake_case, camelCase) -> attribute.
_SAMPLING = (
    ("temperature", "temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", "topP", GEN_AI_REQUEST_TOP_P),
    ("top_k", "topK", GEN_AI_REQUEST_TOP_K),
    ("max_output_tokens", "maxOutputTokens", GEN_AI_REQUEST_MAX_TOKENS),
    ("presence_penalty", "presencePenalty", GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("frequency_penalty", "frequencyPenalty", GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("seed", "seed", GEN_AI_REQUEST_SEED),
)


# -- messages (recorded only with capture on) ------------------------------------------------------

def _is_content(item: Any) -> bool:
    return _field(item, "parts") is not None or _field(item, "role") is not None


def _part(part: Any) -> Part:
    if isinstance(part, str):
        return {"type": "text", "content": part}
    text = _field(part, "text")
    if isinstance(text, str):
        return {"type": "reasoning" if _field(part, "thought") else "text", "content": text}
    call = _field(part, "function_call", "functionCall")
    if call is not None:
        args = _field(call, "args")
        return {"type": "tool_call", "id": _field(call, "id"), "name": _field(call, "name"),
                "arguments": dict(args) if isinstance(args, Mapping) else args}
    result = _field(part, "function_response", "functionResponse")
    if result is not None:
        response = _field(result, "response")
        return {"type": "tool_call_response", "id": _field(result, "id"), "name": _field(result, "name"),
                "response": dict(response) if isinstance(response, Mapping) else response}
    for field, camel, kind in (("inline_data", "inlineData", "blob"), ("file_data", "fileData", "file"),
                               ("executable_code", "executableCode", "executable_code"),
                               ("code_execution_result", "codeExecutionResult", "code_execution_result")):
        if _field(part, field, camel) is not None:
            return {"type": kind}  # media and code by type only: never their bytes or URIs
    return {"type": type(part).__name__.lower()}


def _parts(parts: Any) -> list[Part]:
    if parts is None:
        return []
    if isinstance(parts, str) or not isinstance(parts, Iterable) or isinstance(parts, Mapping):
        return [_part(parts)]
    return [_part(part) for part in parts]


def _message(role: Any, parts: list[Part]) -> Message:
    if parts and all(part["type"] == "tool_call_response" for part in parts):
        role = "tool"
    elif role == "model":
        role = "assistant"
    return {"role": role or "user", "parts": parts}


def input_messages(contents: Any) -> list[Message]:
    """``contents`` as the SDK takes it: a string, a part, a ``Content``, or a list of either; loose
    parts in a list go into one user message, as the SDK sends them."""
    if contents is None:
        return []
    if isinstance(contents, (str, Mapping)) or not isinstance(contents, Iterable):
        contents = [contents]
    out: list[Message] = []
    loose: list[Part] = []
    for item in contents:
        if _is_content(item):
            if loose:
                out.append(_message("user", loose))
                loose = []
            out.append(_message(_field(item, "role"), _parts(_field(item, "parts"))))
        else:
            loose.append(_part(item))
    if loose:
        out.append(_message("user", loose))
    return out


def _finish_reason(candidate: Any) -> str | None:
    reason = getattr(candidate, "finish_reason", None)  # a response's candidates are SDK objects
    if isinstance(reason, Enum):
        reason = reason.value
    return reason.lower() if isinstance(reason, str) and reason else None


def _output_message(parts: list[Part], finish_reason: str | None) -> Message:
    message: Message = {"role": "assistant", "parts": parts}
    if finish_reason is not None:
        message["finish_reason"] = finish_reason
    return message


def _json_schema(schema: Any) -> Any:
    """A Gemini ``Schema`` (OpenAPI types in capitals: ``OBJECT``) as a JSON schema (``object``)."""
    if isinstance(schema, Mapping):
        return {key: value.lower() if key == "type" and isinstance(value, str) else _json_schema(value)
                for key, value in schema.items()}
    if isinstance(schema, list):
        return [_json_schema(value) for value in schema]
    return schema


def _tool_definitions(tool: Any) -> list[dict[str, Any]]:
    """One ``Tool`` of the config in the conventions' shape: a definition per function it declares
    (``{"type": "function", "name", "description", "parameters"}``), one per built-in tool it turns
    on (``{"type": "google_search", "name": "google_search"}``)."""
    if callable(tool) and not hasattr(tool, "model_dump"):  # a Python function the SDK calls itself
        definition: dict[str, Any] = {"type": "function", "name": getattr(tool, "__name__", type(tool).__name__)}
        if isinstance(getattr(tool, "__doc__", None), str):
            definition["description"] = tool.__doc__
        return [definition]
    dump = getattr(tool, "model_dump", None)
    fields = dump(exclude_none=True, mode="json") if dump is not None else tool
    if not isinstance(fields, Mapping):
        return []
    definitions: list[dict[str, Any]] = []
    for key, value in fields.items():
        if key not in ("function_declarations", "functionDeclarations"):
            definitions.append({"type": key, "name": key})
            continue
        for declaration in value if isinstance(value, list) else ():
            if not isinstance(declaration, Mapping) or not isinstance(declaration.get("name"), str):
                continue
            definition = {"type": "function", "name": declaration["name"]}
            if isinstance(declaration.get("description"), str):
                definition["description"] = declaration["description"]
            parameters = declaration.get("parameters_json_schema", declaration.get("parametersJsonSchema"))
            if parameters is None and declaration.get("parameters") is not None:
                parameters = _json_schema(declaration["parameters"])
            if isinstance(parameters, (Mapping, bool)):
                definition["parameters"] = parameters
            definitions.append(definition)
    return definitions


# -- endpoints --------------------------------------------------------------------------------

class GenerateContent:
    """``:generateContent`` and ``:streamGenerateContent`` (``models.generate_content``,
    ``generate_content_stream``, their ``client.aio`` forms, and chats, which call them)."""

    operation = "generate_content"

    def __init__(self, stream: bool) -> None:
        self.stream = stream

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        config = body.get("config")
        if config is not None:
            # Whether the config is a dict is asked once, not per field read: an isinstance against
            # the Mapping ABC is a Python-level call (ABCMeta.__instancecheck__), and a request
            # reads ten fields.
            field = _field if isinstance(config, Mapping) else _attribute
            for name, camel, key in _SAMPLING:
                value = field(config, name, camel)
                if value is not None and _number(value):
                    attributes[key] = value
            count = field(config, "candidate_count", "candidateCount")
            if isinstance(count, int) and count != 1:
                attributes[GEN_AI_REQUEST_CHOICE_COUNT] = count
            stop = field(config, "stop_sequences", "stopSequences")
            if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
                attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
            mime_type = field(config, "response_mime_type", "responseMimeType")
            if isinstance(mime_type, str):
                attributes[GEN_AI_OUTPUT_TYPE] = "json" if mime_type == "application/json" else "text"
        if self.stream:
            attributes[GEN_AI_REQUEST_STREAM] = True
        if capture_content():
            attributes[GEN_AI_INPUT_MESSAGES] = to_json(input_messages(body.get("contents")))
            if config is not None:
                system = _field(config, "system_instruction", "systemInstruction")
                if system is not None:
                    parts = _parts(_field(system, "parts")) if _is_content(system) else _parts(system)
                    attributes[GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(parts)
                tools = _field(config, "tools")
                if isinstance(tools, (list, tuple)) and tools:
                    attributes[GEN_AI_TOOL_DEFINITIONS] = to_json(
                        [definition for tool in tools for definition in _tool_definitions(tool)])
        return model_name(body.get("model")), attributes

    def response(self, response: Any) -> Attributes:
        attributes = _ids_and_usage(response)
        candidates = response.candidates or ()
        reasons = [_finish_reason(candidate) for candidate in candidates]
        attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [reason for reason in reasons if reason]
        if capture_content():
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([
                _output_message(_parts(_field(candidate.content, "parts")), reason)
                for candidate, reason in zip(candidates, reasons, strict=True)])
        return attributes

    def accumulator(self) -> StreamAccumulator:
        return StreamAccumulator()


def _ids_and_usage(response: Any) -> Attributes:
    attributes: Attributes = {}
    if isinstance(response.response_id, str):
        attributes[GEN_AI_RESPONSE_ID] = response.response_id
    if isinstance(response.model_version, str):
        attributes[GEN_AI_RESPONSE_MODEL] = response.model_version
    usage = response.usage_metadata
    if usage is not None:
        if isinstance(usage.prompt_token_count, int):
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_token_count
        if isinstance(usage.candidates_token_count, int) or isinstance(usage.thoughts_token_count, int):
            attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = (usage.candidates_token_count or 0) + (
                usage.thoughts_token_count or 0)
        if isinstance(usage.cached_content_token_count, int):
            attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cached_content_token_count
    return attributes


class StreamAccumulator:
    """Reads the ``GenerateContentResponse`` events of a stream: every event carries the ids and
    the usage so far (the last one the whole of it); candidates' parts arrive in pieces."""

    __slots__ = ("finish_reasons", "last", "parts")

    def __init__(self) -> None:
        self.last: Any = None
        self.finish_reasons: dict[int, str] = {}
        self.parts: dict[int, list[Part]] | None = {} if capture_content() else None

    def feed(self, chunk: Any) -> None:
        self.last = chunk
        for position, candidate in enumerate(chunk.candidates or ()):
            index = candidate.index if isinstance(candidate.index, int) else position
            reason = _finish_reason(candidate)
            if reason is not None:
                self.finish_reasons[index] = reason
            if self.parts is not None and candidate.content is not None:
                kept = self.parts.setdefault(index, [])
                for part in _parts(candidate.content.parts):
                    if part["type"] == "text" and kept and kept[-1]["type"] == "text":
                        kept[-1] = {"type": "text", "content": kept[-1]["content"] + part["content"]}
                    else:
                        kept.append(part)

    def attributes(self) -> Attributes:
        attributes = _ids_and_usage(self.last) if self.last is not None else {}
        attributes[GEN_AI_RESPONSE_FINISH_REASONS] = [self.finish_reasons[i] for i in sorted(self.finish_reasons)]
        if self.parts is not None:
            attributes[GEN_AI_OUTPUT_MESSAGES] = to_json([
                _output_message(self.parts[i], self.finish_reasons.get(i)) for i in sorted(self.parts)])
        return attributes


class EmbedContent:
    """``:batchEmbedContents`` (Gemini API), ``:predict`` or ``:embedContent`` (Vertex AI): ``embed_content``."""

    operation = "embeddings"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {}
        dimensions = _field(body.get("config"), "output_dimensionality", "outputDimensionality")
        if isinstance(dimensions, int):
            attributes[GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return model_name(body.get("model")), attributes

    def response(self, response: Any) -> Attributes:
        attributes: Attributes = {}
        usage = getattr(response, "usage_metadata", None)
        tokens = getattr(usage, "prompt_token_count", None)
        if isinstance(tokens, int):
            attributes[GEN_AI_USAGE_INPUT_TOKENS] = tokens
        return attributes


GENERATE = GenerateContent(stream=False)
GENERATE_STREAM = GenerateContent(stream=True)
EMBED = EmbedContent()
