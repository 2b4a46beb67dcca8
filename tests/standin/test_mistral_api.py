"""The stand-in Mistral API, as the real ``mistralai`` client and a raw HTTP client see it."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from agentops_otel_standin import StandInServer
from mistralai.client import errors

from tests.support.clients import mistral_client

MODEL = "mistral-small-latest"
USER: list[Any] = [{"role": "user", "content": "Name three rivers in France, please."}]
TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def _post(standin: StandInServer, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(f"{standin.url_for('mistral')}{path}", method="POST",
                                     data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_is_mounted_beside_openai_and_answers_in_mistral_shapes(standin: StandInServer) -> None:
    assert standin.url_for("mistral") == f"{standin.base_url}/mistral"
    body = _post(standin, "/v1/chat/completions", {"model": MODEL, "messages": USER})
    assert set(body) == {"id", "object", "model", "usage", "created", "choices"}
    assert len(body["id"]) == 32 and body["model"] == MODEL
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert body["choices"][0]["message"]["role"] == "assistant" and "Name" in body["choices"][0]["message"]["content"]


def test_tool_calls_are_whole_in_one_stream_chunk_and_usage_is_on_the_finish_chunk(standin: StandInServer) -> None:
    with mistral_client(standin) as client:
        events = list(client.chat.stream(model=MODEL, messages=USER, tools=TOOLS))
        completion = client.chat.complete(model=MODEL, messages=USER, tools=TOOLS)
    calls = [call for e in events for call in e.data.choices[0].delta.tool_calls or ()]
    (call,) = calls
    assert len(str(call.id)) == 9 and json.loads(str(call.function.arguments)).keys() == {"city"}
    final = events[-1].data
    assert final.choices[0].finish_reason == "tool_calls" and final.usage is not None
    assert [e.data.usage for e in events[:-1]] == [None] * (len(events) - 1)
    assert final.usage.completion_tokens == completion.usage.completion_tokens


def test_embeddings_and_errors(standin: StandInServer) -> None:
    with mistral_client(standin) as client:
        result = client.embeddings.create(model="mistral-embed", inputs=["a", "b"])
        assert [len(item.embedding or ()) for item in result.data] == [1024, 1024]
        with pytest.raises(errors.SDKError) as caught:
            client.chat.complete(model="error-429", messages=USER, retries=None)
    assert caught.value.status_code == 429
    assert json.loads(caught.value.body)["object"] == "error"
