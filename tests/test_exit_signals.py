"""Signals: SIGTERM ends a process at once, with its sessions saved, whatever threads still run.

Each scenario runs a real program in a subprocess exporting over OTLP to a local receiver, with a
batch delay far longer than the program lives, so only the flush at the signal delivers spans.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest
from otlp_receiver import OTLPReceiver
from subprocesses import NO_LLM_INSTRUMENTATION, clean_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SESSION_END_STATE = "agentops.session.end_state"
SESSION_TAGS = "agentops.session.tags"


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as running:
        yield running


def _env(receiver: OTLPReceiver) -> dict[str, str]:
    return {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": "600000"}


def terminate(script: str, env: dict[str, str], *, limit: float = 20.0) -> tuple[int, float, str]:
    """Start ``script``, send SIGTERM once it prints READY; (return code, seconds to exit, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], env=clean_env(env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "READY"
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the process was still running {limit:.0f} s after SIGTERM")
        return process.returncode, time.monotonic() - sent, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


WORKER_THREAD = """
    import os, threading, time
    if os.environ.get("WITH_AGENTOPS"):
        import agentops_otel as agentops
        agentops.init(tags=["worker-thread"])
    threading.Thread(target=lambda: [time.sleep(.05) for _ in iter(int, 1)]).start()
    print("READY", flush=True)
    while True:
        time.sleep(1)
"""

THREAD_POOL = """
    import os, time
    from concurrent.futures import ThreadPoolExecutor
    if os.environ.get("WITH_AGENTOPS"):
        import agentops_otel as agentops
        agentops.init(tags=["thread-pool"])
    pool = ThreadPoolExecutor(max_workers=2)
    for _ in range(200):
        pool.submit(time.sleep, 0.5)   # 50 s of queued work
    print("READY", flush=True)
    pool.shutdown(wait=True)
"""


@pytest.mark.parametrize(("script", "tag"), [(WORKER_THREAD, "worker-thread"), (THREAD_POOL, "thread-pool")],
                         ids=["non-daemon-thread", "thread-pool"])
def test_sigterm_with_running_threads_ends_sessions_and_exits_as_without_agentops(
    receiver: OTLPReceiver, script: str, tag: str
) -> None:
    plain_code, plain_seconds, _ = terminate(script, _env(receiver))
    code, seconds, stderr = terminate(script, {**_env(receiver), "WITH_AGENTOPS": "1"})

    # The same end as the program without agentops-otel: killed by SIGTERM (143 in a shell).
    assert plain_code == -signal.SIGTERM
    assert code == plain_code, stderr
    assert stderr == ""
    # Promptly: the session is flushed to a healthy receiver, nothing waits for the threads.
    assert seconds < plain_seconds + 5.0, (seconds, plain_seconds)
    (root,) = receiver.spans_named("session")  # already received: flushed before the process ended
    assert root.attributes[SESSION_TAGS] == [tag]
    assert root.attributes[SESSION_END_STATE] == "Indeterminate"
