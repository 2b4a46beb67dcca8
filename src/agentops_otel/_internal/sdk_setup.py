"""Setting up OpenTelemetry tracing, or joining the set-up the application already has."""

from __future__ import annotations

import logging
import os
import threading

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from agentops_otel._internal.export_guard import GuardedBatchSpanProcessor
from agentops_otel._internal.exporters import batch_settings, exporters_from_env
from agentops_otel._internal.processor import SessionSpanProcessor

logger = logging.getLogger(__name__)

_MARK = "_agentops_otel_session_processor"
_lock = threading.Lock()


def ensure_session_processor(provider: TracerProvider) -> None:
    """Add the ``SessionSpanProcessor`` to ``provider`` unless it already has one from us."""
    with _lock:
        if getattr(provider, _MARK, False):
            return
        provider.add_span_processor(SessionSpanProcessor())
        setattr(provider, _MARK, True)


def mark_session_processor(provider: TracerProvider) -> None:
    """Record that ``provider`` was built with a ``SessionSpanProcessor`` (by the SDK configurator),
    so that ``ensure_session_processor`` does not add a second one."""
    with _lock:
        setattr(provider, _MARK, True)


def service_name_of(provider: trace.TracerProvider) -> str:
    """The ``service.name`` of ``provider``'s resource (for a provider that is not the SDK's:
    ``OTEL_SERVICE_NAME``, else the SDK's default ``unknown_service``)."""
    resource = getattr(provider, "resource", None)
    name = resource.attributes.get(SERVICE_NAME) if isinstance(resource, Resource) else None
    if not name:
        name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or "unknown_service"
    return str(name)


def configure(service_name: str | None, exporter: SpanExporter | None) -> trace.TracerProvider:
    """The global tracer provider, with session stamping, installing one if there is none.

    An SDK provider that is already installed (the application's own, or the one
    ``opentelemetry-instrument`` made) is joined: it only gains the session processor, and
    ``exporter`` if one is given. Otherwise a new provider is installed with the resource from
    ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` (``service_name`` wins when given) and a
    ``BatchSpanProcessor`` per exporter that ``OTEL_TRACES_EXPORTER`` selects, or for ``exporter``.
    Exporters we install are guarded (``export_guard``): quiet, counted, bounded at exit.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        ensure_session_processor(current)
        if exporter is not None:
            current.add_span_processor(GuardedBatchSpanProcessor(exporter, batch_settings()))
        return current
    if not isinstance(current, trace.ProxyTracerProvider):
        logger.warning(
            "agentops-otel: the global tracer provider is a %s, not an OpenTelemetry SDK TracerProvider; "
            "sessions will not be exported through it", type(current).__name__)
        return current

    settings = batch_settings()
    exporters = [exporter] if exporter is not None else exporters_from_env()
    attributes = {SERVICE_NAME: service_name} if service_name else {}
    provider = TracerProvider(resource=Resource.create(attributes))
    ensure_session_processor(provider)
    for each in exporters:
        provider.add_span_processor(GuardedBatchSpanProcessor(each, settings))
    trace.set_tracer_provider(provider)
    installed = trace.get_tracer_provider()
    if installed is not provider:  # another thread won the race: join theirs instead
        provider.shutdown()
        if isinstance(installed, TracerProvider):
            ensure_session_processor(installed)
    return installed
