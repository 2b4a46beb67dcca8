"""The Anthropic instrumentor itself: one span per call next to the SDK's own tracing, instrumenting
twice, ``uninstrument()`` restoring the SDK exactly, and the GenAI client metrics.

anthropic 2.x traces itself (scope ``com.anthropic.sdk.python``) whenever a tracer provider is set,
which the test process has; these tests leave that at its default (``ANTHROPIC_OPEN_TELEMETRY``
unset) and count every span that reaches the exporter.
"""

from __future__ import annotations

import asyncio

import anthropic
import anthropic._base_client as base_client
import pytest
from agentops_otel_anthropic import AnthropicInstrumentor
from agentops_otel_standin import StandInServer
from anthropic.types import MessageParam
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_PROVIDER_NAME,
    GEN_AI_RESPONSE_ID,
    GEN_AI_TOKEN_TYPE,
)
from wrapt import FunctionWrapper

from tests.support.clients import ANTHROPIC_API_KEY
from tests.support.subprocesses import run_python

MODEL = "claude-sonnet-5-5"
USER: list[MessageParam] = [{"role": "user", "content": "Say hello."}]
OURS = "agentops_otel_anthropic"
SDK = "com.anthropic.sdk.python"


def scopes(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> list[str]:
    return [span.instrumentation_scope.name if span.instrumentation_scope else "" for span in spans]


def every_kind_of_call(client: anthropic.Anthropic, async_client: anthropic.AsyncAnthropic) -> int:
    """A plain, a streamed, a ``messages.stream`` and an async call; returns how many calls were made."""
    client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    for _ in client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True):
        pass
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        stream.get_final_message()

    async def main() -> None:
        async with async_client:
            await async_client.messages.create(model=MODEL, max_tokens=64, messages=USER)
            async with async_client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as astream:
                await astream.get_final_message()

    asyncio.run(main())
    return 5


def test_one_span_per_call_with_the_sdk_tracing_itself(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, async_client: anthropic.AsyncAnthropic
) -> None:
    calls = every_kind_of_call(client, async_client)
    assert scopes(exporter.get_finished_spans()) == [OURS] * calls


def test_calls_we_do_not_trace_keep_the_sdk_span(exporter: InMemorySpanExporter, client: anthropic.Anthropic) -> None:
    """The SDK's own span is held back only for the calls that get ours: its tracing stays on."""
    counted = client.messages.count_tokens(model=MODEL, messages=USER)
    client.messages.create(model=MODEL, max_tokens=64, messages=USER)

    assert counted.input_tokens > 0
    assert sorted(scopes(exporter.get_finished_spans())) == sorted([SDK, OURS])


def test_instrumenting_twice_is_harmless(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, async_client: anthropic.AsyncAnthropic
) -> None:
    instrumentor = AnthropicInstrumentor()
    assert instrumentor.is_instrumented_by_opentelemetry  # by agentops_otel.init() in conftest
    tracer_property = base_client.BaseClient.__dict__["_tracer"]
    instrumentor.instrument()

    assert base_client.BaseClient.__dict__["_tracer"] is tracer_property
    calls = every_kind_of_call(client, async_client)
    assert scopes(exporter.get_finished_spans()) == [OURS] * calls


def _is_wrapped(cls: type, name: str) -> bool:
    return isinstance(cls.__dict__[name], FunctionWrapper)


def test_uninstrument_restores_the_sdk_and_its_own_tracing(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, async_client: anthropic.AsyncAnthropic
) -> None:
    instrumentor = AnthropicInstrumentor()
    assert _is_wrapped(base_client.SyncAPIClient, "request")
    assert _is_wrapped(base_client.AsyncAPIClient, "request")
    instrumentor.uninstrument()
    try:
        assert not _is_wrapped(base_client.SyncAPIClient, "request")
        assert not _is_wrapped(base_client.AsyncAPIClient, "request")
        tracer_property = base_client.BaseClient.__dict__["_tracer"]
        assert isinstance(tracer_property, property)
        assert tracer_property.fget is not None and tracer_property.fget.__module__ == "anthropic._base_client"

        # The SDK traces each call itself again, and nothing of ours is left.
        calls = every_kind_of_call(client, async_client)
        assert scopes(exporter.get_finished_spans()) == [SDK] * calls
    finally:
        instrumentor.instrument()
    exporter.clear()

    # Instrumented again: ours again, one span per call, and the SDK's property kept for the next uninstrument.
    with anthropic.Anthropic(base_url=str(client.base_url), api_key=ANTHROPIC_API_KEY, max_retries=0) as again:
        message = again.messages.create(model=MODEL, max_tokens=64, messages=USER)
    (span,) = exporter.get_finished_spans()
    assert scopes([span]) == [OURS] and (span.attributes or {})[GEN_AI_RESPONSE_ID] == message.id
    instrumentor.uninstrument()
    try:
        assert base_client.BaseClient.__dict__["_tracer"] is tracer_property
    finally:
        instrumentor.instrument()


def test_genai_client_metrics(
    exporter: InMemorySpanExporter, client: anthropic.Anthropic, metric_reader: InMemoryMetricReader
) -> None:
    """One call adds one duration and one input and one output token-usage measurement (the reader is cumulative)."""

    def anthropic_points(name: str) -> list[dict[str, object]]:
        data = metric_reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        found += [{**dict(point.attributes or {}), "count": point.count}  # type: ignore[union-attr]
                                  for point in metric.data.data_points
                                  if (point.attributes or {}).get(GEN_AI_PROVIDER_NAME) == "anthropic"]
        return found

    def counts_by_token_type() -> dict[str, int]:
        # Other tests' calls (other models, ports) are other points of the same metric: add them up.
        counts: dict[str, int] = {}
        for point in anthropic_points("gen_ai.client.token.usage"):
            token_type = str(point.get(GEN_AI_TOKEN_TYPE))
            counts[token_type] = counts.get(token_type, 0) + int(str(point["count"]))
        return counts

    before = counts_by_token_type()
    durations_before = sum(int(str(p["count"])) for p in anthropic_points("gen_ai.client.operation.duration"))
    client.messages.create(model=MODEL, max_tokens=64, messages=USER)

    durations = sum(int(str(p["count"])) for p in anthropic_points("gen_ai.client.operation.duration"))
    assert durations == durations_before + 1
    after = counts_by_token_type()
    for token_type in ("input", "output"):
        assert after[token_type] == before.get(token_type, 0) + 1


@pytest.mark.slow
def test_init_does_not_import_anthropic_and_wraps_it_when_the_app_does(standin: StandInServer) -> None:
    """Importing anthropic takes seconds; a process pays that only when it uses the client."""
    result = run_python(f"""
        import sys
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import agentops_otel

        exporter = InMemorySpanExporter()
        session = agentops_otel.init(exporter=exporter)
        print("imported after init:", "anthropic" in sys.modules)

        import anthropic

        client = anthropic.Anthropic(base_url={standin.anthropic_base_url!r}, api_key="k", max_retries=0)
        with client.messages.stream(model="claude-sonnet-5-5", max_tokens=8,
                                    messages=[{{"role": "user", "content": "hi"}}]) as stream:
            stream.get_final_message()
        agentops_otel.end_session("Success")
        from opentelemetry import trace
        trace.get_tracer_provider().force_flush()
        print("spans:", sorted((s.name, s.instrumentation_scope.name) for s in exporter.get_finished_spans()
                               if s.name != "session (pending)"))
    """, {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_openai", "OTEL_METRICS_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert "imported after init: False" in result.stdout
    assert f"spans: {sorted([('chat claude-sonnet-5-5', OURS), ('session', 'agentops_otel')])}" in result.stdout
