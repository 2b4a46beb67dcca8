"""What a session did: its LLM calls, agent invocations, tool calls, actions, errors, tokens and cost.

Counted where the work is recorded (``LLMCall`` when an instrumented call ends, ``Session.record``
for events, ``steps.Step`` when an agent, tool or action span ends), not by inspecting every span
that ends: that kept a cost on every span of the process, which the session span processor must
not add.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentops_otel._internal.session_analytics import SessionAnalytics

# Operations of the GenAI semantic conventions that are one call to a model.
LLM_OPERATIONS = frozenset({"chat", "text_completion", "embeddings", "generate_content"})
TOOL_OPERATION = "execute_tool"
AGENT_OPERATION = "invoke_agent"


class AnalyticsCounter:
    """Counts spans into a session's analytics; safe to call from many threads."""

    __slots__ = ("_actions", "_agent_invocations", "_cost", "_errors", "_input_tokens", "_llm_calls", "_lock",
                 "_output_tokens", "_tool_calls", "_unpriced", "ended_at", "started_at")

    def __init__(self) -> None:
        self._lock = threading.RLock()  # reentrant: a signal handler may end the session mid count
        self.started_at = time.monotonic()
        self.ended_at: float | None = None
        self._llm_calls = self._tool_calls = self._actions = self._errors = self._agent_invocations = 0
        self._input_tokens = self._output_tokens = 0
        self._cost: float | None = None
        self._unpriced = 0

    def count(self, operation: object, event_type: object, failed: bool,
              input_tokens: object = None, output_tokens: object = None,
              cost: float | None = None, unpriced: bool = False) -> None:
        """Count one finished LLM call, agent invocation, tool call, action or error of this session.

        ``operation`` is the span's ``gen_ai.operation.name``, ``event_type`` its
        ``agentops.event.type`` (either may be ``None``); token counts that are not ints are ignored.
        ``cost`` is the call's cost in USD, if it was priced; ``unpriced`` says it could not be.
        """
        with self._lock:
            if operation in LLM_OPERATIONS:
                self._llm_calls += 1
                if isinstance(input_tokens, int) and not isinstance(input_tokens, bool):
                    self._input_tokens += input_tokens
                if isinstance(output_tokens, int) and not isinstance(output_tokens, bool):
                    self._output_tokens += output_tokens
                if cost is not None:
                    self._cost = cost if self._cost is None else self._cost + cost
                elif unpriced:
                    self._unpriced += 1
            elif operation == TOOL_OPERATION:
                self._tool_calls += 1
            elif operation == AGENT_OPERATION:
                self._agent_invocations += 1
            elif event_type == "action":
                self._actions += 1
            if failed:
                self._errors += 1

    def finish(self) -> SessionAnalytics:
        """Stop the clock (the session ended) and return the final figures."""
        if self.ended_at is None:
            self.ended_at = time.monotonic()
        return self.snapshot()

    def snapshot(self) -> SessionAnalytics:
        """The figures so far; the duration runs until ``finish()``."""
        from agentops_otel._internal.session_analytics import SessionAnalytics  # here: see its module

        end = time.monotonic() if self.ended_at is None else self.ended_at
        with self._lock:
            return SessionAnalytics(
                llm_calls=self._llm_calls,
                agent_invocations=self._agent_invocations,
                tool_calls=self._tool_calls,
                actions=self._actions,
                errors=self._errors,
                input_tokens=self._input_tokens,
                output_tokens=self._output_tokens,
                duration_seconds=end - self.started_at,
                cost=self._cost,
                unpriced_llm_calls=self._unpriced,
            )
