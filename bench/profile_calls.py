"""Where one variant's per-call time goes: ``python bench/profile_calls.py VARIANT [chat|stream|span]``.

``--provider NAME`` profiles another provider's calls (``provider_calls.PROVIDERS``) instead of openai's.

Sets the variant up as ``worker.py`` does, makes the calls under cProfile (or pyinstrument with
``--pyinstrument``), and prints the functions with the most time, so a missed target can be
traced to the code that costs it (see bench/README.md).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from typing import Any

import worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant")
    parser.add_argument("workload", nargs="?", default="chat", choices=("chat", "stream", "span"))
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--top", default="35", help="how many lines, or a regular expression over them")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--provider", default="openai")
    args = parser.parse_args()

    exporter = worker.CountingExporter()
    if args.workload == "span":
        fn, scope = _span_workload(args.variant, exporter)
    elif args.provider != "openai":
        import provider_calls

        provider = provider_calls.PROVIDERS[args.provider]
        worker._instrument_provider(provider, args.variant, exporter)
        client = provider.make_client()
        call: Any = provider.chat if args.workload == "chat" else provider.stream
        fn, scope = (lambda: call(client)), None
    else:
        worker._instrument(args.variant, exporter)
        import openai_calls

        client = openai_calls.make_client()
        call = openai_calls.chat if args.workload == "chat" else openai_calls.chat_stream
        fn, scope = (lambda: call(client)), None
    with scope if scope is not None else _Null():
        for _ in range(200):
            fn()
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(args.count):
                fn()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.count):
                fn()
            profile.disable()
            restriction = int(args.top) if args.top.isdigit() else args.top
            pstats.Stats(profile, stream=sys.stdout).sort_stats(args.sort).print_stats(restriction)
    return 0


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _span_workload(variant: str, exporter: worker.CountingExporter) -> tuple[Any, Any]:
    from opentelemetry import trace

    if variant == "agentops_otel":
        import agentops_otel

        scope: Any = agentops_otel.init(exporter=exporter)
    else:
        worker._sdk_provider(exporter)
        scope = trace.get_tracer("bench.app").start_as_current_span("session")
    tracer = trace.get_tracer("bench.app")

    def fn() -> None:
        with tracer.start_as_current_span("user work"):
            pass

    return fn, scope


if __name__ == "__main__":
    sys.exit(main())
