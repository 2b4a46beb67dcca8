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


RUNS = runs_for(200, 160)


def cachegrind(python: str, job: tuple[str, str], calls: tuple[int, int], seed: int, out: Path,
               cache_sim: bool = True, after_imports: bool = False) -> dict[str, int]:
    """The counts of one worker run of ``job`` (provider, variant) making ``calls`` (calls, streamed calls)."""
    provider, variant = job
    if not out.exists() or "summary:" not in out.read_text():  # (a kept run's counts are reused)
        _run(python, job, calls, seed, out, cache_sim, after_imports)
    lines = out.read_text().splitlines()
    # callgrind's file (``--after-imports``) gives its count on ``totals:``; cachegrind's on ``summary:``.
    summary = next((line for line in lines if line.startswith("totals:")), None) or next(
        line for line in lines if line.startswith("summary:"))
    events = next(line for line in lines if line.startswith("events:"))
    counts = dict(zip(events.split()[1:], map(int, summary.split()[1:]), strict=True))
    print(f"{provider} {variant} {calls}: {counts['Ir']:,} instructions", file=sys.stderr, flush=True)
    return counts


def _run(python: str, job: tuple[str, str], calls: tuple[int, int], seed: int, out: Path, cache_sim: bool,
         after_imports: bool = False) -> None:
    provider, variant = job
    # The same dict layouts in every run (one seed); and no export on the batch processor's timer.
    env = job_env({"OTEL_BSP_SCHEDULE_DELAY": "3600000"}, seed)
    if after_imports:  # callgrind, instrumenting only the worker's calls (bench/callgrind_region.py): no cache sim
        env["BENCH_CALLGRIND_REGION"] = "1"
        tool = ["--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    else:
        simulation = ["--cache-sim=yes", *CACHES] if cache_sim else ["--cache-sim=no"]
        tool = ["--tool=cachegrind", *simulation, f"--cachegrind-out-file={out}"]
    proc = subprocess.run(
        ["valgrind", *tool,
         python, str(WORKER), f"calls:{variant}", "--provider", provider, "--count", str(calls[0]),
         "--stream-count", str(calls[1]), "--repeats", "1", "--warmup", "2", "--no-export", "--freeze-heap"],
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


def compare(overhead: dict[str, dict[str, dict[str, float]]]) -> tuple[dict[str, Any], list[str]]:
    """Each variant's counts over baseline (``overhead``) and over the floor's: the report's figures and table lines."""
    over: dict[str, Any] = {}
    lines = ["| variant | call: instructions over baseline | x floor | L1 misses (I + D) "
             "| streamed call: instructions | x floor | L1 misses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    floor = {w: overhead["floor"][w]["Ir"] for w in ("chat", "stream")}
    for variant, extras in overhead.items():
        row = {}
        for workload in ("chat", "stream"):
            extra = extras[workload]
            row[workload] = {**extra, "x_floor": extra["Ir"] / floor[workload]}
        over[variant] = row
        cells = []
        for workload in ("chat", "stream"):
            extra = row[workload]
            misses = f"{extra['I1mr'] + extra['D1mr'] + extra['D1mw']:,.0f}" if "I1mr" in extra else "-"
            cells.append(f"{extra['Ir']:,.0f} | {extra['x_floor']:.2f} | {misses}")
        lines.append(f"| {variant} | {' | '.join(cells)} |")
    return over, lines


def over_seeds(by_seed: dict[str, dict[int, dict[str, dict[str, float]]]], seeds: list[int]) -> tuple[
        dict[str, dict[str, dict[str, float]]], dict[str, dict[str, list[int]]]]:
    """Each variant over the baseline of the same seed, the median over the seeds (and each seed's figure).

    The memory layout, which moves with the seed, moves how many instructions the client's own work
    takes (dict probes, the type attribute cache) by ~0.5 % of a call, as much as an
    instrumentation's overhead differs between variants: a variant is compared within a seed."""
    base = by_seed["baseline"]
    done = [seed for seed in seeds if all(seed in figures for figures in by_seed.values())]
    overhead = {variant: {w: {event: statistics.median(figures[seed][w][event] - base[seed][w][event]
                                                       for seed in done) for event in base[done[0]][w]}
                          for w in ("chat", "stream")}
                for variant, figures in by_seed.items() if variant != "baseline"}
    spread = {variant: {w: [round(figures[seed][w]["Ir"] - base[seed][w]["Ir"]) for seed in done]
                        for w in ("chat", "stream")}
              for variant, figures in by_seed.items() if variant != "baseline"}
    return overhead, spread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", default="openai",
                        help="openai (bench/instructions.json), or others of provider_calls.PROVIDERS, comma-"
                             "separated, all in one go (bench/instructions_providers.json)")
    parser.add_argument("--variants", default=None,
                        help="default: baseline,floor,agentops_otel for openai; with openllmetry for the others")
    parser.add_argument("--calls", type=int, default=None,
                        help="non-streaming calls differenced (default 200 for openai, Provider.counted for others)")
    parser.add_argument("--streams", type=int, default=None, help="streamed calls differenced (default 160 / counted)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep cachegrind's output files in this directory, and reuse those already there "
                             "(an interrupted run resumes; the same options must be given)")
    parser.add_argument("--no-cache-sim", dest="cache_sim", action="store_false",
                        help="count instructions only: runs ~2x faster, no L1 misses")
    parser.add_argument("--after-imports", action="store_true",
                        help="count only the worker's calls (callgrind, instrumentation switched on after the "
                             "imports and warm-up): for clients whose import takes hours under cachegrind (LiteLLM); "
                             "instructions only")
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
    providers = args.providers.split(",")
    plans: dict[str, list[str]] = {}
    runs: dict[str, Runs] = {}
    for provider in providers:
        if provider == "openai":
            counted = (200, 160)
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
    seeds = [args.seed + attempt for attempt in range(args.repeats)]

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        # Seed by seed, variant by variant across the providers, peers last: what the targets need
        # comes first, and a run stopped early still has whole seeds.
        order = {variant: rank for rank, variant in enumerate(("baseline", "floor", "agentops_otel"))}
        plan = sorted(((provider, variant, run, seed) for seed in seeds
                       for provider, variants in plans.items() for variant in variants for run in runs[provider]),
                      key=lambda key: (key[3], order.get(key[1], len(order)), key[0], key[2]))
        futures = {key: pool.submit(cachegrind, args.python, (key[0], key[1]), runs[key[0]][key[2]], key[3],
                                    workdir / "{}.{}.{}.{}.out".format(*key), args.cache_sim, args.after_imports)
                   for key in plan}
        counts: dict[tuple[str, str], dict[int, dict[str, dict[str, int]]]] = {}
        skipped: dict[str, list[str]] = {provider: [] for provider in plans}
        for (provider, variant, run, seed), future in futures.items():
            try:
                counts.setdefault((provider, variant), {}).setdefault(seed, {})[run] = future.result()
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
        {" ".join(key): by_seed for key, by_seed in counts.items()}, indent=1) + "\n")
    reports: dict[str, Any] = {}
    for provider, variants in plans.items():
        by_seed = {variant: {seed: per_call(of_seed, runs[provider])
                             for seed, of_seed in counts[(provider, variant)].items() if len(of_seed) == len(RUNS)}
                   for variant in variants if variant not in skipped[provider]}
        overhead, spread = over_seeds(by_seed, seeds)
        over, lines = compare(overhead)
        reports[provider] = {"seeds": seeds, "runs": runs[provider], "skipped": skipped[provider],
                             "per_call": by_seed, "over_baseline": over, "over_baseline_by_seed": spread}
        print(f"\n{provider}:\n" + "\n".join(lines))
        print(f"over baseline, seed by seed ({', '.join(map(str, seeds))}):")
        for variant, of_variant in spread.items():
            print(f"  {variant}: call {of_variant['chat']}, streamed call {of_variant['stream']}")
        if skipped[provider]:
            print(f"skipped (not installed, or failed: see above): {', '.join(skipped[provider])}")
    out.write_text(json.dumps(reports["openai"] if providers == ["openai"] else reports, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
