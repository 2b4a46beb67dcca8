"""LiteLLM calls instrumented by agentops-otel beside their floor: one hand-written span around the
same ``litellm.completion`` call, nothing else instrumented.

Runs with the project's ``.venv`` (litellm is in its test extra), against the stand-in on 127.0.0.1:

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/litellm_calls.py [--calls 200] [--rounds 5]

What is measured is the CPU time of the calling thread per call (``time.thread_time``): the
stand-in answers from threads of its own, so its work and the machine's other load stay out of it.
Variants alternate round by round; the figure is the median round's mean. Both variants export to
the same drop-everything exporter through the same SDK set-up (``agentops_otel.init``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else it fetches its price map from the internet

import litellm
from agentops_otel_litellm import LiteLLMInstrumentor
from agentops_otel_openai import OpenAIInstrumentor
from agentops_otel_standin import StandInServer
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentops_otel


class Drop(SpanExporter):
    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


USER = [{"role": "user", "content": "Say hello."}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    litellm.suppress_debug_info = True
    exporter = Drop()
    agentops_otel.init(exporter=exporter, service_name="bench-litellm")
    tracer = trace.get_tracer("bench.floor")
    instrumentors = [LiteLLMInstrumentor(), OpenAIInstrumentor()]

    with StandInServer() as standin:
        route = {"api_base": standin.openai_base_url, "api_key": "sk-bench", "num_retries": 0}

        def plain() -> None:
            litellm.completion(model="openai/gpt-4o-mini", messages=USER, **route)

        def streamed() -> None:
            for _ in litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, **route):
                pass

        def floor(call: Callable[[], None]) -> Callable[[], None]:
            def spanned() -> None:
                with tracer.start_as_current_span("chat gpt-4o-mini", kind=trace.SpanKind.CLIENT):
                    call()
            return spanned

        def timed(call: Callable[[], None], instrumented: bool) -> float:
            for instrumentor in instrumentors:
                if instrumented:
                    instrumentor.instrument()
                else:
                    instrumentor.uninstrument()
            call()  # warm
            trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
            spans = exporter.spans
            start = time.thread_time()
            for _ in range(options.calls):
                call()
            elapsed = (time.thread_time() - start) / options.calls
            trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
            # One span per call: ours, or the hand-written one (the openai SDK's call inside gets none).
            assert exporter.spans - spans == options.calls, (exporter.spans - spans, options.calls)
            return elapsed

        results: dict[str, dict[str, Any]] = {}
        for name, call in (("non-streaming", plain), ("streaming", streamed)):
            ours: list[float] = []
            floors: list[float] = []
            for _ in range(options.rounds):
                floors.append(timed(floor(call), instrumented=False))
                ours.append(timed(call, instrumented=True))
            results[name] = {"floor_ms": statistics.median(floors) * 1e3, "ours_ms": statistics.median(ours) * 1e3}
    for name, figures in results.items():
        ratio = figures["ours_ms"] / figures["floor_ms"]
        print(f"{name:14} floor {figures['floor_ms']:.3f} ms  agentops_otel {figures['ours_ms']:.3f} ms  {ratio:.3f}x")


if __name__ == "__main__":
    main()
