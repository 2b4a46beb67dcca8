"""Every use of the OpenTelemetry SDK's (and API's) private internals, each with its public fallback.

The SDK keeps some of what agentops-otel needs private: where a span stores its attributes, the
batch processor's queue, how a tracer picks its ids, which meter provider records nothing. Each
access below was read in the source of ``opentelemetry-sdk`` / ``opentelemetry-api`` 1.30.0 and
1.45.2 (the latest tested; 1.45.0, the oldest allowed, has the same ``trace`` package and is tested
by ``make test-oldest``); each falls back to the public API, which gives
the same outcome more slowly (or, for the export queue, without counting drops), when a release
stores things differently. Nothing outside this module touches an SDK object's ``_`` attributes.

Writing attributes onto SDK spans, cheaply: the SDK checks every attribute value it is given
(type, homogeneous sequences, length limit) and takes two locks per call, which is right for
values from anywhere. The values agentops-otel writes itself (strings, numbers, booleans,
sequences of strings) are checked here with one type test each and go straight into the span's
attribute map, under the span's lock, as the SDK would store them (sequences as tuples).
Attributes given when a span starts are left to the SDK, where samplers see them, unless no sampler
of the provider reads them (``start_span``). The direct write is taken only when the outcome is
the one the SDK would give: the span is the SDK's and not
ended, no key is already set, the span's attribute-count limit leaves room for all of them, and
no string is longer than its value-length limit. Otherwise the SDK's public methods decide, so
limits, dropping and warnings behave exactly as the SDK defines them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

# ``SDKConfigurator``: the SDK's configurator, the base class of every distro's
# (``opentelemetry-distro`` subclasses it too); private by name only. Present with
# ``_configure(**kwargs)`` in 1.30.0 and 1.45.2; the ``span_processors`` / ``export_span_processor``
# keywords the distro passes exist in 1.45.2, not in 1.30.0 (there ``_initialize_components`` takes
# neither). Its module imports the SDK's metrics and logs and reads entry points (~70 ms of CPU),
# which only the distro needs: it is imported when the distro asks for it, not with agentops_otel.
if TYPE_CHECKING:
    from opentelemetry.sdk._configuration import _OTelSDKConfigurator

    SDKConfigurator = _OTelSDKConfigurator
else:
    def __getattr__(name: str) -> Any:
        if name == "SDKConfigurator":
            from opentelemetry.sdk._configuration import _OTelSDKConfigurator

            return _OTelSDKConfigurator
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- span attributes --------------------------------------------------------------------------
# Span._attributes is a BoundedAttributes (opentelemetry-api) holding a plain dict in ``_dict``
# (an OrderedDict once an attribute was evicted, in 1.30.0), with public ``maxlen`` and
# ``max_value_len``; Span._lock guards writes and Span._end_time is None until the span ends:
# so in 1.30.0 and 1.45.2. A span without them (another SDK, a NonRecordingSpan, a later release
# that renames them) gets the public set_attribute(s).


def set_attributes(span: trace.Span, attributes: Mapping[str, AttributeValue]) -> None:
    """``span.set_attributes(attributes)``, for values agentops-otel made."""
    if attributes and not _write(span, attributes):
        span.set_attributes(attributes)


def stamp_starting_span(span: trace.Span, stamp: tuple[tuple[str, str], ...]) -> None:
    """Add each ``(key, value)`` of ``stamp`` the span does not have yet, from a span processor's ``on_start``.

    ``on_start`` runs inside ``Tracer.start_span``, before the span is handed to anyone: no other
    thread can reach it, so this runs on every span of the process without taking a lock. A key
    the span was started with keeps the span's own value.
    """
    try:
        bounded: Any = span._attributes  # type: ignore[attr-defined]
        store = bounded._dict
        maxlen = bounded.maxlen
        max_value_len = bounded.max_value_len
    except AttributeError:
        present = getattr(span, "attributes", None) or {}
        for key, value in stamp:
            if key not in present:
                span.set_attribute(key, value)
        return
    direct = type(store) is dict
    for key, value in stamp:
        if key in store:
            continue
        if (
            direct
            and (maxlen is None or len(store) < maxlen)
            and (max_value_len is None or len(value) <= max_value_len)
        ):
            store[key] = value
        else:
            span.set_attribute(key, value)


# -- a span's status ---------------------------------------------------------------------------
# Span._status holds a Status (UNSET when the span starts) and Span._end_time is None until the
# span ends: so in 1.30.0 and 1.45.2. ``set_status`` also takes the span's lock and goes through a
# wrapper that checks the span is not ended: most of what an agent step costs beyond its span.

_OK = Status(StatusCode.OK)


def set_ok(span: trace.Span) -> None:
    """``span.set_status(Status(StatusCode.OK))`` for a span whose maker is ending it.

    Written directly when the span is the SDK's and not ended, as the SDK writes it (OK replaces
    any earlier status); otherwise the SDK's method decides. Without the span's lock: only the
    thread ending the span writes its status then.
    """
    try:
        if span._end_time is None:  # type: ignore[attr-defined]
            span._status = _OK  # type: ignore[attr-defined]
            return
    except AttributeError:
        pass
    span.set_status(_OK)


# -- starting a span with attributes ------------------------------------------------------------
# An SDK Tracer has its provider's sampler in ``sampler``; ``ParentBased`` keeps its delegates in
# ``_root``, ``_remote_parent_sampled``, ``_remote_parent_not_sampled``, ``_local_parent_sampled`` and
# ``_local_parent_not_sampled``: so in 1.30.0 and 1.45.2. The SDK's static and trace-id-ratio
# samplers decide on the parent and the trace id alone. Any other sampler (one of the application's,
# a later release's) may read the attributes: it gets them at the start, through the SDK.

_PARENT_BASED_DELEGATES = ("_root", "_remote_parent_sampled", "_remote_parent_not_sampled",
                           "_local_parent_sampled", "_local_parent_not_sampled")
_blind_sampler: tuple[object, bool] = (None, False)
"""The last sampler looked at, and whether it reads no attribute (providers have one sampler for life)."""
_blind_processors_seen: tuple[object, bool] = (None, False)
"""The last span processors looked at (the provider's tuple: adding one makes a new tuple), and
whether their ``on_start`` reads no attribute."""


def _reads_no_attribute(sampler: object) -> bool:
    from opentelemetry.sdk.trace import sampling

    leaves = {sampling.StaticSampler, sampling.TraceIdRatioBased}
    leaves.update(getattr(sampling, name) for name in ("_AlwaysOn", "_AlwaysOff") if hasattr(sampling, name))
    parent_based = {sampling.ParentBased, sampling.ParentBasedTraceIdRatio}
    parent_based.update(getattr(sampling, name) for name in ("_ParentBasedAlwaysOn", "_ParentBasedAlwaysOff")
                        if hasattr(sampling, name))
    kind = type(sampler)
    if kind in leaves:
        return True
    if kind in parent_based:
        return all(type(getattr(sampler, name, None)) in leaves for name in _PARENT_BASED_DELEGATES)
    return False


def start_span(tracer: trace.Tracer, name: str, context: Any, kind: trace.SpanKind,
               attributes: Mapping[str, AttributeValue], *, seen_at_start: bool = False) -> trace.Span:
    """``tracer.start_span(name, context=context, kind=kind, attributes=attributes)``, for values
    agentops-otel made, at a fraction of the cost when nothing reads them at the start.

    The SDK checks and copies every attribute a span starts with, item by item (about half a bare
    span's cost for three of them); when the provider's sampler reads none of them (the SDK's
    default, ``ParentBased(ALWAYS_ON)``, and its other samplers), the span starts without them and
    they are written in as ``set_attributes`` writes (the SDK's public methods where it would
    decide otherwise). ``seen_at_start``: the span processors' ``on_start`` must see them too, so
    this is done only while every processor's ``on_start`` is known to read no attribute (the
    SDK's batch and simple processors, ours); otherwise processors see them when the span ends.
    """
    global _blind_sampler, _blind_processors_seen
    sampler = getattr(tracer, "sampler", None)
    if sampler is None or not attributes:
        return tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    known = _blind_sampler
    if known[0] is not sampler:
        known = _blind_sampler = (sampler, _reads_no_attribute(sampler))
    if not known[1]:
        return tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    if seen_at_start:
        # An SDK Tracer holds its provider's processors in ``span_processor._span_processors``
        # (1.45.0 and 1.45.2); without them, the SDK's way.
        processors = getattr(getattr(tracer, "span_processor", None), "_span_processors", None)
        seen = _blind_processors_seen
        if seen[0] is not processors:
            seen = _blind_processors_seen = (processors, _blind_processors(processors))
        if not seen[1]:
            return tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    span = tracer.start_span(name, context=context, kind=kind)
    if not _write(span, attributes):  # a span not recording (sampled out) keeps none, as in the SDK
        span.set_attributes(attributes)
    return span


_blind_on_start: set[object] = set()
"""``on_start`` methods marked with ``reads_no_attribute_on_start`` (the SDK's own are added in
``_blind_processors``)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def reads_no_attribute_on_start(on_start: _F) -> _F:
    """Mark a span processor's ``on_start`` as reading no span attribute (see ``start_span``)."""
    _blind_on_start.add(on_start)
    return on_start


def _blind_processors(processors: object) -> bool:
    """Whether every span processor's ``on_start`` is known to read no span attribute."""
    if not isinstance(processors, tuple):
        return False
    # Imported here (once per set of processors): the SDK's export module is not needed before.
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    blind = _blind_on_start | {SpanProcessor.on_start, BatchSpanProcessor.on_start, SimpleSpanProcessor.on_start}
    return all(getattr(type(processor), "on_start", None) in blind for processor in processors)


def _write(span: trace.Span, attributes: Mapping[str, AttributeValue]) -> bool:
    """Write ``attributes`` into the SDK span's map if the SDK would store them unchanged."""
    try:
        bounded: Any = span._attributes  # type: ignore[attr-defined]
        store = bounded._dict
        maxlen = bounded.maxlen
        max_value_len = bounded.max_value_len
        lock = span._lock  # type: ignore[attr-defined]
    except AttributeError:
        return False
    if type(store) is not dict:
        return False
    # Plain loops, not all()/any(): a generator costs more than the checks it runs. (Every check
    # is paid on each agent step and LLM call: one loop, and dict operations in C below.)
    lists = False
    for key, value in attributes.items():
        if type(key) is not str or not key:
            return False  # the SDK drops a bad key: let it
        kind = type(value)
        if kind is str:
            if max_value_len is not None and len(value) > max_value_len:  # type: ignore[arg-type]
                return False
        elif kind is list or kind is tuple:
            lists = lists or kind is list
            for item in value:  # type: ignore[union-attr]
                if type(item) is not str or (max_value_len is not None and len(item) > max_value_len):
                    return False
        elif kind is not int and kind is not float and kind is not bool:
            return False
    with lock:
        if span._end_time is not None:  # type: ignore[attr-defined]
            return False  # the SDK's set_attributes warns and drops them
        if maxlen is not None and len(store) + len(attributes) > maxlen:
            return False
        if not store.keys().isdisjoint(attributes):
            return False  # the SDK moves a replaced key to the end: let it
        if lists:
            for key, value in attributes.items():
                store[key] = tuple(value) if type(value) is list else value  # the SDK stores sequences as tuples
        else:
            store.update(attributes)
    return True


# -- the batch span processor's queue -----------------------------------------------------------


def export_queue(processor: Any) -> tuple[deque[Any] | None, int]:
    """The queue of a ``BatchSpanProcessor`` and its capacity, to count the spans it would drop.

    1.45.2: ``processor._batch_processor._queue`` / ``._max_queue_size`` (the shared
    ``BatchProcessor``); 1.30.0: ``processor.queue`` / ``processor.max_queue_size``. The SDK
    exposes no drop counter; with neither layout the queue is ``None`` and drops go uncounted.
    """
    batch = getattr(processor, "_batch_processor", None)
    queue = getattr(batch, "_queue", None)
    if isinstance(queue, deque):
        return queue, getattr(batch, "_max_queue_size", 0) or 0
    queue = getattr(processor, "queue", None)
    if isinstance(queue, deque):
        return queue, getattr(processor, "max_queue_size", 0) or 0
    return None, 0


# -- the OTLP exporters ----------------------------------------------------------------------------


def exporter_endpoint(exporter: object) -> str | None:
    """Where an OTLP span exporter sends (gRPC: ``host:port``; HTTP: the URL), else ``None``.

    Both keep it in ``_endpoint`` in 1.30.0 and 1.45.2.
    """
    endpoint = getattr(exporter, "_endpoint", None)
    return endpoint if isinstance(endpoint, str) and endpoint else None


def stop_retrying(exporter: object) -> None:
    """Make an OTLP exporter give up after a failed attempt instead of retrying with backoff.

    1.45.2: their retry loops wait on an event their ``shutdown()`` sets (gRPC:
    ``_shutdown_in_progress``; HTTP: its client's ``_shutdown_event``, earlier releases the
    exporter's ``_shutdown_in_progress``). Setting it, and only it, cuts the wait short, also for an
    export already waiting on another thread, while the next export is still sent. With an exporter
    that has no such event this does nothing, and a refused connection is retried until the export
    timeout.
    """
    for holder, name in ((exporter, "_shutdown_in_progress"), (getattr(exporter, "_client", None), "_shutdown_event")):
        event = getattr(holder, name, None)
        if isinstance(event, threading.Event):
            event.set()


_parents_channels: list[object] = []
"""The gRPC channels a forked child inherited, kept referenced so that they are never destroyed there."""


def connect_anew_in_child(exporter: object) -> None:
    """Give an OTLP gRPC exporter a channel of its own in a forked child (call in the child, before
    its first export).

    The inherited channel is the parent's: its connection is the parent's socket (frames of two
    processes on one HTTP/2 connection), and with gRPC's fork support off (the default) its state
    is whatever the parent's threads left at the fork, a lock held by a request then in flight
    included. 1.45.2: the exporter makes its channel and stub in ``_initialize_channel_and_stub()``
    (also its own reconnection after ``UNAVAILABLE``), kept in ``_channel``. The parent's channel is
    not closed but kept: destroying it could shut down the socket the parent still uses. Other
    exporters (HTTP, console) are left as they are.
    """
    channel = getattr(exporter, "_channel", None)
    initialize = getattr(exporter, "_initialize_channel_and_stub", None)
    if channel is None or not callable(initialize):
        return
    _parents_channels.append(channel)
    initialize()


class ResponseTap:
    """The collector's answer to an OTLP span exporter's last request on this thread.

    The exporters read the status and drop the body, which may carry an OTLP ``partial_success``
    (spans the collector rejected). 1.45.2: the gRPC exporter calls ``self._client.Export(...)``
    (a ``TraceServiceStub``, made again when the channel is re-initialised) and gets the
    ``ExportTraceServiceResponse``; the HTTP exporter calls ``self._client._transport.request(...)``
    and gets a result with ``content()``. Earlier HTTP exporters post with ``self._session.post``
    (a ``requests`` response). Each call is wrapped on the instance, again before every export if
    it was replaced; with none of these layouts nothing is tapped and no rejection is seen.

    ``in_flight`` is held while a tapped request is out (not while the exporter waits to retry), so
    that ``fork()`` can wait for it (``export_guard``).
    """

    def __init__(self, exporter: object) -> None:
        self._exporter = exporter
        self._local = threading.local()
        self.in_flight = threading.RLock()

    def prepare(self) -> None:
        """Forget the last answer, and wrap the exporter's call if it is not wrapped (any more)."""
        self._local.answer = None
        client = getattr(self._exporter, "_client", None)
        for holder, name in ((client, "Export"), (getattr(client, "_transport", None), "request"),
                             (getattr(self._exporter, "_session", None), "post")):
            call = getattr(holder, name, None)
            if call is not None and not getattr(call, "_agentops_tap", False):
                try:
                    setattr(holder, name, self._tapped(call))
                except (AttributeError, TypeError):
                    pass

    def _tapped(self, call: Any) -> Any:
        local = self._local

        def tapped(*args: Any, **kwargs: Any) -> Any:
            with self.in_flight:  # read here: a forked child replaces the lock
                answer = call(*args, **kwargs)
            local.answer = answer
            return answer

        tapped._agentops_tap = True  # type: ignore[attr-defined]
        return tapped

    def body(self) -> object:
        """The last answer: an ``ExportTraceServiceResponse`` (gRPC), its bytes (HTTP), or ``None``."""
        answer = getattr(self._local, "answer", None)
        if answer is None or hasattr(answer, "partial_success"):
            return answer
        content = getattr(answer, "content", None)
        try:
            return content() if callable(content) else content
        except Exception:
            return None


# -- a tracer's ids and sampler ------------------------------------------------------------------
# ``Tracer.id_generator`` and ``Tracer.sampler`` are plain attributes of the SDK's Tracer, which
# ``start_span`` reads on every span (1.30.0 and 1.45.2), though not documented as API. Without
# them (another tracer) a session's root span is started and held open instead of reserved.


def tracer_id_generator(tracer: trace.Tracer) -> object:
    """The tracer's id generator (an ``IdGenerator`` for the SDK's tracer), else ``None``."""
    return getattr(tracer, "id_generator", None)


def replace_tracer_id_generator(tracer: trace.Tracer, generator: IdGenerator) -> None:
    """Make ``tracer`` (an SDK tracer of our own, not shared) take its ids from ``generator``."""
    tracer.id_generator = generator  # type: ignore[attr-defined]


def tracer_sampler(tracer: trace.Tracer) -> Any:
    """The tracer's ``Sampler`` (the SDK's tracer has one), else ``None``."""
    return getattr(tracer, "sampler", None)


# -- meter providers that record nothing ---------------------------------------------------------

_NON_RECORDING_METER_PROVIDERS = frozenset({"_ProxyMeterProvider", "NoOpMeterProvider"})
"""The API's default stand-in (a proxy until a provider is set, ``opentelemetry.metrics._internal``)
and its no-op, by class name, as in 1.30.0 and 1.45.2. Were one renamed, it would count as
recording: the metrics would be built for a provider that drops them, correct but slower."""


def meter_provider_records(provider: object) -> bool:
    """Whether ``provider`` (the global meter provider) records measurements."""
    return type(provider).__name__ not in _NON_RECORDING_METER_PROVIDERS
