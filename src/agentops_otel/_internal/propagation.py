"""Carrying a session to another process: W3C ``traceparent`` plus the baggage ``agentops.session.id``
(and ``gen_ai.conversation.id`` when the session's conversation id is not its session id).

With the usual propagators (``tracecontext,baggage``, OpenTelemetry's default) and the HTTP
client/server instrumentations this happens by itself. For message queues and anything else that
carries a dict of strings, do it by hand::

    # producer: inside the session
    carrier: dict[str, str] = {}
    agentops_otel.inject(carrier)
    queue.put({"headers": carrier, "job": job})

    # worker: another process
    message = queue.get()
    with agentops_otel.attach_session(message["headers"]):
        run(message["job"])        # spans join the session's trace and carry its id

The worker does not own the session: it never ends it, and the session's root span is exported
once, by the process that started it. Nor does it count its calls into the session's totals (the
root's ``agentops.session.*`` counts, tokens and cost, and ``get_analytics()``): those are the
calls of the process that owns the session; the worker's spans are in the session's trace all the
same, so a backend's totals over the trace include them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from opentelemetry import propagate
from opentelemetry.context import attach, detach, get_current

from agentops_otel._internal import registry
from agentops_otel._internal.session import Session
from agentops_otel._internal.session_context import (
    SESSION_KEY,
    SessionIds,
    joined_remote_session,
    remote_session_id,
    remote_session_ids,
    with_remote_session,
)


def inject(carrier: MutableMapping[str, str], session: Session | None = None) -> None:
    """Write the session's context into ``carrier`` (``traceparent``, ``baggage``, ...).

    The session is ``session`` when given, else the one whose context is current, else the only
    active one. When that session's context is current, the current span (for example a "dispatch"
    span inside the session) becomes the remote parent; otherwise the session's root span does.
    Inside :func:`attach_session` (a worker handing work on) the propagated session is passed on.

    Uses the global propagator (``OTEL_PROPAGATORS``, by default W3C trace context and baggage);
    the session id travels in the baggage, so a propagator list without ``baggage`` leaves it out.

    Raises:
        NoSessionException: no session was given, none is current and none is active.
        MultiSessionException: none was given or is current, and two or more are active.
    """
    ctx = get_current()
    current: SessionIds | None = ctx.get(SESSION_KEY)  # type: ignore[assignment]
    if current is None:
        current = remote_session_ids(ctx)
    if session is None and current is None:
        session = registry.only_session()
    if session is not None and (current is None or session.session_id != current.session_id):
        ctx = session.context(ctx)
    elif current is not None and remote_session_id(ctx) is None:
        # Current without its baggage (an LLM call's request of the only session): add it.
        ctx = with_remote_session(ctx, current)
    propagate.inject(carrier, context=ctx)


@contextmanager
def attach_session(carrier: Mapping[str, str]) -> Iterator[str | None]:
    """Make the session context in ``carrier`` (written by :func:`inject`) current for the block.

    Spans started in the block are children of the remote span and carry the session's
    ``session.id`` and ``gen_ai.conversation.id``; LLM calls in it belong to that session, even if
    this process has sessions of its own, but are not counted in its totals (see above). Yields
    the session id, or ``None`` if ``carrier`` holds no session (the block then runs under
    whatever trace context ``carrier`` has, if any).

    Example::

        with agentops_otel.attach_session(headers) as session_id:
            client.chat.completions.create(...)
    """
    ctx = propagate.extract(carrier, context=get_current())
    ids = remote_session_ids(ctx)
    if ids is not None:
        # A local session current here must not claim the remote session's work.
        ctx = joined_remote_session(ctx, ids)
    token = attach(ctx)
    try:
        yield None if ids is None else ids.session_id
    finally:
        detach(token)
