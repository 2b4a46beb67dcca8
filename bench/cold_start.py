"""Cold start: the CPU a fresh process pays for instrumentation, beside the peers: ``make bench-cold-start``.

Three programs, each run as a fresh ``python -c`` process: ``nothing`` (``pass``: a CLI or tool
worker that uses no LLM client), ``openai`` and ``anthropic`` (import the client, create it, make
one request to the stand-in API on 127.0.0.1). Each runs bare, with its instrumentation set up in
code (``agentops_otel.init()``; for a peer, an SDK provider with an OTLP exporter and every one of
its instrumentors' ``instrument()``), and under ``opentelemetry-instrument`` (ours: our distro;
the plain OpenTelemetry distro alone, and with each peer's instrumentors). Every process exports
over OTLP/HTTP to a receiver in this process, which counts the spans of each run; metrics and
logs exporters are off for everyone.

``opentelemetry-instrument`` activates every instrumentor installed, and the peers' entry points
share the names ``openai`` / ``anthropic``, so each contestant gets an environment of its own,
``bench/.venv-cold/<name>``, built here from the pins in ``bench/requirements.txt``: the same
client, SDK and exporter versions in each, plus that contestant's packages only.

The clock is the CPU time (user + system) of the child process, from ``os.wait4``; wall time is
kept too. A warm-up round (bytecode caches) is not counted; then every job runs once per round,
the order rotated each round, and the median over the rounds is reported.

    bench/.venv/bin/python bench/cold_start.py --update-readme   # what `make bench-cold-start` runs

CPU time on a shared machine moves by tens of ms from one process to the next, as much as some
targets' limits. ``--instructions`` counts instead: every job once under valgrind's cachegrind
(``--cache-sim=no``, ``PYTHONHASHSEED=0``, bytecode cached by a run before), two at a time; the
counts do not move with the machine's load. The ms targets are judged on the counts converted at
this machine's rate (all jobs' instructions over their CPU ms in the uncounted run):

    bench/.venv/bin/python bench/cold_start.py --instructions --update-readme   # ~30 minutes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
VENVS = HERE / ".venv-cold"
REQUIREMENTS = HERE / "requirements.txt"

COMMON_PACKAGES = ["openai", "anthropic", "httpx2", "opentelemetry-api", "opentelemetry-sdk",
                   "opentelemetry-instrumentation", "opentelemetry-semantic-conventions",
                   "opentelemetry-exporter-otlp", "wrapt"]
# Contestant -> what its environment adds to COMMON_PACKAGES.
CONTESTANTS: dict[str, list[str]] = {
    "plain": ["opentelemetry-distro"],
    "agentops_otel": ["-e", ".", "-e", "instrumentors/openai", "-e", "instrumentors/anthropic"],
    "openllmetry": ["opentelemetry-distro", "opentelemetry-instrumentation-openai",
                    "opentelemetry-instrumentation-anthropic", "opentelemetry-semantic-conventions-ai"],
    "otel_v2": ["opentelemetry-distro", "opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai",
                "httpx"],
    "openinference": ["opentelemetry-distro", "openinference-instrumentation-openai",
                      "openinference-instrumentation-anthropic", "openinference-instrumentation",
                      "openinference-semantic-conventions"],
}
PEERS = ("openllmetry", "otel_v2", "openinference")
# Each peer's instrumentors, as its users activate them in code.
PEER_INSTRUMENTORS = {
    "openllmetry": ["opentelemetry.instrumentation.openai:OpenAIInstrumentor",
                    "opentelemetry.instrumentation.anthropic:AnthropicInstrumentor"],
    "otel_v2": ["opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor"],
    "openinference": ["openinference.instrumentation.openai:OpenAIInstrumentor",
                      "openinference.instrumentation.anthropic:AnthropicInstrumentor"],
}
PROGRAMS = {
    "nothing": "pass",
    "openai": (
        "import openai\n"
        "client = openai.OpenAI(max_retries=0)\n"
        "client.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'Hi'}])\n"
    ),
    "anthropic": (
        "import anthropic\n"
        "client = anthropic.Anthropic(max_retries=0)\n"
        "client.messages.create(model='claude-haiku-4-5', max_tokens=8, "
        "messages=[{'role': 'user', 'content': 'Hi'}])\n"
    ),
}
PEER_SETUP = """\
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
"""
# The OpenTelemetry SDK's own import: the provider and the batch processor, which every set-up needs.
SDK_IMPORT = "import opentelemetry.sdk.trace.export"
TARGET_INIT_OVER_IMPORT_MS = 50
TARGET_IMPORT_OVER_SDK_MS = 20
TARGET_DISTRO_OVER_PLAIN_MS = 50
TARGET_OPENAI_EXTRA_MS = 50


@dataclass(frozen=True)
class Job:
    name: str
    contestant: str
    code: str
    instrument: bool = False
    env: dict[str, str] = field(default_factory=dict)
    min_spans: int = 0
    max_spans: int | None = None


def jobs() -> list[Job]:
    found = [
        Job("sdk_import", "agentops_otel", SDK_IMPORT, max_spans=0),
        Job("import_agentops_otel", "agentops_otel", "import agentops_otel", max_spans=0),
        Job("init_no_exporter", "agentops_otel", "import agentops_otel\nagentops_otel.init()",
            env={"OTEL_TRACES_EXPORTER": "none"}, max_spans=0),
    ]
    for program, code in PROGRAMS.items():
        uses_llm = program != "nothing"
        found.append(Job(f"{program}/bare", "plain", code, max_spans=0))
        found.append(Job(f"{program}/code/agentops_otel", "agentops_otel",
                         f"import agentops_otel\nagentops_otel.init()\n{code}", min_spans=2 if uses_llm else 1))
        found.append(Job(f"{program}/instrument/agentops_otel", "agentops_otel", code, instrument=True,
                         env={"AGENTOPS_AUTO_START_SESSION": "true"}, min_spans=2 if uses_llm else 1))
        # anthropic traces itself once a provider is installed: one span of its own, not a peer's.
        found.append(Job(f"{program}/instrument/plain", "plain", code, instrument=True,
                         max_spans=1 if program == "anthropic" else 0))
        for peer in PEERS:
            if program == "anthropic" and not any("nthropic" in path for path in PEER_INSTRUMENTORS[peer]):
                continue  # a peer with no Anthropic instrumentation
            activate = "".join(f"from {path.split(':')[0]} import {path.split(':')[1]} as _I\n_I().instrument()\n"
                               for path in PEER_INSTRUMENTORS[peer])
            found.append(Job(f"{program}/code/{peer}", peer, f"{PEER_SETUP}{activate}{code}",
                             min_spans=1 if uses_llm else 0))
            found.append(Job(f"{program}/instrument/{peer}", peer, code, instrument=True,
                             min_spans=1 if uses_llm else 0))
    return found


# --- environments ---------------------------------------------------------------------------------

def pins() -> dict[str, str]:
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.strip().lower()] = version.strip()
    return found


def python_of(contestant: str) -> Path:
    return VENVS / contestant / "bin" / "python"


def ensure_venv(contestant: str, base_python: str) -> None:
    """Build ``bench/.venv-cold/<contestant>`` unless it exists for the same pins and packages."""
    versions = pins()
    requirements: list[str] = []
    for package in COMMON_PACKAGES + CONTESTANTS[contestant]:
        if package == "-e" or package.startswith((".", "instrumentors/")):
            requirements.append(package)
        else:
            requirements.append(f"{package}=={versions[package]}" if package in versions else package)
    digest = hashlib.sha256(json.dumps(requirements).encode()).hexdigest()[:16]
    venv = VENVS / contestant
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"cold-start: building {venv.relative_to(ROOT)}", flush=True)
    subprocess.run([base_python, "-m", "venv", "--clear", str(venv)], check=True)
    installed = subprocess.run([str(python_of(contestant)), "-m", "pip", "install", "--quiet", *requirements],
                               cwd=ROOT, capture_output=True, text=True, check=False)
    if installed.returncode != 0:
        raise SystemExit(f"cold-start: pip failed for {contestant}:\n{installed.stderr[-3000:]}")
    stamp.write_text(digest)


# --- the stand-in API and an OTLP/HTTP receiver ----------------------------------------------------

class Receiver:
    """Counts the spans each run exports, by ``service.name`` (the job's run id)."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        counts: dict[str, int] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    service = next((a.value.string_value for a in resource_spans.resource.attributes
                                    if a.key == "service.name"), "")
                    spans = sum(len(scope.spans) for scope in resource_spans.scope_spans)
                    with lock:
                        counts[service] = counts.get(service, 0) + spans
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.counts = counts
        self._lock = lock
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def spans_of(self, service: str) -> int:
        with self._lock:
            return self.counts.get(service, 0)

    def close(self) -> None:
        self._server.shutdown()


# --- running -----------------------------------------------------------------------------------------

def job_env(job: Job, run_id: str, receiver: Receiver, standin: Any) -> dict[str, str]:
    prefixes = ("OTEL_", "TRACELOOP_", "OPENINFERENCE_", "AGENTOPS_", "OPENAI_", "ANTHROPIC_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    # Bytecode is cached as an installed application's is (the warm-up round writes it): with
    # PYTHONDONTWRITEBYTECODE inherited, the editable agentops_otel would be compiled in every run
    # while the peers' pip-installed packages come compiled.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": run_id,
        "OPENAI_BASE_URL": standin.openai_base_url,
        "OPENAI_API_KEY": "sk-cold-start",
        "ANTHROPIC_BASE_URL": standin.anthropic_base_url,
        "ANTHROPIC_API_KEY": "sk-ant-cold-start",
    })
    if job.instrument:  # which distro and configurator: ours in our environment, else the plain one
        name = "agentops_otel" if job.contestant == "agentops_otel" else None
        env["OTEL_PYTHON_DISTRO"] = name or "distro"
        env["OTEL_PYTHON_CONFIGURATOR"] = name or "configurator"
    env.update(job.env)
    return env


CACHEGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
              "--trace-children=yes"]  # opentelemetry-instrument execs python: counted with it


def run(job: Job, run_id: str, receiver: Receiver, standin: Any, counted: bool = False) -> dict[str, Any]:
    """One fresh process of ``job``: its CPU and wall time; under cachegrind (``counted``), its instructions."""
    python = python_of(job.contestant)
    command = [str(python), "-c", job.code]
    if job.instrument:
        command = [str(python.parent / "opentelemetry-instrument"), *command]
    env = job_env(job, run_id, receiver, standin)
    if counted:
        command = [*CACHEGRIND, *command]
        env["PYTHONHASHSEED"] = "0"
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    result: dict[str, Any] = {"cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000, "wall_ms": wall * 1000}
    if counted:
        text = stderr.decode(errors="replace")
        result["instructions"] = sum(int(n.replace(",", "")) for n in re.findall(r"I\s+refs:\s+([\d,]+)", text))
    if proc.returncode != 0:
        result["error"] = f"exit {proc.returncode}: {stderr.decode(errors='replace')[-1500:]}"
    return result


def check_spans(job: Job, spans: int) -> str | None:
    if spans < job.min_spans or (job.max_spans is not None and spans > job.max_spans):
        return f"{spans} spans exported, expected {job.min_spans}..{job.max_spans if job.max_spans is not None else ''}"
    return None


# --- the report ------------------------------------------------------------------------------------

def analyse(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    median = {name: statistics.median(r["cpu_ms"] for r in runs) for name, runs in results.items()}
    wall = {name: statistics.median(r["wall_ms"] for r in runs) for name, runs in results.items()}
    return {"cpu_ms": {k: round(v, 1) for k, v in median.items()},
            "wall_ms": {k: round(v, 1) for k, v in wall.items()},
            "targets": targets(median)}


def targets(median: dict[str, float]) -> list[dict[str, Any]]:
    """Each target judged on ``median``: ms per job (CPU, or instructions at the machine's rate)."""
    found: list[dict[str, Any]] = []

    def target(name: str, value: float, limit: float, detail: str) -> None:
        found.append({"target": name, "value_ms": round(value, 1), "limit_ms": limit, "met": value <= limit,
                      "detail": detail})

    target("init() over import agentops_otel (nothing imported, OTEL_TRACES_EXPORTER=none)",
           median["init_no_exporter"] - median["import_agentops_otel"], TARGET_INIT_OVER_IMPORT_MS,
           f"init {median['init_no_exporter']:.0f} ms - import {median['import_agentops_otel']:.0f} ms")
    target("import agentops_otel over the SDK's import",
           median["import_agentops_otel"] - median["sdk_import"], TARGET_IMPORT_OVER_SDK_MS,
           f"import {median['import_agentops_otel']:.0f} ms - `{SDK_IMPORT}` {median['sdk_import']:.0f} ms")
    target("our distro over the plain OpenTelemetry distro, same exporter (`pass`)",
           median["nothing/instrument/agentops_otel"] - median["nothing/instrument/plain"],
           TARGET_DISTRO_OVER_PLAIN_MS,
           f"ours {median['nothing/instrument/agentops_otel']:.0f} ms (with our instrumentors) - plain "
           f"{median['nothing/instrument/plain']:.0f} ms (no instrumentor)")
    for mode in ("code", "instrument"):
        extra_openai = ((median[f"openai/{mode}/agentops_otel"] - median["openai/bare"])
                        - (median[f"nothing/{mode}/agentops_otel"] - median["nothing/bare"]))
        target(f"openai import paid once ({mode}): our overhead on the OpenAI program minus on `pass`",
               extra_openai, TARGET_OPENAI_EXTRA_MS, "importing openai itself costs "
               f"{median['openai/bare'] - median['nothing/bare']:.0f} ms")
    for program in PROGRAMS:
        for mode in ("code", "instrument"):
            ours = median[f"{program}/{mode}/agentops_otel"]
            for peer in PEERS:
                theirs = median.get(f"{program}/{mode}/{peer}")
                if theirs is not None:
                    target(f"below {peer} ({program}, {mode})", ours - theirs, 0,
                           f"ours {ours:.0f} ms, {peer} {theirs:.0f} ms")
    return found


def table(report: dict[str, Any], key: str = "cpu_ms") -> str:
    """The README's tables: of CPU ms (``key`` ``cpu_ms``), or of counted instructions as ms
    (``counted_ms``) with the counts beside them."""
    values = report[key]
    unit = "CPU ms" if key == "cpu_ms" else "ms, counted"
    modes = [("bare", "bare")] + [(f"code/{c}", f"in code: {c}") for c in ("agentops_otel", *PEERS)] + [
        (f"instrument/{c}", f"opentelemetry-instrument: {c}") for c in ("plain", "agentops_otel", *PEERS)]
    lines = ["| set-up | `pass` ms | over bare | OpenAI program ms | over bare | Anthropic program ms | over bare |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for mode, label in modes:
        cells = []
        for program in PROGRAMS:
            value = values.get(f"{program}/{mode}")
            bare = values[f"{program}/bare"]
            cells += ["-", "-"] if value is None else [f"{value:.0f}", f"{value - bare:+.0f}" if mode != "bare" else ""]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines += ["", f"| start-up alone | {unit} |", "|---|---:|"]
    lines += [f"| `{SDK_IMPORT}` | {values['sdk_import']:.0f} |",
              f"| `import agentops_otel` | {values['import_agentops_otel']:.0f} |",
              f"| `agentops_otel.init()`, `OTEL_TRACES_EXPORTER=none` | {values['init_no_exporter']:.0f} |"]
    lines += ["", "| target | value | limit | |", "|---|---:|---:|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['value_ms']:+.0f} ms | {t['limit_ms']} ms | "
                     f"{'met' if t['met'] else '**missed**'}: {t['detail']} |")
    settings = report["settings"]
    if key == "cpu_ms":
        lines += ["", f"CPU ms (user + system) of each fresh process, median of {settings['rounds']} rounds; "
                  f"{report['machine']}."]
    else:
        counts = ", ".join(f"{name} {n / 1e6:,.0f}M" for name, n in report["instructions"].items())
        lines += ["", f"Instructions of each fresh process (cachegrind, `--cache-sim=no`, `PYTHONHASHSEED=0`, "
                  f"bytecode cached), as ms at this machine's {settings['instructions_per_ms'] / 1e6:.2f}M "
                  f"instructions per CPU ms; {report['machine']}. Counts: {counts}."]
    return "\n".join(lines)


def update_readme(text: str, section: str = "cold-start") -> None:
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    readme = README.read_text()
    if start not in readme or end not in readme:
        return
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (after one warm-up round)")
    parser.add_argument("--jobs", help="comma-separated job names to run (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "cold_start.json")
    parser.add_argument("--update-readme", action="store_true", help="put the tables into bench/README.md")
    parser.add_argument("--instructions", action="store_true",
                        help="count each job's instructions under cachegrind instead of timing rounds")
    args = parser.parse_args(argv)
    if args.instructions and shutil.which("valgrind") is None:
        print("--instructions needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2

    from agentops_otel_standin import StandInServer

    planned = jobs()
    if args.jobs:
        planned = [job for job in planned if job.name in args.jobs.split(",")]
    for contestant in sorted({job.contestant for job in planned}):
        ensure_venv(contestant, sys.executable)
    receiver = Receiver()
    results: dict[str, list[dict[str, Any]]] = {job.name: [] for job in planned}
    failures: dict[str, str] = {}
    started = time.monotonic()
    with StandInServer() as standin:
        if args.instructions:
            return count_instructions(planned, receiver, standin, args)
        for round_ in range(args.rounds + 1):
            shift = round_ % len(planned)
            for job in planned[shift:] + planned[:shift]:
                run_id = f"cold-{round_}-{job.name}"
                result = run(job, run_id, receiver, standin)
                if round_ == 0:  # warm-up: fills the bytecode caches; checks the spans
                    problem = result.get("error") or check_spans(job, receiver.spans_of(run_id))
                    if problem:
                        failures[job.name] = problem
                    continue
                results[job.name].append(result)
            print(f"cold-start: round {round_}{' (warm-up)' if round_ == 0 else ''} done, "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    receiver.close()
    for name, problem in failures.items():
        print(f"cold-start: {name} FAILED: {problem}", flush=True)
    if failures:
        return 1
    report: dict[str, Any] = analyse(results) if not args.jobs else {
        "cpu_ms": {k: round(statistics.median(r["cpu_ms"] for r in v), 1) for k, v in results.items()}}
    report["settings"] = {"rounds": args.rounds, "clock": "CPU (user+system) of the child process, os.wait4"}
    report["machine"] = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    report["spans"] = {name: receiver.counts.get(f"cold-1-{name}", 0) for name in results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.jobs:
        print(json.dumps(report["cpu_ms"], indent=2))
        return 0
    text = table(report)
    print(text)
    if args.update_readme:
        update_readme(text)
    return 0


def count_instructions(planned: list[Job], receiver: Receiver, standin: Any, args: argparse.Namespace) -> int:
    """``--instructions``: one uncounted run of each job (bytecode, spans, CPU ms), then one counted."""
    failures: dict[str, str] = {}
    cpu: dict[str, float] = {}
    for job in planned:
        result = run(job, f"cold-warm-{job.name}", receiver, standin)
        problem = result.get("error") or check_spans(job, receiver.spans_of(f"cold-warm-{job.name}"))
        if problem:
            failures[job.name] = problem
        cpu[job.name] = result["cpu_ms"]

    def counted(job: Job) -> tuple[str, dict[str, Any]]:
        return job.name, run(job, f"cold-count-{job.name}", receiver, standin, counted=True)

    instructions: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, result in pool.map(counted, planned):
            if "error" in result or not result.get("instructions"):
                failures[name] = result.get("error", "no instruction count")
            else:
                instructions[name] = result["instructions"]
                print(f"cold-start: {name}: {result['instructions']:,} instructions", flush=True)
    receiver.close()
    for name, problem in failures.items():
        print(f"cold-start: {name} FAILED: {problem}", flush=True)
    if failures:
        return 1
    rate = sum(instructions.values()) / sum(cpu[name] for name in instructions)
    as_ms = {name: n / rate for name, n in instructions.items()}
    report: dict[str, Any] = {"instructions": instructions, "counted_ms": {k: round(v, 1) for k, v in as_ms.items()},
                              "settings": {"instructions_per_ms": round(rate)},
                              "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"}
    if args.jobs:
        print(json.dumps(report, indent=2))
        return 0
    report["targets"] = targets(as_ms)
    args.out.with_name(args.out.stem + "_instructions.json").write_text(json.dumps(report, indent=2) + "\n")
    text = table(report, key="counted_ms")
    print(text)
    if args.update_readme:
        update_readme(text, section="cold-start-instructions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
