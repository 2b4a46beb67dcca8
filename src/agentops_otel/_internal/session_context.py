"""Which session is current: the session id in the OpenTelemetry context, and in W3C baggage.

A session's context (``Session.context()``) carries its id twice: under ``SESSION_ID_KEY``, a
context key only this process knows, and as the baggage entry ``agentops.session.id``, which
propagators carry to other processes. Work done inside ``with session:``, ``session.patch(fn)``,
a task started there, or a thread handed the context (``contextvars.copy_context().run``) finds
the key; work in another process joined to the session (``attach_session``) finds only the
baggage, and belongs to a session this process does not own.

Every read and write of the two goes through this module; the registry, the span processor,
propagation and the LLM call path use it.
"""

from __future__ import annotations

from opentelemetry import baggage, trace
from opentelemetry.context import Context, create_key, set_value

from agentops_otel._internal.attribute_names import BAGGAGE_SESSION_ID

SESSION_ID_KEY = create_key("agentops-session-id")
"""Context key whose value is the id (a str) of the local session whose context is current.

Hot paths (the span processor's ``on_start``, ``LLMCall.__enter__``) read and write it with
``ctx.get`` / ``set_value`` themselves, without a call into this module; only this module and
they use it."""


def session_context(base: Context, root: trace.Span, session_id: str) -> Context:
    """``base`` with a session current: its root span as parent, its id under the key and in baggage."""
    ctx = trace.set_span_in_context(root, base)
    ctx = set_value(SESSION_ID_KEY, session_id, ctx)
    return baggage.set_baggage(BAGGAGE_SESSION_ID, session_id, ctx)


def session_id_in(ctx: Context) -> str | None:
    """The id of the session current in ``ctx``: a local one, else one propagated from elsewhere."""
    session_id = ctx.get(SESSION_ID_KEY)
    if session_id is not None:
        return str(session_id)
    return remote_session_id(ctx)


def remote_session_id(ctx: Context) -> str | None:
    """The session id ``ctx`` carries in its W3C baggage (set by ``session_context`` or propagated)."""
    value = baggage.get_baggage(BAGGAGE_SESSION_ID, ctx)
    return None if value is None else str(value)


def with_remote_session_id(ctx: Context, session_id: str) -> Context:
    """``ctx`` with ``session_id`` in its baggage, so that propagators carry it on."""
    return baggage.set_baggage(BAGGAGE_SESSION_ID, session_id, ctx)


def without_local_session(ctx: Context) -> Context:
    """``ctx`` with no local session current: a propagated session there is not claimed by one of ours."""
    return set_value(SESSION_ID_KEY, None, ctx)
