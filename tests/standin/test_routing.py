"""The stand-in's core, as the author of a new provider API module uses it: routes with ``{name}``
placeholders, mounts for APIs whose paths clash, raw replies, and the in-process ``StandIn``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from agentops_otel_standin import Api, Reply, Request, StandIn, StandInServer, all_apis


def _post(url: str, body: Any) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["content-type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()


def _generate(request: Request) -> Reply:
    return Reply(body={"model": request.path_params["model"], "prompt": request.body, "query": request.query})


def _chat_lines(request: Request) -> Reply:
    lines = b'{"message": "Hel"}\n{"message": "lo", "done": true}\n'
    return Reply(body=lines, headers={"Content-Type": "application/x-ndjson"})


GEMINI_LIKE = Api(name="gemini-like", routes={("POST", "/v1beta/models/{model}:generateContent"): _generate})
OPENAI_COMPATIBLE = Api(name="compatible", routes={("POST", "/v1/chat/completions"): _chat_lines},
                        base_path="/v1", mount="/compatible")


def test_every_module_in_apis_is_served_by_default() -> None:
    assert [api.name for api in all_apis()] == [
        "anthropic", "bedrock", "gemini", "groq", "mistral", "ollama", "openai"]
    with StandInServer() as server:
        assert server.url_for("openai") == f"{server.base_url}/v1" == server.openai_base_url
        assert server.url_for("anthropic") == server.base_url == server.anthropic_base_url
        assert server.url_for("groq") == f"{server.base_url}/groq"  # OpenAI's paths too: mounted
        assert server.url_for("mistral") == f"{server.base_url}/mistral"


def test_a_placeholder_takes_its_value_from_the_path_url_decoded() -> None:
    with StandInServer(apis=[GEMINI_LIKE]) as server:
        status, content_type, content = _post(
            f"{server.url_for('gemini-like')}/v1beta/models/gemini%2D2.5-flash:generateContent?alt=sse", {"q": 1})
        assert (status, content_type) == (200, "application/json")
        assert json.loads(content) == {"model": "gemini-2.5-flash", "prompt": {"q": 1}, "query": "alt=sse"}
        status, _, content = _post(f"{server.base_url}/v1beta/models/a/b:generateContent", {})
        assert status == 404  # a placeholder stays within one path segment
        assert json.loads(content) == {
            "error": {"message": "the stand-in has no route POST /v1beta/models/a/b:generateContent"}}


def test_a_mounted_api_shares_a_path_with_another_and_sends_raw_bytes() -> None:
    with StandInServer(apis=[*all_apis(), OPENAI_COMPATIBLE]) as server:
        assert server.url_for("compatible") == f"{server.base_url}/compatible/v1"
        status, content_type, content = _post(f"{server.url_for('compatible')}/chat/completions", {"model": "m"})
        assert (status, content_type) == (200, "application/x-ndjson")
        assert content == b'{"message": "Hel"}\n{"message": "lo", "done": true}\n'
        status, content_type, content = _post(f"{server.url_for('openai')}/chat/completions",
                                              {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
        assert (status, content_type) == (200, "application/json")
        assert json.loads(content)["object"] == "chat.completion"
        assert [request.path for request in server.requests] == ["/compatible/v1/chat/completions",
                                                                 "/v1/chat/completions"]


def test_two_apis_on_one_path_without_a_mount_is_an_error_naming_both() -> None:
    unmounted = Api(name="compatible", routes=OPENAI_COMPATIBLE.routes, base_path="/v1")
    with pytest.raises(ValueError, match=r"the stand-in APIs 'openai' and 'compatible' both serve POST "
                                         r"/v1/chat/completions: give one of them a mount"):
        StandIn(apis=[*all_apis(), unmounted])


def test_url_for_an_api_not_served_names_those_that_are() -> None:
    served = "anthropic, bedrock, gemini, groq, mistral, ollama, openai"
    with StandInServer() as server, pytest.raises(
            ValueError, match=rf"the stand-in serves no API named 'no-such-api'; it serves: {served}"):
        server.url_for("no-such-api")


def test_in_process_answers_are_the_bytes_the_server_sends() -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    reply = StandIn().respond("POST", "/v1/messages/count_tokens", {"Content-Type": "application/json"},
                              json.dumps(body).encode())
    headers, content = reply.encode()
    with StandInServer() as server:
        status, content_type, sent = _post(f"{server.url_for('anthropic')}/v1/messages/count_tokens", body)
    assert (reply.status, headers["content-type"], content) == (status, content_type, sent)
    assert headers["content-length"] == str(len(content))
    assert json.loads(content)["input_tokens"] > 0
