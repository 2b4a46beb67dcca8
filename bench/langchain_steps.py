"""µs the LangChain instrumentation adds per agent step: a LangGraph node, a tool, a chain step.

No model is called, so what is measured is LangChain's / LangGraph's own machinery with and
without agentops-otel's callback handler, not HTTP. Each variant runs the same program in a
session, with the SDK TracerProvider ``init()`` sets up exporting to a discarding exporter through
the usual batch processor:

* ``graph``: a LangGraph graph of four nodes in a line, each a small function (5 spans with the
  handler: the ``invoke_agent`` span and one per node);
* ``tool``: a graph whose first node answers like a model asking for a tool call and whose
  ``ToolNode`` runs the tool (4 spans: agent, two nodes, ``execute_tool``);
* ``chain``: ``RunnableLambda | RunnableLambda | RunnableLambda`` invoked (1 span:
  ``invoke_workflow``; the three steps are plumbing, attributed to it);
* ``handler only``: the callbacks LangGraph makes for the ``graph`` program (a graph run, four
  node runs, the span of each node made current in a fresh context) replayed straight on the
  handler, without LangGraph: the handler's own cost, which the machine's load moves far less
  than a whole graph run;
* ``floor``: one bare ``tracer.start_as_current_span`` span.

Each program runs ``bare`` (``LangChainInstrumentor().uninstrument()``), with a ``no-op`` callback
handler passed in ``callbacks=`` (what LangChain spends dispatching callbacks to any handler:
OpenInference's, LangSmith's or ours), and ``instrumented``, the three interleaved round after
round, one program after the other, in one process; each figure is the median over the rounds of
the calling thread's CPU time per run
(``time.thread_time``: these programs run every step on the calling thread; the export thread and
other processes are left out, and each window's spans are flushed before the next starts). ``added/span`` is the
instrumented run's extra cost over the bare one divided by the spans the handler made, ``x floor``
that over one floor span, and ``handler/span`` the part left once LangChain's own dispatching
(the no-op run's extra cost) is taken off.

    .venv/bin/python bench/langchain_steps.py [--runs 300] [--rounds 9]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentops_otel as agentops


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def noop_handler() -> Any:
    """A callback handler that does nothing: what LangChain spends on calling any handler at all."""
    from langchain_core.callbacks import BaseCallbackHandler

    class Noop(BaseCallbackHandler):
        run_inline = True

    return Noop()


def programs() -> dict[str, tuple[Callable[[Any], Any], int]]:
    """Each program (given a run config) and the number of spans the handler makes per run of it."""
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_core.runnables import RunnableLambda
    from langchain_core.tools import tool
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode

    line = StateGraph(MessagesState)
    names = ["plan", "search", "read", "answer"]
    for name in names:
        line.add_node(name, lambda state: {"messages": []})
    line.add_edge(START, names[0])
    for first, second in itertools.pairwise(names):
        line.add_edge(first, second)
    graph: Any = line.compile(name="pipeline")

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    def ask(state: MessagesState) -> dict[str, Any]:
        call = {"id": "call_1", "name": "lookup", "args": {"city": "Lisbon"}}
        return {"messages": [AIMessage("", tool_calls=[call])]}

    with_tool = StateGraph(MessagesState)
    with_tool.add_node("ask", ask)
    with_tool.add_node("tools", ToolNode([lookup]))
    with_tool.add_edge(START, "ask")
    with_tool.add_edge("ask", "tools")
    tool_graph: Any = with_tool.compile(name="agent")

    chain = RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x)
    question = {"messages": [HumanMessage("Lisbon?")]}
    return {
        "graph": (lambda config: graph.invoke(question, config), 1 + len(names)),
        "tool": (lambda config: tool_graph.invoke(question, config), 4),
        "chain": (lambda config: chain.invoke(1, config), 1),
    }


def handler_only(nodes: int) -> Callable[[], None]:
    """The ``graph`` program's callbacks, replayed on a handler of its own."""
    import contextvars
    import uuid

    from agentops_otel_langchain.handler import AgentOpsCallbackHandler

    handler = AgentOpsCallbackHandler(trace.get_tracer("bench"))
    graph_metadata = {"ls_integration": "langgraph"}

    class ChildManager:
        parent_run_id: uuid.UUID | None = None

    child = ChildManager()
    config = {"callbacks": child}

    def run() -> None:
        graph = uuid.uuid4()
        handler.on_chain_start(None, {}, run_id=graph, tags=[], metadata=graph_metadata, name="pipeline")
        for step in range(1, nodes + 1):
            node = uuid.uuid4()
            metadata = {**graph_metadata, "langgraph_node": "plan", "langgraph_step": step}
            handler.on_chain_start(None, {}, run_id=node, parent_run_id=graph, tags=[f"graph:step:{step}"],
                                   metadata=metadata, name="plan")
            child.parent_run_id = node
            contextvars.copy_context().run(handler.make_current, config)
            handler.on_chain_end({}, run_id=node)
        handler.on_chain_end({}, run_id=graph)
    return run


def floor(spans: int) -> Callable[[], None]:
    tracer = trace.get_tracer("bench")

    def run(depth: int = spans) -> None:
        if depth:
            with tracer.start_as_current_span("step"):
                run(depth - 1)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    agentops.init(exporter=Discard(), auto_start_session=False)
    from agentops_otel_langchain import LangChainInstrumentor

    instrumentor = LangChainInstrumentor()
    runs = programs()
    one_span = floor(1)
    replay = handler_only(4)
    timings: dict[str, list[float]] = {}

    provider: Any = trace.get_tracer_provider()

    def measure(key: str, run: Callable[[], Any]) -> None:
        start = time.thread_time()
        for _ in range(args.runs):
            run()
        timings.setdefault(key, []).append((time.thread_time() - start) / args.runs * 1e6)
        provider.force_flush()  # this window's spans are exported now, not during the next one

    noop = {"callbacks": [noop_handler()]}
    with agentops.start_session(tags=["bench"]):
        for run, _spans in runs.values():
            run(None)  # warm-up: imports, compiled graphs' caches
        # Program after program (the variants of one interleaved round after round): a program
        # measured right after another paid for the other's garbage and cold caches, which
        # moved a chain's bare run by 4x.
        for name, (run, _spans) in runs.items():
            for _ in range(args.rounds):
                instrumentor.uninstrument()
                measure(f"{name} bare", lambda run=run: run(None))  # type: ignore[misc]
                measure(f"{name} no-op", lambda run=run: run(noop))  # type: ignore[misc]
                instrumentor.instrument()
                measure(f"{name} instrumented", lambda run=run: run(None))  # type: ignore[misc]
        for _ in range(args.rounds):
            measure("floor", one_span)
            measure("handler only", replay)

    median = {key: statistics.median(values) for key, values in timings.items()}
    span_floor = median["floor"]
    print(f"{'program':<8} {'spans':>5} {'bare':>8} {'no-op':>8} {'with':>8} {'added/span':>11} {'x floor':>8} "
          f"{'handler/span':>13}   (µs per run)")
    for name, (_run, spans) in runs.items():
        bare, noop_run, traced = (median[f"{name} {v}"] for v in ("bare", "no-op", "instrumented"))
        added = (traced - bare) / spans
        own = (traced - noop_run) / spans
        print(f"{name:<8} {spans:>5} {bare:>8.1f} {noop_run:>8.1f} {traced:>8.1f} {added:>11.1f} "
              f"{added / span_floor:>8.2f} {own:>13.1f}")
    replayed = median["handler only"] / 5
    print(f"handler only: {median['handler only']:.1f} µs per replayed graph run, {replayed:.1f} µs per span "
          f"({replayed / span_floor:.2f} x floor)")
    print(f"floor: one start_as_current_span {span_floor:.1f} µs")


if __name__ == "__main__":
    main()
