"""What a session did: counted from the spans that end under it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.trace import StatusCode

from agentops_otel.attributes import EVENT_TYPE

# Operations of the GenAI semantic conventions that are one call to a model.
LLM_OPERATIONS = frozenset({"chat", "text_completion", "embeddings", "generate_content"})
TOOL_OPERATION = "execute_tool"
_COUNTED_KEYS = frozenset({GEN_AI_OPERATION_NAME, EVENT_TYPE})
"""A span without these attributes counts only if it failed."""


@dataclass(frozen=True)
class SessionAnalytics:
    """A snapshot of a session's activity, as returned by ``session.get_analytics()``."""

    llm_calls: int
    tool_calls: int
    actions: int
    errors: int
    input_tokens: int
    output_tokens: int
    duration_seconds: float


class AnalyticsCounter:
    """Counts spans into a session's analytics; safe to call from many threads."""

    __slots__ = ("_actions", "_errors", "_input_tokens", "_llm_calls", "_lock", "_output_tokens",
                 "_tool_calls", "ended_at", "started_at")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started_at = time.monotonic()
        self.ended_at: float | None = None
        self._llm_calls = self._tool_calls = self._actions = self._errors = 0
        self._input_tokens = self._output_tokens = 0

    def count_span(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        failed = span.status.status_code is StatusCode.ERROR
        # Called for every span of the session: most (the application's own, HTTP, ...) count
        # for nothing, and each missing-key lookup on the SDK's attribute mapping raises inside,
        # so one pass over the keys rules them out before any lookup or the lock.
        if not failed and _COUNTED_KEYS.isdisjoint(attributes):
            return
        operation = attributes.get(GEN_AI_OPERATION_NAME)
        with self._lock:
            if operation in LLM_OPERATIONS:
                self._llm_calls += 1
                input_tokens = attributes.get(GEN_AI_USAGE_INPUT_TOKENS)
                if isinstance(input_tokens, int):
                    self._input_tokens += input_tokens
                output_tokens = attributes.get(GEN_AI_USAGE_OUTPUT_TOKENS)
                if isinstance(output_tokens, int):
                    self._output_tokens += output_tokens
            elif operation == TOOL_OPERATION:
                self._tool_calls += 1
            elif attributes.get(EVENT_TYPE) == "action":
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
        end = time.monotonic() if self.ended_at is None else self.ended_at
        with self._lock:
            return SessionAnalytics(
                llm_calls=self._llm_calls,
                tool_calls=self._tool_calls,
                actions=self._actions,
                errors=self._errors,
                input_tokens=self._input_tokens,
                output_tokens=self._output_tokens,
                duration_seconds=end - self.started_at,
            )
