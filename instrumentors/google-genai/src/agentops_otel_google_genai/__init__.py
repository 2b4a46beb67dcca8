"""Google Gen AI (Gemini) instrumentation for agentops-otel.

Each request of the ``google-genai`` client (``client.models.generate_content``,
``generate_content_stream``, ``embed_content``, their ``client.aio`` forms, and chats, which call
them) becomes one GenAI client span in the session it belongs to, with ``gen_ai.provider.name``
``gcp.gemini``, or ``gcp.vertex_ai`` for a client made with ``vertexai=True``. Automatic function
calling sends one request per model turn: one span each.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_google_genai import GoogleGenAIInstrumentor

    GoogleGenAIInstrumentor().instrument()
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GenAiProviderNameValues
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import (
    Attributes,
    Endpoint,
    EndpointFor,
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    async_function_wrapper,
    function_wrapper,
    instrument_on_import,
    url_server_attributes,
)
from agentops_otel_google_genai.endpoints import EMBED, GENERATE, GENERATE_STREAM
from agentops_otel_google_genai.version import __version__

__all__ = ["GoogleGenAIInstrumentor", "__version__"]

_MODULE = "google.genai.models"
# The SDK's one-request methods: the public ones call them (``generate_content`` once per turn of
# automatic function calling or continuation), so each HTTP request is one span.
_METHODS: dict[str, Any] = {  # Endpoint, but for the stream accumulator embeddings never need
    "_generate_content": GENERATE,
    "_generate_content_stream": GENERATE_STREAM,
    "_embed_content": EMBED,
}
_CLASSES = ("Models", "AsyncModels")

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _endpoint_for(endpoint: Endpoint) -> EndpointFor:
    stream = endpoint is GENERATE_STREAM

    def endpoint_for(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                     ) -> tuple[Endpoint, Mapping[str, Any], bool]:
        return endpoint, kwargs, stream  # the methods take keyword arguments only

    return endpoint_for


def _client_attributes(instance: Any) -> Attributes:
    return url_server_attributes(instance._api_client._http_options.base_url or "")


def _client_secrets(instance: Any) -> tuple[str, ...]:
    api_key = getattr(instance._api_client, "api_key", None)
    return (api_key,) if isinstance(api_key, str) and api_key else ()


def _by_platform(gemini: Wrapper, vertex: Wrapper) -> Wrapper:
    """The wrapper for the client's platform: the provider name is the telemetry's."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return (vertex if instance._api_client.vertexai else gemini)(wrapped, instance, args, kwargs)

    return wrapper


def _wrapper(gemini: LLMTelemetry, vertex: LLMTelemetry) -> Callable[[ModuleType], None]:
    def wrap(module: ModuleType) -> None:
        for cls in _CLASSES:
            make = async_function_wrapper if cls.startswith("Async") else function_wrapper
            for method, endpoint in _METHODS.items():
                on_gemini, on_vertex = (make(telemetry, _endpoint_for(endpoint), client_attributes=_client_attributes,
                                             client_secrets=_client_secrets) for telemetry in (gemini, vertex))
                wrap_function_wrapper(module, f"{cls}.{method}", _by_platform(on_gemini, on_vertex))

    return wrap


class GoogleGenAIInstrumentor(Instrumentor):
    """Wraps the one-request methods of ``Models`` and ``AsyncModels``.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("google-genai >= 3.6, < 4",)

    def _instrument(self, **kwargs: Any) -> None:
        gemini, vertex = (
            LLMTelemetry(provider.value, __name__, tracer_provider=kwargs.get("tracer_provider"),
                         meter_provider=kwargs.get("meter_provider"))
            for provider in (GenAiProviderNameValues.GCP_GEMINI, GenAiProviderNameValues.GCP_VERTEX_AI))
        # Wrapped when the application imports google.genai (at once if it has), never imported here.
        self._hooks = (instrument_on_import(_MODULE, _wrapper(gemini, vertex)),)

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:
            hook.cancel()
        self._hooks = ()
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        for cls in _CLASSES:
            for method in _METHODS:
                unwrap(getattr(module, cls), method)
