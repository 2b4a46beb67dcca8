"""Shared test set-up.

OpenTelemetry's global tracer and meter providers can be set once per process, so the suite
installs one SDK provider of each here, exporting to memory, before agentops_otel joins them.
Scenarios that need their own provider or configuration run in a subprocess.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator

import pytest
from agentops_otel_standin import StandInServer
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel
from agentops_otel._internal import content, registry

os.environ.pop("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", None)
# anthropic traces itself when a provider is set; our instrumentor must cope, so leave it on.

EXPORTER = InMemorySpanExporter()
METRIC_READER = InMemoryMetricReader()

_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[METRIC_READER]))
agentops_otel.init(auto_start_session=False)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter every span of the test process reaches, emptied for the test."""
    EXPORTER.clear()
    yield EXPORTER
    _assert_no_secrets()
    EXPORTER.clear()


# Every API key the suite hands a client starts with "sk-"; an Authorization header with "Bearer ".
_SECRET = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{2,}|Bearer [A-Za-z0-9._-]+")


def _secrets_in(span: ReadableSpan) -> list[str]:
    texts = [span.name, span.status.description or ""]
    for attributes in [span.attributes, span.resource.attributes, *(event.attributes for event in span.events)]:
        for key, value in (attributes or {}).items():
            texts += [key, *(map(str, value) if isinstance(value, (list, tuple)) else [str(value)])]
    return [found for text in texts for found in _SECRET.findall(text)]


@pytest.fixture(autouse=True)
def _no_secret_reaches_a_span() -> Iterator[None]:
    """Whatever a test does, no API key or auth header value is in any span it exported."""
    yield
    _assert_no_secrets()


def _assert_no_secrets() -> None:
    leaks = {found for span in EXPORTER.get_finished_spans() for found in _secrets_in(span)}
    assert not leaks, f"secrets reached exported spans: {sorted(leaks)}"


@pytest.fixture(autouse=True)
def _no_leftover_sessions() -> Iterator[None]:
    """Each test starts and ends with no active session and content capture off."""
    for session in registry.active_sessions():
        session.end_session("Indeterminate")
    content.set_capture_content(None)
    yield
    for session in registry.active_sessions():
        session.end_session("Indeterminate")
    content.set_capture_content(None)


@pytest.fixture(scope="session")
def standin() -> Iterator[StandInServer]:
    """The stand-in OpenAI/Anthropic API server on 127.0.0.1."""
    with StandInServer() as server:
        yield server


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


def run_in_threads(*targets: Callable[[], object], timeout: float = 30) -> None:
    """Run every target on a thread of its own, all at once; fail with what any of them raised.

    A thread cannot fail a test itself: its exception would only be printed.
    """
    errors: list[BaseException] = []

    def guarded(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors[:3]
