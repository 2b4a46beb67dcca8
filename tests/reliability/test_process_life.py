"""Process life: ``fork()`` after ``init()`` and SIGTERM, with spans exported to a real OTLP receiver."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentops_otel_standin import StandInServer

from tests.support.otlp_receiver import OTLPReceiver, Protocol, ReceivedSpan
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env, run_python

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


# Python 3.12+ warns at a fork() of a process with more than one thread; after init() there is always
# the SDK's export thread (README, "Forked and multiprocessing children").
WARNS_AT_FORK = sys.version_info >= (3, 12)
FORK_WARNING = re.compile(
    r"(?P<where>\S+):\d+: DeprecationWarning: This process \(pid=\d+\) is multi-threaded, "
    r"use of fork\(\) may lead to deadlocks in the child\.\n(?:  .*\n)?"
)


def _fork_warnings(stderr: str) -> tuple[list[str], str]:
    """Where each fork warning in ``stderr`` was raised, and what else ``stderr`` holds."""
    return [found["where"] for found in FORK_WARNING.finditer(stderr)], FORK_WARNING.sub("", stderr)


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
    # Python's own warning, shown (default filters) for the os.fork() in __main__ only: the one inside
    # multiprocessing is attributed to multiprocessing.popen_fork, whose DeprecationWarnings are hidden.
    warned_at, rest = _fork_warnings(result.stderr)
    assert warned_at == (["<string>"] if WARNS_AT_FORK else [])
    assert rest == ""


FORK_WARNING_FILTER = r"""
    import os, sys, warnings
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    with agentops.start_session(tags=["parent"]):
        pass

    def fork_and_wait():
        pid = os.fork()
        if pid == 0:
            with agentops.start_session(tags=["child"]):
                pass
            sys.exit(0)
        assert os.waitpid(pid, 0)[1] == 0

    fork_and_wait()  # agentops-otel leaves the application's warning filters as they are
    warnings.filterwarnings(  # the README's filter
        "ignore", message=r"This process \(pid=\d+\) is multi-threaded, use of fork\(\)", category=DeprecationWarning
    )
    fork_and_wait()
    warnings.warn("the application's own", DeprecationWarning)  # still shown
"""


def test_the_fork_warning_is_pythons_and_the_readme_filter_hides_only_it() -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        result = run_python(FORK_WARNING_FILTER, {**receiver.env(), **NO_LLM_INSTRUMENTATION}, timeout=60)
        assert result.returncode == 0, result.stderr
        receiver.wait_for_spans(3)  # the parent's session and both children's
        assert sorted(s.attributes[TAGS][0] for s in receiver.spans_named("session")) == ["child", "child", "parent"]
    warned_at, rest = _fork_warnings(result.stderr)
    assert warned_at == (["<string>"] if WARNS_AT_FORK else [])  # the first fork only
    # (Python 3.13+ also prints the source line of code given with -c.)
    assert re.fullmatch(r"<string>:\d+: DeprecationWarning: the application's own\n(  .*\n)?", rest), rest


FORK_WHILE_EXPORTING = """
    import os, sys, threading
    from opentelemetry import trace
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    stop = threading.Event()

    def export_all_the_time():
        while not stop.is_set():
            with agentops.start_session(tags=["busy"]):
                pass
            trace.get_tracer_provider().force_flush()

    busy = threading.Thread(target=export_all_the_time)
    busy.start()
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            with agentops.start_session(tags=["child"]):
                pass
            sys.exit(0)
        assert os.waitpid(pid, 0)[1] == 0
    stop.set()
    busy.join()
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_fork_while_an_export_is_in_flight_leaves_the_child_working(protocol: Protocol) -> None:
    # Forks while another thread exports without pause: a child forked with a gRPC request out hung
    # on the inherited channel or was aborted by gRPC.
    with OTLPReceiver(protocol) as receiver:
        result = run_python(FORK_WHILE_EXPORTING, {**receiver.env(), **NO_LLM_INSTRUMENTATION}, timeout=60)
        assert result.returncode == 0, result.stderr
        receiver.wait_for(lambda s: s.attributes.get(TAGS) == ["child"])
        assert len(_sessions(receiver, "child")) == 20, result.stderr
    assert _fork_warnings(result.stderr)[1] == ""


FORK_WHILE_IMPORTING = """
    import importlib.abc, importlib.util, os, sys, threading, time
    import agentops_otel as agentops

    class SlowLoader(importlib.abc.Loader):
        def __init__(self, loader):
            self.loader = loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            time.sleep(0.5)
            self.loader.exec_module(module)

    class SlowFinder(importlib.abc.MetaPathFinder):  # the module ending a session imports takes 0.5 s to import
        def find_spec(self, name, path, target=None):
            if name != "agentops_otel._internal.session_analytics":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            spec.loader = SlowLoader(spec.loader)
            return spec

    sys.meta_path.insert(0, SlowFinder())
    agentops.init(auto_start_session=False)
    thread = threading.Thread(target=lambda: agentops.start_session(tags=["thread"]).end_session("Success"))
    thread.start()
    time.sleep(0.2)  # the thread is importing it
    pid = os.fork()
    if pid == 0:
        with agentops.start_session(tags=["child"]):
            pass
        sys.exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    thread.join()
"""


def test_fork_while_another_thread_imports_a_module_left_to_first_use_leaves_the_child_working() -> None:
    # The child inherited the module's import lock held by the importing thread, and hung at its own import.
    with OTLPReceiver("http/protobuf") as receiver:
        result = run_python(FORK_WHILE_IMPORTING, {**receiver.env(), **NO_LLM_INSTRUMENTATION}, timeout=30)
        assert result.returncode == 0, result.stderr
        receiver.wait_for(lambda s: s.attributes.get(TAGS) == ["child"])
        assert sorted(s.attributes[TAGS][0] for s in receiver.spans_named("session")) == ["child", "thread"]


START_METHOD = """
    import multiprocessing, sys
    import agentops_otel as agentops

    def child_work():
        with agentops.start_session(tags=["child"]):
            pass

    if __name__ == "__main__":
        agentops.init(auto_start_session=False)
        process = multiprocessing.get_context(sys.argv[1]).Process(target=child_work)
        process.start()
        process.join()
        assert process.exitcode == 0, process.exitcode
"""


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_multiprocessing_warns_at_fork_only_with_the_fork_start_method(method: str, tmp_path: Path) -> None:
    # spawn and forkserver (Python 3.14's default on Linux) start the child from a new interpreter, not by
    # forking this one. The -W option shows the fork warning wherever raised (Python hides DeprecationWarnings
    # outside __main__), in the children too, and no other warning a dependency may raise.
    script = tmp_path / "start_method.py"
    script.write_text(textwrap.dedent(START_METHOD))
    with OTLPReceiver("http/protobuf") as receiver:
        result = subprocess.run(
            [sys.executable, "-W", "default:This process:DeprecationWarning", str(script), method],
            env=clean_env({**receiver.env(), **NO_LLM_INSTRUMENTATION}), capture_output=True, text=True, timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    warned_at, rest = _fork_warnings(result.stderr)
    expected = ["popen_fork.py"] if WARNS_AT_FORK and method == "fork" else []
    assert [Path(where).name for where in warned_at] == expected
    assert rest == ""


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


# The main thread is already blocked when the signal's C-level handler runs: on another thread (the kernel
# may deliver a process's signal to any thread), or on the main thread itself in the instant between its
# last check for signals and the blocking call (a SIGTERM sent just as "ready" is printed). Either way the
# Python-level handler waits for the blocking call to return: here, never. Sending the signal to a thread of
# the script's own makes that state certain instead of a matter of timing.
SIGTERM_WHILE_BLOCKED = """
    import signal
    import threading
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    agentops.start_session(tags=["blocked"])

    def signal_this_thread() -> None:
        print("ready", flush=True)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=signal_this_thread, daemon=True).start()
    threading.Event().wait()
"""


def test_sigterm_ends_the_process_while_the_main_thread_is_blocked_before_taking_it(
    receiver: OTLPReceiver, standin: StandInServer
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SIGTERM_WHILE_BLOCKED)], env=clean_env(_env(receiver, standin)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    try:
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()

    assert process.returncode == -signal.SIGTERM
    assert stderr == ""
    (session,) = _sessions(receiver, "blocked")
    assert session.attributes["agentops.session.end_state"] == "Indeterminate"


# A forked child inherits the parent's wakeup fd: its SIGTERM must end the child, never the parent.
SIGTERM_TO_A_FORKED_CHILD = """
    import os
    import signal
    import sys
    import threading
    import agentops_otel as agentops

    agentops.init(auto_start_session=False)
    agentops.start_session(tags=["parent"])

    def fork_and_terminate_a_child() -> None:
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            agentops.start_session(tags=["child"])
            os.write(ready_write, b"1")
            threading.Event().wait()
        os.read(ready_read, 1)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), flush=True)
        # Terminated at once, maybe before the child has run a line of Python (a pool closed as it starts).
        statuses = set()
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                threading.Event().wait(10)
                os._exit(0)
            os.kill(pid, signal.SIGTERM)
            statuses.add(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        print("children", *statuses, flush=True)

    if sys.argv[1] == "main":
        fork_and_terminate_a_child()
    else:
        forking = threading.Thread(target=fork_and_terminate_a_child)
        forking.start()
        forking.join()
    threading.Event().wait(1.0)  # time for the parent's watcher to act, were it to
    print("parent alive", flush=True)
"""


@pytest.mark.parametrize("forking_thread", ["main", "other"])
def test_sigterm_to_a_forked_child_ends_the_child_not_the_parent(forking_thread: str) -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        result = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", "-c", textwrap.dedent(SIGTERM_TO_A_FORKED_CHILD),
             forking_thread],
            env=clean_env({**receiver.env(), **NO_LLM_INSTRUMENTATION}), capture_output=True, text=True, timeout=30,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["child -15", "children -15", "parent alive"]
    for tag in ("parent", "child"):
        (session,) = _sessions(receiver, tag)
        assert session.attributes["agentops.session.end_state"] == "Indeterminate"


def test_an_applications_own_signal_wakeup_fd_is_kept() -> None:
    result = run_python(
        """
        import signal
        import socket
        import agentops_otel as agentops

        reader, writer = socket.socketpair()
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno())
        agentops.init(auto_start_session=False)
        print(signal.set_wakeup_fd(-1) == writer.fileno())
        """,
        {**NO_LLM_INSTRUMENTATION, "OTEL_TRACES_EXPORTER": "none"},
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "True\n", "")
