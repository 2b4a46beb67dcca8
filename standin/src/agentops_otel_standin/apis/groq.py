"""Stand-in routes of the Groq API: chat completions, OpenAI-compatible under ``/openai/v1``.

The answers are the OpenAI stand-in's (``apis/openai.py``: the text, token counts, tool calls,
``n`` choices and the ``error-<status>`` / ``error-stream`` / ``-delay-<N>ms`` model conventions),
reshaped as Groq sends them:

- the model is reported as requested (no dated snapshot), ``service_tier`` is ``on_demand``, the
  message has no ``refusal`` / ``annotations``;
- ``x_groq: {"id": "req_..."}`` on the response and on a stream's first chunk;
- ``usage`` adds Groq's timings (``queue_time``, ``prompt_time``, ``completion_time``,
  ``total_time``) and has no OpenAI token details;
- a stream's usage comes in its finish chunk's ``x_groq.usage``; with
  ``stream_options.include_usage`` it comes instead in a final chunk with no choices, as OpenAI's.

Served under the mount ``/groq`` (``StandInServer.url_for("groq")``); the ``groq`` client adds
``/openai/v1/...`` to its base URL itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request
from agentops_otel_standin.apis import openai

_ids = itertools.count(1)
_SYSTEM_FINGERPRINT = "fp_standin0"


def _groq_id() -> str:
    return f"req_standin{next(_ids):020d}"


def _usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI token counts with Groq's timings (seconds) instead of OpenAI's token details."""
    return {"queue_time": 0.01, "prompt_tokens": usage["prompt_tokens"], "prompt_time": 0.002,
            "completion_tokens": usage["completion_tokens"], "completion_time": 0.02,
            "total_tokens": usage["total_tokens"], "total_time": 0.022}


def _model(body: Any) -> str:
    model = body.get("model") if isinstance(body, Mapping) else None
    return str(model) if model is not None else ""


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key not in ("refusal", "annotations")}


def _completion(completion: Mapping[str, Any], model: str) -> dict[str, Any]:
    return {
        **completion,
        "model": model,
        "choices": [{**choice, "message": _message(choice["message"])} for choice in completion["choices"]],
        "usage": _usage(completion["usage"]),
        "usage_breakdown": None,
        "service_tier": "on_demand",
        "system_fingerprint": _SYSTEM_FINGERPRINT,
        "x_groq": {"id": _groq_id()},
    }


def _chunks(events: Iterable[tuple[str | None, Any]], model: str, usage_in_x_groq: bool
            ) -> Iterator[tuple[str | None, Any]]:
    """The OpenAI stand-in's chunks (asked with usage on) as Groq's: ``x_groq`` on the first chunk,
    and the usage either in the finish chunk's ``x_groq`` or in its own final chunk."""
    events = list(events)
    usage = next((data["usage"] for _name, data in events
                  if isinstance(data, dict) and data.get("usage") is not None), None)
    groq_id = _groq_id()
    first = True
    for name, data in events:
        if not isinstance(data, dict) or "choices" not in data:  # "[DONE]", an in-stream error
            yield name, data
            continue
        if usage_in_x_groq and not data["choices"]:  # OpenAI's usage chunk
            continue
        chunk: dict[str, Any] = {**data, "model": model, "service_tier": "on_demand",
                                 "system_fingerprint": _SYSTEM_FINGERPRINT,
                                 "choices": [{**choice, "delta": _message(choice["delta"])}
                                             for choice in data["choices"]]}
        if usage_in_x_groq:
            chunk.pop("usage", None)
        elif chunk.get("usage") is not None:
            chunk["usage"] = _usage(chunk["usage"])
        if first:
            chunk["x_groq"] = {"id": groq_id}
            first = False
        if usage_in_x_groq and usage is not None and any(c.get("finish_reason") for c in chunk["choices"]):
            chunk["x_groq"] = {"id": groq_id, "usage": _usage(usage)}
        yield name, chunk


def chat_completions(request: Request) -> Reply:
    """``POST /openai/v1/chat/completions``."""
    body = request.body if isinstance(request.body, Mapping) else None
    stream_options = body.get("stream_options") if body is not None else None
    include_usage = isinstance(stream_options, Mapping) and bool(stream_options.get("include_usage"))
    if body is not None and body.get("stream"):
        request = replace(request, body={**body, "stream_options": {"include_usage": True}})
    reply = openai.chat_completions(request)
    reply.headers.pop("openai-processing-ms", None)
    if reply.status != 200:
        return reply
    model = _model(body)
    if reply.events is None:
        return replace(reply, body=_completion(reply.body, model))
    return replace(reply, events=_chunks(reply.events, model, usage_in_x_groq=not include_usage))


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/openai/v1/chat/completions"): chat_completions,
}

API = Api(name="groq", routes=ROUTES, mount="/groq")
"""A client's ``base_url`` is ``StandInServer.url_for("groq")``; it adds ``/openai/v1`` itself."""
