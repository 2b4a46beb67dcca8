"""Attribute names that agentops-otel adds to spans.

GenAI, error and server attributes come from ``opentelemetry.semconv``; the names here are the
ones the semantic conventions have no equivalent for, all under the ``agentops.`` namespace.
"""

from __future__ import annotations

from typing import Final

SESSION_ID: Final = "agentops.session.id"
"""The id of the session whose root span (or start record) this is: on those two spans only.

Every span of the session, the root included, carries the session under the standard names
backends group by, ``session.id`` and ``gen_ai.conversation.id`` (see ``session_stamp``); this
name marks the one span that *is* the session, so that a search for it finds one span per session."""

SESSION_END_STATE: Final = "agentops.session.end_state"
SESSION_END_STATE_REASON: Final = "agentops.session.end_state_reason"
SESSION_TAGS: Final = "agentops.session.tags"

SESSION_LLM_CALLS: Final = "agentops.session.llm_calls"
SESSION_TOOL_CALLS: Final = "agentops.session.tool_calls"
SESSION_AGENT_INVOCATIONS: Final = "agentops.session.agent_invocations"
SESSION_ACTIONS: Final = "agentops.session.actions"
SESSION_ERRORS: Final = "agentops.session.errors"
SESSION_INPUT_TOKENS: Final = "agentops.session.input_tokens"
SESSION_OUTPUT_TOKENS: Final = "agentops.session.output_tokens"
"""The session's token totals, on its root span at end: not ``gen_ai.usage.*``, which a backend
adds up over every span of a trace (the root's totals would count every call twice)."""

EVENT_TYPE: Final = "agentops.event.type"
"""``action``, ``tool``, ``error`` or ``llm`` on spans made by ``session.record(event)``."""
ACTION_TYPE: Final = "agentops.action.type"
EVENT_PARAMS: Final = "agentops.event.params"
EVENT_RETURNS: Final = "agentops.event.returns"
ERROR_DETAILS: Final = "agentops.error.details"

SESSION_SPAN_NAME: Final = "session"
PENDING_SESSION_SPAN_NAME: Final = "session (pending)"
"""The record a session exports when it starts (see ``pending_span``)."""
SPAN_TYPE: Final = "agentops.span_type"
"""``pending`` on a session's start record: not a call, an event or a step, only a sign of life."""
PENDING_SPAN_TYPE: Final = "pending"

STREAM_COMPLETED: Final = "agentops.stream.completed"
"""On a streamed call's span: whether the stream was read to its end (``false``: closed,
abandoned or cancelled before it)."""
BAGGAGE_SESSION_ID: Final = SESSION_ID
"""The W3C baggage entry that carries the session id across processes."""
BAGGAGE_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""The W3C baggage entry that carries the session's conversation id across processes, present
only when it differs from the session id (``start_session(conversation_id=...)``)."""

# Cost in USD. The GenAI conventions have no cost attribute yet (a proposal adds
# ``gen_ai.usage.cost.*``); these are the names backends read today, so they live here alone and
# can follow the convention when it lands.
LLM_CALL_COST_ATTRIBUTES: Final = ("gen_ai.usage.cost", "operation.cost")
"""An LLM call's cost, under each name: Langfuse reads ``gen_ai.usage.cost`` (its total cost),
Logfire (and pydantic-ai) ``operation.cost``. Absent when the call could not be priced."""
SESSION_COST: Final = "agentops.session.cost"
"""The session's total cost, on its root span at end: under ``agentops.session.*`` so that no
backend adds it to the sum of its calls' costs. Absent when no call could be priced."""
SESSION_UNPRICED_LLM_CALLS: Final = "agentops.session.unpriced_llm_calls"
"""LLM calls that got a response but no cost: usage not reported, or a model with no known price."""
COST_METRIC: Final = "operation.cost"
"""Histogram of LLM call costs (unit ``{USD}``) by provider and model: pydantic-ai's name and unit."""
