"""With no collector running, a program exits about as fast as with no exporter at all.

Nothing listening on the endpoint (connection refused) is a definite answer: the OTLP exporters'
retries with backoff must not hold the exit up. Each run is timed against the same program with
``OTEL_TRACES_EXPORTER=none``, in the same test, so the machine's speed cancels out.
"""

from __future__ import annotations

import time

import pytest

from agentops_otel._internal.export_guard import WARNING_INTERVAL_SECONDS
from tests.support.otlp_receiver import free_port, otlp_env
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, run_python

# The export thread runs every 0.1 s, so when the program ends an export of its spans is already
# retrying against the refused connection (the OTLP exporters back off 1, 2, 4 s ... up to their
# 10 s timeout); then the exit flushes the spans still queued.
PROGRAM = """
    import time
    import agentops_otel as agentops
    session = agentops.init(tags=["no-collector"])
    for step in range(30):
        session.record(agentops.ActionEvent(action_type=f"step-{step}"))
        time.sleep(0.03)
    print("stats", agentops.export_stats().exported_spans)
"""


def timed(env: dict[str, str]) -> tuple[float, str]:
    started = time.monotonic()
    result = run_python(PROGRAM, {**NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": "100", **env}, timeout=60)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    return seconds, result.stderr


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_exit_with_nothing_listening_adds_almost_nothing(protocol: str) -> None:
    none_seconds, none_stderr = timed({"OTEL_TRACES_EXPORTER": "none"})
    refused_seconds, stderr = timed(otlp_env(protocol, f"http://127.0.0.1:{free_port()}"))
    none_again, _ = timed({"OTEL_TRACES_EXPORTER": "none"})
    baseline = max(none_seconds, none_again)
    print(f"{protocol}: exit with nothing listening {refused_seconds:.2f} s, with no exporter {baseline:.2f} s")
    # Before: the exporters' retries held the exit up to their 10 s timeout (> 3x the baseline).
    assert refused_seconds < 1.5 * baseline, (refused_seconds, baseline)
    assert none_stderr == ""
    # One line saying why, never the exporters' retry logs.
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "nothing listens on 127.0.0.1" in lines[0] or "Connection refused" in lines[0], stderr
    assert f"{int(WARNING_INTERVAL_SECONDS // 60)} minutes" in lines[0]
