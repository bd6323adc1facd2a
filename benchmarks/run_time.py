"""Wall time and peak memory of `tiersim run` at several scales, each in its own process: the scaling curve.

Usage:
    python benchmarks/run_time.py        # 10k, 100k, 1M and 2.5M residents (scales 0.004 0.04 0.4 1), 5 years
    python benchmarks/run_time.py --scales 0.2 --years 5 --record bench-log.md
    python benchmarks/run_time.py --scales 1 --repeat 3    # the median of three runs, and their range

Each run is a fresh `python -m sim.cli run ... --quiet --no-report` child process; peak memory is
the child's maximum resident set size, and its system CPU time is shown (on the benchmark machine,
a virtual machine, it is mostly the page faults of memory touched for the first time, ≈10 ms per
MiB: see docs/performance.md). Figures are printed as a Markdown table and, with `--record FILE`,
appended to FILE with the machine, date and commit (docs/performance.md keeps the current figure
of each target). The targets are checked below the table: the full city (scale 1) in at most 30 s
and 2 GiB, and cost linear in residents (the 2.5M run at most 30× the 100k run's time, for 25× the
residents). On a shared
machine one run's time can be 15% off the next's: `--repeat N` runs each scale N times (one after
another, each in its own process) and reports the median wall time and the range.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from sim.provenance import code_version

ROOT = Path(__file__).resolve().parents[1]


class Run(NamedTuple):
    """One run's figures."""

    wall: float
    system: float  # CPU seconds in the kernel: on a virtual machine, mostly first touches of memory
    peak: float  # MiB
    residents: int


def measure(scale: float, years: int) -> Run:
    """One run in a child process."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sim.cli",
                "run",
                "--scale",
                str(scale),
                "--years",
                str(years),
                "--quiet",
                "--no-report",
                "--out",
                f"{out}/r",
            ],
            cwd=ROOT,
            check=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        residents = json.loads(Path(f"{out}/r/summary.json").read_text())["residents"]
    # ru_maxrss of children is the largest child so far: measure scales in increasing order.
    return Run(wall, after.ru_stime - before.ru_stime, max(after.ru_maxrss, before.ru_maxrss) / 1024, residents)


def machine() -> str:
    """One line describing where the figures were taken."""
    return f"{dt.date.today()}, commit {code_version()}, {host()}"


def host() -> str:
    """The processor, cores and Python the figures were taken with (without date and commit)."""
    return f"{_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _cpu() -> str:
    """The processor's model name where Linux tells it (hosts of one machine kind differ), else its architecture."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{platform.machine()} {line.split(':', 1)[1].strip()}"
    return platform.processor() or platform.machine()


def main() -> None:
    """Measure and print (and optionally record) the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.004, 0.04, 0.4, 1.0])
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--repeat", type=int, default=1, help="runs per scale; the table gives their median")
    p.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = p.parse_args()
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1, got {args.repeat}")
    spread = args.repeat > 1
    lines = [
        f"### `tiersim run`, {args.years} years — {machine()}",
        "",
        f"| scale | residents | wall time (s){', median of ' + str(args.repeat) + ' (range)' if spread else ''} "
        "| of it system time (s) | peak memory (MiB) | resident-days per second |",
        "|---|---|---|---|---|---|",
    ]
    walls: dict[float, tuple[float, float]] = {}
    for scale in sorted(args.scales):
        runs = [measure(scale, args.years) for _ in range(args.repeat)]
        wall, system = statistics.median(r.wall for r in runs), statistics.median(r.system for r in runs)
        peak, residents = max(r.peak for r in runs), runs[0].residents
        walls[scale] = wall, peak
        rate = residents * 365 * args.years / wall
        shown = (
            f"{wall:.1f} ({min(r.wall for r in runs):.1f}–{max(r.wall for r in runs):.1f})" if spread else f"{wall:.1f}"
        )
        lines.append(f"| {scale:g} | {residents:,} | {shown} | {system:.1f} | {peak:,.0f} | {rate:,.0f} |")
        print(lines[-1], flush=True)
    lines.append("")
    if 1.0 in walls:
        wall, peak = walls[1.0]
        met = "met" if wall <= 30 and peak <= 2048 else "not met"
        lines.append(f"Full city: {wall:.1f} s and {peak:,.0f} MiB against ≤ 30 s and ≤ 2,048 MiB ({met}).")
    if 1.0 in walls and 0.04 in walls:
        ratio = walls[1.0][0] / walls[0.04][0]
        met = "met" if ratio <= 30 else "not met"
        lines.append(f"2.5M / 100k residents: {ratio:.1f}× the time for 25× the residents (≤ 30×: {met}).")
    report("\n".join(lines) + "\n", args.record)


def report(table: str, record: Path | None) -> None:
    """Print a Markdown table and, if `record` is given, append it to that file."""
    print(table)
    if record:
        with record.open("a", encoding="utf-8") as fh:
            fh.write("\n" + table)


if __name__ == "__main__":
    main()
