"""Attributes written by ``span_attributes`` end up exactly as the SDK's own methods would leave them.

agentops-otel writes its own attributes (an LLM call's response attributes, the session id) into
SDK spans without the SDK's per-value checks when it can tell the outcome is the same. These
tests make two identical spans, give one the SDK's method and the other ours, and compare what an
exporter receives: every attribute, their order, and the count of dropped attributes, for
arbitrary values and span limits.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal import sdk_internals

KEYS = st.sampled_from(["gen_ai.response.id", "gen_ai.response.model", "gen_ai.usage.input_tokens",
                        "gen_ai.response.finish_reasons", "app.step", "session.id"])
TEXT = st.text(max_size=12)
# The kinds of values agentops-otel writes, and (rarer) kinds it leaves to the SDK.
OUR_VALUES = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(TEXT, max_size=3),
                       st.tuples(TEXT, TEXT))
OTHER_VALUES = st.one_of(st.lists(st.integers(), min_size=1, max_size=2), st.none())
ATTRIBUTES = st.dictionaries(KEYS, st.one_of(OUR_VALUES, OUR_VALUES, OUR_VALUES, OTHER_VALUES), max_size=5)
LIMITS = st.builds(SpanLimits, max_span_attributes=st.one_of(st.none(), st.integers(0, 6)),
                   max_span_attribute_length=st.one_of(st.none(), st.integers(0, 12)))


def twin_spans(limits: SpanLimits, existing: dict[str, AttributeValue]) -> tuple[object, object, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("twins")
    return (tracer.start_span("sdk", attributes=existing), tracer.start_span("ours", attributes=existing), exporter)


def exported(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def assert_same(exporter: InMemorySpanExporter) -> None:
    spans = exported(exporter)
    sdk, ours = spans["sdk"], spans["ours"]
    assert list((ours.attributes or {}).items()) == list((sdk.attributes or {}).items())
    assert ours.dropped_attributes == sdk.dropped_attributes


@settings(max_examples=400, deadline=None)
@given(limits=LIMITS, existing=ATTRIBUTES, attributes=ATTRIBUTES)
@example(limits=SpanLimits(max_span_attribute_length=3), existing={}, attributes={"app.step": "abcdef"})
@example(limits=SpanLimits(max_span_attribute_length=3), existing={}, attributes={"app.step": ["ab", "abcdef"]})
@example(limits=SpanLimits(max_span_attributes=1), existing={"app.step": "a"}, attributes={"gen_ai.response.id": "r"})
@example(limits=SpanLimits(), existing={"app.step": "plan"}, attributes={"app.step": "act", "gen_ai.response.id": "r"})
def test_set_attributes_matches_the_sdk(limits: SpanLimits, existing: dict[str, AttributeValue],
                                        attributes: dict[str, AttributeValue]) -> None:
    existing = {key: value for key, value in existing.items() if value is not None}
    sdk_span, our_span, exporter = twin_spans(limits, existing)
    sdk_span.set_attributes(attributes)  # type: ignore[attr-defined]
    sdk_internals.set_attributes(our_span, attributes)  # type: ignore[arg-type]
    sdk_span.end()  # type: ignore[attr-defined]
    our_span.end()  # type: ignore[attr-defined]
    assert_same(exporter)


@settings(max_examples=200, deadline=None)
@given(limits=LIMITS, existing=ATTRIBUTES, keys=st.lists(KEYS, min_size=1, max_size=2, unique=True),
       values=st.lists(TEXT, min_size=2, max_size=2))
@example(limits=SpanLimits(max_span_attributes=1), existing={}, keys=["session.id", "app.step"], values=["s", "c"])
def test_stamp_matches_the_sdk(limits: SpanLimits, existing: dict[str, AttributeValue], keys: list[str],
                               values: list[str]) -> None:
    # The SDK's way to add what a span lacks: set_attribute for each key not there yet.
    existing = {k: v for k, v in existing.items() if v is not None}
    stamp = tuple(zip(keys, values, strict=False))
    sdk_span, our_span, exporter = twin_spans(limits, existing)
    for key, value in stamp:
        if key not in (sdk_span.attributes or {}):  # type: ignore[attr-defined]
            sdk_span.set_attribute(key, value)  # type: ignore[attr-defined]
    sdk_internals.stamp_starting_span(our_span, stamp)  # type: ignore[arg-type]
    sdk_span.end()  # type: ignore[attr-defined]
    our_span.end()  # type: ignore[attr-defined]
    assert_same(exporter)


def test_an_ended_span_keeps_its_attributes(caplog: pytest.LogCaptureFixture) -> None:
    sdk_span, our_span, exporter = twin_spans(SpanLimits(), {"app.step": "plan"})
    for span in (sdk_span, our_span):
        span.end()  # type: ignore[attr-defined]
    sdk_span.set_attributes({"gen_ai.response.id": "r1"})  # type: ignore[attr-defined]
    sdk_internals.set_attributes(our_span, {"gen_ai.response.id": "r1"})  # type: ignore[arg-type]
    assert_same(exporter)
    assert dict(exported(exporter)["ours"].attributes or {}) == {"app.step": "plan"}
    assert caplog.text.count("Setting attribute on ended span") == 2


def test_a_span_that_is_not_the_sdk_s_gets_the_public_method() -> None:
    class RecordingSpan:
        def __init__(self) -> None:
            self.given: list[dict[str, AttributeValue]] = []

        def set_attributes(self, attributes: dict[str, AttributeValue]) -> None:
            self.given.append(dict(attributes))

    span = RecordingSpan()
    sdk_internals.set_attributes(span, {"gen_ai.response.id": "r1"})  # type: ignore[arg-type]
    assert span.given == [{"gen_ai.response.id": "r1"}]
