"""The session span processor on a provider built by hand: the ids are stamped and span limits hold.

The processor writes ``session.id`` and ``gen_ai.conversation.id`` into a starting span's attribute
map directly when the SDK's limits leave room for them (see ``sdk_internals.stamp_starting_span``);
these tests pin that every limit still behaves as the SDK defines it for ``set_attribute``: the
oldest attribute dropped from a full map and counted, values cut to the length limit; and that a
span's own value of either key is kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_CONVERSATION_ID
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.trace import Tracer

import agentops_otel as agentops
from agentops_otel._internal.processor import SessionSpanProcessor


@pytest.fixture
def session(exporter: InMemorySpanExporter) -> Iterator[agentops.Session]:
    session = agentops.start_session()
    yield session
    session.end_session("Success")


def hand_built(limits: SpanLimits) -> tuple[Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SessionSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("hand-built"), exporter


def one_span(tracer: Tracer, exporter: InMemorySpanExporter, session: agentops.Session,
             attributes: dict[str, str]) -> ReadableSpan:
    tracer.start_span("work", context=session.context(), attributes=attributes).end()
    (span,) = exporter.get_finished_spans()
    return span


def test_stamps_after_the_span_s_own_attributes(session: agentops.Session) -> None:
    tracer, exporter = hand_built(SpanLimits())
    span = one_span(tracer, exporter, session, {"app.step": "plan", "app.user": "u1"})
    assert dict(span.attributes or {}) == {"app.step": "plan", "app.user": "u1", SESSION_ID: session.session_id,
                                           GEN_AI_CONVERSATION_ID: session.session_id}
    assert list(span.attributes or {}) == ["app.step", "app.user", SESSION_ID, GEN_AI_CONVERSATION_ID]
    assert span.dropped_attributes == 0


def test_a_full_attribute_map_drops_its_oldest_entries_as_the_sdk_does(session: agentops.Session) -> None:
    tracer, exporter = hand_built(SpanLimits(max_span_attributes=3))
    span = one_span(tracer, exporter, session, {"app.step": "plan", "app.user": "u1"})
    assert dict(span.attributes or {}) == {"app.user": "u1", SESSION_ID: session.session_id,
                                           GEN_AI_CONVERSATION_ID: session.session_id}
    assert span.dropped_attributes == 1


def test_no_room_for_any_attribute(session: agentops.Session) -> None:
    tracer, exporter = hand_built(SpanLimits(max_span_attributes=0))
    span = one_span(tracer, exporter, session, {})
    assert dict(span.attributes or {}) == {}
    assert span.dropped_attributes == 2


def test_the_value_length_limit_cuts_the_ids(session: agentops.Session) -> None:
    tracer, exporter = hand_built(SpanLimits(max_span_attribute_length=8))
    span = one_span(tracer, exporter, session, {"app.step": "a long step name"})
    assert dict(span.attributes or {}) == {"app.step": "a long s", SESSION_ID: session.session_id[:8],
                                           GEN_AI_CONVERSATION_ID: session.session_id[:8]}


def test_a_span_keeps_the_ids_its_maker_gave_it(session: agentops.Session) -> None:
    # A library that knows the conversation (a LangGraph thread) says so on its span itself.
    tracer, exporter = hand_built(SpanLimits())
    span = one_span(tracer, exporter, session, {GEN_AI_CONVERSATION_ID: "thread-7", "app.step": "plan"})
    assert dict(span.attributes or {}) == {GEN_AI_CONVERSATION_ID: "thread-7", "app.step": "plan",
                                           SESSION_ID: session.session_id}
    exporter.clear()
    span = one_span(tracer, exporter, session, {SESSION_ID: "set-by-the-app"})
    assert dict(span.attributes or {}) == {SESSION_ID: "set-by-the-app", GEN_AI_CONVERSATION_ID: session.session_id}


def test_the_conversation_id_is_the_session_s_own_when_given(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session(conversation_id="chat-42")
    tracer, spans = hand_built(SpanLimits())
    span = one_span(tracer, spans, session, {})
    session.end_session("Success")
    assert dict(span.attributes or {}) == {SESSION_ID: session.session_id, GEN_AI_CONVERSATION_ID: "chat-42"}


def test_a_span_outside_any_session_is_not_stamped(session: agentops.Session) -> None:
    tracer, exporter = hand_built(SpanLimits())
    tracer.start_span("elsewhere", attributes={"app.step": "plan"}).end()
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {}) == {"app.step": "plan"}
