"""Zero-code set-up: the distro and SDK configurator that ``opentelemetry-instrument`` loads.

Under ``opentelemetry-instrument python app.py`` the auto-instrumentation start-up (run from
``sitecustomize`` before the app) calls, in this order:

1. the ``opentelemetry_distro`` entry point (:class:`AgentOpsDistro`), which fills in defaults for
   the ``OTEL_*`` variables the user did not set;
2. the ``opentelemetry_configurator`` entry point (:class:`AgentOpsConfigurator`), which builds the
   SDK from those variables with the session span processor in it and, when
   ``AGENTOPS_AUTO_START_SESSION=true``, starts one session for the whole process;
3. every ``opentelemetry_instrumentor`` entry point not listed in
   ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (ours instrument the OpenAI and Anthropic clients).

An app started this way may still call ``agentops_otel.init()`` / ``start_session()``: they join
the provider configured here rather than making a second one.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.environment_variables import OTEL_LOGS_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_TRACES_EXPORTER
from opentelemetry.instrumentation.dependencies import DependencyConflictError
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk.environment_variables import (
    OTEL_CONFIG_FILE,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_SERVICE_NAME,
)
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import TracerProvider

from agentops_otel._internal import facade, lifecycle, sdk_setup
from agentops_otel._internal.export_guard import GuardedBatchSpanProcessor
from agentops_otel._internal.exporters import (
    DEFAULT_PROTOCOL,
    PROTOCOLS,
    ConfigurationError,
    batch_settings_and_problems,
    check_otlp_variables,
    exporter_names,
    otlp_protocol,
    quiet_grpc_core,
    unknown_exporter_names,
)
from agentops_otel._internal.processor import SessionSpanProcessor
from agentops_otel._internal.sdk_internals import SDKConfigurator
from agentops_otel._internal.tags import normalise_tags

logger = logging.getLogger(__name__)

AGENTOPS_AUTO_START_SESSION = "AGENTOPS_AUTO_START_SESSION"
"""``true`` starts one session for the whole process at start-up; it ends when the process exits."""
AGENTOPS_TAGS = "AGENTOPS_TAGS"
"""Comma-separated tags for the session ``AGENTOPS_AUTO_START_SESSION`` starts."""

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"", "false", "0", "no", "off"}


class AgentOpsDistro(BaseDistro):  # type: ignore[misc]  # BaseDistro's module is untyped (Any)
    """Defaults for ``opentelemetry-instrument``: OTLP traces, no metrics or logs, a service name.

    Only variables the user left unset are filled in, so anything set in the environment or on the
    ``opentelemetry-instrument`` command line wins.
    """

    def _configure(self, **kwargs: Any) -> None:
        os.environ.setdefault(OTEL_TRACES_EXPORTER, "otlp")
        os.environ.setdefault(OTEL_EXPORTER_OTLP_PROTOCOL, DEFAULT_PROTOCOL)
        # Sessions are traces; exporting metrics and logs by default would send them to an
        # endpoint the user may not run (the SDK logs an export error for every batch).
        os.environ.setdefault(OTEL_METRICS_EXPORTER, "none")
        os.environ.setdefault(OTEL_LOGS_EXPORTER, "none")
        if not _service_name_configured():
            name = default_service_name()
            if name:
                os.environ[OTEL_SERVICE_NAME] = name

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        """Activate one instrumentor; one that fails is logged and skipped, not fatal.

        The auto-instrumentation loop stops at the first instrumentor that raises, leaving the
        rest of the app uninstrumented; the app itself must run on regardless.
        """
        try:
            super().load_instrumentor(entry_point, **kwargs)
        except (ImportError, DependencyConflictError):  # the loop reports these itself, then goes on
            raise
        except Exception:
            logger.exception("agentops-otel: instrumentation %s failed; skipped", entry_point.name)


def _service_name_configured() -> bool:
    if os.environ.get(OTEL_SERVICE_NAME, "").strip():
        return True
    for item in os.environ.get(OTEL_RESOURCE_ATTRIBUTES, "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == SERVICE_NAME and value.strip():
            return True
    return False


def default_service_name() -> str | None:
    """The program's name: the script's file stem, or the module run with ``-m``; else ``None``."""
    argv = sys.argv
    if not argv or not argv[0] or argv[0] == "-c":
        return None
    if argv[0] == "-m":
        # At start-up ``sys.argv[0]`` is still "-m"; the module name is in the original command line.
        orig = list(getattr(sys, "orig_argv", ()))
        if "-m" in orig[:-1]:
            return orig[orig.index("-m") + 1] or None
        return None
    return Path(argv[0]).stem or None


class AgentOpsConfigurator(SDKConfigurator):
    """Configures the OpenTelemetry SDK once, with the ``SessionSpanProcessor`` in the provider.

    Exporters, sampler, resource and the rest come from the standard ``OTEL_*`` variables, as with
    the SDK's own configurator. Then, if ``AGENTOPS_AUTO_START_SESSION=true``, one session (tagged
    from ``AGENTOPS_TAGS``) is started; it ends ``Indeterminate`` at exit (``Fail`` if the process
    dies of an uncaught exception).
    """

    _lock = threading.Lock()
    _configured = False

    def _configure(self, **kwargs: Any) -> None:
        with AgentOpsConfigurator._lock:
            if AgentOpsConfigurator._configured:
                return
            AgentOpsConfigurator._configured = True
            try:  # checked first, so that a malformed value is reported with what to write instead
                _drop_unknown_exporters()
                check_otlp_variables()
            except ConfigurationError as error:
                logger.error("agentops-otel: tracing is not set up: %s", error)
                return
            # A bad OTEL_BSP_* value: one line, and its default (GuardedBatchSpanProcessor reads them).
            for problem in batch_settings_and_problems()[1]:
                logger.warning("agentops-otel: %s; using the default", problem)
            if _may_export_over_grpc():
                quiet_grpc_core()
            _configure_sdk(super()._configure, kwargs)
            lifecycle.install()
        try:
            _auto_start_session()
        except Exception:  # a bad AGENTOPS_* value must not stop the app or its instrumentation
            logger.exception("agentops-otel: could not start the session for %s", AGENTOPS_AUTO_START_SESSION)


def _drop_unknown_exporters() -> None:
    """Warn about ``OTEL_TRACES_EXPORTER`` names no installed exporter has, and export without them.

    The SDK's configurator would raise for them (a traceback, and the app untraced); the app runs
    with the exporters that exist, or the default ``otlp`` when none does.
    """
    unknown, allowed = unknown_exporter_names()
    if not unknown:
        return
    names = [name.strip().lower() for name in os.environ.get(OTEL_TRACES_EXPORTER, "").split(",") if name.strip()]
    otlp = PROTOCOLS[otlp_protocol()]
    chosen = ",".join(name for name in names if (otlp if name == "otlp" else name) not in unknown) or "otlp"
    logger.warning("agentops-otel: OTEL_TRACES_EXPORTER names %s, not installed (allowed: %s); exporting with %s",
                   ", ".join(repr(name) for name in unknown), ", ".join(allowed), chosen)
    os.environ[OTEL_TRACES_EXPORTER] = chosen


def _configure_sdk(sdk_configure: Callable[..., None], kwargs: dict[str, Any]) -> None:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # the SDK was set up already: only join it
        sdk_setup.ensure_session_processor(current)
        return
    if os.environ.get(OTEL_CONFIG_FILE):
        # Declarative configuration ignores span_processors: add ours to what the file builds.
        sdk_configure(**kwargs)
        installed = trace.get_tracer_provider()
        if isinstance(installed, TracerProvider):
            sdk_setup.ensure_session_processor(installed)
        return
    processors = [*(kwargs.pop("span_processors", None) or ()), SessionSpanProcessor()]
    # Exporters behind the same guard as init()'s: a collector that is down neither floods stderr
    # nor holds the exit up for more than one export timeout.
    kwargs.setdefault("export_span_processor", GuardedBatchSpanProcessor)
    sdk_configure(span_processors=processors, **kwargs)
    installed = trace.get_tracer_provider()
    if isinstance(installed, TracerProvider):
        sdk_setup.mark_session_processor(installed)


def _may_export_over_grpc() -> bool:
    """Whether a configured exporter may load gRPC (~100 ms of CPU to import: only then is it loaded
    early, to quiet its C core); OTLP metrics or logs count, whatever their protocol."""
    if PROTOCOLS["grpc"] in exporter_names():
        return True
    return any("otlp" in os.environ.get(name, "").lower() for name in (OTEL_METRICS_EXPORTER, OTEL_LOGS_EXPORTER))


def _auto_start_session() -> None:
    raw = os.environ.get(AGENTOPS_AUTO_START_SESSION, "")
    flag = raw.strip().lower()
    if flag in _FALSE:
        return
    if flag not in _TRUE:
        logger.warning("agentops-otel: %s=%r is not true or false; no session started",
                       AGENTOPS_AUTO_START_SESSION, raw)
        return
    tags: list[str] = []
    dropped: list[str] = []
    for position, tag in enumerate(os.environ.get(AGENTOPS_TAGS, "").split(","), start=1):
        tag = tag.strip()
        if not tag:
            continue
        try:  # a bad tag is dropped, not the whole session
            tags.extend(normalise_tags([*tags, tag])[len(tags):])
        except (TypeError, ValueError) as error:
            dropped.append(f"tag {position} ({error})")
    if dropped:
        logger.warning("agentops-otel: %s: dropped %s", AGENTOPS_TAGS, "; ".join(dropped))
    facade.start_process_session(tags=tags or None)
