"""The tree of finished spans, by parent, for asserting a whole trace's shape at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

SpanTree = tuple[str, list["SpanTree"]]
"""A span's name and its children's trees, in start order."""


def span_forest(spans: Sequence[ReadableSpan]) -> list[SpanTree]:
    """The trees of ``spans`` (those whose parent is not among them are roots), in start order.

    Example::

        assert span_forest(exporter.get_finished_spans()) == [
            ("session", [("invoke_agent weather", [("agent", [("chat gpt-4o-mini", [])])])]),
        ]
    """
    ids = {span.context.span_id for span in spans if span.context is not None}
    children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        children[parent].append(span)

    def tree(span: ReadableSpan) -> SpanTree:
        assert span.context is not None
        kids = sorted(children[span.context.span_id], key=lambda s: s.start_time or 0)
        return span.name, [tree(kid) for kid in kids]

    return [tree(root) for root in sorted(children[None], key=lambda s: s.start_time or 0)]
