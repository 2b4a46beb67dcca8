"""Instructions per call, counted by valgrind: ``bench/.venv/bin/python bench/instructions.py``.

The CPU-time comparison in ``run.py`` is as good as the machine is quiet, and on a shared machine
a process's figure moves by 5-15 µs from one process to the next (hash seed, memory layout, the
other core's work): as much as the gaps the x-floor targets look for. An instruction count does
not move with the machine's load, but it does move with the process's memory layout: dict
probes and the interpreter's type attribute cache (keyed by addresses) take more or fewer
instructions, by ~0.5 % of the client's own work, and a streamed call is ~23 million instructions
of client work for ~300,000 of instrumentation. A layout follows from the hash seed, the
environment and the variant's own imports, so one seed can favour one variant, which is how the
floor's streamed call came out anywhere between 300,000 and 415,000 instructions from one count
to another. So each repeat has its own hash seed; within a repeat, ``worker.py`` runs under
cachegrind three times per variant: 10 calls and 2 streamed calls, 210 and 2, 10 and 162; the
differences divided by 200 and by 160 are what one call and one streamed call execute, with
nothing of the process's start, imports or set-up in them; each variant is taken over the
baseline of the same seed, and the median over the seeds is reported (the figures of each seed
are printed too). ``--no-export`` keeps the spans queued and the process exits without exporting
them, so export work (on the export thread, outside the timed loops of ``run.py`` too) is left
out. ``--freeze-heap`` moves what the imports and the warm-up made out of the garbage collector's
reach (``gc.freeze()``), so a collection among the measured calls walks what they made, not the
whole heap. cachegrind also simulates the caches (32 KB L1 instruction and data, 2 MB L2): the
misses show whether a variant's code touches more memory, which instructions alone would hide.

Needs ``valgrind`` (not a pip package; on Debian/Ubuntu: ``apt install valgrind``). Takes about
15 minutes for three variants and three seeds, two runs at a time, on an idle machine.

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

# (non-streaming calls, streamed calls) per run: "chat" is (b - a) / 200, "stream" is (c - a) / 160.
RUNS = {"a": (10, 2), "b": (210, 2), "c": (10, 162)}
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=2097152,16,64"]


def cachegrind(python: str, variant: str, run: str, seed: int, workdir: Path, attempt: int) -> dict[str, int]:
    calls, streams = RUNS[run]
    out = workdir / f"{variant}.{run}.{attempt}.out"
    # One seed for the runs of a repeat; and no export on the batch processor's timer.
    env = job_env({"OTEL_BSP_SCHEDULE_DELAY": "3600000"}, seed)
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=yes", *CACHES, f"--cachegrind-out-file={out}",
         python, str(WORKER), f"calls:{variant}", "--count", str(calls), "--stream-count", str(streams),
         "--repeats", "1", "--warmup", "2", "--no-export", "--freeze-heap"],
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
    parser.add_argument("--seed", type=int, default=0,
                        help="PYTHONHASHSEED of the first repeat; repeat i runs with seed + i (default 0)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once (counts do not depend on it)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats, each with its own hash seed; the median of their figures is used (default 3)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions.py needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    variants = args.variants.split(",")
    for required in ("floor", "baseline"):
        if required not in variants:
            variants.insert(0, required)
    seeds = [args.seed + attempt for attempt in range(args.repeats)]

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        plan = [(variant, run, seed) for seed in seeds for variant in variants for run in RUNS]
        futures = {key: pool.submit(cachegrind, args.python, key[0], key[1], key[2], Path(tmp), key[2])
                   for key in plan}
        counts: dict[str, dict[int, dict[str, dict[str, int]]]] = {}
        skipped: list[str] = []
        for (variant, run, seed), future in futures.items():
            try:
                counts.setdefault(variant, {}).setdefault(seed, {})[run] = future.result()
            except LookupError:
                if variant not in skipped:
                    skipped.append(variant)
                continue
            print(f"{variant} run {run} seed {seed}: {counts[variant][seed][run]['Ir']:,} instructions",
                  file=sys.stderr, flush=True)
    # Each seed's runs are differenced on their own, and each seed's variant against its baseline:
    # the memory layout, which moves with the seed, moves how many instructions the client's own
    # work takes (dict probes, the type attribute cache) by ~0.5 % of a call, as much as an
    # instrumentation's overhead differs between variants; the median over the seeds is kept.
    by_seed = {variant: {seed: per_call(runs) for seed, runs in of_variant.items()}
               for variant, of_variant in counts.items() if variant not in skipped}
    measured = {variant: {w: {event: statistics.median(figures[seed][w][event] for seed in seeds) for event in EVENTS}
                          for w in ("chat", "stream")}
                for variant, figures in by_seed.items()}
    base = by_seed["baseline"]
    overhead = {variant: {w: {event: statistics.median(figures[seed][w][event] - base[seed][w][event]
                                                       for seed in seeds) for event in EVENTS}
                          for w in ("chat", "stream")}
                for variant, figures in by_seed.items() if variant != "baseline"}
    spread = {variant: {w: [round(figures[seed][w]["Ir"] - base[seed][w]["Ir"]) for seed in seeds]
                        for w in ("chat", "stream")}
              for variant, figures in by_seed.items() if variant != "baseline"}

    report: dict[str, Any] = {"seeds": seeds, "runs": RUNS, "skipped": skipped, "per_call": measured,
                              "over_baseline_by_seed": spread, "over_baseline": {}}
    lines = ["| variant | call: instructions over baseline | x floor | L1 misses (I + D) "
             "| streamed call: instructions | x floor | L1 misses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    floor = {w: overhead["floor"][w]["Ir"] for w in ("chat", "stream")}
    for variant, extras in overhead.items():
        row = {}
        for workload in ("chat", "stream"):
            extra = extras[workload]
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
    print(f"\nover baseline, seed by seed ({', '.join(map(str, seeds))}):")
    for variant, of_variant in spread.items():
        print(f"  {variant}: call {of_variant['chat']}, streamed call {of_variant['stream']}")
    if skipped:
        print(f"\nskipped (not installed): {', '.join(skipped)}")
    print(f"\nwritten to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
