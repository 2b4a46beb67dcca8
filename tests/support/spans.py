"""Picking spans out of the in-memory exporter the test process exports to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentops_otel._internal.pending_span import is_pending_span


class RecordsExporter(InMemorySpanExporter):
    """An in-memory exporter whose ``get_finished_spans()`` leaves out the sessions' start records.

    Every session exports a start record (``session (pending)``, see ``pending_span``) besides
    its root; tests about calls, events and trees look at the rest, tests about the records ask
    ``start_records()`` (or ``all_spans()``).
    """

    def all_spans(self) -> tuple[ReadableSpan, ...]:
        return super().get_finished_spans()

    def get_finished_spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(span for span in super().get_finished_spans() if not is_pending_span(span))

    def start_records(self) -> list[ReadableSpan]:
        return [span for span in super().get_finished_spans() if is_pending_span(span)]


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def call_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """Every span of an LLM call (ours or anyone's): everything but session roots and start records."""
    return [span for span in exporter.get_finished_spans() if span.name != "session" and not is_pending_span(span)]


def only_call_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The one call span the test made (fails listing the spans, with their scopes, otherwise)."""
    spans = call_spans(exporter)
    assert len(spans) == 1, [(s.name, s.instrumentation_scope and s.instrumentation_scope.name) for s in spans]
    return spans[0]


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """A finished span's attributes (the SDK types them optional; a finished span always has a map)."""
    return dict(span.attributes or {})


Tree = list[tuple[str, str, "Tree"]]
"""Spans as ``[(name, kind, children), ...]``, siblings in start order: a whole trace in one literal."""


def sessions(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    """Every exported span by the session id it carries (``session.id``: every span of a session has it)."""
    by_session: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        by_session.setdefault(str(attributes(span)["session.id"]), []).append(span)
    return by_session


def root_of(spans: list[ReadableSpan]) -> ReadableSpan:
    """The one session root span among ``spans``."""
    (root,) = [span for span in spans if span.name == "session"]
    return root


def span_tree(spans: Sequence[ReadableSpan]) -> Tree:
    """The trees the spans form through their parents (a span whose parent is not among them is a root)."""
    ids = {span.context.span_id for span in spans if span.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        children.setdefault(parent, []).append(span)

    def nodes(parent: int | None) -> Tree:
        return [(span.name, span.kind.name, nodes(span.context.span_id if span.context else None))
                for span in sorted(children.get(parent, []), key=lambda s: s.start_time or 0)]

    return nodes(None)
