"""LiteLLM instrumentation for agentops-otel.

Each call of ``litellm.completion`` / ``acompletion`` (plain and streamed), ``embedding`` /
``aembedding`` and ``responses`` / ``aresponses`` becomes one GenAI client span in the session it
belongs to, whichever provider LiteLLM routes it to: ``gen_ai.provider.name`` is that provider
(``openai``, ``anthropic``, ``aws.bedrock``, ...) and ``gen_ai.request.model`` the model it is sent.

One call gives one span: when LiteLLM sends the call through a client we also instrument (the
``openai`` SDK, for ``openai/...`` models), that client's call is part of LiteLLM's and gets no span
of its own; when LiteLLM sends HTTP itself (``anthropic/...``, ...), its span is the only one.
With two or more sessions active and none chosen, ``MultiSessionException`` is raised by the
``litellm`` function itself, before LiteLLM runs: LiteLLM would wrap it into one of its own errors.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_litellm import LiteLLMInstrumentor

    LiteLLMInstrumentor().instrument()

``litellm`` is wrapped when the application imports it (at once if it has): instrumenting never
imports it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentops_otel.instrumentation import (
    Endpoint,
    LLMTelemetry,
    async_function_wrapper,
    call_safely,
    function_wrapper,
)
from agentops_otel_litellm.calls import COMPLETION, EMBEDDING, RESPONSES, Route, request_body
from agentops_otel_litellm.version import __version__

__all__ = ["LiteLLMInstrumentor", "__version__"]

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

# ``litellm.<name>``: (the endpoint, whether it is async, its positional parameters). Typed ``Any``:
# embeddings never stream, so that endpoint has no accumulator (see ``Endpoint``).
_FUNCTIONS: dict[str, tuple[Any, bool, tuple[str, ...]]] = {
    "completion": (COMPLETION, False, ("model", "messages")),
    "acompletion": (COMPLETION, True, ("model", "messages")),
    "embedding": (EMBEDDING, False, ("model", "input")),
    "aembedding": (EMBEDDING, True, ("model", "input")),
    "responses": (RESPONSES, False, ("input", "model")),
    "aresponses": (RESPONSES, True, ("input", "model")),
}

_ROUTES_KEPT = 256


class _Router:
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


class _Calls:
    """The wrapper of one ``litellm`` function: one ``LLMTelemetry`` per provider it routes to, as the
    provider is part of every span and metric point."""

    def __init__(self, name: str, router: _Router, tracer_provider: trace.TracerProvider | None,
                 meter_provider: metrics.MeterProvider | None) -> None:
        self._endpoint, self._is_async, self._positional = _FUNCTIONS[name]
        self._router = router
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._by_provider: dict[str, Wrapper] = {}
        self._lock = threading.Lock()

    def _wrapper_for(self, provider: str) -> Wrapper:
        with self._lock:
            wrapper = self._by_provider.get(provider)
            if wrapper is None:
                telemetry = LLMTelemetry(provider, __name__, tracer_provider=self._tracer_provider,
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


class LiteLLMInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps ``litellm.completion``, ``embedding`` and ``responses`` and their async twins.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original functions back.
    """

    _hook: _ImportHook | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("litellm >= 1.83.7",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer_provider = kwargs.get("tracer_provider")
        meter_provider = kwargs.get("meter_provider")

        def wrap(litellm: ModuleType) -> None:
            router = _Router(litellm)
            for name in _FUNCTIONS:
                wrap_function_wrapper(litellm, name, _Calls(name, router, tracer_provider, meter_provider))

        self._hook = _ImportHook("litellm", wrap)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._hook is not None:
            self._hook.cancel()
            self._hook = None
        litellm = sys.modules.get("litellm")  # not imported: nothing was wrapped
        if litellm is None:
            return
        for name in _FUNCTIONS:
            if hasattr(getattr(litellm, name, None), "__wrapped__"):
                unwrap(litellm, name)


class _ImportHook:
    """``apply(module)`` once ``module_name`` is imported (now if it is), until cancelled: wrapt's
    post-import hooks cannot be unregistered."""

    def __init__(self, module_name: str, apply: Callable[[ModuleType], None]) -> None:
        self._apply = apply
        self._lock = threading.Lock()
        self._done = False
        register_post_import_hook(self._on_import, module_name)

    def cancel(self) -> None:
        with self._lock:
            self._done = True

    def _on_import(self, module: ModuleType) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            call_safely("instrumenting litellm", self._apply, module)
