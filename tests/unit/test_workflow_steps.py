"""Workflow spans of the instrumentation API (``start_workflow``), as exported: what a framework
bridge relies on for a run along a path the application defines (a LangChain chain)."""

from __future__ import annotations

import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_WORKFLOW_NAME,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel
from agentops_otel import MultiSessionException
from agentops_otel.instrumentation import start_workflow
from tests.support.spans import attributes, spans_named


def test_a_workflow_span_in_its_session_with_the_calls_made_inside(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    with agentops_otel.start_session() as session, start_workflow("summarise", attributes={"app.step": 1}):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    (workflow,) = spans_named(exporter, "invoke_workflow summarise")
    (root,) = spans_named(exporter, "session")
    (chat,) = spans_named(exporter, "chat gpt-4o-mini")
    assert workflow.kind == SpanKind.INTERNAL and workflow.status.status_code == StatusCode.OK
    assert workflow.parent is not None and root.context is not None and workflow.context is not None
    assert workflow.parent.span_id == root.context.span_id
    assert chat.parent is not None and chat.parent.span_id == workflow.context.span_id
    assert attributes(workflow) == {GEN_AI_OPERATION_NAME: "invoke_workflow", GEN_AI_WORKFLOW_NAME: "summarise",
                                    "app.step": 1, "session.id": session.session_id,
                                    "gen_ai.conversation.id": session.session_id}
    analytics = session.get_analytics()
    assert (analytics.agent_invocations, analytics.tool_calls, analytics.errors) == (0, 0, 0)


def test_a_failed_workflow_is_an_error_of_its_session(exporter: InMemorySpanExporter) -> None:
    session = agentops_otel.start_session()
    with pytest.raises(KeyError), session, start_workflow("lookup"):
        raise KeyError("missing")
    (workflow,) = spans_named(exporter, "invoke_workflow lookup")
    assert workflow.status.status_code == StatusCode.ERROR
    assert attributes(workflow)[ERROR_TYPE] == "KeyError"
    assert session.get_analytics().errors == 1


def test_bad_arguments_and_two_sessions_are_refused(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(TypeError, match="a workflow's name must be a non-empty str"):
        start_workflow("")
    agentops_otel.start_session()
    agentops_otel.start_session()
    with pytest.raises(MultiSessionException):
        start_workflow("pipeline")
    assert spans_named(exporter, "invoke_workflow pipeline") == []
