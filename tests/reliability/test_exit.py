"""At interpreter exit, open sessions end and the provider is flushed: nothing is lost.

Each scenario is a real script in a subprocess exporting over OTLP/HTTP to a local receiver, with a
batch delay far longer than the script lives, so only the exit flush can deliver the spans.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

from agentops_otel._internal.attribute_names import (
    SESSION_END_STATE,
    SESSION_END_STATE_REASON,
    SESSION_TAGS,
)
from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env, run_python


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as running:
        yield running


def exit_env(receiver: OTLPReceiver) -> dict[str, str]:
    return {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": "600000"}


def roots(receiver: OTLPReceiver, count: int) -> dict[str, ReceivedSpan]:
    """The ``count`` session roots received, by tag (each script tags its sessions distinctly)."""
    receiver.wait_for_spans(count, timeout=10)
    found = {str(span.attributes[SESSION_TAGS][0]): span for span in receiver.spans_named("session")}
    assert len(found) == count, found
    return found


def test_script_that_just_ends_exports_indeterminate(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        session = agentops.init(tags=["ended-by-exit"])
        agentops.record(agentops.ActionEvent(action_type="step"))
        print("SESSION", session.session_id)
        """,
        exit_env(receiver),
    )
    assert result.returncode == 0, result.stderr
    root = roots(receiver, 1)["ended-by-exit"]
    assert root.attributes[SESSION_ID] == result.stdout.split("SESSION ")[1].split()[0]
    assert root.attributes[SESSION_END_STATE] == "Indeterminate"
    assert SESSION_END_STATE_REASON not in root.attributes
    assert root.status_code == "UNSET"
    [action] = receiver.spans_named("action step")
    assert action.parent_span_id == root.span_id


def test_every_open_session_ends_and_ended_ones_are_not_sent_twice(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        agentops.init(auto_start_session=False)
        agentops.start_session(tags=["open-1"])
        agentops.start_session(tags=["open-2"])
        agentops.start_session(tags=["done"]).end_session("Success")
        """,
        exit_env(receiver),
    )
    assert result.returncode == 0, result.stderr
    found = roots(receiver, 3)
    assert found["open-1"].attributes[SESSION_END_STATE] == "Indeterminate"
    assert found["open-2"].attributes[SESSION_END_STATE] == "Indeterminate"
    assert found["done"].attributes[SESSION_END_STATE] == "Success"
    assert len(receiver.spans_named("session")) == 3


def test_script_dying_of_an_uncaught_exception_exports_fail(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        agentops.init(tags=["crashed"])
        raise LookupError("no such tool")
        """,
        exit_env(receiver),
    )
    assert result.returncode == 1
    # The default excepthook still prints the traceback: we chain to it, not replace it.
    assert "LookupError: no such tool" in result.stderr
    root = roots(receiver, 1)["crashed"]
    assert root.attributes[SESSION_END_STATE] == "Fail"
    assert root.attributes[SESSION_END_STATE_REASON] == "LookupError"
    assert root.status_code == "ERROR" and root.status_message == "LookupError"


def test_applications_own_excepthook_still_runs(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import sys
        def my_hook(exc_type, exc, tb):
            print("MY HOOK", exc_type.__name__, flush=True)
        sys.excepthook = my_hook
        import agentops_otel as agentops
        agentops.init(tags=["own-hook"])
        raise ValueError("x")
        """,
        exit_env(receiver),
    )
    assert result.returncode == 1
    assert "MY HOOK ValueError" in result.stdout
    assert roots(receiver, 1)["own-hook"].attributes[SESSION_END_STATE_REASON] == "ValueError"


def test_sys_exit_is_not_a_failure(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import sys
        import agentops_otel as agentops
        agentops.init(tags=["sys-exit"])
        sys.exit(3)
        """,
        exit_env(receiver),
    )
    assert result.returncode == 3
    root = roots(receiver, 1)["sys-exit"]
    assert root.attributes[SESSION_END_STATE] == "Indeterminate"
    assert root.status_code == "UNSET"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_ends_open_sessions(receiver: OTLPReceiver) -> None:
    script = textwrap.dedent(
        """
        import time
        import agentops_otel as agentops
        agentops.init(tags=["terminated"])
        print("READY", flush=True)
        time.sleep(30)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        env=clean_env(exit_env(receiver)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "READY"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGTERM  # as without agentops-otel (143 in a shell)
    root = roots(receiver, 1)["terminated"]
    assert root.attributes[SESSION_END_STATE] == "Indeterminate"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_end_the_parents_sessions(receiver: OTLPReceiver) -> None:
    result = run_python(
        """
        import os, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads, Python 3.12+
        import agentops_otel as agentops
        session = agentops.init(tags=["parent"])
        pid = os.fork()
        if pid == 0:
            agentops.start_session(tags=["child"])  # the child's own session, left to the child's exit
            sys.exit(0)  # a normal exit: the child runs the atexit handlers too
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        session.end_session("Success")
        """,
        exit_env(receiver),
    )
    assert result.returncode == 0, result.stderr
    found = roots(receiver, 2)
    assert found["parent"].attributes[SESSION_END_STATE] == "Success"
    assert found["child"].attributes[SESSION_END_STATE] == "Indeterminate"
    assert len(receiver.spans_named("session")) == 2  # the parent's root was not also ended by the child
