"""Real OTLP export, over gRPC and HTTP/protobuf, to a receiver on 127.0.0.1 that decodes it."""

from __future__ import annotations

import json

import pytest
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

from agentops_otel._internal.attribute_names import (
    SESSION_END_STATE,
    SESSION_END_STATE_REASON,
    SESSION_TAGS,
    SESSION_TOOL_CALLS,
)
from tests.support.otlp_receiver import OTLPReceiver, Protocol, by_span_id
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, run_python

SCRIPT = """
import agentops_otel as agentops
from opentelemetry import trace

session = agentops.init(tags=["otlp", "export"], service_name="otlp-test", capture_content=True)
agentops.record(agentops.ToolEvent(name="search", params={"q": "pizza"}, returns=["Luigi's"], call_id="call_1"))

def work():
    with trace.get_tracer("user-app").start_as_current_span("user-work"):
        with trace.get_tracer("user-app").start_as_current_span("user-work.inner"):
            pass

session.patch(work)()
try:
    raise TimeoutError("search took too long")
except TimeoutError as error:
    agentops.record(agentops.ErrorEvent(exception=error))
agentops.add_tags(["late"])
agentops.end_session("Fail", end_state_reason="tool timed out")
print("SESSION", session.session_id)
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_session_tree_arrives_decoded(protocol: Protocol) -> None:
    with OTLPReceiver(protocol) as receiver:
        result = run_python(SCRIPT, {**receiver.env(), **NO_LLM_INSTRUMENTATION})
        assert result.returncode == 0, result.stderr
        session_id = result.stdout.split("SESSION ")[1].split()[0]
        root = receiver.wait_for(lambda span: span.name == "session", timeout=10)
        spans = receiver.wait_for_spans(5, timeout=10)

    assert sorted(span.name for span in spans) == sorted(
        ["session", "execute_tool search", "user-work", "user-work.inner", "error TimeoutError"]
    )
    assert root.parent_span_id is None
    assert root.kind == "INTERNAL"
    assert root.status_code == "ERROR" and root.status_message == "tool timed out"
    assert root.attributes[SESSION_ID] == root.attributes["agentops.session.id"] == session_id
    # An agent run in GenAI terms, named after the service when init() names no agent.
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.agent.name"] == "otlp-test"
    assert root.attributes[SESSION_END_STATE] == "Fail"
    assert root.attributes[SESSION_END_STATE_REASON] == "tool timed out"
    assert root.attributes[SESSION_TAGS] == ["otlp", "export", "late"]
    assert root.attributes[SESSION_TOOL_CALLS] == 1
    assert root.resource_attributes["service.name"] == "otlp-test"

    index = by_span_id(spans)
    named = {span.name: span for span in spans}
    for span in spans:
        assert span.trace_id == root.trace_id
        assert span.attributes[SESSION_ID] == session_id
        assert span.attributes["gen_ai.conversation.id"] == session_id
    for name in ("execute_tool search", "user-work", "error TimeoutError"):
        assert named[name].parent_span_id == root.span_id
    inner = named["user-work.inner"]
    assert inner.parent_span_id is not None and index[inner.parent_span_id].name == "user-work"

    tool = named["execute_tool search"]
    assert tool.attributes["gen_ai.tool.call.id"] == "call_1"
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"q": "pizza"}
    assert json.loads(tool.attributes["gen_ai.tool.call.result"]) == ["Luigi's"]
    assert tool.status_code == "UNSET"
    error = named["error TimeoutError"]
    assert error.status_code == "ERROR" and error.status_message == "search took too long"
    [exception] = error.events
    assert exception.name == "exception"
    assert exception.attributes["exception.type"] == "TimeoutError"


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_traces_specific_variables_win(protocol: Protocol) -> None:
    """``OTEL_EXPORTER_OTLP_TRACES_*`` override the generic ones, as in the OpenTelemetry SDK."""
    with OTLPReceiver(protocol) as receiver:
        env = {
            **NO_LLM_INSTRUMENTATION,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" if protocol == "http/protobuf" else "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.traces_endpoint,
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "5",  # seconds, as the Python OTLP exporters read it
        }
        result = run_python("import agentops_otel as a; a.init(tags=['traces-vars']).end_session('Success')", env)
        assert result.returncode == 0, result.stderr
        root = receiver.wait_for(lambda span: span.name == "session", timeout=10)
    assert root.status_code == "OK"
    assert root.attributes[SESSION_TAGS] == ["traces-vars"]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_headers_reach_the_collector_and_never_a_span(protocol: Protocol) -> None:
    with OTLPReceiver(protocol) as receiver:
        env = {
            **receiver.env(),
            **NO_LLM_INSTRUMENTATION,
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=not-so-secret-123,x-team=agents",
        }
        result = run_python("import agentops_otel as a; a.init().end_session('Success')", env)
        assert result.returncode == 0, result.stderr
        root = receiver.wait_for(lambda span: span.name == "session", timeout=10)
        headers = receiver.headers()
    assert headers and all(h.get("x-api-key") == "not-so-secret-123" for h in headers)
    assert all(h.get("x-team") == "agents" for h in headers)
    assert "not-so-secret-123" not in repr(root)
