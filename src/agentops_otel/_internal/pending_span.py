"""A session's start record: a small span exported when the session starts, so that a session
is visible (and findable by its id and tags) in a backend before it ends, and after a crash.

The session's root span is exported only when the session ends (see ``root_span``); a process
killed before that (SIGKILL, the OOM killer, a lost node) leaves children without their root, or
nothing at all. So at start the session exports a zero-length span named ``session (pending)``
with ``agentops.span_type=pending``, the root's start attributes (session id, tags) and start
time, whose parent is the root's reserved span context, the way Logfire exports its "pending
spans". A session that ends normally therefore shows exactly one root in Jaeger or Phoenix (the
record is a child of the root); a killed one shows the record and every child exported before.

The record is a sign of life, not data: it is not a call, an event or a step (nothing counts
it), the terminal tree does not draw it, and a guarded export queue already half full does not
take it (``export_guard``), so it never displaces spans that are. It is exported soon after the
session starts (``export_guard.export_soon``) rather than at the batch processor's next cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal import export_guard, sdk_internals
from agentops_otel._internal.attribute_names import PENDING_SESSION_SPAN_NAME, PENDING_SPAN_TYPE, SPAN_TYPE


def export_pending_span(tracer: trace.Tracer, root: trace.Span, start_ns: int,
                        attributes: Mapping[str, AttributeValue]) -> None:
    """Export the start record of the session whose root span (reserved or live) is ``root``."""
    if not export_guard.room_for_extras():
        return
    span = tracer.start_span(PENDING_SESSION_SPAN_NAME, context=trace.set_span_in_context(root, Context()),
                             kind=SpanKind.INTERNAL, start_time=start_ns)
    # Written past the SDK's validation (a third of the record's cost): values agentops-otel made.
    sdk_internals.set_attributes(span, {**attributes, SPAN_TYPE: PENDING_SPAN_TYPE})
    span.end(end_time=start_ns)
    export_guard.export_soon()


def is_pending_span(span: ReadableSpan) -> bool:
    """Whether ``span`` is a session's start record (``export_pending_span``)."""
    return span.name == PENDING_SESSION_SPAN_NAME and (span.attributes or {}).get(SPAN_TYPE) == PENDING_SPAN_TYPE
