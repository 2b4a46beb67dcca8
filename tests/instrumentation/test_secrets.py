"""No API key or authorization header ever reaches a span; prompts and completions only with capture on.

Every scenario makes real client calls (OpenAI and Anthropic, sync, async, streams, errors,
including an API that echoes the key back in its error message, as OpenAI's 401 does in part)
to stand-in servers on 127.0.0.1, with capture off and on. Then every exported span is scanned:
name, attributes, events and their attributes, status description, resource.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest
from agentops_otel_standin import Reply, Request, StandInServer
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel as agentops
from agentops_otel._internal import content

OPENAI_KEY = "sk-proj-SECRETopenaiKEY0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-api03-SECRETanthropicKEY9876543210"
CUSTOM_HEADER = "x-gateway-token"
CUSTOM_SECRET = "gw-SECRETgatewayTOKEN-55aa"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, CUSTOM_SECRET, f"Bearer {OPENAI_KEY}")
PROMPT = "PROMPT-MARKER: what is the capital of Peru?"


def _echoing_401(request: Request) -> Reply:
    """An API that quotes the credentials it refused back in the error message."""
    sent = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
    message = f"Incorrect API key provided: {sent} (header {CUSTOM_HEADER}={request.headers.get(CUSTOM_HEADER)})"
    return Reply(401, {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}})


@pytest.fixture(scope="module")
def echoing_server() -> Iterator[StandInServer]:
    routes = {("POST", "/v1/chat/completions"): _echoing_401, ("POST", "/v1/messages"): _echoing_401}
    with StandInServer(routes=routes) as server:
        yield server


def _openai(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=OPENAI_KEY, max_retries=0,
                         default_headers={CUSTOM_HEADER: CUSTOM_SECRET})


def _anthropic(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=ANTHROPIC_KEY, max_retries=0,
                               default_headers={CUSTOM_HEADER: CUSTOM_SECRET})


MESSAGES: Any = [{"role": "user", "content": PROMPT}]


def _scenarios(standin: StandInServer, echoing: StandInServer) -> dict[str, Callable[[], Any]]:
    client = _openai(standin.openai_base_url)
    claude = _anthropic(standin.anthropic_base_url)

    def openai_stream() -> None:
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                stream_options={"include_usage": True}):
            pass

    def openai_async() -> None:
        async def call() -> None:
            async_client = openai.AsyncOpenAI(base_url=standin.openai_base_url, api_key=OPENAI_KEY, max_retries=0,
                                              default_headers={CUSTOM_HEADER: CUSTOM_SECRET})
            await async_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            await async_client.close()
        asyncio.run(call())

    def openai_error_stream() -> None:
        for _ in client.chat.completions.create(model="error-stream", messages=MESSAGES, stream=True):
            pass

    def anthropic_stream() -> None:
        with claude.messages.stream(model="claude-sonnet-5-5", max_tokens=64, messages=MESSAGES) as stream:
            for _ in stream.text_stream:
                pass

    return {
        "openai chat": lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
        "openai stream": openai_stream,
        "openai async": openai_async,
        "openai responses": lambda: client.responses.create(model="gpt-4o-mini", input=PROMPT),
        "openai embeddings": lambda: client.embeddings.create(model="text-embedding-3-small", input=PROMPT),
        "openai raw": lambda: client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES),
        "openai 401": lambda: client.chat.completions.create(model="error-401", messages=MESSAGES),
        "openai error stream": openai_error_stream,
        "openai echoing 401": lambda: _openai(echoing.openai_base_url).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES),
        "anthropic messages": lambda: claude.messages.create(model="claude-sonnet-5-5", max_tokens=64,
                                                             messages=MESSAGES),
        "anthropic stream": anthropic_stream,
        "anthropic 401": lambda: claude.messages.create(model="error-401", max_tokens=64, messages=MESSAGES),
        "anthropic echoing 401": lambda: _anthropic(echoing.anthropic_base_url).messages.create(
            model="claude-sonnet-5-5", max_tokens=64, messages=MESSAGES),
    }


def _texts(span: ReadableSpan) -> Iterator[tuple[str, str]]:
    """Every piece of text a span carries, with where it is."""

    def flatten(where: str, value: Any) -> Iterator[tuple[str, str]]:
        if isinstance(value, (list, tuple)):
            for item in value:
                yield from flatten(where, item)
        else:
            yield where, str(value)

    yield "name", span.name
    yield "status", span.status.description or ""
    for key, value in (span.attributes or {}).items():
        yield from flatten(f"attribute {key}", key)
        yield from flatten(f"attribute {key}", value)
    for event in span.events:
        yield f"event {event.name}", event.name
        for key, value in (event.attributes or {}).items():
            yield from flatten(f"event {event.name} {key}", value)
    for key, value in span.resource.attributes.items():
        yield from flatten(f"resource {key}", value)


def _run_all(standin: StandInServer, echoing: StandInServer, exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    exporter.clear()
    for name, scenario in _scenarios(standin, echoing).items():
        with agentops.start_session(tags=[name]) as session:
            try:
                scenario()
            except (openai.APIError, anthropic.APIError):
                pass  # the error scenarios: the error is recorded on the span
            session.record(agentops.ErrorEvent(error_type="checked", details={"scenario": name}))
    return list(exporter.get_finished_spans())


def _llm_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.kind.name == "CLIENT" and s.attributes and "gen_ai.operation.name" in s.attributes
            and s.attributes.get("agentops.event.type") is None]


@pytest.mark.parametrize("capture", [False, True], ids=["capture-off", "capture-on"])
def test_no_secret_reaches_any_span(
    capture: bool, standin: StandInServer, echoing_server: StandInServer, exporter: InMemorySpanExporter
) -> None:
    content.set_capture_content(capture)
    spans = _run_all(standin, echoing_server, exporter)

    llm = _llm_spans(spans)
    assert len(llm) >= 12  # every scenario made its call, and it was traced
    assert any(span.status.status_code.name == "ERROR" for span in llm)
    leaks = [(span.name, where, secret) for span in spans for where, text in _texts(span)
             for secret in SECRETS if secret in text]
    assert leaks == [], "\n".join(map(str, leaks))


def test_prompts_and_completions_only_with_capture_on(
    standin: StandInServer, echoing_server: StandInServer, exporter: InMemorySpanExporter
) -> None:
    content.set_capture_content(False)
    off = _run_all(standin, echoing_server, exporter)
    assert [(s.name, where) for s in off for where, text in _texts(s) if "PROMPT-MARKER" in text] == []
    assert not any(key in (s.attributes or {}) for s in off
                   for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"))

    content.set_capture_content(True)
    on = _run_all(standin, echoing_server, exporter)
    with_prompt = {s.attributes.get("gen_ai.provider.name") for s in _llm_spans(on)  # type: ignore[union-attr]
                   if "PROMPT-MARKER" in str((s.attributes or {}).get("gen_ai.input.messages"))}
    assert with_prompt == {"openai", "anthropic"}
    with_answer = [s for s in _llm_spans(on) if (s.attributes or {}).get("gen_ai.output.messages")]
    assert len(with_answer) >= 6
