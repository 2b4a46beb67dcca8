"""Agent invocations, tool executions and actions as spans of the session they belong to.

A *step* is a span an agent makes around its own work (not a call to a model): GenAI
``invoke_agent {name}`` and ``execute_tool {name}`` spans, and AgentOps ``action {type}`` spans.
The session a step belongs to, and so its parent, is found exactly as for an LLM call (see
``registry.resolve_for_call``) unless the caller gives the parent context. A step is current
inside its ``with`` block, so LLM calls and other steps made there nest under it, and it ends
exactly once: OK on ``succeed`` or a block left normally, ERROR with ``error.type`` on ``fail`` or
a block that raised. When it ends it is counted in its session's analytics.

Content (tool arguments and results, a function's parameters and return value) is recorded only
when content capture is on (``content.capture_content``): the caller reads the setting once when
the step starts and says so (``record_content``).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_TOOL_CALL_RESULT,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    EXCEPTION_TYPE,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal import content, registry, sdk_internals
from agentops_otel._internal.attribute_names import EVENT_RETURNS
from agentops_otel._internal.serialization import to_json, to_text
from agentops_otel._internal.session_context import session_id_in
from agentops_otel._internal.step_attributes import (
    EXECUTE_TOOL,
    INVOKE_AGENT,
    INVOKE_WORKFLOW,
    Attributes,
    agent_attributes,
    check_name,
    tool_attributes,
    tool_value,
    workflow_attributes,
)
from agentops_otel.version import __version__

if TYPE_CHECKING:
    from agentops_otel._internal.session import Session

_tracer: trace.Tracer | None = None


def _get_tracer() -> trace.Tracer:
    """The core's tracer from the global provider (a proxy until one is set, which then serves)."""
    global _tracer
    if _tracer is None:
        _tracer = trace.get_tracer("agentops_otel", __version__)
    return _tracer


class Step:
    """An agent invocation, tool execution or action in flight: its span and how it ends.

    ``with step:`` makes the span current (LLM calls and steps inside nest under it) and ends it
    when the block ends: OK, or ERROR with ``error.type`` if the block raised. ``succeed`` and
    ``fail`` end it explicitly; only the first ending counts.
    """

    __slots__ = ("_ended", "_event_type", "_operation", "_record_content", "_result_key", "_session", "_tokens",
                 "span")

    def __init__(
        self,
        span: trace.Span,
        session: Session | None,
        operation: str | None,
        event_type: str | None,
        result_key: str,
        record_content: bool,
    ) -> None:
        self.span = span
        self._session = session
        self._operation = operation
        self._event_type = event_type
        self._result_key = result_key
        self._record_content = record_content
        self._ended = False
        self._tokens: list[object] = []

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def session(self) -> Session | None:
        """The session the step belongs to (``None``: none of this process's sessions)."""
        return self._session

    def context(self, base: Context | None = None) -> Context:
        """An OpenTelemetry context in which this step's span is current, in its session.

        Built over ``base`` (default: the current context), with the step's session made current
        there when it is not, so spans started in it are the session's.
        """
        ctx = get_current() if base is None else base
        session = self._session
        if session is not None and session_id_in(ctx) != session.session_id:
            ctx = session.context(ctx)
        return trace.set_span_in_context(self.span, ctx)

    def __enter__(self) -> Step:
        self._tokens.append(attach(self.context()))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tokens:
            detach(self._tokens.pop())  # type: ignore[arg-type]
        if exc is None or isinstance(exc, GeneratorExit):
            # A generator closed before its end stopped where its consumer wanted: not an error.
            self.succeed()
        else:
            self.fail(exc)

    def succeed(self, result: object = None) -> None:
        """End the span with status OK; ``result`` is recorded as the tool's result (or the action's
        or agent's return value) when content may be recorded."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        try:
            if result is not None and self._record_content:
                key = self._result_key
                sdk_internals.set_attributes(
                    span, {key: tool_value(result) if key == GEN_AI_TOOL_CALL_RESULT else to_json(result)})
            sdk_internals.set_ok(span)
        finally:
            span.end()
            session = self._session  # not self._count(): every decorated call pays for a call
            if session is not None:
                session.analytics.count(self._operation, self._event_type, False)

    def fail(self, error: BaseException) -> None:
        """End the span with status ERROR, ``error.type`` the exception's type, the exception recorded."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        error_type = type(error).__qualname__
        try:
            message = to_text(error)
            span.set_attribute(ERROR_TYPE, error_type)
            span.add_event("exception", {
                EXCEPTION_TYPE: error_type,
                EXCEPTION_MESSAGE: message,
                EXCEPTION_STACKTRACE: "".join(traceback.format_exception(type(error), error, error.__traceback__)),
            })
            span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
        finally:
            span.end()
            self._count(failed=True)

    def _count(self, failed: bool) -> None:
        if self._session is not None:
            self._session.analytics.count(self._operation, self._event_type, failed)

    def __repr__(self) -> str:
        state = "ended" if self._ended else "active"
        return f"<Step {getattr(self.span, 'name', '?')!r} {state}>"


def _check_attributes(attributes: object) -> None:
    if attributes is not None and not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a mapping of attribute names to values or None; "
                        f"got {type(attributes).__name__}")


def _check_context(ctx: object) -> None:
    if ctx is not None and not isinstance(ctx, dict):  # an OpenTelemetry Context is a dict
        raise TypeError(f"context must be an opentelemetry Context or None; got {type(ctx).__name__}")


def start_step(
    span_name: str,
    attributes: Attributes,
    *,
    operation: str | None,
    event_type: str | None,
    result_key: str,
    record_content: bool,
    context: Context | None = None,
) -> Step:
    """Start a step's span under the session it belongs to.

    Raises:
        MultiSessionException: no ``context`` was given, two or more sessions are active and
            none is current.
    """
    return begin_step(span_name, attributes, operation, event_type, result_key, record_content, context)[0]


def begin_step(span_name: str, attributes: Attributes, operation: str | None, event_type: str | None,
               result_key: str, record_content: bool, context: Context | None, /) -> tuple[Step, Context | None]:
    """``start_step``, and the current context when it is the step's parent (else ``None``).

    For a caller that attaches the step's context itself on every call (a decorated function):
    with the current context as the parent, that is ``trace.set_span_in_context(step.span,
    current)``, the same as ``step.context()`` without looking anything up again. (Positional
    arguments: they cost less to pass.)
    """
    current = None
    if context is None:
        current = get_current()  # given to the SDK, which would otherwise look it up three times
        parent, session = registry.resolve_for_call(current)
        if parent is None:
            parent = current
        else:
            current = None
    else:
        parent = context
        session_id = session_id_in(context)
        session = registry.get(session_id) if session_id is not None else None
    span = sdk_internals.start_span(_tracer or _get_tracer(), span_name, parent, SpanKind.INTERNAL, attributes)
    return Step(span, session, operation, event_type, result_key, record_content), current


def start_agent(
    name: str,
    *,
    agent_id: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    context: Context | None = None,
) -> Step:
    """Start an ``invoke_agent {name}`` span: an agent working on its task.

    The parent is ``context`` when given, else the session the work belongs to (bound with
    ``session.patch``, current, or the only active one), else the current span. Use the step as a
    context manager around the agent's work, or end it with ``succeed()`` / ``fail(error)``.

    Example::

        with start_agent("planner", agent_id="agent-1"):
            plan = client.chat.completions.create(...)   # nests under the agent span

    Raises:
        MultiSessionException: two or more sessions are active, none is current and no
            ``context`` was given.
        TypeError: ``name`` is not a non-empty string, or ``attributes`` / ``context`` are of the
            wrong type.
    """
    check_name("an agent's name", name)
    _check_attributes(attributes)
    _check_context(context)
    step_attributes = dict(attributes) if attributes else {}
    step_attributes.update(agent_attributes(name, agent_id))
    return start_step(f"{INVOKE_AGENT} {name}", step_attributes, operation=INVOKE_AGENT, event_type=None,
                      result_key=EVENT_RETURNS, record_content=content.capture_content(), context=context)


def start_tool(
    name: str,
    *,
    call_id: str | None = None,
    arguments: object = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    context: Context | None = None,
) -> Step:
    """Start an ``execute_tool {name}`` span: a tool the agent runs.

    ``call_id`` is the model's id of the call (an OpenAI ``tool_calls[i].id``), so the span can be
    matched to the LLM call that asked for it. ``arguments`` (and the result given to
    ``succeed(result)``) are recorded, as ``gen_ai.tool.call.arguments`` / ``.result``, only when
    content capture is on: a string as it is, anything else as JSON. Parent: as ``start_agent``.

    Example::

        step = start_tool("get_weather", call_id=call.id, arguments=call.function.arguments)
        with step:
            result = get_weather(**json.loads(call.function.arguments))
            step.succeed(result)

    Raises:
        MultiSessionException: as ``start_agent``.
        TypeError: as ``start_agent``.
    """
    check_name("a tool's name", name)
    _check_attributes(attributes)
    _check_context(context)
    record_content = content.capture_content()
    step_attributes = dict(attributes) if attributes else {}
    step_attributes.update(tool_attributes(name, call_id, arguments, record_content))
    return start_step(f"{EXECUTE_TOOL} {name}", step_attributes, operation=EXECUTE_TOOL, event_type=None,
                      result_key=GEN_AI_TOOL_CALL_RESULT, record_content=record_content, context=context)


def start_workflow(
    name: str,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    context: Context | None = None,
) -> Step:
    """Start an ``invoke_workflow {name}`` span: a run along a path the application defines (a
    chain of steps, a pipeline), as opposed to an agent choosing its own steps.

    The span carries ``gen_ai.operation.name=invoke_workflow`` and ``gen_ai.workflow.name``.
    Parent, ending and errors: as ``start_agent``; a failed workflow counts as an error of its
    session (it is neither an agent invocation nor a tool call).

    Example::

        with start_workflow("summarise_then_translate"):
            summary = client.chat.completions.create(...)   # nests under the workflow span

    Raises:
        MultiSessionException: as ``start_agent``.
        TypeError: as ``start_agent``.
    """
    check_name("a workflow's name", name)
    _check_attributes(attributes)
    _check_context(context)
    step_attributes = dict(attributes) if attributes else {}
    step_attributes.update(workflow_attributes(name))
    return start_step(f"{INVOKE_WORKFLOW} {name}", step_attributes, operation=INVOKE_WORKFLOW, event_type=None,
                      result_key=EVENT_RETURNS, record_content=content.capture_content(), context=context)
