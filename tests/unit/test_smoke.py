"""The shortest path a user takes: init, a call, end; the span tree reaches the exporter."""

from __future__ import annotations

import openai
from agentops_otel_standin import StandInServer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from tests.support.spans import attributes


def test_single_session_with_one_llm_call(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops.start_session(tags=["smoke"])
    client = openai.OpenAI(base_url=standin.openai_base_url, api_key="sk-test-secret")
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    agentops.end_session("Success")

    spans = {span.name: span for span in exporter.get_finished_spans()}
    root, call = spans["session"], spans["chat gpt-4o-mini"]
    assert root.parent is None and root.status.status_code is StatusCode.OK
    assert call.parent is not None and call.parent.span_id == root.context.span_id
    assert call.kind is SpanKind.CLIENT
    assert attributes(call)["session.id"] == session.session_id
    assert attributes(root)["agentops.session.llm_calls"] == 1
