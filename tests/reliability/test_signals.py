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

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env

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


STUCK_PROCESSOR = """
    import threading, time
    from opentelemetry import trace
    from opentelemetry.sdk.trace import SpanProcessor
    import agentops_otel as agentops

    agentops.init(tags=["stuck-processor"])

    class NeverFlushes(SpanProcessor):  # an application's processor whose exporter hangs
        def force_flush(self, timeout_millis: int = 30000) -> bool:
            threading.Event().wait()
            return True

    trace.get_tracer_provider().add_span_processor(NeverFlushes())
    print("READY", flush=True)
    while True:
        time.sleep(1)
"""


def test_sigterm_ends_the_process_even_when_a_span_processor_never_finishes_flushing(
    receiver: OTLPReceiver,
) -> None:
    timeout = 2.0
    code, seconds, stderr = terminate(STUCK_PROCESSOR, {**_env(receiver), "OTEL_EXPORTER_OTLP_TIMEOUT": str(timeout)})

    assert code == 128 + signal.SIGTERM, stderr  # the exit status a shell shows for SIGTERM
    # Bounded by the export timeout and the two seconds' grace, not by the processor.
    assert timeout + 1.5 < seconds < timeout + 6.0, seconds
    # Our own processor flushed before the application's got stuck: the session was saved.
    (root,) = receiver.spans_named("session")
    assert root.attributes[SESSION_TAGS] == ["stuck-processor"]
    assert root.attributes[SESSION_END_STATE] == "Indeterminate"


HANDLER_UNDER_LOAD = """
    import signal, threading, time, warnings
    import agentops_otel as agentops

    warnings.simplefilter("ignore", RuntimeWarning)  # ending a session the handler just ended
    agentops.init(auto_start_session=False)
    state = {"session": agentops.start_session(tags=["first"]), "handled": 0, "busy": False}

    def on_usr1(signum, frame):  # graceful restart: end the session, start the next
        # Python runs a handler again inside itself when the next signal comes before it returns
        # (a loaded machine): that one is dropped, or two handlers would each start a session.
        if state["busy"]:
            return
        state["busy"] = True
        state["session"].end_session("Success")
        state["session"] = agentops.start_session(tags=[f"after-{state['handled']}"])
        state["handled"] += 1
        state["busy"] = False

    signal.signal(signal.SIGUSR1, on_usr1)
    done = threading.Event()

    def sender():
        for _ in range(SIGNALS):
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
            time.sleep(0.002)
        done.set()

    threading.Thread(target=sender, daemon=True).start()
    step = 0
    while not done.is_set():  # the main thread is inside the library nearly all the time
        session = state["session"]
        try:
            session.add_tags([f"tag-{step % 20}"])
            session.record(agentops.ActionEvent(action_type="step"))
        except agentops.SessionEndedException:
            pass
        other = agentops.start_session(tags=["load"])
        other.add_tags("more")
        other.end_session("Success")
        step += 1
    time.sleep(0.1)
    print("handled", state["handled"], "active", len(agentops.get_active_sessions()), flush=True)
"""


@pytest.mark.parametrize("export", ["none", "full-queue"])
def test_a_signal_handler_ending_sessions_while_the_main_thread_is_in_the_library_never_deadlocks(
    receiver: OTLPReceiver, export: str
) -> None:
    signals = 300
    script = textwrap.dedent(HANDLER_UNDER_LOAD).replace("SIGNALS", str(signals))
    env = {**NO_LLM_INSTRUMENTATION, "OTEL_TRACES_EXPORTER": "none"}
    if export == "full-queue":  # spans dropped and counted on the main thread, maybe in the handler
        env = {**_env(receiver), "OTEL_BSP_MAX_QUEUE_SIZE": "64", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"}
    try:
        result = subprocess.run([sys.executable, "-c", script], env=clean_env(env),
                                capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: the program was still running after 60 s")
    assert result.returncode == 0, result.stderr
    assert all(line.startswith("agentops-otel: ") for line in result.stderr.splitlines()), result.stderr
    handled, active = result.stdout.split()[1::2]
    assert 0 < int(handled) <= signals
    assert active == "1"  # the handler's last session; every other one ended
