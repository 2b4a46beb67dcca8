"""``Runner.run`` / ``run_sync`` / ``run_streamed`` in their session.

Each run is wrapped so that it goes into the session it belongs to, or into a session of its own
(see ``agentops_otel.instrumentation.start_agent_run``), and so that ``MultiSessionException``
reaches the caller before the run sends anything: raised from a ``TracingProcessor`` it would be
swallowed by the SDK, which catches what its processors raise.

A session started for a run is the run of its starting agent (``gen_ai.agent.name``), and its
conversation id (``gen_ai.conversation.id``) is, first found: the run's ``conversation_id`` (an
OpenAI Conversations API conversation, where the run reads and writes its items), the
``session_id`` of its ``session=`` (the SDK's own conversation memory, e.g. ``SQLiteSession``),
the ``group_id`` of its ``RunConfig`` (the SDK's label linking the traces of one conversation, e.g.
a chat thread). The first two are where the conversation's messages are stored, which is what the
GenAI conventions' conversation id names; a ``group_id`` only groups traces, so it comes last. A
run that goes into an existing session leaves that session's conversation id as it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from agentops_otel import MultiSessionException
from agentops_otel.instrumentation import AgentRun, start_agent_run
from agentops_otel_openai_agents.bridge import SpanBridge

logger = logging.getLogger("agentops_otel.instrumentation")

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# Where ``run_streamed`` takes these by position (``run`` and ``run_sync`` take them by keyword only).
_POSITIONS = {"run_config": 5, "conversation_id": 8, "session": 9}


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    value = kwargs.get(name)
    position = _POSITIONS[name]
    if value is None and len(args) > position:
        value = args[position]
    return value


def _session_settings(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str | None]:
    """The conversation id and agent name of a session started for the run (see the module docstring)."""
    config = _argument(args, kwargs, "run_config")
    group_id = config.get("group_id") if isinstance(config, dict) else getattr(config, "group_id", None)
    conversation_id = (_text(_argument(args, kwargs, "conversation_id"))
                       or _text(getattr(_argument(args, kwargs, "session"), "session_id", None))
                       or _text(group_id))
    agent = args[0] if args else kwargs.get("starting_agent")
    return {"conversation_id": conversation_id, "agent_name": _text(getattr(agent, "name", None))}


def _begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> AgentRun | None:
    """The run's ``AgentRun``; ``MultiSessionException`` is the one error that reaches the caller."""
    try:
        settings = _session_settings(args, kwargs)
    except Exception:
        logger.debug("agentops-otel: could not read an Agents SDK run's settings", exc_info=True)
        settings = {}
    try:
        return start_agent_run(**settings)
    except MultiSessionException:
        raise
    except Exception:
        logger.debug("agentops-otel: an Agents SDK run goes on outside any session after an error", exc_info=True)
        return None


def _ended(bridge: SpanBridge, run: AgentRun, error: BaseException | None) -> None:
    try:
        if error is not None and not run.owns_session:
            bridge.run_failed(run.session, error)
        run.finish(error)
    except Exception:
        logger.debug("agentops-otel: could not end an Agents SDK run's session", exc_info=True)


def run_wrapper(bridge: SpanBridge) -> Wrapper:
    """For ``Runner.run`` (a coroutine function)."""

    async def run(wrapped: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        agent_run = _begin(args, kwargs)
        if agent_run is None:
            return await wrapped(*args, **kwargs)
        with agent_run.current():
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as error:
                _ended(bridge, agent_run, error)
                raise
        _ended(bridge, agent_run, None)
        return result

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return run(wrapped, args, kwargs)

    return wrapper


def run_sync_wrapper(bridge: SpanBridge) -> Wrapper:
    """For ``Runner.run_sync``."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        agent_run = _begin(args, kwargs)
        if agent_run is None:
            return wrapped(*args, **kwargs)
        with agent_run.current():
            try:
                result = wrapped(*args, **kwargs)
            except BaseException as error:
                _ended(bridge, agent_run, error)
                raise
        _ended(bridge, agent_run, None)
        return result

    return wrapper


def _stream_error(result: Any, task: asyncio.Task[Any]) -> BaseException | None:
    """What a streamed run ended with: its task's exception, or the one kept for ``stream_events``."""
    if task.cancelled():
        return asyncio.CancelledError()
    error = task.exception()
    if error is None:
        stored = getattr(result, "_stored_exception", None)
        error = stored if isinstance(stored, BaseException) else None
    return error


def run_streamed_wrapper(bridge: SpanBridge) -> Wrapper:
    """For ``Runner.run_streamed``: the run goes on in a task after it returns, and ends with it."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        agent_run = _begin(args, kwargs)
        if agent_run is None:
            return wrapped(*args, **kwargs)
        with agent_run.current():  # the run's task starts here, and inherits the session
            try:
                result = wrapped(*args, **kwargs)
            except BaseException as error:
                _ended(bridge, agent_run, error)
                raise
        task = getattr(result, "run_loop_task", None)
        if isinstance(task, asyncio.Task):
            task.add_done_callback(lambda done: _ended(bridge, agent_run, _stream_error(result, done)))
        else:
            _ended(bridge, agent_run, None)
        return result

    return wrapper
