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
    async_stream_helper_exit,
    instrument_on_import,
    stream_helper_exit,
    sync_request_wrapper,
)
from agentops_otel_anthropic import sdk_spans
from agentops_otel_anthropic.messages import endpoint_for
from agentops_otel_anthropic.version import __version__

__all__ = ["AnthropicInstrumentor", "__version__"]

_MODULE = "anthropic._base_client"

# The SDK's stream helpers' managers (``with client.messages.stream(...) as stream:``, and the beta
# twin): an exception leaving their block fails the call, as it does leaving a plain stream's.
_HELPER_MANAGERS: tuple[tuple[str, str, bool], ...] = (
    ("anthropic.lib.streaming._messages", "MessageStreamManager", False),
    ("anthropic.lib.streaming._messages", "AsyncMessageStreamManager", True),
    ("anthropic.lib.streaming._beta_messages", "BetaMessageStreamManager", False),
    ("anthropic.lib.streaming._beta_messages", "BetaAsyncMessageStreamManager", True),
)


def _wrap_helper_managers(module: ModuleType) -> None:
    for module_name, class_name, is_async in _HELPER_MANAGERS:
        cls = getattr(module, class_name, None) if module_name == module.__name__ else None
        if cls is not None:  # None: an anthropic release without this helper
            if is_async:
                wrap_function_wrapper(cls, "__aexit__", async_stream_helper_exit)
            else:
                wrap_function_wrapper(cls, "__exit__", stream_helper_exit)

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


# The SDK's clients of Anthropic's models on other platforms (their base classes), by provider.
_PLATFORM_CLIENTS = {
    "BaseBedrockClient": "aws.bedrock",
    "BaseMantleClient": "aws.bedrock",
    "AnthropicAWS": "aws.bedrock",
    "BaseVertexClient": "gcp.vertex_ai",
    "BaseGoogleCloudClient": "gcp.vertex_ai",
}


def provider_for(client_class: type) -> str | None:
    """The provider of a client that sends the Messages API to another platform (``AnthropicBedrock``:
    ``aws.bedrock``, ``AnthropicVertex``: ``gcp.vertex_ai``); ``None`` (``anthropic``) for the others."""
    for cls in client_class.__mro__:
        provider = _PLATFORM_CLIENTS.get(cls.__name__)
        if provider is not None:
            return provider
    return None


def _traced(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    """Whether ``request(cast_to, options, ...)`` is a call we trace."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        return endpoint_for(options) is not None
    except Exception:
        return False


def _sync_wrapper(telemetry: LLMTelemetry) -> Wrapper:
    traced = sync_request_wrapper(telemetry, endpoint_for, provider_for)

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _traced(args, kwargs):
            return wrapped(*args, **kwargs)
        with sdk_spans.suppressed():
            return traced(wrapped, instance, args, kwargs)

    return wrapper


def _async_wrapper(telemetry: LLMTelemetry) -> Wrapper:
    traced = async_request_wrapper(telemetry, endpoint_for, provider_for)

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

        helper_modules = dict.fromkeys(module_name for module_name, _, _ in _HELPER_MANAGERS)
        self._hooks = (
            instrument_on_import(_MODULE, wrap_client),
            *(instrument_on_import(module_name, _wrap_helper_managers) for module_name in helper_modules),
        )

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        for module_name, class_name, is_async in _HELPER_MANAGERS:
            cls = getattr(sys.modules.get(module_name), class_name, None)
            if cls is not None:
                unwrap(cls, "__aexit__" if is_async else "__exit__")
        module = sys.modules.get(_MODULE)  # not imported: nothing was wrapped
        if module is None:
            return
        unwrap(module.SyncAPIClient, "request")
        unwrap(module.AsyncAPIClient, "request")
        sdk_spans.uninstall(module.BaseClient)
