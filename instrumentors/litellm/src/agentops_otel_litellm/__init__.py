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
from collections.abc import Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.utils import unwrap

from agentops_otel.instrumentation import ImportHook, Instrumentor, instrument_on_import
from agentops_otel_litellm.version import __version__

__all__ = ["LiteLLMInstrumentor", "__version__"]

# The ``litellm`` functions wrapped (``wrappers.FUNCTIONS`` says how).
_FUNCTION_NAMES = ("completion", "acompletion", "embedding", "aembedding", "responses", "aresponses")


class LiteLLMInstrumentor(Instrumentor):
    """Wraps ``litellm.completion``, ``embedding`` and ``responses`` and their async twins.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original functions back.
    """

    _hook: ImportHook | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("litellm >= 1.83.7",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer_provider = kwargs.get("tracer_provider")
        meter_provider = kwargs.get("meter_provider")

        def wrap(litellm: ModuleType) -> None:
            # Imported only once the application imports litellm: init() pays for nothing else.
            from agentops_otel_litellm import wrappers

            wrappers.wrap(litellm, tracer_provider, meter_provider)

        self._hook = instrument_on_import("litellm", wrap)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._hook is not None:
            self._hook.cancel()
            self._hook = None
        litellm = sys.modules.get("litellm")  # not imported: nothing was wrapped
        if litellm is None:
            return
        for name in _FUNCTION_NAMES:
            if hasattr(getattr(litellm, name, None), "__wrapped__"):
                unwrap(litellm, name)
