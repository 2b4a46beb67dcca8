"""Per-call overhead of the google-genai and ollama instrumentors against their floor.

For each provider, a non-streaming and a streaming call through the real client to the stand-in on
127.0.0.1, in three variants run in interleaved rounds in one process: ``baseline`` (no tracing),
``floor`` (one hand-written span around the same client method) and ``agentops_otel`` (the
instrumentor, in a session). Spans are exported to a processor that drops them, so what is timed is
the instrumentation, not an exporter. Prints the median per-call time of each and ours / floor.

    .venv/bin/python bench/gemini_ollama.py [--calls 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import ollama
from agentops_otel_google_genai import GoogleGenAIInstrumentor
from agentops_otel_ollama import OllamaInstrumentor
from agentops_otel_standin import StandInServer
from google import genai
from google.genai import types
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import agentops_otel


class Dropping(SpanExporter):
    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Dropping()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("floor")
    agentops_otel.init(auto_start_session=False, instrument_llm_calls=False)
    instrumentors = (OllamaInstrumentor(), GoogleGenAIInstrumentor())

    with StandInServer() as server:
        local = ollama.Client(host=server.url_for("ollama"))
        gemini = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.url_for("gemini")))
        messages = [{"role": "user", "content": "Hi."}]
        calls: dict[str, Callable[[], object]] = {
            "ollama chat": lambda: local.chat(model="llama3.2", messages=messages),
            "ollama stream": lambda: list(local.chat(model="llama3.2", messages=messages, stream=True)),
            "gemini generate": lambda: gemini.models.generate_content(model="gemini-2.5-flash", contents="Hi."),
            "gemini stream": lambda: list(gemini.models.generate_content_stream(model="gemini-2.5-flash",
                                                                                contents="Hi.")),
        }

        def floor(call: Callable[[], object]) -> Callable[[], object]:
            def spanned() -> object:
                with tracer.start_as_current_span("chat", kind=trace.SpanKind.CLIENT):
                    return call()
            return spanned

        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for variant in ("baseline", "floor", "agentops_otel"):
                if variant == "agentops_otel":
                    for instrumentor in instrumentors:
                        instrumentor.instrument()
                    session = agentops_otel.start_session()
                for name, call in calls.items():
                    timed = floor(call) if variant == "floor" else call
                    for _ in range(10):
                        timed()
                    start = time.perf_counter()
                    for _ in range(args.calls):
                        timed()
                    results.setdefault((name, variant), []).append((time.perf_counter() - start) / args.calls)
                if variant == "agentops_otel":
                    session.end_session("Success")
                    for instrumentor in instrumentors:
                        instrumentor.uninstrument()

    print(f"{'call':18} {'baseline µs':>12} {'floor µs':>10} {'ours µs':>10} {'ours-floor µs':>14} "
          f"{'overhead ratio':>15}")
    for name in calls:
        base, low, ours = (statistics.median(results[(name, v)]) * 1e6 for v in ("baseline", "floor", "agentops_otel"))
        # The ratio the targets use: what tracing adds, ours over the floor's (as in bench/README.md).
        ratio = (ours - base) / (low - base) if low > base else float("nan")
        print(f"{name:18} {base:12.0f} {low:10.0f} {ours:10.0f} {ours - low:14.0f} {ratio:15.2f}")


if __name__ == "__main__":
    main()
