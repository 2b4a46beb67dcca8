"""An Agents SDK run as a span tree: session → invoke_agent → chat / execute_tool, exactly.

Real ``openai-agents`` agents, tools, handoffs and guardrails, their model calls answered by the
stand-in (Responses API and Chat Completions); the trees are read from the spans exported.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from agentops_otel_standin import StandInServer
from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    RunContextWrapper,
    Runner,
    TResponseInputItem,
    input_guardrail,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentops_otel._internal import content
from tests.instrumentation.openai_agents.conftest import Api, get_forecast, get_weather, stand_in_model
from tests.support.spans import attributes, span_tree, spans_named

SESSION_ID = "session.id"
CALL_ID = "gen_ai.tool.call.id"


def only(spans: list[ReadableSpan]) -> ReadableSpan:
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def tool_call_ids_in_output(span: ReadableSpan) -> list[str]:
    """The ids of the tool calls an LLM call span's recorded output asked for."""
    messages = json.loads(str(attributes(span)["gen_ai.output.messages"]))
    return [part["id"] for message in messages for part in message["parts"] if part["type"] == "tool_call"]


def assert_one_session(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The one session root; every other span carries its id and is in its trace."""
    spans = exporter.get_finished_spans()
    root = only(spans_named(exporter, "session"))
    session_id = attributes(root)[SESSION_ID]
    for span in spans:
        assert attributes(span)[SESSION_ID] == session_id, span.name
        assert span.context is not None and root.context is not None
        assert span.context.trace_id == root.context.trace_id, span.name
    return root


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_a_tool_run_is_an_agent_span_with_its_model_calls_and_the_tool_call(
    standin: StandInServer, exporter: InMemorySpanExporter, api: Api
) -> None:
    content.set_capture_content(True)

    async def main() -> Any:
        agent = Agent(name="Assistant", instructions="Answer about weather.", tools=[get_weather],
                      model=stand_in_model(standin, api))
        return await Runner.run(agent, "What is the weather in Paris?")

    result = asyncio.run(main())

    assert "stand-in model" in result.final_output
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [
            ("invoke_agent Assistant", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
                ("execute_tool get_weather", "INTERNAL", []),
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    root = assert_one_session(exporter)
    agent = only(spans_named(exporter, "invoke_agent Assistant"))
    assert attributes(agent)["gen_ai.operation.name"] == "invoke_agent"
    assert attributes(agent)["gen_ai.agent.name"] == "Assistant"
    asked, answered = sorted(spans_named(exporter, "chat gpt-4o-mini"), key=lambda span: span.start_time or 0)
    tool = only(spans_named(exporter, "execute_tool get_weather"))
    assert [attributes(tool)[CALL_ID]] == tool_call_ids_in_output(asked)
    assert attributes(tool)["gen_ai.tool.name"] == "get_weather"
    assert json.loads(str(attributes(tool)["gen_ai.tool.call.arguments"])) == {"city": "Paris"}
    assert attributes(tool)["gen_ai.tool.call.result"] == "Sunny in Paris"
    assert attributes(tool)["openai_agents.span.type"] == "function"
    assert tool.status.status_code.name == "OK"
    # The call id the SDK sent back with the tool's result is the one on the span.
    followed = standin.requests[-1].body
    assert isinstance(followed, dict)
    sent_back = ([item["call_id"] for item in followed["input"] if item.get("type") == "function_call_output"]
                 if api == "responses" else
                 [message["tool_call_id"] for message in followed["messages"] if message["role"] == "tool"])
    assert sent_back == [attributes(tool)[CALL_ID]]
    assert not tool_call_ids_in_output(answered)
    assert root.status.status_code.name == "OK"
    assert attributes(root)["agentops.session.end_state"] == "Success"
    assert attributes(root)["agentops.session.tool_calls"] == 1
    assert attributes(root)["agentops.session.llm_calls"] == 2
    assert attributes(root)["agentops.session.agent_invocations"] == 1


def test_tool_arguments_and_results_are_left_out_without_content_capture(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        agent = Agent(name="Assistant", tools=[get_weather], model=stand_in_model(standin))
        await Runner.run(agent, "What is the weather in Paris?")

    asyncio.run(main())

    tool = only(spans_named(exporter, "execute_tool get_weather"))
    assert attributes(tool)[CALL_ID].startswith("call_")
    assert "gen_ai.tool.call.arguments" not in attributes(tool)
    assert "gen_ai.tool.call.result" not in attributes(tool)


def test_a_tool_that_raises_ends_its_span_with_the_error_and_the_run_goes_on(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> Any:
        agent = Agent(name="Forecaster", tools=[get_forecast], model=stand_in_model(standin))
        return await Runner.run(agent, "Forecast for Oslo?")

    result = asyncio.run(main())

    assert "stand-in model" in result.final_output  # the SDK told the model the tool failed
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [
            ("invoke_agent Forecaster", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
                ("execute_tool get_forecast", "INTERNAL", []),
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    root = assert_one_session(exporter)
    tool = only(spans_named(exporter, "execute_tool get_forecast"))
    assert tool.status.status_code.name == "ERROR"
    assert attributes(tool)["error.type"] == "ValueError"
    (event,) = tool.events
    assert event.name == "exception"
    assert dict(event.attributes or {})["exception.message"] == "no forecast for Oslo today"
    assert attributes(tool)[CALL_ID].startswith("call_")
    assert only(spans_named(exporter, "invoke_agent Forecaster")).status.status_code.name == "OK"
    assert attributes(root)["agentops.session.end_state"] == "Success"
    assert attributes(root)["agentops.session.errors"] == 1


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_a_handoff_is_the_transfer_tool_call_and_the_next_agent_a_sibling(
    standin: StandInServer, exporter: InMemorySpanExporter, api: Api
) -> None:
    content.set_capture_content(True)

    async def main() -> Any:
        model = stand_in_model(standin, api)
        billing = Agent(name="Billing", instructions="Handle billing.", model=model)
        triage = Agent(name="Triage", instructions="Route the customer.", handoffs=[billing], model=model)
        return await Runner.run(triage, "I want a refund")

    result = asyncio.run(main())

    assert result.last_agent.name == "Billing"
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [
            ("invoke_agent Triage", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
                ("execute_tool transfer_to_billing", "INTERNAL", []),
            ]),
            ("invoke_agent Billing", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    assert_one_session(exporter)
    handoff = only(spans_named(exporter, "execute_tool transfer_to_billing"))
    first_call = min(spans_named(exporter, "chat gpt-4o-mini"), key=lambda span: span.start_time or 0)
    assert [attributes(handoff)[CALL_ID]] == tool_call_ids_in_output(first_call)
    assert attributes(handoff)["gen_ai.tool.name"] == "transfer_to_billing"
    assert attributes(handoff)["openai_agents.span.type"] == "handoff"
    assert attributes(handoff)["openai_agents.handoff.from_agent"] == "Triage"
    assert attributes(handoff)["openai_agents.handoff.to_agent"] == "Billing"


@input_guardrail
def no_secrets(context: RunContextWrapper[None], agent: Agent[Any],
               user_input: str | list[TResponseInputItem]) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="password" in str(user_input))


def test_a_guardrail_is_a_span_of_the_agent_that_records_whether_it_tripped(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> Any:
        agent = Agent(name="Guarded", input_guardrails=[no_secrets], model=stand_in_model(standin))
        await Runner.run(agent, "Hello there")
        return await Runner.run(agent, "My password is hunter2")

    with pytest.raises(InputGuardrailTripwireTriggered):
        asyncio.run(main())

    roots = sorted(spans_named(exporter, "session"), key=lambda span: span.start_time or 0)
    passed, tripped = (
        [span for span in exporter.get_finished_spans() if span.context and root.context
         and span.context.trace_id == root.context.trace_id] for root in roots)
    assert span_tree(passed) == [
        ("session", "INTERNAL", [
            ("invoke_agent Guarded", "INTERNAL", [
                ("execute_tool no_secrets", "INTERNAL", []),
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    guardrails = {attributes(span)["openai_agents.guardrail.triggered"]: span
                  for span in spans_named(exporter, "execute_tool no_secrets")}
    assert set(guardrails) == {False, True}
    assert all(attributes(span)["openai_agents.span.type"] == "guardrail" for span in guardrails.values())
    assert attributes(roots[0])["agentops.session.end_state"] == "Success"
    # The tripped run raised to its caller: its session failed, with the exception's type.
    assert attributes(roots[1])["agentops.session.end_state"] == "Fail"
    assert roots[1].status.description is not None
    assert roots[1].status.description.startswith("InputGuardrailTripwireTriggered")
    assert [span.name for span in tripped if span.name.startswith("execute_tool")] == ["execute_tool no_secrets"]


def test_a_streamed_run_is_traced_as_a_run_and_its_session_ends_with_the_stream(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> list[str]:
        agent = Agent(name="Streamer", tools=[get_weather], model=stand_in_model(standin))
        result = Runner.run_streamed(agent, "Weather in Rome?")
        return [event.type async for event in result.stream_events()]

    events = asyncio.run(main())

    assert "raw_response_event" in events
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [
            ("invoke_agent Streamer", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
                ("execute_tool get_weather", "INTERNAL", []),
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    root = assert_one_session(exporter)
    assert attributes(root)["agentops.session.end_state"] == "Success"
    assert attributes(only(spans_named(exporter, "execute_tool get_weather")))[CALL_ID].startswith("call_")


def test_run_sync_is_traced_as_a_run(standin: StandInServer, exporter: InMemorySpanExporter) -> None:
    agent = Agent(name="Syncer", model=stand_in_model(standin, "chat"))

    result = Runner.run_sync(agent, "Hi")

    assert "stand-in model" in result.final_output
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [("invoke_agent Syncer", "INTERNAL", [("chat gpt-4o-mini", "CLIENT", [])])]),
    ]
    assert attributes(assert_one_session(exporter))["agentops.session.end_state"] == "Success"


def test_an_agent_used_as_a_tool_runs_under_the_tool_span(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    async def main() -> None:
        model = stand_in_model(standin)
        translator = Agent(name="Translator", instructions="Translate to French.", model=model)
        orchestrator = Agent(name="Orchestrator", model=model, tools=[
            translator.as_tool(tool_name="translate", tool_description="Translate a text to French.")])
        await Runner.run(orchestrator, "Say hello in French")

    asyncio.run(main())

    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [
            ("invoke_agent Orchestrator", "INTERNAL", [
                ("chat gpt-4o-mini", "CLIENT", []),
                ("execute_tool translate", "INTERNAL", [
                    ("invoke_agent Translator", "INTERNAL", [("chat gpt-4o-mini", "CLIENT", [])]),
                ]),
                ("chat gpt-4o-mini", "CLIENT", []),
            ]),
        ]),
    ]
    assert_one_session(exporter)
