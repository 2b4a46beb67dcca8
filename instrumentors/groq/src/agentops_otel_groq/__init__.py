"""Groq instrumentation for agentops-otel.

Each chat completion of the ``groq`` client (sync, async, streaming, ``with_raw_response``)
becomes one GenAI client span (``gen_ai.provider.name`` ``groq``) in the session it belongs to.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_groq import GroqInstrumentor

    GroqInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import (
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    async_request_wrapper,
    instrument_on_import,
    sync_request_wrapper,
)
from agentops_otel_groq.endpoints import endpoint_for
from agentops_otel_groq.version import __version__

__all__ = ["GroqInstrumentor", "__version__"]

_MODULE = "groq._base_client"

class GroqInstrumentor(Instrumentor):
    """Wraps the Groq client's one ``request`` method (sync and async).

    The client is wrapped when the application imports ``groq`` (at once if it has): instrumenting
    never imports it. Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("groq >= 1.0",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "groq",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )

        def wrap_client(module: ModuleType) -> None:
            wrap_function_wrapper(module, "SyncAPIClient.request", sync_request_wrapper(telemetry, endpoint_for))
            wrap_function_wrapper(module, "AsyncAPIClient.request", async_request_wrapper(telemetry, endpoint_for))

        self._hooks = (instrument_on_import(_MODULE, wrap_client),)

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        module = sys.modules.get(_MODULE)  # not imported: nothing was wrapped
        if module is None:
            return
        unwrap(module.SyncAPIClient, "request")
        unwrap(module.AsyncAPIClient, "request")
