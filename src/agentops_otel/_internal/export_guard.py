"""Span export that can never disturb the application it observes.

The OpenTelemetry SDK already exports on a background thread (``BatchSpanProcessor``), so a dead
or slow collector never blocks an LLM call. What it does not do is stay quiet and bounded: its
OTLP exporters log every retry and failure (which lands on stderr in an application that has not
configured logging), the batch processor logs each span it drops from a full queue, and at exit
a flush and a shutdown can each wait the whole export timeout on a collector that is down.

``ExportGuard`` wraps an exporter and ``GuardedBatchSpanProcessor`` wraps the SDK's batch
processor around it, so that:

* the exporters' log records are silenced while they export (re-logged at DEBUG on the
  ``agentops_otel.export`` logger) and replaced by one warning of ours, rate-limited;
* failures and spans dropped from the full queue are counted (``agentops_otel.export_stats()``);
* once the process is exiting (``begin_closing``), a failed export is not retried after a
  backoff (also one already waiting to retry), only once at once if it failed at once, and after
  an export of the exit flush failed no other is tried, so the process exits at once when nothing
  listens on the endpoint (a refused connection is a definite answer) and within the export
  timeout when the collector stalls. A failure before the exit does not count: the collector may
  be back, and the last spans get their attempt;
* a session's start record (``pending_span``) is exported soon after the session starts
  (``export_soon``), on a thread of ours, not at the batch processor's next cycle (5 s by default),
  and only while the queue has room to spare (``room_for_extras``);
* text that is not valid Unicode (lone surrogates, e.g. from ``"\\ud800"`` in JSON) is escaped
  before export: the OTLP encoder would otherwise fail the whole batch, every session in it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes

from agentops_otel._internal.exporters import BatchSettings, batch_settings_and_problems
from agentops_otel._internal.sdk_internals import (
    ResponseTap,
    connect_anew_in_child,
    export_queue,
    exporter_endpoint,
    stop_retrying,
)

if TYPE_CHECKING:
    from agentops_otel._internal.export_stats import ExportStats

logger = logging.getLogger("agentops_otel.export")

WARNING_INTERVAL_SECONDS = 300.0
"""At most one export warning is logged per this many seconds; the rest are only counted."""
DEFAULT_EXPORT_TIMEOUT_SECONDS = 10.0
"""The OTLP exporters' default timeout (``OTEL_EXPORTER_OTLP_TIMEOUT`` unset)."""
NOISY_LOGGERS = ("opentelemetry.exporter", "opentelemetry.sdk._shared_internal", "urllib3", "requests", "grpc")
"""Loggers (and their children) whose records are silenced while a guarded export runs."""

EXIT_RETRY_WITHIN_SECONDS = 1.0
"""At exit, an export that failed within this long is tried once more at once (see ``ExportGuard.export``)."""

FORK_WAIT_SECONDS = 1.0
"""At most this long ``fork()`` waits for an export request in flight (all exporters together)."""

PROMPT_EXPORT_INTERVAL_SECONDS = 0.5
"""``export_soon`` exports at once, then at most once per this many seconds: sessions started in a
burst share exports, and a steady stream of new sessions costs at most two extra exports a second."""

_TIMEOUT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")


# The locks of this module are reentrant: a signal handler that ends a session (a span ending,
# maybe dropped from a full queue and counted) may run while its thread holds one of them.


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.exported = self.failed = self.dropped = self.failed_exports = self.rejected = 0
        self.last_error: str | None = None

    def add(self, *, exported: int = 0, failed: int = 0, dropped: int = 0, error: str | None = None,
            rejected: int = 0) -> None:
        with self.lock:
            self.exported += exported
            self.failed += failed
            self.dropped += dropped
            self.rejected += rejected
            if rejected:
                self.last_error = error
            elif error is not None:
                self.failed_exports += 1
                self.last_error = error

    def snapshot(self) -> ExportStats:
        from agentops_otel._internal.export_stats import ExportStats  # here: only export_stats() needs it

        with self.lock:
            return ExportStats(self.exported, self.failed, self.dropped, self.failed_exports, self.last_error,
                               self.rejected)


_counters = _Counters()


def export_stats() -> ExportStats:
    """Counts of spans exported, failed and dropped by the exporters agentops-otel installed."""
    return _counters.snapshot()


class _RateLimitedWarning:
    """One warning per ``WARNING_INTERVAL_SECONDS`` for the whole process, the first one at once."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.last: float | None = None

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self.lock:
            if self.last is not None and now - self.last < WARNING_INTERVAL_SECONDS:
                return
            self.last = now
        logger.warning(message, *args)


_warning = _RateLimitedWarning()
_guards: weakref.WeakSet[ExportGuard] = weakref.WeakSet()
_processors: tuple[GuardedBatchSpanProcessor, ...] = ()
"""The guarded processors not shut down (a tuple: read on every session start, replaced on change;
the SDK's worker thread keeps each processor alive anyway)."""


# -- silencing the exporters' own logging -------------------------------------------------------

_quiet = threading.local()


class _Silencer(logging.Filter):
    """Drops records logged on a thread that is inside a guarded export, keeping their text.

    A logger filter, not a handler filter: in an application with no logging set up, records
    reach stderr through ``logging.lastResort``, which no handler filter of ours could cover.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        heard: list[str] | None = getattr(_quiet, "heard", None)
        if heard is None:
            return True
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.levelno >= logging.WARNING:
            heard.append(text)
        logger.debug("agentops-otel: %s said: %s", record.name, text)
        return False


_silencer = _Silencer()
_filtered_count = -1
_filter_lock = threading.RLock()


def _silence_noisy_loggers() -> None:
    """Put the silencer on every existing logger under ``NOISY_LOGGERS`` (cheap when none is new)."""
    global _filtered_count
    logger_dict = logging.Logger.manager.loggerDict
    if len(logger_dict) == _filtered_count:
        return
    with _filter_lock:
        for name, each in list(logger_dict.items()):
            if isinstance(each, logging.Logger) and _silencer not in each.filters and any(
                name == prefix or name.startswith(prefix + ".") for prefix in NOISY_LOGGERS
            ):
                each.addFilter(_silencer)
        _filtered_count = len(logger_dict)


@contextmanager
def _silenced() -> Iterator[list[str]]:
    """Silence the noisy loggers on this thread; yields the warning/error texts they logged."""
    previous = getattr(_quiet, "heard", None)
    heard: list[str] = []
    _quiet.heard = heard
    try:
        yield heard
    finally:
        _quiet.heard = previous


# -- the guard -----------------------------------------------------------------------------------


def export_timeout_seconds() -> float:
    """The OTLP export timeout in seconds, read as the OpenTelemetry Python exporters read it."""
    for name in _TIMEOUT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            try:
                seconds = float(value)
            except ValueError:
                continue
            if seconds > 0:
                return seconds
    return DEFAULT_EXPORT_TIMEOUT_SECONDS


# -- text OTLP can carry ---------------------------------------------------------------------------


def _is_utf8(value: object) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, (tuple, list)):
        return all(_is_utf8(item) for item in value)
    return True


def _utf8(value: Any) -> Any:
    if isinstance(value, str):
        return value if _is_utf8(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, (tuple, list)):
        return tuple(_utf8(item) for item in value)
    return value


def _attributes_utf8(attributes: Attributes) -> bool:
    return not attributes or all(_is_utf8(key) and _is_utf8(value) for key, value in attributes.items())


def _clean_attributes(attributes: Attributes) -> dict[str, Any]:
    return {_utf8(key): _utf8(value) for key, value in (attributes or {}).items()}


def _span_is_utf8(span: ReadableSpan) -> bool:
    return (
        _is_utf8(span.name)
        and _is_utf8(span.status.description)
        and _attributes_utf8(span.attributes)
        and all(_is_utf8(event.name) and _attributes_utf8(event.attributes) for event in span.events)
    )


def exportable(spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
    """``spans``, with every string OTLP cannot encode (not valid UTF-8) escaped in a copy."""
    if all(_span_is_utf8(span) for span in spans):
        return spans
    return [span if _span_is_utf8(span) else _utf8_copy(span) for span in spans]


def _utf8_copy(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    if status.description is not None:
        status = Status(status.status_code, _utf8(status.description))
    return ReadableSpan(
        name=_utf8(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_clean_attributes(span.attributes),
        events=[Event(_utf8(event.name), _clean_attributes(event.attributes), event.timestamp)
                for event in span.events],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _reason(heard: Sequence[str]) -> str:
    if not heard:
        return "the exporter reported a failure"
    first, last = heard[0], heard[-1]
    text = first if first == last else f"{first} ... {last}"
    return text if len(text) <= 500 else text[:500] + "..."


_TLS_FAILURES = ("handshake failed", "wrong_version_number", "sslerror", "ssl: ")


def _tls_mismatch(reason: str, exporter: SpanExporter) -> str:
    """``reason``, or what to do about it when it is a TLS handshake with a plaintext collector."""
    lowered = reason.lower()
    if not any(failure in lowered for failure in _TLS_FAILURES):
        return reason
    endpoint = exporter_endpoint(exporter) or ""
    address = endpoint.split("://", 1)[-1].split("/", 1)[0] or "the collector"
    return (f"TLS handshake with {address} failed: is the collector plaintext? Use http://{address} "
            "(for gRPC, an endpoint without a scheme means TLS)")


def _rejected(body: object, sent: int) -> tuple[int, str]:
    """How many spans an OTLP answer says were rejected (``partial_success``), and why."""
    if isinstance(body, bytes) and body:
        # Only an OTLP/HTTP answer is bytes, and that exporter has imported protobuf already: a
        # process exporting otherwise (console, none, gRPC) does not pay for it at start-up.
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        try:
            body = ExportTraceServiceResponse.FromString(body)
        except Exception:  # not a protobuf answer (JSON, an HTML page): nothing to read
            return 0, ""
    partial = getattr(body, "partial_success", None)
    rejected = int(getattr(partial, "rejected_spans", 0) or 0)
    message = str(getattr(partial, "error_message", "") or "no reason given")
    return min(max(rejected, 0), sent), message[:500]


def begin_closing() -> None:
    """The process is exiting: every guard stops retrying after a backoff, and stops exporting
    once an export fails.

    Called before the at-exit flush, so that a collector that is down costs the exit at most
    one export timeout instead of one per flush, shutdown and batch.
    """
    for guard in list(_guards):
        guard.begin_closing()


def abandon() -> None:
    """The process must end now (Ctrl-C during the exit flush): every guard stops exporting."""
    for guard in list(_guards):
        guard.begin_closing()
        guard._closing_deadline = time.monotonic()


class ExportGuard(SpanExporter):
    """A span exporter that never raises, never prints, counts what it loses and warns once.

    Wraps the exporter that really sends spans (OTLP, console, ...). Use it behind a batch
    processor (``GuardedBatchSpanProcessor``): the guard does not make a slow exporter fast, the
    batch processor keeps it off the application's threads.
    """

    def __init__(self, exporter: SpanExporter, timeout_seconds: float | None = None) -> None:
        self.exporter = exporter
        self.timeout_seconds = timeout_seconds if timeout_seconds is not None else export_timeout_seconds()
        self._failed_while_closing = False
        self._closing_deadline: float | None = None
        self._responses = ResponseTap(exporter)
        self._pid = os.getpid()
        _guards.add(self)
        _silence_noisy_loggers()

    def begin_closing(self) -> None:
        """The process is exiting: from now on, do not wait on a collector that just failed."""
        if self._closing_deadline is None:
            self._closing_deadline = time.monotonic() + self.timeout_seconds
            # The OTLP exporters retry a refused connection with backoff until their timeout: 7.5 s
            # added to a newcomer's script run with no collector.
            stop_retrying(self.exporter)

    @property
    def is_closing(self) -> bool:
        return self._closing_deadline is not None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        deadline = self._closing_deadline
        if deadline is not None and (self._failed_while_closing or time.monotonic() >= deadline):
            # Exiting with a collector that is down or too slow: another attempt would only hold
            # the process up for another export timeout.
            _counters.add(failed=len(spans))
            return SpanExportResult.FAILURE
        _silence_noisy_loggers()
        self._own_connection()
        started = time.monotonic()
        result, error = self._send(spans)
        if result != SpanExportResult.SUCCESS and self._closing_deadline is not None:
            # Exiting, when the exporters' own retry (after a backoff) is cut short: a failure
            # that came at once (a keep-alive connection the collector had closed, a collector
            # restarting, gRPC's UNAVAILABLE) gets one more attempt at once. A collector that is
            # down refuses it in a millisecond; one that stalled is not waited on again.
            now = time.monotonic()
            if now - started < EXIT_RETRY_WITHIN_SECONDS and now < self._closing_deadline:
                result, _ = self._send(spans)  # if it fails too, the first failure says why
        if result == SpanExportResult.SUCCESS:
            rejected, message = _rejected(self._responses.body(), len(spans))
            reason = f"the collector rejected {rejected} of {len(spans)} spans: {message}" if rejected else None
            _counters.add(exported=len(spans) - rejected, rejected=rejected, error=reason)
            if rejected:
                _warning.warn(
                    "agentops-otel: the collector accepted the export but rejected %d of %d spans (%s). "
                    "Counted in agentops_otel.export_stats().rejected_spans; not logged again for %d minutes.",
                    rejected, len(spans), message, int(WARNING_INTERVAL_SECONDS // 60),
                )
            return result
        return self._failed(spans, _tls_mismatch(error, self.exporter))

    def _send(self, spans: Sequence[ReadableSpan]) -> tuple[SpanExportResult, str]:
        """One export by the wrapped exporter: its result, and why it failed (else ``""``)."""
        self._responses.prepare()
        with _silenced() as heard:
            try:
                result = self.exporter.export(exportable(spans))
            except Exception as exc:  # an exporter bug must not kill the export thread
                return SpanExportResult.FAILURE, f"{type(exc).__name__}: {exc}"
        if result == SpanExportResult.SUCCESS:
            return result, ""
        return result, _reason(heard)

    def _failed(self, spans: Sequence[ReadableSpan], reason: str) -> SpanExportResult:
        # A failure during the exit flush stops it (see ``export``); one before it does not: the
        # collector may be back by then, and the last spans are worth one attempt.
        self._failed_while_closing = self._closing_deadline is not None
        _counters.add(failed=len(spans), error=reason)
        _warning.warn(
            "agentops-otel: could not export %d spans (%s). The application is not affected; later spans "
            "are exported when the collector accepts them again. Export problems are counted, not logged, "
            "for the next %d minutes: see agentops_otel.export_stats().",
            len(spans), reason, int(WARNING_INTERVAL_SECONDS // 60),
        )
        return SpanExportResult.FAILURE

    def _own_connection(self) -> None:
        """In a forked child, before the first export or shutdown: a connection of its own (its
        shutdown closes the channel, which must not be the parent's)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            connect_anew_in_child(self.exporter)

    def shutdown(self) -> None:
        self.begin_closing()
        self._own_connection()
        with _silenced():
            try:
                self.exporter.shutdown()
            except Exception:
                logger.debug("agentops-otel: the exporter failed to shut down", exc_info=True)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with _silenced():
            try:
                return bool(self.exporter.force_flush(timeout_millis))
            except Exception:
                logger.debug("agentops-otel: the exporter failed to flush", exc_info=True)
                return False


def export_soon() -> None:
    """Export what the guarded processors hold now (on a thread of ours), not at their next cycle."""
    for processor in _processors:
        processor.export_soon()


def room_for_extras() -> bool:
    """Whether every guarded export queue is less than half full: room for spans that are not
    data (a session's start record) without crowding out spans that are."""
    return all(processor.has_room_for_extras() for processor in _processors)


class GuardedBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's ``BatchSpanProcessor`` around an ``ExportGuard``, counting the spans it drops.

    The queue stays bounded by ``OTEL_BSP_MAX_QUEUE_SIZE`` (default 2048 spans) as in the SDK;
    when it is full a new span is dropped at once (the spans already queued go first), counted in
    ``export_stats().dropped_spans`` and reported by one rate-limited warning and a summary at
    shutdown, instead of one log line per span.
    """

    def __init__(self, exporter: SpanExporter, settings: BatchSettings | None = None) -> None:
        self.guard = exporter if isinstance(exporter, ExportGuard) else ExportGuard(exporter)
        # Read here, not by the SDK: a bad OTEL_BSP_* value gets its default (init() rejected it
        # already; under opentelemetry-instrument the configurator warned once) instead of the
        # SDK's bare ValueError or traceback.
        if settings is None:
            settings, _ = batch_settings_and_problems()
        super().__init__(
            self.guard,
            max_queue_size=settings.max_queue_size,
            schedule_delay_millis=settings.schedule_delay_millis,
            max_export_batch_size=settings.max_export_batch_size,
            export_timeout_millis=settings.export_timeout_millis,
        )
        self.dropped_spans = 0
        # The SDK has no drop counter: the queue's length is read (never changed) to count drops.
        self._queue, self.max_queue_size = export_queue(self)
        self._soon = threading.Event()
        self._soon_pid = 0  # the process whose thread serves export_soon (0: none started yet)
        self._closed = False
        global _processors
        _processors = (*_processors, self)

    def export_soon(self) -> None:
        """Export the queue soon (see ``PROMPT_EXPORT_INTERVAL_SECONDS``) on a thread of ours.

        The SDK's worker, woken early, exports only full batches; ``force_flush`` exports what is
        queued but blocks its caller until the collector answers. So the flush runs on a daemon
        thread, started at the first request (again in a forked child, which has no threads).
        """
        if self._closed:
            return
        pid = os.getpid()
        if self._soon_pid != pid:
            # No lock: one held by another thread at fork() would stay held in the child. Two
            # threads racing here at worst start a second, idle thread.
            self._soon_pid = pid
            self._soon = threading.Event()
            threading.Thread(target=_export_when_asked, args=(weakref.ref(self), self._soon),
                             name="agentops-otel prompt export", daemon=True).start()
        self._soon.set()

    def has_room_for_extras(self) -> bool:
        queue = self._queue
        return queue is None or 2 * len(queue) < self.max_queue_size

    def on_end(self, span: ReadableSpan) -> None:
        queue = self._queue
        sampled = span.context is not None and span.context.trace_flags.sampled
        if queue is None or 2 * len(queue) < self.max_queue_size or not sampled:
            super().on_end(span)
            return
        if len(queue) < self.max_queue_size:
            # Nearly full: another thread, or a signal handler run on this one, can fill the queue
            # between this check and the SDK's, which then drops its oldest span and logs "Queue
            # full" on the application's thread. Silenced, and counted as our own drops are.
            with _silenced() as heard:
                super().on_end(span)
            if heard:
                self.dropped_spans += 1
                _counters.add(dropped=1)
            return
        if self.guard.is_closing:
            # Exiting (thousands of open sessions ending in one loop): wait for room instead of
            # dropping. The flush exports on this thread, batch by batch; with a collector that is
            # down it fails at once, and the guard's exit deadline bounds the whole.
            self.force_flush()
            if len(queue) < self.max_queue_size:
                super().on_end(span)
                return
        self.dropped_spans += 1
        _counters.add(dropped=1)
        _warning.warn(
            "agentops-otel: the span export queue is full (%d spans): the collector is down or slower than "
            "the application; dropping new spans until it catches up. The application is not affected. "
            "Drops are counted (agentops_otel.export_stats().dropped_spans) and summed up at exit.",
            self.max_queue_size,
        )
        # Not handed to the SDK, which would drop its oldest span instead and build a "Queue full"
        # log record for each one, on the application's thread.

    def shutdown(self) -> None:
        self.guard.begin_closing()
        self._closed = True
        self._soon.set()  # the prompt export thread ends
        global _processors
        _processors = tuple(processor for processor in _processors if processor is not self)
        super().shutdown()  # type: ignore[no-untyped-call]
        if self.dropped_spans:
            logger.warning(
                "agentops-otel: %d spans were dropped because the export queue (%d spans) was full; "
                "raise OTEL_BSP_MAX_QUEUE_SIZE or check the collector.",
                self.dropped_spans, self.max_queue_size,
            )


def _export_when_asked(processor_ref: weakref.ref[GuardedBatchSpanProcessor], asked: threading.Event) -> None:
    """The prompt export thread of one processor (held weakly, so that it can be collected)."""
    while True:
        asked.wait()
        processor = processor_ref()
        if processor is None or processor._closed or processor.guard.is_closing:
            return  # exiting: the exit flush exports the rest
        asked.clear()
        processor.force_flush()
        del processor
        time.sleep(PROMPT_EXPORT_INTERVAL_SECONDS)


# fork() while an export request is out (the SDK's worker or our prompt export, on their threads) gave
# the child the exporter's connection in the middle of it: with gRPC, whose fork support is off by
# default, the child hung on the channel's lock or gRPC aborted ("ev_epoll1_linux.cc Check failed").
# So a fork waits for the request in flight (at most FORK_WAIT_SECONDS: a collector that stalls does
# not hold the application up longer) and no request starts until it is done; and the child's first
# export opens a connection of its own (connect_anew_in_child) instead of using the parent's.
_held_at_fork: list[threading.RLock] = []


def _before_fork() -> None:
    deadline = time.monotonic() + FORK_WAIT_SECONDS
    for guard in list(_guards):
        in_flight = guard._responses.in_flight
        if in_flight.acquire(timeout=max(0.0, deadline - time.monotonic())):
            _held_at_fork.append(in_flight)


def _after_fork_in_parent() -> None:
    while _held_at_fork:
        _held_at_fork.pop().release()


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() would stay held forever in the child.
    _held_at_fork.clear()
    for guard in list(_guards):
        guard._responses.in_flight = threading.RLock()
    _counters.lock = threading.RLock()
    _warning.lock = threading.RLock()
    global _filter_lock
    _filter_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
