"""Every program in ``examples/`` runs as a user runs it and sends the session trees it promises.

Each example runs in a subprocess against the stand-in API (``OPENAI_BASE_URL`` /
``ANTHROPIC_BASE_URL``) and exports OTLP to a receiver on 127.0.0.1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from agentops_otel_standin import StandInServer

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.paths import ROOT
from tests.support.session_trees import SessionTree, session_trees
from tests.support.subprocesses import clean_env

EXAMPLES = ROOT / "examples"
API_KEY = "sk-example-secret-0123456789"
NOT_HERE = {"no_code_app.py", "queue_worker.py"}
"""Examples run under opentelemetry-instrument or across processes, tested with those features."""


@dataclass
class ExampleRun:
    receiver: OTLPReceiver
    process: subprocess.Popen[str]
    first_request: int
    """Index in ``standin.requests`` from which the examples' requests are (earlier tests of the
    session share the stand-in, some with the same messages)."""


@pytest.fixture(scope="module")
def runs(standin: StandInServer) -> Iterator[dict[str, ExampleRun]]:
    """Every example started at once (each exporting to its own receiver), to keep the suite fast."""
    started: dict[str, ExampleRun] = {}
    first_request = len(standin.requests)
    try:
        for path in sorted(EXAMPLES.glob("*.py")):
            if path.name in NOT_HERE:
                continue
            receiver = OTLPReceiver("http/protobuf").start()
            env = clean_env({
                **receiver.env(),
                "OPENAI_BASE_URL": standin.openai_base_url,
                "ANTHROPIC_BASE_URL": standin.anthropic_base_url,
                "OPENAI_API_KEY": API_KEY,
                "ANTHROPIC_API_KEY": API_KEY,
                "PYTHONIOENCODING": "utf-8",
            })
            process = subprocess.Popen([sys.executable, str(path)], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, encoding="utf-8")
            started[path.name] = ExampleRun(receiver, process, first_request)
        yield started
    finally:
        for run in started.values():
            if run.process.poll() is None:
                run.process.kill()
                run.process.communicate()
            run.receiver.stop()


def run_example(name: str, runs: dict[str, ExampleRun]) -> tuple[str, dict[str, SessionTree]]:
    run = runs[name]
    stdout, stderr = run.process.communicate(timeout=90)
    assert run.process.returncode == 0, stdout + stderr
    # The exporter sent everything before the process exited (the provider flushes at exit).
    spans = run.receiver.spans()
    assert all(API_KEY not in repr(span.attributes) + repr(span.events) for span in spans)
    trees = session_trees(spans)
    for tree in trees.values():
        tree.assert_whole()
    assert len({span.trace_id for span in spans}) == len(trees), "a span outside every session"
    return stdout, trees


def test_every_example_is_tested(runs: dict[str, ExampleRun]) -> None:
    tested = {name.removeprefix("test_") + ".py" for name in globals() if name.startswith("test_")}
    assert set(runs) <= tested, f"examples without a test: {sorted(set(runs) - tested)}"


def ended(stdout: str) -> dict[str, str]:
    """What the example printed: session id -> end state."""
    return dict(re.findall(r"^session (\S+) ended (\w+)", stdout, re.MULTILINE))


def is_llm(span: ReceivedSpan) -> bool:
    return span.kind == "CLIENT" and span.attributes.get("gen_ai.operation.name") == "chat"


def test_single_session(runs: dict[str, ExampleRun]) -> None:
    stdout, trees = run_example("single_session.py", runs)
    assert ended(stdout) == {session_id: "Success" for session_id in trees}
    (tree,) = trees.values()
    assert tree.root.status_code == "OK" and tree.tags == ["example", "single-session"]
    assert tree.names == ["chat gpt-4o-mini", "action review", "chat gpt-4o-mini"]
    calls = [span for span in tree.children if is_llm(span)]
    assert all(span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18" for span in calls)
    assert calls[1].attributes["gen_ai.request.max_tokens"] == 40
    assert tree.root.attributes["agentops.session.output_tokens"] == sum(
        span.attributes["gen_ai.usage.output_tokens"] for span in calls)
    assert tree.root.attributes["agentops.session.llm_calls"] == 2


def test_multi_session_patch(runs: dict[str, ExampleRun], standin: StandInServer) -> None:
    stdout, trees = run_example("multi_session_patch.py", runs)
    assert "unbound call refused: MultiSessionException" in stdout
    refused = [{"role": "user", "content": "Which session am I in?"}]
    sent = standin.requests[runs["multi_session_patch.py"].first_request:]
    assert not [r for r in sent if isinstance(r.body, dict) and r.body.get("messages") == refused], \
        "the refused call must be refused before it is sent"
    assert [r for r in sent if isinstance(r.body, dict) and r.body.get("model") == "error-429"], \
        "the example's requests are among those looked at"
    assert sorted(ended(stdout).values()) == ["Fail", "Success"] and set(ended(stdout)) == set(trees)
    by_tag = {tree.tags[1]: tree for tree in trees.values()}
    research, support = by_tag["research"], by_tag["support"]
    assert research.root.status_code == "OK"
    assert research.names == ["chat gpt-4o-mini", "execute_tool search"]
    assert support.root.status_code == "ERROR" and support.root.status_message == "rate limited: HTTP 429"
    assert support.names == ["chat gpt-4o-mini", "chat error-429"]
    failed = support.children[1]
    assert failed.status_code == "ERROR" and failed.attributes["error.type"] == "RateLimitError"
    assert failed.attributes["http.response.status_code"] == 429


def test_threads_and_asyncio(runs: dict[str, ExampleRun]) -> None:
    stdout, trees = run_example("threads_and_asyncio.py", runs)
    assert len(trees) == 7 and set(ended(stdout)) == set(trees)
    kinds: dict[str, list[str]] = {}
    for tree in trees.values():
        kind = "/".join(tree.tags[1:])
        kinds.setdefault(tree.tags[1], []).append(kind)
        if tree.tags[1] == "idle":
            assert tree.root.status_code == "UNSET" and tree.spans == []
            continue
        assert tree.root.status_code == "OK"
        model = tree.tags[-1]
        calls = [span for span in tree.spans if is_llm(span)]
        # Each session used its own model: a call that strayed into another session would show.
        assert calls and all(span.attributes["gen_ai.request.model"] == model for span in calls)
        if kind.startswith("thread/patched"):
            assert tree.names == [f"chat {model}"] * 2
        elif tree.tags[1] == "thread":
            assert tree.names == [f"chat {model}", "execute_tool book_hotel", f"chat {model}"]
        else:  # asyncio: one call in the task, two in the child tasks it gathered
            assert tree.names == [f"chat {model}"] * 3
    assert {tag: len(found) for tag, found in kinds.items()} == {"thread": 3, "idle": 1, "asyncio": 3}


def test_recorded_events(runs: dict[str, ExampleRun]) -> None:
    stdout, trees = run_example("recorded_events.py", runs)
    (tree,) = trees.values()
    assert ended(stdout) == {tree.root.attributes["session.id"]: "Success"}
    assert tree.names == ["action plan", "execute_tool search_flights", "chat gpt-4o-mini", "chat local-llama",
                          "error TimeoutError"]
    action, tool, _call, manual, error = tree.children
    assert action.attributes["agentops.action.type"] == "plan"
    assert tool.attributes["gen_ai.tool.name"] == "search_flights"
    # Content capture is off: the action's and the tool's values are not recorded, under any name.
    for span in (action, tool):
        assert not {"gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "agentops.event.params",
                    "agentops.event.returns"} & set(span.attributes)
    assert tool.end_time_unix_nano - tool.start_time_unix_nano >= 20_000_000  # the tool's own 20 ms
    assert manual.kind == "CLIENT" and manual.attributes["gen_ai.usage.input_tokens"] == 42
    assert manual.end_time_unix_nano - manual.start_time_unix_nano >= 10_000_000
    assert error.status_code == "ERROR" and error.status_message == "seat map service did not answer in 2 s"
    (exception,) = error.events
    assert exception.name == "exception" and exception.attributes["exception.type"] == "TimeoutError"
    root = tree.root.attributes
    assert (root["agentops.session.llm_calls"], root["agentops.session.tool_calls"],
            root["agentops.session.actions"], root["agentops.session.errors"]) == (2, 1, 1, 1)
    assert tree.root.status_code == "OK"  # a recorded error does not decide the outcome; end_session does


def test_anthropic_session(runs: dict[str, ExampleRun]) -> None:
    stdout, trees = run_example("anthropic_session.py", runs)
    (tree,) = trees.values()
    assert "Hello from the Anthropic stand-in." in stdout
    assert tree.root.status_code == "OK" and tree.tags == ["example", "anthropic"]
    # One span per call: the SDK's own tracing must not add a second one.
    assert [span.name for span in tree.spans] == ["chat claude-haiku-4-5", "execute_tool get_weather",
                                                  "chat claude-haiku-4-5"]
    first, tool, streamed = tree.spans
    for call in (first, streamed):
        assert call.kind == "CLIENT" and call.attributes["gen_ai.provider.name"] == "anthropic"
        assert call.attributes["gen_ai.usage.input_tokens"] > 0 and call.attributes["gen_ai.usage.output_tokens"] > 0
    assert first.attributes["gen_ai.response.finish_reasons"] == ["tool_use"]
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert tool.attributes["gen_ai.tool.call.id"].startswith("toolu_")  # the model's tool_use id
    assert "gen_ai.tool.call.arguments" not in tool.attributes  # content capture is off
