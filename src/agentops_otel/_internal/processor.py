"""The span processor that ties every span to its session.

It runs for every span the process makes, whichever library makes it, so it is kept to one dict
lookup and two attribute writes: when a session's context is current, it adds the session's
``session.id`` and ``gen_ai.conversation.id`` (``SessionIds.span_stamp``, made once per session).
It does nothing when a span ends. Its budget is a tenth of what the SDK spends on a plain span,
so the attributes go into the starting span's attribute map directly
(``sdk_internals.stamp_starting_span``) rather than through the SDK's locked, validating
``set_attribute``.
"""

from __future__ import annotations

from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from agentops_otel._internal.sdk_internals import reads_no_attribute_on_start, stamp_starting_span
from agentops_otel._internal.session_context import SESSION_KEY, SessionIds, remote_session_ids


class SessionSpanProcessor(SpanProcessor):
    """Adds ``session.id`` and ``gen_ai.conversation.id`` to every span started under a session.

    A span whose maker set one of them already keeps its value (a LangGraph run's thread as its
    conversation, say). ``agentops_otel.init()`` adds one to the global SDK ``TracerProvider``
    (its own or the one it joins); add it yourself only when you build providers by hand::

        provider.add_span_processor(SessionSpanProcessor())
    """

    @reads_no_attribute_on_start  # it stamps the session's ids
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        ctx = get_current() if parent_context is None else parent_context
        # Only SessionIds go under the key. (No typing.cast: it is a call at run time, and this
        # runs for every span of the process.)
        ids: SessionIds | None = ctx.get(SESSION_KEY)  # type: ignore[assignment]
        if ids is None:
            # A session propagated here without ``attach_session`` (an HTTP server's instrumentation
            # extracted the baggage): read from the baggage, for each span.
            ids = remote_session_ids(ctx)
            if ids is None:
                return
        stamp_starting_span(span, ids.span_stamp)

    def on_end(self, span: ReadableSpan) -> None:
        # Nothing to do: the session's analytics are counted where calls and events are recorded,
        # so that spans of other libraries pay nothing when they end.
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
