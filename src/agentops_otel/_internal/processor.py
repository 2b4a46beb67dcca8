"""The span processor that ties every span to its session.

It runs for every span the process makes, whichever library makes it, so it is kept to a couple
of dict lookups and one attribute: stamp ``agentops.session.id`` when a session's context is
current. It does nothing when a span ends. Its budget is a tenth of what the SDK spends on a
plain span, so the id goes into the starting span's attribute map directly
(``sdk_internals.stamp_starting_span``) rather than through the SDK's locked, validating
``set_attribute``.
"""

from __future__ import annotations

from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from agentops_otel._internal.attribute_names import SESSION_ID
from agentops_otel._internal.sdk_internals import stamp_starting_span
from agentops_otel._internal.session_context import SESSION_ID_KEY, remote_session_id


class SessionSpanProcessor(SpanProcessor):
    """Stamps ``agentops.session.id`` on every span started under a session.

    ``agentops_otel.init()`` adds one to the global SDK ``TracerProvider`` (its own or the one it
    joins); add it yourself only when you build providers by hand::

        provider.add_span_processor(SessionSpanProcessor())
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        ctx = get_current() if parent_context is None else parent_context
        # ``session_context.session_id_in``, unrolled: a local session's id is read without a call.
        # A str: only sessions and calls write this key. (No typing.cast: it is a call at run
        # time, and this runs for every span of the process.)
        session_id: str | None = ctx.get(SESSION_ID_KEY)  # type: ignore[assignment]
        if session_id is None:
            session_id = remote_session_id(ctx)
            if session_id is None:
                return
        stamp_starting_span(span, SESSION_ID, session_id)

    def on_end(self, span: ReadableSpan) -> None:
        # Nothing to do: the session's analytics are counted where calls and events are recorded,
        # so that spans of other libraries pay nothing when they end.
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
