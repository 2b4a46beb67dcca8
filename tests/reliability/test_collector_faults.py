"""A collector that is down, unreachable, slow, failing or resetting never disturbs the application.

Each scenario runs in its own interpreter (its own tracer provider, installed by ``init()`` from
the ``OTEL_*`` variables) making real OpenAI calls to the stand-in server, with the OTLP exporter
pointed at a misbehaving collector from ``fault_receivers``. Compared with the same program
exporting to a healthy receiver, the calls return the same results at the same latency, the
process exits as soon (a collector that failed is not waited on again) or, when an export is in
flight at exit, within its timeout, and stderr holds at most our one warning.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest
from agentops_otel_standin import StandInServer

from tests.support.fault_receivers import FAULTS, FaultyReceiver, TcpForwarder
from tests.support.otlp_receiver import OTLPReceiver, Protocol, free_port
from tests.support.subprocesses import clean_env, run_python

PROTOCOLS = ("grpc", "http/protobuf")
EXPORT_TIMEOUT_SECONDS = 3.0
"""Long beside the noise of interpreter teardown on a loaded host (~1 s), so that waiting on a
failed collector at exit (the exporters retry until this timeout) shows as what it is."""
EXIT_SLACK_SECONDS = 1.5
IN_FLIGHT_AT_EXIT = ("slow", "unreachable")
"""Faults where an export may still be waiting on the collector at exit (a stall, a connect
to an address that never answers): the exit waits for it, up to the export timeout."""
CALLS = 12

# Our warning, the only line a failing export may print (see agentops_otel._internal.export_guard).
OUR_WARNING = re.compile(r"^agentops-otel: (could not export \d+ spans|the span export queue is full)")

SCENARIO = """
    import atexit, json, os, statistics, time
    import openai
    import agentops_otel as agentops

    # Registered before init(), so it runs last: after the at-exit flush and the provider's shutdown.
    atexit.register(lambda: print(json.dumps({{"stats": agentops.export_stats().__dict__}}), flush=True))
    agentops.init(auto_start_session=False)
    client = openai.OpenAI(base_url=os.environ["STANDIN_URL"], api_key="sk-fault-test", max_retries=0)
    results, latencies = [], []
    for i in range({calls}):
        session = agentops.start_session(tags=["fault", str(i)])
        started = time.perf_counter()
        response = client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
        latencies.append(time.perf_counter() - started)
        results.append([response.choices[0].message.content, response.usage.total_tokens, response.model])
        session.record(agentops.ActionEvent(action_type="step", params={{"i": i}}))
        session.end_session("Success")
        time.sleep(0.01)  # let the batch worker run (OTEL_BSP_SCHEDULE_DELAY is short) while calls go on
    agentops.start_session(tags=["open-at-exit"])  # ended, and flushed, at exit
    print(json.dumps({{
        "results": results,
        "median_latency": statistics.median(latencies[3:]),
        "done": time.time(),
    }}), flush=True)
"""


def run_scenario(env: dict[str, str], standin: StandInServer) -> tuple[dict[str, Any], float, str]:
    """Run the scenario; returns its report, how long it took to exit after its work, and stderr."""
    env = {
        **env,
        "STANDIN_URL": standin.openai_base_url,
        "OTEL_EXPORTER_OTLP_TIMEOUT": str(EXPORT_TIMEOUT_SECONDS),  # seconds, as the Python exporters read it
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        # The program uses openai only; importing anthropic alone adds ~1 s to interpreter teardown.
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_anthropic",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCENARIO.format(calls=CALLS))],
        env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    stdout, stderr = process.communicate(timeout=60)
    exited = time.time()
    assert process.returncode == 0, stderr
    *_, report_line, stats_line = stdout.strip().splitlines()
    report = {**json.loads(report_line), **json.loads(stats_line)}
    return report, exited - report["done"], stderr


@pytest.fixture(scope="module")
def healthy(standin: StandInServer) -> Callable[[str], tuple[dict[str, Any], list[Any], float]]:
    """The scenario's report, received session spans and exit time (after its work), against a
    healthy receiver (one run per protocol)."""
    runs: dict[str, tuple[dict[str, Any], list[Any], float]] = {}

    def get(protocol: str) -> tuple[dict[str, Any], list[Any], float]:
        if protocol not in runs:
            with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
                report, exit_seconds, stderr = run_scenario(receiver.env(), standin)
                assert stderr == ""
                runs[protocol] = (report, receiver.spans_named("session"), exit_seconds)
        return runs[protocol]

    return get


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_collector_does_not_disturb_the_application(
    fault: str, protocol: str, healthy: Any, standin: StandInServer
) -> None:
    healthy_report, healthy_sessions, healthy_exit_seconds = healthy(protocol)
    assert len(healthy_sessions) == CALLS + 1  # the healthy baseline really exported everything

    with FaultyReceiver(fault, protocol) as receiver:  # type: ignore[arg-type]
        report, exit_seconds, stderr = run_scenario(receiver.env(), standin)
        attempts = receiver.attempts

    # The calls return what they return with a healthy collector.
    assert [r[0] for r in report["results"]] == [r[0] for r in healthy_report["results"]]
    assert [r[1:] for r in report["results"]] == [r[1:] for r in healthy_report["results"]]
    # Spans are queued, never exported on the caller's thread: no added latency.
    slack = 2 * healthy_report["median_latency"] + 0.01
    assert report["median_latency"] <= slack, (report["median_latency"], healthy_report["median_latency"])
    # The export really failed, and was counted.
    stats = report["stats"]
    assert stats["exported_spans"] == 0 and stats["failed_exports"] >= 1 and stats["last_error"]
    if fault not in ("down", "unreachable"):
        assert attempts >= 1
    # Exit as soon as with a healthy collector (the same interpreter teardown): a collector that
    # failed is not tried again, nor retried until the export timeout as the exporters would. An
    # export in flight at exit is waited for, up to its timeout. With at most our one warning.
    print(f"{fault}/{protocol}: median call {report['median_latency'] * 1000:.1f} ms "
          f"(healthy {healthy_report['median_latency'] * 1000:.1f} ms), exit after {exit_seconds:.2f} s "
          f"(healthy {healthy_exit_seconds:.2f} s)")
    in_flight = EXPORT_TIMEOUT_SECONDS if fault in IN_FLIGHT_AT_EXIT else 0.0
    assert exit_seconds <= healthy_exit_seconds + in_flight + EXIT_SLACK_SECONDS
    lines = stderr.splitlines()
    assert len(lines) <= 1 and all(OUR_WARNING.match(line) for line in lines), stderr


RECOVERY = """
    import os, sys, time
    import openai
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    client = openai.OpenAI(base_url=os.environ["STANDIN_URL"], api_key="sk-fault-test", max_retries=0)

    def one_session(tag):
        with agentops.start_session(tags=[tag]):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    one_session("while-down")
    deadline = time.monotonic() + 20
    while agentops.export_stats().failed_spans < 3 and time.monotonic() < deadline:  # start record, call, root
        time.sleep(0.05)
    print("collector-down-seen", flush=True)
    sys.stdin.readline()  # the collector is back
    while agentops.export_stats().exported_spans == 0 and time.monotonic() < deadline:
        one_session("after")
        time.sleep(0.2)
    one_session("last")
    print("done", agentops.export_stats().exported_spans, flush=True)
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sessions_arrive_again_when_the_collector_comes_back(protocol: str, standin: StandInServer) -> None:
    port = free_port()
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        env = {
            **receiver.env(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",  # nothing listens there yet
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "STANDIN_URL": standin.openai_base_url,
        }
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RECOVERY)], env=clean_env(env),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().strip() == "collector-down-seen"
        with TcpForwarder(port, receiver.port):
            process.stdin.write("back\n")
            process.stdin.flush()
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
            last = receiver.wait_for(
                lambda s: s.name == "session" and s.attributes.get("agentops.session.tags") == ["last"]
            )
    assert stdout.startswith("done")
    assert int(stdout.split()[1]) > 0
    tags = [s.attributes.get("agentops.session.tags") for s in receiver.spans_named("session")]
    assert ["while-down"] not in tags  # that batch was lost while the collector was down ...
    assert ["after"] in tags  # ... later sessions arrive, complete
    chats = [s for s in receiver.spans() if s.name == "chat gpt-4o-mini" and s.parent_span_id == last.span_id]
    assert len(chats) == 1
    assert len(stderr.splitlines()) <= 1


AT_EXIT = """
    import sys
    from opentelemetry import trace
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    tracer = trace.get_tracer("app")
    if sys.argv[1] == "down-before":
        tracer.start_span("while-down").end()
        trace.get_tracer_provider().force_flush()
        print("collector-down-seen", agentops.export_stats().failed_spans, flush=True)
        sys.stdin.readline()  # the collector is back
    tracer.start_span("last").end()  # exported by the exit flush (OTEL_BSP_SCHEDULE_DELAY is long)
"""


def _run_at_exit(receiver: OTLPReceiver, *, down_before: bool = False) -> tuple[str, str, float]:
    """Run ``AT_EXIT`` against ``receiver``; ``down_before``: first against a port where nothing
    listens, which then forwards to ``receiver`` once the script saw the collector down."""
    env = {**receiver.env(), "OTEL_EXPORTER_OTLP_TIMEOUT": "1", "OTEL_BSP_SCHEDULE_DELAY": "60000"}
    port = free_port()
    if down_before:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"  # nothing listens there yet
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(AT_EXIT), "down-before" if down_before else "healthy"],
        env=clean_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    seen = process.stdout.readline().strip() if down_before else ""
    with contextlib.ExitStack() as stack:
        if down_before:
            stack.enter_context(TcpForwarder(port, receiver.port))
        started = time.monotonic()
        stdout, stderr = process.communicate("back\n", timeout=60)
        exited = time.monotonic() - started
    assert process.returncode == 0, stderr
    return seen + stdout, stderr, exited


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_exit_flush_tries_a_collector_that_failed_before_again(protocol: Protocol) -> None:
    # The collector was down during the run and is back at exit: the last spans arrive.
    with OTLPReceiver(protocol) as receiver:
        out, stderr, _ = _run_at_exit(receiver, down_before=True)
        receiver.wait_for(lambda s: s.name == "last")
    assert out.split() == ["collector-down-seen", "1"]  # the earlier span was lost, and counted
    assert [s.name for s in receiver.spans()] == ["last"]
    assert len(stderr.splitlines()) == 1 and OUR_WARNING.match(stderr), stderr  # said once, for the earlier one


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_exit_flush_tries_once_more_at_once_after_a_transient_failure(protocol: Protocol) -> None:
    # A collector restarting (or a keep-alive connection it had closed) fails the exit's export at
    # once; the exporters would retry after a backoff, which the exit cuts short.
    with OTLPReceiver(protocol, fail_first=1) as receiver:
        _, stderr, exited = _run_at_exit(receiver)
        receiver.wait_for(lambda s: s.name == "last")
        assert receiver.failed == 1
    assert [s.name for s in receiver.spans()] == ["last"]
    assert stderr == ""
    assert exited < 5  # interpreter start-up and teardown: no backoff, no export timeout waited


QUEUE = """
    import atexit, json, os
    import agentops_otel as agentops

    def rss_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    figures = {}
    # Registered before init(), so it runs last: after the provider's shutdown settled every span.
    atexit.register(lambda: print(json.dumps({**figures, "stats": agentops.export_stats().__dict__}), flush=True))
    agentops.init(auto_start_session=False)
    total = 0
    event = agentops.ActionEvent(action_type="step", params={"payload": "x" * 200})
    for i in range(1000):
        session = agentops.start_session()
        for _ in range(99):
            session.record(event)
        session.end_session("Success")
        total += 100
        if total in (20_000, 60_000, 100_000):
            figures[f"rss_{total // 1000}k"] = rss_mb()
    figures["total"] = total
"""


def test_the_export_queue_is_bounded_and_drops_are_reported() -> None:
    port = free_port()  # the collector is down for all 100,000 spans
    result = run_python(QUEUE, {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_anthropic,agentops_openai",
    }, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    stats = figures["stats"]
    print(f"100,000 spans with the collector down: RSS {figures['rss_20k']:.1f} MB at 20k spans, "
          f"{figures['rss_60k']:.1f} MB at 60k, {figures['rss_100k']:.1f} MB at 100k; "
          f"dropped {stats['dropped_spans']}, failed {stats['failed_spans']}")
    assert figures["total"] == 100_000
    # Memory stays flat: the queue holds at most OTEL_BSP_MAX_QUEUE_SIZE (2048) spans. Keeping the
    # 80,000 spans made after the first reading would take hundreds of MB (a few KB each); what
    # remains is allocator noise from encoding failed batches.
    assert figures["rss_100k"] - figures["rss_20k"] < 25
    # Every span is accounted for: dropped from the full queue, or in a batch that failed (and the
    # sessions' start records, made only while the queue was less than half full: 1,000 at most).
    assert stats["exported_spans"] == 0
    assert 100_000 < stats["dropped_spans"] + stats["failed_spans"] <= 101_000
    assert stats["dropped_spans"] > 100_000 // 2
    # The drops are reported in one line at exit, with the count the user can read.
    lines = result.stderr.splitlines()
    assert f"agentops-otel: {stats['dropped_spans']} spans were dropped" in lines[-1], result.stderr
    assert len(lines) <= 2 and all(OUR_WARNING.match(line) for line in lines[:-1]), result.stderr
