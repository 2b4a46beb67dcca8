"""The benchmark script keeps working: ``bench/run.py`` in quick mode on a tiny count.

It runs with the test interpreter (the main .venv), not the bench environment, so it cannot rot
unnoticed: the peer instrumentations are not installed here and must be reported as skipped,
while baseline, floor and agentops_otel really run, each in its own process, through the real
openai client, with every span accounted for. Timings are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from typing import Any

import pytest

from tests.support.paths import ROOT

RUN = ROOT / "bench" / "run.py"

CALLS, STREAM_CALLS, WARMUP, SESSIONS, SPANS, OPEN = 3, 2, 1, 4, 5, 25
PEERS = {
    "openllmetry": "opentelemetry.instrumentation.openai",
    "otel_v2": "opentelemetry.instrumentation.openai_v2",
    "openinference": "openinference.instrumentation.openai",
}


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--count", str(CALLS), "--stream-count", str(STREAM_CALLS),
         "--warmup", str(WARMUP), "--repeats", "1", "--session-count", str(SESSIONS), "--span-count", str(SPANS),
         "--open-sessions", str(OPEN), "--jobs", "4", "--out", str(out)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert proc.returncode == 0, f"bench/run.py failed:\n{proc.stdout}\n{proc.stderr}"
    assert "| variant |" in proc.stdout  # the table was printed
    result: dict[str, Any] = json.loads((out / "results.json").read_text())
    return result


def test_baseline_floor_and_ours_ran_with_one_span_per_call(report: dict[str, Any]) -> None:
    jobs = report["jobs"]
    calls = 2 * WARMUP + CALLS + STREAM_CALLS
    assert jobs["calls:baseline"]["spans"] == {}
    assert jobs["calls:floor"]["spans"] == {"chat gpt-4o-mini": calls}
    ours = {"chat gpt-4o-mini": calls, "session": 1, "session (pending)": 1}  # the session's start record too
    assert jobs["calls:agentops_otel"]["spans"] == ours
    assert jobs["calls:agentops_otel_content"]["spans"] == ours
    for name in ("baseline", "floor", "agentops_otel"):
        job = jobs[f"calls:{name}"]
        assert job["calls"] == calls
        assert job["stream_chunks"] == 21  # role, 18 words, finish reason and usage chunks reached the caller
        assert set(report["calls"][name]) >= {"chat_us", "stream_us", "chat_overhead_us", "stream_overhead_us"}


def test_sessions_and_user_span_jobs_accounted_for_every_span(report: dict[str, Any]) -> None:
    jobs = report["jobs"]
    sessions = jobs["sessions"]
    warmup_and_single = 200 + 2
    assert sessions["sessions_started"] == warmup_and_single + SESSIONS + OPEN
    spans = dict(sessions["spans"])
    assert spans.pop("session") == sessions["sessions_started"]
    # A start record per session, unless made while the export queue was half full.
    assert 0 < spans.pop("session (pending)") <= sessions["sessions_started"] and spans == {}
    assert sessions["open_sessions"] == OPEN
    assert jobs["span:sdk"]["spans"] == {"user work": 1000 + SPANS, "session": 1}
    assert jobs["span:agentops_otel"]["spans"] == {"user work": 1000 + SPANS, "session": 1, "session (pending)": 1}


def test_peers_ran_or_were_reported_skipped(report: dict[str, Any]) -> None:
    assert report["failed"] == {}
    for peer, module in PEERS.items():
        for variant in (peer, f"{peer}_nocontent"):
            job = report["jobs"][f"calls:{variant}"]
            if _installed(module):
                assert sum(job["spans"].values()) == job["calls"]
            else:
                assert job["skipped"].startswith("not installed")
                assert f"calls:{variant}" in report["skipped"]


def test_worker_without_export_leaves_every_span_queued() -> None:
    # What bench/instructions.py runs under valgrind: the calls, and no export work counted with them.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "worker.py"), "calls:agentops_otel", "--count", "2",
         "--stream-count", "1", "--repeats", "1", "--warmup", "1", "--no-export"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout.strip().splitlines()[-1])
    assert job["calls"] == 2 + 1 + 2 * 1
    # Nothing reached the exporter but, maybe, the session's start record, exported as it started.
    assert job["spans"] in ({}, {"session (pending)": 1})
