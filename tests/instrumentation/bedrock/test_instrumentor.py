"""The Bedrock instrumentor's session rules, metrics, other AWS calls left alone, and ``uninstrument()``,
with real boto3 clients talking to the stand-in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import botocore.client
import pytest
from agentops_otel_bedrock import BedrockInstrumentor
from agentops_otel_standin import StandInServer
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_PROVIDER_NAME
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from wrapt import FunctionWrapper

import agentops_otel as agentops
from agentops_otel._internal.exceptions import MultiSessionException
from tests.support.clients import bedrock_client
from tests.support.spans import attributes, call_spans, only_call_span
from tests.support.threads import run_in_threads

MODEL = "amazon.nova-lite-v1:0"
USER: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "Hi"}]}]
LLAMA = "meta.llama3-8b-instruct-v1:0"
LLAMA_BODY = json.dumps({"prompt": "Hi", "max_gen_len": 16})


def test_two_sessions_and_none_chosen_raise_before_the_request(
    exporter: InMemorySpanExporter, standin: StandInServer, client: Any
) -> None:
    first, second = agentops.start_session(), agentops.start_session()
    sent_before = len(standin.requests)
    with pytest.raises(MultiSessionException):
        client.converse(modelId=MODEL, messages=USER)
    with pytest.raises(MultiSessionException):
        client.converse_stream(modelId=MODEL, messages=USER)
    with pytest.raises(MultiSessionException):
        client.invoke_model(modelId=LLAMA, body=LLAMA_BODY)
    with pytest.raises(MultiSessionException):
        client.invoke_model_with_response_stream(modelId=LLAMA, body=LLAMA_BODY)
    assert len(standin.requests) == sent_before and call_spans(exporter) == []

    second.patch(client.converse)(modelId=MODEL, messages=USER)
    with first:
        list(client.converse_stream(modelId=MODEL, messages=USER)["stream"])
    second.end_session("Success")
    assert {attributes(span)[SESSION_ID] for span in call_spans(exporter)} == {first.session_id, second.session_id}


def test_sessions_in_threads_and_tasks(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    def in_thread(session: agentops.Session) -> None:
        client = bedrock_client(standin)  # boto3 clients are thread-safe, sessions are not: one each
        with session:
            list(client.converse_stream(modelId=MODEL, messages=USER)["stream"])
            client.invoke_model(modelId=LLAMA, body=LLAMA_BODY)["body"].read()

    run_in_threads(*(lambda s=s: in_thread(s) for s in sessions))
    tasks = [agentops.start_session(), agentops.start_session()]
    client = bedrock_client(standin)

    async def in_task(session: agentops.Session) -> None:
        with session:  # boto3 has no async client: applications call it from a worker thread
            await asyncio.to_thread(client.converse, modelId=MODEL, messages=USER)

    async def main() -> None:
        await asyncio.gather(*(in_task(s) for s in tasks))

    asyncio.run(main())
    roots = {attributes(s)[SESSION_ID]: s for s in exporter.get_finished_spans() if s.name == "session"}
    spans = call_spans(exporter)
    assert sorted(attributes(s)[SESSION_ID] for s in spans) == sorted(
        [s.session_id for s in sessions for _ in range(2)] + [s.session_id for s in tasks])
    for span in spans:
        assert span.parent is not None and span.parent.span_id == roots[attributes(span)[SESSION_ID]].context.span_id


def test_no_session_still_traced(exporter: InMemorySpanExporter, client: Any) -> None:
    client.converse(modelId=MODEL, messages=USER)
    span = only_call_span(exporter)
    assert span.parent is None and SESSION_ID not in attributes(span)


def test_other_aws_calls_are_not_traced(exporter: InMemorySpanExporter, standin: StandInServer) -> None:
    """Other services (the Bedrock control plane included) pass through, even with two sessions
    active and none chosen: no span, no ``MultiSessionException``, their own errors unchanged."""
    agentops.start_session(), agentops.start_session()
    control_plane = bedrock_client(standin, "bedrock")
    with pytest.raises(ClientError) as raised:
        control_plane.list_foundation_models()  # the stand-in has no such route: a 404
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ResponseParserError):  # STS answers XML; the stand-in's 404 is JSON
        bedrock_client(standin, "sts").get_caller_identity()
    assert call_spans(exporter) == []
    assert standin.requests[-1].path == "/"  # the STS call was sent


def test_metrics(exporter: InMemorySpanExporter, client: Any, metric_reader: InMemoryMetricReader) -> None:
    def durations() -> int:
        data = metric_reader.get_metrics_data()
        return sum(point.count  # type: ignore[union-attr,misc]
                   for resource_metrics in (data.resource_metrics if data else ())
                   for scope_metrics in resource_metrics.scope_metrics
                   for metric in scope_metrics.metrics if metric.name == "gen_ai.client.operation.duration"
                   for point in metric.data.data_points
                   if (point.attributes or {}).get(GEN_AI_PROVIDER_NAME) == "aws.bedrock")

    before = durations()
    client.converse(modelId=MODEL, messages=USER)
    list(client.converse_stream(modelId=MODEL, messages=USER)["stream"])
    assert durations() == before + 2


def test_uninstrument_restores_the_client(exporter: InMemorySpanExporter, client: Any) -> None:
    instrumentor = BedrockInstrumentor()
    assert isinstance(botocore.client.BaseClient.__dict__["_make_api_call"], FunctionWrapper)
    instrumentor.uninstrument()
    try:
        assert not isinstance(botocore.client.BaseClient.__dict__["_make_api_call"], FunctionWrapper)
        client.converse(modelId=MODEL, messages=USER)
        list(client.converse_stream(modelId=MODEL, messages=USER)["stream"])
        client.invoke_model(modelId=LLAMA, body=LLAMA_BODY)["body"].read()
        assert call_spans(exporter) == []
    finally:
        instrumentor.instrument()
    client.converse(modelId=MODEL, messages=USER)
    assert len(call_spans(exporter)) == 1
