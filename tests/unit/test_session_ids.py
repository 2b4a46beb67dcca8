"""Sessions as GenAI-aware backends group them: ``session.id`` and ``gen_ai.conversation.id`` on every
span of a session, the root as the ``invoke_agent`` span of the run, ``agentops.session.id`` on the
root alone.

What is checked is what the exporter receives: the root, an LLM call through the real OpenAI client
against the stand-in, a recorded event, a step, a user's own span and its child.
"""

from __future__ import annotations

import json

import openai
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_NAME,
    GEN_AI_CONVERSATION_ID,
    GEN_AI_OPERATION_NAME,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

import agentops_otel as agentops
from agentops_otel.instrumentation import start_tool
from tests.support.spans import RecordsExporter, attributes
from tests.support.subprocesses import json_documents, run_python

ROOT_SESSION_ID = "agentops.session.id"
USER = [{"role": "user", "content": "Weather in Paris?"}]
tracer = trace.get_tracer("tests.session_ids")


def in_session(exporter: InMemorySpanExporter, session: agentops.Session) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans()
            if span.context is not None and span.context.trace_id == session.span.get_span_context().trace_id]


def run_everything(session: agentops.Session, client: openai.OpenAI) -> None:
    """One of each kind of span a session has."""
    with session:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
        session.record(agentops.ToolEvent(name="get_weather", params={"city": "Paris"}, call_id="call_1"))
        with start_tool("lookup"):
            pass
        with tracer.start_as_current_span("user work"), tracer.start_as_current_span("user work.inner"):
            pass


def test_every_span_of_a_session_carries_both_ids(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    run_everything(session, client)

    spans = in_session(exporter, session)
    assert sorted(span.name for span in spans) == ["chat gpt-4o-mini", "execute_tool get_weather",
                                                   "execute_tool lookup", "session", "user work", "user work.inner"]
    for span in spans:
        assert attributes(span)[SESSION_ID] == session.session_id, span.name
        assert attributes(span)[GEN_AI_CONVERSATION_ID] == session.session_id == session.conversation_id, span.name
        # agentops.session.id marks the session's root alone: one span per session answers a search for it.
        assert (ROOT_SESSION_ID in attributes(span)) == (span.name == "session"), span.name
    (root,) = [span for span in spans if span.name == "session"]
    assert attributes(root)[ROOT_SESSION_ID] == session.session_id


def test_sessions_given_one_conversation_id_share_it(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    first = agentops.start_session(conversation_id="chat-42")
    run_everything(first, client)
    second = agentops.start_session(conversation_id="chat-42")
    run_everything(second, client)
    other = agentops.start_session()
    run_everything(other, client)

    assert first.session_id != second.session_id
    for session in (first, second):
        spans = in_session(exporter, session)
        assert len(spans) == 6
        assert {attributes(span)[GEN_AI_CONVERSATION_ID] for span in spans} == {"chat-42"}
        assert {attributes(span)[SESSION_ID] for span in spans} == {session.session_id}
    assert {attributes(span)[GEN_AI_CONVERSATION_ID] for span in in_session(exporter, other)} == {other.session_id}


def test_the_start_record_finds_the_session_but_is_no_agent_run(exporter: RecordsExporter) -> None:
    with agentops.start_session(conversation_id="chat-7", tags=["t"]) as session:
        pass
    (record,) = exporter.start_records()
    assert attributes(record)[ROOT_SESSION_ID] == attributes(record)[SESSION_ID] == session.session_id
    assert attributes(record)[GEN_AI_CONVERSATION_ID] == "chat-7"
    assert GEN_AI_OPERATION_NAME not in attributes(record)  # a backend would count a second agent run


def test_the_root_is_the_agent_run_named_after_the_service_by_default(exporter: InMemorySpanExporter) -> None:
    with agentops.start_session():
        pass
    with agentops.start_session(agent_name="travel-planner"):
        pass
    default, named = [span for span in exporter.get_finished_spans() if span.name == "session"]
    for root in (default, named):
        assert attributes(root)[GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert attributes(default)[GEN_AI_AGENT_NAME] == default.resource.attributes["service.name"]
    assert attributes(named)[GEN_AI_AGENT_NAME] == "travel-planner"


def test_the_session_decorator_names_the_agent_and_the_conversation(exporter: InMemorySpanExporter) -> None:
    @agentops.session(agent_name="nightly-report", conversation_id="reports")
    def nightly() -> None:
        tracer.start_span("work").end()

    nightly()
    nightly()
    roots = [span for span in exporter.get_finished_spans() if span.name == "session"]
    assert [attributes(root)[GEN_AI_AGENT_NAME] for root in roots] == ["nightly-report"] * 2
    assert {attributes(span)[GEN_AI_CONVERSATION_ID] for span in exporter.get_finished_spans()} == {"reports"}
    assert len({attributes(root)[SESSION_ID] for root in roots}) == 2


@pytest.mark.parametrize("kwargs", [{"conversation_id": ""}, {"conversation_id": 7}, {"agent_name": "  "},
                                    {"agent_name": b"x"}])
def test_start_session_rejects_ids_that_are_not_text(kwargs: dict[str, object], exporter: InMemorySpanExporter
                                                     ) -> None:
    with pytest.raises(TypeError):
        agentops.start_session(**kwargs)  # type: ignore[arg-type]
    assert not agentops.get_active_sessions() and not exporter.get_finished_spans()


@pytest.mark.slow
def test_init_names_the_agent_of_every_session_and_the_conversation_of_its_own() -> None:
    result = run_python(
        """
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel as agentops
        spans = InMemorySpanExporter()
        first = agentops.init(exporter=spans, agent_name="travel-agent", conversation_id="chat-1")
        first.end_session("Success")
        agentops.start_session().end_session("Success")
        agentops.start_session(agent_name="other").end_session("Success")
        trace.get_tracer_provider().force_flush()
        print(json.dumps([dict(s.attributes) for s in spans.get_finished_spans() if s.name == "session"]))
        """,
        {"OTEL_SERVICE_NAME": "travel-service"},
    )
    assert result.returncode == 0, result.stderr
    (roots,) = json_documents(result.stdout)
    assert [(root[GEN_AI_AGENT_NAME], root[GEN_AI_CONVERSATION_ID] == root[SESSION_ID]) for root in roots] == [
        ("travel-agent", False), ("travel-agent", True), ("other", True)]
    assert roots[0][GEN_AI_CONVERSATION_ID] == "chat-1"


@pytest.mark.slow
def test_without_an_agent_name_the_root_names_the_service_of_otel_service_name() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel as agentops
        spans = InMemorySpanExporter()
        agentops.init(exporter=spans).end_session("Success")
        trace.get_tracer_provider().force_flush()
        (root,) = [s for s in spans.get_finished_spans() if s.name == "session"]
        print("AGENT", root.attributes["gen_ai.agent.name"])
        """,
        {"OTEL_SERVICE_NAME": "travel-service"},
    )
    assert result.returncode == 0, result.stderr
    assert "AGENT travel-service" in result.stdout


def test_tool_event_content_is_json_under_the_conventions_names(exporter: InMemorySpanExporter) -> None:
    # The demo's pattern: a model's tool call recorded with its id, content only with capture on.
    agentops.set_capture_content(True)
    with agentops.start_session() as session:
        session.record(agentops.ToolEvent(name="get_weather", params={"city": "Paris"}, returns={"temp_c": 18},
                                          call_id="call_9"))
    (tool,) = [span for span in exporter.get_finished_spans() if span.name == "execute_tool get_weather"]
    assert attributes(tool)["gen_ai.tool.call.id"] == "call_9"
    assert json.loads(attributes(tool)["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    assert json.loads(attributes(tool)["gen_ai.tool.call.result"]) == {"temp_c": 18}
