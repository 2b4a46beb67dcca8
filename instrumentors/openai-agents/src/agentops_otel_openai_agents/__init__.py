"""OpenAI Agents SDK instrumentation for agentops-otel.

Each ``Runner.run`` / ``run_sync`` / ``run_streamed`` goes into its session (the current one, else
the only active one, else a session of its own that ends with the run), and the SDK's agents,
function tools, handoffs and guardrails become ``invoke_agent`` / ``execute_tool`` spans in it,
with the LLM call spans of the ``openai`` instrumentation nested under the agent that made them.
The SDK's own trace processors (its export to the OpenAI dashboard) stay as they are: this adds a
``TracingProcessor`` next to them. The SDK's tracing must be on (it is by default) for the spans
to reach it.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_openai_agents import OpenAIAgentsInstrumentor

    OpenAIAgentsInstrumentor().instrument()
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Collection
from types import ModuleType
from typing import Any

from wrapt import FunctionWrapper, wrap_function_wrapper

from agentops_otel.instrumentation import ImportHook, Instrumentor, instrument_on_import
from agentops_otel_openai_agents.version import __version__

__all__ = ["OpenAIAgentsInstrumentor", "__version__"]

_lock = threading.Lock()
_WRAPPED: tuple[tuple[str, str, str], ...] = (
    # (module, class, attribute) of everything wrapped, for uninstrument().
    ("agents.run", "Runner", "run"),
    ("agents.run", "Runner", "run_sync"),
    ("agents.run", "Runner", "run_streamed"),
    ("agents.tool_context", "ToolContext", "from_agent_context"),
    ("agents.items", "ItemHelpers", "tool_call_output_item"),
    ("agents.tracing.spans", "SpanImpl", "set_error"),
)


class OpenAIAgentsInstrumentor(Instrumentor):
    """Adds the span bridge to the Agents SDK and wraps its ``Runner`` when the app imports ``agents``.

    Instrumenting never imports ``agents`` (nor ``openai``); instrumenting twice is harmless;
    ``uninstrument()`` switches the bridge off and puts the original methods back.
    """

    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai-agents >= 0.24",)

    def _instrument(self, **kwargs: Any) -> None:
        self._hooks = (instrument_on_import("agents", _on_import),)

    def _uninstrument(self, **kwargs: Any) -> None:
        for hook in self._hooks:  # an import after this applies nothing
            hook.cancel()
        self._hooks = ()
        with _lock:
            if "agents" not in sys.modules:  # never imported: nothing was wrapped
                return
            if _bridge is not None:
                _bridge.enabled = False
            for module_name, class_name, attribute in _WRAPPED:
                cls = getattr(sys.modules.get(module_name), class_name, None)
                wrapper = vars(cls).get(attribute) if cls is not None else None
                if isinstance(wrapper, FunctionWrapper):
                    setattr(cls, attribute, wrapper.__wrapped__)


_bridge: Any = None
"""The one ``SpanBridge`` of the process (the SDK cannot remove a trace processor)."""


def _on_import(module: ModuleType) -> None:
    with _lock:
        _apply()


def _apply() -> None:
    """Wrap the SDK (imported by now) and switch the bridge on."""
    global _bridge
    import agents
    from agents.items import ItemHelpers

    from agentops_otel_openai_agents.bridge import SpanBridge, after
    from agentops_otel_openai_agents.runs import run_streamed_wrapper, run_sync_wrapper, run_wrapper

    if _bridge is None:
        _bridge = SpanBridge()
        agents.add_trace_processor(_bridge)
    bridge: SpanBridge = _bridge
    if isinstance(vars(agents.Runner).get("run"), FunctionWrapper):  # instrumented already
        bridge.enabled = True
        return
    wrap_function_wrapper("agents.run", "Runner.run", run_wrapper(bridge))
    wrap_function_wrapper("agents.run", "Runner.run_sync", run_sync_wrapper(bridge))
    wrap_function_wrapper("agents.run", "Runner.run_streamed", run_streamed_wrapper(bridge))
    wrap_function_wrapper("agents.tool_context", "ToolContext.from_agent_context",
                          after(bridge.tool_context_made, lambda instance, args, kwargs, result: result))
    wrap_function_wrapper(ItemHelpers.__module__, "ItemHelpers.tool_call_output_item",
                          after(bridge.tool_call_answered,
                                lambda instance, args, kwargs, result: args[0] if args else kwargs.get("tool_call")))
    wrap_function_wrapper("agents.tracing.spans", "SpanImpl.set_error",
                          after(bridge.error_recorded, lambda instance, args, kwargs, result: instance))
    bridge.enabled = True
