"""µs the OpenAI Agents SDK bridge adds to an agent run, per run and per agent step.

One run of a real ``openai-agents`` agent with one function tool: the model (an in-process
``Model`` answering at once, so that no HTTP client and no LLM instrumentation is measured) asks
for the tool, the tool runs, the model answers. The SDK makes its own trace (task, agent, turn,
function spans) in every variant, with its default processor registered, as in an application:

* ``sdk``: the SDK alone (the bridge uninstrumented);
* ``sdk + bridge``: the bridge on: ``Runner.run`` starts and ends the run's session, and the agent
  and the tool each become a span (``invoke_agent``, ``execute_tool``) current while they run;
* ``same spans by hand``: what the bridge makes, made with agentops-otel's own API and no SDK: a
  session, and in it ``start_agent`` / ``start_tool`` steps, current while they "run";
* ``floor``: for scale, three bare ``start_as_current_span`` spans (as many as the bridge adds).

An *agent step* is one bridged span (an agent invocation or a tool execution); a run has two, and
one session. ``added`` is µs of ``sdk + bridge`` over ``sdk``; ``per step`` divides it among the
three spans it adds (the session root included); what it adds beyond ``same spans by hand`` is
the cost of running the bridge's code between the SDK's (colder caches than in a loop of its own)
and its callbacks, call-id correlation and run wrapper. The OpenTelemetry SDK ``init()`` sets up exports
to a discarding exporter through the usual batch processor. Variants run interleaved, round after
round, in one process; each figure is the median over rounds of the calling thread's CPU time
(``time.thread_time``: export threads and other processes left out).

    .venv/bin/python bench/openai_agents.py [--runs 300] [--rounds 11]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

os.environ.pop("OPENAI_API_KEY", None)  # the SDK's own exporter skips its export without one

from agentops_otel_openai_agents import OpenAIAgentsInstrumentor
from agents import Agent, Model, ModelResponse, Runner, Usage, function_tool
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import TResponseInputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import ModelTracing
from agents.tool import Tool
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentops_otel as agentops
from agentops_otel.instrumentation import start_agent, start_tool


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class InstantModel(Model):
    """Asks for the first tool, then answers once it has the tool's result."""

    async def get_response(self, system_instructions: str | None, input: str | list[TResponseInputItem],
                           model_settings: ModelSettings, tools: list[Tool],
                           output_schema: AgentOutputSchemaBase | None, handoffs: list[Handoff],
                           tracing: ModelTracing, **kwargs: Any) -> ModelResponse:
        answered = isinstance(input, list) and any(
            isinstance(item, dict) and item.get("type") == "function_call_output" for item in input)
        output: Any
        if answered:
            output = ResponseOutputMessage(id="msg_1", type="message", role="assistant", status="completed", content=[
                ResponseOutputText(type="output_text", text="Sunny.", annotations=[])])
        else:
            output = ResponseFunctionToolCall(id="fc_1", type="function_call", call_id="call_1", name="get_weather",
                                              arguments='{"city": "Lisbon"}', status="completed")
        return ModelResponse(output=[output], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


AGENT = Agent(name="Assistant", tools=[get_weather], model=InstantModel())


def variants(loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[int], None]]:
    tracer = trace.get_tracer("bench")
    instrumentor = OpenAIAgentsInstrumentor()

    async def runs(n: int) -> None:
        for _ in range(n):
            await Runner.run(AGENT, "Weather in Lisbon?")

    def sdk(n: int) -> None:
        loop.run_until_complete(runs(n))

    def bridged(n: int) -> None:
        instrumentor.instrument()
        loop.run_until_complete(runs(n))
        instrumentor.uninstrument()

    def by_hand(n: int) -> None:
        for _ in range(n):
            with agentops.start_session(), start_agent("Assistant") as agent:
                with start_tool("get_weather", call_id="call_1") as tool:
                    tool.succeed("Sunny in Lisbon")
                agent.succeed()

    def floor(n: int) -> None:
        for _ in range(n):
            with tracer.start_as_current_span("session"), tracer.start_as_current_span("agent"), \
                    tracer.start_as_current_span("tool"):
                pass

    return {"sdk": sdk, "sdk + bridge": bridged, "same spans by hand": by_hand, "floor (3 spans)": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()

    agentops.init(auto_start_session=False, exporter=Discard())
    OpenAIAgentsInstrumentor().uninstrument()  # init() instrumented it; ``sdk + bridge`` switches it on
    loop = asyncio.new_event_loop()
    timed = variants(loop)
    for run in timed.values():  # warm up: imports, caches, the first session
        run(20)
    samples: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.rounds):
        for name, run in timed.items():
            start = time.thread_time()
            run(args.runs)
            samples[name].append((time.thread_time() - start) / args.runs * 1e6)
    median = {name: statistics.median(values) for name, values in samples.items()}
    added = median["sdk + bridge"] - median["sdk"]
    print(f"{'variant':<18} {'µs per run':>11}")
    for name, value in median.items():
        print(f"{name:<18} {value:>11.1f}")
    own = added - median["same spans by hand"]
    print(f"added by the bridge: {added:.1f} µs per run ({added / median['sdk']:.1%} of the SDK's own), "
          f"{added / 3:.1f} µs per span it adds (floor: {median['floor (3 spans)'] / 3:.1f} µs per span); "
          f"{own:.1f} µs per run more than the same spans made by hand")


if __name__ == "__main__":
    main()
