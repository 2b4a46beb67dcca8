"""LangGraph agents and LangChain chains as the user runs them, traced with no code change.

Real ``langgraph`` / ``langchain-openai`` against the stand-in; ``init()`` (tests/conftest.py)
activated the instrumentor from its entry point, as in an application.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from agentops_otel_standin import StandInServer
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel
from agentops_otel import Session
from tests.support.clients import async_openai_client, openai_client
from tests.support.langchain_apps import QUESTION, chat_model, get_forecast, question_chain, weather_graph
from tests.support.span_trees import SpanTree, span_forest
from tests.support.spans import attributes
from tests.support.threads import run_in_threads

CHAT: SpanTree = ("chat gpt-4o-mini", [])
WEATHER_RUN: SpanTree = ("invoke_agent weather", [
    ("agent", [CHAT]),
    ("tools", [("execute_tool get_weather", [])]),
    ("agent", [CHAT]),
])


def _spans(exporter: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name.startswith(prefix)]


def _tool_call_ids(results: Sequence[dict[str, Any]]) -> list[str]:
    """The ids of the tool calls the model asked for, as the application sees them."""
    ids = []
    for result in results:
        for message in result["messages"]:
            if isinstance(message, AIMessage):
                ids += [str(call["id"]) for call in message.tool_calls]
    return ids


def _assert_in_session(exporter: InMemorySpanExporter, session: Session) -> None:
    for span in exporter.get_finished_spans():
        assert attributes(span).get("session.id") == session.session_id, span.name


def _assert_weather_spans(exporter: InMemorySpanExporter, results: Sequence[dict[str, Any]]) -> None:
    for span in exporter.get_finished_spans():
        expected_kind = SpanKind.CLIENT if span.name.startswith("chat ") else SpanKind.INTERNAL
        assert span.kind == expected_kind, span.name
        if span.name != "session":
            assert span.status.status_code in (StatusCode.OK, StatusCode.UNSET), span.name
    for agent in _spans(exporter, "invoke_agent"):
        assert attributes(agent)["gen_ai.operation.name"] == "invoke_agent"
        assert attributes(agent)["gen_ai.agent.name"] == "weather"
        assert agent.status.status_code == StatusCode.OK
    nodes = [span for span in exporter.get_finished_spans() if span.name in ("agent", "tools")]
    assert [(attributes(n)["langgraph.node"], attributes(n)["langgraph.step"]) for n in nodes].count(
        ("tools", 2)) == len(results)
    tools = _spans(exporter, "execute_tool")
    assert {attributes(t)["gen_ai.tool.name"] for t in tools} == {"get_weather"}
    assert {attributes(t)["gen_ai.operation.name"] for t in tools} == {"execute_tool"}
    # Each tool span carries the id of the tool call the model's answer asked for.
    assert sorted(str(attributes(t)["gen_ai.tool.call.id"]) for t in tools) == sorted(_tool_call_ids(results))
    assert len(set(_tool_call_ids(results))) == len(results)
    # Content capture is off: no arguments, no result.
    assert not any("gen_ai.tool.call.arguments" in attributes(t) for t in tools)


def _run_sync(graph: Any, mode: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if mode == "invoke":
        return [graph.invoke(item) for item in inputs]
    if mode == "stream":
        return [list(graph.stream(item, stream_mode="values"))[-1] for item in inputs]
    return list(graph.batch(inputs))


async def _run_async(graph: Any, mode: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if mode == "ainvoke":
        return [await graph.ainvoke(item) for item in inputs]
    if mode == "astream":
        results = []
        for item in inputs:
            chunks = [chunk async for chunk in graph.astream(item, stream_mode="values")]
            results.append(chunks[-1])
        return results
    return list(await graph.abatch(inputs))


@pytest.mark.parametrize("mode", ["invoke", "stream", "batch", "ainvoke", "astream", "abatch"])
def test_graph_runs_are_agent_spans_with_their_nodes_model_calls_and_tools(
        exporter: InMemorySpanExporter, standin: StandInServer, mode: str) -> None:
    inputs = [QUESTION, QUESTION]
    session = agentops_otel.start_session()
    if mode.startswith("a"):
        async def main() -> list[dict[str, Any]]:
            return await _run_async(weather_graph(chat_model(standin)), mode, inputs)
        results = asyncio.run(main())
    else:
        results = _run_sync(weather_graph(chat_model(standin)), mode, inputs)
    analytics = session.get_analytics()
    session.end_session("Success")

    assert span_forest(exporter.get_finished_spans()) == [("session", [WEATHER_RUN, WEATHER_RUN])]
    _assert_weather_spans(exporter, results)
    _assert_in_session(exporter, session)
    assert (analytics.agent_invocations, analytics.tool_calls, analytics.llm_calls, analytics.errors) == (2, 2, 4, 0)


def test_tool_arguments_and_result_with_content_capture(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    agentops_otel.set_capture_content(True)
    with agentops_otel.start_session():
        weather_graph(chat_model(standin)).invoke(QUESTION)
    (tool,) = _spans(exporter, "execute_tool")
    assert attributes(tool)["gen_ai.tool.call.arguments"] == '{"city": "Paris"}'
    assert attributes(tool)["gen_ai.tool.call.result"] == "It is sunny in Paris."


def test_a_chain_at_the_top_is_a_workflow_span(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    chain = question_chain(chat_model(standin))
    with agentops_otel.start_session() as session:
        chain.invoke({"question": "Why is the sky blue?"})
        chain.batch([{"question": "One?"}, {"question": "Two?"}])
    workflow = ("invoke_workflow RunnableSequence", [CHAT])
    assert span_forest(exporter.get_finished_spans()) == [("session", [workflow, workflow, workflow])]
    for span in _spans(exporter, "invoke_workflow"):
        assert attributes(span)["gen_ai.operation.name"] == "invoke_workflow"
        assert attributes(span)["gen_ai.workflow.name"] == "RunnableSequence"
        assert span.kind == SpanKind.INTERNAL and span.status.status_code == StatusCode.OK
    _assert_in_session(exporter, session)
    assert session.get_analytics().agent_invocations == 0


def _run_in_own_session(standin: StandInServer, sessions: list[Session]) -> Callable[[], None]:
    def run() -> None:
        session = agentops_otel.start_session()
        sessions.append(session)
        with session:
            weather_graph(chat_model(standin)).invoke(QUESTION)
    return run


def _assert_one_run_per_session(exporter: InMemorySpanExporter, sessions: list[Session]) -> None:
    assert span_forest(exporter.get_finished_spans()) == [("session", [WEATHER_RUN])] * 2
    # Each session's trace holds only spans of that session.
    by_trace: dict[int, set[str]] = {}
    for span in exporter.get_finished_spans():
        assert span.context is not None
        by_trace.setdefault(span.context.trace_id, set()).add(str(attributes(span).get("session.id")))
    assert sorted(by_trace.values(), key=sorted) == sorted(({s.session_id} for s in sessions), key=sorted)
    for session in sessions:
        assert session.get_analytics().agent_invocations == 1
        assert session.get_analytics().tool_calls == 1


def test_two_runs_in_threads_each_in_its_own_session(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    sessions: list[Session] = []
    run_in_threads(_run_in_own_session(standin, sessions), _run_in_own_session(standin, sessions))
    _assert_one_run_per_session(exporter, sessions)


def test_two_runs_in_tasks_each_in_its_own_session(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    sessions: list[Session] = []

    async def run() -> None:
        session = agentops_otel.start_session()
        sessions.append(session)
        with session:
            await weather_graph(chat_model(standin)).ainvoke(QUESTION)

    async def main() -> None:
        await asyncio.gather(run(), run())

    asyncio.run(main())
    _assert_one_run_per_session(exporter, sessions)


def test_a_tool_that_raises_is_an_error_span_and_the_agent_goes_on(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    with agentops_otel.start_session() as session:
        weather_graph(chat_model(standin), [get_forecast]).invoke(QUESTION)
        analytics = session.get_analytics()
    assert span_forest(exporter.get_finished_spans()) == [("session", [("invoke_agent weather", [
        ("agent", [CHAT]), ("tools", [("execute_tool get_forecast", [])]), ("agent", [CHAT])])])]
    (tool,) = _spans(exporter, "execute_tool")
    assert tool.status.status_code == StatusCode.ERROR
    assert attributes(tool)["error.type"] == "ValueError"
    assert [event.name for event in tool.events] == ["exception"]
    (agent,) = _spans(exporter, "invoke_agent")
    assert agent.status.status_code == StatusCode.OK  # ToolNode answered the model with the error
    assert (analytics.tool_calls, analytics.errors) == (1, 1)


def test_a_tool_error_that_ends_the_run_fails_the_node_and_the_agent(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops_otel.start_session()
    with pytest.raises(ValueError, match="forecast service for Paris is down"), session:
        weather_graph(chat_model(standin), [get_forecast], handle_tool_errors=False).invoke(QUESTION)
    assert span_forest(exporter.get_finished_spans()) == [("session", [("invoke_agent weather", [
        ("agent", [CHAT]), ("tools", [("execute_tool get_forecast", [])])])])]
    for name in ("execute_tool get_forecast", "tools", "invoke_agent weather"):
        (span,) = _spans(exporter, name)
        assert span.status.status_code == StatusCode.ERROR, name
        assert attributes(span)["error.type"] == "ValueError", name
    assert session.get_analytics().errors == 2  # the tool and the agent (node spans are not counted)


@pytest.mark.parametrize("mode", ["invoke", "stream", "batch", "ainvoke", "astream", "chain", "tool"])
def test_two_sessions_and_none_chosen_raise_before_any_request(
        exporter: InMemorySpanExporter, standin: StandInServer, mode: str) -> None:
    agentops_otel.start_session()
    agentops_otel.start_session()
    requests_before = len(standin.requests)
    graph = weather_graph(chat_model(standin))
    with pytest.raises(agentops_otel.MultiSessionException):
        if mode == "ainvoke":
            asyncio.run(graph.ainvoke(QUESTION))
        elif mode == "astream":
            async def consume() -> None:
                async for _ in graph.astream(QUESTION):
                    pass
            asyncio.run(consume())
        elif mode == "chain":
            question_chain(chat_model(standin)).invoke({"question": "Hello?"})
        elif mode == "tool":
            get_forecast.invoke({"city": "Paris"})
        else:
            _run_sync(graph, mode, [QUESTION])
    assert len(standin.requests) == requests_before
    assert exporter.get_finished_spans() == ()


def _direct_call_graph(standin: StandInServer) -> Any:
    """A graph whose node and tool call the openai client themselves, not through LangChain."""
    @tool
    def summarise(text: str) -> str:
        """Summarise a text with a model."""
        with openai_client(standin) as client:
            completion = client.chat.completions.create(model="gpt-4o-mini",
                                                        messages=[{"role": "user", "content": text}])
        return completion.choices[0].message.content or ""

    def write(state: MessagesState) -> dict[str, Any]:
        with openai_client(standin) as client:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Write."}])
        return {"messages": [summarise.invoke({"text": "a long text"})]}

    async def write_async(state: MessagesState) -> dict[str, Any]:
        async with async_openai_client(standin) as client:
            await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Write."}])
        return {"messages": [await summarise.ainvoke({"text": "a long text"})]}

    graph = StateGraph(MessagesState)
    graph.add_node("write", RunnableLambda(write, afunc=write_async, name="write"))
    graph.add_edge(START, "write")
    return graph.compile(name="writer")


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_client_calls_a_node_or_tool_makes_itself_nest_under_it(
        exporter: InMemorySpanExporter, standin: StandInServer, mode: str) -> None:
    graph = _direct_call_graph(standin)
    with agentops_otel.start_session():
        if mode == "invoke":
            graph.invoke(QUESTION)
        else:
            asyncio.run(graph.ainvoke(QUESTION))
    assert span_forest(exporter.get_finished_spans()) == [("session", [("invoke_agent writer", [
        ("write", [CHAT, ("execute_tool summarise", [CHAT])])])])]
