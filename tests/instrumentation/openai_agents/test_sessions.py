"""Which session an Agents SDK run goes into: the current one, the only one, or one of its own.

Runs of real agents against the stand-in; what is checked is what reaches the exporter (session
roots, their end states, which spans carry which session id) and what the caller gets raised.
"""

from __future__ import annotations

import asyncio
from typing import Any

import agents
import openai
import pytest
from agentops_otel_standin import StandInServer
from agents import Agent, RunConfig, Runner
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel
from tests.instrumentation.openai_agents.conftest import get_weather, stand_in_model
from tests.support.spans import Tree, attributes, root_of, sessions, span_tree, spans_named
from tests.support.threads import run_in_threads

SESSION_ID = "session.id"
CONVERSATION_ID = "gen_ai.conversation.id"


def agent(standin: StandInServer, name: str = "Assistant", api: Any = "responses", model: str = "gpt-4o-mini",
          ) -> Agent[Any]:
    return Agent(name=name, instructions="Help.", tools=[get_weather], model=stand_in_model(standin, api, model))


ONE_RUN: Tree = [("invoke_agent Assistant", "INTERNAL", [
    ("chat gpt-4o-mini", "CLIENT", []),
    ("execute_tool get_weather", "INTERNAL", []),
    ("chat gpt-4o-mini", "CLIENT", []),
])]


def test_with_no_session_each_run_is_a_session_of_its_own(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        await Runner.run(agent(standin), "Weather in Paris?")
        await Runner.run(agent(standin), "Weather in Rome?")

    asyncio.run(main())

    by_session = sessions(exporter)
    assert len(by_session) == 2
    for spans in by_session.values():
        assert span_tree(spans) == [("session", "INTERNAL", ONE_RUN)]
        assert attributes(root_of(spans))["agentops.session.end_state"] == "Success"
    assert not agentops_otel.get_active_sessions()


def test_a_run_that_raises_ends_its_session_fail_with_the_exception(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        await Runner.run(agent(standin, model="error-500"), "Weather in Paris?")

    with pytest.raises(openai.InternalServerError):
        asyncio.run(main())

    (spans,) = sessions(exporter).values()
    root = root_of(spans)
    assert attributes(root)["agentops.session.end_state"] == "Fail"
    assert root.status.status_code.name == "ERROR"
    assert root.status.description is not None and root.status.description.startswith("InternalServerError")
    (agent_span,) = spans_named(exporter, "invoke_agent Assistant")
    assert agent_span.status.status_code.name == "ERROR"
    assert attributes(agent_span)["error.type"] == "InternalServerError"
    (call,) = spans_named(exporter, "chat error-500")
    assert call.parent is not None and agent_span.context is not None
    assert call.parent.span_id == agent_span.context.span_id


def test_a_streamed_run_that_fails_ends_its_session_fail(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        result = Runner.run_streamed(agent(standin, model="error-500"), "Weather in Paris?")
        async for _event in result.stream_events():
            pass

    with pytest.raises(openai.InternalServerError):
        asyncio.run(main())

    (spans,) = sessions(exporter).values()
    assert attributes(root_of(spans))["agentops.session.end_state"] == "Fail"


def test_runs_started_in_a_current_session_go_into_it_and_leave_it_open(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    session = agentops_otel.start_session(tags=["support"])

    async def main() -> None:
        with session:
            await Runner.run(agent(standin), "Weather in Paris?")
            assert not session.is_ended
            await Runner.run(agent(standin), "Weather in Rome?")

    asyncio.run(main())

    assert span_tree(exporter.get_finished_spans()) == [("session", "INTERNAL", ONE_RUN + ONE_RUN)]
    assert list(sessions(exporter)) == [session.session_id]


def test_a_run_goes_into_the_only_active_session_though_it_is_not_current(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    session = agentops_otel.start_session()

    Runner.run_sync(agent(standin), "Weather in Paris?")

    assert not session.is_ended
    session.end_session("Success")
    assert span_tree(exporter.get_finished_spans()) == [("session", "INTERNAL", ONE_RUN)]
    assert list(sessions(exporter)) == [session.session_id]


@pytest.mark.usefixtures("session_per_agent_run")
def test_session_per_agent_run_gives_a_run_its_own_session_beside_the_active_one(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    process_session = agentops_otel.start_session(tags=["process"])

    Runner.run_sync(agent(standin), "Weather in Paris?")

    process_session.end_session("Indeterminate")
    by_session = sessions(exporter)
    assert [span.name for span in by_session.pop(process_session.session_id)] == ["session"]
    (run_spans,) = by_session.values()
    assert span_tree(run_spans) == [("session", "INTERNAL", ONE_RUN)]
    assert attributes(root_of(run_spans))["agentops.session.end_state"] == "Success"


@pytest.mark.usefixtures("session_per_agent_run")
def test_session_per_agent_run_still_puts_a_run_into_a_current_session(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    with agentops_otel.start_session() as session:
        Runner.run_sync(agent(standin), "Weather in Paris?")

    assert list(sessions(exporter)) == [session.session_id]


def test_two_active_sessions_and_none_chosen_raise_before_any_request(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    first, second = agentops_otel.start_session(), agentops_otel.start_session()
    requests_before = len(standin.requests)

    with pytest.raises(agentops_otel.MultiSessionException, match="session_per_agent_run"):
        Runner.run_sync(agent(standin), "Weather in Paris?")

    async def run() -> None:
        await Runner.run(agent(standin), "Weather in Paris?")

    with pytest.raises(agentops_otel.MultiSessionException):
        asyncio.run(run())

    async def run_streamed() -> None:
        Runner.run_streamed(agent(standin), "Weather in Paris?")

    with pytest.raises(agentops_otel.MultiSessionException):
        asyncio.run(run_streamed())

    assert len(standin.requests) == requests_before
    first.end_session("Success")
    second.end_session("Success")
    assert sorted(span.name for span in exporter.get_finished_spans()) == ["session", "session"]


def test_two_runs_at_once_in_asyncio_tasks_each_get_their_own_session(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        await asyncio.gather(Runner.run(agent(standin), "Weather in Paris?"),
                             Runner.run(agent(standin), "Weather in Rome?"))

    asyncio.run(main())

    by_session = sessions(exporter)
    assert len(by_session) == 2
    for spans in by_session.values():
        assert span_tree(spans) == [("session", "INTERNAL", ONE_RUN)]
        assert attributes(root_of(spans))["agentops.session.end_state"] == "Success"


def test_two_runs_at_once_in_tasks_of_two_chosen_sessions_stay_in_theirs(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    first, second = agentops_otel.start_session(tags=["first"]), agentops_otel.start_session(tags=["second"])

    async def in_session(session: agentops_otel.Session, city: str) -> None:
        with session:
            await Runner.run(agent(standin), f"Weather in {city}?")

    async def main() -> None:
        await asyncio.gather(in_session(first, "Paris"), in_session(second, "Rome"))

    asyncio.run(main())  # ``with session:`` ends each session when its run is done

    by_session = sessions(exporter)
    assert set(by_session) == {first.session_id, second.session_id}
    for spans in by_session.values():
        assert span_tree(spans) == [("session", "INTERNAL", ONE_RUN)]


def test_two_runs_at_once_in_threads_each_get_their_own_session(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    run_in_threads(lambda: Runner.run_sync(agent(standin, api="chat"), "Weather in Paris?"),
                   lambda: Runner.run_sync(agent(standin, api="chat"), "Weather in Rome?"))

    by_session = sessions(exporter)
    assert len(by_session) == 2
    for spans in by_session.values():
        assert span_tree(spans) == [("session", "INTERNAL", ONE_RUN)]
        assert attributes(root_of(spans))["agentops.session.end_state"] == "Success"


def test_runs_in_one_agents_trace_are_one_session(standin: StandInServer, exporter: InMemorySpanExporter) -> None:
    async def main() -> None:
        with agents.trace("Support workflow", group_id="conversation-42"):
            await Runner.run(agent(standin), "Weather in Paris?")
            await Runner.run(agent(standin), "Weather in Rome?")

    asyncio.run(main())

    (spans,) = sessions(exporter).values()
    assert span_tree(spans) == [("session", "INTERNAL", ONE_RUN + ONE_RUN)]
    assert attributes(root_of(spans))["agentops.session.end_state"] == "Success"
    # The trace's group_id (the SDK's link between the traces of one conversation) is the session's.
    assert {attributes(span)[CONVERSATION_ID] for span in spans} == {"conversation-42"}


def test_a_failed_run_fails_the_session_of_its_agents_trace(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        with agents.trace("Support workflow"):
            await Runner.run(agent(standin), "Weather in Paris?")
            try:
                await Runner.run(agent(standin, model="error-500"), "Weather in Rome?")
            except openai.InternalServerError:
                pass

    asyncio.run(main())

    (spans,) = sessions(exporter).values()
    root = root_of(spans)
    assert attributes(root)["agentops.session.end_state"] == "Fail"
    assert root.status.description is not None and root.status.description.startswith("InternalServerError")


def test_the_run_configs_group_id_does_not_join_runs_into_one_session(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    config = RunConfig(group_id="conversation-7")

    Runner.run_sync(agent(standin), "Weather in Paris?", run_config=config)
    Runner.run_sync(agent(standin, name="Planner"), "Weather in Rome?", run_config=config)

    by_session = sessions(exporter)
    assert len(by_session) == 2
    # ... but they are two runs of one conversation: its group_id is both sessions' conversation id.
    for spans in by_session.values():
        assert {attributes(span)[CONVERSATION_ID] for span in spans} == {"conversation-7"}
    # Each session is the run of its starting agent.
    assert sorted(attributes(root_of(spans))["gen_ai.agent.name"] for spans in by_session.values()) == [
        "Assistant", "Planner"]
    assert {attributes(root_of(spans))["gen_ai.operation.name"] for spans in by_session.values()} == {"invoke_agent"}


def test_a_streamed_run_s_group_id_is_its_session_s_conversation_id(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        result = Runner.run_streamed(agent(standin), "Weather in Paris?", run_config={"group_id": "thread-9"})
        async for _event in result.stream_events():
            pass

    asyncio.run(main())

    (spans,) = sessions(exporter).values()
    assert {attributes(span)[CONVERSATION_ID] for span in spans} == {"thread-9"}


def test_a_run_into_an_existing_session_leaves_its_conversation_id(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    session = agentops_otel.start_session(conversation_id="chat-1")
    Runner.run_sync(agent(standin), "Weather in Paris?", run_config=RunConfig(group_id="conversation-7"))
    plain = agentops_otel.start_session()
    with plain:
        Runner.run_sync(agent(standin), "Weather in Rome?", run_config=RunConfig(group_id="conversation-8"))
    session.end_session("Success")

    by_session = sessions(exporter)
    assert {attributes(span)[CONVERSATION_ID] for span in by_session[session.session_id]} == {"chat-1"}
    assert {attributes(span)[CONVERSATION_ID] for span in by_session[plain.session_id]} == {plain.session_id}
    # The root names the service as its agent: the session was not started for a run.
    assert attributes(root_of(by_session[session.session_id]))["gen_ai.agent.name"] != "Assistant"


def test_a_runs_conversation_id_is_its_session_s_and_wins_over_the_group_id(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    config = RunConfig(group_id="group-7")

    async def main() -> None:
        await Runner.run(agent(standin), "Weather in Paris?", conversation_id="conv_123", run_config=config)
        result = Runner.run_streamed(agent(standin), "Weather in Rome?", None, 10, None, config, None, False,
                                     "conv_456")  # run_streamed takes it by position too
        async for _event in result.stream_events():
            pass

    asyncio.run(main())
    Runner.run_sync(agent(standin), "Weather in Oslo?", run_config=config)  # no conversation: the group

    conversations = sorted({attributes(span)[CONVERSATION_ID] for span in spans}
                           for spans in sessions(exporter).values())
    assert conversations == [{"conv_123"}, {"conv_456"}, {"group-7"}]


def test_the_sdk_session_s_id_is_the_conversation_of_a_run_without_conversation_id(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    memory = agents.SQLiteSession("chat-thread-9")  # in memory

    Runner.run_sync(agent(standin), "Weather in Paris?", session=memory, run_config=RunConfig(group_id="group-7"))

    (spans,) = sessions(exporter).values()
    assert {attributes(span)[CONVERSATION_ID] for span in spans} == {"chat-thread-9"}
