"""Wrapping a client library when the application imports it, not when it is instrumented.

Importing a client library costs a lot of CPU (``openai`` about half a second, ``anthropic`` more),
which a process that never uses the library must not pay because its instrumentor is installed
and ``init()`` or ``opentelemetry-instrument`` activated it. So an instrumentor never imports the
library itself: it says, per module, what to wrap once that module is imported
(``instrument_on_import``), and the wrapping happens then, or at once if the module already is.
Each module is hooked separately, so wrappers for a sub-module that ``import openai`` does not
load (a stream helper, say) are applied when that sub-module is imported, and not before.

The hooks are ``wrapt``'s post-import hooks, which cannot be unregistered: ``ImportHook.cancel()``
(called by ``uninstrument()``) turns a pending hook into a no-op, so an import after it wraps nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import ModuleType

from wrapt import register_post_import_hook

logger = logging.getLogger("agentops_otel.instrumentation")


class ImportHook:
    """What to wrap in one module, applied once when the module is imported; see ``instrument_on_import``."""

    __slots__ = ("_applied", "_apply", "_cancelled", "_lock", "module_name")

    def __init__(self, module_name: str, apply: Callable[[ModuleType], None]) -> None:
        self.module_name = module_name
        self._apply = apply
        self._lock = threading.Lock()
        self._applied = False
        self._cancelled = False

    @property
    def applied(self) -> bool:
        """Whether ``apply`` has run (the module was imported while the hook was pending)."""
        return self._applied

    def cancel(self) -> None:
        """Apply nothing from now on, even if the module is imported later.

        Returns after an ``apply`` running on another thread has finished, so that whatever it
        wrapped can be unwrapped right after.
        """
        with self._lock:
            self._cancelled = True

    def _on_import(self, module: ModuleType) -> None:
        # Runs inside the application's ``import`` statement: an exception here would make that
        # import fail, so a failing instrumentor is logged and the library stays unwrapped.
        with self._lock:
            if self._cancelled or self._applied:
                return
            self._applied = True
            try:
                self._apply(module)
            except Exception:
                logger.warning("agentops-otel: could not instrument %s; its calls are not traced",
                               self.module_name, exc_info=True)

    def __repr__(self) -> str:
        state = "cancelled" if self._cancelled else "applied" if self._applied else "pending"
        return f"<ImportHook {self.module_name} {state}>"


def instrument_on_import(module_name: str, apply: Callable[[ModuleType], None]) -> ImportHook:
    """Call ``apply(module)`` once module ``module_name`` is imported: now if it already is.

    The library is never imported here. ``apply`` wraps what it needs in ``module``; an exception
    from it is logged, never raised into the application's ``import``. Keep the returned hook and
    ``cancel()`` it in ``_uninstrument``, then unwrap only the modules in ``sys.modules``.

    Example::

        def _instrument(self, **kwargs):
            def wrap(module):
                wrap_function_wrapper(module, "Client.complete", _wrapper(telemetry))
            self._hooks = [instrument_on_import("example_client", wrap)]

        def _uninstrument(self, **kwargs):
            for hook in self._hooks:
                hook.cancel()
            module = sys.modules.get("example_client")
            if module is not None:
                unwrap(module.Client, "complete")
    """
    hook = ImportHook(module_name, apply)
    register_post_import_hook(hook._on_import, module_name)
    return hook
