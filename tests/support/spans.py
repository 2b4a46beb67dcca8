"""Picking spans out of the in-memory exporter the test process exports to."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def call_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """Every span of an LLM call (ours or anyone's): everything but session roots."""
    return [span for span in exporter.get_finished_spans() if span.name != "session"]


def only_call_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The one call span the test made (fails listing the spans, with their scopes, otherwise)."""
    spans = call_spans(exporter)
    assert len(spans) == 1, [(s.name, s.instrumentation_scope and s.instrumentation_scope.name) for s in spans]
    return spans[0]


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """A finished span's attributes (the SDK types them optional; a finished span always has a map)."""
    return dict(span.attributes or {})
