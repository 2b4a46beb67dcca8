"""Choosing span exporters from the standard ``OTEL_*`` environment variables.

The same rules as the OpenTelemetry SDK's auto-configuration (``OTEL_TRACES_EXPORTER`` names
entry points of the ``opentelemetry_traces_exporter`` group; ``otlp`` picks gRPC or HTTP by
``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL``), but checked first, so that a malformed variable is
reported with what was wrong and what is allowed instead of a traceback from deep in an exporter.
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import NamedTuple
from urllib.parse import unquote

from opentelemetry.sdk.trace.export import SpanExporter

from agentops_otel._internal.entry_points import entries

TRACES_EXPORTER_GROUP = "opentelemetry_traces_exporter"
PROTOCOLS = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
DEFAULT_PROTOCOL = "grpc"


class ConfigurationError(ValueError):
    """An ``OTEL_*`` variable or an ``init()`` argument has a value that cannot be used."""


def _env(*names: str) -> tuple[str, str] | None:
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return name, value.strip()
    return None


def otlp_protocol() -> str:
    found = _env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    if found is None:
        return DEFAULT_PROTOCOL
    name, value = found
    if value not in PROTOCOLS:
        allowed = ", ".join(repr(p) for p in PROTOCOLS)
        raise ConfigurationError(f"{name}={value!r} is not a supported OTLP protocol; allowed: {allowed}")
    return value


def exporter_names() -> list[str]:
    """The entry point names ``OTEL_TRACES_EXPORTER`` selects (default ``otlp``); [] for ``none``."""
    raw = os.environ.get("OTEL_TRACES_EXPORTER", "").strip() or "otlp"
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if not names:
        raise ConfigurationError(f"OTEL_TRACES_EXPORTER={raw!r} names no exporter")
    if "none" in names:
        return []
    return [PROTOCOLS[otlp_protocol()] if name == "otlp" else name for name in names]


def check_otlp_variables() -> None:
    """Reject malformed OTLP timeout, endpoint and header variables with a clear message."""
    for name in ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        value = os.environ.get(name)
        if value is None or not value.strip():
            continue
        # The OpenTelemetry Python OTLP exporters read these in seconds (the specification says
        # milliseconds), so the hint must say seconds: "10000" would wait almost three hours.
        try:
            seconds = float(value)
        except ValueError:
            raise ConfigurationError(f"{name}={value!r} is not a number; give the timeout in seconds, "
                                     "e.g. 10") from None
        if seconds < 0:
            raise ConfigurationError(f"{name}={value!r} is negative; give a timeout in seconds, 0 or more")
        if not math.isfinite(seconds):
            raise ConfigurationError(f"{name}={value!r} is not a finite number; give the timeout in seconds, "
                                     "e.g. 10")
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        value = os.environ.get(name)
        value = (value or "").strip()
        if ("://" in value and not value.startswith(("http://", "https://"))) or " " in value:
            raise ConfigurationError(f"{name}={value!r} must be a URL starting with http:// or https://, "
                                     "e.g. http://localhost:4317")
    for name in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        value = os.environ.get(name)
        if not value or not value.strip():
            continue
        for position, item in enumerate(value.split(","), start=1):
            problem = header_problem(item)
            if problem is not None:
                # Say where, not what: a malformed entry is often a bare token or a credential, which
                # must never reach a log (the OTLP exporters log a malformed entry whole, then drop it).
                raise ConfigurationError(f"{name}: entry {position} {problem}; use comma-separated key=value "
                                         "pairs, e.g. 'api-key=abc,team=x'")


# What the OTLP exporters accept in OTEL_EXPORTER_OTLP_HEADERS (opentelemetry.util.re, "liberal"
# form): a header name of W3C token characters, a value of printable ASCII but '"', ',', ';' and
# '\\', optional blanks around both. Patterns, not compiled at import: only a headers variable
# needs them, and re compiles (and caches) them then.
_HEADER_KEY = r"[ \t]*[\x21\x23-\x27\x2a\x2b\x2d\x2e\x30-\x39\x41-\x5a\x5e-\x7a\x7c\x7e]+[ \t]*"
_HEADER_VALUE = r"[\x20\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e\t]*"
_PRINTABLE_ASCII = r"[\x20-\x7e\t]*"


def header_problem(entry: str) -> str | None:
    """What is wrong with one ``key=value`` entry of an OTLP headers variable, without quoting it."""
    if not entry.strip():
        return None
    if "=" not in entry:
        return "is not of the form key=value"
    key, entry_value = entry.split("=", 1)
    if not key.strip():
        return "has no key before '='"
    if not re.fullmatch(_HEADER_KEY, key):
        return ("has a key that is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only: "
                "no spaces, no accents)")
    # The exporters percent-decode an entry with no blank inside (its URL-encoded form) only.
    sent = unquote(entry_value) if not re.search(r"[ \t]", entry.strip()) else entry_value
    if not re.fullmatch(_HEADER_VALUE, entry_value) or not re.fullmatch(_PRINTABLE_ASCII, sent):
        return ('has a value with characters a header cannot carry (printable ASCII only, without \'"\', '
                "';' or '\\'): percent-encode the others, e.g. %3B for ';' (non-ASCII text cannot be sent)")
    return None


class BatchSettings(NamedTuple):
    """The batch span processor's settings, from the ``OTEL_BSP_*`` variables (defaults as the SDK's).

    (A named tuple, not a dataclass: making a dataclass costs ~1 ms of start-up, this a fifth of it.)
    """

    max_queue_size: int = 2048
    schedule_delay_millis: int = 5000
    max_export_batch_size: int = 512
    export_timeout_millis: int = 30000


# variable, field, smallest allowed value, what it counts
_BSP_VARIABLES = (
    ("OTEL_BSP_MAX_QUEUE_SIZE", "max_queue_size", 1, "spans"),
    ("OTEL_BSP_SCHEDULE_DELAY", "schedule_delay_millis", 1, "milliseconds"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "max_export_batch_size", 1, "spans"),
    ("OTEL_BSP_EXPORT_TIMEOUT", "export_timeout_millis", 0, "milliseconds"),
)


def batch_settings_and_problems() -> tuple[BatchSettings, list[str]]:
    """The ``OTEL_BSP_*`` settings, each bad value replaced by its default, and what was bad (one line each).

    The SDK would raise a bare ``ValueError`` naming no variable (``max_queue_size must be a
    positive integer``) for a value it parses, and log a traceback for one it cannot.
    """
    defaults = BatchSettings()
    values: dict[str, int] = {}
    problems: list[str] = []
    for name, field, smallest, unit in _BSP_VARIABLES:
        default: int = getattr(defaults, field)
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            value = smallest - 1
        if value < smallest:
            problems.append(f"{name}={raw!r} must be a whole number of {unit}, {smallest} or more (default {default})")
            continue
        values[field] = value
    settings = BatchSettings(**values)
    if settings.max_export_batch_size > settings.max_queue_size:
        problems.append(f"OTEL_BSP_MAX_EXPORT_BATCH_SIZE={settings.max_export_batch_size} is larger than the "
                        f"queue (OTEL_BSP_MAX_QUEUE_SIZE={settings.max_queue_size}); it must be at most the "
                        "queue size")
        settings = settings._replace(max_export_batch_size=min(defaults.max_export_batch_size, settings.max_queue_size))
    return settings, problems


def batch_settings() -> BatchSettings:
    """The ``OTEL_BSP_*`` settings.

    Raises:
        ConfigurationError: a variable is not a whole number in its range, or the batch size is
            larger than the queue; the message names the variable and what is allowed.
    """
    settings, problems = batch_settings_and_problems()
    if problems:
        raise ConfigurationError("; ".join(problems))
    return settings


def unknown_exporter_names() -> tuple[list[str], list[str]]:
    """The names in ``OTEL_TRACES_EXPORTER`` that no installed exporter has, and the names allowed."""
    available = {ep.name for ep in entries(TRACES_EXPORTER_GROUP)}
    allowed = sorted({"otlp", "none", *available})
    return [name for name in exporter_names() if name not in available], allowed


GRPC_VERBOSITY = "GRPC_VERBOSITY"


def quiet_grpc_core() -> None:
    """Load gRPC with its C core logging errors only, unless the user chose a verbosity.

    gRPC's C core writes to stderr itself, past Python logging: with TLS to a plaintext collector
    (an endpoint without a scheme means TLS for gRPC) it printed an INFO line "Handshake failed" on
    every reconnection, 33 in a minute. The variable is read when gRPC is imported, so it is set
    only for that import and removed again (child processes do not inherit it); when the
    application imported gRPC already, its own setting stands and our warning still says what is
    wrong.
    """
    if "grpc" in sys.modules or GRPC_VERBOSITY in os.environ:
        return
    os.environ[GRPC_VERBOSITY] = "ERROR"
    try:
        import grpc  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        pass
    finally:
        os.environ.pop(GRPC_VERBOSITY, None)


def exporters_from_env() -> list[SpanExporter]:
    """Instantiate the span exporters the environment selects.

    Raises:
        ConfigurationError: a variable is malformed or names an exporter that is not installed.
    """
    names = exporter_names()
    if not names:
        return []
    check_otlp_variables()
    available = {ep.name: ep for ep in entries(TRACES_EXPORTER_GROUP)}
    exporters: list[SpanExporter] = []
    for name in names:
        entry_point = available.get(name)
        if entry_point is None:
            allowed = ", ".join(sorted({"otlp", "none", *available}))
            raise ConfigurationError(f"OTEL_TRACES_EXPORTER names {name!r}, which is not installed; "
                                     f"available: {allowed}")
        if name == PROTOCOLS["grpc"]:
            quiet_grpc_core()
        exporter_class = entry_point.load()
        exporters.append(exporter_class())
    return exporters
