"""OpenAI instrumentation for agentops-otel.

Each call of the ``openai`` client (chat completions, the Responses API, embeddings, legacy
completions; sync, async, streaming and ``with_raw_response``) becomes one GenAI client span in
the session it belongs to.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import (
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    async_request_wrapper,
    end_traced_stream,
    instrument_on_import,
    sync_request_wrapper,
)
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


def _wrap_helper_streams(module: ModuleType) -> None:
    for module_name, class_name, is_async in _HELPER_STREAMS:
        cls = getattr(module, class_name, None) if module_name == module.__name__ else None
        if cls is not None:  # None: an openai release without this helper
            wrap_function_wrapper(cls, "close", _aclose_helper_stream if is_async else _close_helper_stream)


class OpenAIInstrumentor(Instrumentor):
    """Wraps the OpenAI client's one ``request`` method (sync and async).

    The client is wrapped when the application imports ``openai`` (at once if it has), and each
    stream helper when its module is imported: instrumenting never imports ``openai``.
    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 1.0",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "openai",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )

        def wrap_client(module: ModuleType) -> None:
            wrap_function_wrapper(module, "SyncAPIClient.request", sync_request_wrapper(telemetry, endpoint_for))
            wrap_function_wrapper(module, "AsyncAPIClient.request", async_request_wrapper(telemetry, endpoint_for))

        helper_modules = dict.fromkeys(module_name for module_name, _, _ in _HELPER_STREAMS)
        self._hooks = (
            instrument_on_import(_MODULE, wrap_client),
            *(instrument_on_import(module_name, _wrap_helper_streams) for module_name in helper_modules),
        )

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        base_client = sys.modules.get(_MODULE)  # not imported: nothing was wrapped
        if base_client is not None:
            unwrap(base_client.SyncAPIClient, "request")
            unwrap(base_client.AsyncAPIClient, "request")
        for module_name, class_name, _is_async in _HELPER_STREAMS:
            cls = getattr(sys.modules.get(module_name), class_name, None)
            if cls is not None:
                unwrap(cls, "close")
