"""Stand-in routes of the OpenAI API: chat completions, Responses, embeddings, legacy completions.

Answers are deterministic functions of the request, shaped like the real API's JSON and
server-sent-event bodies, so the real ``openai`` client parses them as it would the real thing.

What the stand-in answers:

- **Text.** ``"This is the stand-in model answering “<first words of the last user message>”.
  Nothing here came from a real model."`` Streams send it one word per chunk (chat, completions)
  or per ``response.output_text.delta`` event (Responses).
- **Tokens.** A token is a word (a run of letters, digits or ``_``) or a punctuation mark. Input
  tokens: 3 per message plus the tokens of its text, plus 3 (the reply's priming), plus the tokens
  of the tools' JSON; output tokens: the tokens of the answer (text or tool-call arguments).
  ``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens`` cut the answer at that many
  tokens (finish reason ``length``, Responses status ``incomplete``).
- **Tool calls.** When the request offers ``tools`` (and ``tool_choice`` is not ``"none"``) and
  the last message is not a tool result, the answer calls the chosen (else the first) function,
  with arguments generated from its JSON schema: finish reason ``tool_calls`` (chat), or a
  ``function_call`` output item (Responses). After a tool result it answers with text.
- **Structured output.** ``response_format`` / ``text.format`` of type ``json_schema`` get JSON
  generated from the schema (so ``chat.completions.parse`` / ``responses.parse`` validate);
  ``json_object`` gets ``{"answer": "<text>"}``.
- **Embeddings.** Unit vectors seeded by each input's text (1536 dimensions, 3072 for
  ``*-large``, or ``dimensions``), as floats or base64 float32 per ``encoding_format``.
- ``n`` choices (chat and completions), ``stream_options.include_usage`` (a final chunk with no
  choices and the usage), ``[DONE]`` at the end of chat and completion streams.

Conventions for tests and demos, all carried in the ``model`` name (the one field every
endpoint has):

- ``error-<status>`` (e.g. ``error-429``, ``error-500``, ``error-400``): answers that HTTP status
  with an OpenAI-shaped error body ``{"error": {"message", "type", "param", "code"}}``.
  Disable the client's retries (``max_retries=0``) or it will retry 429 and 5xx answers.
- ``error-stream``: a stream that sends two deltas, then an error: an ``{"error": ...}`` chunk for
  chat and completions, which the client raises as ``openai.APIError`` while iterating; ``error``
  and ``response.failed`` events for the Responses API (a non-streaming call answers 500).
- a ``-delay-<N>ms`` suffix (e.g. ``gpt-4o-mini-delay-300ms``): waits N ms (at most 10 s) before
  answering, for demos that want visible latency. The header ``x-standin-delay-ms: N`` does the
  same for any model.
- The headers ``x-standin-cached-tokens: N`` and ``x-standin-reasoning-tokens: N`` (chat and
  Responses) report N of the input tokens as cached (at most all of them) and add N reasoning
  tokens to the output tokens, as the real API reports prompt caching and o-series reasoning.
- ``service_tier`` (chat and Responses): the answer's ``service_tier`` is the tier asked for
  (``flex``, ``priority``, ``scale``), else ``default`` (what ``auto`` and no tier get).
- The header ``x-standin-refusal: <text>`` (chat and Responses): the model refuses with that text, as
  the real API does for a request its safety system declines: a chat message whose ``refusal`` is
  set and ``content`` is null (streamed as ``refusal`` deltas), a Responses ``refusal`` content
  part; the finish reason stays ``stop``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import re
import struct
import time
from collections.abc import Iterator, Mapping
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request

_ids = itertools.count(1)

SYSTEM_FINGERPRINT = "fp_standin"
_SNAPSHOT_SUFFIX = "-2024-07-18"
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_ERROR_MODEL = re.compile(r"^error-(\d{3})$")
_DELAY_MODEL = re.compile(r"-delay-(\d+)ms$")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD_PIECES = re.compile(r"\S+\s*")
_MAX_DELAY_SECONDS = 10.0

# OpenAI's error ``type`` and ``code`` for the statuses it documents.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (stand-in error on demand)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (stand-in error on demand)."),
    403: ("invalid_request_error", "unsupported_country_region_territory",
          "Country, region, or territory not supported (stand-in error on demand)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (stand-in error on demand)."),
    409: ("invalid_request_error", None, "Conflict (stand-in error on demand)."),
    422: ("invalid_request_error", None, "Unprocessable entity (stand-in error on demand)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (stand-in error on demand)."),
    500: ("server_error", None, "The server had an error while processing your request (stand-in error on demand)."),
    503: ("server_error", None, "The engine is currently overloaded (stand-in error on demand)."),
}


# -- shared helpers -------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """The stand-in's token count of ``text``: its words and punctuation marks."""
    return len(_TOKEN.findall(text))


def _next_id(prefix: str) -> str:
    return f"{prefix}standin{next(_ids):06d}"


def _response_model(model: str) -> str:
    """The dated snapshot the API reports for a model alias (``gpt-4o-mini-2024-07-18``)."""
    return model if _DATED.search(model) else f"{model}{_SNAPSHOT_SUFFIX}"


def _error(status: int, message: str | None = None, param: str | None = None) -> Reply:
    kind, code, default = _ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error",
                                               None, f"Stand-in error {status} on demand."))
    return Reply(status, {"error": {"message": message or default, "type": kind, "param": param, "code": code}},
                 headers={"x-request-id": _next_id("req_")})


def _delay(request: Request, model: str) -> float:
    header = request.headers.get("x-standin-delay-ms")
    match = _DELAY_MODEL.search(model)
    millis = int(match.group(1)) if match else 0
    if header and header.strip().isdigit():
        millis = max(millis, int(header.strip()))
    return min(millis / 1000.0, _MAX_DELAY_SECONDS)


def _header_count(request: Request, name: str) -> int:
    """A non-negative count from a request header (``x-standin-cached-tokens``, ...), else 0."""
    value = (request.headers.get(name) or "").strip()
    return int(value) if value.isdigit() else 0


def _usage_details(request: Request, input_tokens: int) -> tuple[int, int]:
    """The cached input tokens and the reasoning tokens a request asks the stand-in to report."""
    return (min(_header_count(request, "x-standin-cached-tokens"), input_tokens),
            _header_count(request, "x-standin-reasoning-tokens"))


def _service_tier(body: Mapping[str, Any]) -> str:
    """The tier that served the request: the one asked for, else ``default`` (``auto`` included)."""
    tier = body.get("service_tier")
    return tier if tier in ("flex", "priority", "scale") else "default"


def _refusal(request: Request) -> str | None:
    return request.headers.get("x-standin-refusal") or None


def _check(request: Request, required: tuple[str, ...]) -> tuple[dict[str, Any], str, Reply | None]:
    """The JSON body and model, or an error reply (a missing field, or an error asked for)."""
    body = request.body if isinstance(request.body, dict) else None
    if body is None:
        return {}, "", _error(400, "We could not parse the JSON body of your request.")
    for name in ("model", *required):
        if body.get(name) is None:
            return body, "", _error(400, f"Missing required parameter: '{name}'.", name)
    model = str(body["model"])
    match = _ERROR_MODEL.match(model)
    if match:
        return body, model, _error(int(match.group(1)))
    if model == "error-stream" and not body.get("stream"):
        return body, model, _error(500)
    return body, model, None


def _reply(reply: Reply, request: Request, model: str) -> Reply:
    reply.headers.setdefault("x-request-id", _next_id("req_"))
    reply.headers.setdefault("openai-processing-ms", "1")
    reply.delay_seconds = _delay(request, model)
    return reply


def _list(body: Mapping[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    return value if isinstance(value, list) else []


def _choices(body: Mapping[str, Any]) -> int:
    """The ``n`` of the request: how many choices to answer (1 to 8)."""
    n = body.get("n")
    return min(max(n, 1), 8) if isinstance(n, int) and not isinstance(n, bool) else 1


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") or part.get("output") or "" for part in content if isinstance(part, Mapping)]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


def _answer_text(prompt: str) -> str:
    words = prompt.split()
    quoted = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    return (f"This is the stand-in model answering “{quoted}”. "
            "Nothing here came from a real model.")


def _truncate(text: str, max_tokens: Any) -> tuple[str, bool]:
    """``text`` cut to at most ``max_tokens`` tokens (whole words), and whether it was cut."""
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or count_tokens(text) <= max_tokens:
        return text, False
    kept = ""
    for piece in _WORD_PIECES.findall(text):
        if count_tokens(kept + piece) > max_tokens:
            break
        kept += piece
    return kept.rstrip(), True


def _pieces(text: str) -> list[str]:
    """How a streamed answer is cut into deltas: one word (with its trailing space) each."""
    return _WORD_PIECES.findall(text) or [text]


def _capitalised_word(prompt: str) -> str | None:
    words: list[str] = re.findall(r"[A-Z][\w'-]*", prompt)
    for word in reversed(words):
        if word not in {"I", "What", "Whats", "What's", "How", "Why", "When", "Where", "Who", "Which", "Please"}:
            return word
    return None


def sample_from_schema(schema: Any, prompt: str = "", defs: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A deterministic JSON value valid for a (simple) JSON schema, as structured outputs need."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return sample_from_schema(defs.get(ref.rsplit("/", 1)[-1], {}), prompt, defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
            return sample_from_schema((non_null or options)[0], prompt, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: sample_from_schema(sub, prompt, defs, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [sample_from_schema(schema.get("items", {}), prompt, defs, depth + 1)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _capitalised_word(prompt) or "stand-in"


def _pick_tool(tools: list[Any], tool_choice: Any, name_of: Any) -> Any | None:
    """The function tool the answer calls, or ``None`` when it answers with text."""
    functions = [tool for tool in tools if isinstance(tool, Mapping) and tool.get("type", "function") == "function"]
    if not functions or tool_choice == "none":
        return None
    if isinstance(tool_choice, Mapping):
        wanted = tool_choice.get("name") or (tool_choice.get("function") or {}).get("name")  # chat or Responses
        for tool in functions:
            if name_of(tool) == wanted:
                return tool
    return functions[0]


def _arguments(parameters: Any, prompt: str) -> str:
    value = sample_from_schema(parameters or {"type": "object", "properties": {}}, prompt)
    return json.dumps(value if isinstance(value, dict) else {})


def _structured(fmt: Any, text: str, prompt: str) -> str | None:
    """The JSON answer a ``json_schema`` / ``json_object`` format asks for (None: plain text)."""
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": text})
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
        return json.dumps(sample_from_schema(schema, prompt))
    return None


# -- chat completions -----------------------------------------------------------------------------


def _chat_prompt(messages: list[Any]) -> tuple[str, int, bool]:
    """The last user message's text, the input tokens, and whether the last message is a tool result."""
    tokens = 3
    prompt = ""
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        text = _text_of(message.get("content"))
        tokens += 3 + count_tokens(text) + count_tokens(str(message.get("name") or ""))
        for call in message.get("tool_calls") or ():
            tokens += count_tokens(json.dumps(call))
        if message.get("role") == "user":
            prompt = text
    last_is_tool = bool(messages) and isinstance(messages[-1], Mapping) and messages[-1].get("role") in {
        "tool", "function"}
    return prompt, tokens, last_is_tool


def _chat_plan(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a chat completion answers, streamed or not."""
    prompt, input_tokens, last_is_tool = _chat_prompt(_list(body, "messages"))
    tools = _list(body, "tools")
    if tools:
        input_tokens += count_tokens(json.dumps(tools))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    tool = None if last_is_tool else _pick_tool(tools, body.get("tool_choice"),
                                                 lambda t: (t.get("function") or {}).get("name"))
    plan: dict[str, Any] = {"input_tokens": input_tokens, "n": _choices(body)}
    if tool is not None:
        function = tool.get("function") or {}
        arguments = _arguments(function.get("parameters"), prompt)
        plan.update(tool_call={"id": _next_id("call_"), "name": str(function.get("name") or "tool"),
                               "arguments": arguments},
                    text=None, finish_reason="tool_calls", output_tokens=count_tokens(arguments))
        return plan
    text = _answer_text(prompt)
    structured = _structured(body.get("response_format"), text, prompt)
    if structured is not None:
        text, cut = structured, False
    else:
        text, cut = _truncate(text, max_tokens)
    plan.update(tool_call=None, text=text, finish_reason="length" if cut else "stop",
                output_tokens=count_tokens(text))
    return plan


def _chat_usage(plan: Mapping[str, Any]) -> dict[str, Any]:
    reasoning = plan.get("reasoning_tokens", 0)
    output = plan["output_tokens"] * plan["n"] + reasoning
    return {
        "prompt_tokens": plan["input_tokens"],
        "completion_tokens": output,
        "total_tokens": plan["input_tokens"] + output,
        "prompt_tokens_details": {"cached_tokens": plan.get("cached_tokens", 0), "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def chat_completions(request: Request) -> Reply:
    """``POST /v1/chat/completions``."""
    body, model, error = _check(request, ("messages",))
    if error is not None:
        return error
    plan = _chat_plan(body)
    plan["cached_tokens"], plan["reasoning_tokens"] = _usage_details(request, plan["input_tokens"])
    plan["service_tier"] = _service_tier(body)
    refusal = _refusal(request)
    if refusal is not None:
        plan.update(tool_call=None, text=None, refusal=refusal, finish_reason="stop",
                    output_tokens=count_tokens(refusal))
    completion_id = _next_id("chatcmpl-")
    created = int(time.time())
    if body.get("stream"):
        return _reply(Reply(events=_chat_chunks(body, model, plan, completion_id, created)), request, model)
    message: dict[str, Any] = {"role": "assistant", "content": plan["text"], "refusal": plan.get("refusal"),
                               "annotations": []}
    if plan["tool_call"] is not None:
        call = plan["tool_call"]
        message["tool_calls"] = [{"id": call["id"], "type": "function",
                                  "function": {"name": call["name"], "arguments": call["arguments"]}}]
    return _reply(Reply(body={
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": _response_model(model),
        "choices": [{"index": i, "message": message, "logprobs": None, "finish_reason": plan["finish_reason"]}
                    for i in range(plan["n"])],
        "usage": _chat_usage(plan),
        "service_tier": plan["service_tier"],
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }), request, model)


def _chat_chunks(body: Mapping[str, Any], model: str, plan: Mapping[str, Any], completion_id: str,
                 created: int) -> Iterator[tuple[str | None, Any]]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(choices: list[dict[str, Any]]) -> tuple[None, dict[str, Any]]:
        data: dict[str, Any] = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                "model": _response_model(model), "service_tier": plan["service_tier"],
                                "system_fingerprint": SYSTEM_FINGERPRINT, "choices": choices}
        if include_usage:
            data["usage"] = None
        return None, data

    def delta(index: int, content: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": content, "logprobs": None, "finish_reason": finish_reason}

    n = plan["n"]
    call = plan["tool_call"]
    sent = 0
    if call is not None:
        yield chunk([delta(i, {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": ""}}
        ]}) for i in range(n)])
        for piece in _argument_pieces(call["arguments"]):
            yield chunk([delta(i, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}) for i in range(n)])
    elif plan.get("refusal") is not None:
        yield chunk([delta(i, {"role": "assistant", "content": None, "refusal": ""}) for i in range(n)])
        for piece in _pieces(plan["refusal"]):
            yield chunk([delta(i, {"refusal": piece}) for i in range(n)])
    else:
        yield chunk([delta(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)])
        for piece in _pieces(plan["text"]):
            if model == "error-stream" and sent == 2:
                yield None, {"error": {"message": "The stream broke off (stand-in error on demand).",
                                       "type": "server_error", "param": None, "code": None}}
                return
            yield chunk([delta(i, {"content": piece}) for i in range(n)])
            sent += 1
    yield chunk([delta(i, {}, plan["finish_reason"]) for i in range(n)])
    if include_usage:
        yield None, {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                     "model": _response_model(model), "service_tier": plan["service_tier"],
                     "system_fingerprint": SYSTEM_FINGERPRINT, "choices": [], "usage": _chat_usage(plan)}
    yield None, "[DONE]"


def _argument_pieces(arguments: str) -> list[str]:
    """Tool-call arguments cut as the API streams them: a few characters at a time."""
    return [arguments[i:i + 8] for i in range(0, len(arguments), 8)] or [""]


# -- legacy completions ---------------------------------------------------------------------------


def completions(request: Request) -> Reply:
    """``POST /v1/completions`` (the legacy text completion endpoint)."""
    body, model, error = _check(request, ("prompt",))
    if error is not None:
        return error
    prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
    prompt = " ".join(str(p) for p in prompts if isinstance(p, str))
    text, cut = _truncate(_answer_text(prompt), body.get("max_tokens", 16))
    finish_reason = "length" if cut else "stop"
    n = _choices(body)
    input_tokens = count_tokens(prompt) or 1
    usage = {"prompt_tokens": input_tokens, "completion_tokens": count_tokens(text) * n,
             "total_tokens": input_tokens + count_tokens(text) * n}
    completion_id = _next_id("cmpl-")
    created = int(time.time())
    head = {"id": completion_id, "object": "text_completion", "created": created, "model": _response_model(model),
            "system_fingerprint": SYSTEM_FINGERPRINT}
    if not body.get("stream"):
        choices = [{"text": text, "index": i, "logprobs": None, "finish_reason": finish_reason} for i in range(n)]
        return _reply(Reply(body={**head, "choices": choices, "usage": usage}), request, model)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def events() -> Iterator[tuple[str | None, Any]]:
        for number, piece in enumerate(_pieces(text)):
            if model == "error-stream" and number == 2:
                yield None, {"error": {"message": "The stream broke off (stand-in error on demand).",
                                       "type": "server_error", "param": None, "code": None}}
                return
            yield None, {**head, "choices": [{"text": piece, "index": i, "logprobs": None, "finish_reason": None}
                                             for i in range(n)]}
        yield None, {**head, "choices": [{"text": "", "index": i, "logprobs": None, "finish_reason": finish_reason}
                                         for i in range(n)]}
        if include_usage:
            yield None, {**head, "choices": [], "usage": usage}
        yield None, "[DONE]"

    return _reply(Reply(events=events()), request, model)


# -- embeddings -----------------------------------------------------------------------------------


def _vector(text: str, dimensions: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 8) for v in values]


def embeddings(request: Request) -> Reply:
    """``POST /v1/embeddings``."""
    body, model, error = _check(request, ("input",))
    if error is not None:
        return error
    inputs = body["input"]
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        return _error(400, "'input' must be a non-empty string or array.", "input")
    dimensions = body.get("dimensions")
    if not isinstance(dimensions, int) or dimensions <= 0:
        dimensions = 3072 if model.endswith("-large") else 1536
    data = []
    tokens = 0
    for index, item in enumerate(inputs):
        text = item if isinstance(item, str) else " ".join(str(t) for t in item)
        tokens += count_tokens(text) if isinstance(item, str) else len(item)
        vector = _vector(text, dimensions)
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return _reply(Reply(body={"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}), request, model)


# -- Responses API --------------------------------------------------------------------------------


def _responses_prompt(body: Mapping[str, Any]) -> tuple[str, int, bool]:
    """The last user text, the input tokens, and whether the last input item is a tool result."""
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        items = []
    tokens = 3 + (3 + count_tokens(body["instructions"]) if isinstance(body.get("instructions"), str) else 0)
    prompt = ""
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call_output":
            tokens += 3 + count_tokens(str(item.get("output") or ""))
        elif item.get("type") == "function_call":
            tokens += 3 + count_tokens(str(item.get("arguments") or ""))
        else:
            text = _text_of(item.get("content"))
            tokens += 3 + count_tokens(text)
            if item.get("role") == "user":
                prompt = text
    last_is_tool = bool(items) and isinstance(items[-1], Mapping) and items[-1].get("type") == "function_call_output"
    return prompt, tokens, last_is_tool


def _response_object(body: Mapping[str, Any], model: str, response_id: str, created: int, status: str,
                     output: list[dict[str, Any]], usage: dict[str, Any] | None,
                     incomplete_reason: str | None = None) -> dict[str, Any]:
    text_config = body.get("text") if isinstance(body.get("text"), Mapping) else {"format": {"type": "text"}}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": _response_model(model),
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": _service_tier(body),
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": text_config,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def responses(request: Request) -> Reply:
    """``POST /v1/responses``: a ``Response`` object, or its event stream."""
    body, model, error = _check(request, ())
    if error is not None:
        return error
    if body.get("input") is None and body.get("previous_response_id") is None:
        return _error(400, "Missing required parameter: 'input'.", "input")
    prompt, input_tokens, last_is_tool = _responses_prompt(body)
    tools = _list(body, "tools")
    if tools:
        input_tokens += count_tokens(json.dumps(tools))
    tool = None if last_is_tool else _pick_tool(tools, body.get("tool_choice"), lambda t: t.get("name"))
    refusal = _refusal(request)
    if refusal is not None:
        tool = None
    response_id = _next_id("resp_")
    item_id = _next_id("msg_" if tool is None else "fc_")
    created = int(time.time())
    incomplete_reason: str | None = None
    if tool is not None:
        arguments = _arguments(tool.get("parameters"), prompt)
        output_tokens = count_tokens(arguments)
        item: dict[str, Any] = {"type": "function_call", "id": item_id, "call_id": _next_id("call_"),
                                "name": str(tool.get("name") or "tool"), "arguments": arguments,
                                "status": "completed"}
        text = ""
    else:
        text = _answer_text(prompt)
        structured = _structured((body.get("text") or {}).get("format"), text, prompt)
        if structured is not None:
            text = structured
        else:
            text, cut = _truncate(text, body.get("max_output_tokens"))
            incomplete_reason = "max_output_tokens" if cut else None
        output_tokens = count_tokens(text)
        item = {"type": "message", "id": item_id, "status": "incomplete" if incomplete_reason else "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}
        if refusal is not None:
            text, incomplete_reason, output_tokens = "", None, count_tokens(refusal)
            item.update(status="completed", content=[{"type": "refusal", "refusal": refusal}])
    cached, reasoning = _usage_details(request, input_tokens)
    usage = {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": cached},
             "output_tokens": output_tokens + reasoning, "output_tokens_details": {"reasoning_tokens": reasoning},
             "total_tokens": input_tokens + output_tokens + reasoning}
    status = "incomplete" if incomplete_reason else "completed"
    final = _response_object(body, model, response_id, created, status, [item], usage, incomplete_reason)
    if not body.get("stream"):
        return _reply(Reply(body=final), request, model)
    started = _response_object(body, model, response_id, created, "in_progress", [], None)
    return _reply(Reply(events=_response_events(model, started, final, item, text)), request, model)


def _response_events(model: str, started: dict[str, Any], final: dict[str, Any], item: dict[str, Any],
                     text: str) -> Iterator[tuple[str | None, Any]]:
    numbers = itertools.count()

    def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return kind, {"type": kind, "sequence_number": next(numbers), **fields}

    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    item_id = item["id"]
    if item["type"] == "function_call":
        yield event("response.output_item.added", output_index=0,
                    item={**item, "arguments": "", "status": "in_progress"})
        for piece in _argument_pieces(item["arguments"]):
            yield event("response.function_call_arguments.delta", item_id=item_id, output_index=0, delta=piece)
        yield event("response.function_call_arguments.done", item_id=item_id, output_index=0,
                    name=item["name"], arguments=item["arguments"])
    elif item["content"][0]["type"] == "refusal":
        refusal = item["content"][0]["refusal"]
        yield event("response.output_item.added", output_index=0,
                    item={**item, "status": "in_progress", "content": []})
        yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                    part={"type": "refusal", "refusal": ""})
        for piece in _pieces(refusal):
            yield event("response.refusal.delta", item_id=item_id, output_index=0, content_index=0, delta=piece)
        yield event("response.refusal.done", item_id=item_id, output_index=0, content_index=0, refusal=refusal)
        yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0,
                    part=item["content"][0])
    else:
        yield event("response.output_item.added", output_index=0,
                    item={**item, "status": "in_progress", "content": []})
        empty_part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                    part=empty_part)
        for number, piece in enumerate(_pieces(text)):
            if model == "error-stream" and number == 2:
                message = "The stream broke off (stand-in error on demand)."
                yield event("error", code="server_error", message=message, param=None)
                failed = {**final, "status": "failed", "output": [], "usage": None,
                          "error": {"code": "server_error", "message": message}}
                yield event("response.failed", response=failed)
                return
            yield event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0,
                        delta=piece, logprobs=[])
        yield event("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=text,
                    logprobs=[])
        yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0,
                    part=item["content"][0])
    yield event("response.output_item.done", output_index=0, item=item)
    yield event("response.incomplete" if final["status"] == "incomplete" else "response.completed", response=final)


# -- models ---------------------------------------------------------------------------------------

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-3.5-turbo-instruct", "text-embedding-3-small",
          "text-embedding-3-large")


def list_models(request: Request) -> Reply:
    """``GET /v1/models``."""
    return Reply(body={"object": "list", "data": [
        {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for name in MODELS]})


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/completions"): completions,
    ("POST", "/v1/embeddings"): embeddings,
    ("POST", "/v1/responses"): responses,
    ("GET", "/v1/models"): list_models,
}

API = Api(name="openai", routes=ROUTES, base_path="/v1")
"""A client's ``base_url`` ends in ``/v1``: ``StandInServer.url_for("openai")``."""
