"""Ending what is still open when the process ends, and staying correct across ``fork()``.

* At interpreter exit every active session ends ``Indeterminate`` (``Fail`` with the exception's
  type as reason when the process is dying of an uncaught exception), then the tracer provider is
  flushed so nothing is lost when a script simply ends.
* SIGTERM, when the application has not installed its own handler, exits through the same path.
* In a forked child the parent's sessions are forgotten, not ended: they belong to the parent.
  A ``multiprocessing`` child, which ends without running atexit handlers, ends and flushes its
  own sessions through multiprocessing's exit finalizers instead.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from opentelemetry import trace

from agentops_otel._internal import export_guard, registry
from agentops_otel._internal.end_state import EndState

_installed = False
_install_lock = threading.Lock()
_uncaught: type[BaseException] | None = None
_previous_excepthook: Callable[[type[BaseException], BaseException, TracebackType | None], object] | None = None


def install() -> None:
    """Install the exit, exception, signal and fork hooks once per process.

    Called when the first session starts, after the tracer provider exists, so that our exit
    handler runs before the provider's own shutdown (atexit runs handlers last-in, first-out).
    """
    global _installed, _previous_excepthook
    with _install_lock:
        if _installed:
            return
        _installed = True
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        atexit.register(end_open_sessions)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=registry.clear)
        _install_multiprocessing_exit()
        _install_sigterm_handler()


def _install_multiprocessing_exit() -> None:
    # A multiprocessing child ends with os._exit(): atexit handlers never run there, but
    # multiprocessing's own exit finalizers do. Register ours in each child it starts.
    import multiprocessing.util

    def in_child(_: object) -> None:
        multiprocessing.util.Finalize(None, end_open_sessions, exitpriority=10)

    multiprocessing.util.register_after_fork(registry, in_child)


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


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the main thread and runs atexit handlers, which end the sessions.
    raise SystemExit(128 + signum)


def end_open_sessions() -> None:
    """End every active session and flush the provider. Safe to call more than once."""
    if _uncaught is not None:
        state, reason = EndState.FAIL, _uncaught.__name__
    else:
        state, reason = EndState.INDETERMINATE, None
    for session in registry.active_sessions():
        try:
            session.end_session(state, end_state_reason=reason)
        except Exception:  # never let one broken session stop the others from ending
            pass
    # A collector that is down must not hold the exit up for more than one export timeout.
    export_guard.begin_closing()
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if callable(force_flush):
        try:
            force_flush()
        except Exception:
            pass
