"""A LangGraph agent under ``opentelemetry-instrument`` with no set-up code: its graph, nodes and
tool arrive at an OTLP receiver as one session's tree, the model calls nested in the nodes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentops_otel_standin import StandInServer

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.paths import ROOT
from tests.support.span_trees import SpanTree

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"

APP = '''
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


model = ChatOpenAI(model="gpt-4o-mini", max_retries=0).bind_tools([get_weather])
graph = StateGraph(MessagesState)
graph.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
graph.add_node("tools", ToolNode([get_weather]))
graph.add_edge(START, "agent")
graph.add_conditional_edges("agent", tools_condition)
graph.add_edge("tools", "agent")
result = graph.compile(name="weather").invoke({"messages": [("user", "What is the weather in Paris?")]})
print(result["messages"][-1].content)
'''


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("grpc") as r:
        yield r


def _tree(spans: list[ReceivedSpan], parent: ReceivedSpan | None = None) -> list[SpanTree]:
    parent_id = None if parent is None else parent.span_id
    children = sorted((s for s in spans if s.parent_span_id == parent_id), key=lambda s: s.start_time_unix_nano)
    return [(s.name, _tree(spans, s)) for s in children]


def test_a_langgraph_agent_traced_with_no_code(standin: StandInServer, receiver: OTLPReceiver, tmp_path: Path) -> None:
    app = tmp_path / "weather_app.py"
    app.write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_", "LANGSMITH_", "LANGCHAIN_"))}
    env.update(OPENAI_BASE_URL=standin.openai_base_url, OPENAI_API_KEY="sk-not-a-real-key",
               OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, AGENTOPS_AUTO_START_SESSION="true")
    result = subprocess.run([str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(app)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "stand-in model" in result.stdout

    spans = receiver.wait_for_spans(8)
    chat: SpanTree = ("chat gpt-4o-mini", [])
    assert _tree(spans) == [("session", [("invoke_agent weather", [
        ("agent", [chat]), ("tools", [("execute_tool get_weather", [])]), ("agent", [chat])])])]
    (root,) = [s for s in spans if s.name == "session"]
    assert {s.attributes["session.id"] for s in spans} == {root.attributes["session.id"]}
    assert root.attributes["agentops.session.agent_invocations"] == 1
    assert root.attributes["agentops.session.tool_calls"] == 1
