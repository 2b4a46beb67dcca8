"""What an API module of the stand-in defines (``Api``), what its handlers see (``Request``) and
answer (``Reply``), and how a reply goes on the wire (``Reply.encode``).

An API module, ``agentops_otel_standin.apis.<name>``, defines ``API = Api(name=..., routes=...)``:
each route maps ``(method, path)`` to a handler, a function from ``Request`` to ``Reply``. A path
may hold ``{name}`` placeholders for the parts the real API puts in the URL, e.g.
``/v1beta/models/{model}:generateContent``; the handler finds them in ``request.path_params``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote


@dataclass
class Request:
    """A request as a route handler sees it."""

    method: str
    path: str
    """The path without the query string, as the client sent it (with the API's mount, if any)."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: Any
    """The JSON body, decoded; None when there was none or it was not JSON."""
    path_params: Mapping[str, str] = field(default_factory=dict)
    """The values of the route's ``{name}`` placeholders, URL-decoded."""
    query: str = ""
    """The query string, without the ``?``."""


@dataclass
class Reply:
    """What a route handler answers: a JSON body, raw bytes, or a stream of server-sent events."""

    status: int = 200
    body: Any = None
    """A JSON value, or ``bytes`` sent as they are (say which with a ``content-type`` header)."""
    events: Iterable[tuple[str | None, Any]] | None = None
    """For a stream: (event name or None, JSON data or a literal string such as "[DONE]") pairs."""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    """How long the server waits before answering (the in-process ``StandIn.respond`` does not wait)."""

    def encode(self) -> tuple[dict[str, str], bytes]:
        """The headers (content type and length, then the reply's own) and the bytes on the wire."""
        if self.events is not None:
            chunks = []
            for name, data in self.events:
                text = data if isinstance(data, str) else json.dumps(data)
                chunks.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
            content_type, payload = "text/event-stream", "".join(chunks).encode()
        elif isinstance(self.body, bytes):
            content_type, payload = "application/octet-stream", self.body
        else:
            content_type, payload = "application/json", json.dumps(self.body).encode()
        headers = {"content-type": content_type, "content-length": str(len(payload))}
        headers.update((key.lower(), value) for key, value in self.headers.items())
        return headers, payload


Handler = Callable[[Request], Reply]
Routes = Mapping[tuple[str, str], Handler]
"""``(method, path)`` -> handler."""


@dataclass(frozen=True)
class Api:
    """One provider API the stand-in serves: its routes, and where a client finds them.

    Example (a module ``agentops_otel_standin/apis/echo.py``)::

        def echo(request: Request) -> Reply:
            return Reply(body={"model": request.path_params["model"], "echo": request.body})

        API = Api(name="echo", routes={("POST", "/v1/models/{model}:echo"): echo})
    """

    name: str
    """What ``StandInServer.url_for`` knows the API by."""
    routes: Routes
    """Paths as the real API has them, from the root of its host."""
    base_path: str = ""
    """What a client's base URL adds to the host, e.g. ``/v1`` for the OpenAI client."""
    mount: str = ""
    """A path prefix the stand-in serves every route under, e.g. ``/mistral``: needed only when the
    API's paths are another's too (the OpenAI-compatible APIs). The client's base URL includes it."""


def served_routes(apis: Iterable[Api]) -> dict[tuple[str, str], Handler]:
    """The routes of all ``apis`` at the paths the stand-in serves them; two APIs on one path is an error."""
    served: dict[tuple[str, str], Handler] = {}
    owner: dict[tuple[str, str], str] = {}
    for api in apis:
        for (method, path), handler in api.routes.items():
            key = (method.upper(), api.mount + path)
            if key in served:
                raise ValueError(f"the stand-in APIs {owner[key]!r} and {api.name!r} both serve {key[0]} {key[1]}: "
                                 f"give one of them a mount (Api(mount='/{api.name}'))")
            served[key] = handler
            owner[key] = api.name
    return served


def route(routes: Routes, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler for a request and the values of its path's placeholders, or None (no route)."""
    handler = routes.get((method, path))
    if handler is not None:
        return handler, {}
    for (route_method, pattern), handler in routes.items():
        if route_method == method and "{" in pattern:
            match = _compiled(pattern).fullmatch(path)
            if match:
                return handler, {name: unquote(value) for name, value in match.groupdict().items()}
    return None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """``/models/{model}:generate`` -> a regular expression; a placeholder matches within one segment."""
    parts = re.split(r"\{(\w+)\}", pattern)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+?)" for i, part in enumerate(parts)))
