"""agentops-otel against the OpenAI instrumentations users would pick instead: ``make bench``.

Runs every job of ``worker.py`` in a fresh subprocess (so no instrumentor sees another), one
after the other, then reports the median per variant, the overhead over ``baseline`` in
microseconds per call and its ratio to ``floor``, the session figures, and whether the targets of
the benchmark issue are met. Writes ``results.json``, prints the table, and draws ``results.png``
when matplotlib is importable (it is in the bench environment only).

A variant whose packages are not installed in the interpreter running the jobs is reported as
skipped; a job that fails (a span lost or extra, a crash) makes the run exit non-zero.

    bench/.venv/bin/python bench/run.py            # what `make bench` runs
    bench/.venv/bin/python bench/run.py --quick    # what `make bench-quick` runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
README = HERE / "README.md"
SKIPPED = 3

# Variant -> extra environment. "Content off" is set the way each library documents it.
CALL_VARIANTS: dict[str, dict[str, str]] = {
    "baseline": {},
    "floor": {},
    "agentops_otel": {},
    "agentops_otel_content": {},
    "openllmetry": {},
    "openllmetry_nocontent": {"TRACELOOP_TRACE_CONTENT": "false"},
    "otel_v2": {},
    "otel_v2_nocontent": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"},
    "openinference": {},
    "openinference_nocontent": {"OPENINFERENCE_HIDE_INPUTS": "true", "OPENINFERENCE_HIDE_OUTPUTS": "true"},
}
PEERS_AT_DEFAULTS = ("openllmetry", "otel_v2", "openinference")
# The variants the x-floor targets compare: their overheads are a few µs apart on calls that cost
# ~700 µs, and a process's figure moves by ~5-15 µs from one process to the next (memory layout,
# the machine's other work), so these run in more rounds than the peers, whose gaps are large.
CLOSE_VARIANTS = ("baseline", "floor", "agentops_otel")
DESCRIPTIONS = {
    "baseline": "no instrumentation",
    "floor": "hand-written wrapt wrapper, one span",
    "agentops_otel": "ours, in a session, defaults (content off)",
    "agentops_otel_content": "ours, content capture on",
    "openllmetry": "opentelemetry-instrumentation-openai, defaults (content on)",
    "openllmetry_nocontent": "  the same, TRACELOOP_TRACE_CONTENT=false",
    "otel_v2": "opentelemetry-instrumentation-openai-v2, defaults (content off)",
    "otel_v2_nocontent": "  the same, capture explicitly false",
    "openinference": "openinference-instrumentation-openai, defaults (content on)",
    "openinference_nocontent": "  the same, OPENINFERENCE_HIDE_INPUTS/OUTPUTS",
}
PACKAGES = (
    "openai", "httpx2", "opentelemetry-sdk", "wrapt", "agentops-otel", "agentops-otel-openai",
    "opentelemetry-instrumentation-openai", "opentelemetry-instrumentation-openai-v2",
    "opentelemetry-util-genai", "openinference-instrumentation-openai",
)

# Targets of the benchmark issue.
MAX_RATIO_TO_FLOOR = 1.3
MAX_SPAN_PROCESSOR_SHARE = 0.10
MAX_OPEN_SESSIONS_BYTES = 30 * 1024 * 1024
OPEN_SESSIONS = 10_000


@dataclass
class Settings:
    rounds: int
    close_rounds: int
    count: int
    stream_count: int
    repeats: int
    warmup: int
    session_count: int
    span_count: int
    open_sessions: int


FULL = Settings(rounds=3, close_rounds=12, count=120, stream_count=40, repeats=3, warmup=20, session_count=2000,
                span_count=2000, open_sessions=OPEN_SESSIONS)
QUICK = Settings(rounds=1, close_rounds=1, count=60, stream_count=20, repeats=3, warmup=10, session_count=300,
                 span_count=1000, open_sessions=OPEN_SESSIONS)


def job_env(extra: dict[str, str], seed: int) -> dict[str, str]:
    """The environment of a job: ours, less any tracing configuration, plus the variant's.

    ``seed`` is the job's ``PYTHONHASHSEED``: here the round's number, the same dict layouts for
    every variant within a round and other ones in the next round (one seed for all rounds would
    give each variant the same, lucky or unlucky, layout every time).
    """
    prefixes = ("OTEL_", "TRACELOOP_", "OPENINFERENCE_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env["PYTHONHASHSEED"] = str(seed)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_job(python: str, job: str, args: list[str], extra_env: dict[str, str], round_: int) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run(
        [python, str(WORKER), job, *args],
        env=job_env(extra_env, round_),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == SKIPPED and lines:
        result = json.loads(lines[-1])
        print(f"  {job:34} skipped ({result['skipped']})", flush=True)
        return result
    if proc.returncode != 0 or not lines:
        print(f"  {job:34} FAILED (exit {proc.returncode})\n{proc.stderr[-3000:]}", flush=True)
        return {"job": job, "error": f"exit {proc.returncode}: {proc.stderr.strip()[-1000:]}"}
    print(f"  {job:34} ok in {seconds:4.1f} s", flush=True)
    result = json.loads(lines[-1])
    result["seconds"] = round(seconds, 2)
    return result


def machine(python: str) -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=False).stdout.strip()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": model,
        "python": version or platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def merge(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """One job's results over several rounds: every repeat's time kept, medians over all of them."""
    if "error" in first or "skipped" in first:
        return first
    if "error" in later or "skipped" in later:
        return later
    merged = dict(first)
    merged["rounds"] = first.get("rounds", 1) + 1
    merged["seconds"] = round(first.get("seconds", 0) + later.get("seconds", 0), 2)
    for key in ("chat", "stream", "span"):
        if key in first:
            cpu = first[key]["runs_cpu_us"] + later[key]["runs_cpu_us"]
            wall = first[key]["runs_wall_us"] + later[key]["runs_wall_us"]
            merged[key] = {"cpu_us": statistics.median(cpu), "wall_us": statistics.median(wall),
                           "runs_cpu_us": cpu, "runs_wall_us": wall}
    # Every round's spans were checked by its worker; keep the counts of all of them.
    merged["spans"] = {name: first["spans"].get(name, 0) + later["spans"].get(name, 0)
                       for name in {*first["spans"], *later["spans"]}}
    if "calls" in first:
        merged["calls"] = first["calls"] + later["calls"]
    return merged


def _per_round(job: dict[str, Any], workload: str) -> list[float]:
    """A job's median per round (``merge`` keeps every round's repeats, in order)."""
    runs = job[workload]["runs_cpu_us"]
    rounds = job.get("rounds", 1)
    size = len(runs) // rounds
    return [statistics.median(runs[i * size:(i + 1) * size]) for i in range(rounds)]


def _spread(values: list[float]) -> dict[str, float] | None:
    """Median and quartiles of per-round figures: how far one round's answer is from another's."""
    if len(values) < 4:
        return None
    q1, median, q3 = statistics.quantiles(values, n=4)
    return {"q1": q1, "median": median, "q3": q3, "rounds": len(values)}


def round_by_round(jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The x-floor ratios and the span share computed within each round, where the variants
    compared ran minutes apart at most, and their spread over the rounds."""
    spread: dict[str, Any] = {}
    names = ("baseline", "floor", "agentops_otel")
    if all("chat" in jobs.get(f"calls:{name}", {}) for name in names):
        for workload in ("chat", "stream"):
            base, floor, ours = (_per_round(jobs[f"calls:{name}"], workload) for name in names)
            ratios = [(o - b) / (f - b) for b, f, o in zip(base, floor, ours, strict=False) if f > b]
            spread[f"{workload}_ratio_to_floor"] = _spread(ratios)
    sdk, ours_span = jobs.get("span:sdk", {}), jobs.get("span:agentops_otel", {})
    if "span" in sdk and "span" in ours_span:
        shares = [o / b - 1 for b, o in zip(_per_round(sdk, "span"), _per_round(ours_span, "span"), strict=False)]
        spread["span_added_share"] = _spread(shares)
    return spread


def analyse(jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Overheads, ratios and the targets, from the jobs' raw results."""
    calls: dict[str, Any] = {}
    measured = {name: jobs[f"calls:{name}"] for name in CALL_VARIANTS if "chat" in jobs.get(f"calls:{name}", {})}
    base = measured.get("baseline")
    floor = measured.get("floor")
    for name, result in measured.items():
        row: dict[str, Any] = {
            "chat_us": result["chat"]["cpu_us"],
            "stream_us": result["stream"]["cpu_us"],
            "chat_wall_us": result["chat"]["wall_us"],
            "stream_wall_us": result["stream"]["wall_us"],
            "spans": result["spans"],
        }
        if base is not None:
            row["chat_overhead_us"] = row["chat_us"] - base["chat"]["cpu_us"]
            row["stream_overhead_us"] = row["stream_us"] - base["stream"]["cpu_us"]
            row["stream_overhead_per_chunk_us"] = row["stream_overhead_us"] / result["stream_chunks"]
        calls[name] = row
    if base is not None and floor is not None:
        floor_row = calls["floor"]
        for row in calls.values():
            if "chat_overhead_us" in row and floor_row["chat_overhead_us"] > 0:
                row["chat_ratio_to_floor"] = row["chat_overhead_us"] / floor_row["chat_overhead_us"]
                row["stream_ratio_to_floor"] = row["stream_overhead_us"] / floor_row["stream_overhead_us"]

    span: dict[str, Any] = {}
    sdk, ours = jobs.get("span:sdk", {}).get("span"), jobs.get("span:agentops_otel", {}).get("span")
    if sdk and ours:
        span = {"sdk_us": sdk["cpu_us"], "agentops_otel_us": ours["cpu_us"],
                "added_us": ours["cpu_us"] - sdk["cpu_us"], "added_share": ours["cpu_us"] / sdk["cpu_us"] - 1,
                "sdk_wall_us": sdk["wall_us"], "agentops_otel_wall_us": ours["wall_us"]}

    sessions = jobs.get("sessions", {})
    targets: list[dict[str, Any]] = []

    def target(name: str, met: bool | None, detail: str) -> None:
        targets.append({"target": name, "met": met, "detail": detail})

    ours_row = calls.get("agentops_otel")
    if ours_row and "chat_overhead_us" in ours_row:
        for workload in ("chat", "stream"):
            key = f"{workload}_overhead_us"
            peers = {p: calls[p][key] for p in PEERS_AT_DEFAULTS if p in calls}
            if peers:
                cheapest = min(peers, key=lambda p: peers[p])
                target(f"below every peer at defaults ({workload})", ours_row[key] < peers[cheapest],
                       f"ours {ours_row[key]:.1f} us vs cheapest peer {cheapest} {peers[cheapest]:.1f} us")
            else:
                target(f"below every peer at defaults ({workload})", None, "no peer ran")
            ratio = ours_row.get(f"{workload}_ratio_to_floor")
            if ratio is not None:
                label = "non-streaming" if workload == "chat" else "per streamed chunk"
                target(f"<= {MAX_RATIO_TO_FLOOR}x floor ({label})", ratio <= MAX_RATIO_TO_FLOOR, f"{ratio:.2f}x")
    if span:
        target(f"span processor adds <= {MAX_SPAN_PROCESSOR_SHARE:.0%} to a span",
               span["added_share"] <= MAX_SPAN_PROCESSOR_SHARE,
               f"+{span['added_share']:.1%} ({span['added_us']:.2f} us on {span['sdk_us']:.2f} us)")
    if "rss_extra_bytes" in sessions:
        scaled = sessions["rss_per_open_session_bytes"] * OPEN_SESSIONS
        target(f"{OPEN_SESSIONS:,} open sessions < 30 MB", scaled < MAX_OPEN_SESSIONS_BYTES,
               f"{scaled / 2**20:.1f} MB ({sessions['rss_per_open_session_bytes']:.0f} B/session, "
               f"measured at {sessions['open_sessions']:,})")
        before, after = sessions["module_fn_us_before"], sessions["module_fn_us_after"]
        target("module-level functions O(1) in ended sessions", after < 2 * before,
               f"set_tags {before:.2f} us -> {after:.2f} us after {sessions['ended_sessions_between']:,} ended")
    return {"calls": calls, "span": span, "sessions": sessions, "targets": targets,
            "round_by_round": round_by_round(jobs)}


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(report: dict[str, Any]) -> str:
    """The report as a Markdown table (printed, and kept in the README)."""
    lines = [
        "| variant | non-streaming µs/call | overhead µs | x floor | streaming µs/call | overhead µs "
        "| per chunk µs | x floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in CALL_VARIANTS:
        row = report["calls"].get(name)
        if row is None:
            status = report["skipped"].get(f"calls:{name}") or report["failed"].get(f"calls:{name}") or "not run"
            lines.append(f"| {name} | {status} | | | | | | |")
            continue
        lines.append(
            f"| {name} | {_fmt(row['chat_us'])} | {_fmt(row.get('chat_overhead_us'))} "
            f"| {_fmt(row.get('chat_ratio_to_floor'), '.2f')} | {_fmt(row['stream_us'])} "
            f"| {_fmt(row.get('stream_overhead_us'))} | {_fmt(row.get('stream_overhead_per_chunk_us'), '.2f')} "
            f"| {_fmt(row.get('stream_ratio_to_floor'), '.2f')} |"
        )
    lines.append("")
    span, sessions = report["span"], report["sessions"]
    if span:
        lines.append(
            f"Plain user span: {span['sdk_us']:.2f} µs with the SDK alone, {span['agentops_otel_us']:.2f} µs "
            f"inside an agentops_otel session ({span['added_share']:+.1%})."
        )
    if "sessions_per_second" in sessions:
        lines.append(
            f"Sessions: {sessions['sessions_per_second']:,.0f} start+end per second; "
            f"{sessions['open_sessions']:,} open sessions add {sessions['rss_extra_bytes'] / 2**20:.1f} MB RSS "
            f"({sessions['rss_per_open_session_bytes']:.0f} B each); module-level set_tags "
            f"{sessions['module_fn_us_before']:.2f} µs before, {sessions['module_fn_us_after']:.2f} µs after "
            f"{sessions['ended_sessions_between']:,} ended sessions."
        )
    spread = report.get("round_by_round", {})
    parts = []
    for key, label, fmt in (("chat_ratio_to_floor", "non-streaming x floor", "{:.2f}"),
                            ("stream_ratio_to_floor", "streaming x floor", "{:.2f}"),
                            ("span_added_share", "span processor", "{:+.1%}")):
        figures = spread.get(key)
        if figures:
            parts.append(f"{label} {fmt.format(figures['median'])} (middle half of the rounds "
                         f"{fmt.format(figures['q1'])} to {fmt.format(figures['q3'])})")
    if parts:
        rounds = max(figures["rounds"] for figures in spread.values() if figures)
        lines.append(f"Round by round ({rounds} rounds, each comparing processes that ran minutes apart at most): "
                     + "; ".join(parts) + ".")
    lines.append("")
    lines.append("| target | met | measured |")
    lines.append("|---|---|---|")
    for each in report["targets"]:
        met = {True: "yes", False: "**MISSED**", None: "n/a"}[each["met"]]
        lines.append(f"| {each['target']} | {met} | {each['detail']} |")
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> bool:
    """Bar charts of the per-call overheads; ``False`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [(name, row) for name, row in report["calls"].items() if name != "baseline" and "chat_overhead_us" in row]
    names = [name for name, _ in rows]
    colours = ["#2a7ab0" if name.startswith("agentops_otel") else "#999999" if name == "floor" else "#e08a3c"
               for name in names]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5), gridspec_kw={"width_ratios": [3, 3, 1.4]})
    panels = (("chat_overhead_us", "non-streaming: overhead µs/call"),
              ("stream_overhead_us", "streaming (20 chunks + usage): overhead µs/call"))
    for axis, (key, title) in zip(axes[:2], panels, strict=True):
        values = [row[key] for _, row in rows]
        bars = axis.barh(names, values, color=colours)
        axis.bar_label(bars, fmt="%.0f", padding=3, fontsize=8)
        axis.invert_yaxis()
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("µs of CPU per call over baseline")
    span = report["span"]
    if span:
        bars = axes[2].bar(["SDK", "SDK +\nagentops_otel"], [span["sdk_us"], span["agentops_otel_us"]],
                           color=["#999999", "#2a7ab0"])
        axes[2].bar_label(bars, fmt="%.1f", padding=3, fontsize=8)
        axes[2].set_title("a plain user span: µs", fontsize=10)
    else:
        axes[2].set_axis_off()
    m = report["machine"]
    fig.suptitle(f"OpenAI instrumentation overhead (median CPU time) — {m['nproc']} cores, {m['cpu_model']}, "
                 f"Python {m['python']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def update_readme(text: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if not README.exists():
        return
    readme = README.read_text()
    if start not in readme or end not in readme:
        return
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats (make bench-quick)")
    parser.add_argument("--rounds", type=int,
                        help="fresh processes per variant, in turn; the median is over the repeats of all")
    parser.add_argument("--close-rounds", type=int,
                        help=f"rounds for {', '.join(CLOSE_VARIANTS)} and the span jobs (at least --rounds)")
    parser.add_argument("--count", type=int, help="non-streaming calls per timed repeat")
    parser.add_argument("--stream-count", type=int, help="streaming calls per timed repeat")
    parser.add_argument("--repeats", type=int, help="timed repeats per workload (the median is reported)")
    parser.add_argument("--warmup", type=int, help="untimed calls of each kind first")
    parser.add_argument("--session-count", type=int, help="session start+end per timed repeat")
    parser.add_argument("--span-count", type=int, help="user spans per timed repeat")
    parser.add_argument("--open-sessions", type=int, help=f"sessions held open at once (default {OPEN_SESSIONS:,})")
    parser.add_argument("--variants", help="comma-separated call variants to run (default: all)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the jobs (default: this one)")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for results.json and results.png")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run this many jobs at once: only to check that they work, as the timings then "
                             "measure each other (default 1)")
    parser.add_argument("--update-readme", action="store_true", help="put the table into bench/README.md")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    for field in settings.__dataclass_fields__:
        if getattr(args, field) is not None:
            settings = Settings(**{**settings.__dict__, field: getattr(args, field)})
    variants = list(CALL_VARIANTS) if not args.variants else args.variants.split(",")
    for required in ("baseline", "floor"):
        if required not in variants:
            variants.insert(0, required)

    settings.close_rounds = max(settings.rounds, settings.close_rounds)
    started = time.monotonic()
    print(f"bench: {len(variants)} call variants x {settings.rounds} round(s) ({', '.join(CLOSE_VARIANTS)} x "
          f"{settings.close_rounds}), 2 span variants x {settings.close_rounds}, then sessions; "
          "each in its own process", flush=True)
    common = ["--repeats", str(settings.repeats)]
    calls = [
        (f"calls:{name}", [*common, "--count", str(settings.count), "--stream-count", str(settings.stream_count),
                           "--warmup", str(settings.warmup)], CALL_VARIANTS.get(name, {}))
        for name in variants
    ]
    spans = [(f"span:{name}", [*common, "--count", str(settings.span_count)], {}) for name in ("sdk", "agentops_otel")]
    # Each round runs its variants once, in fresh processes, starting one further down the list,
    # so that a slow spell of the machine does not land on one variant's every process.
    planned: list[tuple[str, list[str], dict[str, str], int]] = []
    for round_ in range(max(1, settings.close_rounds)):
        this_round = calls if round_ < settings.rounds else [
            call for call in calls if call[0].removeprefix("calls:") in CLOSE_VARIANTS]
        shift = round_ % len(this_round)
        planned.extend((*job, round_) for job in this_round[shift:] + this_round[:shift])
        planned.extend((*job, round_) for job in (spans if round_ % 2 == 0 else spans[::-1]))
    planned.append(("sessions", [*common, "--count", str(settings.session_count),
                                 "--open-sessions", str(settings.open_sessions)], {}, 0))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda plan: run_job(args.python, *plan), planned))
    jobs: dict[str, dict[str, Any]] = {}
    for (job, _, _, _), result in zip(planned, results, strict=True):
        jobs[job] = merge(jobs[job], result) if job in jobs else result

    report = analyse(jobs)
    report["machine"] = machine(args.python)
    report["settings"] = {**settings.__dict__, "quick": args.quick, "parallel_jobs": args.jobs,
                          "clock": "process CPU time, median over the repeats of all rounds"}
    report["skipped"] = {job: result["skipped"] for job, result in jobs.items() if "skipped" in result}
    report["failed"] = {job: result["error"] for job, result in jobs.items() if "error" in result}
    report["jobs"] = jobs
    report["seconds"] = round(time.monotonic() - started, 1)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    text = table(report)
    m = report["machine"]
    print(f"\n{text}\n\nmachine: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}; "
          f"{report['seconds']} s; medians of {settings.rounds} rounds ({', '.join(CLOSE_VARIANTS)} and spans: "
          f"{settings.close_rounds}) x {settings.repeats} repeats, process CPU time")
    if chart(report, args.out / "results.png"):
        print(f"chart: {args.out / 'results.png'}")
    else:
        print("chart: skipped (matplotlib is not installed in this interpreter)")
    if args.update_readme:
        versions = ", ".join(f"{name} {version}" for name, version in m["packages"].items() if version)
        update_readme(f"{text}\n\nMachine: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}, "
                      f"{time.strftime('%Y-%m-%d', time.gmtime())}; the run took {report['seconds']} s. "
                      f"Versions: {versions}.")
    if report["failed"]:
        print(f"\nFAILED: {', '.join(report['failed'])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
