"""Which instrumentors ``init()`` activates, and when each is loaded.

``init()`` activates every installed agentops-otel instrumentor (a distribution named
``agentops-otel-*`` with an ``opentelemetry_instrumentor`` entry point). Loading one costs a
start-up (``opentelemetry.instrumentation``, ``wrapt``, its endpoint tables), so an instrumentor that
names its library's module in the ``agentops_otel.instruments`` group is loaded and instrumented
only when the application imports that module, at once if it has; a process that never imports
the library pays for neither. ``uninstrument()`` before that import cancels the pending activation
(``agentops_otel.instrumentation.Instrumentor``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from agentops_otel._internal.entry_points import InstalledEntryPoint, entries
from agentops_otel._internal.import_hooks import when_imported

logger = logging.getLogger(__name__)

INSTRUMENTOR_GROUP = "opentelemetry_instrumentor"
OUR_INSTRUMENTOR_PREFIX = "agentops-otel-"
"""Distributions whose ``opentelemetry_instrumentor`` entry points ``init()`` activates."""
INSTRUMENTS_GROUP = "agentops_otel.instruments"
"""Entry points naming the module whose import loads an instrumentor: ``agentops_openai = "openai"``.

The module must be a regular one (``mistralai.client``, not the namespace package ``mistralai``):
a namespace package runs no code on import, so nothing can follow it."""

_cancelled: set[type[Any]] = set()
_cancelled_lock = threading.Lock()


def instrument_installed_clients() -> list[str]:
    """Activate every installed agentops-otel instrumentor: now, or when its library is imported.

    Honours ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``. Returns the entry point names activated. An
    instrumentor that fails is skipped (logged).
    """
    disabled = {name.strip() for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    ours = entries(INSTRUMENTOR_GROUP, INSTRUMENTS_GROUP, dist_prefix=OUR_INSTRUMENTOR_PREFIX)
    modules = {entry_point.name: entry_point.value for entry_point in ours if entry_point.group == INSTRUMENTS_GROUP}
    done: list[str] = []
    for entry_point in ours:
        if entry_point.group != INSTRUMENTOR_GROUP or entry_point.name in disabled:
            continue
        module_name = modules.get(entry_point.name)
        if module_name is None:
            if _instrument(entry_point):
                done.append(entry_point.name)
        else:
            when_imported(module_name, _instrument_on_import(entry_point))
            done.append(entry_point.name)
    return done


def cancel_activation(instrumentor_class: type[Any]) -> None:
    """An instrumentor still waiting for its library is not instrumented when the library is imported."""
    with _cancelled_lock:
        _cancelled.add(instrumentor_class)


def _instrument_on_import(entry_point: InstalledEntryPoint) -> Callable[[ModuleType], None]:
    def instrument(_: ModuleType) -> None:
        _instrument(entry_point)

    return instrument


def _instrument(entry_point: InstalledEntryPoint) -> bool:
    # Also runs inside the application's import of the library: never raises.
    try:
        instrumentor_class = entry_point.load()
        with _cancelled_lock:
            if instrumentor_class in _cancelled:  # uninstrumented before its library was imported
                return False
        instrumentor = instrumentor_class()
        if instrumentor.is_instrumented_by_opentelemetry:  # by opentelemetry-instrument, or by hand
            return True
        instrumentor.instrument()
        return bool(instrumentor.is_instrumented_by_opentelemetry)
    except Exception:
        logger.debug("agentops-otel: could not instrument %s", entry_point.name, exc_info=True)
        return False
