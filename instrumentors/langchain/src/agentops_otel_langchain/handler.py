"""The callback handler that turns LangChain / LangGraph runs into agent, workflow, node and tool spans.

LangChain reports every run (a chain, a graph, a graph's node, a tool, a model call) to the
callback handlers of its ``CallbackManager`` with the run's id and its parent's id. The handler
gives a span to the runs a user thinks of as steps of their agent, and to nothing else:

- a LangGraph graph (the graph run, at the top or as a subgraph) and a legacy ``AgentExecutor``:
  ``invoke_agent {name}`` (``start_agent``), since in LangChain 1.x an agent *is* a graph
  (``langchain.agents.create_agent``, ``create_react_agent`` or a hand-built model/tools loop);
- any other run at the top (a chain such as ``prompt | model | parser``): ``invoke_workflow {name}``
  (``start_workflow``): a path the application defines, not an agent choosing its steps;
- a node of a graph (``metadata["langgraph_node"]``): an INTERNAL span named after the node, child
  of its graph's span, with ``langgraph.node`` and ``langgraph.step``;
- a tool: ``execute_tool {name}`` (``start_tool``) with the model's ``tool_call_id``.

Runs nested inside those (the runnables inside a node, a prompt, a parser) get no span: what they
do is attributed to the nearest run that has one. Model calls get none either: the openai /
anthropic instrumentors make the one LLM span, and it nests under the node or chain it was made in
because that run's span is current while the run's code executes (``make_current``).

Parents come from the run tree (``parent_run_id``), never from whatever context a callback happens
to run in, so a graph's nodes and tools are children of the graph even when LangGraph runs them on
its executor threads. Only a run at the top is placed by the session rules, those of an agent
framework's run (``start_agent_run``, as the OpenAI Agents SDK's ``Runner.run``): the session whose
context is current, else the only active one, else (none active, or
``init(session_per_agent_run=True)``) a session of its own that ends when the run does, Success,
or Fail with the run's exception (Indeterminate for a stream dropped or a task cancelled; a
LangGraph interrupt is a run that ended as the graph meant it: Success). Such a session is the run
of its graph (``gen_ai.agent.name``) and its conversation is the graph's thread: the ``thread_id``
of its ``configurable`` (a checkpointed graph's), as ``gen_ai.conversation.id`` on every span of the
session. With two or more active and none chosen, ``MultiSessionException`` is raised from
``on_chain_start`` / ``on_tool_start`` — the handler sets ``raise_error`` so that LangChain lets it
through to the caller before any request is sent. Every other error of the handler's own is logged
at debug level and swallowed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks.base import BaseCallbackHandler
from opentelemetry import trace
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_CONVERSATION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentops_otel import MultiSessionException
from agentops_otel.instrumentation import AgentRun, Step, start_agent, start_agent_run, start_tool, start_workflow

logger = logging.getLogger(__name__)

LANGGRAPH_NODE = "langgraph.node"
"""The node a span is the run of (``metadata["langgraph_node"]``)."""
LANGGRAPH_STEP = "langgraph.step"
"""The superstep of the graph the node ran in (``metadata["langgraph_step"]``)."""

_STOPPED = frozenset({"GeneratorExit", "CancelledError"})
"""A run stopped from outside (a stream its consumer dropped, a cancelled task): not failed, and the
outcome of a session started for it is unknown (Indeterminate, as for a ``with session:`` block)."""
_CONTROL_FLOW_ERRORS = _STOPPED | {"GraphBubbleUp"}
"""Exceptions that end a run without it failing: LangGraph's interrupts and ``Command`` jumps (all
``GraphBubbleUp``), and a run stopped from outside."""


_OK = Status(StatusCode.OK)


class _NodeStep:
    """A LangGraph node's span: ended like a ``Step`` (OK, or ERROR with ``error.type``)."""

    __slots__ = ("span",)

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def succeed(self, result: object = None) -> None:
        self.span.set_status(_OK)
        self.span.end()

    def fail(self, error: BaseException) -> None:
        error_type = type(error).__qualname__
        self.span.set_attribute(ERROR_TYPE, error_type)
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR, f"{error_type}: {error}"))
        self.span.end()


class _Traced:
    """A run that has a span: how it ends, the context in which its span is current, and the
    session started for it (a run at the top that had none), which ends with it."""

    __slots__ = ("agent_run", "context", "run_id", "step")

    def __init__(self, run_id: UUID, step: Any, context: Context, agent_run: AgentRun | None = None) -> None:
        self.run_id = run_id
        self.step = step
        self.context = context
        self.agent_run = agent_run


def _is_in(error: BaseException, names: frozenset[str]) -> bool:
    return any(cls.__name__ in names for cls in type(error).__mro__)


def _is_control_flow(error: BaseException) -> bool:
    return _is_in(error, _CONTROL_FLOW_ERRORS)


def _is_node(name: str, tags: Sequence[str] | None, metadata: Mapping[str, Any]) -> bool:
    # A node's run is named after the node and tagged with the graph's step; runnables inside
    # the node inherit its metadata but not that tag, and carry their own names.
    return metadata.get("langgraph_node") == name and any(tag.startswith("graph:step:") for tag in tags or ())


def _is_graph(name: str, metadata: Mapping[str, Any]) -> bool:
    """Whether a run that starts is known to be an agent: a LangGraph graph at the top (nothing
    above it is a node) or a legacy ``AgentExecutor``. A subgraph is recognised later, when its
    first node starts (``_promote``): at its start it looks like any runnable inside a node."""
    if name == "AgentExecutor":
        return True
    return metadata.get("ls_integration") == "langgraph" and "langgraph_node" not in metadata


class AgentOpsCallbackHandler(BaseCallbackHandler):
    """Records LangChain / LangGraph runs as spans of their session (see the module docstring).

    ``LangChainInstrumentor`` adds one instance to every ``CallbackManager``; there is no need to
    pass it in ``callbacks=``.
    """

    run_inline = True
    """Called in the caller's task, not on an executor thread: the session is found there."""
    raise_error = True
    """Lets ``MultiSessionException`` reach the caller; the handler swallows its other errors itself."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer
        self._runs: dict[UUID, _Traced] = {}
        """Every run in flight below a traced one -> the nearest traced run (itself if it has a span)."""
        self._inside_nodes: dict[UUID, tuple[str, _Traced]] = {}
        """Runs without a span inside a graph's node: name and nearest traced run (a subgraph among them)."""
        self._models: dict[UUID, tuple[object, Context]] = {}
        """Model calls for which ``_model_started`` made their parent's span current: token, context."""
        self._promoting = threading.Lock()
        self.enabled = True

    # Custom events and retries carry nothing the spans need: LangChain skips calling the handler
    # for them. (Tool events go by ``ignore_agent``, model events by ``ignore_llm``: both needed.)
    @property
    def ignore_custom_event(self) -> bool:
        return True

    @property
    def ignore_retry(self) -> bool:
        return True

    # -- runs starting ----------------------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        try:
            self._chain_started(serialized, run_id, parent_run_id, tags, metadata or {}, kwargs.get("name"))
        except MultiSessionException:
            raise
        except Exception:
            logger.debug("agentops-otel: could not record the start of a LangChain run", exc_info=True)

    def _chain_started(self, serialized: dict[str, Any] | None, run_id: UUID, parent_run_id: UUID | None,
                       tags: list[str] | None, metadata: Mapping[str, Any], name: str | None) -> None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        name = name or _serialized_name(serialized)
        if parent is not None and _is_node(name, tags, metadata):
            if parent_run_id is not None and parent.run_id != parent_run_id:
                parent = self._promote(parent_run_id, parent)
            attributes: dict[str, AttributeValue] = {LANGGRAPH_NODE: name}
            step_number = metadata.get("langgraph_step")
            if isinstance(step_number, int):
                attributes[LANGGRAPH_STEP] = step_number
            span = self._tracer.start_span(name, context=parent.context, kind=SpanKind.INTERNAL,
                                           attributes=attributes)
            self._runs[run_id] = _Traced(run_id, _NodeStep(span), trace.set_span_in_context(span, parent.context))
            return
        if _is_graph(name, metadata):
            attributes = _agent_attributes(metadata)
            if parent is None:
                thread_id = attributes.get(GEN_AI_CONVERSATION_ID)
                self._start_at_top(run_id, lambda: start_agent(name, attributes=attributes),
                                   conversation_id=thread_id if isinstance(thread_id, str) else None,
                                   agent_name=name)
                return
            step = start_agent(name, attributes=attributes, context=parent.context)
        elif parent is None:
            self._start_at_top(run_id, lambda: start_workflow(name))
            return
        else:
            self._runs[run_id] = parent  # plumbing inside a traced run: attributed to it
            if "langgraph_node" in metadata:
                self._inside_nodes[run_id] = (name, parent)
            return
        self._runs[run_id] = _Traced(run_id, step, step.context(parent.context))

    def _start_at_top(self, run_id: UUID, start: Callable[[], Step], *, conversation_id: str | None = None,
                      agent_name: str | None = None) -> None:
        """Start the step of a run at the top in the run's session (a new one when none applies)."""
        agent_run = start_agent_run(conversation_id=conversation_id, agent_name=agent_name)
        try:
            with agent_run.current():  # the step starts in the run's session, and its context holds it
                step = start()
                context = step.context()
        except BaseException:
            agent_run.finish()  # the run goes on untraced: a session started for it ends now, empty
            raise
        self._runs[run_id] = _Traced(run_id, step, context, agent_run if agent_run.owns_session else None)

    def _promote(self, run_id: UUID, parent: _Traced) -> _Traced:
        """A run inside a node turned out to be a subgraph (a node of its own started under it):
        from now on it has its ``invoke_agent`` span, starting with its first node."""
        with self._promoting:  # a subgraph's first nodes may start at once, on executor threads
            traced = self._runs.get(run_id, parent)
            if traced.run_id == run_id:
                return traced
            name, _ = self._inside_nodes.pop(run_id, ("LangGraph", parent))
            step = start_agent(name, context=parent.context)
            traced = _Traced(run_id, step, step.context(parent.context))
            self._runs[run_id] = traced
            return traced

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        try:
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
            call_id = kwargs.get("tool_call_id")
            name = _serialized_name(serialized) if serialized else kwargs.get("name") or "tool"

            def start(context: Context | None = None) -> Step:
                return start_tool(name, call_id=call_id if isinstance(call_id, str) else None,
                                  arguments=inputs if inputs is not None else input_str, context=context)

            if parent is None:
                self._start_at_top(run_id, start)
            else:
                step = start(parent.context)
                self._runs[run_id] = _Traced(run_id, step, step.context(parent.context))
        except MultiSessionException:
            raise
        except Exception:
            logger.debug("agentops-otel: could not record the start of a LangChain tool", exc_info=True)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        # No span (a retriever is not an agent step); runs inside it belong to its parent's span.
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            self._runs[run_id] = parent

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_started(run_id, parent_run_id)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_started(run_id, parent_run_id)

    def _model_started(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        # The model call gets no span here (the provider's instrumentor makes the one LLM span),
        # but that span must be a child of the run that made the call. Inside a run's code the
        # run's span is current already (``make_current``); a ``batch`` calls the model on
        # executor threads outside that code, so there the parent's span is made current for the
        # call, in the context the model is called in, and the context restored when it ends.
        if not self.enabled or parent_run_id is None:
            return
        traced = self._runs.get(parent_run_id)
        if traced is None or trace.get_current_span() is traced.step.span:
            return
        self._models[run_id] = (attach(traced.context), traced.context)

    # -- runs ending ------------------------------------------------------------------------------

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error, None)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        # A tool called with a tool call returns a ToolMessage; its content is the result.
        self._end(run_id, None, getattr(output, "content", output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error, None)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._model_ended(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._model_ended(run_id)

    def _model_ended(self, run_id: UUID) -> None:
        attached = self._models.pop(run_id, None)
        # Restored only in the context it was set in: a model stream closed from elsewhere (by
        # the garbage collector, say) leaves that context alone rather than corrupt this one.
        if attached is not None and get_current() is attached[1]:
            detach(attached[0])  # type: ignore[arg-type]

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    def _end(self, run_id: UUID, error: BaseException | None, result: object) -> None:
        traced = self._runs.pop(run_id, None)
        if self._inside_nodes:
            self._inside_nodes.pop(run_id, None)
        if traced is None or traced.run_id != run_id:
            return
        try:
            if error is None or _is_control_flow(error):
                traced.step.succeed(result)
            else:
                traced.step.fail(error)
        except Exception:
            logger.debug("agentops-otel: could not end the span of a LangChain run", exc_info=True)
        if traced.agent_run is not None:
            try:
                # After the run's span, so that the session's root ends last. A run that jumped
                # (an interrupt) ended as its graph meant it to; one stopped from outside did not.
                jumped = error is not None and _is_control_flow(error) and not _is_in(error, _STOPPED)
                traced.agent_run.finish(None if jumped else error)
            except Exception:
                logger.debug("agentops-otel: could not end a LangChain run's session", exc_info=True)

    # -- the span current while a run's code executes ---------------------------------------------

    def make_current(self, config: Mapping[str, Any]) -> None:
        """Make the span of the run whose child config ``config`` is current in the calling context.

        Called inside the fresh context (a ``contextvars`` copy) LangChain and LangGraph run a
        run's code in, right after they set the run's config there: the context is discarded when
        the run ends, so the span stops being current with it, in whatever thread or task the run
        executed, and the caller's own context never changes.
        """
        if not self.enabled:
            return
        run_id = getattr(config.get("callbacks"), "parent_run_id", None)
        if run_id is None:
            return
        traced = self._runs.get(run_id)
        if traced is not None and traced.run_id == run_id and get_current() is not traced.context:
            attach(traced.context)


def _agent_attributes(metadata: Mapping[str, Any]) -> dict[str, AttributeValue]:
    # A graph run with a checkpointer is one turn of a conversation: its thread. (LangChain copies
    # the run config's ``configurable`` values into its metadata.)
    thread_id = metadata.get("thread_id")
    if isinstance(thread_id, int) and not isinstance(thread_id, bool):
        thread_id = str(thread_id)
    return {GEN_AI_CONVERSATION_ID: thread_id} if isinstance(thread_id, str) and thread_id.strip() else {}


def _serialized_name(serialized: Mapping[str, Any] | None) -> str:
    """A run's name when LangChain passes none: the serialized runnable's name or class."""
    if serialized:
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        ids = serialized.get("id")
        if isinstance(ids, list) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return "chain"
