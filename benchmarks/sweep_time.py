"""Wall time of a research sweep: N runs of a 100,000-resident region over 5 years, on local processes.

Usage:
    python benchmarks/sweep_time.py                         # 1,000 runs, 2 workers (the 600 s target)
    python benchmarks/sweep_time.py --runs 40 --record bench-log.md

The sweep is `tiersim sweep` on a Latin hypercube over four lever settings (reserved-bed share,
tertiary start-line, budget growth, signing target, with those levers on) at `run.scale=0.04`
(100,000 residents), 5 years, one replication per point, run in a child process exactly as a user
runs it. The figure is the wall time of the whole command (process start, every run, the store,
summary.csv and sweep.html); per-run times come from the store. With `--runs` below 1,000 the
1,000-run time is extrapolated from the runs' throughput, and the table says so.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_time import machine, report

from sim.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
TARGET_RUNS, TARGET_SECONDS = 1000, 600

EXPERIMENT = """
name = "benchmark"
set = ["run.scale={scale}", "run.years={years}", "levers.reserved_beds.enabled=true",
       "levers.start_line.enabled=true", "levers.global_budget.enabled=true", "levers.family_doctor.enabled=true"]
design = "latin_hypercube"
samples = {runs}
seed = 1

[parameters."levers.reserved_beds.share"]
low = 0.0
high = 0.3

[parameters."levers.start_line.resident.inpatient_start_line.tertiary"]
low = 1000
high = 4000

[parameters."levers.global_budget.growth"]
low = 0.0
high = 0.1

[parameters."levers.family_doctor.target.all"]
low = 0.3
high = 0.8
"""


def measure(runs: int, workers: int, scale: float, years: int) -> tuple[float, float, int]:
    """(wall seconds of the command, mean seconds per run inside workers, failed runs)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark.toml"
        path.write_text(EXPERIMENT.format(runs=runs, scale=scale, years=years), encoding="utf-8")
        out = Path(folder) / "out"
        command = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--quiet"]
        started = time.perf_counter()
        subprocess.run([*command, "--workers", str(workers)], cwd=ROOT, check=True)
        wall = time.perf_counter() - started
        store = RunStore(out)
        per_run = float(store.timings()["seconds"].mean())
        failed = int((store.read().status != "ok").sum())
    return wall, per_run, failed


def main() -> None:
    """Measure, print and optionally record."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=TARGET_RUNS)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scale", type=float, default=0.04)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = p.parse_args()
    wall, per_run, failed = measure(args.runs, args.workers, args.scale, args.years)
    projected = wall * TARGET_RUNS / args.runs
    verdict = "meets" if projected < TARGET_SECONDS else "misses"
    how = "measured" if args.runs == TARGET_RUNS else f"extrapolated from {args.runs} runs"
    lines = [
        f"### `tiersim sweep`, {args.runs} runs × {args.scale * 2_500_000:,.0f} residents × {args.years} years, "
        f"{args.workers} workers — {machine()}",
        "",
        "| runs | wall time (s) | mean time per run in a worker (s) | runs per minute | 1,000 runs (s) | failed |",
        "|---|---|---|---|---|---|",
        f"| {args.runs} | {wall:.1f} | {per_run:.2f} | {60 * args.runs / wall:.1f} | {projected:.0f} ({how}; "
        f"{verdict} the {TARGET_SECONDS} s target) | {failed} |",
    ]
    report("\n".join(lines) + "\n", args.record)


if __name__ == "__main__":
    main()
