"""A real OTLP trace receiver on 127.0.0.1 for tests, over gRPC and HTTP/protobuf.

It decodes what an OTLP exporter sends (``ExportTraceServiceRequest`` protobuf, gzip or not) into
plain :class:`ReceivedSpan` records, so tests assert on what a collector would really receive.

Example::

    from tests.support.otlp_receiver import OTLPReceiver

    with OTLPReceiver("http/protobuf") as receiver:          # or "grpc"
        env = {
            "OTEL_EXPORTER_OTLP_PROTOCOL": receiver.protocol,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,   # http://127.0.0.1:PORT
        }
        subprocess.run([sys.executable, "script.py"], env={**os.environ, **env}, check=True)
        root = receiver.wait_for(lambda s: s.name == "session", timeout=10)
        children = [s for s in receiver.spans() if s.parent_span_id == root.span_id]
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

import grpc  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

Protocol = Literal["grpc", "http/protobuf"]

# Span kinds and status codes by their OTLP names without prefix, e.g. "INTERNAL", "ERROR".
_KIND_NAMES = {value: name.removeprefix("SPAN_KIND_") for name, value in Span.SpanKind.items()}
_STATUS_NAMES = {value: name.removeprefix("STATUS_CODE_") for name, value in Status.StatusCode.items()}


@dataclass(frozen=True)
class ReceivedEvent:
    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ReceivedSpan:
    """One decoded span. ``kind`` is "INTERNAL", "CLIENT", ...; ``status_code`` "UNSET", "OK" or "ERROR"."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    kind: str
    status_code: str
    status_message: str
    attributes: dict[str, Any]
    resource_attributes: dict[str, Any]
    events: list[ReceivedEvent] = field(default_factory=list)
    scope_name: str = ""
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0

    @property
    def is_start_record(self) -> bool:
        """A session's start record (``session (pending)``, ``agentops.span_type=pending``)."""
        return self.name == "session (pending)" and self.attributes.get("agentops.span_type") == "pending"


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as plain Python: arrays become lists, kvlists dicts."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    return getattr(value, which)


def attributes_dict(attributes: Sequence[KeyValue]) -> dict[str, Any]:
    return {attribute.key: any_value(attribute.value) for attribute in attributes}


def decode_request(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    received: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource_attributes = attributes_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                received.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        kind=_KIND_NAMES.get(span.kind, str(span.kind)),
                        status_code=_STATUS_NAMES.get(span.status.code, str(span.status.code)),
                        status_message=span.status.message,
                        attributes=attributes_dict(span.attributes),
                        resource_attributes=dict(resource_attributes),
                        events=[ReceivedEvent(event.name, attributes_dict(event.attributes)) for event in span.events],
                        scope_name=scope_spans.scope.name,
                        start_time_unix_nano=span.start_time_unix_nano,
                        end_time_unix_nano=span.end_time_unix_nano,
                    )
                )
    return received


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (free when this returns)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def otlp_env(protocol: str, endpoint: str) -> dict[str, str]:
    """The variables that point an OTLP exporter at ``endpoint`` over ``protocol``."""
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
    }


class OTLPReceiver:
    """Receives OTLP traces on 127.0.0.1 over ``protocol`` ("grpc" or "http/protobuf").

    Use as a context manager (or call :meth:`start` / :meth:`stop`). Spans are collected in arrival
    order; :attr:`requests` counts export requests received and :meth:`headers` gives the request
    headers (gRPC metadata) of each, lower-cased.
    """

    def __init__(
        self, protocol: Protocol = "http/protobuf", *, reject_one_with: str | None = None, fail_first: int = 0
    ) -> None:
        """``reject_one_with``: answer every export with an OTLP partial success rejecting its
        last span with this error message (the span is then not kept). ``fail_first``: answer the
        first this many exports as a collector restarting does (HTTP 503, gRPC ``UNAVAILABLE``),
        keeping nothing; :attr:`failed` counts them."""
        if protocol not in ("grpc", "http/protobuf"):
            raise ValueError(f"protocol must be 'grpc' or 'http/protobuf', not {protocol!r}")
        self.protocol: Protocol = protocol
        self.reject_one_with = reject_one_with
        self.fail_first = fail_first
        self.failed = 0
        self.port = 0
        self.requests = 0
        self._spans: list[ReceivedSpan] = []
        self._headers: list[dict[str, str]] = []
        self._condition = threading.Condition()
        self._http_server: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._grpc_server: grpc.Server | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (both protocols): ``http://127.0.0.1:PORT``."""
        if not self.port:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def traces_endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (taken as is by the HTTP exporter)."""
        return self.endpoint + "/v1/traces" if self.protocol == "http/protobuf" else self.endpoint

    def env(self) -> dict[str, str]:
        """Environment variables pointing an OTLP exporter (in a subprocess) at this receiver."""
        return otlp_env(self.protocol, self.endpoint)

    def start(self) -> OTLPReceiver:
        if self.protocol == "grpc":
            self._start_grpc()
        else:
            self._start_http()
        return self

    def stop(self) -> None:
        if self._grpc_server is not None:
            self._grpc_server.stop(grace=None)
            self._grpc_server = None
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()
            self._http_server = None
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None

    def __enter__(self) -> OTLPReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start_http(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/traces":
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                request = trace_service_pb2.ExportTraceServiceRequest()
                try:
                    request.ParseFromString(body)
                except Exception:
                    self.send_error(400, "not an ExportTraceServiceRequest")
                    return
                if receiver._fails_this_one():
                    self.send_error(503, "restarting")
                    return
                receiver._add(decode_request(request), {k.lower(): v for k, v in self.headers.items()})
                payload = receiver._response().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._http_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http_server.daemon_threads = True
        self.port = self._http_server.server_address[1]
        # A short poll interval keeps stop() (which waits for the next poll) quick.
        self._http_thread = threading.Thread(
            target=self._http_server.serve_forever, args=(0.05,), name="otlp-receiver-http", daemon=True
        )
        self._http_thread.start()

    def _start_grpc(self) -> None:
        receiver = self

        class Servicer(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(
                self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
            ) -> trace_service_pb2.ExportTraceServiceResponse:
                if receiver._fails_this_one():
                    context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
                metadata = {str(key).lower(): str(value) for key, value in context.invocation_metadata()}
                receiver._add(decode_request(request), metadata)
                return receiver._response()

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Servicer(), server)  # type: ignore[no-untyped-call]
        # Binding port 0 lets gRPC pick a free port and tell us which, with no race.
        self.port = server.add_insecure_port("127.0.0.1:0")
        if not self.port:  # pragma: no cover - very old grpc returning 0 for port 0
            self.port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
        server.start()
        self._grpc_server = server

    # -- collected spans ------------------------------------------------------------------------

    def _response(self) -> trace_service_pb2.ExportTraceServiceResponse:
        response = trace_service_pb2.ExportTraceServiceResponse()
        if self.reject_one_with is not None:
            response.partial_success.rejected_spans = 1
            response.partial_success.error_message = self.reject_one_with
        return response

    def _fails_this_one(self) -> bool:
        with self._condition:
            if self.failed < self.fail_first:
                self.failed += 1
                return True
            return False

    def _add(self, spans: list[ReceivedSpan], headers: dict[str, str]) -> None:
        if self.reject_one_with is not None:
            spans = spans[:-1]
        with self._condition:
            self.requests += 1
            self._spans.extend(spans)
            self._headers.append(headers)
            self._condition.notify_all()

    def spans(self) -> list[ReceivedSpan]:
        """A snapshot of every span received so far but the sessions' start records, in arrival order."""
        with self._condition:
            return [span for span in self._spans if not span.is_start_record]

    def all_spans(self) -> list[ReceivedSpan]:
        """A snapshot of every span received so far, the sessions' start records too."""
        with self._condition:
            return list(self._spans)

    def start_records(self) -> list[ReceivedSpan]:
        """The sessions' start records (``session (pending)``) received so far."""
        with self._condition:
            return [span for span in self._spans if span.is_start_record]

    def headers(self) -> list[dict[str, str]]:
        """The headers (gRPC metadata) of each export request so far, names lower-cased."""
        with self._condition:
            return [dict(each) for each in self._headers]

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.all_spans() if span.name == name]

    def clear(self) -> None:
        with self._condition:
            self._spans.clear()
            self._headers.clear()
            self.requests = 0

    def wait_for(self, predicate: Callable[[ReceivedSpan], bool], timeout: float = 10.0) -> ReceivedSpan:
        """The first received span matching ``predicate``, waiting up to ``timeout`` seconds.

        Raises ``TimeoutError`` (listing the names received) when none arrives in time.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for span in self._spans:
                    if predicate(span):
                        return span
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = [span.name for span in self._spans]
                    raise TimeoutError(f"no matching span within {timeout}s; received {names}")
                self._condition.wait(remaining)

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """At least ``count`` spans (all received so far but the start records), waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(spans := self.spans()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(spans)} of {count} spans within {timeout}s")
                self._condition.wait(remaining)
            return spans


def by_span_id(spans: Sequence[ReceivedSpan]) -> Mapping[str, ReceivedSpan]:
    """Spans indexed by span id, handy for walking parents."""
    return {span.span_id: span for span in spans}
