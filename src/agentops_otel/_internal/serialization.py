"""Turning arbitrary Python values into span attribute strings, without ever raising."""

from __future__ import annotations

import json

MAX_JSON_CHARS = 8192
"""Longest JSON string recorded for an event's params or returns; longer ones are truncated."""
_TRUNCATION_MARK = "...[truncated {} chars]"


def to_json(value: object, limit: int = MAX_JSON_CHARS) -> str:
    """``value`` as a JSON string of at most ``limit`` characters plus a truncation mark.

    Values JSON cannot express are written as JSON strings holding their ``repr``; a value whose
    ``repr`` fails is written as its type name. Never raises.
    """
    try:
        text = _ENCODER.encode(value)
    except Exception:  # circular references, keys JSON cannot have, too deep a nesting, ...
        # Still a JSON document (a string holding the repr), so consumers can always parse it.
        text = json.dumps(_fallback(value), ensure_ascii=False)
    # Lone surrogates cannot be exported over OTLP (protobuf strings are UTF-8).
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        text = text[:limit] + _TRUNCATION_MARK.format(len(text) - limit)
    return text


def to_text(value: object) -> str:
    """``str(value)``, or its ``repr`` when ``__str__`` raises (an exception may). Never raises."""
    try:
        return str(value)
    except Exception:
        return _fallback(value)


def _fallback(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


_ENCODER = json.JSONEncoder(default=_fallback, ensure_ascii=False)
"""``json.dumps`` with these options builds an encoder per call (a third of a small value's cost);
encoding keeps no state between calls, so one serves every thread."""
