"""Shared test set-up: the process's telemetry, the fixtures every directory uses, the ``slow`` marker.

OpenTelemetry's global tracer and meter providers can be set once per process, so the suite
installs one SDK provider of each here, exporting to memory, before agentops_otel joins them.
Scenarios that need their own provider or configuration run in a subprocess.

Tests that start processes, collectors or load are marked ``slow`` so that ``pytest -m "not slow"``
(``make test-fast``) is a quick inner loop: every test under ``zero_code/``, ``reliability/`` and
``e2e/`` is slow; elsewhere a test that starts a process says so with ``@pytest.mark.slow``, and
fails if it does not.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from agentops_otel_standin import StandInServer
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentops_otel
from agentops_otel._internal import content, registry
from tests.support.clients import openai_client
from tests.support.content_schemas import span_violations
from tests.support.spans import RecordsExporter

os.environ.pop("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", None)
# LiteLLM fetches its model price map from the internet when imported, unless told to use its own copy.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
# anthropic traces itself when a provider is set; our instrumentor must cope, so leave it on.

EXPORTER = RecordsExporter()
METRIC_READER = InMemoryMetricReader()

_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[METRIC_READER]))
agentops_otel.init(auto_start_session=False)


@pytest.fixture
def exporter() -> Iterator[RecordsExporter]:
    """The in-memory exporter every span of the test process reaches, emptied for the test
    (its ``get_finished_spans()`` leaves out the sessions' start records: see ``RecordsExporter``)."""
    EXPORTER.clear()
    yield EXPORTER
    _assert_no_secrets()
    _assert_content_conforms()
    EXPORTER.clear()


# Every API key the suite hands a client starts with "sk-"; an Authorization header with "Bearer ".
# AWS: an access key id (AKIA / ASIA and 16 more), a SigV4 Authorization header or its signature.
_SECRET = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{2,}|Bearer [A-Za-z0-9._-]+"
                     r"|(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])|AWS4-HMAC-SHA256 Credential=\S+"
                     r"|Signature=[0-9a-f]{64}")


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
    leaks = {found for span in EXPORTER.all_spans() for found in _secrets_in(span)}
    if leaks:
        EXPORTER.clear()  # this test's failure, not the next test's
    assert not leaks, f"secrets reached exported spans: {sorted(leaks)}"


@pytest.fixture(autouse=True)
def _content_follows_the_conventions() -> Iterator[None]:
    """Whatever a test does, every content attribute it exported (``gen_ai.input.messages``,
    ``gen_ai.output.messages``, ``gen_ai.system_instructions``, ``gen_ai.tool.definitions``) is
    valid for the GenAI conventions' content model (``tests.support.genai_content_model``)."""
    yield
    _assert_content_conforms()


def _assert_content_conforms() -> None:
    problems = span_violations(EXPORTER.all_spans())
    if problems:
        EXPORTER.clear()  # this test's failure, not the next test's
    assert not problems, "content attributes off the GenAI conventions' content model:\n" + "\n".join(problems[:10])


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


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    """The metric reader of the test process's meter provider (cumulative: compare before and after)."""
    return METRIC_READER


@pytest.fixture
def client(standin: StandInServer) -> Iterator[openai.OpenAI]:
    """A real OpenAI client talking to the stand-in server (instrumentation/anthropic/ has its own)."""
    with openai_client(standin) as c:
        yield c


_TESTS = Path(__file__).parent
SLOW_DIRECTORIES = {"zero_code", "reliability", "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under a slow directory, and every soak test, is ``slow``."""
    for item in items:
        directory = item.path.relative_to(_TESTS).parts[0]
        if directory in SLOW_DIRECTORIES or item.get_closest_marker("soak"):
            item.add_marker(pytest.mark.slow)


# Events raised (PEP 578) when a process is started; a test outside ``slow`` must raise none.
_PROCESS_EVENTS = {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.system", "os.spawn", "os.exec"}
_started: list[str] = []
_watching = False


def _note_process_start(event: str, args: tuple[object, ...]) -> None:
    if _watching and event in _PROCESS_EVENTS:
        _started.append(event)


sys.addaudithook(_note_process_start)
# The OpenAI and Anthropic clients send platform.processor() in a header; the stdlib runs `uname -p`
# for it once per process. Asked here, it is not a process started by the first test to make a call.
platform.processor()


@pytest.fixture(autouse=True)
def _fast_tests_start_no_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked ``slow`` that starts a process fails: ``-m "not slow"`` must stay quick."""
    global _watching
    if request.node.get_closest_marker("slow"):
        yield
        return
    _started.clear()
    _watching = True
    try:
        yield
    finally:
        _watching = False
    assert not _started, f"this test started a process ({_started[0]}): mark it @pytest.mark.slow"
