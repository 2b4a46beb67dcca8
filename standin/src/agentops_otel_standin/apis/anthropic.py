"""Stand-in routes of the Anthropic Messages API: ``POST /v1/messages`` (JSON or server-sent events)
and ``POST /v1/messages/count_tokens``.

Replies are deterministic, so tests can assert on them:

- the reply is one ``text`` block (``TEXT``), or, when ``tools`` are given and the last user message
  is not a ``tool_result``, one ``tool_use`` block calling the first tool with ``TOOL_INPUT``
  (``stop_reason`` ``tool_use``);
- ``usage.input_tokens`` is ``input_tokens_for(body)`` (a quarter of the prompt's JSON length),
  ``usage.output_tokens`` is ``OUTPUT_TOKENS_TEXT`` or ``OUTPUT_TOKENS_TOOL``;
- the headers ``x-standin-cache-read-tokens: N`` and ``x-standin-cache-creation-tokens: N`` report
  N tokens read from / written to the prompt cache (``cache_read_input_tokens``,
  ``cache_creation_input_tokens``, which the real API counts apart from ``input_tokens``);
- ``model`` is echoed back as sent;
- structured output (``output_config.format``, or the beta ``output_format``, of type ``json_schema``):
  the text is JSON generated from the schema, so ``messages.parse`` validates it;
- the same Messages API on Google Vertex AI (``AnthropicVertex``: ``POST /v1/projects/{project}/
  locations/{region}/publishers/anthropic/models/{model}:rawPredict`` and ``:streamRawPredict``), where
  the model is in the path and the body names an ``anthropic_version`` (Bedrock's ``invoke`` is
  ``apis/bedrock.py``'s);
- a model named ``error-<status>[-<anything>]`` (``error-429``, ``error-529``, ...) gets that HTTP status with an
  Anthropic-shaped error body, and ``error-stream`` (with ``stream=true``) gets an ``error`` event
  (``overloaded_error``) after the first text delta, as the real API does when it fails mid-stream.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request
from agentops_otel_standin.apis.openai import sample_from_schema

TEXT = "Hello from the Anthropic stand-in."
TEXT_DELTAS = ("Hello", " from the", " Anthropic", " stand-in.")
TOOL_INPUT: dict[str, Any] = {"location": "Paris"}
OUTPUT_TOKENS_TEXT = 7
OUTPUT_TOKENS_TOOL = 12
STREAM_ERROR_MODEL = "error-stream"

# HTTP status -> the ``error.type`` the real API reports with it.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_ids = itertools.count(1)


def input_tokens_for(body: dict[str, Any]) -> int:
    """The stand-in's ``usage.input_tokens`` for a request body: deterministic, grows with the prompt."""
    prompt = {"system": body.get("system"), "messages": body.get("messages"), "tools": body.get("tools")}
    return max(1, len(json.dumps(prompt, sort_keys=True)) // 4)


def _error_status(model: str) -> int | None:
    """``error-429`` -> 429; a suffix (``error-429-claude``) tells tests' calls apart in shared metrics."""
    parts = model.split("-")
    if len(parts) >= 2 and parts[0] == "error" and parts[1].isdigit():
        return int(parts[1])
    return None


def _error_body(status: int) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"stand-in {kind} (HTTP {status})"},
            "request_id": f"req_standin_{status}"}


def _wants_tool_use(body: dict[str, Any]) -> bool:
    if not body.get("tools"):
        return False
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    answers_a_tool = (
        isinstance(last, dict) and last.get("role") == "user" and isinstance(last.get("content"), list)
        and any(isinstance(block, dict) and block.get("type") == "tool_result" for block in last["content"])
    )
    return not answers_a_tool


def _tool_block(body: dict[str, Any], n: int) -> dict[str, Any]:
    tool = body["tools"][0]
    return {"type": "tool_use", "id": f"toolu_standin_{n}", "name": tool.get("name", "tool"), "input": TOOL_INPUT}


def _usage(input_tokens: int, output_tokens: int, cache: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_creation_input_tokens": cache[1],
            "cache_read_input_tokens": cache[0], "service_tier": "standard"}


def _cache_tokens(request: Request) -> tuple[int, int]:
    """The cache read and cache creation tokens a request asks the stand-in to report."""
    values = [(request.headers.get(name) or "").strip()
              for name in ("x-standin-cache-read-tokens", "x-standin-cache-creation-tokens")]
    return int(values[0]) if values[0].isdigit() else 0, int(values[1]) if values[1].isdigit() else 0


def _structured_text(body: dict[str, Any]) -> str | None:
    """The JSON answer a ``json_schema`` output format asks for, else ``None`` (plain text)."""
    config = body.get("output_config")
    found = config.get("format") if isinstance(config, dict) else None
    if not isinstance(found, dict):
        found = body.get("output_format")
    if isinstance(found, dict) and found.get("type") == "json_schema":
        return json.dumps(sample_from_schema(found.get("schema") or {}))
    return None


def messages(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model", "claude-sonnet-5-5"))
    status = _error_status(model)
    n = next(_ids)
    headers = {"request-id": f"req_standin_{n:06d}"}
    if status is not None:
        # ``x-should-retry: false`` keeps a client with retries from retrying a deliberate error.
        return Reply(status=status, body=_error_body(status), headers={**headers, "x-should-retry": "false"})
    tool_use = _wants_tool_use(body)
    structured = None if tool_use else _structured_text(body)
    block = _tool_block(body, n) if tool_use else {"type": "text", "text": structured or TEXT}
    stop_reason = "tool_use" if tool_use else "end_turn"
    input_tokens = input_tokens_for(body)
    output_tokens = OUTPUT_TOKENS_TOOL if tool_use else OUTPUT_TOKENS_TEXT
    message_id = f"msg_standin_{n:06d}"
    if body.get("stream") is True:
        return Reply(events=_events(message_id, model, block, stop_reason, input_tokens, output_tokens,
                                    _cache_tokens(request)), headers=headers)
    return Reply(headers=headers, body={
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [block],
        "stop_reason": stop_reason, "stop_sequence": None,
        "usage": _usage(input_tokens, output_tokens, _cache_tokens(request)),
    })


def _events(message_id: str, model: str, block: dict[str, Any], stop_reason: str, input_tokens: int,
            output_tokens: int, cache: tuple[int, int] = (0, 0)) -> list[tuple[str | None, Any]]:
    """The event sequence of a streamed Message, as the real API sends it."""
    start_block: dict[str, Any]
    deltas: list[dict[str, Any]]
    if block["type"] == "tool_use":
        start_block = {**block, "input": {}}
        arguments = json.dumps(block["input"])
        half = len(arguments) // 2
        deltas = [{"type": "input_json_delta", "partial_json": part} for part in (arguments[:half], arguments[half:])]
    else:
        start_block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": text} for text in TEXT_DELTAS]
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": _usage(input_tokens, 1, cache)}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": start_block}),
        ("ping", {"type": "ping"}),
    ]
    for i, delta in enumerate(deltas):
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        if model == STREAM_ERROR_MODEL and i == 0:
            events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            return events
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                           "usage": {"output_tokens": output_tokens}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def platform_messages(request: Request) -> Reply:
    """The Messages API on Vertex AI: the model comes in the path, the rest as usual."""
    body = dict(request.body) if isinstance(request.body, dict) else {}
    body["model"] = request.path_params["model"]
    if request.path.endswith(":streamRawPredict"):
        body["stream"] = True
    return messages(Request(request.method, request.path, request.headers, body, request.path_params, request.query))


def count_tokens(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    return Reply(body={"input_tokens": input_tokens_for(body)})


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/messages"): messages,
    ("POST", "/v1/messages/count_tokens"): count_tokens,
    ("POST", "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict"):
        platform_messages,
    ("POST", "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:streamRawPredict"):
        platform_messages,
}

API = Api(name="anthropic", routes=ROUTES)
"""A client's ``base_url`` is the host: ``StandInServer.url_for("anthropic")``."""
