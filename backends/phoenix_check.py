"""``make backends``: the demo's sessions sent to a real Arize Phoenix, checked through its GraphQL API.

Starts the Phoenix server installed in its own environment (``backends/.venv-phoenix``, made by the
Makefile) on free ports of 127.0.0.1, with its database in a temporary directory; runs the demo
(``agentops-otel demo``) twice against it over OTLP http/protobuf, once with content capture off and
once on, each run in its own Phoenix project (the ``openinference.project.name`` resource
attribute); then asks Phoenix's GraphQL API (the one its UI reads) what it made of them:

* every session the demo printed is on the project's Sessions page, with its one trace;
* each session's root span is an agent run (span kind AGENT, ``gen_ai.agent.name``);
* the session's token total is what the demo printed (no span's totals counted twice);
* every LLM call is an LLM span with its model and, unless it failed, its tokens;
* every tool call is a TOOL span with its name and, with capture on, its arguments and result;
* the failing session's trace is in error, the others are not;
* with capture on, the LLM spans show the tool definitions sent and the messages; with capture
  off, no message content at all.

It prints PASS or FAIL per check and the elapsed time, stops the server it started (also on a
failure, Ctrl-C or SIGTERM) and exits 1 if any check failed. Standard library only: it runs on the
project's environment and talks to Phoenix over HTTP, never importing it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

READY_TIMEOUT_S = 240.0
"""Phoenix's first start migrates a fresh database: ~25 s on a loaded 2-core host, so be generous."""
INGEST_TIMEOUT_S = 60.0
DEMO_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0

SESSION_LINE = re.compile(
    r"^\s+(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+"
    r"(?P<state>Success|Fail|Indeterminate)\s+(?P<city>\S+)\s+(?P<calls>\d+) LLM calls?, "
    r"tokens (?P<input>\d+) in / (?P<output>\d+) out",
    re.MULTILINE,
)
"""A line of the demo's closing ``Sessions`` table: what the user is told happened."""

PROJECT_QUERY = """
query ($name: String!) {
  getProjectByName(name: $name) {
    traceCount
    recordCount
    sessions(first: 1000) {
      edges { node {
        sessionId numTraces numTracesWithError tokenUsage { total }
        traces(first: 100) { edges { node { traceId } } }
      } }
    }
    spans(first: 1000) {
      edges { node {
        name spanKind statusCode parentId tokenCountPrompt tokenCountCompletion cumulativeTokenCountTotal
        attributes
        trace { traceId }
      } }
    }
  }
}
"""

COUNT_QUERY = "query ($name: String!) { getProjectByName(name: $name) { traceCount recordCount } }"


@dataclass(frozen=True)
class DemoSession:
    """One session as the demo reported it."""

    session_id: str
    state: str
    city: str
    llm_calls: int
    tokens: int


@dataclass(frozen=True)
class Span:
    name: str
    kind: str
    status: str
    parent_id: str | None
    trace_id: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cumulative_tokens: float | None
    """The tokens of the span and all its descendants: on a root, the trace's total in Phoenix's trace list."""
    attributes: dict[str, Any]

    def attribute(self, dotted: str) -> Any:
        """An attribute by its OpenTelemetry name: Phoenix returns them nested by their dots."""
        value: Any = self.attributes
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


@dataclass(frozen=True)
class PhoenixSession:
    session_id: str
    num_traces: int
    num_traces_with_error: int
    total_tokens: int
    trace_ids: frozenset[str]


@dataclass(frozen=True)
class Project:
    """What Phoenix shows of one project: its Sessions page and its spans."""

    sessions: dict[str, PhoenixSession]
    spans: list[Span]

    def roots(self) -> dict[str, Span]:
        """Each trace's root span by trace id."""
        return {span.trace_id: span for span in self.spans if span.parent_id is None}


@dataclass
class Report:
    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, problems: list[str], passed_detail: str) -> None:
        passed = not problems
        # The same problem on every span of a kind is said once, with its count.
        counted = Counter(problems)
        said = [problem + (f" (x{count})" if count > 1 else "") for problem, count in counted.items()]
        detail = passed_detail if passed else "; ".join(said[:5]) + (
            f"; ... {len(said) - 5} more" if len(said) > 5 else "")
        self.results.append((name, passed, detail))
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Phoenix:
    """A Phoenix server this script started, and its GraphQL endpoint."""

    def __init__(self, executable: Path, working_dir: Path) -> None:
        self.port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = working_dir / "phoenix.log"
        # Only our PHOENIX_* settings: a user's (a Postgres URL, auth) must not leak into the check.
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PHOENIX_", "OTEL_"))}
        env.update(PHOENIX_HOST="127.0.0.1", PHOENIX_PORT=str(self.port), PHOENIX_GRPC_PORT=str(self.grpc_port),
                   PHOENIX_WORKING_DIR=str(working_dir), PHOENIX_TELEMETRY_ENABLED="false")
        with self.log_path.open("wb") as log:
            # A session of its own: a Ctrl-C in the terminal reaches this script, which stops the server.
            self.process = subprocess.Popen([str(executable), "serve"], env=env, cwd=working_dir, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join("    " + line for line in text[-lines:])

    def wait_ready(self) -> str:
        """Wait until the server answers; return its version."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Phoenix exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                    if response.status == 200:
                        with urllib.request.urlopen(f"{self.url}/arize_phoenix_version", timeout=5) as version:
                            return str(version.read().decode().strip())
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Phoenix not ready after {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.load(response)
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the group this script made for it
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        print(f"Phoenix stopped (pid {self.process.pid}, exit code {self.process.returncode})", flush=True)


@contextmanager
def phoenix_server(executable: Path) -> Iterator[Phoenix]:
    with tempfile.TemporaryDirectory(prefix="agentops-phoenix-") as working_dir:
        server = Phoenix(executable, Path(working_dir))
        try:
            yield server
        finally:
            server.stop()


def run_demo(demo: Path, endpoint: str, project: str, capture: bool) -> list[DemoSession]:
    """Run the demo against Phoenix; return the sessions it printed."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
               OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}")
    if capture:
        env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
    done = subprocess.run([str(demo), "demo"], env=env, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
                          check=False)
    sessions = [DemoSession(m["id"], m["state"], m["city"], int(m["calls"]), int(m["input"]) + int(m["output"]))
                for m in SESSION_LINE.finditer(done.stdout)]
    if done.returncode != 0 or not sessions:
        raise RuntimeError(f"the demo exited with code {done.returncode} and printed {len(sessions)} sessions:\n"
                           f"{done.stdout}\n{done.stderr}")
    return sessions


def wait_for_spans(phoenix: Phoenix, project: str, traces: int) -> None:
    """Wait until Phoenix has stored the project's traces and its span count holds still.

    The demo has flushed every span before it exits, but Phoenix inserts what it receives in
    batches, a moment later.
    """
    deadline = time.monotonic() + INGEST_TIMEOUT_S
    last = -1
    while time.monotonic() < deadline:
        found = phoenix.graphql(COUNT_QUERY, {"name": project})["getProjectByName"]
        if found is not None and found["traceCount"] >= traces and found["recordCount"] == last:
            return
        last = found["recordCount"] if found is not None else -1
        time.sleep(1.0)


def fetch_project(phoenix: Phoenix, project: str) -> Project:
    found = phoenix.graphql(PROJECT_QUERY, {"name": project})["getProjectByName"]
    if found is None:
        return Project({}, [])
    sessions = {}
    for edge in found["sessions"]["edges"]:
        node = edge["node"]
        sessions[node["sessionId"]] = PhoenixSession(
            node["sessionId"], node["numTraces"], node["numTracesWithError"], node["tokenUsage"]["total"],
            frozenset(trace["node"]["traceId"] for trace in node["traces"]["edges"]))
    spans = [Span(node["name"], node["spanKind"].upper(), node["statusCode"], node["parentId"],
                  node["trace"]["traceId"], node["tokenCountPrompt"], node["tokenCountCompletion"],
                  node["cumulativeTokenCountTotal"], json.loads(node["attributes"] or "{}"))
             for node in (edge["node"] for edge in found["spans"]["edges"])]
    return Project(sessions, spans)


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def check_project(report: Report, label: str, project: Project, demo: list[DemoSession], capture: bool) -> None:
    roots = project.roots()
    # The demo's own link between a printed session and its trace: its root span's agentops.session.id.
    trace_of = {as_text(root.attribute("agentops.session.id")): trace for trace, root in roots.items()}

    problems = []
    for session in demo:
        if session.session_id not in trace_of:
            problems.append(f"{session.city}: no trace whose root carries agentops.session.id={session.session_id}")
    report.check(f"{label}: one trace per session", problems,
                 f"{len(demo)} sessions, {len(roots)} traces, each rooted in its session span")

    problems = []
    missing = [session.city for session in demo if session.session_id not in project.sessions]
    if missing:
        problems.append(f"not on the Sessions page ({len(project.sessions)} sessions listed): {', '.join(missing)}")
    for session in demo:
        listed = project.sessions.get(session.session_id)
        if listed is not None and trace_of.get(session.session_id) not in listed.trace_ids:
            problems.append(f"{session.city}: listed without its trace")
    report.check(f"{label}: Sessions page", problems, f"{len(demo)}/{len(demo)} sessions listed, each with its trace")

    problems = []
    for session in demo:
        root = roots.get(trace_of.get(session.session_id, ""))
        if root is None:
            problems.append(f"{session.city}: no root span")
        elif root.kind != "AGENT" or not root.attribute("gen_ai.agent.name"):
            problems.append(f"root '{root.name}' is {root.kind}, "
                            f"gen_ai.agent.name={root.attribute('gen_ai.agent.name')!r}")
    report.check(f"{label}: session root is an agent run", problems,
                 "every root span is AGENT with gen_ai.agent.name")

    problems = []
    for session in demo:
        root = roots.get(trace_of.get(session.session_id, ""))
        trace_total = (root.cumulative_tokens or 0) if root is not None else None
        if trace_total is not None and trace_total != session.tokens:
            problems.append(f"{session.city}: trace total {trace_total:.0f} tokens, the demo's {session.tokens}")
        listed = project.sessions.get(session.session_id)
        if listed is not None and listed.total_tokens != session.tokens:
            problems.append(f"{session.city}: session total {listed.total_tokens} tokens, the demo's {session.tokens}")
    report.check(f"{label}: token totals", problems,
                 "each trace's (and listed session's) tokens equal the demo's: none counted twice")

    problems = []
    llm_spans = [span for span in project.spans if span.attribute("gen_ai.operation.name") == "chat"]
    expected_calls = sum(session.llm_calls for session in demo)
    if len(llm_spans) != expected_calls:
        problems.append(f"{len(llm_spans)} chat spans for the demo's {expected_calls} LLM calls")
    for span in llm_spans:
        if span.kind != "LLM" or not span.attribute("llm.model_name"):
            problems.append(f"'{span.name}' is {span.kind}, model {span.attribute('llm.model_name')!r}")
        elif span.status != "ERROR" and not (span.prompt_tokens and span.completion_tokens):
            problems.append(f"'{span.name}' tokens {span.prompt_tokens} in / {span.completion_tokens} out")
    report.check(f"{label}: LLM spans", problems, f"{len(llm_spans)} LLM spans, each with its model and tokens")

    problems = []
    tool_spans = [span for span in project.spans if span.attribute("gen_ai.operation.name") == "execute_tool"]
    expected_tools = sum(1 for session in demo if session.state == "Success")  # one weather call per trip
    if len(tool_spans) != expected_tools:
        problems.append(f"{len(tool_spans)} tool spans for {expected_tools} tool calls")
    for span in tool_spans:
        if span.kind != "TOOL" or span.attribute("tool.name") != "get_weather":
            problems.append(f"'{span.name}' is {span.kind}, tool.name {span.attribute('tool.name')!r}")
        if not capture:
            continue  # arguments and results are the conventions' opt-in content: recorded with capture on
        arguments, result = span.attribute("tool.parameters"), span.attribute("output.value")
        if arguments is None or "city" not in as_text(arguments):
            problems.append(f"'{span.name}' without arguments (tool.parameters={arguments!r})")
        if result is None or "forecast" not in as_text(result):
            problems.append(f"'{span.name}' without result (output.value={result!r})")
    with_content = ", with their arguments and result" if capture else ""
    report.check(f"{label}: tool spans", problems, f"{len(tool_spans)} TOOL spans named get_weather{with_content}")

    problems = []
    for session in demo:
        root = roots.get(trace_of.get(session.session_id, ""))
        listed = project.sessions.get(session.session_id)
        failed = session.state == "Fail"
        if root is not None and (root.status == "ERROR") != failed:
            problems.append(f"{session.city} ({session.state}): root status {root.status}")
        if listed is not None and (listed.num_traces_with_error > 0) != failed:
            problems.append(f"{session.city} ({session.state}): {listed.num_traces_with_error} traces in error "
                            "on the Sessions page")
    failing = [session.city for session in demo if session.state == "Fail"]
    if not failing:
        problems.append("the demo reported no failing session")
    where = "root span and Sessions page" if project.sessions else "root span; not on a Sessions page"
    report.check(f"{label}: failing session in error", problems,
                 f"{', '.join(failing)} in error ({where}), the others not")

    if capture:
        problems = []
        for span in llm_spans:
            tools = span.attribute("llm.tools")
            if not tools or "get_weather" not in as_text(tools):
                problems.append(f"'{span.name}' without tool definitions (llm.tools={tools!r})")
            if not span.attribute("llm.input_messages"):
                problems.append(f"'{span.name}' without input messages")
            if span.status != "ERROR" and not span.attribute("llm.output_messages"):
                problems.append(f"'{span.name}' without output messages")
        report.check(f"{label}: tool definitions and messages", problems,
                     f"all {len(llm_spans)} LLM spans show get_weather's definition and their messages")
    else:
        shown = [span.name for span in llm_spans
                 if any(span.attribute(name) for name in ("llm.tools", "llm.input_messages", "llm.output_messages"))]
        report.check(f"{label}: no content with capture off", [f"'{name}' shows content" for name in shown],
                     "no LLM span shows messages or tool definitions")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through phoenix_server's finally, which stops the server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--phoenix", type=Path, required=True, help="the `phoenix` executable to start")
    parser.add_argument("--demo", type=Path, required=True, help="the `agentops-otel` executable")
    parser.add_argument("--keep-serving", action="store_true",
                        help="after the checks, keep Phoenix running until Ctrl-C, to look at it")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    started = time.monotonic()
    report = Report()
    with phoenix_server(args.phoenix.absolute()) as phoenix:
        version = phoenix.wait_ready()
        print(f"Phoenix {version} ready at {phoenix.url} after {time.monotonic() - started:.1f} s "
              f"(OTLP http/protobuf at {phoenix.url}/v1/traces)", flush=True)
        for label, project, capture in (("capture off", "agentops-demo", False),
                                        ("capture on", "agentops-demo-content", True)):
            run_started = time.monotonic()
            demo = run_demo(args.demo, phoenix.url, project, capture)
            wait_for_spans(phoenix, project, len(demo))
            states = ", ".join(f"{session.city} {session.state}" for session in demo)
            print(f"demo with {label} -> project {project}: {len(demo)} sessions ({states}), "
                  f"{time.monotonic() - run_started:.1f} s", flush=True)
            check_project(report, label, fetch_project(phoenix, project), demo, capture)
        if args.keep_serving:
            print(f"Phoenix keeps serving at {phoenix.url} (projects agentops-demo, agentops-demo-content); "
                  "Ctrl-C to stop", flush=True)
            try:
                while phoenix.process.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    failed = [name for name, passed, _ in report.results if not passed]
    print(f"{len(report.results)} checks: {len(report.results) - len(failed)} passed, {len(failed)} failed; "
          f"{time.monotonic() - started:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: Phoenix stopped", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:  # the server or the demo: said plainly
        print(f"make backends: {error}", file=sys.stderr)
        sys.exit(2)
