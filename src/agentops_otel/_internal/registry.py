"""The set of active sessions, and which session a piece of work belongs to.

The registry holds only sessions that have not ended, so every lookup is O(1) in the number of
sessions that ever existed. Whoever starts a session registers it (``facade.start_session``);
the session unregisters itself when it ends. Which session is current comes from the
OpenTelemetry context (``session_context``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from opentelemetry.context import Context, get_current

from agentops_otel._internal.exceptions import MultiSessionException, NoSessionException
from agentops_otel._internal.session_context import SESSION_KEY, SessionIds, remote_session_id

if TYPE_CHECKING:
    from agentops_otel._internal.session import Session

# Reentrant: an application's signal handler may end or start a session while the main thread,
# which runs the handler, is inside one of these functions holding the lock.
_lock = threading.RLock()
_active: dict[str, Session] = {}
_ended_since_repack = 0
_changes = 0
"""Counts every change to ``_active``, so that a repack can tell whether a handler changed it meanwhile."""


def register(session: Session) -> None:
    """Count ``session`` as active until it ends (start it with ``on_end=unregister``)."""
    global _changes
    with _lock:
        _active[session.session_id] = session
        _changes += 1


def unregister(session: Session) -> None:
    global _active, _ended_since_repack, _changes
    with _lock:
        if _active.pop(session.session_id, None) is None:
            return
        _changes += 1
        # A dict never shrinks: the slots of removed sessions stay until it grows again, and
        # finding the first active session (``only_session``, ``resolve_for_call``) walks past
        # them, so every module-level call would get slower after many sessions were open at
        # once. Once the ended outnumber the active, a packed copy replaces the dict (a new object,
        # swapped in whole: readers without the lock see the old one or the new one, never half).
        _ended_since_repack += 1
        if _ended_since_repack > 2 * len(_active) + 16:
            changes = _changes
            packed = dict(_active)
            # A signal handler may have run on this thread during the copy (the lock is
            # reentrant) and changed ``_active``: then the copy is stale, keep the original. No
            # call between the test and the assignment, so no handler can run between them.
            if _changes == changes:
                _active = packed
                _ended_since_repack = 0


def active_sessions() -> list[Session]:
    """The sessions that have started and not ended, oldest first."""
    with _lock:
        return list(_active.values())


def get(session_id: str) -> Session | None:
    return _active.get(session_id)


def clear() -> None:
    """Forget every active session without ending it (used in a forked child)."""
    global _changes
    with _lock:
        _active.clear()
        _changes += 1


def only_session() -> Session:
    """The one active session, for the module-level functions of single-session mode.

    Raises:
        NoSessionException: no session is active.
        MultiSessionException: two or more sessions are active.
    """
    while True:
        count = len(_active)
        if count == 0:
            raise NoSessionException()
        if count > 1:
            raise MultiSessionException()
        try:
            return next(iter(_active.values()))
        except (StopIteration, RuntimeError):  # the session ended meanwhile: count again
            continue


def current_or_only_session(*, required: bool = True) -> Session | None:
    """The session whose context is current here, else the only active one (``create_agent``).

    Raises:
        MultiSessionException: two or more sessions are active and none is current.
        NoSessionException: none is active, and ``required``.
    """
    ids: SessionIds | None = get_current().get(SESSION_KEY)  # type: ignore[assignment]
    if ids is not None:
        session = _active.get(ids.session_id)
        if session is not None:
            return session
    if not required and not _active:
        return None
    return only_session()



def resolve_for_call(current: Context | None = None) -> tuple[Context | None, Session | None]:
    """Which session an LLM call made now belongs to, and the context to start its span in.

    In this order: the session whose context is current (bound by ``session.patch``, ``with
    session:`` or inherited by a thread or task); else the only active session; else, with none
    active, no session at all (the call is traced under whatever span is current). Returns
    ``(None, ...)`` when the current context is the right parent.

    ``current`` is the current context, when the caller has it at hand already.

    Raises:
        MultiSessionException: two or more sessions are active and none was chosen. Raised
            before the request is sent, as the product documentation promises.
    """
    ctx = get_current() if current is None else current
    ids: SessionIds | None = ctx.get(SESSION_KEY)  # type: ignore[assignment]
    if ids is not None:
        return None, _active.get(ids.session_id)  # None: another process's (``attach_session``)
    if remote_session_id(ctx) is not None:
        return None, None  # joined a session owned by another process
    count = len(_active)
    if count == 0:
        return None, None
    if count == 1:
        try:
            session = next(iter(_active.values()))
        except (StopIteration, RuntimeError):  # it ended (or another started) meanwhile
            return resolve_for_call()
        return session.context(), session
    raise MultiSessionException()
