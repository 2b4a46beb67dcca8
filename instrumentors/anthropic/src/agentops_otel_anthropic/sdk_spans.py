"""Keeping the anthropic SDK's own call span out of the calls we trace.

anthropic 2.x traces itself: with a tracer provider set (and ``ANTHROPIC_OPEN_TELEMETRY`` not
``false``) its ``request`` method starts a GenAI CLIENT span per call, so a traced call would
give two spans. ``request`` asks the client's ``_tracer`` property for a tracer and skips its span
when that is ``None``. While instrumented, ``BaseClient._tracer`` is replaced by a property that
answers ``None`` inside a call we trace (a context variable, so threads and asyncio tasks do not
see each other's calls) and the SDK's own answer everywhere else: its spans for calls we do not
trace (``count_tokens``, batches, ...), its tool-runner and tool spans, stay as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_inside_traced_call: ContextVar[bool] = ContextVar("agentops_otel_anthropic.inside_traced_call", default=False)

_original: Any = None
"""The SDK's own ``BaseClient._tracer`` (a property) while ours replaces it, else ``None``."""


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """The SDK starts no call span of its own within this block (in this context)."""
    token = _inside_traced_call.set(True)
    try:
        yield
    finally:
        _inside_traced_call.reset(token)


def install(base_client: Any) -> None:
    """Put our ``_tracer`` property in place of the SDK's on ``base_client`` (``BaseClient``); once."""
    global _original
    original = base_client.__dict__.get("_tracer")
    if _original is not None or not isinstance(original, property):
        return  # installed already, or a release of the SDK that does not trace itself

    def _tracer(client: Any) -> Any:
        if _inside_traced_call.get():
            return None
        return original.__get__(client, type(client))

    _original = original
    base_client._tracer = property(_tracer, doc=original.__doc__)


def uninstall(base_client: Any) -> None:
    """Put the SDK's own ``_tracer`` property back, the very object that was there."""
    global _original
    if _original is None:
        return
    base_client._tracer = _original
    _original = None
