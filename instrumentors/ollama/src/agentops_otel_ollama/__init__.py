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
from collections.abc import Callable, Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import (
    Attributes,
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    async_function_wrapper,
    function_wrapper,
    instrument_on_import,
)
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


def _wrapper(telemetry: LLMTelemetry) -> Callable[[ModuleType], None]:
    def wrap(module: ModuleType) -> None:
        wrap_function_wrapper(module, "Client._request",
                              function_wrapper(telemetry, endpoint_for, client_attributes=_client_attributes))
        wrap_function_wrapper(module, "AsyncClient._request",
                              async_function_wrapper(telemetry, endpoint_for, client_attributes=_client_attributes))

    return wrap


class OllamaInstrumentor(Instrumentor):
    """Wraps ``Client._request`` and ``AsyncClient._request``, which every API call goes through.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("ollama >= 0.6, < 0.7",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "ollama",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        # Wrapped when the application imports ollama (at once if it has), never imported here.
        self._hooks = (instrument_on_import(_MODULE, _wrapper(telemetry)),)

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        unwrap(module.Client, "_request")
        unwrap(module.AsyncClient, "_request")
