"""One benchmark job in its own process: ``python bench/worker.py JOB [options]``.

Sets up the tracing of one variant exactly as a user would (an SDK ``TracerProvider`` with a
``BatchSpanProcessor`` whose exporter counts and drops spans), runs the job's workloads, checks
that every span arrived, and prints one JSON object on stdout. Exit status 0: measured; 3: the
variant's packages are not installed in this interpreter (skipped); anything else: failure.

Jobs:
  calls:<variant>   non-streaming and streaming ``chat.completions.create`` through the real
                    openai client (see ``openai_calls``), variants listed in ``CALL_VARIANTS``;
                    with ``--provider NAME`` another provider's two calls (``provider_calls``),
                    variants ``PROVIDER_VARIANTS`` (``openllmetry``: that provider's peer)
  sessions          agentops_otel session start + end, and resident memory of open sessions
  span:sdk          a plain user span under a parent span, SDK only
  span:agentops_otel  the same span inside an agentops_otel session: init() joins the same SDK
                    provider, adding its session-stamping span processor
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

SKIPPED = 3

CALL_VARIANTS = (
    "baseline",
    "floor",
    "agentops_otel",
    "agentops_otel_content",
    "openllmetry",
    "openllmetry_nocontent",
    "otel_v2",
    "otel_v2_nocontent",
    "openinference",
    "openinference_nocontent",
)


PROVIDER_VARIANTS = ("baseline", "floor", "agentops_otel", "openllmetry")


class VariantNotInstalled(Exception):
    """The packages a variant needs are not importable here: the job is skipped, not failed."""


SESSION = "session"
START_RECORD = "session (pending)"
"""A session's start record (agentops_otel's ``pending_span``): not a call span."""


class CountingExporter(SpanExporter):
    """Counts spans by name and drops them: export costs the same for every variant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_name: Counter[str] = Counter()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            for span in spans:
                self.by_name[span.name] += 1
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def total(self) -> int:
        with self._lock:
            return sum(self.by_name.values())


def _sdk_provider(exporter: SpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


_export = True
"""False under ``--no-export`` (see ``instructions.py``): spans stay queued, never exported."""
_freeze_heap = False
"""True under ``--freeze-heap`` (see ``instructions.py``): ``gc.freeze()`` after the warm-up."""


def _flush() -> None:
    if not _export:
        return
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider) or not provider.force_flush(30_000):
        raise SystemExit("the tracer provider did not flush within 30 s")


def _timed(fn: Callable[[], Any], count: int, repeats: int) -> dict[str, Any]:
    """Microseconds per ``fn()`` call, per repeat of ``count`` calls, and their medians.

    Both clocks are kept: ``cpu`` is the CPU time of the whole process (every thread, so work an
    instrumentation moves to a background thread is counted) and is what the report compares,
    because it does not move when other processes share the machine; ``wall`` is elapsed time.
    """
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeats):
        # Untimed: export what the last repeat queued, so a repeat never finds the batch queue
        # (2048 spans by default) part full; a repeat's own spans must fit (see run.py's counts).
        _flush()
        gc.collect()
        start_cpu, start_wall = time.process_time_ns(), time.perf_counter_ns()
        for _ in range(count):
            fn()
        end_cpu, end_wall = time.process_time_ns(), time.perf_counter_ns()
        cpu.append((end_cpu - start_cpu) / count / 1000)
        wall.append((end_wall - start_wall) / count / 1000)
    return {
        "cpu_us": statistics.median(cpu),
        "wall_us": statistics.median(wall),
        "runs_cpu_us": [round(run, 2) for run in cpu],
        "runs_wall_us": [round(run, 2) for run in wall],
    }


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fail_unless(condition: bool, message: str) -> None:
    if not condition:
        print(f"SPAN COUNT CHECK FAILED: {message}", file=sys.stderr)
        raise SystemExit(2)


# -- LLM calls ------------------------------------------------------------------------------------


def _instrument(variant: str, exporter: CountingExporter) -> Callable[[], None]:
    """Set up tracing for ``variant``; returns what to do before the spans are counted."""
    if variant.startswith("agentops_otel"):
        import agentops_otel

        # Default settings; the content variant turns capture on as a user would.
        session = agentops_otel.init(exporter=exporter, capture_content=variant.endswith("_content") or None)
        assert session is not None
        # The price table is imported on a background thread from the first call on (0.3-1 s once,
        # minutes under valgrind, where a short run could exit before it ends and a long one not):
        # waited for here, so that no timed or counted call pays for it, nor goes unpriced.
        from agentops_otel._internal import pricing

        pricing.prefetch()
        pricing._table_loaded.wait(900)
        return lambda: session.end_session("Success")
    _sdk_provider(exporter)
    if variant == "baseline":
        pass
    elif variant == "floor":
        import floor

        floor.instrument()
    else:
        try:
            if variant.startswith("openllmetry"):
                from opentelemetry.instrumentation.openai import OpenAIInstrumentor
            elif variant.startswith("otel_v2"):
                from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
            elif variant.startswith("openinference"):
                from openinference.instrumentation.openai import OpenAIInstrumentor
            else:
                raise SystemExit(f"unknown variant {variant!r}")
        except ImportError as error:
            raise VariantNotInstalled(str(error)) from error
        # Content capture off is set by the driver in the environment, as each peer documents.
        OpenAIInstrumentor().instrument()
    return lambda: None


def _instrument_provider(provider: Any, variant: str, exporter: CountingExporter) -> Callable[[], None]:
    """``_instrument`` for another provider (``provider_calls.Provider``): the floor and peer are its own."""
    if variant.startswith("agentops_otel"):
        return _instrument(variant, exporter)  # init() instruments every installed client, as a user's does
    _sdk_provider(exporter)
    if variant == "floor":
        provider.floor()
    elif variant == "openllmetry":
        try:
            provider.peer()
        except ImportError as error:
            raise VariantNotInstalled(str(error)) from error
    elif variant != "baseline":
        raise SystemExit(f"unknown variant {variant!r} for {provider.name}")
    return lambda: None


def _check_spans(variant: str, calls: int, spans: dict[str, int]) -> None:
    if variant == "baseline":
        _fail_unless(not spans, f"baseline exported spans: {spans}")
        return
    # One span per call, named for the call ("chat gpt-4o-mini", or the peer's own name).
    call_spans = sum(n for name, n in spans.items() if name not in (SESSION, START_RECORD))
    _fail_unless(call_spans == calls, f"{variant}: {call_spans} call spans exported for {calls} calls: {spans}")
    if variant.startswith("agentops_otel"):
        _fail_unless(spans.get("session") == 1, f"{variant}: session span missing: {spans}")


@contextlib.contextmanager
def _counted_region() -> Iterator[None]:
    """Callgrind counts only what runs inside (``instructions.py --after-imports``); else nothing happens."""
    if os.environ.get("BENCH_CALLGRIND_REGION") != "1":
        yield
        return
    import callgrind_region

    library = callgrind_region.load()
    library.region_start()
    try:
        yield
    finally:
        library.region_stop()


def run_calls(variant: str, count: int, stream_count: int, repeats: int, warmup: int,
              provider_name: str = "openai") -> dict[str, Any]:
    exporter = CountingExporter()
    if provider_name == "openai":
        finish = _instrument(variant, exporter)
        import openai_calls

        client = openai_calls.make_client()
        make_call, make_stream = openai_calls.chat, openai_calls.chat_stream
        expected_chunks: int | None = openai_calls.STREAM_CHUNKS
    else:
        import provider_calls

        provider = provider_calls.PROVIDERS[provider_name]
        finish = _instrument_provider(provider, variant, exporter)
        client = provider.make_client()
        make_call, make_stream = provider.chat, provider.stream
        expected_chunks = None  # what the first stream gives, every stream must give
    chunks: list[int] = []

    def stream() -> None:
        read = make_stream(client)
        if not chunks:
            chunks.append(expected_chunks or read)
        if read != chunks[0] or not read:
            raise SystemExit(f"a stream gave {read} chunks, not {chunks[0]}")

    def chat() -> None:
        make_call(client)

    for _ in range(warmup):
        chat()
        stream()
    _flush()
    if _freeze_heap:
        # Everything made so far (imports, clients, a variant's lazily loaded tables) leaves the
        # collector's reach: an automatic collection in the loops below then walks only what the
        # calls made, instead of the whole heap (~10 million instructions, landing in one run of
        # instructions.py and not in another as the calls' allocations shift its threshold).
        gc.collect()
        gc.freeze()
    with _counted_region():
        chat_runs = _timed(chat, count, repeats)
        stream_runs = _timed(stream, stream_count, repeats)
    finish()
    _flush()

    calls = (warmup + count * repeats) + (warmup + stream_count * repeats)
    spans = dict(exporter.by_name)
    if _export:  # (under --no-export nothing was exported, on purpose: there is nothing to check)
        _check_spans(variant, calls, spans)
    job = f"calls:{variant}" + ("" if provider_name == "openai" else f" --provider {provider_name}")
    return {
        "job": job,
        "calls": calls,
        "spans": spans,
        "chat": chat_runs,
        "stream": stream_runs,
        "stream_chunks": chunks[0],
    }


# -- sessions -------------------------------------------------------------------------------------


def run_sessions(count: int, repeats: int, open_sessions: int) -> dict[str, Any]:
    import agentops_otel

    exporter = CountingExporter()
    agentops_otel.init(exporter=exporter, auto_start_session=False)
    started = 0

    def start_end() -> None:
        agentops_otel.start_session().end_session("Success")

    for _ in range(200):
        start_end()
    started += 200

    # Module-level functions with no ended session behind them yet (beyond the warm-up).
    def module_fn() -> None:
        agentops_otel.set_tags(["bench"])

    single = agentops_otel.start_session()
    started += 1
    module_before = _timed(module_fn, 2000, 3)
    single.end_session("Success")

    runs = _timed(start_end, count, repeats)
    started += count * repeats
    _flush()

    gc.collect()
    rss_before = _rss_bytes()
    sessions = [agentops_otel.start_session() for _ in range(open_sessions)]
    gc.collect()
    rss_open = _rss_bytes()
    started += open_sessions
    for done, session in enumerate(sessions, 1):
        session.end_session("Success")
        if done % 1000 == 0:
            _flush()  # untimed: 10,000 spans at once would overflow the batch queue (2048)
    del sessions
    _flush()

    single = agentops_otel.start_session()
    started += 1
    module_after = _timed(module_fn, 2000, 3)
    single.end_session("Success")
    _flush()

    spans = dict(exporter.by_name)
    # A start record per session, unless skipped while the queue was half full (``pending_span``).
    others = {name: n for name, n in spans.items() if name not in (SESSION, START_RECORD)}
    _fail_unless(spans.get(SESSION) == started and spans.get(START_RECORD, 0) <= started and not others,
                 f"sessions: {started} sessions started, exported {spans}")
    extra = rss_open - rss_before
    return {
        "job": "sessions",
        "sessions_started": started,
        "spans": spans,
        "start_end": runs,
        "sessions_per_second": 1e6 / runs["cpu_us"],
        "sessions_per_second_wall": 1e6 / runs["wall_us"],
        "open_sessions": open_sessions,
        "rss_extra_bytes": extra,
        "rss_per_open_session_bytes": extra / open_sessions,
        "module_fn_us_before": module_before["cpu_us"],
        "module_fn_us_after": module_after["cpu_us"],
        "ended_sessions_between": started - 2 - 200,
    }


# -- a plain user span ----------------------------------------------------------------------------


def run_span(variant: str, count: int, repeats: int) -> dict[str, Any]:
    exporter = CountingExporter()
    # The application's own SDK provider in both: agentops_otel joins it, adding only its
    # session-stamping processor, so the difference is that processor (and the session context).
    _sdk_provider(exporter)
    if variant == "agentops_otel":
        import agentops_otel

        session = agentops_otel.init()
        assert session is not None
        scope: Any = session  # leaving the with-block ends the session
    elif variant == "sdk":
        scope = trace.get_tracer("bench.app").start_as_current_span("session")
    else:
        raise SystemExit(f"unknown span variant {variant!r}")
    tracer = trace.get_tracer("bench.app")

    def user_span() -> None:
        with tracer.start_as_current_span("user work"):
            pass

    with scope:
        for _ in range(1000):
            user_span()
        runs = _timed(user_span, count, repeats)
    _flush()
    made = 1000 + count * repeats
    spans = dict(exporter.by_name)
    work = {name: n for name, n in spans.items() if name != START_RECORD}  # agentops_otel's session has one
    _fail_unless(work == {"user work": made, SESSION: 1}, f"span:{variant}: made {made}, exported {spans}")
    return {"job": f"span:{variant}", "spans": spans, "span": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job")
    parser.add_argument("--count", type=int, default=300, help="calls (or spans, sessions) per timed repeat")
    parser.add_argument("--stream-count", type=int, default=100, help="streamed calls per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--open-sessions", type=int, default=10_000)
    parser.add_argument("--provider", default="openai",
                        help="calls jobs: openai, or one of provider_calls.PROVIDERS (bedrock, gemini, ...)")
    parser.add_argument("--no-export", action="store_true",
                        help="calls jobs: keep every span queued, skip the span check, and exit without "
                             "exporting, so that an instruction count (instructions.py) holds the calls only")
    parser.add_argument("--freeze-heap", action="store_true",
                        help="calls jobs: gc.freeze() after the warm-up, so that no collection in the "
                             "measured calls walks the objects made before them (instructions.py)")
    args = parser.parse_args(argv)
    global _export, _freeze_heap
    _export = not args.no_export
    _freeze_heap = args.freeze_heap
    kind, _, variant = args.job.partition(":")
    try:
        if kind == "calls":
            result = run_calls(variant, args.count, args.stream_count, args.repeats, args.warmup, args.provider)
        elif kind == "sessions":
            result = run_sessions(args.count, args.repeats, args.open_sessions)
        elif kind == "span":
            result = run_span(variant, args.count, args.repeats)
        else:
            parser.error(f"unknown job {args.job!r}")
    except VariantNotInstalled as error:
        print(json.dumps({"job": args.job, "skipped": f"not installed: {error}"}))
        return SKIPPED
    print(json.dumps(result))
    if not _export:
        # At exit the SDK would export every queued span: work that is not the calls'.
        sys.stdout.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
