"""``agentops-otel demo`` as a user runs it: offline, no key, trees in the terminal or spans over OTLP."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from backends.phoenix_check import SESSION_LINE
from tests.support.otlp_receiver import OTLPReceiver, Protocol
from tests.support.session_trees import session_trees, wait_for_sessions
from tests.support.subprocesses import clean_env

AGENTOPS_OTEL = Path(sys.executable).with_name("agentops-otel")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
SUMMARY_LINE = re.compile(rf"^  ({UUID})  (Success|Fail)\s+(\w+)\s+(\d+) LLM calls?", re.MULTILINE)


def run_demo(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # No OPENAI_API_KEY and no network are needed: strip the key to prove it.
    environment = clean_env({"PYTHONIOENCODING": "utf-8", **(env or {})})
    environment.pop("OPENAI_API_KEY", None)
    environment.pop("OPENAI_BASE_URL", None)
    result = subprocess.run([str(AGENTOPS_OTEL), "demo"], env=environment, capture_output=True, text=True,
                            encoding="utf-8", timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def summary(stdout: str) -> dict[str, tuple[str, str, int]]:
    """The demo's closing table: session id -> (end state, city, LLM calls)."""
    return {m.group(1): (m.group(2), m.group(3), int(m.group(4))) for m in SUMMARY_LINE.finditer(stdout)}


def tree_block(stdout: str, session_id: str) -> list[str]:
    """The lines the tree exporter drew for one session: its header down to the blank line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"session {session_id}"))
    end = lines.index("", start)
    return lines[start:end]


def test_demo_draws_one_tree_per_session_offline() -> None:
    out = run_demo().stdout
    assert re.search(r"OpenAI API: a local STAND-IN at http://127\.0\.0\.1:\d+/v1, not a real model", out)
    sessions = summary(out)
    assert sorted(state for state, _city, _calls in sessions.values()) == ["Fail"] + ["Success"] * 4
    assert "5 sessions: 4 Success, 1 Fail" in out
    assert "agentops.record() raises MultiSessionException" in out
    assert out.rstrip().endswith("Traces: the trees above (the agentops_console exporter). Set "
                                 "OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector or a backend instead "
                                 "(see the README's \"Backends\").")
    # `make backends` reads the same table (with the tokens) to know what Phoenix must show.
    assert [m["id"] for m in SESSION_LINE.finditer(out)] == list(sessions)

    for session_id, (state, city, calls) in sessions.items():
        header, counts, *children = tree_block(out, session_id)
        tags = "tags: demo, single-session" if city == "Paris" else f"tags: demo, multi-session, {city.lower()}"
        assert header.endswith(tags)
        assert f"{calls} LLM call" in counts
        if state == "Success":
            # The duration as the tree draws it: in ms, or in s when a loaded machine took a second or more.
            assert re.search(r"✔ Success  (\d+(\.\d)? ms|\d+\.\d\d s)  ", header)
            assert [re.split(r"\s{2,}", child)[0] for child in children] == [
                "├─ action plan", "├─ chat gpt-4o-mini", "├─ execute_tool get_weather", "└─ chat gpt-4o-mini"]
            # LLM calls show the answering model and the tokens the stand-in counted.
            llm_tokens = [re.search(r"gpt-4o-mini-2024-07-18  (\d+) in / (\d+) out", line) for line in children[1::2]]
            total_in = sum(int(m.group(1)) for m in llm_tokens if m)
            total_out = sum(int(m.group(2)) for m in llm_tokens if m)
            assert f"tokens {total_in} in / {total_out} out" in counts and total_in > 0 and total_out > 0
        else:
            assert city == "Kyoto"
            assert "✘ Fail (RateLimitError: HTTP 429 from the model API)" in header
            assert children[0].startswith("├─ action plan")
            assert re.match(r"└─ chat error-429\s+✘ RateLimitError: Error code: 429", children[1])
            assert "1 error" in counts


def test_demo_exports_to_the_configured_otlp_endpoint() -> None:
    # OTLP/HTTP here; e2e/test_collector.py sends the demo over gRPC through a collector.
    protocol: Protocol = "http/protobuf"
    with OTLPReceiver(protocol) as receiver:
        out = run_demo({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}).stdout
        trees = wait_for_sessions(receiver, 5)
    assert f"Traces: exported over OTLP ({protocol}) to {receiver.endpoint}" in out
    assert "├─" not in out  # nothing drawn in the terminal: the spans went to the collector
    # The closing lines say where the traces went and how to find a session in any backend.
    assert out.rstrip().endswith(
        f"  Traces: sent over OTLP ({protocol}) to {receiver.endpoint}, service agentops-otel-demo. One trace per "
        "session, its root span named session.\n"
        "  Find a session by an id above: every span of it carries session.id=<id> and gen_ai.conversation.id "
        "(a tag search in Jaeger; the Sessions page of Phoenix or Langfuse).")
    printed = summary(out)
    assert set(trees) == set(printed)
    for session_id, tree in trees.items():
        state, _city, calls = printed[session_id]
        tree.assert_whole()
        assert tree.root.resource_attributes["service.name"] == "agentops-otel-demo"
        assert tree.root.attributes["agentops.session.end_state"] == state
        assert tree.root.attributes["agentops.session.llm_calls"] == calls
        assert tree.root.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert tree.root.attributes["gen_ai.agent.name"] == "agentops-otel-demo"  # the service's name
        if state == "Success":
            assert tree.root.status_code == "OK"
            assert tree.names == ["action plan", "chat gpt-4o-mini", "execute_tool get_weather", "chat gpt-4o-mini"]
            assert tree.children[2].attributes["gen_ai.tool.call.id"].startswith("call_")  # the model's call id
        else:
            assert tree.root.status_code == "ERROR"
            assert tree.root.status_message == "RateLimitError: HTTP 429 from the model API"
            assert tree.names == ["action plan", "chat error-429"]
            assert tree.children[1].status_code == "ERROR"
    assert len(session_trees(receiver.spans())) == 5  # and no session twice


def test_demo_honours_otel_traces_exporter() -> None:
    out = run_demo({"OTEL_TRACES_EXPORTER": "none"}).stdout
    assert "Traces: OTEL_TRACES_EXPORTER=none" in out
    assert "├─" not in out and len(summary(out)) == 5
    assert out.rstrip().endswith("  Traces: not exported (OTEL_TRACES_EXPORTER=none).")


def test_demo_without_the_demo_extra_says_what_to_install() -> None:
    # As if agentops-otel-standin were not installed: a None entry in sys.modules makes a module unimportable.
    code = ("import sys; sys.modules['agentops_otel_standin'] = None; "
            "from agentops_otel._internal.cli import main; sys.exit(main(['demo']))")
    result = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("agentops-otel demo needs agentops-otel-standin, not installed here: "
                                     "pip install 'agentops-otel[demo]'")
    assert result.stdout == ""


def test_the_runtime_does_not_load_the_stand_in() -> None:
    # The stand-in is a separate distribution for the demo, tests and benchmarks, never a runtime import.
    code = ("import sys, agentops_otel, agentops_otel_openai, agentops_otel_anthropic; "
            "agentops_otel.init(); "
            "print(sorted(m for m in sys.modules if m.startswith('agentops_otel_standin')))")
    result = subprocess.run([sys.executable, "-c", code], env=clean_env({"OTEL_TRACES_EXPORTER": "none"}),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
