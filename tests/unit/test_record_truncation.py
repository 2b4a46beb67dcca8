"""``record()`` truncates while it serialises: a 100 MB value costs what its first 8,192 characters cost."""

from __future__ import annotations

import time
import tracemalloc

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel as agentops
from agentops_otel._internal.serialization import MAX_JSON_CHARS


def _record_seconds_and_peak(session: agentops.Session, params: object) -> tuple[float, int]:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        session.record(agentops.ActionEvent(action_type="big", params=params))
        seconds = time.perf_counter() - started
        return seconds, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_recording_a_100_mb_value_takes_the_time_and_memory_of_a_small_one(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # an action's params are content
    session = agentops.start_session()
    huge = {"blob": "é" * 100_000_000, "rows": list(range(1_000_000))}
    small = {"blob": "é" * MAX_JSON_CHARS}
    small_seconds, small_peak = min(_record_seconds_and_peak(session, small) for _ in range(3))
    huge_seconds, huge_peak = min(_record_seconds_and_peak(session, huge) for _ in range(3))
    session.end_session("Success")
    # Before: 0.5 s and +286 MiB (the whole value serialised, then cut).
    assert huge_peak < 4 * small_peak + 1_000_000, (huge_peak, small_peak)
    assert huge_seconds < 10 * small_seconds + 0.01, (huge_seconds, small_seconds)
    params = [span.attributes["agentops.event.params"] for span in exporter.get_finished_spans()  # type: ignore[index]
              if span.name == "action big"]
    assert params[-1] == '{"blob": "' + "é" * (MAX_JSON_CHARS - 10) + "...[truncated]"
