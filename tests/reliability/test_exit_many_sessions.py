"""Thousands of sessions still open at exit all reach a healthy collector: none dropped.

Ending 10,000 sessions in one loop overruns the 2,048-span export queue; at exit the sessions
wait for room (the queue is exported batch by batch) instead of being dropped.
"""

from __future__ import annotations

import json

import pytest

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, run_python

SESSIONS = 10_000

PROGRAM = f"""
    import atexit, json
    import agentops_otel as agentops

    # Registered first, so it runs last: after the sessions ended and the provider shut down.
    atexit.register(lambda: print(json.dumps(agentops.export_stats().__dict__), flush=True))
    agentops.init(auto_start_session=False)
    for index in range({SESSIONS}):
        agentops.start_session(tags=[f"open-{{index}}"])
    print("started", len(agentops.get_active_sessions()), flush=True)
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_ten_thousand_open_sessions_at_exit_all_arrive(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        result = run_python(PROGRAM, {**receiver.env(), **NO_LLM_INSTRUMENTATION}, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        started_line, stats_line = result.stdout.strip().splitlines()
        assert started_line == f"started {SESSIONS}"
        stats = json.loads(stats_line)
        assert stats["dropped_spans"] == 0 and stats["failed_spans"] == 0, stats
        roots = receiver.wait_for_spans(SESSIONS, timeout=10)
        # The roots, and the start records made while the queue had room (``pending_span``).
        assert stats["exported_spans"] == SESSIONS + len(receiver.start_records()), stats
        assert len(roots) == SESSIONS
        assert {span.attributes["agentops.session.tags"][0] for span in roots} == {
            f"open-{index}" for index in range(SESSIONS)
        }
        assert {span.attributes["agentops.session.end_state"] for span in roots} == {"Indeterminate"}
