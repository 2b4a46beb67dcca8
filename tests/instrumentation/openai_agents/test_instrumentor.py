"""The instrumentor as a user meets it: beside the SDK's own processors, switched off and on, and
activated by ``opentelemetry-instrument`` only when the app imports ``agents``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import agents
import pytest
from agentops_otel_openai_agents import OpenAIAgentsInstrumentor
from agentops_otel_standin import StandInServer
from agents import Agent, Runner
from agents.tracing import Span, Trace, TracingProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.instrumentation.openai_agents.conftest import get_weather, stand_in_model
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.paths import ROOT
from tests.support.session_trees import session_trees
from tests.support.spans import span_tree

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"


class Recorder(TracingProcessor):
    """A processor of the user's own, as the SDK's dashboard export is."""

    def __init__(self) -> None:
        self.span_types: list[str] = []

    def on_trace_start(self, trace: Trace) -> None: ...

    def on_trace_end(self, trace: Trace) -> None: ...

    def on_span_start(self, span: Span[Any]) -> None: ...

    def on_span_end(self, span: Span[Any]) -> None:
        self.span_types.append(span.span_data.type)

    def shutdown(self) -> None: ...

    def force_flush(self) -> None: ...


def test_the_sdks_own_processors_keep_receiving_the_run(standin: StandInServer,
                                                           exporter: InMemorySpanExporter) -> None:
    recorder = Recorder()
    agents.add_trace_processor(recorder)

    Runner.run_sync(Agent(name="Assistant", tools=[get_weather], model=stand_in_model(standin)), "Paris weather?")

    assert recorder.span_types.count("response") == 2  # the SDK's model-call spans, which we do not bridge
    assert {"agent", "function", "task", "turn"} <= set(recorder.span_types)
    assert len([span for span in exporter.get_finished_spans() if span.name.startswith("invoke_agent")]) == 1


@pytest.fixture
def uninstrumented() -> Iterator[None]:
    OpenAIAgentsInstrumentor().uninstrument()
    yield
    OpenAIAgentsInstrumentor().instrument()


@pytest.mark.usefixtures("uninstrumented")
def test_uninstrument_leaves_only_the_model_calls_and_instrument_brings_the_spans_back(
    standin: StandInServer, exporter: InMemorySpanExporter
) -> None:
    Runner.run_sync(Agent(name="Assistant", model=stand_in_model(standin)), "Hi")
    assert span_tree(exporter.get_finished_spans()) == [("chat gpt-4o-mini", "CLIENT", [])]

    exporter.clear()
    OpenAIAgentsInstrumentor().instrument()
    Runner.run_sync(Agent(name="Assistant", model=stand_in_model(standin)), "Hi")
    assert span_tree(exporter.get_finished_spans()) == [
        ("session", "INTERNAL", [("invoke_agent Assistant", "INTERNAL", [("chat gpt-4o-mini", "CLIENT", [])])]),
    ]
    OpenAIAgentsInstrumentor().uninstrument()


AGENT_APP = """
import sys
print("agents imported at start:", "agents" in sys.modules)
from agents import Agent, OpenAIResponsesModel, Runner, function_tool
import openai

@function_tool
def get_weather(city: str) -> str:
    \"\"\"The weather in a city.\"\"\"
    return "Sunny in " + city

client = openai.AsyncOpenAI(base_url=sys.argv[1], api_key="sk-not-a-real-key", max_retries=0)
agent = Agent(name="Assistant", tools=[get_weather], model=OpenAIResponsesModel("gpt-4o-mini", client))
print(Runner.run_sync(agent, "Weather in Paris?").final_output)
"""


@pytest.fixture
def http_receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as receiver:
        yield receiver


@pytest.mark.slow
def test_opentelemetry_instrument_traces_a_run_when_the_app_imports_agents(
    standin: StandInServer, http_receiver: OTLPReceiver, tmp_path: Path
) -> None:
    app = tmp_path / "agent_app.py"
    app.write_text(textwrap.dedent(AGENT_APP))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_", "OPENAI_"))}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=http_receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")

    result = subprocess.run([str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(app), standin.openai_base_url],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert "agents imported at start: False" in result.stdout
    assert "stand-in model" in result.stdout
    (tree,) = session_trees(http_receiver.wait_for_spans(5)).values()
    tree.assert_whole()
    assert tree.root.attributes["agentops.session.end_state"] == "Success"
    assert [span.name for span in tree.spans] == [
        "invoke_agent Assistant", "chat gpt-4o-mini", "execute_tool get_weather", "chat gpt-4o-mini"]
