"""``ExportStats``: what span export did in this process, as ``agentops_otel.export_stats()`` returns it.

A module of its own, imported by the first ``export_stats()`` call: making the dataclass costs
about a millisecond of start-up, which a process that never asks for the figures does not pay
(``export_guard`` keeps the counts).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportStats:
    """What span export did in this process so far (all exporters agentops-otel installed).

    Example::

        stats = agentops_otel.export_stats()
        if stats.dropped_spans or stats.failed_spans:
            print(f"lost {stats.dropped_spans + stats.failed_spans} spans: {stats.last_error}")
    """

    exported_spans: int = 0
    """Spans the collector accepted."""
    failed_spans: int = 0
    """Spans in batches the collector did not accept (down, unreachable, too slow, error status)."""
    dropped_spans: int = 0
    """Spans dropped before export because the export queue (``OTEL_BSP_MAX_QUEUE_SIZE``) was full."""
    failed_exports: int = 0
    """Export attempts (batches) that failed."""
    last_error: str | None = None
    """Why the last failed export failed (or spans were rejected), as the exporter or collector said."""
    rejected_spans: int = 0
    """Spans the collector answered it did not keep (OTLP ``partial_success``), not in ``exported_spans``."""
