"""A session: one run of an agent, recorded as a root span and the context under it."""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import random
import sys
import threading
import uuid
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_NAME,
    GEN_AI_OPERATION_NAME,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.exception_attributes import EXCEPTION_MESSAGE, EXCEPTION_TYPE
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal.analytics import AnalyticsCounter
from agentops_otel._internal.attribute_names import (
    SESSION_ACTIONS,
    SESSION_AGENT_INVOCATIONS,
    SESSION_COST,
    SESSION_END_STATE,
    SESSION_END_STATE_REASON,
    SESSION_ERRORS,
    SESSION_ID,
    SESSION_INPUT_TOKENS,
    SESSION_LLM_CALLS,
    SESSION_OUTPUT_TOKENS,
    SESSION_SPAN_NAME,
    SESSION_TAGS,
    SESSION_TOOL_CALLS,
    SESSION_UNPRICED_LLM_CALLS,
)
from agentops_otel._internal.end_state import EndState
from agentops_otel._internal.exceptions import SessionEndedException
from agentops_otel._internal.pending_span import export_pending_span
from agentops_otel._internal.root_span import RootSpan
from agentops_otel._internal.serialization import to_text
from agentops_otel._internal.session_context import SessionIds, session_context
from agentops_otel._internal.step_attributes import CREATE_AGENT, INVOKE_AGENT, agent_attributes, check_name
from agentops_otel._internal.tags import normalise_tags

if TYPE_CHECKING:
    from agentops_otel._internal.events import Event
    from agentops_otel._internal.session_analytics import SessionAnalytics

P = ParamSpec("P")
R = TypeVar("R")

_EVENT_TYPES = "ActionEvent, ToolEvent, ErrorEvent or LLMEvent"


_session_ids = random.Random()  # our own generator: an application's random.seed() must not repeat ids
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_session_ids.seed)  # nor may a forked child


def _new_session_id() -> str:
    """A random (version 4) UUID from a generator seeded once from ``os.urandom``.

    Not ``uuid.uuid4()``: its ``os.urandom`` call releases and retakes the GIL, and an application
    starting sessions in a tight loop then starves the span export thread (the GIL's waiting thread
    never gets its forced switch), so that the export queue overflows.
    """
    return str(uuid.UUID(int=_session_ids.getrandbits(128), version=4))


class Session:
    """One run of an agent: a root span named ``session`` and the context under it.

    Create sessions with ``agentops_otel.init()`` or ``agentops_otel.start_session()``, not
    directly. Every span started while the session's context is current (inside ``with
    session:``, in a function bound with ``session.patch``, in asyncio tasks started there, in
    threads handed the context with ``contextvars.copy_context().run``) becomes part of the
    session's trace and carries ``session.id`` and ``gen_ai.conversation.id`` (the conversation id:
    ``start_session(conversation_id=...)``, by default the session id). The root span is the GenAI
    ``invoke_agent`` span of the run (``gen_ai.agent.name``: ``start_session(agent_name=...)``,
    by default the service name) and alone carries ``agentops.session.id`` and the session's
    totals. A plain ``threading.Thread`` starts
    with an empty context (unless ``sys.flags.thread_inherit_context``, Python 3.14+), so hand it
    the context or bind its function with ``session.patch``.

    Example::

        session = agentops_otel.start_session(tags=["checkout"])
        session.record(ActionEvent(action_type="plan", params={"goal": "..."}))
        session.end_session("Success")

        with agentops_otel.start_session() as session:   # Success, or Fail if the block raises
            ...
    """

    def __init__(self, tracer: Tracer, tags: list[str] | None = None,
                 on_end: Callable[[Session], object] | None = None, *,
                 conversation_id: str | None = None, agent_name: str = "agent") -> None:
        self.session_id: str = _new_session_id()
        self.ids = SessionIds(self.session_id, conversation_id)
        """The session's ids as its context carries them (see ``session_context``)."""
        self.agent_name = agent_name
        self._on_end = on_end
        """Told when the session ends (the registry of active sessions, for the sessions it holds)."""
        self._tracer = tracer
        self._tags: dict[str, None] = dict.fromkeys(tags or ())
        self._lock = threading.RLock()  # reentrant: a signal handler may end the session mid add_tags
        self._end_state: EndState | None = None
        self._warned_use_after_end = False
        self._tokens: list[object] = []
        self.analytics = AnalyticsCounter()
        # The start record carries what finds the session (its ids and tags), not what the root
        # says it is: an ``invoke_agent`` record would count as a second agent run in a backend.
        identity: dict[str, Any] = {SESSION_ID: self.session_id, **dict(self.ids.span_stamp)}
        if self._tags:
            identity[SESSION_TAGS] = list(self._tags)
        self._root = RootSpan(tracer, SESSION_SPAN_NAME, {**identity, **self._agent_attributes()})
        export_pending_span(tracer, self._root.placeholder, self._root.start_ns, identity)
        self._context = self._context_over(Context())

    # -- identity and state -------------------------------------------------------------------

    @property
    def span(self) -> trace.Span:
        """The session's root span, for its span context (see ``root_span``: while the session is
        open this may be a non-recording stand-in with the root's ids)."""
        return self._root.placeholder

    @property
    def conversation_id(self) -> str:
        """The conversation (chat thread) the session is a run of: ``start_session(conversation_id=...)``,
        by default the session id. On every span of the session as ``gen_ai.conversation.id``."""
        return self.ids.conversation_id

    def _agent_attributes(self) -> dict[str, AttributeValue]:
        return {GEN_AI_OPERATION_NAME: INVOKE_AGENT, GEN_AI_AGENT_NAME: self.agent_name}

    @property
    def tags(self) -> list[str]:
        return list(self._tags)

    @property
    def end_state(self) -> EndState | None:
        """How the session ended, or ``None`` while it is active."""
        return self._end_state

    @property
    def is_ended(self) -> bool:
        return self._end_state is not None

    def __repr__(self) -> str:
        state = self._end_state.value if self._end_state else "active"
        return f"<Session {self.session_id} {state} tags={self.tags}>"

    # -- context ------------------------------------------------------------------------------

    def _context_over(self, base: Context) -> Context:
        return session_context(base, self._root.placeholder, self.ids)

    def context(self, base: Context | None = None) -> Context:
        """An OpenTelemetry context in which this session is current.

        Built over ``base`` when given (keeping its other entries), else over an empty context.
        """
        return self._context if base is None else self._context_over(base)

    def patch(self, fn: Callable[P, R]) -> Callable[P, R]:
        """``fn`` bound to this session: every call runs with this session's context current.

        Use it in multi-session mode to say which session an LLM call belongs to. Works for
        functions, bound methods, async functions, generators and async generators (the session is
        current at every resumption, wherever the generator is iterated, and a span the generator
        keeps open across a ``yield`` stays current in it); a stream returned by ``fn`` stays with
        the session until it ends.

        Raises:
            SessionEndedException: the session has ended. (A function patched while it was open
                and called after it ended still runs, with one ``RuntimeWarning`` per session.)

        Example::

            create = session.patch(client.chat.completions.create)
            response = create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        """
        if not callable(fn):
            raise TypeError(f"session.patch() takes a function or method to bind; got {type(fn).__name__} {fn!r:.80}")
        self._check_open("patch a function")
        session = self

        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            def bound_generator(*args: Any, **kwargs: Any) -> Any:
                # The generator runs in a context of its own, with the session current, at every
                # resumption (next, send, throw, close), wherever it is iterated.
                session._note_use_after_end()
                ctx = contextvars.copy_context()
                ctx.run(attach, session.context(get_current()))
                generator: Any = ctx.run(fn, *args, **kwargs)
                if inspect.isasyncgen(generator):
                    return _AsyncGeneratorInContext(generator, ctx)
                return _GeneratorInContext(generator, ctx)

            return cast(Callable[P, R], bound_generator)

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def bound_async(*args: Any, **kwargs: Any) -> Any:
                session._note_use_after_end()
                token = attach(session.context(get_current()))
                try:
                    return await async_fn(*args, **kwargs)
                finally:
                    detach(token)

            return cast(Callable[P, R], bound_async)

        @functools.wraps(fn)
        def bound(*args: P.args, **kwargs: P.kwargs) -> R:
            session._note_use_after_end()
            ctx = session.context(get_current())
            token = attach(ctx)
            try:
                result = fn(*args, **kwargs)
            finally:
                detach(token)
            if inspect.isawaitable(result):
                # A sync function returning a coroutine (as the OpenAI SDK's decorated async
                # methods do): the work happens when it is awaited, so bind the await too.
                return cast(R, _await_in_context(result, ctx))
            return result

        return bound

    def __enter__(self) -> Session:
        self._check_open("enter it (with session:)")
        self._tokens.append(attach(self.context(get_current())))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tokens:
            detach(self._tokens.pop())  # type: ignore[arg-type]
        if self.is_ended:
            return
        if exc_type is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
            self.end_session(EndState.SUCCESS)
        elif issubclass(exc_type, GeneratorExit) or _is_cancellation(exc_type):
            # The block was stopped from outside, not failed: its outcome is unknown.
            self.end_session(EndState.INDETERMINATE, end_state_reason=exc_type.__name__)
        else:
            self.end_session(EndState.FAIL, end_state_reason=f"{exc_type.__name__}: {to_text(exc)}")

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- tags and events ----------------------------------------------------------------------

    def _check_open(self, action: str) -> None:
        if self._end_state is not None:
            raise SessionEndedException(
                f"Cannot {action}: session {self.session_id} already ended ({self._end_state.value}). "
                "Start a new session with agentops_otel.start_session()."
            )

    def _note_use_after_end(self) -> None:
        # A function patched while the session was open, called after it ended: the call is not
        # refused (that would break the application's own call), its spans still join the
        # session's trace, late; one warning per session says so.
        if self._end_state is not None and not self._warned_use_after_end:
            self._warned_use_after_end = True
            warnings.warn(
                f"a function patched to session {self.session_id} was called after the session ended "
                f"({self._end_state.value}); its spans join the ended session's trace. Patch it to an "
                "active session instead.",
                RuntimeWarning,
                stacklevel=3,
            )

    def add_tags(self, tags: str | list[str]) -> None:
        """Add tags to the session (order kept, duplicates ignored).

        Example::

            session.add_tags(["beta", "eu-west"])
        """
        new = normalise_tags(tags)
        with self._lock:
            self._check_open("add tags")
            merged = dict(self._tags)
            merged.update(dict.fromkeys(new))
            self._tags = dict.fromkeys(normalise_tags(list(merged)))
            self._root.set_attribute(SESSION_TAGS, list(self._tags))

    def set_tags(self, tags: str | list[str]) -> None:
        """Replace the session's tags."""
        new = normalise_tags(tags)
        with self._lock:
            self._check_open("set tags")
            self._tags = dict.fromkeys(new)
            self._root.set_attribute(SESSION_TAGS, list(self._tags))

    def record(self, event: Event) -> None:
        """Record an event as a child span of this session, with the event's own start and end.

        Example::

            session.record(ToolEvent(name="search", params={"q": "weather"}, returns="sunny"))
        """
        from agentops_otel._internal.events import Event  # here: an application that records no event never imports it

        if not isinstance(event, Event):
            raise TypeError(f"record() takes an {_EVENT_TYPES}; got {type(event).__name__} {event!r:.80}")
        self._check_open("record an event")
        attributes = event.attributes()
        span = self._tracer.start_span(
            event.span_name(),
            context=self._context,
            kind=event.span_kind(),
            attributes=attributes,
            start_time=event.start_ns(),
            record_exception=False,
            set_status_on_exception=False,
        )
        try:
            exception = event.recorded_exception()
            if exception is not None:
                try:
                    span.record_exception(exception)
                except Exception:  # the SDK calls str(exception), which a broken __str__ makes raise
                    span.add_event(
                        "exception",
                        {EXCEPTION_TYPE: type(exception).__qualname__, EXCEPTION_MESSAGE: to_text(exception)},
                    )
            status = event.status()
            if status is not None:
                span.set_status(status)
        finally:
            span.end(end_time=event.end_ns())
        self.analytics.count(
            attributes.get(GEN_AI_OPERATION_NAME),
            event.event_type,
            status is not None and status.status_code is StatusCode.ERROR,
            attributes.get(GEN_AI_USAGE_INPUT_TOKENS),
            attributes.get(GEN_AI_USAGE_OUTPUT_TOKENS),
        )

    def create_agent(self, name: str, agent_id: str | None = None) -> str:
        """Record that the session has an agent: a ``create_agent {name}`` span with
        ``gen_ai.agent.name`` and ``gen_ai.agent.id``. Returns the agent's id (a new UUID unless
        ``agent_id`` is given).

        Example::

            agent_id = session.create_agent("researcher")

        Raises:
            TypeError: ``name`` is not a non-empty str, or ``agent_id`` is not a str or None.
            SessionEndedException: the session has ended.
        """
        check_name("an agent's name", name)
        if agent_id is not None and not isinstance(agent_id, str):
            raise TypeError(f"agent_id must be a str or None; got {type(agent_id).__name__}")
        self._check_open("create an agent")
        agent_id = agent_id or str(uuid.uuid4())
        self._tracer.start_span(
            f"{CREATE_AGENT} {name}",
            context=self._context,
            kind=SpanKind.INTERNAL,
            attributes=agent_attributes(name, agent_id, CREATE_AGENT),
        ).end()
        return agent_id

    def count_call(self, operation: str, failed: bool, usage: Mapping[str, AttributeValue] | None,
                   cost: float | None = None, unpriced: bool = False) -> None:
        """Count one finished LLM call of this session, with the token counts of its ``usage``
        attributes and its cost in USD (``unpriced``: it got a response but could not be priced)."""
        usage = usage or {}
        self.analytics.count(operation, None, failed, usage.get(GEN_AI_USAGE_INPUT_TOKENS),
                             usage.get(GEN_AI_USAGE_OUTPUT_TOKENS), cost, unpriced)

    def get_analytics(self) -> SessionAnalytics:
        """What the session did so far: LLM calls, tool calls, actions, errors, tokens, cost, duration.

        Example::

            analytics = session.get_analytics()
            print(f"{analytics.llm_calls} calls, ${analytics.cost or 0:.4f}")
        """
        return self.analytics.snapshot()

    # -- ending -------------------------------------------------------------------------------

    def end_session(
        self, end_state: EndState | str = EndState.INDETERMINATE, end_state_reason: str | None = None
    ) -> SessionAnalytics:
        """End the session: its root span gets the end state as status and attributes and ends.

        ``Success`` sets status OK, ``Fail`` ERROR (with the reason as description),
        ``Indeterminate`` leaves it UNSET. Ending twice does nothing but warn.

        Returns:
            The session's final analytics (as ``get_analytics()``): calls, tokens, and ``cost``,
            the total in USD of its priced LLM calls (AgentOps 0.3 returned the cost here).

        Example::

            analytics = session.end_session("Success")
            print(f"cost ${analytics.cost or 0:.4f} ({analytics.unpriced_llm_calls} calls unpriced)")

        Raises:
            ValueError: ``end_state`` is not one of ``Success``, ``Fail``, ``Indeterminate``
                (the session stays open).
            TypeError: ``end_state`` is not a string or ``EndState``, or the reason is not a str.
        """
        state = EndState.parse(end_state)
        if end_state_reason is not None and not isinstance(end_state_reason, str):
            raise TypeError(f"end_state_reason must be a str or None; got {type(end_state_reason).__name__}")
        with self._lock:
            if self._end_state is not None:
                warnings.warn(
                    f"session {self.session_id} already ended ({self._end_state.value}); "
                    "end_session() called again is ignored",
                    RuntimeWarning,
                    stacklevel=2,
                )
                return self.analytics.finish()
            self._end_state = state
        if self._on_end is not None:
            self._on_end(self)
        stats = self.analytics.finish()
        attributes: dict[str, AttributeValue] = {
            SESSION_ID: self.session_id,
            **dict(self.ids.span_stamp),
            **self._agent_attributes(),
            SESSION_END_STATE: state.value,
            SESSION_TAGS: list(self._tags),
            SESSION_LLM_CALLS: stats.llm_calls,
            SESSION_TOOL_CALLS: stats.tool_calls,
            SESSION_AGENT_INVOCATIONS: stats.agent_invocations,
            SESSION_ACTIONS: stats.actions,
            SESSION_ERRORS: stats.errors,
            # Not ``gen_ai.usage.*``: a backend summing those over the trace would count each call twice.
            SESSION_INPUT_TOKENS: stats.input_tokens,
            SESSION_OUTPUT_TOKENS: stats.output_tokens,
            SESSION_UNPRICED_LLM_CALLS: stats.unpriced_llm_calls,
        }
        if stats.cost is not None:
            attributes[SESSION_COST] = stats.cost
        if end_state_reason:
            attributes[SESSION_END_STATE_REASON] = end_state_reason
        self._root.end(SESSION_SPAN_NAME, attributes, state.status(end_state_reason))
        return stats


async def _await_in_context(awaitable: Awaitable[R], ctx: Context) -> R:
    token = attach(ctx)
    try:
        return await awaitable
    finally:
        detach(token)


def _is_cancellation(exc_type: type[BaseException]) -> bool:
    """Whether ``exc_type`` is asyncio's ``CancelledError``, without importing asyncio (~20 ms at
    start-up) into a program that does not use it: one that has not imported it cannot raise it."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and issubclass(exc_type, asyncio.CancelledError)


class _GeneratorInContext(Generator[Any, Any, Any]):
    """A generator whose every step runs in ``ctx`` (as an asyncio task runs in its own context)."""

    def __init__(self, generator: Generator[Any, Any, Any], ctx: contextvars.Context) -> None:
        self._generator = generator
        self._ctx = ctx

    def send(self, value: Any) -> Any:
        return self._ctx.run(self._generator.send, value)

    def throw(self, *args: Any) -> Any:
        return self._ctx.run(self._generator.throw, *args)

    def close(self) -> None:
        self._ctx.run(self._generator.close)

    def __getattr__(self, name: str) -> Any:  # gi_frame, gi_running, ... of the real generator
        return getattr(self._generator, name)


class _AsyncGeneratorInContext(AsyncGenerator[Any, Any]):
    """An async generator whose every step runs in ``ctx``."""

    def __init__(self, generator: AsyncGenerator[Any, Any], ctx: contextvars.Context) -> None:
        self._generator = generator
        self._ctx = ctx

    async def asend(self, value: Any) -> Any:
        return await _StepsInContext(self._generator.asend(value), self._ctx)

    async def athrow(self, *args: Any) -> Any:
        return await _StepsInContext(self._generator.athrow(*args), self._ctx)

    async def aclose(self) -> None:
        await _StepsInContext(self._generator.aclose(), self._ctx)

    def __getattr__(self, name: str) -> Any:  # ag_frame, ag_running, ... of the real generator
        return getattr(self._generator, name)


class _StepsInContext:
    """An awaitable driven step by step in ``ctx``: what the event loop sends in, ``ctx`` sees."""

    __slots__ = ("_ctx", "_steps")

    def __init__(self, awaitable: Awaitable[Any], ctx: contextvars.Context) -> None:
        self._steps = awaitable.__await__()
        self._ctx = ctx

    def __await__(self) -> Generator[Any, Any, Any]:
        send: Any = None
        error: BaseException | None = None
        while True:
            try:
                if error is None:
                    yielded = self._ctx.run(self._steps.send, send)
                else:
                    yielded = self._ctx.run(self._steps.throw, error)
            except StopIteration as stop:
                return stop.value
            send, error = None, None
            try:
                send = yield yielded
            except BaseException as exc:  # a cancellation, a close: hand it to the generator's step
                error = exc
