"""Which session an agent framework's run goes into, and a session of its own when it has none.

An agent framework's run (an OpenAI Agents SDK ``Runner.run``) is the unit a user thinks of as
"one session". So a run started where no session applies gets a session of its own, which ends
when the run does (Success, or Fail with the exception), instead of being left out of every
session. A run started where a session applies goes into it:

1. a session current in the context (``with session:``, ``session.patch``, a task or thread that
   inherited it, or a session of another process joined with ``attach_session``): that one;
2. ``init(session_per_agent_run=True)``, or no session active: a new session for the run;
3. one session active (``init()``'s, or ``AGENTOPS_AUTO_START_SESSION``'s): that one;
4. two or more active and none chosen: ``MultiSessionException``, before the run sends anything.

Sessions started for runs do not count in 2-4: a run started while another run's session is
active (two runs at once in asyncio tasks or threads) gets a session of its own, not the other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from opentelemetry.context import attach, detach, get_current

from agentops_otel._internal import facade, registry
from agentops_otel._internal.exceptions import MultiSessionException
from agentops_otel._internal.session import Session
from agentops_otel._internal.session_context import session_id_in

_run_sessions: set[str] = set()
"""Ids of the active sessions started for runs (a set's add and discard are atomic)."""


class AgentRun:
    """An agent run in its session.

    ``with run:`` around the run makes its session current and, when the session was started for
    the run, ends it with the run's outcome. A run that goes on after its entry point returns (a
    streamed run) uses ``with run.current():`` around the entry point and ``finish(error)`` when
    it ends.

    ``session`` is the session the run went into (``None``: another process's, joined through the
    context); ``owns_session`` says whether it was started for this run.
    """

    __slots__ = ("_finished", "_make_current", "_tokens", "owns_session", "session")

    def __init__(self, session: Session | None, owns_session: bool, make_current: bool) -> None:
        self.session = session
        self.owns_session = owns_session
        self._make_current = make_current
        self._tokens: list[object] = []
        self._finished = False

    @contextmanager
    def current(self) -> Iterator[AgentRun]:
        """Make the run's session current inside the block (tasks started there inherit it)."""
        self._enter()
        try:
            yield self
        finally:
            self._leave()

    def finish(self, error: BaseException | None = None) -> None:
        """End the run: a session started for it ends Success, or Fail with ``error`` (Indeterminate
        when the run was cancelled). Only the first call counts."""
        if self._finished:
            return
        self._finished = True
        session = self.session
        if self.owns_session and session is not None:
            _run_sessions.discard(session.session_id)
        if self.owns_session and session is not None and not session.is_ended:
            # The outcome a ``with session:`` block ending with ``error`` gives; the session was
            # never entered, so its ``__exit__`` only ends it.
            session.__exit__(type(error) if error is not None else None, error,
                             error.__traceback__ if error is not None else None)

    def _enter(self) -> None:
        if self._make_current and self.session is not None:
            self._tokens.append(attach(self.session.context(get_current())))

    def _leave(self) -> None:
        if self._tokens:
            detach(self._tokens.pop())  # type: ignore[arg-type]

    def __enter__(self) -> AgentRun:
        self._enter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._leave()
        self.finish(exc)

    def __repr__(self) -> str:
        how = "owns" if self.owns_session else "joined"
        return f"<AgentRun {how} {self.session!r}>"


def start_agent_run(*, conversation_id: str | None = None, agent_name: str | None = None) -> AgentRun:
    """The session an agent run starting now goes into, started for it when it has none.

    ``conversation_id`` and ``agent_name`` are those of a session started for the run (see
    ``start_session``): the framework's own grouping of runs (an Agents SDK trace's ``group_id``)
    and the run's agent. A run that goes into an existing session leaves that session's alone.

    Example (an instrumentor's wrapper around a framework's run entry point)::

        def run_wrapper(wrapped, instance, args, kwargs):
            with start_agent_run():   # MultiSessionException here, before the run sends anything
                return wrapped(*args, **kwargs)

    Raises:
        MultiSessionException: two or more sessions are active and none is current, and
            ``session_per_agent_run`` is off.
    """
    ctx = get_current()
    session_id = session_id_in(ctx)
    if session_id is not None:  # current here, or another process's session joined through baggage
        return AgentRun(registry.get(session_id), False, False)
    active = [session for session in registry.active_sessions() if session.session_id not in _run_sessions]
    if not active or facade.session_per_agent_run():
        session = facade.start_session(conversation_id=conversation_id, agent_name=agent_name)
        _run_sessions.add(session.session_id)
        return AgentRun(session, True, True)
    if len(active) == 1:
        return AgentRun(active[0], False, True)
    raise MultiSessionException(
        f"{len(active)} sessions are active and none is current, so this agent run's session is ambiguous: "
        "start the run inside `with session:` (or call it through session.patch), or pass "
        "session_per_agent_run=True to init() to give every run a session of its own."
    )
