"""A bug in the instrumentation's own code never reaches the caller.

Simulated with responses a newer or odd API release could send (fields missing, of another type)
that the real OpenAI client accepts and our attribute extraction does not expect: the call
returns exactly what the client returns, the span still ends, and one debug log line on
``agentops_otel.instrumentation`` says what was skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from agentops_otel_standin import Reply, Request, StandInServer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel as agentops

LOGGER = "agentops_otel.instrumentation"

ODD_BODIES: dict[str, Any] = {
    # choices of the wrong type: reading finish reasons fails
    "odd-choices": {"id": 5, "object": "chat.completion", "model": ["x"], "choices": [1, "two"], "usage": "lots"},
    # nothing at all: nothing to read, nothing fails
    "empty": {},
}
ODD_CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": None},
    {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": 7},
    {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": None, "usage": {"prompt_tokens": "x"}},
]


def _route(request: Request) -> Reply:
    model = request.body.get("model")
    if request.body.get("stream"):
        return Reply(events=[*((None, chunk) for chunk in ODD_CHUNKS), (None, "[DONE]")])
    return Reply(body=ODD_BODIES[model])


@pytest.fixture(scope="module")
def odd_server() -> Iterator[StandInServer]:
    with StandInServer(routes={("POST", "/v1/chat/completions"): _route}) as server:
        yield server


def _uninstrumented(body: dict[str, Any]) -> Any:
    """What the OpenAI client itself makes of ``body`` (parsed without any request or span)."""
    from openai.types.chat import ChatCompletion

    return ChatCompletion.construct(**body)


def _our_debug_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.DEBUG]


@pytest.mark.parametrize("model", sorted(ODD_BODIES))
def test_odd_response_returns_the_result_and_ends_the_span(
    model: str, odd_server: StandInServer, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    client = openai.OpenAI(base_url=odd_server.openai_base_url, api_key="sk-odd", max_retries=0)
    with agentops.start_session():
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])

    assert response == _uninstrumented(ODD_BODIES[model])
    calls = [s for s in exporter.get_finished_spans() if s.name == f"chat {model}"]
    assert len(calls) == 1 and calls[0].end_time is not None
    assert calls[0].status.is_ok  # our failure is not the call's failure
    lines = _our_debug_lines(caplog)
    if model == "odd-choices":
        assert len(lines) == 1
        assert "skipped response attributes" in lines[0].getMessage()
        assert lines[0].exc_info is not None  # with what went wrong
    else:
        assert lines == []


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the client's own, on odd chunks
def test_odd_stream_chunks_return_every_chunk_and_end_the_span(
    odd_server: StandInServer, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    client = openai.OpenAI(base_url=odd_server.openai_base_url, api_key="sk-odd", max_retries=0)
    with agentops.start_session():
        stream = client.chat.completions.create(
            model="odd-stream", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = [chunk.to_dict() for chunk in stream]

    assert chunks == ODD_CHUNKS
    calls = [s for s in exporter.get_finished_spans() if s.name == "chat odd-stream"]
    assert len(calls) == 1 and calls[0].end_time is not None
    lines = _our_debug_lines(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "stream" in lines[0].getMessage()


def test_an_unexpected_result_type_is_passed_through(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    """``cast_to=dict`` gives a plain dict where the instrumentation expects a ChatCompletion."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    body = {"id": "x", "choices": [{"index": 0, "finish_reason": {"new": "shape"}, "message": None}], "usage": []}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    client = openai.OpenAI(
        base_url="http://llm.test/v1", api_key="sk-mock", max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    with agentops.start_session():
        result = client.post("/chat/completions", body={"model": "gpt-4o-mini", "messages": []}, cast_to=dict)
    assert result == json.loads(json.dumps(body))
    calls = [s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert len(calls) == 1 and calls[0].end_time is not None
    assert len(_our_debug_lines(caplog)) <= 1
