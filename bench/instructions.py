"""Instructions per call, counted by valgrind: ``bench/.venv/bin/python bench/instructions.py``.

The CPU-time comparison in ``run.py`` is as good as the machine is quiet, and on a shared machine
a process's figure moves by 5-15 µs from one process to the next (hash seed, memory layout, the
other core's work): as much as the gaps the x-floor targets look for. An instruction count does
not move at all. For each variant this runs ``worker.py`` under cachegrind three times, with the
same hash seed: 10 calls and 2 streamed calls, 210 and 2, 10 and 82; the differences divided by
200 and by 80 are what one call and one streamed call execute, with nothing of the process's
start, imports or set-up in them. ``--no-export`` keeps the spans queued and the process exits
without exporting them, so export work (on the export thread, outside the timed loops of
``run.py`` too) is left out. cachegrind also simulates the caches (32 KB L1 instruction and data,
2 MB L2): the misses show whether a variant's code touches more memory, which instructions alone
would hide.

The counts are not exact to the instruction: work that depends on the clock (a metrics gate asked
again each second, retry and timeout arithmetic in the client) or on thread timing moves a call
by about ±10,000 instructions from one run to the next, and now and then a streamed call by up to
~100,000 (a quarter of its overhead); so each configuration runs three times and the median of
each count is used. Needs ``valgrind`` (not a pip package; on Debian/Ubuntu: ``apt install
valgrind``). Takes about 10 minutes for three variants, two runs at a time.

    bench/.venv/bin/python bench/instructions.py     # baseline, floor, agentops_otel
    bench/.venv/bin/python bench/instructions.py --variants baseline,floor,agentops_otel,otel_v2
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from run import HERE, SKIPPED, WORKER, job_env

OUT = HERE / "instructions.json"

# (non-streaming calls, streamed calls) per run: "chat" is (b - a) / 200, "stream" is (c - a) / 80.
RUNS = {"a": (10, 2), "b": (210, 2), "c": (10, 82)}
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=2097152,16,64"]


def cachegrind(python: str, variant: str, run: str, seed: int, workdir: Path, attempt: int) -> dict[str, int]:
    calls, streams = RUNS[run]
    out = workdir / f"{variant}.{run}.{attempt}.out"
    # The same dict layouts in every run (one seed); and no export on the batch processor's timer.
    env = job_env({"OTEL_BSP_SCHEDULE_DELAY": "3600000"}, seed)
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=yes", *CACHES, f"--cachegrind-out-file={out}",
         python, str(WORKER), f"calls:{variant}", "--count", str(calls), "--stream-count", str(streams),
         "--repeats", "1", "--warmup", "2", "--no-export"],
        env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode == SKIPPED:
        raise LookupError(f"{variant} is not installed in {python}")
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"{variant} run {run} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    lines = out.read_text().splitlines()
    summary = next(line for line in lines if line.startswith("summary:"))
    events = next(line for line in lines if line.startswith("events:"))
    return dict(zip(events.split()[1:], map(int, summary.split()[1:]), strict=True))


def per_call(runs: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    a, b, c = runs["a"], runs["b"], runs["c"]
    return {
        "chat": {event: (b[event] - a[event]) / (RUNS["b"][0] - RUNS["a"][0]) for event in EVENTS},
        "stream": {event: (c[event] - a[event]) / (RUNS["c"][1] - RUNS["a"][1]) for event in EVENTS},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="baseline,floor,agentops_otel")
    parser.add_argument("--seed", type=int, default=0, help="PYTHONHASHSEED of every run (default 0)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once (counts do not depend on it)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each configuration; the median of each count is used (default 3)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions.py needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    variants = args.variants.split(",")
    for required in ("floor", "baseline"):
        if required not in variants:
            variants.insert(0, required)

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        plan = [(variant, run, attempt) for attempt in range(args.repeats) for variant in variants for run in RUNS]
        futures = {key: pool.submit(cachegrind, args.python, key[0], key[1], args.seed, Path(tmp), key[2])
                   for key in plan}
        attempts: dict[str, dict[str, list[dict[str, int]]]] = {}
        skipped: list[str] = []
        for (variant, run, _attempt), future in futures.items():
            try:
                attempts.setdefault(variant, {}).setdefault(run, []).append(future.result())
            except LookupError:
                if variant not in skipped:
                    skipped.append(variant)
    # A rare event (a collection more or less, the clock-driven paths) moves one run's count by up
    # to ~100,000 instructions per streamed call, up or down: the median of the runs is kept.
    counts = {variant: {run: {event: int(statistics.median(each[event] for each in runs_of)) for event in EVENTS}
                        for run, runs_of in by_run.items()}
              for variant, by_run in attempts.items()}
    measured = {variant: per_call(runs) for variant, runs in counts.items() if variant not in skipped}

    base = measured["baseline"]
    report: dict[str, Any] = {"seed": args.seed, "runs": RUNS, "skipped": skipped, "per_call": measured,
                              "over_baseline": {}}
    lines = ["| variant | call: instructions over baseline | x floor | L1 misses (I + D) "
             "| streamed call: instructions | x floor | L1 misses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    floor = {w: measured["floor"][w]["Ir"] - base[w]["Ir"] for w in ("chat", "stream")}
    for variant, figures in measured.items():
        if variant == "baseline":
            continue
        row = {}
        for workload in ("chat", "stream"):
            extra = {event: figures[workload][event] - base[workload][event] for event in EVENTS}
            row[workload] = {**extra, "x_floor": extra["Ir"] / floor[workload]}
        report["over_baseline"][variant] = row
        cells = []
        for workload in ("chat", "stream"):
            extra = row[workload]
            misses = extra["I1mr"] + extra["D1mr"] + extra["D1mw"]
            cells.append(f"{extra['Ir']:,.0f} | {extra['x_floor']:.2f} | {misses:,.0f}")
        lines.append(f"| {variant} | {' | '.join(cells)} |")
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print("\n".join(lines))
    if skipped:
        print(f"\nskipped (not installed): {', '.join(skipped)}")
    print(f"\nwritten to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
