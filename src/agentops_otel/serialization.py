"""Turning arbitrary Python values into span attribute strings, without ever raising."""

from __future__ import annotations

import json

MAX_JSON_CHARS = 8192
"""Longest JSON string recorded for an event's params or returns; longer ones are truncated."""
_TRUNCATION_MARK = "...[truncated {} chars]"


def to_json(value: object, limit: int = MAX_JSON_CHARS) -> str:
    """``value`` as a JSON string of at most ``limit`` characters plus a truncation mark.

    Values JSON cannot express are written by ``repr``; a value whose ``repr`` fails is written
    as its type name. Never raises.
    """
    try:
        text = json.dumps(value, default=_fallback, ensure_ascii=False)
    except Exception:  # circular references, a __repr__ that raises inside a container, ...
        text = _fallback(value)
    # Lone surrogates cannot be exported over OTLP (protobuf strings are UTF-8).
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        text = text[:limit] + _TRUNCATION_MARK.format(len(text) - limit)
    return text


def _fallback(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"
