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

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentops_otel.instrumentation import LLMTelemetry, async_request_wrapper, sync_request_wrapper
from agentops_otel_groq.endpoints import endpoint_for
from agentops_otel_groq.version import __version__

__all__ = ["GroqInstrumentor", "__version__"]

_MODULE = "groq._base_client"

# A process that never uses groq should not pay for importing it because it is installed: the
# client is wrapped when the application imports it (at once if it has already), by one
# post-import hook per process that wraps with the telemetry pending.
_pending: LLMTelemetry | None = None
_hook_registered = False


def _wrap_on_import(module: ModuleType) -> None:
    global _pending
    telemetry, _pending = _pending, None
    if telemetry is None:  # uninstrumented before groq was imported
        return
    wrap_function_wrapper(module, "SyncAPIClient.request", sync_request_wrapper(telemetry, endpoint_for))
    wrap_function_wrapper(module, "AsyncAPIClient.request", async_request_wrapper(telemetry, endpoint_for))


class GroqInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the Groq client's one ``request`` method (sync and async).

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("groq >= 1.0",)

    def _instrument(self, **kwargs: Any) -> None:
        global _pending, _hook_registered
        _pending = LLMTelemetry(
            "groq",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        if not _hook_registered:
            _hook_registered = True
            register_post_import_hook(_wrap_on_import, _MODULE)  # runs now if groq is imported
        elif _MODULE in sys.modules:
            _wrap_on_import(sys.modules[_MODULE])

    def _uninstrument(self, **kwargs: Any) -> None:
        global _pending
        _pending = None
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        unwrap(module.SyncAPIClient, "request")
        unwrap(module.AsyncAPIClient, "request")
