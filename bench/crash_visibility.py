"""What a session killed with SIGKILL leaves in an OTLP backend, and how soon a session is visible.

    .venv/bin/python bench/crash_visibility.py            # kills at 1, 10 and 60 s (~80 s)
    .venv/bin/python bench/crash_visibility.py 1 10       # only these

A real program (default ``OTEL_*`` settings: batch delay 5 s, OTLP over HTTP to a receiver on
loopback) starts a session and records one event every 100 ms until it is killed. For each kill
time it prints: how long after ``start_session()`` the session's start record arrived, whether
the root arrived (it cannot: it is exported when the session ends), and how many of the events
recorded before the kill arrived. Then the time to visibility over ``VISIBILITY_RUNS`` fresh
processes (median and worst). Figures go to bench/README.md.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env

VISIBILITY_RUNS = 20

PROGRAM = """
    import time
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    session = agentops.start_session(tags=["crash-bench"])
    print(session.session_id, time.time_ns(), flush=True)
    index = 0
    while True:
        session.record(agentops.ActionEvent(action_type=f"step-{index}"))
        index += 1
        print(index, flush=True)
        time.sleep(0.1)
"""


def _start(receiver: OTLPReceiver) -> tuple[subprocess.Popen[str], str, int]:
    env = clean_env({**receiver.env(), **NO_LLM_INSTRUMENTATION})
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PROGRAM)], env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    session_id, started_ns = process.stdout.readline().split()
    return process, session_id, int(started_ns)


def _record_seen_ns(receiver: OTLPReceiver, session_id: str, timeout: float = 30) -> int:
    receiver.wait_for(lambda s: s.is_start_record and s.attributes.get("agentops.session.id") == session_id,
                      timeout=timeout)
    return time.time_ns()


def kill_after(seconds: float) -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        process, session_id, started_ns = _start(receiver)
        seen_ns = _record_seen_ns(receiver, session_id)
        time.sleep(max(0.0, seconds - (time.time_ns() - started_ns) / 1e9))
        process.send_signal(signal.SIGKILL)
        remaining, _ = process.communicate(timeout=10)
        recorded = int(remaining.split()[-1]) if remaining.split() else 0
        time.sleep(0.5)  # anything already on the wire lands
        spans = [s for s in receiver.all_spans() if s.attributes.get("agentops.session.id") == session_id]
        events = [s for s in spans if s.name.startswith("action step-")]
        roots = [s for s in spans if s.name == "session"]
        print(f"SIGKILL at {seconds:>4.0f} s: start record after {(seen_ns - started_ns) / 1e6:6.1f} ms; "
              f"root {'received' if roots else 'missing'}; events received {len(events)} of {recorded} recorded")


def visibility() -> None:
    delays = []
    with OTLPReceiver("http/protobuf") as receiver:
        for _ in range(VISIBILITY_RUNS):
            process, session_id, started_ns = _start(receiver)
            delays.append((_record_seen_ns(receiver, session_id) - started_ns) / 1e6)
            process.kill()
            process.communicate(timeout=10)
    print(f"visible after start_session(): median {statistics.median(delays):.1f} ms, "
          f"worst {max(delays):.1f} ms over {VISIBILITY_RUNS} processes")


def main() -> None:
    for seconds in [float(arg) for arg in sys.argv[1:]] or [1.0, 10.0, 60.0]:
        kill_after(seconds)
    visibility()


if __name__ == "__main__":
    main()
