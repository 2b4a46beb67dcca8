"""OpenAI instrumentation for agentops-otel.

Each call of the ``openai`` client (chat completions, the Responses API, embeddings, legacy
completions; sync, async, streaming and ``with_raw_response``) becomes one GenAI client span in
the session it belongs to.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import LLMTelemetry, async_request_wrapper, end_traced_stream, sync_request_wrapper
from agentops_otel_openai.endpoints import endpoint_for
from agentops_otel_openai.version import __version__

__all__ = ["OpenAIInstrumentor", "__version__"]

_MODULE = "openai._base_client"

# The SDK's stream helpers (``chat.completions.stream``, ``responses.stream``) read our traced
# stream but close the HTTP response directly, bypassing it; closing them ends the span too.
_HELPER_STREAMS: tuple[tuple[str, str, bool], ...] = (
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream", False),
    ("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream", True),
    ("openai.lib.streaming.responses._responses", "ResponseStream", False),
    ("openai.lib.streaming.responses._responses", "AsyncResponseStream", True),
)


def _close_helper_stream(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
    try:
        return wrapped(*args, **kwargs)
    finally:
        end_traced_stream(getattr(instance, "_raw_stream", None))


async def _aclose_helper_stream(wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...],
                                kwargs: dict[str, Any]) -> Any:
    try:
        return await wrapped(*args, **kwargs)
    finally:
        end_traced_stream(getattr(instance, "_raw_stream", None))


def _helper_stream_classes() -> list[tuple[type[Any], bool]]:
    classes = []
    for module_name, class_name, is_async in _HELPER_STREAMS:
        try:
            classes.append((getattr(importlib.import_module(module_name), class_name), is_async))
        except (ImportError, AttributeError):  # an openai release without this helper
            continue
    return classes


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the OpenAI client's one ``request`` method (sync and async).

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

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
        for cls, is_async in _helper_stream_classes():
            wrap_function_wrapper(cls, "close", _aclose_helper_stream if is_async else _close_helper_stream)

    def _uninstrument(self, **kwargs: Any) -> None:
        import openai._base_client as base_client

        unwrap(base_client.SyncAPIClient, "request")
        unwrap(base_client.AsyncAPIClient, "request")
        for cls, _is_async in _helper_stream_classes():
            unwrap(cls, "close")
