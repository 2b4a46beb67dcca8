"""Whether message content (prompts, completions, tool arguments) may be recorded on spans.

Off by default. On with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (the variable
the OpenTelemetry GenAI instrumentations share) or ``init(capture_content=True)``; an explicit
``init`` argument wins over the variable.

The variable is read once, when first needed (as the OpenTelemetry contrib instrumentations read
it when they instrument), not on every call: ``os.environ`` is slow to ask for a variable that is
unset. ``set_capture_content(None)`` reads it again.
"""

from __future__ import annotations

import os

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_TRUE_VALUES = frozenset({"true", "1", "yes", "span_only", "span_and_event"})

_override: bool | None = None
_from_environment: bool | None = None


def set_capture_content(enabled: bool | None) -> None:
    """Force content capture on or off; ``None`` goes back to (and re-reads) the environment variable."""
    global _override, _from_environment
    _override = enabled
    _from_environment = None


def capture_content() -> bool:
    """Whether prompts and completions may be recorded now."""
    global _from_environment
    if _override is not None:
        return _override
    if _from_environment is None:
        _from_environment = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in _TRUE_VALUES
    return _from_environment
