"""Wall time and peak memory of `tiersim run` on the province at 2.5, 10 and 40 million residents.

Usage:
    python benchmarks/province_scaling.py                         # 2.5M, 10M, the whole province; 5 years
    python benchmarks/province_scaling.py --residents 2.5e6 10e6 --years 1 --record bench-log.md
    python benchmarks/province_scaling.py --folder my_province    # a province written before (kept)

The province (`tiersim region init --province`: 9 cities, 38.6 million residents) is written once
into a temporary folder, unless `--folder` names one; each size is the province run at the scale
that gives it (`--scale residents / province residents`: the same map and candidates, capacity in
proportion), each run a fresh `python -m sim.cli run --region ... --quiet --no-report` child
process. Peak memory is that child's maximum resident set size (`os.wait4`). The table gives
residents, wall time and peak memory, each per million residents, so that linear cost shows as
constant columns; `--record FILE` appends it to FILE with the machine, date and commit.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the commit recorded is this checkout's, not that of an installed tiersim

from run_time import machine, report  # noqa: E402


def tiersim(*args: str) -> subprocess.Popen:
    """A `python -m sim.cli` child process started from the repository root."""
    return subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=ROOT)


def measure(folder: Path, scale: float, years: int) -> tuple[int, float, float]:
    """Residents, wall time (s) and peak memory (MiB) of one run in a child process."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        child = tiersim(
            "run", "--region", str(folder), "--scale", repr(scale), "--years", str(years), "--quiet", "--no-report",
            "--out", f"{out}/r",
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"province_scaling: the run at scale {scale} failed (exit status {child.returncode})")
        residents = json.loads(Path(f"{out}/r/summary.json").read_text())["residents"]
    return residents, wall, usage.ru_maxrss / 1024


def province_residents(folder: Path) -> int:
    """Residents of a province folder: its areas' residents added up, as `region.at_scale` does."""
    with (folder / "areas.csv").open(encoding="utf-8-sig", newline="") as f:
        return round(sum(float(row["residents"]) for row in csv.DictReader(f)))


def main() -> None:
    """Write the province if needed, measure each size and print (and optionally record) the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--residents", type=float, nargs="+", default=[2.5e6, 10e6, 0], help="sizes; 0: the whole province")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--folder", type=Path, help="a province folder to run (default: one written for this run)")
    p.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder
        if folder is None:
            folder = Path(scratch) / "province"
            if tiersim("region", "init", "--province", str(folder)).wait() != 0:
                sys.exit("province_scaling: tiersim region init --province failed")
        total = province_residents(folder)
        lines = [
            f"### `tiersim run --region` (the province), {args.years} years — {machine()}",
            "",
            "| residents | scale | wall time (s) | peak memory (MiB) | s per million | MiB per million |",
            "|---|---|---|---|---|---|",
        ]
        for size in sorted(args.residents, key=lambda r: r or total):
            scale = min(1.0, (size or total) / total)
            residents, wall, peak = measure(folder, scale, args.years)
            per = residents / 1e6
            lines.append(
                f"| {residents:,} | {scale:.4g} | {wall:.1f} | {peak:,.0f} | {wall / per:.1f} | {peak / per:,.0f} |"
            )
            print(lines[-1], flush=True)
    report("\n".join(lines) + "\n", args.record)


if __name__ == "__main__":
    main()
