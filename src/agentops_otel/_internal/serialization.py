"""Turning arbitrary Python values into span attribute strings, without ever raising."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

MAX_JSON_CHARS = 8192
"""Longest JSON string recorded for an event's params or returns; longer ones are truncated."""
TRUNCATION_MARK = "...[truncated]"
"""Appended to a JSON string cut at ``MAX_JSON_CHARS``."""

_encode_string: Callable[[str], str] = json.encoder.encode_basestring


class _Full(Exception):
    """The budget is spent: stop serialising."""


class _BoundedWriter:
    """JSON text as ``json.dumps(value, default=repr, ensure_ascii=False)`` writes it, stopping once
    it is longer than ``limit``: a 100 MB value costs what its first ``limit`` characters cost."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.length = 0
        self.seen: set[int] = set()

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        if self.length > self.limit:
            raise _Full

    def string(self, text: str) -> None:
        # Only what can still fit is escaped: one character escapes to at most 6 (\uXXXX).
        room = self.limit - self.length + 1
        self.put(_encode_string(text[:room] if len(text) > room else text))

    def value(self, value: object) -> None:
        if isinstance(value, str):
            self.string(value)
        elif value is None or value is True or value is False:
            self.put("null" if value is None else "true" if value else "false")
        elif isinstance(value, int):
            self.put(int.__repr__(value))
        elif isinstance(value, float):
            self.put(_float(value))
        elif isinstance(value, (list, tuple, dict)):
            marker = id(value)
            if marker in self.seen:
                raise ValueError("Circular reference detected")
            self.seen.add(marker)
            if isinstance(value, dict):
                self.mapping(value)
            else:
                self.put("[")
                for index, item in enumerate(value):
                    if index:
                        self.put(", ")
                    self.value(item)
                self.put("]")
            self.seen.discard(marker)
        else:
            self.string(_fallback(value))

    def mapping(self, value: dict[object, object]) -> None:
        self.put("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                self.put(", ")
            if isinstance(key, str):
                self.string(key)
            elif key is None or isinstance(key, (bool, int, float)):
                self.string("null" if key is None else "true" if key is True else "false" if key is False
                            else int.__repr__(key) if isinstance(key, int) else _float(key))
            else:
                raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
            self.put(": ")
            self.value(item)
        self.put("}")


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def to_json(value: object, limit: int = MAX_JSON_CHARS) -> str:
    """``value`` as a JSON string of at most ``limit`` characters plus ``TRUNCATION_MARK``.

    Values JSON cannot express are written as JSON strings holding their ``repr``; a value whose
    ``repr`` fails is written as its type name. Never raises. Serialising stops as soon as the
    text is longer than ``limit``, so time and memory stay bounded whatever the value's size.
    """
    writer = _BoundedWriter(limit)
    truncated = False
    try:
        if _fits(value, limit) >= 0:
            # Small enough to be written whole (the common case): the C encoder, 2-4x faster.
            writer.parts.append(_ENCODER.encode(value))
        else:
            writer.value(value)
    except _Full:
        truncated = True
    except Exception:  # circular references, keys JSON cannot have, too deep a nesting, ...
        # Still a JSON document (a string holding the repr), so consumers can always parse it.
        writer = _BoundedWriter(limit)
        try:
            writer.string(_fallback(value))
        except _Full:
            truncated = True
    text = "".join(writer.parts)
    # Lone surrogates cannot be exported over OTLP (protobuf strings are UTF-8).
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if truncated or len(text) > limit:
        text = text[:limit] + TRUNCATION_MARK
    return text


def _fits(value: object, budget: int) -> int:
    """``budget`` less an upper bound of ``value``'s JSON length (each character escaped at most
    sixfold), or -1 as soon as that is spent or unknown (a value written by its ``repr``)."""
    if isinstance(value, str):
        return budget - 6 * len(value) - 2
    if value is None or isinstance(value, (bool, int, float)):
        return budget - 32 if not isinstance(value, int) or value.bit_length() < 64 else -1
    if isinstance(value, (list, tuple)):
        budget -= 2
        for item in value:
            budget = _fits(item, budget - 2)
            if budget < 0:
                return -1
        return budget
    if isinstance(value, dict):
        budget -= 2
        for key, item in value.items():
            if not isinstance(key, str):
                return -1
            budget = _fits(item, budget - 6 * len(key) - 6)
            if budget < 0:
                return -1
        return budget
    return -1


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
