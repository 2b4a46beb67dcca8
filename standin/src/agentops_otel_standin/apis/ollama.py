"""Stand-in routes of Ollama's native API: ``POST /api/chat``, ``POST /api/generate`` and
``POST /api/embed`` (JSON, or NDJSON streams: one JSON object a line, the last with ``done: true``).

Replies are deterministic, so tests can assert on them:

- ``/api/chat`` answers ``TEXT`` (``done_reason`` ``stop``), or, when ``tools`` are given and the last
  message is not a ``tool`` message, one tool call of the first tool with ``TOOL_ARGUMENTS`` (as a
  JSON object, as Ollama sends them; ``done_reason`` is ``stop`` then too, as Ollama's is);
- ``/api/generate`` answers ``TEXT`` in ``response``, with a ``context``;
- ``/api/embed`` answers one vector of ``EMBEDDING_DIMENSIONS`` floats per input;
- ``prompt_eval_count`` is ``prompt_tokens_for(body)`` (a quarter of the prompt's JSON length),
  ``eval_count`` ``EVAL_COUNT_TEXT`` or ``EVAL_COUNT_TOOL``; ``model`` is echoed back as sent;
- streams (``"stream": true``, which Ollama also assumes when ``stream`` is left out) send
  ``TEXT_DELTAS`` one a line, then a final line with ``done``, ``done_reason`` and the counts;
- a model named ``error-<status>[-<anything>]`` gets that HTTP status with Ollama's error body
  (``{"error": "..."}``), and ``error-stream`` breaks a stream off after its first line with an
  ``{"error": ...}`` line, as Ollama does when a model fails mid-stream.
"""

from __future__ import annotations

import json
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request

TEXT = "Hello from the Ollama stand-in."
TEXT_DELTAS = ("Hello", " from the", " Ollama", " stand-in.")
TOOL_ARGUMENTS: dict[str, Any] = {"location": "Paris"}
EVAL_COUNT_TEXT = 7
EVAL_COUNT_TOOL = 12
EMBEDDING_DIMENSIONS = 8
STREAM_ERROR_MODEL = "error-stream"
CREATED_AT = "2025-01-01T00:00:00.000000Z"
# Durations in nanoseconds, as Ollama reports them.
_DURATIONS = {"total_duration": 1_250_000_000, "load_duration": 50_000_000, "prompt_eval_duration": 200_000_000,
              "eval_duration": 1_000_000_000}
_NDJSON = {"content-type": "application/x-ndjson"}


def prompt_tokens_for(body: dict[str, Any]) -> int:
    """The stand-in's ``prompt_eval_count`` for a request body: deterministic, grows with the prompt."""
    prompt = {key: body.get(key) for key in ("system", "prompt", "messages", "tools", "input")}
    return max(1, len(json.dumps(prompt, sort_keys=True)) // 4)


def _error_status(model: str) -> int | None:
    parts = model.split("-")
    if len(parts) >= 2 and parts[0] == "error" and parts[1].isdigit():
        return int(parts[1])
    return None


def _error(model: str) -> Reply | None:
    status = _error_status(model)
    if status is None:
        return None
    text = f'model "{model}" not found, try pulling it first' if status == 404 else f"stand-in error (HTTP {status})"
    return Reply(status=status, body={"error": text})


def _ndjson(lines: list[dict[str, Any]]) -> Reply:
    return Reply(body="".join(json.dumps(line) + "\n" for line in lines).encode(), headers=_NDJSON)


def _wants_tool_call(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    return bool(body.get("tools")) and not (isinstance(last, dict) and last.get("role") == "tool")


def _final(body: dict[str, Any], eval_count: int) -> dict[str, Any]:
    return {"done": True, "done_reason": "stop", **_DURATIONS, "prompt_eval_count": prompt_tokens_for(body),
            "eval_count": eval_count}


def chat(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model", "llama3.2"))
    error = _error(model)
    if error is not None:
        return error
    head = {"model": model, "created_at": CREATED_AT}
    if _wants_tool_call(body):
        function = body["tools"][0].get("function") or {}
        message = {"role": "assistant", "content": "",
                   "tool_calls": [{"function": {"name": function.get("name", "tool"), "arguments": TOOL_ARGUMENTS}}]}
        if body.get("stream", True) is False:
            return Reply(body={**head, "message": message, **_final(body, EVAL_COUNT_TOOL)})
        # Ollama streams a tool call whole, in one line, then the final line.
        return _ndjson([{**head, "message": message, "done": False},
                        {**head, "message": {"role": "assistant", "content": ""}, **_final(body, EVAL_COUNT_TOOL)}])
    if body.get("stream", True) is False:
        return Reply(body={**head, "message": {"role": "assistant", "content": TEXT}, **_final(body, EVAL_COUNT_TEXT)})
    lines: list[dict[str, Any]] = []
    for delta in TEXT_DELTAS:
        lines.append({**head, "message": {"role": "assistant", "content": delta}, "done": False})
        if model == STREAM_ERROR_MODEL:
            lines.append({"error": "an error was encountered while running the model"})
            return _ndjson(lines)
    lines.append({**head, "message": {"role": "assistant", "content": ""}, **_final(body, EVAL_COUNT_TEXT)})
    return _ndjson(lines)


def generate(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model", "llama3.2"))
    error = _error(model)
    if error is not None:
        return error
    head = {"model": model, "created_at": CREATED_AT}
    context = [1, 2, 3]
    if body.get("stream", True) is False:
        return Reply(body={**head, "response": TEXT, **_final(body, EVAL_COUNT_TEXT), "context": context})
    lines: list[dict[str, Any]] = []
    for delta in TEXT_DELTAS:
        lines.append({**head, "response": delta, "done": False})
        if model == STREAM_ERROR_MODEL:
            lines.append({"error": "an error was encountered while running the model"})
            return _ndjson(lines)
    lines.append({**head, "response": "", **_final(body, EVAL_COUNT_TEXT), "context": context})
    return _ndjson(lines)


def embed(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model", "all-minilm"))
    error = _error(model)
    if error is not None:
        return error
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    requested = body.get("dimensions")
    dimensions = requested if isinstance(requested, int) else EMBEDDING_DIMENSIONS
    vector = [round(0.01 * (i + 1), 4) for i in range(dimensions)]
    return Reply(body={"model": model, "embeddings": [vector] * count, "total_duration": 14_143_917,
                       "load_duration": 1_019_500, "prompt_eval_count": prompt_tokens_for(body)})


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/api/chat"): chat,
    ("POST", "/api/generate"): generate,
    ("POST", "/api/embed"): embed,
}

API = Api(name="ollama", routes=ROUTES)
"""A client's ``host`` is the stand-in's root: ``StandInServer.url_for("ollama")``."""
