"""µs per call of a function decorated with agentops-otel's decorators, beside a bare span.

Each variant calls the same small function (two arguments, a dict returned) in a session, with
the SDK TracerProvider ``init()`` sets up exporting to a discarding exporter through the usual
batch processor:

* ``bare``: the function, undecorated (the loop's own cost);
* ``floor``: the function inside ``tracer.start_as_current_span(...)``: one span, nothing recorded;
* ``floor + content``: the floor span given what ``record_tool`` records (its GenAI attributes,
  the arguments and the result as JSON), by hand: what recording costs apart from the decorator;
* ``record_action`` / ``record_tool`` / ``track_agent``: the decorated function (a span, its
  attributes, the session's analytics; content capture off, the default, so no parameters and
  return value are recorded);
* ``record_tool async``, ``record_tool generator``: the same for an async function (awaited in a
  running loop) and a generator of two items (consumed).

Variants run interleaved, round after round, in one process, and each figure is the median over
the rounds of the CPU time of the calling thread (``time.thread_time``: the export thread and the
time other processes hold the CPU are left out), so the machine's load moves them all alike; the
ratios (``x floor``: µs of the variant over µs of the floor, the loop's own cost taken off both)
are what to compare between runs.

    .venv/bin/python bench/decorators.py [--calls 2000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Iterator, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentops_otel as agentops
from agentops_otel.instrumentation import to_json


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def work(city: str, days: int) -> dict[str, object]:
    return {"city": city, "days": days}


async def async_work(city: str, days: int) -> dict[str, object]:
    return {"city": city, "days": days}


def generator_work(city: str, days: int) -> Iterator[str]:
    yield city
    yield str(days)


def variants() -> dict[str, Callable[[int], None]]:
    tracer = trace.get_tracer("bench")
    action = agentops.record_action("plan")(work)
    tool = agentops.record_tool("plan")(work)
    agent = agentops.track_agent("plan")(work)
    async_tool = agentops.record_tool("plan")(async_work)
    generator_tool = agentops.record_tool("plan")(generator_work)
    loop = asyncio.new_event_loop()

    def bare(n: int) -> None:
        for _ in range(n):
            work("Lisbon", 3)

    def floor(n: int) -> None:
        for _ in range(n):
            with tracer.start_as_current_span("plan"):
                work("Lisbon", 3)

    def floor_content(n: int) -> None:
        for _ in range(n):
            with tracer.start_as_current_span("plan", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "plan",
                "gen_ai.tool.call.arguments": to_json({"city": "Lisbon", "days": 3}),
            }) as span:
                span.set_attribute("gen_ai.tool.call.result", to_json(work("Lisbon", 3)))

    def calls(fn: Callable[[str, int], object]) -> Callable[[int], None]:
        def run(n: int) -> None:
            for _ in range(n):
                fn("Lisbon", 3)
        return run

    def awaited(n: int) -> None:
        async def main() -> None:
            for _ in range(n):
                await async_tool("Lisbon", 3)
        loop.run_until_complete(main())

    def consumed(n: int) -> None:
        for _ in range(n):
            for _item in generator_tool("Lisbon", 3):
                pass

    def floor_generator(n: int) -> None:
        for _ in range(n):
            with tracer.start_as_current_span("plan"):
                for _item in generator_work("Lisbon", 3):
                    pass

    return {
        "bare": bare,
        "floor": floor,
        "floor + content": floor_content,
        "record_action": calls(action),
        "record_tool": calls(tool),
        "track_agent": calls(agent),
        "record_tool async": awaited,
        "floor generator": floor_generator,
        "record_tool generator": consumed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    agentops.init(exporter=Discard(), auto_start_session=False, instrument_llm_calls=False)
    session = agentops.start_session(tags=["bench"])
    runs = variants()
    timings: dict[str, list[float]] = {name: [] for name in runs}
    with session:
        for run in runs.values():
            run(args.calls // 10)  # warm-up
        for _ in range(args.rounds):
            for name, run in runs.items():
                start = time.thread_time()
                run(args.calls)
                timings[name].append((time.thread_time() - start) / args.calls * 1e6)

    median = {name: statistics.median(values) for name, values in timings.items()}
    bare = median["bare"]
    print(f"{'variant':24} {'µs/call':>8} {'x floor':>8}")
    for name, value in median.items():
        floor = median["floor generator" if "generator" in name else "floor"]
        ratio = "" if name == "bare" else f"{(value - bare) / (floor - bare):8.2f}"
        print(f"{name:24} {value:8.2f} {ratio:>8}")


if __name__ == "__main__":
    main()
