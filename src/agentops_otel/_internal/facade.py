"""The module-level API: ``init``, ``start_session`` and the single-session-mode functions."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SpanExporter

from agentops_otel._internal import activation, content, lifecycle, pricing, registry, root_span, sdk_setup
from agentops_otel._internal.end_state import EndState
from agentops_otel._internal.exporters import ConfigurationError
from agentops_otel._internal.session import Session
from agentops_otel._internal.tags import normalise_tags
from agentops_otel.version import __version__

if TYPE_CHECKING:
    from agentops_otel._internal.events import Event
    from agentops_otel._internal.session_analytics import SessionAnalytics

logger = logging.getLogger(__name__)

_lock = threading.RLock()
_tracer: trace.Tracer | None = None
_settings: dict[str, Any] = {}
_process_session: Session | None = None
_process_session_by_init = False
_session_per_agent_run = False
_set_up_implicitly = False
"""Set up with the defaults by a session started before any ``init()`` call (``_get_tracer``)."""
_service_name = "unknown_service"
"""The resource's ``service.name``: the agent name of sessions not given one (see ``init``)."""


def init(
    *,
    service_name: str | None = None,
    auto_start_session: bool = True,
    tags: str | Iterable[str] | None = None,
    instrument_llm_calls: bool = True,
    exporter: SpanExporter | None = None,
    capture_content: bool | None = None,
    cost: bool | None = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    session_per_agent_run: bool = False,
    default_tags: str | Iterable[str] | None = None,
    api_key: str | None = None,
    parent_key: str | None = None,
    endpoint: str | None = None,
    max_wait_time: int | None = None,
    max_queue_size: int | None = None,
    skip_auto_end_session: bool | None = None,
    agent_name: str | None = None,
    conversation_id: str | None = None,
) -> Session | None:
    """Set up OpenTelemetry for sessions and, by default, start one.

    Installs an SDK ``TracerProvider`` configured by the standard ``OTEL_*`` variables, unless one
    is installed already (the application's own or ``opentelemetry-instrument``'s), which it joins.
    Calling it again configures nothing again.

    Args:
        service_name: ``service.name`` of the resource (default: ``OTEL_SERVICE_NAME``).
        auto_start_session: start a session and return it (else return ``None``).
        tags: tags of the session started now.
        instrument_llm_calls: instrument every installed LLM client (OpenAI, Anthropic).
        exporter: export spans with this exporter instead of the one ``OTEL_TRACES_EXPORTER`` picks.
        capture_content: record prompts and completions on spans (default: off, or
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
        cost: price every LLM call from the offline genai-prices table (default: on, unless
            ``AGENTOPS_COST=false``); see the README's "Cost" section.
        prices: prices of your own models, which take precedence over the table: model name ->
            USD per million tokens by kind, e.g. ``{"ft:gpt-4o-mini:acme": {"input_mtok": 0.3,
            "output_mtok": 1.2, "cache_read_mtok": 0.15}}`` (kinds: ``input_mtok``,
            ``output_mtok``, ``cache_read_mtok``, ``cache_write_mtok``, ``output_reasoning_mtok``).
        agent_name: ``gen_ai.agent.name`` of every session's root span from now on, unless
            ``start_session(agent_name=...)`` names another (default: the service name).
        conversation_id: ``gen_ai.conversation.id`` of the session started now (default: its
            session id); see ``start_session``.
        session_per_agent_run: give every agent framework run (an OpenAI Agents SDK
            ``Runner.run``) a session of its own unless a session is current where it starts, even
            while other sessions are active (``AGENTOPS_AUTO_START_SESSION``'s, or the one this
            call starts). Once on, it stays on. Off, a run goes into the only active session, and
            gets a session of its own only when none is active.
        default_tags: tags of every session started from now on (this one and ``start_session``'s),
            before their own tags.
        api_key, parent_key, endpoint, max_wait_time, max_queue_size, skip_auto_end_session:
            accepted so that AgentOps v0.3 code runs, and ignored (a warning names them, never
            their values): spans go where the ``OTEL_*`` variables say, batched as they say.

    Example::

        import agentops_otel as agentops

        session = agentops.init(tags=["checkout"])
        ...
        agentops.end_session("Success")

    Raises:
        ConfigurationError: an ``OTEL_*`` or ``AGENTOPS_COST`` variable is malformed, or a second
            ``init()`` asks for settings that differ from the first one's.
        TypeError, ValueError: an argument has the wrong type or value (``prices``: the message
            names the model and the price key).
    """
    global _tracer, _session_per_agent_run, _service_name
    for name, value in (("auto_start_session", auto_start_session), ("instrument_llm_calls", instrument_llm_calls),
                        ("session_per_agent_run", session_per_agent_run)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    if capture_content is not None and not isinstance(capture_content, bool):
        raise TypeError(f"capture_content must be True, False or None; got {type(capture_content).__name__}")
    if service_name is not None and (not isinstance(service_name, str) or not service_name.strip()):
        raise TypeError(f"service_name must be a non-empty str or None; got {service_name!r:.80}")
    if exporter is not None and not isinstance(exporter, SpanExporter):
        raise TypeError(f"exporter must be an opentelemetry SpanExporter; got {type(exporter).__name__}")
    if cost is not None and not isinstance(cost, bool):
        raise TypeError(f"cost must be True, False or None; got {type(cost).__name__}")
    _check_optional_name("agent_name", agent_name)
    _check_optional_name("conversation_id", conversation_id)
    overrides = pricing.parse_prices(prices) if prices is not None else {}
    session_tags = normalise_tags(tags) if tags is not None else None
    if session_per_agent_run:
        _session_per_agent_run = True
    defaults = tuple(normalise_tags(default_tags)) if default_tags is not None else None
    _warn_ignored({"api_key": api_key, "parent_key": parent_key, "endpoint": endpoint, "max_wait_time": max_wait_time,
                   "max_queue_size": max_queue_size, "skip_auto_end_session": skip_auto_end_session})

    requested = {"service_name": service_name, "exporter": exporter, "capture_content": capture_content,
                 "default_tags": defaults, "cost": cost, "prices": prices, "agent_name": agent_name}
    with _lock:
        if _tracer is None:
            pricing.configure(cost, overrides)
            tracer_provider = sdk_setup.configure(service_name, exporter)
            if capture_content is not None:
                content.set_capture_content(capture_content)
            if instrument_llm_calls:
                activation.instrument_installed_clients()
            _settings.update(requested)
            _service_name = sdk_setup.service_name_of(tracer_provider)
            _tracer = tracer_provider.get_tracer("agentops_otel", __version__)
            root_span.prepare_tracer(_tracer)
            lifecycle.install()
        else:
            _check_same_settings(requested)
    if not auto_start_session:
        return None
    global _process_session, _process_session_by_init
    with _lock:
        process_session = _process_session
        if process_session is not None and registry.get(process_session.session_id) is process_session:
            # The process's session (AGENTOPS_AUTO_START_SESSION's, or a first init()'s) is still
            # active (not ended, not left behind by a fork): init() returns it rather than start a
            # second one, which would put the app in multi-session mode (as AgentOps did).
            if _process_session_by_init:
                warnings.warn(
                    "agentops_otel.init() was called again while the session it started is active: "
                    "returning that session. Call agentops_otel.start_session() to start another one.",
                    RuntimeWarning, stacklevel=2)
            if session_tags:
                process_session.add_tags(session_tags)
            if conversation_id is not None and conversation_id != process_session.conversation_id:
                warnings.warn(
                    f"agentops_otel.init(conversation_id=...) ignored: the session it returns (already active) "
                    f"has conversation id {process_session.conversation_id!r}", RuntimeWarning, stacklevel=2)
            return process_session
        _process_session = start_session(tags=session_tags, conversation_id=conversation_id)
        _process_session_by_init = True
        return _process_session


def _warn_ignored(arguments: dict[str, object]) -> None:
    given = [name for name, value in arguments.items() if value is not None]
    if given:
        logger.warning(
            "agentops-otel: init(%s) ignored: AgentOps v0.3 settings with no meaning here; spans are "
            "exported with OpenTelemetry as the OTEL_* variables say (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_BSP_*)",
            ", ".join(given),
        )


def _check_same_settings(requested: dict[str, Any]) -> None:
    for name, value in requested.items():
        first = _settings.get(name)
        if value is None or value is first or value == first:
            continue
        if _set_up_implicitly:
            raise ConfigurationError(
                f"agentops-otel was already set up with the defaults ({name}={first!r}) by a session "
                f"started before any init() call; init() cannot change it to {value!r} now. Call "
                "init() with your settings before starting a session."
            )
        raise ConfigurationError(
            f"init() was already called with {name}={first!r}; a second init() cannot change it to "
            f"{value!r}. Pass every setting to the first init() call."
        )


def session_per_agent_run() -> bool:
    """Whether ``init(session_per_agent_run=True)`` was called (see ``agent_runs``)."""
    return _session_per_agent_run


def _get_tracer() -> trace.Tracer:
    global _set_up_implicitly
    if _tracer is None:
        with _lock:
            if _tracer is None:
                init(auto_start_session=False)
                _set_up_implicitly = True
    assert _tracer is not None
    return _tracer


def _check_optional_name(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise TypeError(f"{name} must be a non-empty str or None; got {type(value).__name__} {value!r:.80}")


def start_session(tags: str | Iterable[str] | None = None, *, conversation_id: str | None = None,
                  agent_name: str | None = None) -> Session:
    """Start a new session (initialising with defaults if ``init()`` was not called).

    With two or more sessions active the module-level functions raise ``MultiSessionException``;
    call the session's own methods instead.

    Args:
        tags: the session's tags (after ``init(default_tags=...)``).
        conversation_id: the chat thread this run is part of, as ``gen_ai.conversation.id`` on
            every span of the session (default: the session id). Give several sessions (one per
            turn of a chat, say) the same one and a backend's sessions page shows them together.
        agent_name: ``gen_ai.agent.name`` of the session's root span (default: ``init``'s
            ``agent_name``, else the service name).

    Example::

        session = agentops_otel.start_session(tags=["nightly"], conversation_id=chat.id)
        session.end_session("Success")

    Raises:
        TypeError: ``conversation_id`` or ``agent_name`` is not a non-empty str.
    """
    _check_optional_name("conversation_id", conversation_id)
    _check_optional_name("agent_name", agent_name)
    session_tags = normalise_tags(tags) if tags is not None else None
    tracer = _get_tracer()
    defaults = _settings.get("default_tags")
    if defaults:
        session_tags = normalise_tags([*defaults, *(session_tags or ())])
    name = agent_name or _settings.get("agent_name") or _service_name
    session = Session(tracer, session_tags, on_end=registry.unregister, conversation_id=conversation_id,
                      agent_name=name)
    registry.register(session)
    return session


def start_process_session(tags: Iterable[str] | None = None) -> Session:
    """Start the session that ``AGENTOPS_AUTO_START_SESSION=true`` asks for (see ``distro``).

    It is the session of the whole process: a later ``init()`` returns it instead of starting
    another. It ends at exit like any session left open.
    """
    global _process_session, _process_session_by_init
    init(auto_start_session=False, instrument_llm_calls=False)  # the instrumentors load after this
    _process_session = start_session(tags=tags)
    _process_session_by_init = False
    return _process_session


def end_session(end_state: EndState | str = EndState.INDETERMINATE,
                end_state_reason: str | None = None) -> SessionAnalytics:
    """End the only active session (single-session mode). See ``Session.end_session``.

    Returns:
        The session's final analytics, with its ``cost`` in USD.

    Raises:
        NoSessionException: no session is active.
        MultiSessionException: two or more sessions are active; call ``session.end_session()``.
    """
    return registry.only_session().end_session(end_state, end_state_reason)


def add_tags(tags: str | list[str]) -> None:
    """Add tags to the only active session (single-session mode). See ``Session.add_tags``."""
    registry.only_session().add_tags(tags)


def set_tags(tags: str | list[str]) -> None:
    """Replace the tags of the only active session (single-session mode)."""
    registry.only_session().set_tags(tags)


def record(event: Event) -> None:
    """Record an event on the only active session (single-session mode). See ``Session.record``."""
    registry.only_session().record(event)


def get_active_sessions() -> list[Session]:
    """The sessions that have started and not ended, oldest first."""
    return registry.active_sessions()


def get_session(session_id: str) -> Session | None:
    """The active (not ended) session with this id, or ``None``.

    Example::

        session = agentops_otel.get_session(session_id)
    """
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str; got {type(session_id).__name__}")
    return registry.get(session_id)


def end_all_sessions(end_state: EndState | str = EndState.INDETERMINATE, end_state_reason: str | None = None) -> None:
    """End every active session with ``end_state`` (see ``Session.end_session``).

    Raises:
        ValueError, TypeError: as ``Session.end_session``, before any session ends.
    """
    state = EndState.parse(end_state)
    if end_state_reason is not None and not isinstance(end_state_reason, str):
        raise TypeError(f"end_state_reason must be a str or None; got {type(end_state_reason).__name__}")
    for session in registry.active_sessions():
        if not session.is_ended:
            session.end_session(state, end_state_reason)


def create_agent(name: str, agent_id: str | None = None) -> str:
    """Record an agent in the session current here, else the only active one (see
    ``Session.create_agent``). Returns the agent's id.

    Raises:
        NoSessionException: no session is active.
        MultiSessionException: two or more sessions are active and none is current.
    """
    session = registry.current_or_only_session()
    assert session is not None  # required: raised otherwise
    return session.create_agent(name, agent_id)
