"""Wrapping a client library when the application imports it, not when it is instrumented.

Importing a client library costs a lot of CPU (``openai`` about half a second, ``anthropic`` more),
which a process that never uses the library must not pay because its instrumentor is installed
and ``init()`` or ``opentelemetry-instrument`` activated it. So an instrumentor never imports the
library itself: it says, per module, what to wrap once that module is imported
(``instrument_on_import``), and the wrapping happens then, or at once if the module already is.
Each module is hooked separately, so wrappers for a sub-module that ``import openai`` does not
load (a stream helper, say) are applied when that sub-module is imported, and not before.

The hooks are this module's own post-import hooks (a ``sys.meta_path`` finder that runs them
after the module's code), not ``wrapt``'s: importing ``wrapt`` costs a start-up more than all of
this, and ``init()`` uses them to load each instrumentor only when its library is imported. A hook
cannot be unregistered: ``ImportHook.cancel()`` (called by ``uninstrument()``) turns a pending hook
into a no-op, so an import after it wraps nothing. Like every post-import hook mechanism, a module
that is reloaded does not run them again.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

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
    when_imported(module_name, hook._on_import)
    return hook


_hooks: dict[str, list[Callable[[ModuleType], None]]] = {}
_hooks_lock = threading.RLock()
_finder: _PostImportFinder | None = None


def when_imported(module_name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once, after module ``module_name`` has been imported: now if it is.

    The callback runs inside the importing statement, after the module's own code: an exception
    from it propagates to that ``import``, so callers pass callbacks that never raise
    (``ImportHook._on_import``).
    """
    global _finder
    with _hooks_lock:
        module = sys.modules.get(module_name)
        if module is None:
            if _finder is None:
                _finder = _PostImportFinder()
                sys.meta_path.insert(0, _finder)
            _hooks.setdefault(module_name, []).append(callback)
            return
    callback(module)


def _run_hooks(module: ModuleType) -> None:
    with _hooks_lock:
        callbacks = _hooks.pop(module.__name__, ())
    for callback in callbacks:
        callback(module)


class _PostImportFinder:
    """First on ``sys.meta_path``: for a module with hooks, the spec the other finders give, with a
    loader that runs the hooks after the module's code. Every other import costs one dict lookup."""

    def __init__(self) -> None:
        self._finding = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname not in _hooks:
            return None
        finding: set[str] = self._finding.__dict__.setdefault("names", set())
        if fullname in finding:  # the lookup below, asking the finders again: this one passes
            return None
        finding.add(fullname)
        try:
            from importlib.util import find_spec  # here: only an import with hooks pays for it

            spec = find_spec(fullname)
        finally:
            finding.discard(fullname)
        loader = spec.loader if spec is not None else None
        if spec is not None and hasattr(loader, "exec_module") and not isinstance(loader, _HookRunningLoader):
            # Duck-typed: subclassing importlib.abc.Loader would import it, which costs start-up.
            spec.loader = cast("Loader", _HookRunningLoader(loader))
        return spec


class _HookRunningLoader:
    """Loads a module with the loader that found it, then runs the module's hooks."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:  # everything else (get_resource_reader, is_package, ...)
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create: Callable[[ModuleSpec], ModuleType | None] | None = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its own loader, as if this one had never been there.
        if getattr(module, "__loader__", None) in (None, self):
            module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        self._loader.exec_module(module)
        _run_hooks(sys.modules.get(module.__name__, module))
