"""The modules ``import agentops_otel`` leaves to first use, and ``fork()`` while one is being imported.

``import agentops_otel`` does not import what ``init()`` and a running session do not need (the
event classes, the decorators, propagation, the figures' dataclasses, ``decimal``), so that a
program pays for each only if it uses it (``import agentops_otel`` must cost at most 20 ms of CPU
over the SDK's own import; tests/instrumentation/test_cold_start.py lists these modules).

Such an import may run on any thread: a session ending on a worker thread imports
``session_analytics``. A ``fork()`` while it runs gave the child the module's import lock held by a
thread the child does not have, and the child hung at its first import of the module (ending its
first session). Before a fork, the forking thread imports them all: an import in progress on
another thread is waited for, and the child never imports them. Each is imported once per process
(a few milliseconds at the first fork, nothing at the next ones).
"""

from __future__ import annotations

import os
from importlib import import_module

PUBLIC_NAMES = {
    "ActionEvent": "events", "ErrorEvent": "events", "Event": "events", "LLMEvent": "events", "ToolEvent": "events",
    "record_action": "decorators", "record_tool": "decorators", "session": "decorators", "track_agent": "decorators",
    "attach_session": "propagation", "inject": "propagation",
    "ExportStats": "export_stats", "SessionAnalytics": "session_analytics",
}
"""The package's public names left to first use, and the module of ``agentops_otel._internal`` of each."""

MODULES = ("decimal", *sorted({f"agentops_otel._internal.{module}" for module in PUBLIC_NAMES.values()}))
"""Every module of ours imported on first use, and ``decimal`` (imported by ``pricing`` on first use)."""


def _before_fork() -> None:
    for name in MODULES:
        try:
            import_module(name)
        except Exception:  # never breaks the application's fork
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork)
