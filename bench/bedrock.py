"""Per-call overhead of the Bedrock instrumentor against its floor, and what it costs other AWS calls.

A real boto3 ``bedrock-runtime`` client answered in process by the stand-in (a ``before-send``
handler hands botocore the stand-in's reply: no socket, so loopback HTTP noise is out of the
timings; signing, serialising and parsing are botocore's own). Each call in three variants run in
interleaved rounds in one process: ``baseline`` (no tracing), ``floor`` (one hand-written span around
the same client method, the stream read inside it) and ``agentops_otel`` (the instrumentor, in a
session). Spans go to a processor that drops them. Then an STS call (answered by botocore's
``Stubber``), which the instrumentor must let through untouched: bare vs instrumented.

    .venv/bin/python bench/bedrock.py [--calls 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
from agentops_otel_bedrock import BedrockInstrumentor
from agentops_otel_standin import StandIn
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import agentops_otel


class Dropping(SpanExporter):
    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Raw(io.BytesIO):
    """A response body as botocore reads one from urllib3: ``read`` and ``stream``."""

    def stream(self, amt: int = 1024, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk


def in_process(client: Any, standin: StandIn) -> None:
    """Answer every request of ``client`` with the stand-in's reply, in process."""

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        reply = standin.respond(request.method, url.path + (f"?{url.query}" if url.query else ""),
                                {k: str(v) for k, v in request.headers.items()}, body)
        headers, payload = reply.encode()
        return AWSResponse(request.url, reply.status, headers, _Raw(payload))

    client.meta.events.register("before-send.bedrock-runtime", send)


def timed(call: Callable[[], object], calls: int) -> float:
    for _ in range(10):
        call()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Dropping()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("floor")
    agentops_otel.init(auto_start_session=False, instrument_llm_calls=False)
    instrumentor = BedrockInstrumentor()

    credentials = {"region_name": "us-east-1", "aws_access_key_id": "AKIABENCHBENCHBENCH0",
                   "aws_secret_access_key": "bench-secret"}
    client = boto3.client("bedrock-runtime", endpoint_url="http://127.0.0.1:9", **credentials,
                          config=Config(retries={"total_max_attempts": 1}))
    in_process(client, StandIn())
    model, messages = "amazon.nova-lite-v1:0", [{"role": "user", "content": [{"text": "Hi."}]}]
    llama = json.dumps({"prompt": "Hi.", "max_gen_len": 16})
    calls: dict[str, Callable[[], object]] = {
        "converse": lambda: client.converse(modelId=model, messages=messages),
        "converse_stream": lambda: list(client.converse_stream(modelId=model, messages=messages)["stream"]),
        "invoke_model": lambda: client.invoke_model(modelId="meta.llama3-8b-instruct-v1:0", body=llama)["body"].read(),
        "invoke stream": lambda: list(client.invoke_model_with_response_stream(
            modelId="meta.llama3-8b-instruct-v1:0", body=llama)["body"]),
    }
    sts = boto3.client("sts", **credentials)
    stubber = Stubber(sts)
    identity = {"UserId": "u", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/u"}

    def caller_identity() -> object:
        stubber.add_response("get_caller_identity", identity)
        return sts.get_caller_identity()

    def floor(call: Callable[[], object]) -> Callable[[], object]:
        def spanned() -> object:
            with tracer.start_as_current_span("chat", kind=trace.SpanKind.CLIENT):
                return call()
        return spanned

    results: dict[tuple[str, str], list[float]] = {}
    with stubber:
        for _ in range(args.rounds):
            for variant in ("baseline", "floor", "agentops_otel"):
                if variant == "agentops_otel":
                    instrumentor.instrument()
                    session = agentops_otel.start_session()
                for name, call in calls.items():
                    results.setdefault((name, variant), []).append(
                        timed(floor(call) if variant == "floor" else call, args.calls))
                if variant != "floor":
                    results.setdefault(("sts (not traced)", variant), []).append(timed(caller_identity, args.calls))
                if variant == "agentops_otel":
                    session.end_session("Success")
                    instrumentor.uninstrument()

    print(f"{'call':18} {'baseline µs':>12} {'floor µs':>10} {'ours µs':>10} {'ours-floor µs':>14} "
          f"{'overhead ratio':>15}")
    for name in calls:
        base, low, ours = (statistics.median(results[(name, v)]) * 1e6
                           for v in ("baseline", "floor", "agentops_otel"))
        # The ratio the targets use: what tracing adds, ours over the floor's (as in bench/README.md).
        ratio = (ours - base) / (low - base) if low > base else float("nan")
        print(f"{name:18} {base:12.0f} {low:10.0f} {ours:10.0f} {ours - low:14.0f} {ratio:15.2f}")
    bare, ours = (statistics.median(results[("sts (not traced)", v)]) * 1e6 for v in ("baseline", "agentops_otel"))
    print(f"{'sts (not traced)':18} {bare:12.0f} {'':>10} {ours:10.0f}   "
          f"(+{ours - bare:.1f} µs, {ours / bare - 1:+.1%})")


if __name__ == "__main__":
    main()
