"""Anthropic instrumentation for agentops-otel.

Each Messages API call of the ``anthropic`` client (``messages.create``, plain and
``stream=True``, ``messages.stream``, ``messages.parse``, sync and async, ``with_raw_response``,
and the ``beta`` twins) becomes one GenAI client span in the session it belongs to. The SDK's own
call span for those calls is held back while instrumented, so one call gives one span (see
``sdk_spans``).

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Collection, Mapping
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
from agentops_otel_anthropic import sdk_spans
from agentops_otel_anthropic.messages import endpoint_for
from agentops_otel_anthropic.version import __version__

__all__ = ["AnthropicInstrumentor", "__version__"]

_MODULE = "anthropic._base_client"

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _traced(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    """Whether ``request(cast_to, options, ...)`` is a call we trace."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        return endpoint_for(options) is not None
    except Exception:
        return False


def _sync_wrapper(telemetry: LLMTelemetry) -> Wrapper:
    traced = sync_request_wrapper(telemetry, endpoint_for)

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _traced(args, kwargs):
            return wrapped(*args, **kwargs)
        with sdk_spans.suppressed():
            return traced(wrapped, instance, args, kwargs)

    return wrapper


def _async_wrapper(telemetry: LLMTelemetry) -> Wrapper:
    traced = async_request_wrapper(telemetry, endpoint_for)

    async def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not _traced(args, kwargs):
            return await wrapped(*args, **kwargs)
        with sdk_spans.suppressed():
            return await traced(wrapped, instance, args, kwargs)

    return wrapper


class AnthropicInstrumentor(Instrumentor):
    """Wraps the Anthropic client's one ``request`` method (sync and async).

    The client is wrapped when the application imports ``anthropic`` (at once if it has):
    instrumenting never imports it.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("anthropic >= 0.40",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "anthropic",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )

        def wrap_client(module: ModuleType) -> None:
            sdk_spans.install(module.BaseClient)
            wrap_function_wrapper(module, "SyncAPIClient.request", _sync_wrapper(telemetry))
            wrap_function_wrapper(module, "AsyncAPIClient.request", _async_wrapper(telemetry))

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
        sdk_spans.uninstall(module.BaseClient)
