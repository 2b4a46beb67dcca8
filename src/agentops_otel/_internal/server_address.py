"""``server.address`` / ``server.port`` of an API base URL, for the spans and metrics of its calls."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.util.types import AttributeValue

_DEFAULT_PORTS = {"https": 443, "http": 80}


def url_server_attributes(url: str) -> dict[str, AttributeValue]:
    """``{server.address, server.port}`` of ``url`` (the port its scheme implies when it has none);
    empty for a URL without a host. A new dict each call: the caller may add to it.

    Example::

        url_server_attributes("https://api.mistral.ai/v1")  # {"server.address": "api.mistral.ai", "server.port": 443}
    """
    return dict(_parse(url))


@lru_cache(maxsize=32)  # a process talks to a handful of base URLs: parse each once
def _parse(url: str) -> tuple[tuple[str, AttributeValue], ...]:
    parts = urlsplit(url)
    if not parts.hostname:
        return ()
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    return ((SERVER_ADDRESS, parts.hostname),) + (((SERVER_PORT, port),) if port is not None else ())
