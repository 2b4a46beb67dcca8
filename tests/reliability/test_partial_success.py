"""A collector answering OTLP ``partial_success``: the rejected spans are counted and warned about."""

from __future__ import annotations

import json

import pytest

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, run_python

PROGRAM = """
    import json
    import agentops_otel as agentops
    from opentelemetry import trace
    import time
    session = agentops.init(tags=["partial"])
    while agentops.export_stats().rejected_spans == 0:  # the session's start record, exported alone
        time.sleep(0.01)
    for step in range(4):
        session.record(agentops.ActionEvent(action_type=f"step-{step}"))
    session.end_session("Success")
    trace.get_tracer_provider().force_flush()  # one export: the 4 actions and the root
    print(json.dumps(agentops.export_stats().__dict__), flush=True)
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_the_collector_rejects_are_counted_not_exported_and_warned_once(protocol: str) -> None:
    with OTLPReceiver(protocol, reject_one_with="span too large") as receiver:  # type: ignore[arg-type]
        result = run_python(PROGRAM, {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": "600000"})
        assert result.returncode == 0, result.stderr
        stats = json.loads(result.stdout)
        kept = len(receiver.spans())
    assert kept == 4
    # Two exports, each with one span rejected: the start record (alone), then 1 of the 5.
    assert stats["rejected_spans"] == 2 and stats["exported_spans"] == 4 and stats["failed_spans"] == 0, stats
    assert stats["last_error"] == "the collector rejected 1 of 5 spans: span too large"
    (line,) = result.stderr.splitlines()  # one warning, for the first
    assert line.startswith(
        "agentops-otel: the collector accepted the export but rejected 1 of 1 spans (span too large)")
