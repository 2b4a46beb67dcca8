"""A session's root span: its identity is fixed when the session starts, the span made when it ends.

An open session must be cheap to hold: agents keep thousands open at once. A live SDK span holds
two bounded lists with their deques and locks, an attribute map and a lock for as long as it is
open, most of it for events and links a session root never has. So when the tracer
is the OpenTelemetry SDK's, the session reserves its span at start (trace id and span id from the
tracer's id generator, the sampling decision from its sampler, the start time) and its children
use that span context as their parent; at the end the real span is made once, with those ids, the
original start time and every attribute, and exported as any span is. The trace seen by a backend
is the same as with a span held open the whole time.

With a tracer that is not the SDK's, the span is simply started at start and ended at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, TraceFlags
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal.sdk_internals import replace_tracer_id_generator, tracer_id_generator, tracer_sampler


class _PresetIdGenerator(IdGenerator):
    """The tracer's own id generator, except for the one root span being made on this thread."""

    def __init__(self, inner: IdGenerator) -> None:
        self.inner = inner
        self._preset = threading.local()

    def generate_trace_id(self) -> int:
        ids: tuple[int, int] | None = getattr(self._preset, "ids", None)
        return ids[0] if ids is not None else self.inner.generate_trace_id()

    def generate_span_id(self) -> int:
        ids: tuple[int, int] | None = getattr(self._preset, "ids", None)
        if ids is None:
            return self.inner.generate_span_id()
        self._preset.ids = None
        return ids[1]

    def is_trace_id_random(self) -> bool:
        return self.inner.is_trace_id_random()

    def preset(self, trace_id: int, span_id: int) -> None:
        self._preset.ids = (trace_id, span_id)

    def clear(self) -> None:
        self._preset.ids = None


def prepare_tracer(tracer: trace.Tracer) -> None:
    """Let ``tracer`` (an SDK tracer private to agentops-otel) make root spans with reserved ids."""
    inner = tracer_id_generator(tracer)
    if isinstance(inner, IdGenerator) and not isinstance(inner, _PresetIdGenerator):
        replace_tracer_id_generator(tracer, _PresetIdGenerator(inner))


class RootSpan:
    """The root span of one session, from ``start`` to ``end``."""

    __slots__ = ("_live", "_start_ns", "_tracer", "placeholder")

    def __init__(self, tracer: trace.Tracer, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        self._tracer = tracer
        self._start_ns = time.time_ns()
        generator = tracer_id_generator(tracer)
        sampler = tracer_sampler(tracer)
        if isinstance(generator, _PresetIdGenerator) and sampler is not None:
            self._live: trace.Span | None = None
            trace_id, span_id = generator.inner.generate_trace_id(), generator.inner.generate_span_id()
            decision = sampler.should_sample(Context(), trace_id, name, SpanKind.INTERNAL, attributes)
            flags = TraceFlags.SAMPLED if decision.decision.is_sampled() else TraceFlags.DEFAULT
            if generator.is_trace_id_random():
                flags |= TraceFlags.RANDOM_TRACE_ID
            self.placeholder: trace.Span = NonRecordingSpan(
                SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(flags),
                            trace_state=decision.trace_state)
            )
        else:
            # An empty parent context: a session is always the root of its own trace.
            self._live = tracer.start_span(name, context=Context(), kind=SpanKind.INTERNAL, attributes=attributes,
                                           start_time=self._start_ns)
            self.placeholder = self._live

    @property
    def start_ns(self) -> int:
        return self._start_ns

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set an attribute now on a live span; a reserved span gets its attributes at ``end``."""
        if self._live is not None:
            self._live.set_attribute(key, value)

    def end(self, name: str, attributes: Mapping[str, AttributeValue], status: Status) -> None:
        """Make (or finish) the span with its final attributes and status, and end it."""
        span = self._live
        if span is None:
            context = self.placeholder.get_span_context()
            generator = tracer_id_generator(self._tracer)
            assert isinstance(generator, _PresetIdGenerator)
            generator.preset(context.trace_id, context.span_id)
            try:
                span = self._tracer.start_span(name, context=Context(), kind=SpanKind.INTERNAL, attributes=attributes,
                                               start_time=self._start_ns)
            finally:
                generator.clear()  # in case the tracer made no span (disabled) and used no ids
        else:
            span.set_attributes(attributes)
        span.set_status(status)
        span.end()
