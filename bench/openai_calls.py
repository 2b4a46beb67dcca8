"""The calls every benchmark variant makes: the real OpenAI client, answered in-process by the stand-in API.

The client is the real ``openai.OpenAI`` (request building, retries logic, response parsing, SSE
decoding all run); only the transport is an ``httpx2.MockTransport``. It answers with the bytes the
stand-in API (``agentops_otel_standin``, the fake API the tests and the demo use too) sends for the
same request, built once before anything is timed: no socket, no server and no JSON encoding in
the timed loop, so what a benchmark measures is the client plus the instrumentation. The bodies
are shaped like the real API's: a chat completion with usage details and a system fingerprint, and
an event stream (``stream_options={"include_usage": True}``) of a role chunk, one chunk per word of
the answer, a chunk with the finish reason, and a usage chunk: ``STREAM_CHUNKS`` reach the caller.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
from agentops_otel_standin import StandIn

MODEL = "gpt-4o-mini"

MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": "You are a concise assistant for a travel-booking agent."},
    # Five words: the stand-in's answer quotes them, which makes a stream of 21 chunks.
    {"role": "user", "content": "Checklist for a connecting flight?"},
]
REQUEST: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "temperature": 0.2, "max_tokens": 256}
STREAM_OPTIONS: dict[str, Any] = {"include_usage": True}


Answer = tuple[int, dict[str, str], bytes]


def _answer(body: dict[str, Any]) -> tuple[Answer, int]:
    """What the stand-in sends for ``body`` (status, headers, bytes), and how many stream events are data."""
    reply = StandIn().respond("POST", "/v1/chat/completions", {}, json.dumps(body).encode())
    events = None if reply.events is None else list(reply.events)
    reply.events = events
    headers, content = reply.encode()
    if reply.status != 200:
        raise RuntimeError(f"the stand-in answered HTTP {reply.status}: {content.decode()}")
    return (reply.status, headers, content), sum(1 for _name, data in events or () if data != "[DONE]")


_COMPLETION, _ = _answer(REQUEST)
_STREAM, STREAM_CHUNKS = _answer({**REQUEST, "stream": True, "stream_options": STREAM_OPTIONS})
"""``STREAM_CHUNKS``: what a stream hands the caller, every event but the closing ``[DONE]``."""


def _handler(request: httpx2.Request) -> httpx2.Response:
    streamed = b'"stream":true' in request.content or b'"stream": true' in request.content
    status, headers, content = _STREAM if streamed else _COMPLETION
    return httpx2.Response(status, headers=headers, content=content)


def make_client() -> openai.OpenAI:
    """A real OpenAI client whose requests the stand-in answers in-process."""
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
    stream = client.chat.completions.create(**REQUEST, stream=True, stream_options=STREAM_OPTIONS)
    return sum(1 for _ in stream)
