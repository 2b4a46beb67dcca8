"""The Agents SDK's own trace, turned into OpenTelemetry spans by a ``TracingProcessor``.

The SDK reports a run as trace → task → agent → turn → response / generation / function /
handoff / guardrail spans. Mapped to a session:

- an **agent** span → ``invoke_agent {agent name}``;
- a **function** span (a function tool, an MCP tool, an agent used as a tool) →
  ``execute_tool {tool name}`` with ``gen_ai.tool.call.id``, the ``call_id`` of the model's
  ``function_call`` item that asked for it;
- a **handoff** → ``execute_tool {handoff tool name}`` (the model hands off by calling the
  ``transfer_to_...`` tool, so it gets that call's id too), with
  ``openai_agents.handoff.from_agent`` / ``.to_agent``;
- a **guardrail** → ``execute_tool {guardrail name}``, with ``openai_agents.guardrail.triggered``;
- every bridged span has ``openai_agents.span.type`` (``agent``, ``function``, ``handoff``,
  ``guardrail``);
- **task** and **turn** spans are flattened away (their children go to the agent span), and
  **response** / **generation** spans are not bridged: the model call is already the span of the
  client instrumentor (``agentops-otel-openai``), which nests under the agent span, so each model
  call is one span. Other kinds (custom, MCP list-tools, speech) are not bridged either.

Each bridged span is current while the SDK's span is (the SDK starts and ends them in one
context, as it does its own current-span variable), so LLM calls and nested runs inside nest
under it. An SDK span error ends the span ERROR, with the exception that caused it when there was
one (seen when the SDK records the error), else an ``AgentsSpanError`` carrying the SDK's message.

The SDK's ``FunctionSpanData`` carries no call id: it is taken from the ``ToolContext`` the SDK
makes for the call inside the function span (its ``tool_call_id`` is the ``call_id`` of the
model's ``function_call`` item), and, for a handoff, from the tool call the SDK answers inside the
handoff span. A run in a user's ``agents.trace(...)`` with no session is given one for the whole
trace (see ``on_trace_start``).

Nothing here raises into the SDK (which would log it and go on anyway): errors are logged at
debug level and the span is left out.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor, get_current_span
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_NAME,
)

from agentops_otel import Session
from agentops_otel.instrumentation import (
    AgentRun,
    Step,
    capture_content,
    start_agent,
    start_agent_run,
    start_tool,
    to_json,
)

logger = logging.getLogger("agentops_otel.instrumentation")

SPAN_TYPE = "openai_agents.span.type"
"""The kind of SDK span a bridged span stands for: ``agent``, ``function``, ``handoff``, ``guardrail``."""
HANDOFF_FROM_AGENT = "openai_agents.handoff.from_agent"
HANDOFF_TO_AGENT = "openai_agents.handoff.to_agent"
GUARDRAIL_TRIGGERED = "openai_agents.guardrail.triggered"

_HANDOFF = "handoff"
_FUNCTION = "function"
_GUARDRAIL = "guardrail"
_AGENT = "agent"


class AgentsSpanError(Exception):
    """An error the Agents SDK recorded on one of its spans with no exception to show for it."""


class _Bridged:
    """A bridged span in flight: its step, and the context made current for it."""

    __slots__ = ("context", "correlated", "error", "kind", "step", "token")

    def __init__(self, step: Step, kind: str, context: Context, token: object) -> None:
        self.step = step
        self.kind = kind
        self.context = context
        self.token = token
        self.correlated = False
        self.error: BaseException | None = None


class _TraceSession:
    """A session started for a user's ``agents.trace(...)`` block, and the first run error in it."""

    __slots__ = ("context", "error", "run", "token")

    def __init__(self, run: AgentRun, context: Context, token: object) -> None:
        self.run = run
        self.context = context
        self.token = token
        self.error: BaseException | None = None


def _leave(context: Context, token: object) -> None:
    """Detach ``token`` if its context is still the current one.

    The SDK starts and ends a span in one context; if an abandoned generator ends it from another
    (the SDK tolerates that too), the token is not valid there and detaching it would only log an
    error, so it is left to the context it belongs to.
    """
    if get_current() is context:
        detach(token)  # type: ignore[arg-type]


def _arguments(arguments: str) -> str:
    """A tool call's arguments (the model's JSON text) as a bounded JSON attribute."""
    try:
        return to_json(json.loads(arguments))
    except ValueError:
        return to_json(arguments)


class SpanBridge(TracingProcessor):
    """The ``TracingProcessor`` added with ``agents.add_trace_processor``, next to the SDK's own.

    Processors cannot be removed from the SDK, so there is one per process, switched on by
    ``instrument()`` and off by ``uninstrument()``.
    """

    def __init__(self) -> None:
        self.enabled = False
        self._spans: dict[str, _Bridged] = {}
        self._traces: dict[str, _TraceSession] = {}

    # -- traces: a session for a user's ``agents.trace(...)`` -------------------------------------

    def on_trace_start(self, trace: Trace) -> None:
        """Give a trace that starts with no session applying a session of its own.

        A trace that ``Runner.run`` starts finds the run's session current and needs nothing; one
        a user opens around several runs (``with agents.trace("workflow", group_id=...):``) becomes
        one session, ending when the trace does, whose conversation id is the trace's ``group_id``
        (the SDK's id for linking the traces of one conversation).
        """
        if not self.enabled:
            return
        try:
            group_id = getattr(trace, "group_id", None)
            run = start_agent_run(conversation_id=group_id if isinstance(group_id, str) and group_id.strip() else None)
            if not run.owns_session or run.session is None:
                return
            context = run.session.context(get_current())
            self._traces[trace.trace_id] = _TraceSession(run, context, attach(context))
        except Exception:  # MultiSessionException too: ``Runner.run`` raises it to the caller
            logger.debug("agentops-otel: no session for an Agents SDK trace", exc_info=True)

    def on_trace_end(self, trace: Trace) -> None:
        traced = self._traces.pop(trace.trace_id, None)
        if traced is None:
            return
        try:
            _leave(traced.context, traced.token)
            traced.run.finish(traced.error)
        except Exception:
            logger.debug("agentops-otel: could not end an Agents SDK trace's session", exc_info=True)

    def run_failed(self, session: Session | None, error: BaseException) -> None:
        """A run in ``session`` raised ``error``: a trace's session ends Fail with the first such error."""
        if session is None or not self._traces:
            return
        for traced in list(self._traces.values()):
            if traced.run.session is session and traced.error is None:
                traced.error = error

    # -- spans --------------------------------------------------------------------------------

    def on_span_start(self, span: Span[Any]) -> None:
        if not self.enabled:
            return
        try:
            data = span.span_data
            kind = data.type
            if kind == _AGENT:
                step = start_agent(data.name, attributes={SPAN_TYPE: _AGENT})
            elif kind == _FUNCTION:
                step = start_tool(data.name, attributes={SPAN_TYPE: _FUNCTION})
            elif kind == _HANDOFF:
                # Named after the handoff tool once the SDK answers its call (``handoff_call``).
                attributes = {SPAN_TYPE: _HANDOFF}
                if data.from_agent:
                    attributes[HANDOFF_FROM_AGENT] = data.from_agent
                step = start_tool(_HANDOFF, attributes=attributes)
            elif kind == _GUARDRAIL:
                step = start_tool(data.name, attributes={SPAN_TYPE: _GUARDRAIL})
            else:
                return
            context = step.context()
            self._spans[span.span_id] = _Bridged(step, kind, context, attach(context))
        except Exception:
            logger.debug("agentops-otel: skipped an Agents SDK span after an error", exc_info=True)

    def on_span_end(self, span: Span[Any]) -> None:
        bridged = self._spans.pop(span.span_id, None)
        if bridged is None:
            return
        try:
            _leave(bridged.context, bridged.token)
            data = span.span_data
            step = bridged.step
            kind = bridged.kind
            if kind == _HANDOFF and data.to_agent:
                step.span.set_attribute(HANDOFF_TO_AGENT, data.to_agent)
            elif kind == _GUARDRAIL:
                step.span.set_attribute(GUARDRAIL_TRIGGERED, bool(data.triggered))
            error = span.error
            if error is not None:
                # The exception seen when the SDK recorded the error, else the one the span's
                # ``with`` block is ending with, else the SDK's message.
                step.fail(bridged.error or sys.exc_info()[1] or AgentsSpanError(error.get("message") or kind))
            else:
                step.succeed(data.output if kind == _FUNCTION else None)
        except Exception:
            logger.debug("agentops-otel: could not end the span of an Agents SDK span", exc_info=True)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass

    # -- what the processor interface does not say ---------------------------------------------

    def _current(self, kind: str) -> _Bridged | None:
        """The bridged span of the SDK's current span, if it is of ``kind`` and not correlated yet."""
        current = get_current_span()
        if current is None:
            return None
        bridged = self._spans.get(current.span_id)
        if bridged is None or bridged.kind != kind or bridged.correlated:
            return None
        bridged.correlated = True
        return bridged

    def tool_context_made(self, tool_context: Any) -> None:
        """The SDK made the ``ToolContext`` of a function tool call: its call id goes on the tool's span."""
        bridged = self._current(_FUNCTION)
        if bridged is None:
            return
        span = bridged.step.span
        call_id = getattr(tool_context, "tool_call_id", None)
        if isinstance(call_id, str) and call_id:
            span.set_attribute(GEN_AI_TOOL_CALL_ID, call_id)
        arguments = getattr(tool_context, "tool_arguments", None)
        if isinstance(arguments, str) and capture_content():
            span.set_attribute(GEN_AI_TOOL_CALL_ARGUMENTS, _arguments(arguments))

    def tool_call_answered(self, tool_call: Any) -> None:
        """The SDK answered a tool call; inside a handoff span, it is the handoff's call."""
        if self._spans:
            bridged = self._current(_HANDOFF)
            if bridged is None:
                return
            span = bridged.step.span
            name = getattr(tool_call, "name", None)
            if isinstance(name, str) and name:
                span.update_name(f"execute_tool {name}")
                span.set_attribute(GEN_AI_TOOL_NAME, name)
            call_id = getattr(tool_call, "call_id", None)
            if isinstance(call_id, str) and call_id:
                span.set_attribute(GEN_AI_TOOL_CALL_ID, call_id)

    def error_recorded(self, span: Any) -> None:
        """The SDK recorded an error on ``span``: keep the exception being handled, if any."""
        error = sys.exc_info()[1]
        if error is None:
            return
        bridged = self._spans.get(getattr(span, "span_id", ""))
        if bridged is not None and bridged.error is None:
            bridged.error = error


def after(hook: Callable[[Any], None],
          pick: Callable[[Any, tuple[Any, ...], dict[str, Any], Any], Any]) -> Callable[..., Any]:
    """A wrapt wrapper that calls the wrapped function, then ``hook(pick(instance, args, kwargs, result))``.

    The hook never breaks the call: its errors are logged at debug level.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            hook(pick(instance, args, kwargs, result))
        except Exception:
            logger.debug("agentops-otel: skipped correlating an Agents SDK span", exc_info=True)
        return result

    return wrapper
