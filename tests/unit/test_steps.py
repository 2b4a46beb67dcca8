"""Agent and tool spans of the instrumentation API (``start_agent`` / ``start_tool``), as exported.

What an agent-framework bridge relies on: span names, kinds, parents (the session as for LLM
calls, or the given context), GenAI attributes, status and ``error.type``, content rules for tool
arguments and results, the session's analytics, and ``MultiSessionException`` before anything runs.
"""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_TOOL_NAME,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel import MultiSessionException
from agentops_otel._internal import content
from agentops_otel._internal.attribute_names import (
    SESSION_AGENT_INVOCATIONS,
    SESSION_ERRORS,
    SESSION_TOOL_CALLS,
)
from agentops_otel._internal.session import Session
from agentops_otel.instrumentation import Step, start_agent, start_tool
from tests.support.spans import attributes, spans_named

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]


def parent_of(span: ReadableSpan) -> tuple[int, int] | None:
    return None if span.parent is None else (span.parent.trace_id, span.parent.span_id)


def ids(span: trace.Span | ReadableSpan) -> tuple[int, int]:
    ctx = span.get_span_context()
    assert ctx is not None
    return ctx.trace_id, ctx.span_id


def root_of(exporter: InMemorySpanExporter, session: Session) -> dict[str, object]:
    (root,) = [span for span in spans_named(exporter, "session")
               if attributes(span)[SESSION_ID] == session.session_id]
    return attributes(root)


def test_agent_tool_and_llm_call_nest_under_the_only_session(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    with start_agent("planner", agent_id="agent-7", attributes={"app.team": "travel"}) as agent:
        assert isinstance(agent, Step)
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        with start_tool("get_weather", call_id="call_abc"):
            pass
    assert agent.ended
    session.end_session("Success")

    (agent_span,) = spans_named(exporter, "invoke_agent planner")
    (tool_span,) = spans_named(exporter, "execute_tool get_weather")
    (llm_span,) = spans_named(exporter, "chat gpt-4o-mini")
    assert agent_span.kind is SpanKind.INTERNAL and tool_span.kind is SpanKind.INTERNAL
    assert parent_of(agent_span) == ids(session.span)
    assert parent_of(tool_span) == ids(agent_span)
    assert parent_of(llm_span) == ids(agent_span)
    assert attributes(agent_span) == {
        GEN_AI_OPERATION_NAME: "invoke_agent", GEN_AI_AGENT_NAME: "planner", GEN_AI_AGENT_ID: "agent-7",
        "app.team": "travel", SESSION_ID: session.session_id, "gen_ai.conversation.id": session.session_id}
    assert attributes(tool_span) == {
        GEN_AI_OPERATION_NAME: "execute_tool", GEN_AI_TOOL_NAME: "get_weather", GEN_AI_TOOL_CALL_ID: "call_abc",
        SESSION_ID: session.session_id, "gen_ai.conversation.id": session.session_id}
    assert attributes(llm_span)[SESSION_ID] == session.session_id
    assert agent_span.status.status_code is StatusCode.OK and tool_span.status.status_code is StatusCode.OK

    analytics = session.get_analytics()
    assert (analytics.agent_invocations, analytics.tool_calls, analytics.llm_calls, analytics.errors) == (1, 1, 1, 0)
    root = root_of(exporter, session)
    assert (root[SESSION_AGENT_INVOCATIONS], root[SESSION_TOOL_CALLS], root[SESSION_ERRORS]) == (1, 1, 0)


def test_tool_arguments_and_result_only_with_content_capture(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    step = start_tool("search", call_id="call_1", arguments='{"q": "Paris"}')
    step.succeed({"hits": ["Louvre"]})
    content.set_capture_content(True)
    captured = start_tool("search", call_id="call_2", arguments='{"q": "Lyon"}')
    captured.succeed({"hits": ["Fourvière"]})
    as_json = start_tool("search", arguments={"q": "Nice", "limit": 2})
    as_json.succeed("Promenade")
    session.end_session("Success")

    plain, with_content, dict_args = (attributes(span) for span in spans_named(exporter, "execute_tool search"))
    assert GEN_AI_TOOL_CALL_ARGUMENTS not in plain and GEN_AI_TOOL_CALL_RESULT not in plain
    assert with_content[GEN_AI_TOOL_CALL_ARGUMENTS] == '{"q": "Lyon"}'  # a string is recorded as it is
    assert with_content[GEN_AI_TOOL_CALL_RESULT] == '{"hits": ["Fourvière"]}'
    assert dict_args[GEN_AI_TOOL_CALL_ARGUMENTS] == '{"q": "Nice", "limit": 2}'
    assert dict_args[GEN_AI_TOOL_CALL_RESULT] == "Promenade"
    assert GEN_AI_TOOL_CALL_ID not in dict_args


def test_a_raising_block_ends_the_step_with_error(exporter: InMemorySpanExporter) -> None:
    class ToolTimeout(Exception):
        pass

    session = agentops.start_session()
    with pytest.raises(ToolTimeout), start_agent("researcher"), start_tool("fetch_page"):
        raise ToolTimeout("page took too long")
    session.end_session("Fail")

    for name in ("invoke_agent researcher", "execute_tool fetch_page"):
        (span,) = spans_named(exporter, name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "test_a_raising_block_ends_the_step_with_error.<locals>.ToolTimeout: " \
                                          "page took too long"
        assert attributes(span)[ERROR_TYPE] == "test_a_raising_block_ends_the_step_with_error.<locals>.ToolTimeout"
        (event,) = span.events
        assert event.name == "exception" and event.attributes is not None
        assert event.attributes["exception.message"] == "page took too long"
    analytics = session.get_analytics()
    assert (analytics.agent_invocations, analytics.tool_calls, analytics.errors) == (1, 1, 2)


def test_a_step_ends_once(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    step = start_tool("lookup")
    assert not step.ended
    step.succeed("first")
    step.fail(RuntimeError("late"))
    step.succeed("again")
    with step:  # leaving the block after the end changes nothing either
        pass
    assert step.ended
    session.end_session("Success")
    (span,) = spans_named(exporter, "execute_tool lookup")
    assert span.status.status_code is StatusCode.OK and ERROR_TYPE not in attributes(span)
    assert session.get_analytics().tool_calls == 1 and session.get_analytics().errors == 0

    failed = start_agent("late")
    failed.fail(KeyError("k"))
    failed.succeed()
    (span,) = spans_named(exporter, "invoke_agent late")
    assert span.status.status_code is StatusCode.ERROR and attributes(span)[ERROR_TYPE] == "KeyError"


def test_two_sessions_none_chosen_raise_before_a_span_starts(exporter: InMemorySpanExporter) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    with pytest.raises(MultiSessionException):
        start_agent("planner")
    with pytest.raises(MultiSessionException):
        start_tool("search")
    assert [span.name for span in exporter.get_finished_spans()] == []

    start_tool("calculator", context=first.context()).succeed()  # the given context decides
    with second, start_agent("planner"):  # the current session decides (and ends with the block)
        start_tool("search").succeed()
    first.end_session("Success")

    (agent_span,) = spans_named(exporter, "invoke_agent planner")
    (search,) = spans_named(exporter, "execute_tool search")
    (calculator,) = spans_named(exporter, "execute_tool calculator")
    assert parent_of(agent_span) == ids(second.span) and parent_of(search) == ids(agent_span)
    assert attributes(search)[SESSION_ID] == second.session_id
    assert parent_of(calculator) == ids(first.span) and attributes(calculator)[SESSION_ID] == first.session_id
    assert (second.get_analytics().agent_invocations, second.get_analytics().tool_calls) == (1, 1)
    assert (first.get_analytics().agent_invocations, first.get_analytics().tool_calls) == (0, 1)


def test_an_explicit_parent_context_inside_a_session(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    agent = start_agent("orchestrator")
    sub = start_agent("worker", context=agent.context())  # e.g. a bridge's span tree, not the current one
    tool = start_tool("search", context=sub.context())
    tool.succeed()
    sub.succeed()
    agent.succeed()
    session.end_session("Success")
    (orchestrator,) = spans_named(exporter, "invoke_agent orchestrator")
    (worker,) = spans_named(exporter, "invoke_agent worker")
    (search,) = spans_named(exporter, "execute_tool search")
    assert parent_of(worker) == ids(orchestrator) and parent_of(search) == ids(worker)
    assert {attributes(span)[SESSION_ID] for span in (orchestrator, worker, search)} == {session.session_id}
    assert session.get_analytics().agent_invocations == 2


def test_no_session_goes_under_the_current_span(exporter: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("request") as request, start_agent("helper") as agent:
        start_tool("search").succeed()
    assert agent.session is None
    (helper,) = spans_named(exporter, "invoke_agent helper")
    (search,) = spans_named(exporter, "execute_tool search")
    assert parent_of(helper) == ids(request) and parent_of(search) == ids(helper)
    assert SESSION_ID not in attributes(helper) and SESSION_ID not in attributes(search)

    start_agent("alone").succeed()
    (alone,) = spans_named(exporter, "invoke_agent alone")
    assert alone.parent is None


@pytest.mark.parametrize(("call", "message"), [
    (lambda: start_agent(""), "an agent's name must be a non-empty str; got str ''"),
    (lambda: start_tool(None), "a tool's name must be a non-empty str; got NoneType None"),  # type: ignore[arg-type]
    (lambda: start_tool("x", attributes=["a"]), "attributes must be a mapping"),  # type: ignore[arg-type]
    (lambda: start_agent("x", context="ctx"), "context must be an opentelemetry Context or None; got str"),  # type: ignore[arg-type]
])
def test_bad_input_names_what_is_wrong(exporter: InMemorySpanExporter, call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(TypeError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        call()
    assert exporter.get_finished_spans() == ()
