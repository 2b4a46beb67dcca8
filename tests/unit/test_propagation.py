"""Sessions across processes: ``inject`` / ``attach_session`` and the W3C headers they carry."""

from __future__ import annotations

import os
import subprocess
import sys

import openai
import pytest
from agentops_otel_standin import StandInServer
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentops_otel
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.paths import ROOT

QUEUE_WORKER = ROOT / "examples" / "queue_worker.py"
SESSION_ID = "session.id"
CONVERSATION_ID = "gen_ai.conversation.id"
BAGGAGE_SESSION_ID = "agentops.session.id"
BAGGAGE_CONVERSATION_ID = "gen_ai.conversation.id"

tracer = trace.get_tracer("tests.propagation")

REMOTE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_SPAN_ID = "00f067aa0ba902b7"
REMOTE_CARRIER = {
    "traceparent": f"00-{REMOTE_TRACE_ID}-{REMOTE_SPAN_ID}-01",
    "baggage": f"{BAGGAGE_SESSION_ID}=remote-session-1,tenant=acme",
}


def traceparent_of(span: trace.Span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def test_inject_carries_the_current_span_and_the_session_id(exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session() as session, tracer.start_as_current_span("enqueue") as span:
        carrier: dict[str, str] = {}
        agentops_otel.inject(carrier)
    assert carrier["traceparent"] == traceparent_of(span)
    assert f"{BAGGAGE_SESSION_ID}={session.session_id}" in carrier["baggage"].split(",")


def test_inject_outside_the_session_context_uses_the_only_sessions_root() -> None:
    session = agentops_otel.start_session()
    carrier: dict[str, str] = {}
    agentops_otel.inject(carrier)
    assert carrier["traceparent"] == traceparent_of(session.span)
    assert carrier["baggage"] == f"{BAGGAGE_SESSION_ID}={session.session_id}"  # no conversation id: the same


def test_inject_a_given_session_while_another_is_current() -> None:
    first, second = agentops_otel.start_session(), agentops_otel.start_session()
    with first:
        carrier: dict[str, str] = {}
        agentops_otel.inject(carrier, session=second)
    assert carrier["traceparent"] == traceparent_of(second.span)
    assert carrier["baggage"] == f"{BAGGAGE_SESSION_ID}={second.session_id}"


def test_inject_without_a_session_to_choose_raises() -> None:
    with pytest.raises(agentops_otel.NoSessionException):
        agentops_otel.inject({})
    agentops_otel.start_session(), agentops_otel.start_session()
    with pytest.raises(agentops_otel.MultiSessionException):
        agentops_otel.inject({})


def test_attached_work_joins_the_remote_session_not_a_local_one(
    exporter: InMemorySpanExporter, standin: StandInServer
) -> None:
    client = openai.OpenAI(base_url=standin.openai_base_url, api_key="sk-not-a-real-key")
    local = agentops_otel.start_session(tags=["local"])
    with (
        local,
        agentops_otel.attach_session(REMOTE_CARRIER) as session_id,
        tracer.start_as_current_span("process job"),
    ):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert session_id == "remote-session-1"

    spans = {span.name: span for span in exporter.get_finished_spans()}
    job, call = spans["process job"], spans["chat gpt-4o-mini"]
    assert job.parent is not None and job.parent.is_remote
    assert f"{job.parent.span_id:016x}" == REMOTE_SPAN_ID
    assert call.parent is not None and call.parent.span_id == job.context.span_id
    for span in (job, call):
        assert f"{span.context.trace_id:032x}" == REMOTE_TRACE_ID
        assert span.attributes is not None and span.attributes[SESSION_ID] == "remote-session-1"
        assert span.attributes[CONVERSATION_ID] == "remote-session-1"  # none in the baggage: the session's id
    # The local session still active here did not claim the remote session's LLM call.
    assert local.get_analytics().llm_calls == 0
    # attach_session only borrows the context: it neither ends nor exports any session span.
    finished = exporter.get_finished_spans()
    roots = [(span.attributes or {}).get(BAGGAGE_SESSION_ID) for span in finished if span.name == "session"]
    assert roots == [local.session_id]


def test_a_worker_passes_the_session_on() -> None:
    with agentops_otel.attach_session(REMOTE_CARRIER), tracer.start_as_current_span("forward") as span:
        carrier: dict[str, str] = {}
        agentops_otel.inject(carrier)
    assert carrier["traceparent"] == traceparent_of(span)
    assert carrier["traceparent"].split("-")[1] == REMOTE_TRACE_ID
    assert f"{BAGGAGE_SESSION_ID}=remote-session-1" in carrier["baggage"].split(",")


def test_the_conversation_id_travels_with_the_session(exporter: InMemorySpanExporter) -> None:
    with agentops_otel.start_session(conversation_id="chat-42") as session:
        carrier: dict[str, str] = {}
        agentops_otel.inject(carrier)
    assert sorted(carrier["baggage"].split(",")) == sorted(
        [f"{BAGGAGE_SESSION_ID}={session.session_id}", f"{BAGGAGE_CONVERSATION_ID}=chat-42"])

    # A worker with a session of its own current: the attached block is the remote session's, in
    # its conversation; the worker's own session keeps its own conversation.
    local = agentops_otel.start_session()
    with local:
        with agentops_otel.attach_session(carrier) as session_id:
            tracer.start_span("job").end()
            handed_on: dict[str, str] = {}
            agentops_otel.inject(handed_on)
        tracer.start_span("local work").end()
    assert session_id == session.session_id
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert spans["job"].attributes is not None
    assert spans["job"].attributes[SESSION_ID] == session.session_id
    assert spans["job"].attributes[CONVERSATION_ID] == "chat-42"
    assert f"{BAGGAGE_CONVERSATION_ID}=chat-42" in handed_on["baggage"].split(",")  # passed on by the worker
    assert spans["local work"].attributes is not None
    assert spans["local work"].attributes[SESSION_ID] == spans["local work"].attributes[CONVERSATION_ID] \
        == local.session_id


def test_a_carrier_without_a_session_yields_none(exporter: InMemorySpanExporter) -> None:
    with agentops_otel.attach_session({"traceparent": REMOTE_CARRIER["traceparent"]}) as session_id:
        tracer.start_span("plain").end()
    assert session_id is None
    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == REMOTE_TRACE_ID
    assert span.attributes is not None and SESSION_ID not in span.attributes


@pytest.mark.slow
def test_a_session_crosses_two_real_processes(standin: StandInServer) -> None:
    with OTLPReceiver("grpc") as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OPENAI_BASE_URL=standin.openai_base_url,
                   OPENAI_API_KEY="sk-not-a-real-key")
        result = subprocess.run([sys.executable, str(QUEUE_WORKER)], env=env, cwd=ROOT, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        spans = receiver.wait_for_spans(4)

    names = sorted(span.name for span in spans)
    assert names == ["chat gpt-4o-mini", "enqueue summarise", "process summarise", "session"]
    by_name = {span.name: span for span in spans}
    root, enqueue = by_name["session"], by_name["enqueue summarise"]
    job, call = by_name["process summarise"], by_name["chat gpt-4o-mini"]
    session_id = root.attributes[BAGGAGE_SESSION_ID]
    assert root.attributes[SESSION_ID] == session_id
    assert f"worker in session {session_id}:" in result.stdout

    # The producer owns the session: it alone exports the root span, ended Success.
    assert root.resource_attributes["service.name"] == "queue-producer"
    assert root.status_code == "OK"
    assert root.attributes["agentops.session.end_state"] == "Success"
    assert enqueue.parent_span_id == root.span_id
    # The worker's spans join the same trace under the producer's span and carry the session id.
    assert job.resource_attributes["service.name"] == call.resource_attributes["service.name"] == "queue-worker"
    assert job.parent_span_id == enqueue.span_id
    assert call.parent_span_id == job.span_id
    assert {span.trace_id for span in spans} == {root.trace_id}
    assert {span.attributes[SESSION_ID] for span in spans} == {session_id}
    assert {span.attributes[CONVERSATION_ID] for span in spans} == {session_id}
