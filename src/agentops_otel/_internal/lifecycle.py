"""Ending what is still open when the process ends, and staying correct across ``fork()``.

* At interpreter exit every active session ends ``Indeterminate`` (``Fail`` with the exception's
  type as reason when the process is dying of an uncaught exception), then the tracer provider is
  flushed so nothing is lost when a script simply ends.
* SIGTERM, when the application has not installed its own handler, ends the sessions and flushes
  the same way, then ends the process as SIGTERM does without agentops-otel (killed by the signal,
  status 143 in a shell or container runtime), at once: threads still running (a worker thread, a
  ``ThreadPoolExecutor`` with queued tasks) do not hold it up, as they would after ``SystemExit``.
  Nor does a flush that never returns: the process ends at the latest the export timeout plus
  two seconds after the signal.
* In a forked child the parent's sessions are forgotten, not ended: they belong to the parent.
  A ``multiprocessing`` child, which ends without running atexit handlers (``fork`` and
  ``forkserver`` children end with ``os._exit()``), ends and flushes its own sessions through
  multiprocessing's exit finalizers instead.

The hooks are installed by ``init()`` (not by the first session): a parent that sets up tracing
and leaves the sessions to its children must still give each child the exit finalizer.
"""

from __future__ import annotations

import _thread
import atexit
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, ModuleType, TracebackType

from opentelemetry import trace

from agentops_otel._internal import export_guard, registry
from agentops_otel._internal.end_state import EndState
from agentops_otel._internal.import_hooks import when_imported

logger = logging.getLogger(__name__)

_installed = False
_install_lock = threading.Lock()
_uncaught: type[BaseException] | None = None
_previous_excepthook: Callable[[type[BaseException], BaseException, TracebackType | None], object] | None = None


def install() -> None:
    """Install the exit, exception, signal and fork hooks once per process.

    Called by ``init()`` after the tracer provider exists, so that our exit handler runs before
    the provider's own shutdown (atexit runs handlers last-in, first-out).
    """
    global _installed, _previous_excepthook
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        _installed = True
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        atexit.register(_at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
        _install_multiprocessing_exit()
        _install_sigterm_handler()


def _install_multiprocessing_exit() -> None:
    # A multiprocessing child ends with os._exit(): atexit handlers never run there, but
    # multiprocessing's own exit finalizers do. Register ours in each child forked from here, and
    # in this process if it is itself such a child (forkserver and spawn children start afresh
    # and set up tracing themselves). Only a process that uses multiprocessing has children of
    # its: the finalizers are set up when it imports the module (now, if it has), which a
    # process that never does (a CLI, a tool worker) does not pay for at start-up.
    when_imported("multiprocessing", _on_multiprocessing_import)


def _on_multiprocessing_import(_: ModuleType) -> None:
    try:
        import multiprocessing.util

        def in_child(_: object) -> None:
            multiprocessing.util.Finalize(None, end_open_sessions, exitpriority=10)

        multiprocessing.util.register_after_fork(registry, in_child)
        if multiprocessing.parent_process() is not None:
            in_child(None)
    except Exception:  # runs inside the application's import: never breaks it
        logger.debug("agentops-otel: could not set up multiprocessing children's exit", exc_info=True)


def _after_fork_in_child() -> None:
    global _sigterm_state
    registry.clear()
    _sigterm_state = None  # a SIGTERM the parent was handling is not the child's


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    global _uncaught
    _uncaught = exc_type
    previous = _previous_excepthook or sys.__excepthook__
    previous(exc_type, exc, tb)


def _install_sigterm_handler() -> None:
    # Only replace the default action, and only from the main thread (signal() requires it).
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        pass


_TERMINATING = "terminating"
_FLUSHED = "flushed"
_sigterm_state: str | None = None
KILL_GRACE_SECONDS = 1.0
"""How long the flushing thread waits for the main thread to take the signal before it exits itself."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Not SystemExit: the interpreter would then wait for every non-daemon thread before any
    # atexit handler ran, and a pod would run on until SIGKILL and lose every open session.
    # Nor the work itself, here: this handler runs on the main thread between two bytecodes, maybe
    # while the main thread holds a lock that ending a session or flushing needs (the registry's,
    # a session's, the SDK's export lock during a multiprocessing child's exit flush), and would
    # wait for it forever. A thread of its own waits for such a lock like any other thread.
    global _sigterm_state
    if _sigterm_state == _FLUSHED:
        # The sessions are saved: now end as SIGTERM ends a process without agentops-otel.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if _sigterm_state is not None:
        return  # already flushing
    _sigterm_state = _TERMINATING
    try:
        # The low-level start: threading.Thread.start() takes threading's own locks and waits for
        # the new thread, which deadlocks when the signal interrupted the main thread holding them
        # (starting a thread, or in threading._shutdown at a multiprocessing worker's exit).
        _thread.start_new_thread(_terminate, (signum,))
    except RuntimeError:
        # The interpreter is already shutting down (no new threads): the exit in progress ends
        # the sessions and flushes; let it finish.
        pass


def _terminate(signum: int) -> None:
    global _sigterm_state
    # Whatever ending the sessions waits on (an exporter or span processor the application added
    # that never returns, a lock held by a thread that is stuck), the process still ends: after
    # the export timeout our own flush is bounded by, and the grace, it exits from another thread.
    try:
        _thread.start_new_thread(_exit_after, (signum, export_guard.export_timeout_seconds() + 2 * KILL_GRACE_SECONDS))
    except RuntimeError:
        # The interpreter began shutting down after this thread started (a multiprocessing
        # worker told to stop while it was exiting anyway): no new threads now, and the exit in
        # progress is bounded by the export timeout on its own. Still end the sessions here.
        pass
    try:
        end_open_sessions()
    finally:
        _sigterm_state = _FLUSHED
        # Hand the signal back to the main thread, whose handler now lets it kill the process. If
        # the main thread does not get to run Python code (stuck in a C call), exit from here.
        signal.pthread_kill(threading.main_thread().ident or 0, signum)
        _exit_after(signum, KILL_GRACE_SECONDS)


def _exit_after(signum: int, seconds: float) -> None:
    time.sleep(seconds)
    os._exit(128 + signum)


def _at_exit() -> None:
    try:
        end_open_sessions()
    except KeyboardInterrupt:
        # Ctrl-C while the last spans are exported: the user wants out. One line, not the
        # interpreter's "Exception ignored in atexit callback" traceback; and no more waiting.
        export_guard.abandon()
        logger.warning("agentops-otel: interrupted while exporting the last spans at exit; they were not all sent")


def end_open_sessions() -> None:
    """End every active session and flush the provider. Safe to call more than once."""
    if _uncaught is not None:
        state, reason = EndState.FAIL, _uncaught.__name__
    else:
        state, reason = EndState.INDETERMINATE, None
    # First: a collector that is down must not hold the exit up for more than one export timeout,
    # and the sessions ending now wait for room in a full export queue instead of being dropped.
    export_guard.begin_closing()
    for session in registry.active_sessions():
        try:
            session.end_session(state, end_state_reason=reason)
        except Exception:  # never let one broken session stop the others from ending
            pass
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if callable(force_flush):
        try:
            force_flush()
        except Exception:
            pass
