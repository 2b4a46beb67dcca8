"""A span exporter that draws each finished session in the terminal as a tree.

Select it the standard way, ``OTEL_TRACES_EXPORTER=agentops_console`` (an entry point of the
``opentelemetry_traces_exporter`` group), or pass it to ``init(exporter=SessionTreeExporter())``.
``agentops-otel demo`` uses it when no OTLP endpoint is configured. Example output::

    session 3e0c6c1e-5b0a-4a43-9d0b-0f2e3c3d8a11  ✔ Success  412 ms  tags: demo, single-session
    │ 2 LLM calls · 1 tool call · 1 action · 0 errors · tokens 60 in / 25 out · cost $0.000024
    ├─ action plan                                        0.1 ms
    ├─ chat gpt-4o-mini   gpt-4o-mini-2024-07-18  38 in / 12 out  $0.000013  14 ms
    ├─ execute_tool get_weather                           0.2 ms
    └─ chat gpt-4o-mini   gpt-4o-mini-2024-07-18  22 in / 13 out  $0.000011  9.8 ms

Spans end children first, so the exporter buffers each trace's spans until its root arrives, then
draws the whole tree at once. Spans whose root never arrives here (a worker process joined a
session started elsewhere, or the process is ending with work unfinished) are drawn on shutdown.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID as OTEL_SESSION_ID
from opentelemetry.trace import StatusCode

from agentops_otel._internal.analytics import LLM_OPERATIONS
from agentops_otel._internal.attribute_names import (
    LLM_CALL_COST_ATTRIBUTES,
    SESSION_ACTIONS,
    SESSION_COST,
    SESSION_END_STATE,
    SESSION_END_STATE_REASON,
    SESSION_ERRORS,
    SESSION_ID,
    SESSION_INPUT_TOKENS,
    SESSION_LLM_CALLS,
    SESSION_OUTPUT_TOKENS,
    SESSION_TAGS,
    SESSION_TOOL_CALLS,
    SESSION_UNPRICED_LLM_CALLS,
)
from agentops_otel._internal.end_state import EndState
from agentops_otel._internal.pending_span import is_pending_span

__all__ = ["SessionTreeExporter"]

MAX_PENDING_SPANS = 10_000
"""Spans held while waiting for their root; past this the oldest trace is drawn unfinished."""
_DRAWN_TRACES_REMEMBERED = 1_000
"""How many drawn trace ids are remembered, to label a span that ends after its session."""
_LABEL_WIDTH_CAP = 56
_DESCRIPTION_CAP = 100


@dataclass(frozen=True)
class _Glyphs:
    branch: str
    last: str
    pipe: str
    space: str
    ok: str
    fail: str
    unknown: str
    dot: str
    ellipsis: str


_UNICODE = _Glyphs("├─ ", "└─ ", "│  ", "   ", "✔", "✘", "?", "·", "…")
_ASCII = _Glyphs("|- ", "`- ", "|  ", "   ", "[ok]", "[x]", "[?]", "-", "...")

# ANSI colours, used only on a terminal and never when NO_COLOR is set (https://no-color.org).
_GREEN, _RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"


class SessionTreeExporter(SpanExporter):
    """Writes every finished trace to a text stream as a tree, one block per session.

    Args:
        out: where to write (default: ``sys.stdout`` at the time of writing).
        color: ANSI colours (default: only when ``out`` is a terminal and ``NO_COLOR`` is unset).
        max_pending_spans: how many spans may wait for their root before the oldest waiting
            trace is drawn as it is, so memory stays bounded in a long-running process.
    """

    def __init__(self, out: TextIO | None = None, *, color: bool | None = None,
                 max_pending_spans: int = MAX_PENDING_SPANS) -> None:
        self._out = out
        self._color = color
        self._max_pending = max(1, max_pending_spans)
        self._lock = threading.Lock()
        self._pending: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._pending_count = 0
        self._drawn: OrderedDict[int, str] = OrderedDict()  # trace id -> session id ("" if none)
        self._shut_down = False

    # -- SpanExporter -----------------------------------------------------------------------------

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shut_down:
            return SpanExportResult.FAILURE
        style = self._style()
        blocks: list[str] = []
        with self._lock:
            for span in spans:
                if is_pending_span(span):
                    continue  # a session's start record: the tree is drawn when the session ends
                trace_id = span.context.trace_id
                if span.parent is None:
                    waiting = self._pending.pop(trace_id, [])
                    self._pending_count -= len(waiting)
                    blocks.append(_draw_trace(span, waiting, style))
                    self._remember_drawn(trace_id, span)
                elif trace_id in self._drawn:
                    blocks.append(_draw_late(span, self._drawn[trace_id], style))
                else:
                    self._pending.setdefault(trace_id, []).append(span)
                    self._pending_count += 1
            while self._pending_count > self._max_pending and self._pending:
                blocks.append(self._draw_oldest_pending(style))
        self._write(blocks)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        # A trace still waiting for its root is not finished: it is drawn when the root comes,
        # or on shutdown, never half-drawn by a flush.
        return True

    def shutdown(self) -> None:
        if self._shut_down:
            return
        style = self._style()
        blocks: list[str] = []
        with self._lock:
            self._shut_down = True
            while self._pending:
                blocks.append(self._draw_oldest_pending(style))
        self._write(blocks)

    # -- internals -----------------------------------------------------------------------------

    def _remember_drawn(self, trace_id: int, root: ReadableSpan) -> None:
        self._drawn[trace_id] = str((root.attributes or {}).get(SESSION_ID, ""))
        while len(self._drawn) > _DRAWN_TRACES_REMEMBERED:
            self._drawn.popitem(last=False)

    def _draw_oldest_pending(self, style: _Style) -> str:
        _trace_id, waiting = self._pending.popitem(last=False)
        self._pending_count -= len(waiting)
        return _draw_rootless(waiting, style)

    def _stream(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def _style(self) -> _Style:
        stream = self._stream()
        color = self._color
        if color is None:
            isatty = getattr(stream, "isatty", None)
            color = bool(isatty and isatty()) and not os.environ.get("NO_COLOR")
        encoding = getattr(stream, "encoding", None) or "utf-8"  # None: an in-memory text stream
        try:
            "".join(vars(_UNICODE).values()).encode(encoding)
            glyphs = _UNICODE
        except (UnicodeEncodeError, LookupError):
            glyphs = _ASCII
        return _Style(glyphs, color)

    def _write(self, blocks: Iterable[str]) -> None:
        text = "".join(blocks)
        if not text:
            return
        stream = self._stream()
        try:
            try:
                stream.write(text)
            except UnicodeEncodeError:  # a name or tag the stream's encoding cannot show
                encoding = getattr(stream, "encoding", None) or "ascii"
                stream.write(text.encode(encoding, "replace").decode(encoding))
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream at exit must not break the app
            pass


# -- drawing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    glyphs: _Glyphs
    color: bool

    def paint(self, text: str, *codes: str) -> str:
        if not self.color or not codes:
            return text
        return "".join(codes) + text + _RESET


def _draw_trace(root: ReadableSpan, descendants: list[ReadableSpan], style: _Style) -> str:
    lines = [_session_header(root, style) if _is_session(root) else _trace_header(root, style)]
    summary = _session_summary(root, style)
    if summary:
        lines.append(summary)
    lines.extend(_tree_lines(root, descendants, style))
    return "\n".join(lines) + "\n\n"


def _draw_rootless(spans: list[ReadableSpan], style: _Style) -> str:
    """Spans whose root did not arrive: a session started in another process, or unfinished."""
    # Every span of a session carries ``session.id``; ``agentops.session.id`` is on its root alone.
    session_id = next((str(s.attributes[OTEL_SESSION_ID]) for s in spans
                       if s.attributes and OTEL_SESSION_ID in s.attributes), None)
    remote = any(s.parent is not None and s.parent.is_remote for s in spans)
    where = "started in another process" if remote else "root not ended before exit"
    title = f"session {session_id}" if session_id else f"trace {spans[0].context.trace_id:032x}"
    header = f"{style.paint(title, _BOLD)}  {style.paint(f'({where})', _DIM)}"
    lines = [header, *_tree_lines(None, spans, style)]
    return "\n".join(lines) + "\n\n"


def _draw_late(span: ReadableSpan, session_id: str, style: _Style) -> str:
    owner = f"session {session_id}" if session_id else f"trace {span.context.trace_id:032x}"
    label, details = _span_text(span, style)
    note = style.paint(f"(ended after {owner} was drawn)", _DIM)
    return f"{label}  {details}  {note}\n\n"


def _is_session(span: ReadableSpan) -> bool:
    return bool(span.attributes and SESSION_ID in span.attributes)


def _session_header(root: ReadableSpan, style: _Style) -> str:
    attributes = root.attributes or {}
    glyphs = style.glyphs
    state = _end_state(root)
    if state is EndState.SUCCESS:
        outcome = style.paint(f"{glyphs.ok} {state.value}", _GREEN, _BOLD)
    elif state is EndState.FAIL:
        outcome = style.paint(f"{glyphs.fail} {state.value}", _RED, _BOLD)
        reason = attributes.get(SESSION_END_STATE_REASON) or root.status.description
        if reason:
            outcome += style.paint(f" ({reason})", _RED)
    else:
        outcome = style.paint(f"{glyphs.unknown} {state.value}", _YELLOW, _BOLD)
    parts = [style.paint(f"session {attributes.get(SESSION_ID)}", _BOLD), outcome, _duration(root)]
    tags = attributes.get(SESSION_TAGS)
    if isinstance(tags, (list, tuple)) and tags:
        parts.append("tags: " + ", ".join(str(tag) for tag in tags))
    return "  ".join(parts)


def _end_state(root: ReadableSpan) -> EndState:
    recorded = (root.attributes or {}).get(SESSION_END_STATE)
    if isinstance(recorded, str):
        try:
            return EndState(recorded)
        except ValueError:
            pass
    code = root.status.status_code
    return EndState.SUCCESS if code is StatusCode.OK else EndState.FAIL if code is StatusCode.ERROR \
        else EndState.INDETERMINATE


def _trace_header(root: ReadableSpan, style: _Style) -> str:
    label, details = _span_text(root, style)
    return f"{label}  {details}  {style.paint('(no session)', _DIM)}"


def _session_summary(root: ReadableSpan, style: _Style) -> str | None:
    attributes = root.attributes or {}
    if SESSION_LLM_CALLS not in attributes:
        return None
    counts = [
        _plural(attributes.get(SESSION_LLM_CALLS), "LLM call"),
        _plural(attributes.get(SESSION_TOOL_CALLS), "tool call"),
        _plural(attributes.get(SESSION_ACTIONS), "action"),
        _plural(attributes.get(SESSION_ERRORS), "error"),
        f"tokens {attributes.get(SESSION_INPUT_TOKENS, 0)} in"
        f" / {attributes.get(SESSION_OUTPUT_TOKENS, 0)} out",
    ]
    cost = attributes.get(SESSION_COST)
    unpriced = attributes.get(SESSION_UNPRICED_LLM_CALLS)
    if isinstance(cost, (int, float)):
        counts.append(f"cost {_usd(cost)}" + (f" + {unpriced} unpriced" if isinstance(unpriced, int) and unpriced
                                             else ""))
    elif isinstance(unpriced, int) and unpriced:
        counts.append(f"cost unknown ({unpriced} unpriced)")
    glyphs = style.glyphs
    return style.paint(glyphs.pipe.rstrip() + " " + f" {glyphs.dot} ".join(counts), _DIM)


def _plural(value: object, noun: str) -> str:
    count = value if isinstance(value, int) else 0
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _tree_lines(root: ReadableSpan | None, spans: list[ReadableSpan], style: _Style) -> list[str]:
    """The indented lines of ``spans`` under ``root``; a span whose parent is absent hangs from the top."""
    present = {span.context.span_id for span in spans}
    top_id = root.context.span_id if root is not None else None
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent_id = span.parent.span_id if span.parent is not None else None
        if parent_id != top_id and parent_id not in present:
            parent_id = top_id
        children.setdefault(parent_id, []).append(span)
    for group in children.values():
        group.sort(key=lambda s: (s.start_time or 0, s.end_time or 0))

    rows: list[tuple[str, str, str]] = []  # (tree prefix, label, details)
    seen: set[int] = set()

    def walk(parent_id: int | None, indent: str) -> None:
        group = children.get(parent_id, [])
        for index, span in enumerate(group):
            if span.context.span_id in seen:  # guard against a malformed parent chain
                continue
            seen.add(span.context.span_id)
            last = index == len(group) - 1
            glyphs = style.glyphs
            label, details = _span_text(span, style)
            rows.append((indent + (glyphs.last if last else glyphs.branch), label, details))
            walk(span.context.span_id, indent + (glyphs.space if last else glyphs.pipe))

    walk(top_id, "")
    if not rows:
        return []
    width = min(_LABEL_WIDTH_CAP, max(len(prefix) + len(label) for prefix, label, _ in rows))
    return [f"{prefix}{label}".ljust(width) + "  " + details for prefix, label, details in rows]


def _span_text(span: ReadableSpan, style: _Style) -> tuple[str, str]:
    """A span's label (its name) and details (model, tokens, status, duration)."""
    attributes = span.attributes or {}
    details: list[str] = []
    if attributes.get(GEN_AI_OPERATION_NAME) in LLM_OPERATIONS:
        # The span's name holds the requested model; the answering model (a dated snapshot) may differ.
        model = attributes.get(GEN_AI_RESPONSE_MODEL)
        if model:
            details.append(str(model))
        input_tokens = attributes.get(GEN_AI_USAGE_INPUT_TOKENS)
        output_tokens = attributes.get(GEN_AI_USAGE_OUTPUT_TOKENS)
        if input_tokens is not None or output_tokens is not None:
            details.append(f"{input_tokens if input_tokens is not None else '?'} in / "
                           f"{output_tokens if output_tokens is not None else '?'} out")
        cost = attributes.get(LLM_CALL_COST_ATTRIBUTES[0])
        if isinstance(cost, (int, float)):
            details.append(_usd(cost))
    if span.status.status_code is StatusCode.ERROR:
        description = span.status.description or "error"
        if len(description) > _DESCRIPTION_CAP:
            description = description[:_DESCRIPTION_CAP - 1] + style.glyphs.ellipsis
        details.append(style.paint(f"{style.glyphs.fail} {description}", _RED))
    details.append(style.paint(_duration(span), _DIM))
    return span.name, "  ".join(details)


def _usd(value: float) -> str:
    """An amount in USD to the micro-dollar below $1 (LLM calls cost fractions of a cent)."""
    if value >= 1:
        return f"${value:,.2f}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return f"${text}" if text not in ("0", "-0") else "$0"


def _duration(span: ReadableSpan) -> str:
    if span.start_time is None or span.end_time is None:
        return "unfinished"
    seconds = max(0, span.end_time - span.start_time) / 1e9
    if seconds >= 1:
        return f"{seconds:.2f} s"
    millis = seconds * 1000
    if millis >= 10:
        return f"{millis:.0f} ms"
    return f"{millis:.1f} ms"
