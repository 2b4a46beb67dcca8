"""LangChain / LangGraph instrumentation for agentops-otel.

A LangGraph graph becomes an ``invoke_agent`` span, its nodes child spans, its tools
``execute_tool`` spans with the model's tool call id, and a chain run at the top an
``invoke_workflow`` span; the LLM spans of the openai / anthropic instrumentors nest under the
node or chain that made the call (see ``handler``). No code change: the callback handler is added
to every LangChain ``CallbackManager`` when it is created, so ``invoke``, ``stream``, ``batch`` and
their async forms are all seen, with or without ``callbacks=`` of the application's own.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument()
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection
from types import ModuleType
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentops_otel.instrumentation import ImportHook, Instrumentor, instrument_on_import
from agentops_otel_langchain.version import __version__

__all__ = ["LangChainInstrumentor", "__version__"]

logger = logging.getLogger(__name__)

_CALLBACKS_MODULE = "langchain_core.callbacks.manager"
# Every run's callback manager is made by ``configure`` from the run's config (the child managers
# of a run inherit its handlers): the handler is added there. (Wrapping ``__init__`` instead, as
# OpenInference does, runs the check for each of the ~10 managers LangChain copies per run.)
_MANAGER_CLASSES = ("CallbackManager", "AsyncCallbackManager")
# Where LangChain and LangGraph set a run's config in the fresh context the run's code executes
# in (each has its own copy of the function); the span of the run is made current there too.
_CONFIG_CONTEXT_MODULES = ("langchain_core.runnables.config", "langgraph._internal._runnable")
_CONFIG_CONTEXT_FUNCTION = "_set_config_context"


class LangChainInstrumentor(Instrumentor):
    """Adds agentops-otel's callback handler to the callback manager of every LangChain run."""

    _handler: Any = None
    _hooks: tuple[ImportHook, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("langchain-core >= 1.0, < 2",)

    def _instrument(self, **kwargs: Any) -> None:
        # The handler module imports langchain_core, so it is imported only once the application has.
        tracer = trace.get_tracer(__name__, __version__, kwargs.get("tracer_provider"))
        state: dict[str, Any] = {}
        self._state = state

        def handler() -> Any:
            if state.get("handler") is None:
                from agentops_otel_langchain.handler import AgentOpsCallbackHandler

                state["handler"] = AgentOpsCallbackHandler(tracer)
            return state["handler"]

        def wrap_callback_manager(module: ModuleType) -> None:
            for cls in _MANAGER_CLASSES:
                wrap_function_wrapper(module, f"{cls}.configure", _add_handler(handler()))

        def wrap_config_context(module: ModuleType) -> None:
            wrap_function_wrapper(module, _CONFIG_CONTEXT_FUNCTION, _make_run_current(handler()))

        # Wrapped when the application imports LangChain (at once if it has), never imported here.
        self._hooks = (instrument_on_import(_CALLBACKS_MODULE, wrap_callback_manager),
                       *(instrument_on_import(module_name, wrap_config_context)
                         for module_name in _CONFIG_CONTEXT_MODULES))

    def _uninstrument(self, **kwargs: Any) -> None:
        state = getattr(self, "_state", None)
        if state is None:
            return
        for hook in self._hooks:
            hook.cancel()  # pending ones apply nothing
        self._hooks = ()
        handler = state.get("handler")
        if handler is not None:
            handler.enabled = False  # managers made before keep it, as a no-op
        callbacks = sys.modules.get(_CALLBACKS_MODULE)
        if callbacks is not None:
            for name in _MANAGER_CLASSES:
                cls = getattr(callbacks, name)
                # The wrapper of a classmethod, from the class's own dict (getattr would bind it).
                # A proxy passes isinstance checks as the classmethod it wraps: compare types.
                wrapper = vars(cls).get("configure")
                if type(wrapper) is not classmethod and hasattr(wrapper, "__wrapped__"):
                    cls.configure = wrapper.__wrapped__
        for module_name in _CONFIG_CONTEXT_MODULES:
            module = sys.modules.get(module_name)
            if module is not None:
                unwrap(module, _CONFIG_CONTEXT_FUNCTION)


def _add_handler(handler: Any) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        if handler.enabled:
            try:
                # A run inside another gets a manager with the handlers its parent passes on:
                # the handler is there already.
                if handler not in manager.inheritable_handlers:
                    manager.add_handler(handler, True)
            except Exception:
                logger.debug("agentops-otel: could not add the callback handler", exc_info=True)
        return manager

    return wrapper


def _make_run_current(handler: Any) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            config = args[0] if args else kwargs["config"]
            handler.make_current(config)
        except Exception:
            logger.debug("agentops-otel: could not make a LangChain run's span current", exc_info=True)
        return result

    return wrapper
