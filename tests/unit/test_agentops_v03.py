"""Code written for AgentOps v0.3 runs with ``import agentops_otel as agentops``: the decorators,
``create_agent``, ``init(api_key=..., default_tags=...)``, ``end_all_sessions``, in a fresh process
(``init`` configures the process once) against the stand-in API, checked on the exported spans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agentops_otel_standin import StandInServer

from tests.support.subprocesses import json_documents, run_python

V03_APP = """
import openai
import agentops_otel as agentops
from agentops_otel import record_action, record_tool, track_agent

agentops.init(api_key="{key}", default_tags=["v03"])   # starts a session, as v0.3's init did
client = openai.OpenAI(base_url="{base_url}", api_key="not-a-real-key")


@track_agent(name="researcher")
class Researcher:
    @record_action("research")
    def research(self, topic):
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{{"role": "user", "content": topic}}])
        return self.lookup(topic), reply.choices[0].finish_reason

    @record_tool("lookup")
    def lookup(self, topic):
        return {{"topic": topic, "pages": 3}}


researcher = Researcher()
print("RESULT", json.dumps(researcher.research("tides")))
print("AGENT", researcher.agent_ops_agent_id)
agentops.create_agent("reviewer", agent_id="reviewer-1")
agentops.end_session("Success")

second = agentops.start_session(tags=["batch"])
third = agentops.start_session()
try:
    researcher.lookup("winds")
except agentops.MultiSessionException:
    print("MULTI raised")
researcher.lookup("waves", session=third)
agentops.end_all_sessions()
"""


def exported_spans(stdout: str) -> list[dict[str, Any]]:
    return [doc for doc in json_documents(stdout) if isinstance(doc, dict) and "context" in doc]


@pytest.mark.slow
def test_v03_code_runs_unchanged(standin: StandInServer) -> None:
    key = "agentops-v03-key-1234"
    code = "import json\n" + V03_APP.format(key=key, base_url=standin.openai_base_url)
    # Content capture on: arguments and return values are recorded (v0.3 recorded them always).
    result = run_python(code, {"OTEL_TRACES_EXPORTER": "console",
                               "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
                        timeout=120)  # ~10 s alone; a loaded machine has been seen to take over 30
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr  # the ignored API key is never printed
    assert "init(api_key) ignored" in result.stderr
    assert "MULTI raised" in result.stdout
    assert json.loads(result.stdout.split("RESULT ")[1].splitlines()[0]) == [
        {"topic": "tides", "pages": 3}, "stop"]
    agent_id = result.stdout.split("AGENT ")[1].split()[0]

    spans = exported_spans(result.stdout)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_name.setdefault(span["name"], []).append(span)
    first_root, second_root, third_root = by_name["session"]
    first_id = first_root["attributes"]["session.id"]
    assert first_root["attributes"]["agentops.session.tags"] == ["v03"]
    assert second_root["attributes"]["agentops.session.tags"] == ["v03", "batch"]  # default tags first
    assert first_root["attributes"]["agentops.session.end_state"] == "Success"
    assert [root["attributes"]["agentops.session.end_state"] for root in (second_root, third_root)] == [
        "Indeterminate", "Indeterminate"]  # end_all_sessions() with v0.3's default

    (created,) = by_name["create_agent researcher"]
    assert created["attributes"]["gen_ai.agent.id"] == agent_id
    (reviewer,) = by_name["create_agent reviewer"]
    assert reviewer["attributes"]["gen_ai.agent.id"] == "reviewer-1"
    (action,) = by_name["action research"]
    (chat,) = by_name["chat gpt-4o-mini"]
    tides, waves = by_name["execute_tool lookup"]  # "winds" raised before a span started
    assert chat["parent_id"] == action["context"]["span_id"]
    assert tides["parent_id"] == action["context"]["span_id"]
    assert action["parent_id"] == first_root["context"]["span_id"]
    assert action["attributes"]["gen_ai.agent.id"] == agent_id
    assert json.loads(action["attributes"]["agentops.event.params"]) == {"topic": "tides"}
    assert json.loads(tides["attributes"]["gen_ai.tool.call.result"]) == {"topic": "tides", "pages": 3}
    assert {span["attributes"]["session.id"] for span in (created, action, chat, tides)} == {first_id}
    assert waves["attributes"]["session.id"] == third_root["attributes"]["session.id"]
    assert first_root["attributes"]["agentops.session.llm_calls"] == 1
    assert first_root["attributes"]["agentops.session.tool_calls"] == 1
    assert first_root["attributes"]["agentops.session.actions"] == 1
