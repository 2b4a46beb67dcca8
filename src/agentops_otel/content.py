"""Whether message content (prompts, completions, tool arguments) may be recorded on spans.

Off by default. On with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (the variable
the OpenTelemetry GenAI instrumentations share) or ``init(capture_content=True)``; an explicit
``init`` argument wins over the variable.
"""

from __future__ import annotations

import os

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_override: bool | None = None


def set_capture_content(enabled: bool | None) -> None:
    """Force content capture on or off; ``None`` goes back to the environment variable."""
    global _override
    _override = enabled


def capture_content() -> bool:
    if _override is not None:
        return _override
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("true", "1", "yes", "span_only",
                                                                      "span_and_event")
