"""Where agentops_otel's per-call cost goes: ``bench/.venv/bin/python bench/breakdown.py``.

The comparison in ``run.py`` needs a fresh process per variant, and the differences between
processes (memory layout, another process on the machine) are as large as the costs looked for.
This script instead calls each wrapper directly, in one process, in interleaved rounds, around a
``request`` that hands back what the real client parsed from the stand-in's answers (so the HTTP and
parsing work, the same for all, is left out), and what differs between two lines is the wrapper
alone. Our wrapper is measured whole and with one feature at a time switched off
(by replacing it here, never in the product), which tells what each feature costs; then a plain
user span with and without parts of the session span processor.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import agentops_otel_openai.endpoints as endpoints
import floor
import openai_calls
import worker
from openai import Stream
from openai._models import FinalRequestOptions
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import agentops_otel
import agentops_otel._internal.llm_call as llm_call
import agentops_otel._internal.pricing as pricing
import agentops_otel._internal.processor as processor
import agentops_otel._internal.registry as registry
from agentops_otel._internal.llm_call import LLMTelemetry
from agentops_otel._internal.processor import SessionSpanProcessor
from agentops_otel._internal.stainless import sync_request_wrapper

Patch = tuple[Callable[[], None], Callable[[], None]]
NO_PATCH: Patch = (lambda: None, lambda: None)


def _patch(owner: Any, name: str, value: Any) -> Patch:
    original = getattr(owner, name)
    return (lambda: setattr(owner, name, value), lambda: setattr(owner, name, original))


def _rounds(variants: dict[str, tuple[Callable[[], None], Patch]], count: int, repeats: int) -> dict[str, float]:
    """Median CPU µs per call of each variant, rounds interleaved so drift hits all alike."""
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for fn, (on, off) in variants.values():
        on()
        for _ in range(max(50, count // 10)):
            fn()
        off()
    for _ in range(repeats):
        for name, (fn, (on, off)) in variants.items():
            on()
            gc.collect()
            start = time.process_time_ns()
            for _ in range(count):
                fn()
            runs[name].append((time.process_time_ns() - start) / count / 1000)
            off()
    return {name: statistics.median(values) for name, values in runs.items()}


def calls(count: int, repeats: int) -> None:
    # The wrapped `request` returns what the real one returned (parsed by the real client from
    # the stand-in's bodies) without doing the work again: only the wrappers' cost is left to
    # measure, which makes the rounds steady enough to see a microsecond.
    client = openai_calls.make_client()
    completion = client.chat.completions.create(**openai_calls.REQUEST)
    chunks = list(client.chat.completions.create(**openai_calls.REQUEST, stream=True,
                                                 stream_options={"include_usage": True}))
    body = dict(openai_calls.REQUEST)
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    options = FinalRequestOptions.construct(method="post", url="/chat/completions", json_data=body)
    stream_options = FinalRequestOptions.construct(method="post", url="/chat/completions", json_data=stream_body)
    ours = sync_request_wrapper(LLMTelemetry("openai", "agentops_otel_openai"), endpoints.endpoint_for)

    def request(cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None) -> Any:
        return iter(chunks) if stream else completion

    def none(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        return wrapped(*args, **kwargs)

    def chat(wrapper: Any) -> Callable[[], None]:
        def call() -> None:
            wrapper(request, client, (ChatCompletion, options), {"stream": False, "stream_cls": None})
        return call

    def stream(wrapper: Any) -> Callable[[], None]:
        def call() -> None:
            for _ in wrapper(request, client, (ChatCompletion, stream_options),
                             {"stream": True, "stream_cls": Stream[ChatCompletionChunk]}):
                pass
        return call

    def no_record_metrics(self: Any, response: Any, error_type: Any, cost: Any = None) -> None:
        return None

    features: dict[str, Patch] = {
        "session": _patch(registry, "resolve_for_call", lambda: (None, None)),
        "metrics": _patch(llm_call.LLMCall, "_record_metrics", no_record_metrics),
        "content switch": _patch(endpoints, "capture_content", lambda: False),
        "cost": _patch(pricing, "call_cost", lambda provider, model, attributes: None),
    }
    all_on = [on for on, _ in features.values()]
    all_off = [off for _, off in features.values()]
    everything: Patch = (lambda: [f() for f in all_on] and None, lambda: [f() for f in all_off] and None)
    for label, workload in (("non-streaming", chat), ("streaming, 21 chunks", stream)):
        variants = {"no wrapper": (workload(none), NO_PATCH), "floor": (workload(floor._wrapper), NO_PATCH),
                    "agentops_otel": (workload(ours), NO_PATCH)}
        for feature, patch in features.items():
            variants[f"  without {feature}"] = (workload(ours), patch)
        variants[f"  without all {len(features)}"] = (workload(ours), everything)
        medians = _rounds(variants, count, repeats)
        base = medians.pop("no wrapper")
        floor_cost = medians["floor"] - base
        ours_cost = medians["agentops_otel"] - base
        print(f"\n{label}: µs of CPU per call over no wrapper (median of {repeats} interleaved rounds)")
        for name, value in medians.items():
            cost = value - base
            saved = f"   (so it costs {ours_cost - cost:5.1f})" if name.startswith("  without") else ""
            print(f"  {name:26} {cost:7.1f}  x{cost / floor_cost:4.2f} floor{saved}")


def spans(session: agentops_otel.Session, count: int, repeats: int) -> None:
    class Dispatch(SpanProcessor):
        """A processor doing nothing: what the SDK's dispatch to one more processor costs."""

    def tracer(processor: SpanProcessor | None) -> trace.Tracer:
        provider = TracerProvider()
        if processor is not None:
            provider.add_span_processor(processor)
        provider.add_span_processor(BatchSpanProcessor(worker.CountingExporter()))
        return provider.get_tracer("bench.app")

    def workload(t: trace.Tracer) -> Callable[[], None]:
        def span() -> None:
            with t.start_as_current_span("user work"):
                pass
        return span

    variants = {
        "SDK alone": (workload(tracer(None)), NO_PATCH),
        "+ a processor doing nothing": (workload(tracer(Dispatch())), NO_PATCH),
        "+ it, stamping via set_attribute": (
            workload(tracer(SessionSpanProcessor())),
            _patch(processor, "stamp_starting_span", lambda span, stamp: span.set_attributes(dict(stamp))),
        ),
        "+ SessionSpanProcessor": (workload(tracer(SessionSpanProcessor())), NO_PATCH),
    }
    with session:
        medians = _rounds(variants, count, repeats)
    base = medians["SDK alone"]
    print(f"\na plain user span inside a session: µs of CPU (median of {repeats} interleaved rounds)")
    for name, value in medians.items():
        print(f"  {name:34} {value:6.2f}  {value / base - 1:+6.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="calls per round")
    parser.add_argument("--span-count", type=int, default=2000, help="spans per round")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    # agentops_otel owns the global provider (so floor's spans go through the same processors),
    # with one session open, as in the `agentops_otel` variant; our instrumentor is not installed:
    # the wrappers are called directly.
    session = agentops_otel.init(exporter=worker.CountingExporter(), instrument_llm_calls=False)
    assert session is not None
    calls(args.count, args.repeats)
    spans(session, args.span_count, args.repeats + 6)
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
