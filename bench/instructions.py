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

``--providers`` counts the other providers' calls instead (``provider_calls.py``: Bedrock, Gemini,
Groq, Mistral, Ollama, LiteLLM), all in one go, each with baseline, floor, agentops_otel and its
OpenLLMetry peer, into ``instructions_providers.json``. Their clients' calls are heavier and their
imports far heavier (a run is ~90 % start-up), so the differenced calls are fewer
(``Provider.counted``) and the common part of the three runs is 2 calls and 1 streamed call.

    bench/.venv/bin/python bench/instructions.py     # baseline, floor, agentops_otel
    bench/.venv/bin/python bench/instructions.py --variants baseline,floor,agentops_otel,otel_v2
    bench/.venv/bin/python bench/instructions.py --providers bedrock,gemini,groq,mistral,ollama \\
        --repeats 1 --jobs 5 --no-cache-sim --keep /tmp/counts     # ~45 minutes on a loaded 2-core machine
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
PROVIDERS_OUT = HERE / "instructions_providers.json"

CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=2097152,16,64"]
Runs = dict[str, tuple[int, int]]


def runs_for(calls: int, streams: int, base: tuple[int, int] = (10, 2)) -> Runs:
    """(non-streaming calls, streamed calls) per run: "chat" is (b - a) / calls, "stream" is (c - a) / streams.

    Every run makes two of each first (the worker's warm-up), then ``base`` and the extra calls."""
    return {"a": base, "b": (base[0] + calls, base[1]), "c": (base[0], base[1] + streams)}


RUNS = runs_for(200, 80)


def cachegrind(python: str, job: tuple[str, str], calls: tuple[int, int], seed: int, out: Path,
               cache_sim: bool = True) -> dict[str, int]:
    """The counts of one worker run of ``job`` (provider, variant) making ``calls`` (calls, streamed calls)."""
    provider, variant = job
    if not out.exists() or "summary:" not in out.read_text():  # (a kept run's counts are reused)
        _run(python, job, calls, seed, out, cache_sim)
    lines = out.read_text().splitlines()
    summary = next(line for line in lines if line.startswith("summary:"))
    events = next(line for line in lines if line.startswith("events:"))
    counts = dict(zip(events.split()[1:], map(int, summary.split()[1:]), strict=True))
    print(f"{provider} {variant} {calls}: {counts['Ir']:,} instructions", file=sys.stderr, flush=True)
    return counts


def _run(python: str, job: tuple[str, str], calls: tuple[int, int], seed: int, out: Path, cache_sim: bool) -> None:
    provider, variant = job
    # The same dict layouts in every run (one seed); and no export on the batch processor's timer.
    env = job_env({"OTEL_BSP_SCHEDULE_DELAY": "3600000"}, seed)
    simulation = ["--cache-sim=yes", *CACHES] if cache_sim else ["--cache-sim=no"]
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", *simulation, f"--cachegrind-out-file={out}",
         python, str(WORKER), f"calls:{variant}", "--provider", provider, "--count", str(calls[0]),
         "--stream-count", str(calls[1]), "--repeats", "1", "--warmup", "2", "--no-export"],
        env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        out.unlink(missing_ok=True)  # a skipped or killed run's file has a summary too: never reused
    if proc.returncode == SKIPPED:
        raise LookupError(f"{variant} is not installed in {python}")
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"{provider} {variant} {calls} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def per_call(counts: dict[str, dict[str, int]], runs: Runs) -> dict[str, dict[str, float]]:
    a, b, c = counts["a"], counts["b"], counts["c"]
    return {
        "chat": {event: (b[event] - a[event]) / (runs["b"][0] - runs["a"][0]) for event in a},
        "stream": {event: (c[event] - a[event]) / (runs["c"][1] - runs["a"][1]) for event in a},
    }


def compare(measured: dict[str, dict[str, dict[str, float]]]) -> tuple[dict[str, Any], list[str]]:
    """Each variant's counts over baseline and over the floor's: the report's figures and table lines."""
    base = measured["baseline"]
    over: dict[str, Any] = {}
    lines = ["| variant | call: instructions over baseline | x floor | L1 misses (I + D) "
             "| streamed call: instructions | x floor | L1 misses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    floor = {w: measured["floor"][w]["Ir"] - base[w]["Ir"] for w in ("chat", "stream")}
    for variant, figures in measured.items():
        if variant == "baseline":
            continue
        row = {}
        for workload in ("chat", "stream"):
            extra = {event: figures[workload][event] - base[workload][event] for event in base[workload]}
            row[workload] = {**extra, "x_floor": extra["Ir"] / floor[workload]}
        over[variant] = row
        cells = []
        for workload in ("chat", "stream"):
            extra = row[workload]
            misses = f"{extra['I1mr'] + extra['D1mr'] + extra['D1mw']:,.0f}" if "I1mr" in extra else "-"
            cells.append(f"{extra['Ir']:,.0f} | {extra['x_floor']:.2f} | {misses}")
        lines.append(f"| {variant} | {' | '.join(cells)} |")
    return over, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", default="openai",
                        help="openai (bench/instructions.json), or others of provider_calls.PROVIDERS, comma-"
                             "separated, all in one go (bench/instructions_providers.json)")
    parser.add_argument("--variants", default=None,
                        help="default: baseline,floor,agentops_otel for openai; with openllmetry for the others")
    parser.add_argument("--calls", type=int, default=None,
                        help="non-streaming calls differenced (default 200 for openai, Provider.counted for others)")
    parser.add_argument("--streams", type=int, default=None, help="streamed calls differenced (default 80 / counted)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep cachegrind's output files in this directory, and reuse those already there "
                             "(an interrupted run resumes; the same options must be given)")
    parser.add_argument("--no-cache-sim", dest="cache_sim", action="store_false",
                        help="count instructions only: runs ~2x faster, no L1 misses")
    parser.add_argument("--seed", type=int, default=0, help="PYTHONHASHSEED of every run (default 0)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once (counts do not depend on it)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each configuration; the median of each count is used (default 3)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions.py needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    providers = args.providers.split(",")
    plans: dict[str, list[str]] = {}
    runs: dict[str, Runs] = {}
    for provider in providers:
        if provider == "openai":
            counted = (200, 80)
        else:
            from provider_calls import PROVIDERS

            counted = PROVIDERS[provider].counted
        # The other clients' calls are heavier than openai's: a smaller common part of the three runs.
        runs[provider] = runs_for(args.calls or counted[0], args.streams or counted[1],
                                  (10, 2) if provider == "openai" else (2, 1))
        default = "baseline,floor,agentops_otel" + ("" if provider == "openai" else ",openllmetry")
        variants = (args.variants or default).split(",")
        for required in ("floor", "baseline"):
            if required not in variants:
                variants.insert(0, required)
        plans[provider] = variants

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        # Variant by variant across the providers, peers last: what the targets need comes first.
        order = {variant: rank for rank, variant in enumerate(("baseline", "floor", "agentops_otel"))}
        plan = sorted(((provider, variant, run, attempt) for attempt in range(args.repeats)
                       for provider, variants in plans.items() for variant in variants for run in runs[provider]),
                      key=lambda key: (key[3], order.get(key[1], len(order)), key[0], key[2]))
        futures = {key: pool.submit(cachegrind, args.python, key[:2], runs[key[0]][key[2]], args.seed,
                                    workdir / "{}.{}.{}.{}.out".format(*key), args.cache_sim)
                   for key in plan}
        attempts: dict[tuple[str, str], dict[str, list[dict[str, int]]]] = {}
        skipped: dict[str, list[str]] = {provider: [] for provider in plans}
        for (provider, variant, run, _attempt), future in futures.items():
            try:
                attempts.setdefault((provider, variant), {}).setdefault(run, []).append(future.result())
            except LookupError:
                if variant not in skipped[provider]:
                    skipped[provider].append(variant)
            except RuntimeError as error:  # reported, and the other providers' figures kept
                print(error, file=sys.stderr)
                if variant not in skipped[provider]:
                    skipped[provider].append(variant)
    out = OUT if providers == ["openai"] else PROVIDERS_OUT
    # The raw counts first: a slip in the arithmetic below must not lose an hour of runs.
    out.with_suffix(".raw.json").write_text(json.dumps(
        {" ".join(key): by_run for key, by_run in attempts.items()}, indent=1) + "\n")
    # A rare event (a collection more or less, the clock-driven paths) moves one run's count by up
    # to ~100,000 instructions per streamed call, up or down: the median of the runs is kept.
    reports: dict[str, Any] = {}
    for provider, variants in plans.items():
        measured = {}
        for variant in variants:
            if variant in skipped[provider]:
                continue
            counts = {run: {event: int(statistics.median(each[event] for each in runs_of)) for event in runs_of[0]}
                      for run, runs_of in attempts[(provider, variant)].items()}
            measured[variant] = per_call(counts, runs[provider])
        over, lines = compare(measured)
        reports[provider] = {"seed": args.seed, "runs": runs[provider], "repeats": args.repeats,
                             "skipped": skipped[provider],
                             "per_call": measured, "over_baseline": over}
        print(f"\n{provider}:\n" + "\n".join(lines))
        if skipped[provider]:
            print(f"skipped (not installed, or failed: see above): {', '.join(skipped[provider])}")
    out.write_text(json.dumps(reports["openai"] if providers == ["openai"] else reports, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
