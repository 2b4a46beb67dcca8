"""Ollama instrumentation for agentops-otel.

Each ``chat``, ``generate`` and ``embed`` call of the ``ollama`` client (the module-level functions,
``Client`` and ``AsyncClient``; plain and streamed) becomes one GenAI client span in the session it
belongs to, with ``gen_ai.provider.name`` ``ollama``.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_ollama import OllamaInstrumentor

    OllamaInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentops_otel.instrumentation import Attributes, LLMTelemetry, async_function_wrapper, function_wrapper
from agentops_otel_ollama.endpoints import endpoint_for
from agentops_otel_ollama.version import __version__

__all__ = ["OllamaInstrumentor", "__version__"]

# Every call goes through ``_request`` (the module-level functions are methods of a ``Client``
# bound when ``ollama`` was imported, so wrapping ``Client.chat`` would miss them).
_MODULE = "ollama._client"


def _client_attributes(instance: Any) -> Attributes:
    url = instance._client.base_url
    attributes: Attributes = {SERVER_ADDRESS: url.host}
    if url.port is not None:
        attributes[SERVER_PORT] = url.port
    return attributes


# ``ollama`` is wrapped when the application imports it (at once if it has), never imported by
# ``instrument()``: a process that has it installed but does not use it pays nothing.
_pending: LLMTelemetry | None = None
_hook_registered = False


def _wrap_on_import(module: ModuleType) -> None:
    global _pending
    telemetry, _pending = _pending, None
    if telemetry is None:  # uninstrumented before ollama was imported
        return
    wrap_function_wrapper(module, "Client._request",
                          function_wrapper(telemetry, endpoint_for, client_attributes=_client_attributes))
    wrap_function_wrapper(module, "AsyncClient._request",
                          async_function_wrapper(telemetry, endpoint_for, client_attributes=_client_attributes))


class OllamaInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps ``Client._request`` and ``AsyncClient._request``, which every API call goes through.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("ollama >= 0.6, < 0.7",)

    def _instrument(self, **kwargs: Any) -> None:
        global _pending, _hook_registered
        _pending = LLMTelemetry(
            "ollama",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        if not _hook_registered:
            _hook_registered = True
            register_post_import_hook(_wrap_on_import, _MODULE)  # runs now if ollama is imported
        elif _MODULE in sys.modules:
            _wrap_on_import(sys.modules[_MODULE])

    def _uninstrument(self, **kwargs: Any) -> None:
        global _pending
        _pending = None
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        unwrap(module.Client, "_request")
        unwrap(module.AsyncClient, "_request")
