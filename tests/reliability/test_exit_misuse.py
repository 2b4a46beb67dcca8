"""What a user gets wrong around sessions and exit: a clear outcome, never a traceback or a surprise.

A second ``init()``, ``with``/``patch`` on an ended session, a bad tag in ``AGENTOPS_TAGS``, and
Ctrl-C while the last spans are exported at exit; each in a real subprocess.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.fault_receivers import FaultyReceiver
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env, run_python

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"


def test_a_second_init_returns_the_session_of_the_first_with_a_warning() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        first = agentops.init(tags=["first"])
        second = agentops.init(tags=["more"])
        print(second is first, second.tags)
        agentops.end_session("Success")  # single-session mode still: one session
        third = agentops.init()  # the first one ended: a new one
        print(third is first, len(agentops.get_active_sessions()))
        """,
        {**NO_LLM_INSTRUMENTATION, "OTEL_TRACES_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True ['first', 'more']", "False 1"]
    (warning,) = [line for line in result.stderr.splitlines() if "Warning" in line]
    assert "init() was called again" in warning and "start_session()" in warning


def test_with_or_patch_on_an_ended_session_raises_and_a_late_patched_call_warns_once() -> None:
    result = run_python(
        """
        import agentops_otel as agentops
        session = agentops.init()
        bound = session.patch(lambda: "ran")
        session.end_session("Success")
        for attempt in (lambda: session.__enter__(), lambda: session.patch(print)):
            try:
                attempt()
            except agentops.SessionEndedException as error:
                print("raised:", str(error).split(":")[0])
        print(bound(), bound())
        """,
        {**NO_LLM_INSTRUMENTATION, "OTEL_TRACES_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "raised: Cannot enter it (with session",
        "raised: Cannot patch a function",
        "ran ran",
    ]
    assert result.stderr.count("RuntimeWarning") == 1 and "called after the session ended" in result.stderr


def test_a_bad_tag_in_agentops_tags_is_dropped_with_one_warning() -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        env = clean_env({**receiver.env(), **NO_LLM_INSTRUMENTATION, "AGENTOPS_AUTO_START_SESSION": "true",
                         "AGENTOPS_TAGS": "nightly," + "x" * 300 + ",eu"})
        result = subprocess.run(
            [str(OPENTELEMETRY_INSTRUMENT), sys.executable, "-c", "print('app ran')"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "app ran\n"
        (line,) = result.stderr.splitlines()
        assert line.startswith("agentops-otel: AGENTOPS_TAGS: dropped tag 2 (") and "256" in line
        root = receiver.wait_for(lambda span: span.name == "session")
        assert root.attributes["agentops.session.tags"] == ["nightly", "eu"]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_the_exit_flush_prints_one_line_not_a_traceback() -> None:
    script = textwrap.dedent(
        """
        import atexit
        import agentops_otel as agentops
        agentops.init(tags=["interrupted"])
        # Registered after init(), so it runs first: the flush starts right after it.
        atexit.register(lambda: print("EXITING", flush=True))
        """
    )
    with FaultyReceiver("slow", "grpc") as receiver:  # accepts the export, answers after 5 s
        env = {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_EXPORTER_OTLP_TIMEOUT": "4"}
        # Started with SIGINT's default action, as from a terminal: a test run launched in the
        # background (`make test &`, a CI job under nohup) has SIGINT ignored, which a child
        # inherits, and Python then leaves Ctrl-C ignored instead of raising KeyboardInterrupt.
        process = subprocess.Popen([sys.executable, "-c", script], env=clean_env(env),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=_default_sigint)
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "EXITING"
            time.sleep(0.5)  # inside the export
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    lines = stderr.splitlines()
    interrupted = "agentops-otel: interrupted while exporting the last spans at exit; they were not all sent"
    assert lines.count(interrupted) == 1, stderr
    # Besides it, at most the one rate-limited export warning: the session's start record, exported
    # at start, may time out on the stalled collector too.
    others = [line for line in lines if line != interrupted]
    assert len(others) <= 1 and all(line.startswith("agentops-otel: could not export 1 spans") for line in others)
