"""Which session a LangChain / LangGraph run at the top goes into: the current one, the only one, or
one of its own, as an OpenAI Agents SDK ``Runner.run`` does.

Real ``langgraph`` / ``langchain-openai`` against the stand-in; what is checked is what reaches the
exporter (session roots, end states, which spans carry which session id, their trees).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agentops_otel_standin import StandInServer
from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel
from tests.instrumentation.langchain.test_graphs import CHAT, WEATHER_RUN, _run_async, _run_sync
from tests.support.langchain_apps import QUESTION, chat_model, get_forecast, question_chain, weather_graph
from tests.support.span_trees import span_forest
from tests.support.spans import attributes, root_of, sessions
from tests.support.threads import run_in_threads

SESSION_ID = "session.id"
CONVERSATION_ID = "gen_ai.conversation.id"


def _assert_one_weather_run_per_session(exporter: InMemorySpanExporter, runs: int) -> None:
    by_session = sessions(exporter)
    assert len(by_session) == runs
    for session_id, spans in by_session.items():
        assert span_forest(spans) == [("session", [WEATHER_RUN])]
        root = attributes(root_of(spans))
        assert root["agentops.session.end_state"] == "Success"
        assert root["gen_ai.agent.name"] == "weather"  # the session is the graph's run
        assert (root["agentops.session.agent_invocations"], root["agentops.session.tool_calls"]) == (1, 1)
        # Its own trace: every span of the session is in the root's trace.
        assert len({span.context.trace_id for span in spans if span.context}) == 1
        assert session_id
    assert not agentops_otel.get_active_sessions()


@pytest.mark.parametrize("mode", ["invoke", "stream", "batch", "ainvoke", "astream", "abatch"])
def test_with_no_session_each_run_at_the_top_is_a_session_of_its_own(
        exporter: InMemorySpanExporter, standin: StandInServer, mode: str) -> None:
    inputs = [QUESTION, QUESTION]
    if mode.startswith("a"):
        async def main() -> list[dict[str, Any]]:
            return await _run_async(weather_graph(chat_model(standin)), mode, inputs)
        asyncio.run(main())
    else:
        _run_sync(weather_graph(chat_model(standin)), mode, inputs)
    _assert_one_weather_run_per_session(exporter, 2)


def test_a_run_that_raises_ends_its_session_fail_with_the_exception(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    graph = weather_graph(chat_model(standin), [get_forecast], handle_tool_errors=False)
    with pytest.raises(ValueError, match="forecast service for Paris is down"):
        graph.invoke(QUESTION)

    (spans,) = sessions(exporter).values()
    assert span_forest(spans) == [("session", [("invoke_agent weather", [
        ("agent", [CHAT]), ("tools", [("execute_tool get_forecast", [])])])])]
    root = root_of(spans)
    assert attributes(root)["agentops.session.end_state"] == "Fail"
    assert root.status.status_code.name == "ERROR"
    assert root.status.description is not None and root.status.description.startswith("ValueError")
    assert not agentops_otel.get_active_sessions()


def test_two_runs_at_once_in_threads_each_get_their_own_session(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    run_in_threads(lambda: weather_graph(chat_model(standin)).invoke(QUESTION),
                   lambda: weather_graph(chat_model(standin)).invoke(QUESTION))
    _assert_one_weather_run_per_session(exporter, 2)


def test_two_runs_at_once_in_asyncio_tasks_each_get_their_own_session(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    async def main() -> None:
        await asyncio.gather(weather_graph(chat_model(standin)).ainvoke(QUESTION),
                             weather_graph(chat_model(standin)).ainvoke(QUESTION))

    asyncio.run(main())
    _assert_one_weather_run_per_session(exporter, 2)


def test_a_checkpointed_graphs_thread_is_the_conversation_of_the_sessions_of_its_runs(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    graph = weather_graph(chat_model(standin), checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "thread-7"}}
    graph.invoke(QUESTION, config)
    graph.invoke(QUESTION, config)  # the second turn of the conversation

    by_session = sessions(exporter)
    assert len(by_session) == 2
    for spans in by_session.values():
        assert {attributes(span)[CONVERSATION_ID] for span in spans} == {"thread-7"}
        assert attributes(root_of(spans))["agentops.session.end_state"] == "Success"


def test_a_run_into_an_existing_session_leaves_its_conversation_id(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    graph = weather_graph(chat_model(standin), checkpointer=InMemorySaver())
    with agentops_otel.start_session(conversation_id="chat-1") as session:
        graph.invoke(QUESTION, {"configurable": {"thread_id": "thread-7"}})

    assert list(sessions(exporter)) == [session.session_id]
    by_name = {span.name: span for span in exporter.get_finished_spans()}
    assert attributes(by_name["session"])[CONVERSATION_ID] == "chat-1"
    assert attributes(by_name["agent"])[CONVERSATION_ID] == "chat-1"
    assert attributes(by_name["invoke_agent weather"])[CONVERSATION_ID] == "thread-7"  # the graph's own thread


def test_a_chain_at_the_top_is_a_session_of_its_own_too(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    question_chain(chat_model(standin)).invoke({"question": "Why is the sky blue?"})

    (spans,) = sessions(exporter).values()
    assert span_forest(spans) == [("session", [("invoke_workflow RunnableSequence", [CHAT])])]
    root = attributes(root_of(spans))
    assert root["agentops.session.end_state"] == "Success"
    assert root["gen_ai.agent.name"] != "RunnableSequence"  # a chain is no agent: the service's name


def test_a_run_goes_into_the_only_active_session_though_it_is_not_current(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    session = agentops_otel.start_session()
    weather_graph(chat_model(standin)).invoke(QUESTION)
    assert not session.is_ended
    session.end_session("Success")
    assert span_forest(exporter.get_finished_spans()) == [("session", [WEATHER_RUN])]
    assert list(sessions(exporter)) == [session.session_id]


@pytest.mark.usefixtures("session_per_agent_run")
def test_session_per_agent_run_gives_a_run_its_own_session_beside_the_active_one(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    process_session = agentops_otel.start_session(tags=["process"])
    weather_graph(chat_model(standin)).invoke(QUESTION)
    process_session.end_session("Indeterminate")

    by_session = sessions(exporter)
    assert [span.name for span in by_session.pop(process_session.session_id)] == ["session"]
    (run_spans,) = by_session.values()
    assert span_forest(run_spans) == [("session", [WEATHER_RUN])]
    assert attributes(root_of(run_spans))["agentops.session.end_state"] == "Success"
