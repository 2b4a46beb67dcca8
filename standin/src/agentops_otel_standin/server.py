"""The HTTP server of the stand-in APIs: routing, JSON and server-sent-event replies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Request:
    """A request as a route handler sees it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


@dataclass
class Reply:
    """What a route handler answers: a JSON body, or a stream of server-sent events."""

    status: int = 200
    body: Any = None
    events: Iterable[tuple[str | None, Any]] | None = None
    """For a stream: (event name or None, JSON data or the literal string "[DONE]") pairs."""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


Handler = Callable[[Request], Reply]


class StandInServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving the stand-in API routes.

    Example::

        with StandInServer() as server:
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="not-a-real-key")
            client.chat.completions.create(model="gpt-4o-mini", messages=[...])
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, routes: Mapping[tuple[str, str], Handler] | None = None):
        if routes is None:
            routes = default_routes()
        self.routes = dict(routes)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

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
            # delayed ACK held every answer back by ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log on stderr
                return None

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0]
                request = Request(method, path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(request)
                handler = server.routes.get((method, path))
                reply = handler(request) if handler else Reply(404, {"error": {"message": f"no route {path}"}})
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                if reply.events is not None:
                    self._send_events(reply)
                else:
                    self._send_json(reply)

            def _send_json(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_events(self, reply: Reply) -> None:
                assert reply.events is not None
                chunks = []
                for name, data in reply.events:
                    text = data if isinstance(data, str) else json.dumps(data)
                    chunks.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
                payload = "".join(chunks).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(payload)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

        return _Handler


def default_routes() -> dict[tuple[str, str], Handler]:
    """The routes of both stand-in APIs."""
    from agentops_otel.standin import anthropic_api, openai_api

    return {**openai_api.ROUTES, **anthropic_api.ROUTES}
