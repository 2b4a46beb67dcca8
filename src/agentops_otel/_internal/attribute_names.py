"""Attribute names that agentops-otel adds to spans.

GenAI, error and server attributes come from ``opentelemetry.semconv``; the names here are the
ones the semantic conventions have no equivalent for, all under the ``agentops.`` namespace.
"""

from __future__ import annotations

from typing import Final

SESSION_ID: Final = "agentops.session.id"
"""The session a span belongs to: on the session's root span and on every span started under it."""

SESSION_END_STATE: Final = "agentops.session.end_state"
SESSION_END_STATE_REASON: Final = "agentops.session.end_state_reason"
SESSION_TAGS: Final = "agentops.session.tags"

SESSION_LLM_CALLS: Final = "agentops.session.llm_calls"
SESSION_TOOL_CALLS: Final = "agentops.session.tool_calls"
SESSION_AGENT_INVOCATIONS: Final = "agentops.session.agent_invocations"
SESSION_ACTIONS: Final = "agentops.session.actions"
SESSION_ERRORS: Final = "agentops.session.errors"

EVENT_TYPE: Final = "agentops.event.type"
"""``action``, ``tool``, ``error`` or ``llm`` on spans made by ``session.record(event)``."""
ACTION_TYPE: Final = "agentops.action.type"
EVENT_PARAMS: Final = "agentops.event.params"
EVENT_RETURNS: Final = "agentops.event.returns"
ERROR_DETAILS: Final = "agentops.error.details"

SESSION_SPAN_NAME: Final = "session"
BAGGAGE_SESSION_ID: Final = SESSION_ID
"""The W3C baggage entry that carries the session id across processes."""
