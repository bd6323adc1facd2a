"""Wall time and peak memory of `tiersim run` at several scales, each in its own process.

Usage:
    python benchmarks/run_time.py                     # scales 0.02 0.2 1.0, 5 years
    python benchmarks/run_time.py --scales 0.2 --years 5 --record docs/performance.md

Each run is a fresh `python -m sim.cli run ... --quiet --no-report` child process; peak memory is
the child's maximum resident set size. Figures are printed as a Markdown table and, with
`--record`, appended to the performance log with the machine, date and commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.provenance import code_version

ROOT = Path(__file__).resolve().parents[1]


def measure(scale: float, years: int) -> tuple[float, float, int]:
    """(wall seconds, peak MiB, residents) of one run in a child process."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
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
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        residents = json.loads(Path(f"{out}/r/summary.json").read_text())["residents"]
    # ru_maxrss of children is the largest child so far: measure scales in increasing order.
    return wall, max(peak, before) / 1024, residents


def machine() -> str:
    """One line describing where the figures were taken."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{dt.date.today()}, commit {code_version()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def main() -> None:
    """Measure and print (and optionally record) the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.02, 0.2, 1.0])
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = p.parse_args()
    lines = [
        f"### `tiersim run`, {args.years} years — {machine()}",
        "",
        "| scale | residents | wall time (s) | peak memory (MiB) | resident-days per second |",
        "|---|---|---|---|---|",
    ]
    for scale in sorted(args.scales):
        wall, peak, residents = measure(scale, args.years)
        rate = residents * 365 * args.years / wall
        lines.append(f"| {scale:g} | {residents:,} | {wall:.1f} | {peak:,.0f} | {rate:,.0f} |")
        print(lines[-1], flush=True)
    report("\n".join(lines) + "\n", args.record)


def report(table: str, record: Path | None) -> None:
    """Print a Markdown table and, if `record` is given, append it to that file."""
    print(table)
    if record:
        with record.open("a", encoding="utf-8") as fh:
            fh.write("\n" + table)


if __name__ == "__main__":
    main()
