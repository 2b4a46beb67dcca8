"""Stand-in routes of the Mistral API: chat completions (JSON and streams) and embeddings.

The answers are the OpenAI stand-in's (``apis/openai.py``: the text, token counts, tool calls and
the ``error-<status>`` / ``error-stream`` / ``-delay-<N>ms`` model conventions), shaped as Mistral
sends them:

- ids are 32 hex digits; the model is reported as requested; ``usage`` has only
  ``prompt_tokens``, ``completion_tokens`` and ``total_tokens``;
- a tool call is ``{"id" (9 characters), "type": "function", "function": {"name", "arguments"},
  "index"}``, sent whole in one stream chunk;
- a stream carries its usage on the chunk with the ``finish_reason``, then ``[DONE]``;
- errors are ``{"object": "error", "message", "type", "param", "code"}`` (``mistralai`` raises
  ``errors.SDKError``); ``error-stream`` breaks a stream off with the OpenAI stand-in's in-stream
  error chunk, which ``mistralai`` raises as ``ResponseValidationError``;
- embeddings are 1024 floats (or ``output_dimension``) per input.

Served under the mount ``/mistral`` (``StandInServer.url_for("mistral")``), since its paths are
OpenAI's too.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request
from agentops_otel_standin.apis import openai

_ids = itertools.count(1)
_EMBEDDING_DIMENSIONS = 1024


def _mistral_id() -> str:
    return hashlib.sha256(f"standin-{next(_ids)}".encode()).hexdigest()[:32]


def _tool_call_id(openai_id: str) -> str:
    return hashlib.sha256(openai_id.encode()).hexdigest()[:9]


def _usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    return {"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["total_tokens"],
            "completion_tokens": usage["completion_tokens"]}


def _error(reply: Reply) -> Reply:
    error = reply.body.get("error", {}) if isinstance(reply.body, Mapping) else {}
    return Reply(reply.status, {"object": "error", "message": error.get("message"), "type": error.get("type"),
                                "param": error.get("param"), "code": error.get("code")})


def _tool_calls(calls: Any) -> list[dict[str, Any]] | None:
    if not calls:
        return None
    return [{"id": _tool_call_id(call["id"]), "type": "function",
             "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"]},
             "index": index} for index, call in enumerate(calls)]


def _model(request: Request) -> str:
    body = request.body if isinstance(request.body, Mapping) else {}
    return str(body.get("model", ""))


def _in_openai_terms(request: Request) -> Request:
    """Mistral's chat request as the OpenAI stand-in reads it (a stream always with its usage)."""
    body = request.body if isinstance(request.body, Mapping) else None
    if body is None:
        return request
    adapted = {**body}
    if isinstance(body.get("random_seed"), int):
        adapted["seed"] = body["random_seed"]
    if body.get("stream"):
        adapted["stream_options"] = {"include_usage": True}
    return replace(request, body=adapted)


def chat_completions(request: Request) -> Reply:
    """``POST /v1/chat/completions`` (``stream: true`` for server-sent events)."""
    reply = openai.chat_completions(_in_openai_terms(request))
    reply.headers.pop("openai-processing-ms", None)
    if reply.status != 200:
        return _error(reply)
    model = _model(request)
    if reply.events is not None:
        return replace(reply, events=_chunks(reply.events, model))
    completion = reply.body
    return replace(reply, body={
        "id": _mistral_id(),
        "object": "chat.completion",
        "model": model,
        "usage": _usage(completion["usage"]),
        "created": completion["created"],
        "choices": [{"index": choice["index"], "message": {
            "role": "assistant", "content": choice["message"]["content"] or "",
            "tool_calls": _tool_calls(choice["message"].get("tool_calls")), "prefix": False,
        }, "finish_reason": choice["finish_reason"]} for choice in completion["choices"]],
    })


def _chunks(events: Iterable[tuple[str | None, Any]], model: str) -> Iterator[tuple[str | None, Any]]:
    """OpenAI's chunks as Mistral's: one chunk per tool call, the usage on the finish chunk."""
    events = list(events)
    usage = next((data["usage"] for _name, data in events
                  if isinstance(data, dict) and data.get("usage") is not None), None)
    stream_id = _mistral_id()
    calls: dict[int, dict[str, Any]] = {}
    for name, data in events:
        if not isinstance(data, dict) or "choices" not in data:  # "[DONE]", an in-stream error
            yield name, data
            continue
        if not data["choices"]:  # OpenAI's separate usage chunk: Mistral puts it on the finish chunk
            continue
        choice = data["choices"][0]
        delta = choice["delta"]
        for call in delta.get("tool_calls") or ():  # gathered: Mistral sends a tool call whole
            kept = calls.setdefault(call["index"], {"id": None, "function": {"name": None, "arguments": ""}})
            kept["id"] = call.get("id") or kept["id"]
            kept["function"]["name"] = call["function"].get("name") or kept["function"]["name"]
            kept["function"]["arguments"] += call["function"].get("arguments") or ""
        if delta.get("tool_calls") and not choice["finish_reason"]:
            continue
        chunk: dict[str, Any] = {"id": stream_id, "object": "chat.completion.chunk", "created": data["created"],
                                 "model": model, "choices": []}
        out_delta: dict[str, Any] = {"content": delta.get("content") or ""}
        if delta.get("role"):
            out_delta = {"role": "assistant", **out_delta}
        if choice["finish_reason"]:
            if calls:
                yield name, {**chunk, "choices": [{"index": 0, "delta": {
                    "role": "assistant", "content": "", "tool_calls": _tool_calls(list(calls.values()))},
                    "finish_reason": None}]}
            if usage is not None:
                chunk["usage"] = _usage(usage)
        chunk["choices"] = [{"index": choice["index"], "delta": out_delta, "finish_reason": choice["finish_reason"]}]
        yield name, chunk


def embeddings(request: Request) -> Reply:
    """``POST /v1/embeddings``."""
    body = request.body if isinstance(request.body, Mapping) else None
    if body is not None:
        dimensions = body.get("output_dimension")
        request = replace(request, body={
            "model": body.get("model"), "input": body.get("input"),
            "dimensions": dimensions if isinstance(dimensions, int) else _EMBEDDING_DIMENSIONS})
    reply = openai.embeddings(request)
    reply.headers.pop("openai-processing-ms", None)
    if reply.status != 200:
        return _error(reply)
    result = reply.body
    return replace(reply, body={
        "id": _mistral_id(), "object": "list", "model": _model(request),
        "data": [{"object": "embedding", "embedding": item["embedding"], "index": item["index"]}
                 for item in result["data"]],
        "usage": {"prompt_tokens": result["usage"]["prompt_tokens"], "total_tokens": result["usage"]["total_tokens"],
                  "completion_tokens": 0},
    })


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/embeddings"): embeddings,
}

API = Api(name="mistral", routes=ROUTES, mount="/mistral")
"""A client's ``server_url`` is ``StandInServer.url_for("mistral")``; it adds ``/v1/...`` itself."""
