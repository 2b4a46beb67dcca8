"""OpenAI instrumentation for agentops-otel.

Each call of the ``openai`` client (chat completions, the Responses API, embeddings, legacy
completions; sync, async, streaming and ``with_raw_response``) becomes one GenAI client span in
the session it belongs to.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.llm_call import LLMTelemetry
from agentops_otel.sdk_request import async_request_wrapper, sync_request_wrapper
from agentops_otel_openai.endpoints import endpoint_for
from agentops_otel_openai.version import __version__

__all__ = ["OpenAIInstrumentor", "__version__"]

_MODULE = "openai._base_client"


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the OpenAI client's one ``request`` method (sync and async)."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 1.0",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "openai",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        wrap_function_wrapper(_MODULE, "SyncAPIClient.request", sync_request_wrapper(telemetry, endpoint_for))
        wrap_function_wrapper(_MODULE, "AsyncAPIClient.request", async_request_wrapper(telemetry, endpoint_for))

    def _uninstrument(self, **kwargs: Any) -> None:
        import openai._base_client as base_client

        unwrap(base_client.SyncAPIClient, "request")
        unwrap(base_client.AsyncAPIClient, "request")
