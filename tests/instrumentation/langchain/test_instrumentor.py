"""The LangChain instrumentor as a user installs it: found by ``init()``, removable, and what it
leaves behind when a stream is dropped, a graph nests another, or it is switched off."""

from __future__ import annotations

import asyncio
import gc
import operator
from importlib.metadata import entry_points
from typing import Annotated, Any, TypedDict

import openai
from agentops_otel_langchain import LangChainInstrumentor
from agentops_otel_standin import StandInServer
from langchain_core.callbacks.manager import AsyncCallbackManager, CallbackManager
from langchain_core.runnables import config as runnable_config
from langgraph.graph import START, StateGraph
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import agentops_otel
from agentops_otel._internal.activation import instrument_installed_clients
from tests.support.langchain_apps import QUESTION, chat_model, weather_graph
from tests.support.span_trees import SpanTree, span_forest

CHAT: SpanTree = ("chat gpt-4o-mini", [])


def test_registered_under_the_opentelemetry_instrumentor_entry_point() -> None:
    (entry_point,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "agentops_langchain"]
    assert entry_point.load() is LangChainInstrumentor
    assert "agentops_langchain" in instrument_installed_clients()
    assert LangChainInstrumentor().instrumentation_dependencies() == ("langchain-core >= 1.0, < 2",)


def test_uninstrument_leaves_only_the_llm_spans_and_instrument_brings_the_rest_back(
        exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    instrumentor = LangChainInstrumentor()
    graph = weather_graph(chat_model(standin))
    instrumentor.uninstrument()
    try:
        # The originals are back, not wrapped once more per instrument() / uninstrument() cycle.
        for cls in (CallbackManager, AsyncCallbackManager):
            assert type(vars(cls)["configure"]) is classmethod  # a wrapper passes isinstance
        assert not hasattr(runnable_config._set_config_context, "__wrapped__")
        with agentops_otel.start_session():
            graph.invoke(QUESTION)
        assert span_forest(exporter.get_finished_spans()) == [("session", [CHAT, CHAT])]
    finally:
        instrumentor.instrument()
    exporter.clear()
    with agentops_otel.start_session():
        graph.invoke(QUESTION)
    assert [name for name, _ in span_forest(exporter.get_finished_spans())[0][1]] == ["invoke_agent weather"]


def test_a_stream_dropped_early_ends_its_spans_and_leaves_no_span_current(
        exporter: InMemorySpanExporter, standin: StandInServer, client: openai.OpenAI) -> None:
    graph = weather_graph(chat_model(standin))
    with agentops_otel.start_session():
        for _ in graph.stream(QUESTION):
            break
        gc.collect()
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "After."}])

        async def dropped() -> None:
            async for _ in weather_graph(chat_model(standin)).astream(QUESTION):
                break
            await client_after()

        async def client_after() -> None:
            await asyncio.sleep(0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "After."}])

        asyncio.run(dropped())
    dropped_run = ("invoke_agent weather", [("agent", [CHAT])])
    assert span_forest(exporter.get_finished_spans()) == [("session", [dropped_run, CHAT, dropped_run, CHAT])]
    for span in exporter.get_finished_spans():
        assert span.status.status_code != StatusCode.ERROR, (span.name, span.status.description)  # no error


def _by_name(trees: list[SpanTree]) -> list[SpanTree]:
    """The trees with siblings in name order (nodes that run at once start in any order)."""
    return sorted((name, _by_name(children)) for name, children in trees)


class _Items(TypedDict):
    items: Annotated[list[str], operator.add]


def test_a_subgraph_is_an_agent_span_under_the_node_that_runs_it(exporter: InMemorySpanExporter) -> None:
    inner = StateGraph(_Items)
    inner.add_node("lookup", lambda state: {"items": ["found"]})
    inner.add_node("check", lambda state: {"items": ["checked"]})
    inner.add_edge(START, "lookup")
    inner.add_edge(START, "check")  # the two first nodes run at once, on LangGraph's executor threads
    researcher = inner.compile(name="researcher")

    def delegate(state: _Items) -> dict[str, Any]:
        return {"items": researcher.invoke({"items": []})["items"]}

    outer = StateGraph(_Items)
    outer.add_node("research", researcher)  # a compiled graph as a node
    outer.add_node("delegate", delegate)  # a node that runs a graph
    outer.add_edge(START, "research")
    outer.add_edge("research", "delegate")
    with agentops_otel.start_session() as session:
        outer.compile(name="supervisor").invoke({"items": []})
    inner_run: SpanTree = ("invoke_agent researcher", [("check", []), ("lookup", [])])
    assert _by_name(span_forest(exporter.get_finished_spans())) == [("session", [("invoke_agent supervisor", [
        ("delegate", [inner_run]), ("research", [inner_run])])])]
    assert session.get_analytics().agent_invocations == 3
