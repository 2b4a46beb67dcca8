"""The span processor that ties every span to its session.

It runs for every span the process makes, whichever library makes it, so it is kept to a couple
of dict lookups: stamp ``agentops.session.id`` when a session's context is current, and, when a
stamped span ends, count it into the session's analytics.
"""

from __future__ import annotations

from opentelemetry import baggage
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from agentops_otel import registry
from agentops_otel.attributes import BAGGAGE_SESSION_ID, SESSION_ID


class SessionSpanProcessor(SpanProcessor):
    """Stamps ``agentops.session.id`` on spans started under a session and counts them.

    ``agentops_otel.init()`` adds one to the global SDK ``TracerProvider`` (its own or the one it
    joins); add it yourself only when you build providers by hand::

        provider.add_span_processor(SessionSpanProcessor())
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        ctx = get_current() if parent_context is None else parent_context
        session_id = ctx.get(registry.SESSION_ID_KEY)
        if session_id is None:
            session_id = baggage.get_baggage(BAGGAGE_SESSION_ID, ctx)
            if session_id is None:
                return
        span.set_attribute(SESSION_ID, str(session_id))

    def on_end(self, span: ReadableSpan) -> None:
        if span.parent is None:  # a root: the session span itself, or a trace outside any session
            return
        attributes = span.attributes
        session_id = None if attributes is None else attributes.get(SESSION_ID)
        if session_id is None:
            return
        session = registry.get(str(session_id))
        if session is not None:
            session.analytics.count_span(span)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
