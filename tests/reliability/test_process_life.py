"""Process life: ``fork()`` after ``init()`` and SIGTERM, with spans exported to a real OTLP receiver."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from agentops_otel_standin import StandInServer

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.subprocesses import clean_env, run_python

PROTOCOLS = ("http/protobuf", "grpc")
TAGS = "agentops.session.tags"


@pytest.fixture(params=PROTOCOLS)
def receiver(request: pytest.FixtureRequest) -> Iterator[OTLPReceiver]:
    with OTLPReceiver(request.param) as receiver:
        yield receiver


def _env(receiver: OTLPReceiver, standin: StandInServer) -> dict[str, str]:
    return {
        **receiver.env(),
        "STANDIN_URL": standin.openai_base_url,
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_anthropic",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "5",
    }


def _sessions(receiver: OTLPReceiver, tag: str) -> list[ReceivedSpan]:
    return [s for s in receiver.spans_named("session") if s.attributes.get(TAGS) == [tag]]


def _children(receiver: OTLPReceiver, parent: ReceivedSpan) -> list[str]:
    return sorted(s.name for s in receiver.spans() if s.parent_span_id == parent.span_id)


FORK = """
    import multiprocessing, os, sys
    import openai
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    client = openai.OpenAI(base_url=os.environ["STANDIN_URL"], api_key="sk-fork", max_retries=0)
    parent = agentops.start_session(tags=["parent"])
    parent.record(agentops.ActionEvent(action_type="before-fork"))

    def child_work(tag):
        assert agentops.get_active_sessions() == [], "the child inherited the parent's sessions"
        with agentops.start_session(tags=[tag]):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            agentops.record(agentops.ActionEvent(action_type="in-" + tag))

    pid = os.fork()
    if pid == 0:  # gunicorn style: the worker returns through the interpreter's normal exit
        child_work("forked")
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0, status
    # multiprocessing style: the child ends with os._exit(), atexit handlers do not run
    process = multiprocessing.get_context("fork").Process(target=child_work, args=("mp-child",))
    process.start()
    process.join()
    assert process.exitcode == 0, process.exitcode
    parent.record(agentops.ActionEvent(action_type="after-fork"))
    parent.end_session("Success")
"""


def test_fork_after_init_exports_the_childs_sessions_and_leaves_the_parents_alone(
    receiver: OTLPReceiver, standin: StandInServer
) -> None:
    result = run_python(FORK, _env(receiver, standin), timeout=60)
    assert result.returncode == 0, result.stderr

    receiver.wait_for(lambda s: s.attributes.get(TAGS) == ["parent"])
    for tag in ("forked", "mp-child"):
        receiver.wait_for(lambda s, tag=tag: s.attributes.get(TAGS) == [tag])  # type: ignore[misc]
        (child,) = _sessions(receiver, tag)
        assert child.attributes["agentops.session.end_state"] == "Success"
        assert _children(receiver, child) == ["action in-" + tag, "chat gpt-4o-mini"]
    # The parent's session: exported once, by the parent, with everything recorded around the fork.
    (parent,) = _sessions(receiver, "parent")
    assert parent.attributes["agentops.session.end_state"] == "Success"
    assert _children(receiver, parent) == ["action after-fork", "action before-fork"]
    assert len({span.span_id for span in receiver.spans()}) == len(receiver.spans())  # nothing sent twice
    assert result.stderr == ""


SIGTERM = """
    import time
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    first = agentops.start_session(tags=["first"])
    second = agentops.start_session(tags=["second"])
    first.record(agentops.ActionEvent(action_type="working"))
    print("ready", flush=True)
    time.sleep(60)
"""


def test_sigterm_ends_open_sessions_indeterminate_and_flushes(receiver: OTLPReceiver, standin: StandInServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SIGTERM)], env=clean_env(_env(receiver, standin)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)

    assert process.returncode == -signal.SIGTERM  # as without agentops-otel (143 in a shell)
    assert stderr == ""
    for tag in ("first", "second"):
        (session,) = _sessions(receiver, tag)  # already received: flushed before the process ended
        assert session.attributes["agentops.session.end_state"] == "Indeterminate"
        assert session.status_code == "UNSET"
    (first,) = _sessions(receiver, "first")
    assert _children(receiver, first) == ["action working"]
