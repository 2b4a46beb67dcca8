"""A running session is visible before it ends, and a killed one can still be found.

At start a session exports a start record (``session (pending)``, a child of the root's reserved
span id) at once, not at the batch processor's next cycle; a process killed with SIGKILL leaves
that record (session id, tags, start time) and the children exported before the kill; a session
that ends normally shows exactly one root. Real programs in subprocesses, real OTLP export to a
receiver on loopback.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SESSION_ID = "session.id"
SESSION_TAGS = "agentops.session.tags"

PROGRAM = """
    import sys, time
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    session = agentops.start_session(tags=["crash-test", "eu-west"])
    print(session.session_id, time.time_ns(), flush=True)
    session.record(agentops.ActionEvent(action_type="before-the-kill"))
    if sys.argv[1] == "end":
        session.end_session("Success")
    else:
        time.sleep(600)  # killed here
"""


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as running:
        yield running


def _start(receiver: OTLPReceiver, how: str, schedule_delay_ms: int) -> tuple[subprocess.Popen[str], str, int]:
    env = {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": str(schedule_delay_ms)}
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PROGRAM), how], env=clean_env(env),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    session_id, started_ns = process.stdout.readline().split()
    return process, session_id, int(started_ns)


def _record_of(receiver: OTLPReceiver, session_id: str, timeout: float) -> ReceivedSpan:
    return receiver.wait_for(lambda span: span.is_start_record and span.attributes.get(SESSION_ID) == session_id,
                             timeout=timeout)


def test_a_session_is_visible_long_before_the_batch_delay(receiver: OTLPReceiver) -> None:
    # A batch delay of 10 minutes: only the prompt export of the start record can deliver it.
    process, session_id, started_ns = _start(receiver, "sleep", schedule_delay_ms=600_000)
    try:
        record = _record_of(receiver, session_id, timeout=10)
        seen = time.time_ns()
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert (seen - started_ns) / 1e9 < 5.0  # in practice a few ms; generous for a loaded machine
    assert record.name == "session (pending)" and record.attributes["agentops.span_type"] == "pending"
    assert record.attributes[SESSION_TAGS] == ["crash-test", "eu-west"]
    assert record.start_time_unix_nano == record.end_time_unix_nano <= started_ns
    # The prompt export sends what is queued when it runs: the action recorded right after
    # start_session may be in it, or not yet. The root is not (the session has not ended).
    assert {span.name for span in receiver.spans()} <= {"action before-the-kill"}


def test_sigkill_leaves_the_start_record_and_the_children_exported_before(receiver: OTLPReceiver) -> None:
    process, session_id, _ = _start(receiver, "sleep", schedule_delay_ms=200)
    try:
        record = _record_of(receiver, session_id, timeout=10)
        child = receiver.wait_for(lambda span: span.name == "action before-the-kill", timeout=10)
        time.sleep(1.0)  # 1-2 s after start_session
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    # No root: the record stands in for it. It names the root's span id as its parent, as the child does.
    assert receiver.spans_named("session") == []
    assert record.attributes[SESSION_ID] == child.attributes[SESSION_ID] == session_id
    assert record.attributes[SESSION_TAGS] == ["crash-test", "eu-west"]
    assert record.trace_id == child.trace_id
    assert record.parent_span_id is not None and record.parent_span_id == child.parent_span_id


def test_a_session_that_ends_shows_exactly_one_root(receiver: OTLPReceiver) -> None:
    process, session_id, _ = _start(receiver, "end", schedule_delay_ms=5000)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    record = _record_of(receiver, session_id, timeout=10)
    spans = receiver.all_spans()
    roots = [span for span in spans if span.parent_span_id is None]
    assert [(root.name, root.attributes[SESSION_ID]) for root in roots] == [("session", session_id)]
    (root,) = roots
    assert record.parent_span_id == root.span_id and record.trace_id == root.trace_id
    assert record.start_time_unix_nano == root.start_time_unix_nano
    assert sorted(span.name for span in spans) == ["action before-the-kill", "session", "session (pending)"]
