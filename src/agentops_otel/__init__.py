"""agentops-otel: sessions for AI agents on OpenTelemetry.

Every run of an agent is a *session*: a root span whose children are the agent's LLM calls, tool
calls and actions, and whose status is the run's outcome.

Example::

    import agentops_otel as agentops

    session = agentops.init(tags=["checkout"])
    agentops.record(agentops.ActionEvent(action_type="plan", params={"goal": "..."}))
    agentops.end_session("Success")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from agentops_otel._internal.content import set_capture_content
from agentops_otel._internal.end_state import EndState
from agentops_otel._internal.exceptions import MultiSessionException, NoSessionException, SessionEndedException
from agentops_otel._internal.export_guard import export_stats
from agentops_otel._internal.exporters import ConfigurationError
from agentops_otel._internal.facade import (
    add_tags,
    create_agent,
    end_all_sessions,
    end_session,
    get_active_sessions,
    get_session,
    init,
    record,
    set_tags,
    start_session,
)
from agentops_otel._internal.first_use import PUBLIC_NAMES
from agentops_otel._internal.processor import SessionSpanProcessor
from agentops_otel._internal.session import Session
from agentops_otel.version import __version__

if TYPE_CHECKING:
    from agentops_otel._internal.decorators import record_action, record_tool, session, track_agent
    from agentops_otel._internal.events import ActionEvent, ErrorEvent, Event, LLMEvent, ToolEvent
    from agentops_otel._internal.export_stats import ExportStats
    from agentops_otel._internal.propagation import attach_session, inject
    from agentops_otel._internal.session_analytics import SessionAnalytics


def __getattr__(name: str) -> Any:
    module = PUBLIC_NAMES.get(name)  # imported on first use: see first_use
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"agentops_otel._internal.{module}"), name)
    globals()[name] = value  # the next lookup finds it without this call
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *PUBLIC_NAMES})


__all__ = [
    "ActionEvent",
    "ConfigurationError",
    "EndState",
    "ErrorEvent",
    "Event",
    "ExportStats",
    "LLMEvent",
    "MultiSessionException",
    "NoSessionException",
    "Session",
    "SessionAnalytics",
    "SessionEndedException",
    "SessionSpanProcessor",
    "ToolEvent",
    "__version__",
    "add_tags",
    "attach_session",
    "create_agent",
    "end_all_sessions",
    "end_session",
    "export_stats",
    "get_active_sessions",
    "get_session",
    "init",
    "inject",
    "record",
    "record_action",
    "record_tool",
    "session",
    "set_capture_content",
    "set_tags",
    "start_session",
    "track_agent",
]
