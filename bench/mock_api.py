"""An OpenAI client whose HTTP never leaves the process.

The client is the real ``openai.OpenAI`` (request building, retries logic, response parsing, SSE
decoding all run); only the transport is an ``httpx2.MockTransport`` answering from bytes built
once, so what a benchmark measures is the client plus the instrumentation, not a network or a
server. The bodies are shaped like the real API's: a chat completion with usage details and a
system fingerprint, and an event stream of 20 content chunks (the last carrying the finish
reason) and a usage chunk (``stream_options={"include_usage": True}``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
STREAM_CONTENT_CHUNKS = 20
PROMPT_TOKENS = 42
COMPLETION_TOKENS = 20

MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": "You are a concise assistant for a travel-booking agent."},
    {"role": "user", "content": "Which three things should I check before booking a connecting flight?"},
]
REQUEST: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "temperature": 0.2, "max_tokens": 256}

_USAGE = {
    "prompt_tokens": PROMPT_TOKENS,
    "completion_tokens": COMPLETION_TOKENS,
    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

_COMPLETION = json.dumps({
    "id": "chatcmpl-bench0000000000000000000001",
    "object": "chat.completion",
    "created": 1764072000,
    "model": RESPONSE_MODEL,
    "choices": [{
        "index": 0,
        "message": {
            "role": "assistant",
            "content": "Check the minimum connection time, whether bags are checked through, and the "
                       "transit visa rules of the connecting airport.",
            "refusal": None,
            "annotations": [],
        },
        "logprobs": None,
        "finish_reason": "stop",
    }],
    "usage": _USAGE,
    "service_tier": "default",
    "system_fingerprint": "fp_bench0001",
}).encode()


def _chunk(delta: dict[str, Any], finish_reason: str | None, usage: dict[str, Any] | None = None) -> bytes:
    choices = [] if usage is not None else [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    ]
    body = {
        "id": "chatcmpl-bench0000000000000000000002",
        "object": "chat.completion.chunk",
        "created": 1764072000,
        "model": RESPONSE_MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_bench0001",
        "choices": choices,
        "usage": usage,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


_WORDS = ("Check", " the", " minimum", " connection", " time,", " whether", " bags", " are", " checked",
          " through,", " the", " terminal", " change,", " transit", " visa", " rules,", " the", " fare's",
          " rebooking", " terms.")
assert len(_WORDS) == STREAM_CONTENT_CHUNKS

_STREAM = b"".join(
    [_chunk({"role": "assistant", "content": _WORDS[0], "refusal": None}, None)]
    + [_chunk({"content": word}, None) for word in _WORDS[1:-1]]
    + [_chunk({"content": _WORDS[-1]}, "stop"), _chunk({}, None, usage=_USAGE), b"data: [DONE]\n\n"]
)
"""20 content chunks (the last with the finish reason) and the usage chunk: 21 reach the caller."""

STREAM_CHUNKS = STREAM_CONTENT_CHUNKS + 1

_JSON_HEADERS = {"content-type": "application/json", "x-request-id": "req_bench"}
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_bench"}


def _handler(request: httpx2.Request) -> httpx2.Response:
    if b'"stream":true' in request.content or b'"stream": true' in request.content:
        return httpx2.Response(200, headers=_SSE_HEADERS, content=_STREAM)
    return httpx2.Response(200, headers=_JSON_HEADERS, content=_COMPLETION)


def make_client() -> openai.OpenAI:
    """A real OpenAI client talking to the in-process mock API."""
    http_client = httpx2.Client(transport=httpx2.MockTransport(_handler))
    return openai.OpenAI(
        api_key="sk-bench-not-a-real-key",
        base_url="https://api.openai.com/v1",
        http_client=http_client,
        max_retries=0,
    )


def chat(client: openai.OpenAI) -> Any:
    """One non-streaming ``chat.completions.create``."""
    return client.chat.completions.create(**REQUEST)


def chat_stream(client: openai.OpenAI) -> int:
    """One streaming ``chat.completions.create``, consumed fully; returns the chunks read."""
    stream = client.chat.completions.create(**REQUEST, stream=True, stream_options={"include_usage": True})
    return sum(1 for _ in stream)
