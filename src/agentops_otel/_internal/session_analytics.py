"""``SessionAnalytics``: a session's figures, as ``session.get_analytics()`` and ``end_session()`` return them.

A module of its own, imported when a session's figures are first asked for (at the latest when a
session ends): making the dataclass costs about a millisecond, which ``import agentops_otel`` does
not pay (``analytics`` counts).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SessionAnalytics:
    """A snapshot of a session's activity, as returned by ``session.get_analytics()``."""

    llm_calls: int
    agent_invocations: int
    """``invoke_agent`` spans under the session (``start_agent``, ``@track_agent``, the agent bridges)."""
    tool_calls: int
    actions: int
    errors: int
    input_tokens: int
    output_tokens: int
    duration_seconds: float
    cost: float | None = None
    """Total cost in USD of the LLM calls that could be priced (see ``pricing``); ``None`` when
    none could, or cost is off: never a 0 that looks like a price."""
    unpriced_llm_calls: int = 0
    """LLM calls that got a response but no cost: no usage reported, or a model with no known price."""
