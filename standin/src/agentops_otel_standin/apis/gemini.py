"""Stand-in routes of the Gemini API (Google AI, REST): ``POST /{version}/models/{model}:generateContent``,
``:streamGenerateContent?alt=sse`` (server-sent events) and ``:batchEmbedContents``, for ``v1`` and
``v1beta`` (``google-genai`` with a custom ``base_url`` uses ``v1``).

Replies are deterministic, so tests can assert on them:

- ``generateContent`` answers one candidate with ``TEXT`` (``finishReason`` ``STOP``), or, when
  ``tools`` with ``functionDeclarations`` are given and the last content is not a
  ``functionResponse``, one ``functionCall`` of the first function with ``FUNCTION_ARGS``
  (``finishReason`` ``STOP`` too, as the real API's);
- ``usageMetadata.promptTokenCount`` is ``prompt_tokens_for(body)`` (a quarter of the prompt's JSON
  length), ``candidatesTokenCount`` ``CANDIDATES_TOKENS_TEXT`` or ``CANDIDATES_TOKENS_TOOL``; with
  ``cachedContent`` in the request, ``cachedContentTokenCount`` is ``CACHED_TOKENS``;
- ``modelVersion`` is the model of the path; ``responseId`` is ``standin-<n>``;
- streams send ``TEXT_DELTAS`` one an event, each with the ids and the prompt's usage, the last
  with ``finishReason`` and the whole usage (a function call comes whole, in one event);
- ``batchEmbedContents`` answers one vector of ``EMBEDDING_DIMENSIONS`` values (or the request's
  ``outputDimensionality``) per request;
- a model named ``error-<status>[-<anything>]`` gets that HTTP status with Google's error body
  (``{"error": {"code", "message", "status"}}``); ``error-stream`` breaks a stream off after its
  first event with an ``{"error": ...}`` event, as the API does when a model fails mid-stream.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request

TEXT = "Hello from the Gemini stand-in."
TEXT_DELTAS = ("Hello", " from the", " Gemini", " stand-in.")
FUNCTION_ARGS: dict[str, Any] = {"location": "Paris"}
CANDIDATES_TOKENS_TEXT = 7
CANDIDATES_TOKENS_TOOL = 12
CACHED_TOKENS = 4
EMBEDDING_DIMENSIONS = 8
STREAM_ERROR_MODEL = "error-stream"

# HTTP status -> the ``status`` Google's APIs report with it.
ERROR_STATUSES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

_ids = itertools.count(1)


def prompt_tokens_for(body: dict[str, Any]) -> int:
    """The stand-in's ``promptTokenCount`` for a request body: deterministic, grows with the prompt."""
    prompt = {key: body.get(key) for key in ("systemInstruction", "contents", "tools")}
    return max(CACHED_TOKENS + 1, len(json.dumps(prompt, sort_keys=True)) // 4)


def _error_status(model: str) -> int | None:
    parts = model.split("-")
    if len(parts) >= 2 and parts[0] == "error" and parts[1].isdigit():
        return int(parts[1])
    return None


def _error_body(status: int) -> dict[str, Any]:
    code = ERROR_STATUSES.get(status, "INTERNAL")
    return {"error": {"code": status, "message": f"stand-in {code} (HTTP {status})", "status": code}}


def _model(request: Request) -> str:
    model = request.path_params.get("model", "gemini-2.5-flash")
    return model.removeprefix("models/")


def _wants_function_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """The first function declared, if the model is to call it now."""
    contents = body.get("contents") or []
    last = contents[-1] if contents else None
    if isinstance(last, dict) and any(isinstance(part, dict) and "functionResponse" in part
                                      for part in last.get("parts") or ()):
        return None
    for tool in body.get("tools") or ():
        declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        if declarations:
            return declarations[0] if isinstance(declarations[0], dict) else None
    return None


def _usage(body: dict[str, Any], candidates_tokens: int | None) -> dict[str, Any]:
    prompt_tokens = prompt_tokens_for(body)
    usage: dict[str, Any] = {"promptTokenCount": prompt_tokens}
    if candidates_tokens is not None:
        usage["candidatesTokenCount"] = candidates_tokens
    usage["totalTokenCount"] = prompt_tokens + (candidates_tokens or 0)
    if body.get("cachedContent"):
        usage["cachedContentTokenCount"] = CACHED_TOKENS
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": CACHED_TOKENS}]
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    return usage


def _candidate(parts: list[dict[str, Any]], finish_reason: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    return candidate


def generate_content(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = _model(request)
    status = _error_status(model)
    if status is not None:
        return Reply(status=status, body=_error_body(status))
    n = next(_ids)
    function = _wants_function_call(body)
    parts: list[dict[str, Any]]
    if function is not None:
        parts = [{"functionCall": {"name": function.get("name", "tool"), "args": FUNCTION_ARGS}}]
        tokens = CANDIDATES_TOKENS_TOOL
    else:
        parts, tokens = [{"text": TEXT}], CANDIDATES_TOKENS_TEXT
    return Reply(body={"candidates": [_candidate(parts, "STOP")], "usageMetadata": _usage(body, tokens),
                       "modelVersion": model, "responseId": f"standin-{n:06d}"})


def stream_generate_content(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = _model(request)
    status = _error_status(model)
    if status is not None:
        return Reply(status=status, body=_error_body(status))
    n = next(_ids)
    ids = {"modelVersion": model, "responseId": f"standin-{n:06d}"}
    function = _wants_function_call(body)
    if function is not None:
        parts = [{"functionCall": {"name": function.get("name", "tool"), "args": FUNCTION_ARGS}}]
        return Reply(events=[(None, {"candidates": [_candidate(parts, "STOP")],
                                     "usageMetadata": _usage(body, CANDIDATES_TOKENS_TOOL), **ids})])
    events: list[tuple[str | None, Any]] = []
    last = len(TEXT_DELTAS) - 1
    for i, delta in enumerate(TEXT_DELTAS):
        done = i == last
        events.append((None, {"candidates": [_candidate([{"text": delta}], "STOP" if done else None)],
                              "usageMetadata": _usage(body, CANDIDATES_TOKENS_TEXT if done else None), **ids}))
        if model == STREAM_ERROR_MODEL:
            events.append((None, _error_body(500)))
            break
    return Reply(events=events)


def batch_embed_contents(request: Request) -> Reply:
    body = request.body if isinstance(request.body, dict) else {}
    model = _model(request)
    status = _error_status(model)
    if status is not None:
        return Reply(status=status, body=_error_body(status))
    embeddings = []
    for item in body.get("requests") or ():
        size = item.get("outputDimensionality") if isinstance(item, dict) else None
        size = size if isinstance(size, int) else EMBEDDING_DIMENSIONS
        embeddings.append({"values": [round(0.01 * (i + 1), 4) for i in range(size)]})
    return Reply(body={"embeddings": embeddings})


ROUTES: dict[tuple[str, str], Handler] = {}
for _version in ("v1", "v1beta"):
    ROUTES[("POST", f"/{_version}/models/{{model}}:generateContent")] = generate_content
    ROUTES[("POST", f"/{_version}/models/{{model}}:streamGenerateContent")] = stream_generate_content
    ROUTES[("POST", f"/{_version}/models/{{model}}:batchEmbedContents")] = batch_embed_contents

API = Api(name="gemini", routes=ROUTES)
"""A client's ``http_options.base_url`` is the stand-in's root: ``StandInServer.url_for("gemini")``."""
