"""Ending what is still open when the process ends, and staying correct across ``fork()``.

* At interpreter exit every active session ends ``Indeterminate`` (``Fail`` with the exception's
  type as reason when the process is dying of an uncaught exception), then the tracer provider is
  flushed so nothing is lost when a script simply ends.
* SIGTERM, when the application has not installed its own handler, ends the sessions and flushes
  the same way, then ends the process as SIGTERM does without agentops-otel (killed by the signal,
  status 143 in a shell or container runtime), at once: threads still running (a worker thread, a
  ``ThreadPoolExecutor`` with queued tasks) do not hold it up, as they would after ``SystemExit``.
  Nor does a flush that never returns: the process ends at the latest the export timeout plus
  two seconds after the signal. Nor a main thread that was already blocked when the signal came
  (Python runs a signal's handler on the main thread only, once its blocking call returns): a
  thread of ours learns of the signal through the interpreter's wakeup fd and ends the sessions.
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
            os.register_at_fork(
                before=_block_sigterm_for_fork, after_in_parent=_unblock_sigterm, after_in_child=_after_fork_in_child
            )
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
    global _sigterm_state, _terminating
    registry.clear()
    _sigterm_state = None  # a SIGTERM the parent was handling is not the child's
    _terminating = _thread.allocate_lock()
    _rearm_wakeup_in_child()
    _unblock_sigterm()
    _sigterm_blocked_for_fork.clear()  # the threads that were forking elsewhere do not exist here


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
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return
    _watch_wakeup_fd()


_TERMINATING = "terminating"
_FLUSHED = "flushed"
_sigterm_state: str | None = None
_terminating = _thread.allocate_lock()
"""Held from the first SIGTERM on: whichever of the handler and the wakeup watcher takes it ends the sessions."""
_wakeup_fds: tuple[int, int] | None = None
_sigterm_blocked_for_fork: set[int] = set()
"""The threads forking now that had SIGTERM unblocked: the mask each gets back after the fork."""
KILL_GRACE_SECONDS = 1.0
"""How long the flushing thread waits for the main thread to take the signal before it exits itself."""
_HANDBACKS = 50


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
    if not _terminating.acquire(blocking=False):
        return  # already flushing (started here or by the wakeup watcher)
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
        # Hand the signal back to the main thread, whose handler now lets it kill the process. A
        # signal that reaches it in the instant before it blocks waits for the blocking call to
        # return, so it is sent again every few milliseconds: the next one interrupts the call. If
        # the main thread does not get to run Python code (stuck in a C call), exit from here.
        main = threading.main_thread().ident or 0
        for _ in range(_HANDBACKS):
            signal.pthread_kill(main, signum)
            time.sleep(KILL_GRACE_SECONDS / _HANDBACKS)
        os._exit(128 + signum)


def _watch_wakeup_fd() -> None:
    # Python runs a signal's handler on the main thread, between two bytecodes. A main thread
    # already blocked in a call that does not return on its own (waiting on a lock, a long sleep)
    # runs it only when the call returns: when the signal was taken by another thread, or reached
    # the main thread in the instant before the call began. Without us SIGTERM would have ended the
    # process. The interpreter writes each signal's number to the wakeup fd from whichever thread
    # takes it, so a thread of ours reading it learns of the signal and ends the sessions at once.
    # An application that has its wakeup fd (an event loop) keeps it; its loop wakes the main thread.
    global _wakeup_fds
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        logger.debug("agentops-otel: no wakeup fd for SIGTERM", exc_info=True)
        return
    try:
        os.set_blocking(write_fd, False)
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        if previous != -1:
            signal.set_wakeup_fd(previous)
        else:
            try:
                _thread.start_new_thread(_read_wakeup_fd, (read_fd,))
            except RuntimeError:
                signal.set_wakeup_fd(-1)
                raise
            _wakeup_fds = (read_fd, write_fd)
            return
    except (ValueError, OSError, RuntimeError):  # ValueError: the fd is not a socket (Windows)
        logger.debug("agentops-otel: no wakeup fd for SIGTERM", exc_info=True)
    os.close(read_fd)
    os.close(write_fd)


def _block_sigterm_for_fork() -> None:
    # Until the child has a wakeup pipe of its own, a SIGTERM it took would be written to the
    # parent's. It stays pending in the child (the mask is inherited) until the child is rearmed:
    # a pool terminated as soon as it started sends its workers SIGTERM in that instant.
    if _wakeup_fds is None:
        return
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    except (OSError, ValueError):
        return
    if signal.SIGTERM not in previous:
        _sigterm_blocked_for_fork.add(_thread.get_ident())


def _unblock_sigterm() -> None:
    ident = _thread.get_ident()
    if ident in _sigterm_blocked_for_fork:
        _sigterm_blocked_for_fork.discard(ident)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _rearm_wakeup_in_child() -> None:
    # The child inherited the parent's pipe: the child's signals must not wake the parent's watcher
    # (which would end the parent). The interpreter keeps writing to the same descriptor number, so
    # point that number at a pipe of the child's own, read by a watcher of its own. Unlike
    # set_wakeup_fd() this works in a child forked from a thread other than the main one.
    global _wakeup_fds
    if _wakeup_fds is None:
        return
    inherited_read_fd, write_fd = _wakeup_fds
    _wakeup_fds = None
    try:
        read_fd, new_write_fd = os.pipe()
        os.set_blocking(new_write_fd, False)
        os.dup2(new_write_fd, write_fd, inheritable=False)
        os.close(new_write_fd)
        os.close(inherited_read_fd)
        _thread.start_new_thread(_read_wakeup_fd, (read_fd,))
        _wakeup_fds = (read_fd, write_fd)
    except (OSError, RuntimeError):
        logger.debug("agentops-otel: no wakeup fd for SIGTERM in the forked child", exc_info=True)
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:
            pass  # not the main thread: closing the descriptor at least keeps the parent's pipe out of reach
        for fd in (inherited_read_fd, write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def _read_wakeup_fd(read_fd: int) -> None:
    global _sigterm_state
    while True:
        try:
            numbers = os.read(read_fd, 64)
        except OSError:
            return
        if not numbers:
            return
        if (
            signal.SIGTERM in numbers
            and signal.getsignal(signal.SIGTERM) is _on_sigterm
            and _terminating.acquire(blocking=False)
        ):
            _sigterm_state = _TERMINATING
            _terminate(signal.SIGTERM)
            return


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
