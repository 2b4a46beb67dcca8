"""Misbehaving OTLP collectors on 127.0.0.1, for the fault tests.

Each fault is a server (or the lack of one) that an OTLP exporter in a subprocess is pointed at:

* ``down``        nothing listens on the port (connection refused);
* ``unreachable`` a listener whose backlog is full, so the kernel drops new connection attempts
  (what a firewalled or vanished host looks like: connect hangs until the timeout);
* ``slow``        a receiver that accepts the export and stalls for seconds before answering;
* ``500``/``503``/``429`` a receiver answering that HTTP status, or over gRPC the status a
  collector maps it to (INTERNAL, UNAVAILABLE, RESOURCE_EXHAUSTED);
* ``reset``       a listener that resets every connection as soon as it is accepted.

``TcpForwarder`` brings a collector "back": it listens on a fixed port and forwards to a healthy
``otlp_receiver.OTLPReceiver``, so an exporter configured with that port reaches it once started.

Example::

    with FaultyReceiver("503", "grpc") as receiver:
        run_python(script, {**receiver.env(), "OTEL_EXPORTER_OTLP_TIMEOUT": "1"})
        assert receiver.attempts > 0
"""

from __future__ import annotations

import socket
import struct
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

import grpc  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.support.otlp_receiver import free_port, otlp_env

Protocol = Literal["grpc", "http/protobuf"]
FAULTS = ("down", "unreachable", "slow", "500", "503", "429", "reset")
STALL_SECONDS = 5.0
"""How long the ``slow`` receiver stalls each export (longer than the tests' export timeout)."""

_GRPC_STATUS = {
    "500": grpc.StatusCode.INTERNAL,
    "503": grpc.StatusCode.UNAVAILABLE,
    "429": grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class FaultyReceiver:
    """A collector on 127.0.0.1 that fails in the way ``fault`` names (see the module doc)."""

    def __init__(self, fault: str, protocol: Protocol) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}, not {fault!r}")
        self.fault = fault
        self.protocol: Protocol = protocol
        self.port = 0
        self.attempts = 0
        """Export requests (or connections, for ``reset``) the receiver saw."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._http: ThreadingHTTPServer | None = None
        self._grpc: grpc.Server | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Variables pointing an OTLP exporter at this receiver."""
        return otlp_env(self.protocol, self.endpoint)

    def _count(self) -> None:
        with self._lock:
            self.attempts += 1

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FaultyReceiver:
        if self.fault == "down":
            self.port = free_port()
        elif self.fault == "unreachable":
            self._start_blackhole()
        elif self.fault == "reset":
            self._start_resetting()
        elif self.protocol == "grpc":
            self._start_grpc()
        else:
            self._start_http()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._grpc is not None:
            self._grpc.stop(grace=None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for sock in self._sockets:
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultyReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the faults ------------------------------------------------------------------------------

    def _listen(self, backlog: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(backlog)
        self.port = sock.getsockname()[1]
        self._sockets.append(sock)
        return sock

    def _start_blackhole(self) -> None:
        self._listen(0)
        # Fill the accept queue (never accepted), so that the kernel drops later SYNs.
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self._sockets.append(filler)

    def _start_resetting(self) -> None:
        listener = self._listen(64)
        listener.settimeout(0.2)

        def serve() -> None:
            while not self._stop.is_set():
                try:
                    conn, _ = listener.accept()
                except (TimeoutError, OSError):
                    continue
                self._count()
                # Linger 0: close() sends RST instead of FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()

        thread = threading.Thread(target=serve, name="fault-reset", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_http(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._count()
                if receiver.fault == "slow":
                    receiver._stop.wait(STALL_SECONDS)
                    status = 200
                else:
                    status = int(receiver.fault)
                payload = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-protobuf")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the exporter gave up waiting and closed the connection
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        thread = threading.Thread(target=self._http.serve_forever, name="fault-http", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_grpc(self) -> None:
        receiver = self

        class Servicer(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(
                self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
            ) -> trace_service_pb2.ExportTraceServiceResponse:
                receiver._count()
                if receiver.fault == "slow":
                    receiver._stop.wait(STALL_SECONDS)
                    return trace_service_pb2.ExportTraceServiceResponse()
                context.abort(_GRPC_STATUS[receiver.fault], f"collector answers {receiver.fault}")
                raise AssertionError("abort() raises")

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Servicer(), server)  # type: ignore[no-untyped-call]
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._grpc = server


class TcpForwarder:
    """Listens on ``port`` (127.0.0.1) and pipes every connection to ``target_port``.

    Start it to bring a collector "back" on the port an exporter was configured with.
    """

    def __init__(self, port: int, target_port: int) -> None:
        self.port = port
        self.target_port = target_port
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> TcpForwarder:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        thread = threading.Thread(target=self._accept, name="forwarder", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> TcpForwarder:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
