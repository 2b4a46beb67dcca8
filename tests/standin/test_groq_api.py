"""The stand-in Groq API, as the real ``groq`` client and a raw HTTP client see it: Groq's shapes
(``x_groq``, usage timings, the stream's usage in the finish chunk) on the OpenAI stand-in's answers."""

from __future__ import annotations

import json
import urllib.request

import groq
import pytest
from agentops_otel_standin import StandInServer
from groq.types.chat import ChatCompletionMessageParam

from tests.support.clients import groq_client

MODEL = "llama-3.3-70b-versatile"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Name three rivers in France, please."}]


def test_is_mounted_beside_openai_and_answers_as_groq(standin: StandInServer) -> None:
    assert standin.url_for("groq") == f"{standin.base_url}/groq"
    with groq_client(standin) as client:
        completion = client.chat.completions.create(model=MODEL, messages=USER)
    assert completion.model == MODEL  # reported as asked, not as a dated snapshot
    assert completion.x_groq is not None and completion.x_groq.id.startswith("req_")
    assert completion.usage is not None and completion.usage.total_time is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert "Name" in (completion.choices[0].message.content or "")
    assert standin.requests[-1].path == "/groq/openai/v1/chat/completions"


def test_the_json_body_has_groq_fields_and_no_openai_only_ones(standin: StandInServer) -> None:
    request = urllib.request.Request(
        f"{standin.url_for('groq')}/openai/v1/chat/completions", method="POST",
        data=json.dumps({"model": MODEL, "messages": USER}).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert body["service_tier"] == "on_demand" and "x_groq" in body
    assert set(body["usage"]) == {"queue_time", "prompt_tokens", "prompt_time", "completion_tokens",
                                  "completion_time", "total_tokens", "total_time"}
    assert "refusal" not in body["choices"][0]["message"]


def test_a_stream_carries_its_usage_in_the_finish_chunk_x_groq(standin: StandInServer) -> None:
    with groq_client(standin) as client:
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
        completion = client.chat.completions.create(model=MODEL, messages=USER)
    assert chunks[0].x_groq is not None and chunks[0].x_groq.usage is None
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert final.x_groq is not None and final.x_groq.id == chunks[0].x_groq.id
    assert final.x_groq.usage is not None and completion.usage is not None
    assert final.x_groq.usage.completion_tokens == completion.usage.completion_tokens
    assert all(chunk.usage is None for chunk in chunks)


def test_errors_are_the_clients_exceptions(standin: StandInServer) -> None:
    with groq_client(standin) as client, pytest.raises(groq.RateLimitError) as caught:
        client.chat.completions.create(model="error-429", messages=USER)
    assert caught.value.status_code == 429
