"""The wrappers applied to ``litellm`` when the application imports it: each call routed (which
provider, which model), then traced by the ``agentops_otel.instrumentation`` wrapper of that provider."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from opentelemetry import metrics, trace

from agentops_otel.instrumentation import (
    Endpoint,
    LLMTelemetry,
    async_function_wrapper,
    call_safely,
    function_wrapper,
)
from agentops_otel_litellm.calls import COMPLETION, EMBEDDING, RESPONSES, Route, request_body

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

# ``litellm.<name>``: (the endpoint, whether it is async, its positional parameters). Typed ``Any``:
# embeddings never stream, so that endpoint has no accumulator (see ``Endpoint``).
FUNCTIONS: dict[str, tuple[Any, bool, tuple[str, ...]]] = {
    "completion": (COMPLETION, False, ("model", "messages")),
    "acompletion": (COMPLETION, True, ("model", "messages")),
    "embedding": (EMBEDDING, False, ("model", "input")),
    "aembedding": (EMBEDDING, True, ("model", "input")),
    "responses": (RESPONSES, False, ("input", "model")),
    "aresponses": (RESPONSES, True, ("input", "model")),
}

_ROUTES_KEPT = 256
SCOPE = "agentops_otel_litellm"


class Router:
    """Asks LiteLLM where a call goes (``get_llm_provider``), once per model, provider and base URL."""

    def __init__(self, litellm: ModuleType) -> None:
        self._litellm = litellm  # ``get_llm_provider`` is imported lazily by LiteLLM: looked up when first used
        self._routes: dict[tuple[Any, Any, Any], Route] = {}

    def route(self, positional: tuple[str, ...], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Route:
        model = kwargs.get("model")
        if model is None and "model" in positional[: len(args)]:
            model = args[positional.index("model")]
        api_base = kwargs.get("api_base") or kwargs.get("base_url")
        key = (model, kwargs.get("custom_llm_provider"), api_base)
        route = self._routes.get(key)
        if route is None:
            resolved, provider, _key, _base = self._litellm.get_llm_provider(
                model=model, custom_llm_provider=key[1], api_base=api_base)
            route = Route(provider, resolved)
            if len(self._routes) >= _ROUTES_KEPT:
                self._routes.clear()
            self._routes[key] = route
        return route


class Calls:
    """The wrapper of one ``litellm`` function: one ``LLMTelemetry`` per provider it routes to, as the
    provider is part of every span and metric point."""

    def __init__(self, name: str, router: Router, tracer_provider: trace.TracerProvider | None,
                 meter_provider: metrics.MeterProvider | None) -> None:
        self._endpoint, self._is_async, self._positional = FUNCTIONS[name]
        self._router = router
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._by_provider: dict[str, Wrapper] = {}
        self._lock = threading.Lock()

    def _wrapper_for(self, provider: str) -> Wrapper:
        with self._lock:
            wrapper = self._by_provider.get(provider)
            if wrapper is None:
                telemetry = LLMTelemetry(provider, SCOPE, tracer_provider=self._tracer_provider,
                                         meter_provider=self._meter_provider)
                make = async_function_wrapper if self._is_async else function_wrapper
                wrapper = make(telemetry, self._endpoint_for, absorb_nested_calls=True)
                self._by_provider[provider] = wrapper
            return wrapper

    def _endpoint_for(self, instance: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> tuple[Endpoint, Mapping[str, Any], bool]:
        route = self._router.route(self._positional, args, kwargs)
        body = request_body(self._positional, args, kwargs, route)
        return self._endpoint, body, body.get("stream") is True

    def __call__(self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
        route: Route | None = call_safely("routing a LiteLLM call", self._router.route, self._positional, args, kwargs)
        if route is None:  # a model LiteLLM cannot route: it raises its own error, untraced
            return wrapped(*args, **kwargs)
        wrapper = self._by_provider.get(route.provider) or self._wrapper_for(route.provider)
        return wrapper(wrapped, instance, args, kwargs)


def wrap(litellm: ModuleType, tracer_provider: trace.TracerProvider | None,
         meter_provider: metrics.MeterProvider | None) -> None:
    """Wrap every traced function of ``litellm``."""
    from wrapt import wrap_function_wrapper

    router = Router(litellm)
    for name in FUNCTIONS:
        wrap_function_wrapper(litellm, name, Calls(name, router, tracer_provider, meter_provider))
