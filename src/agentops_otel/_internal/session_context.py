"""Which session is current: the session in the OpenTelemetry context, and in W3C baggage.

A session's context (``Session.context()``) carries the session twice: its ``SessionIds`` under
``SESSION_KEY``, a context key only this process knows, and as the baggage entries
``agentops.session.id`` (and ``gen_ai.conversation.id`` when the conversation id differs from the
session id), which propagators carry to other processes. Work done inside ``with session:``,
``session.patch(fn)``, a task started there, or a thread handed the context
(``contextvars.copy_context().run``) finds the key; work in another process joined to the session
(``attach_session``) finds only the baggage, and belongs to a session this process does not own.

Every read and write of the two goes through this module; the registry, the span processor,
propagation and the LLM call path use it.
"""

from __future__ import annotations

from opentelemetry import baggage, trace
from opentelemetry.context import Context, create_key, set_value
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_CONVERSATION_ID
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID as OTEL_SESSION_ID

from agentops_otel._internal.attribute_names import BAGGAGE_CONVERSATION_ID, BAGGAGE_SESSION_ID

SpanStamp = tuple[tuple[str, str], ...]
"""The attributes the session processor adds to every span of a session, as ``(name, value)`` pairs."""


class SessionIds:
    """A session's ids, made once per session: what the context says about the session current there.

    ``span_stamp`` is the attributes every span of the session carries, ready for the span
    processor, which runs for every span of the process and so must not build them each time:
    ``session.id`` (the general OpenTelemetry attribute) and ``gen_ai.conversation.id`` (the GenAI
    conventions' "conversation (session, thread)"), the names backends group sessions by.
    """

    __slots__ = ("conversation_id", "session_id", "span_stamp")

    def __init__(self, session_id: str, conversation_id: str | None = None) -> None:
        self.session_id = session_id
        self.conversation_id = conversation_id if conversation_id is not None else session_id
        self.span_stamp: SpanStamp = ((OTEL_SESSION_ID, session_id), (GEN_AI_CONVERSATION_ID, self.conversation_id))

    def __repr__(self) -> str:
        return f"<SessionIds {self.session_id} conversation {self.conversation_id}>"


SESSION_KEY = create_key("agentops-session")
"""Context key whose value is the ``SessionIds`` of the local session whose context is current.

Hot paths (the span processor's ``on_start``, ``LLMCall.__enter__``, the registry's lookups) read
and write it with ``ctx.get`` / ``set_value`` themselves, without a call into this module; only
this module and they use it."""


def session_context(base: Context, root: trace.Span, ids: SessionIds) -> Context:
    """``base`` with a session current: its root span as parent, its ids under the key and in baggage."""
    ctx = trace.set_span_in_context(root, base)
    ctx = set_value(SESSION_KEY, ids, ctx)
    return _with_baggage(ctx, ids)


def _with_baggage(ctx: Context, ids: SessionIds) -> Context:
    ctx = baggage.set_baggage(BAGGAGE_SESSION_ID, ids.session_id, ctx)
    if ids.conversation_id != ids.session_id:
        ctx = baggage.set_baggage(BAGGAGE_CONVERSATION_ID, ids.conversation_id, ctx)
    elif baggage.get_baggage(BAGGAGE_CONVERSATION_ID, ctx) is not None:
        # A session started under another one's propagated context: not that one's conversation.
        ctx = baggage.remove_baggage(BAGGAGE_CONVERSATION_ID, ctx)
    return ctx


def session_id_in(ctx: Context) -> str | None:
    """The id of the session current in ``ctx``: a local one, else one propagated from elsewhere."""
    ids: SessionIds | None = ctx.get(SESSION_KEY)  # type: ignore[assignment]  # only SessionIds go there
    if ids is not None:
        return ids.session_id
    return remote_session_id(ctx)


def remote_session_id(ctx: Context) -> str | None:
    """The session id ``ctx`` carries in its W3C baggage (set by ``session_context`` or propagated)."""
    value = baggage.get_baggage(BAGGAGE_SESSION_ID, ctx)
    return None if value is None else str(value)


def remote_session_ids(ctx: Context) -> SessionIds | None:
    """The ids of the session ``ctx`` carries in its W3C baggage: the conversation id defaults to
    the session id when the baggage has none (the sender's session has no other)."""
    session_id = remote_session_id(ctx)
    if session_id is None:
        return None
    conversation_id = baggage.get_baggage(BAGGAGE_CONVERSATION_ID, ctx)
    return SessionIds(session_id, None if conversation_id is None else str(conversation_id))


def with_remote_session(ctx: Context, ids: SessionIds) -> Context:
    """``ctx`` with the session's ids in its baggage, so that propagators carry them on."""
    return _with_baggage(ctx, ids)


def joined_remote_session(ctx: Context, ids: SessionIds) -> Context:
    """``ctx`` (extracted from a carrier) in another process's session: its ids under the key, so
    that no local session current there claims its work (the registry, which holds only this
    process's sessions, finds none for them) and the span processor reads them without parsing
    the baggage for every span."""
    return set_value(SESSION_KEY, ids, ctx)
