"""Stand-in routes of the OpenAI API (minimal; to be completed)."""

from __future__ import annotations

import itertools
import time

from agentops_otel.standin.server import Handler, Reply, Request

_ids = itertools.count(1)


def chat_completions(request: Request) -> Reply:
    body = request.body or {}
    model = body.get("model", "gpt-4o-mini")
    return Reply(body={
        "id": f"chatcmpl-standin-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{model}-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the stand-in."},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
    })


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat_completions,
}
