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
from urllib.parse import urlsplit

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GenAiProviderNameValues
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentops_otel.instrumentation import (
    Attributes,
    Endpoint,
    EndpointFor,
    LLMTelemetry,
    async_function_wrapper,
    function_wrapper,
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
    url = urlsplit(instance._api_client._http_options.base_url or "")
    attributes: Attributes = {}
    if url.hostname:
        attributes[SERVER_ADDRESS] = url.hostname
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    if port is not None:
        attributes[SERVER_PORT] = port
    return attributes


def _client_secrets(instance: Any) -> tuple[str, ...]:
    api_key = getattr(instance._api_client, "api_key", None)
    return (api_key,) if isinstance(api_key, str) and api_key else ()


def _by_platform(gemini: Wrapper, vertex: Wrapper) -> Wrapper:
    """The wrapper for the client's platform: the provider name is the telemetry's."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return (vertex if instance._api_client.vertexai else gemini)(wrapped, instance, args, kwargs)

    return wrapper


# google-genai is wrapped when the application imports it (at once if it has), never imported by
# ``instrument()``: a process that has it installed but does not use it pays nothing.
_pending: tuple[LLMTelemetry, LLMTelemetry] | None = None
_hook_registered = False


def _wrap_on_import(module: ModuleType) -> None:
    global _pending
    telemetries, _pending = _pending, None
    if telemetries is None:  # uninstrumented before google.genai was imported
        return
    for cls in _CLASSES:
        make = async_function_wrapper if cls.startswith("Async") else function_wrapper
        for method, endpoint in _METHODS.items():
            gemini, vertex = (make(telemetry, _endpoint_for(endpoint), client_attributes=_client_attributes,
                                   client_secrets=_client_secrets) for telemetry in telemetries)
            wrap_function_wrapper(module, f"{cls}.{method}", _by_platform(gemini, vertex))


class GoogleGenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the one-request methods of ``Models`` and ``AsyncModels``.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original methods back.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("google-genai >= 3.6, < 4",)

    def _instrument(self, **kwargs: Any) -> None:
        global _pending, _hook_registered
        _pending = tuple(  # type: ignore[assignment]
            LLMTelemetry(provider.value, __name__, tracer_provider=kwargs.get("tracer_provider"),
                         meter_provider=kwargs.get("meter_provider"))
            for provider in (GenAiProviderNameValues.GCP_GEMINI, GenAiProviderNameValues.GCP_VERTEX_AI))
        if not _hook_registered:
            _hook_registered = True
            register_post_import_hook(_wrap_on_import, _MODULE)  # runs now if google.genai is imported
        elif _MODULE in sys.modules:
            _wrap_on_import(sys.modules[_MODULE])

    def _uninstrument(self, **kwargs: Any) -> None:
        global _pending
        _pending = None
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        for cls in _CLASSES:
            for method in _METHODS:
                unwrap(getattr(module, cls), method)
