"""Spans made while an LLM request is in flight (HTTP client instrumentations) join the call's session."""

from __future__ import annotations

import httpx2
import openai
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

import agentops_otel as agentops
from tests.support.spans import attributes

http_tracer = trace.get_tracer("an-http-client-instrumentation")
COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def answer(request: httpx2.Request) -> httpx2.Response:
    with http_tracer.start_as_current_span("POST /chat/completions"):  # what an HTTP instrumentation makes
        return httpx2.Response(200, json=COMPLETION)


@pytest.fixture
def client() -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))


@pytest.mark.parametrize("bound", ["only session", "with block", "patch"])
def test_http_span_is_a_child_of_the_call_and_carries_the_session(
    exporter: InMemorySpanExporter, client: openai.OpenAI, bound: str
) -> None:
    session = agentops.start_session()
    messages = [{"role": "user", "content": "hi"}]
    if bound == "only session":
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    elif bound == "with block":
        with session:
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    else:
        session.patch(client.chat.completions.create)(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    if not session.is_ended:
        session.end_session("Success")

    spans = {span.name: span for span in exporter.get_finished_spans()}
    root, call, http = spans["session"], spans["chat gpt-4o-mini"], spans["POST /chat/completions"]
    assert call.parent is not None and call.parent.span_id == root.context.span_id
    assert http.parent is not None and http.parent.span_id == call.context.span_id
    assert attributes(call)[SESSION_ID] == attributes(http)[SESSION_ID] == session.session_id
