"""The AgentOps decorators: a function's calls as action, tool or agent spans, a function as a session.

``@record_action(event_name)``, ``@record_tool(tool_name)`` and ``@track_agent(name)`` keep the
names and arguments of AgentOps v0.3. Each call of a decorated function is one step (see
``steps``): its span starts when the call starts and ends when it returns or raises; for a
generator, when it is exhausted, closed or raises (it starts at the first ``next()``, when the
generator's code starts to run). The step's span is current only while the function's own code
runs, never in its caller between two ``yield``\\ s.

Parameters and return value are recorded as ``ActionEvent`` / ``ToolEvent`` record them, as JSON,
and only with content capture on: a function's arguments and return value are content (an agent's
are the user's prompt and its answer), like the GenAI conventions' tool call arguments and result
a tool's become and the tool spans of the agent frameworks. With capture off a call records no
value at all, so that it costs about one span. As in v0.3, a decorated function
accepts ``session=`` to say which session a call belongs to; otherwise the session is the one an
LLM call would belong to (current, else the only active one; ``MultiSessionException`` with two
or more and none chosen; with none, a span under the current span).
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from typing import Any, TypeVar, cast, overload

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_RESULT,
)

from agentops_otel._internal import registry
from agentops_otel._internal.attribute_names import EVENT_PARAMS, EVENT_RETURNS
from agentops_otel._internal.content import capture_content
from agentops_otel._internal.facade import start_session
from agentops_otel._internal.serialization import to_json
from agentops_otel._internal.session import Session
from agentops_otel._internal.session_context import session_id_in
from agentops_otel._internal.step_attributes import (
    ACTION,
    EXECUTE_TOOL,
    INVOKE_AGENT,
    Attributes,
    action_attributes,
    agent_attributes,
    tool_attributes,
)
from agentops_otel._internal.steps import Step, begin_step

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

AGENT_ID_ATTRIBUTE = "agent_ops_agent_id"
AGENT_NAME_ATTRIBUTE = "agent_ops_agent_name"
"""Where ``@track_agent`` puts an agent object's id and name (the attribute names of AgentOps v0.3)."""


class _Parameters:
    """How a function's call arguments become the ``params`` dict AgentOps v0.3 recorded: every
    named parameter (defaults included) by name, extra positional arguments under the ``*args``
    name, keyword arguments as given; ``self`` / ``cls`` left out."""

    __slots__ = ("accepts_session", "defaults", "names", "skip_first", "var_positional")

    def __init__(self, fn: Callable[..., Any]) -> None:
        try:
            parameters = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):  # a builtin or C function without a signature
            parameters = []
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.names = tuple(p.name for p in positional)
        self.defaults = {p.name: p.default for p in parameters
                         if p.default is not p.empty and p.kind is not p.VAR_KEYWORD}
        self.var_positional = next((p.name for p in parameters if p.kind is p.VAR_POSITIONAL), None)
        self.skip_first = bool(self.names) and self.names[0] in ("self", "cls")
        self.accepts_session = any(p.name == "session" for p in parameters)

    def of(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        values = dict(self.defaults)
        names = self.names
        values.update(zip(names, args, strict=False))  # extra args: below; missing: defaults
        if len(args) > len(names) and self.var_positional is not None:
            values[self.var_positional] = list(args[len(names):])
        values.update(kwargs)
        if self.skip_first:
            values.pop(names[0], None)
        return values


class _Recorder:
    """What one decorated function records: its span's name and attributes, where its content goes."""

    __slots__ = (
        "agent_id",
        "event_type",
        "name",
        "operation",
        "parameters",
        "params_key",
        "result_key",
        "span_name",
        "static",
    )

    def __init__(self, fn: Callable[..., Any], kind: str, name: str) -> None:
        self.parameters = _Parameters(fn)
        self.name = name
        self.agent_id: str | None = None
        if kind == EXECUTE_TOOL:
            self.span_name = f"{EXECUTE_TOOL} {name}"
            self.static = tool_attributes(name, None, None, record_content=False)
            self.operation: str | None = EXECUTE_TOOL
            self.event_type: str | None = None
            self.params_key, self.result_key = GEN_AI_TOOL_CALL_ARGUMENTS, GEN_AI_TOOL_CALL_RESULT
        elif kind == INVOKE_AGENT:
            self.agent_id = str(uuid.uuid4())  # the function is one agent, as in v0.3
            self.span_name = f"{INVOKE_AGENT} {name}"
            self.static = agent_attributes(name, self.agent_id)
            self.operation, self.event_type = INVOKE_AGENT, None
            self.params_key, self.result_key = EVENT_PARAMS, EVENT_RETURNS
        else:
            self.span_name = f"{ACTION} {name}"
            self.static = action_attributes(name)
            self.operation, self.event_type = None, ACTION
            self.params_key, self.result_key = EVENT_PARAMS, EVENT_RETURNS

    def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Step, Context]:
        """Start the step of one call, and the context to attach while the function's code runs;
        takes a v0.3 ``session=`` argument out of ``kwargs``.

        Every call pays for this, so the usual case (no ``session=``, content capture off, not a
        method of an agent object) copies nothing: the span starts with the recorder's attributes.
        """
        context: Context | None = None
        if kwargs:
            chosen = kwargs.get("session")
            if isinstance(chosen, Session):
                if not self.parameters.accepts_session:
                    del kwargs["session"]
                if session_id_in(get_current()) != chosen.session_id:
                    context = chosen.context(get_current())
        attributes = self.static
        record_content = capture_content()
        if record_content:
            params = self.parameters.of(args, kwargs)
            if params:
                attributes = {**attributes, self.params_key: to_json(params)}
        if self.parameters.skip_first and args:
            agent = self._agent_of(args[0])
            if agent:
                attributes = {**attributes, **agent}
        step, current = begin_step(self.span_name, attributes, self.operation, self.event_type, self.result_key,
                                   record_content, context)
        return step, step.context() if current is None else trace.set_span_in_context(step.span, current)

    def _agent_of(self, instance: object) -> Attributes | None:
        """A method of an object ``@track_agent`` made an agent: what the span says of that agent."""
        agent_id = getattr(instance, AGENT_ID_ATTRIBUTE, None)
        if not isinstance(agent_id, str):
            return None
        attributes: Attributes = {GEN_AI_AGENT_ID: agent_id}
        if self.operation != INVOKE_AGENT:
            agent_name = getattr(instance, AGENT_NAME_ATTRIBUTE, None)
            if isinstance(agent_name, str):
                attributes[GEN_AI_AGENT_NAME] = agent_name
        return attributes


def _result(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value  # as v0.3 recorded several return values


def _end(step: Step, error: BaseException) -> None:
    """End a step whose function raised ``error``, as ``with step:`` would."""
    if isinstance(error, GeneratorExit):
        step.succeed()  # a generator closed by its consumer stopped where it was asked to
    else:
        step.fail(error)


def _wrap(fn: F, recorder: _Recorder) -> F:
    """``fn`` with each call recorded as a step, for every kind of function.

    The step's context is attached and detached here rather than through ``with step:``: the
    same work, in fewer calls, on every call of the function.
    """
    if inspect.isasyncgenfunction(fn):
        return cast(F, _wrap_async_generator(fn, recorder))
    if inspect.isgeneratorfunction(fn):
        return cast(F, _wrap_generator(fn, recorder))
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            step, ctx = recorder.start(args, kwargs)
            token = attach(ctx)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as error:
                detach(token)
                _end(step, error)
                raise
            detach(token)
            step.succeed(list(result) if isinstance(result, tuple) else result)  # _result(), inline
            return result

        return cast(F, async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        step, ctx = recorder.start(args, kwargs)
        token = attach(ctx)
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:
            detach(token)
            _end(step, error)
            raise
        detach(token)
        step.succeed(list(result) if isinstance(result, tuple) else result)  # _result(), inline
        return result

    return cast(F, wrapper)


def _wrap_generator(fn: Callable[..., Generator[Any, Any, Any]], recorder: _Recorder) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        step, ctx = recorder.start(args, kwargs)
        generator = fn(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            token = attach(ctx)  # current only while the generator's code runs
            try:
                item = generator.send(sent) if thrown is None else generator.throw(thrown)
            except StopIteration as stop:
                step.succeed(_result(stop.value))
                return stop.value
            except BaseException as error:
                step.fail(error)
                raise
            finally:
                detach(token)
            sent, thrown = None, None
            try:
                sent = yield item
            except GeneratorExit:
                # Closed by its consumer: the generator stops where it was asked to, not an error.
                token = attach(ctx)
                try:
                    generator.close()
                except BaseException as error:
                    step.fail(error)
                    raise
                finally:
                    detach(token)
                step.succeed()
                raise
            except BaseException as error:
                thrown = error

    return wrapper


def _wrap_async_generator(fn: Callable[..., AsyncGenerator[Any, Any]], recorder: _Recorder) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        step, ctx = recorder.start(args, kwargs)
        generator = fn(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            token = attach(ctx)
            try:
                item = await (generator.asend(sent) if thrown is None else generator.athrow(thrown))
            except StopAsyncIteration:
                step.succeed()
                return
            except BaseException as error:
                step.fail(error)
                raise
            finally:
                detach(token)
            sent, thrown = None, None
            try:
                sent = yield item
            except GeneratorExit:
                token = attach(ctx)
                try:
                    await generator.aclose()
                except BaseException as error:
                    step.fail(error)
                    raise
                finally:
                    detach(token)
                step.succeed()
                raise
            except BaseException as error:
                thrown = error

    return wrapper


def _check_name(decorator: str, argument: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise TypeError(f"@{decorator}({argument}) takes a non-empty str or None (the function's name); "
                        f"got {type(value).__name__} {value!r:.80}")


def _decorate(obj: Any, kind: str, name: str | None) -> Any:
    if isinstance(obj, (classmethod, staticmethod)):
        return type(obj)(_decorate(obj.__func__, kind, name))
    if not callable(obj):
        raise TypeError(f"this decorator applies to a function or method; got {type(obj).__name__} {obj!r:.80}")
    return _wrap(obj, _Recorder(obj, kind, name or getattr(obj, "__name__", None) or type(obj).__name__))


@overload
def record_action(event_name: F) -> F: ...
@overload
def record_action(event_name: str | None = None) -> Callable[[F], F]: ...
def record_action(event_name: str | F | None = None) -> F | Callable[[F], F]:
    """Record each call of the decorated function as an ``action {event_name}`` span.

    The span has ``agentops.action.type`` and, with content capture on, the call's parameters and
    return value (``agentops.event.params`` / ``agentops.event.returns``, JSON); it counts as an
    action in the session's analytics. Works on functions, methods, async functions and (async) generators.

    Example::

        @agentops_otel.record_action("plan")
        def plan(goal: str) -> list[str]:
            ...

    Raises:
        TypeError: ``event_name`` is not a non-empty str (default: the function's name).
    """
    if callable(event_name):
        return cast(F, _decorate(event_name, ACTION, None))
    _check_name("record_action", "event_name", event_name)
    return lambda fn: cast(F, _decorate(fn, ACTION, event_name))


@overload
def record_tool(tool_name: F) -> F: ...
@overload
def record_tool(tool_name: str | None = None) -> Callable[[F], F]: ...
def record_tool(tool_name: str | F | None = None) -> F | Callable[[F], F]:
    """Record each call of the decorated function as an ``execute_tool {tool_name}`` span.

    The span has ``gen_ai.operation.name=execute_tool``, ``gen_ai.tool.name`` and, with content
    capture on, the parameters as ``gen_ai.tool.call.arguments`` and the return value as
    ``gen_ai.tool.call.result`` (JSON); it counts as a tool call in the session's analytics.

    Example::

        @agentops_otel.record_tool("get_weather")
        async def get_weather(city: str) -> str:
            ...

    Raises:
        TypeError: ``tool_name`` is not a non-empty str (default: the function's name).
    """
    if callable(tool_name):
        return cast(F, _decorate(tool_name, EXECUTE_TOOL, None))
    _check_name("record_tool", "tool_name", tool_name)
    return lambda fn: cast(F, _decorate(fn, EXECUTE_TOOL, tool_name))


@overload
def track_agent(name: F) -> F: ...
@overload
def track_agent(name: str | None = None) -> Callable[[T], T]: ...
def track_agent(name: str | F | None = None) -> F | Callable[[T], T]:
    """Make a function, method or class an agent.

    On a function or method, each call is an ``invoke_agent {name}`` span (``gen_ai.agent.name``,
    ``gen_ai.agent.id``, parameters and return value as for ``record_action``): LLM calls, tools
    and actions made during the call nest under it, and it counts as an agent invocation.

    On a class (as in AgentOps v0.3), each instance is an agent: creating one records a
    ``create_agent {name}`` span in its session (``session.create_agent``) and sets the
    instance's ``agent_ops_agent_id`` and ``agent_ops_agent_name``; ``agentops_name=`` given to
    the constructor renames that instance. Its methods decorated with ``record_action`` /
    ``record_tool`` / ``track_agent`` carry the instance's agent id.

    Example::

        @agentops_otel.track_agent("researcher")
        class Researcher:
            @agentops_otel.track_agent("researcher")
            def run(self, topic: str) -> str:
                ...

    Raises:
        TypeError: ``name`` is not a non-empty str (default: the function's or class's name).
    """
    if callable(name):
        return cast(F, _track(name, None))
    _check_name("track_agent", "name", name)
    return lambda obj: _track(obj, name)


def _track(obj: Any, name: str | None) -> Any:
    if not inspect.isclass(obj):
        return _decorate(obj, INVOKE_AGENT, name)
    agent_name = name or obj.__name__
    original_init = obj.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        instance_name = kwargs.pop("agentops_name", None) or agent_name
        original_init(self, *args, **kwargs)
        self.agent_ops_agent_name = instance_name
        chosen = kwargs.get("session")
        self.agent_ops_agent_id = _create_agent(instance_name, chosen if isinstance(chosen, Session) else None)

    setattr(obj, "__init__", __init__)  # noqa: B010 (mypy refuses assigning to a method)
    setattr(obj, AGENT_NAME_ATTRIBUTE, agent_name)
    return obj


def _create_agent(name: str, session: Session | None) -> str:
    """Record a new agent in ``session``, else in the session current here or the only active one
    (none: the agent gets an id, and nothing is recorded, as for an LLM call without a session)."""
    if session is None:
        session = registry.current_or_only_session(required=False)
    if session is None:
        return str(uuid.uuid4())
    return session.create_agent(name)


@overload
def session(fn: F) -> F: ...
@overload
def session(*, tags: str | Iterable[str] | None = None, agent_name: str | None = None,
            conversation_id: str | None = None) -> Callable[[F], F]: ...
def session(fn: F | None = None, *, tags: str | Iterable[str] | None = None, agent_name: str | None = None,
            conversation_id: str | None = None) -> F | Callable[[F], F]:
    """Run each call of the decorated function as a session of its own.

    The session is current while the function runs (LLM calls, tools and agents in it are its);
    it ends ``Success`` when the function returns, ``Fail`` with the exception's type and message
    as reason when it raises. Works on functions and async functions. ``tags``, ``agent_name``
    and ``conversation_id`` are ``start_session``'s, for every call (a ``conversation_id`` puts
    every call's session in that one conversation).

    Example::

        @agentops_otel.session(tags=["nightly"])
        async def nightly_report() -> None:
            ...
    """
    def decorate(function: F) -> F:
        if not callable(function):
            raise TypeError(f"@session applies to a function; got {type(function).__name__} {function!r:.80}")
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def async_run(*args: Any, **kwargs: Any) -> Any:
                async with start_session(tags=tags, agent_name=agent_name, conversation_id=conversation_id):
                    return await function(*args, **kwargs)

            return cast(F, async_run)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with start_session(tags=tags, agent_name=agent_name, conversation_id=conversation_id):
                return function(*args, **kwargs)

        return cast(F, run)

    if fn is not None:
        return decorate(fn)
    return decorate
