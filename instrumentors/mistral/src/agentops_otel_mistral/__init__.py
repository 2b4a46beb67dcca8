"""Mistral instrumentation for agentops-otel.

Each call of the ``mistralai`` client's ``chat.complete`` / ``chat.stream`` (and their async
forms ``complete_async`` / ``stream_async``) and ``embeddings.create`` / ``create_async`` becomes
one GenAI client span (``gen_ai.provider.name`` ``mistral_ai``) in the session it belongs to.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_mistral import MistralInstrumentor

    MistralInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import (
    Attributes,
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    async_function_wrapper,
    function_wrapper,
    instrument_on_import,
    url_server_attributes,
)
from agentops_otel_mistral.endpoints import CHAT, EMBEDDINGS
from agentops_otel_mistral.version import __version__

__all__ = ["MistralInstrumentor", "__version__"]

# The endpoint is Any, as the openai instrumentor's: Embeddings never streams, so has no accumulator().
EndpointCall = tuple[Any, Mapping[str, Any], bool]


def _complete(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EndpointCall:
    return CHAT, kwargs, False


def _stream(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EndpointCall:
    return CHAT, {**kwargs, "stream": True}, True


def _embed(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EndpointCall:
    return EMBEDDINGS, kwargs, False


# module -> class -> ((method, endpoint_for, is_async), ...): every method wrapped.
_METHODS: dict[str, tuple[str, tuple[tuple[str, Callable[..., EndpointCall], bool], ...]]] = {
    "mistralai.client.chat": ("Chat", (
        ("complete", _complete, False), ("complete_async", _complete, True),
        ("stream", _stream, False), ("stream_async", _stream, True),
    )),
    "mistralai.client.embeddings": ("Embeddings", (
        ("create", _embed, False), ("create_async", _embed, True),
    )),
}


def _client_attributes(instance: Any) -> Attributes:
    url, _variables = instance.sdk_configuration.get_server_details()
    return url_server_attributes(url) if isinstance(url, str) else {}


def _client_secrets(instance: Any) -> tuple[str, ...]:
    security = instance.sdk_configuration.security
    if callable(security):
        security = security()
    key = getattr(security, "api_key", None)
    return (key,) if isinstance(key, str) and key else ()


def _wrapper(telemetry: LLMTelemetry) -> Callable[[ModuleType], None]:
    """What to wrap in one of ``_METHODS``' modules, once it is imported."""

    def wrap(module: ModuleType) -> None:
        class_name, methods = _METHODS[module.__name__]
        for name, endpoint_for, is_async in methods:
            make = async_function_wrapper if is_async else function_wrapper
            wrap_function_wrapper(module, f"{class_name}.{name}", make(
                telemetry, endpoint_for, client_attributes=_client_attributes, client_secrets=_client_secrets))

    return wrap


class MistralInstrumentor(Instrumentor):
    """Wraps the Mistral client's chat and embeddings methods (sync and async).

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("mistralai >= 3.0",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            "mistral_ai",
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        wrap = _wrapper(telemetry)  # each module when the application imports it (now if it has)
        self._hooks = tuple(instrument_on_import(module_name, wrap) for module_name in _METHODS)

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        for module_name, (class_name, methods) in _METHODS.items():
            module = sys.modules.get(module_name)
            if module is None:
                continue
            for name, _endpoint_for, _is_async in methods:
                unwrap(getattr(module, class_name), name)
