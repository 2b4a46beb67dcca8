"""The stand-in's core: ``StandIn`` answers requests from the APIs' routes, in-process;
``StandInServer`` serves it over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from agentops_otel_standin.api import Api, Handler, Reply, Request, route, served_routes
from agentops_otel_standin.apis import all_apis


class StandIn:
    """The stand-in APIs without a socket: ``respond`` turns a request into the ``Reply`` to send.

    ``apis`` defaults to every API in ``agentops_otel_standin.apis``; ``routes`` (``(method, path)``
    -> handler) replaces the APIs' routes altogether, for a test that wants its own answers.
    ``requests`` lists what was received, in order.
    """

    def __init__(self, routes: Mapping[tuple[str, str], Handler] | None = None,
                 apis: Iterable[Api] | None = None) -> None:
        self.apis = {api.name: api for api in (all_apis() if apis is None else apis)}
        self.routes = dict(routes) if routes is not None else served_routes(self.apis.values())
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def respond(self, method: str, target: str, headers: Mapping[str, str], content: bytes) -> Reply:
        """The reply to one request (``target``: its path and query string; ``content``: its body)."""
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = None
        path, _, query = target.partition("?")
        found = route(self.routes, method, path)
        request = Request(method, path, {k.lower(): v for k, v in headers.items()}, body,
                          found[1] if found else {}, query)
        with self._lock:
            self.requests.append(request)
        if found is None:
            return Reply(404, {"error": {"message": f"the stand-in has no route {method} {path}"}})
        return found[0](request)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that closes the connection before the reply is written (a stream the application
        # dropped) is not a fault of the server's: a real API stays quiet about it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class StandInServer(StandIn):
    """A threaded HTTP server on 127.0.0.1 (a free port) serving the stand-in APIs.

    Example::

        with StandInServer() as server:
            client = openai.OpenAI(base_url=server.url_for("openai"), api_key="not-a-real-key")
            client.chat.completions.create(model="gpt-4o-mini", messages=[...])
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 routes: Mapping[tuple[str, str], Handler] | None = None, apis: Iterable[Api] | None = None):
        super().__init__(routes, apis)
        self._httpd = _Server((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url_for(self, api: str) -> str:
        """The base URL a client of the API named ``api`` (``"openai"``, ``"anthropic"``, ...) is given."""
        try:
            served = self.apis[api]
        except KeyError:
            raise ValueError(f"the stand-in serves no API named {api!r}; it serves: {', '.join(self.apis)}") from None
        return f"{self.base_url}{served.mount}{served.base_path}"

    @property
    def openai_base_url(self) -> str:
        return self.url_for("openai")

    @property
    def anthropic_base_url(self) -> str:
        return self.url_for("anthropic")

    def start(self) -> StandInServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="agentops-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm on, the client's
            # delayed ACK holds every answer back.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log on stderr
                return None

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                content = self.rfile.read(length) if length else b""
                reply = server.respond(method, self.path, dict(self.headers.items()), content)
                headers, payload = reply.encode()
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

        return _Handler
