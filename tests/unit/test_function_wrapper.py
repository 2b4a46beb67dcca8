"""The generic wrapper of the public instrumentation API, on a small client that speaks real HTTP.

``TinyClient`` is what a non-Stainless LLM SDK looks like from the outside: methods taking
keyword arguments, posting JSON to a server on 127.0.0.1, returning a response object, or with
``stream=True`` an iterator of chunks (newline-delimited JSON), or a context manager that sends
the request when entered. An instrumentor for it is built from ``agentops_otel.instrumentation``
alone, as the module's docstring shows; the spans the SDK exports are checked.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
import wrapt
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel
from agentops_otel.instrumentation import (
    Attributes,
    Endpoint,
    LLMTelemetry,
    async_function_wrapper,
    function_wrapper,
)

SESSION_ID = "session.id"


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append(body)
        if body.get("prompt") == "fail":
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b'{"error": "overloaded"}')
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if body.get("stream"):
            try:
                for i, word in enumerate(["one", "two", "three"]):
                    self.wfile.write(json.dumps({"index": i, "text": word}).encode() + b"\n")
                self.wfile.write(json.dumps({"done": True, "output_tokens": 3}).encode() + b"\n")
            except ConnectionError:
                pass  # a test that drops the stream closes the connection before it is all written
        else:
            self.wfile.write(json.dumps({"id": "c-1", "model": body["model"] + "-001", "text": "hi",
                                         "usage": {"input_tokens": 4, "output_tokens": 2}}).encode())

    def log_message(self, format: str, *args: Any) -> None:
        return None


class TinyClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _post(self, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(self.base_url + "/complete", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        return urllib.request.urlopen(request, timeout=10)

    def complete(self, *, model: str, prompt: str, stream: bool = False) -> Any:
        return self._complete(model, prompt, stream)

    def _complete(self, model: str, prompt: str, stream: bool) -> Any:
        response = self._post({"model": model, "prompt": prompt, "stream": stream})
        if stream:
            return (json.loads(line) for line in response)
        with response:
            return json.loads(response.read(), object_hook=lambda d: SimpleNamespace(**d))

    @contextmanager
    def stream(self, *, model: str, prompt: str) -> Iterator[Iterator[dict[str, Any]]]:
        with self._post({"model": model, "prompt": prompt, "stream": True}) as response:
            yield (json.loads(line) for line in response)

    async def acomplete(self, *, model: str, prompt: str, stream: bool = False) -> Any:
        result = await asyncio.to_thread(self._complete, model, prompt, stream)
        if not stream:
            return result

        async def chunks() -> AsyncIterator[dict[str, Any]]:
            for chunk in await asyncio.to_thread(list, result):
                yield chunk

        return chunks()


# -- the instrumentor, from the public API only ---------------------------------------------------


class _Accumulator:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.output_tokens: int | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        if chunk.get("done"):
            self.output_tokens = chunk["output_tokens"]
        else:
            self.text.append(chunk["text"])

    def attributes(self) -> Attributes:
        attributes: Attributes = {"tiny.chunks": len(self.text)}
        if self.output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = self.output_tokens
        return attributes


class _Complete:
    operation = "text_completion"

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        attributes: Attributes = {"gen_ai.request.stream": True} if body.get("stream") else {}
        return body.get("model"), attributes

    def response(self, result: Any) -> Attributes:
        return {"gen_ai.response.id": result.id, "gen_ai.response.model": result.model,
                "gen_ai.usage.input_tokens": result.usage.input_tokens,
                "gen_ai.usage.output_tokens": result.usage.output_tokens}

    def accumulator(self) -> _Accumulator:
        return _Accumulator()


_COMPLETE = _Complete()


def _endpoint_for(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                  ) -> tuple[Endpoint, Mapping[str, Any], bool] | None:
    if kwargs.get("prompt") == "untraced":
        return None
    if kwargs.get("prompt") == "instrumentor bug":
        raise KeyError("a bug in the instrumentor")
    return _COMPLETE, kwargs, bool(kwargs.get("stream"))


def _stream_endpoint_for(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                         ) -> tuple[Endpoint, Mapping[str, Any], bool]:
    return _COMPLETE, {**kwargs, "stream": True}, True


def _server_of(client: Any) -> Attributes:
    host, _, port = client.base_url.removeprefix("http://").partition(":")
    return {"server.address": host, "server.port": int(port)}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server: str) -> Iterator[TinyClient]:
    telemetry = LLMTelemetry("tiny", "tests.tiny")
    originals = {name: TinyClient.__dict__[name] for name in ("complete", "stream", "acomplete")}
    wrapt.wrap_function_wrapper(TinyClient, "complete",
                                function_wrapper(telemetry, _endpoint_for, client_attributes=_server_of))
    wrapt.wrap_function_wrapper(TinyClient, "stream", function_wrapper(telemetry, _stream_endpoint_for))
    wrapt.wrap_function_wrapper(TinyClient, "acomplete", async_function_wrapper(telemetry, _endpoint_for))
    _Handler.requests.clear()
    try:
        yield TinyClient(server)
    finally:
        for name, original in originals.items():
            setattr(TinyClient, name, original)


def _call_spans(exporter: InMemorySpanExporter) -> list[Any]:
    return [span for span in exporter.get_finished_spans() if span.name != "session"]


def _root(exporter: InMemorySpanExporter) -> Any:
    (root,) = [span for span in exporter.get_finished_spans() if span.name == "session"]
    return root


def test_a_call_is_one_client_span_in_its_session(client: TinyClient, exporter: InMemorySpanExporter,
                                                   server: str) -> None:
    session = agentops_otel.start_session()
    result = client.complete(model="tiny-1", prompt="hello")
    session.end_session("Success")
    assert result.text == "hi"  # the caller gets the client's own result
    (span,) = _call_spans(exporter)
    root = _root(exporter)
    assert span.name == "text_completion tiny-1" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    assert span.context.trace_id == root.context.trace_id
    attributes = dict(span.attributes or {})
    assert attributes[SESSION_ID] == session.session_id
    assert attributes["gen_ai.operation.name"] == "text_completion"
    assert attributes["gen_ai.provider.name"] == "tiny"
    assert attributes["gen_ai.request.model"] == "tiny-1"
    assert attributes["gen_ai.response.model"] == "tiny-1-001" and attributes["gen_ai.response.id"] == "c-1"
    assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == int(server.rsplit(":", 1)[1])
    assert span.status.status_code is StatusCode.UNSET
    analytics = session.get_analytics()
    assert (analytics.llm_calls, analytics.input_tokens, analytics.output_tokens) == (1, 4, 2)


def test_a_failed_call_raises_the_clients_error_and_ends_its_span_with_it(
        client: TinyClient, exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session() as session, pytest.raises(urllib.error.HTTPError) as raised:
        client.complete(model="tiny-1", prompt="fail")
    assert raised.value.code == 503
    (span,) = _call_spans(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "HTTPError"
    assert [event.name for event in span.events] == ["exception"]
    assert session.get_analytics().errors == 1


def test_a_stream_ends_its_span_when_it_is_exhausted(client: TinyClient, exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session():
        chunks = client.complete(model="tiny-1", prompt="count", stream=True)
        first = next(chunks)
        assert _call_spans(exporter) == []  # still streaming
        rest = list(chunks)
    assert [first["text"], *(c.get("text") for c in rest[:-1])] == ["one", "two", "three"]
    (span,) = _call_spans(exporter)
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["tiny.chunks"] == 3 and attributes["gen_ai.usage.output_tokens"] == 3


def test_a_context_manager_stream_sends_its_request_under_the_span_and_ends_it_on_exit(
        client: TinyClient, exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session():
        manager = client.stream(model="tiny-1", prompt="count")
        assert _Handler.requests == []  # nothing is sent before the block is entered
        with manager as chunks:
            first = next(chunks)
            assert _call_spans(exporter) == []
        assert first == {"index": 0, "text": "one"}
        (span,) = _call_spans(exporter)
    assert (span.attributes or {})["tiny.chunks"] == 1  # what was read before leaving the block
    assert len(_Handler.requests) == 1


def test_async_calls_and_async_streams(client: TinyClient, exporter: InMemorySpanExporter) -> None:
    async def main() -> list[Any]:
        result = await client.acomplete(model="tiny-2", prompt="hello")
        chunks = [chunk async for chunk in await client.acomplete(model="tiny-2", prompt="count", stream=True)]
        return [result, chunks]

    with agentops_otel.start_session() as session:
        result, chunks = asyncio.run(main())
    assert result.text == "hi" and len(chunks) == 4
    plain, streamed = sorted(_call_spans(exporter), key=lambda span: span.start_time or 0)
    assert (plain.attributes or {})["gen_ai.usage.input_tokens"] == 4
    assert (streamed.attributes or {})["tiny.chunks"] == 3
    assert {(s.attributes or {})[SESSION_ID] for s in (plain, streamed)} == {session.session_id}


def test_with_two_sessions_and_none_chosen_the_request_is_never_sent(
        client: TinyClient, exporter: InMemorySpanExporter) -> None:
    first, second = agentops_otel.start_session(), agentops_otel.start_session()
    with pytest.raises(agentops_otel.MultiSessionException):
        client.complete(model="tiny-1", prompt="hello")
    assert _Handler.requests == []
    second.patch(client.complete)(model="tiny-1", prompt="hello")  # bound to one: traced in it
    first.end_session("Success")
    second.end_session("Success")
    (span,) = _call_spans(exporter)
    assert (span.attributes or {})[SESSION_ID] == second.session_id


def test_calls_not_traced_or_that_the_instrumentor_cannot_read_go_through(
        client: TinyClient, exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session():
        assert client.complete(model="tiny-1", prompt="untraced").text == "hi"
        assert client.complete(model="tiny-1", prompt="instrumentor bug").text == "hi"
    assert _call_spans(exporter) == []
    assert len(_Handler.requests) == 2
