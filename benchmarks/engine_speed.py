"""Episodes and resident-days per second of the array and the reference engine, side by side.

Usage:
    python benchmarks/engine_speed.py                                # 20,000 residents, 1 year
    python benchmarks/engine_speed.py --record bench-log.md        # also append the table to a log

Both engines run the baseline scenario at the same scale (`run.scale=0.008`: 20,000 residents) and
seed in this one process, one after the other. Each model is built and run through its warm-up
untimed; then `run_years(years)` is timed: episodes per second count the episodes of the timed
days, resident-days per second the residents times those days. The array engine is timed
`--repeat` times (a fresh model each time) and the fastest kept, since one of its runs takes about
a second and the machine is shared; the reference engine once. The two runs' daily tables must be
identical, and the table says so.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from run_time import machine, report

import sim
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR
from sim.reference import reference_model


def measure(build: Callable[..., CareModel], scenario: sim.Scenario, years: int) -> tuple[float, CareModel]:
    """(seconds, model) of `years` simulated years after an untimed build and warm-up."""
    model = build(scenario)
    model.run_years(0)  # the warm-up
    started = time.perf_counter()
    model.run_years(years)
    return time.perf_counter() - started, model


def main() -> None:
    """Measure both engines and print (and optionally record) the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=0.008, help="run.scale (default 0.008: 20,000 residents)")
    p.add_argument("--years", type=int, default=1, help="timed simulated years (default 1)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of the array engine; the fastest is kept")
    p.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = p.parse_args()
    scenario = sim.load_scenario(overrides=[f"run.scale={args.scale}", f"run.years={args.years}"])
    array_seconds, array = min(
        (measure(CareModel, scenario, args.years) for _ in range(args.repeat)), key=lambda run: run[0]
    )
    reference_seconds, reference = measure(reference_model, scenario, args.years)
    identical = array.recorder.daily().equals(reference.recorder.daily())

    residents = len(array.population)
    episodes = int(array.recorder.daily()["episodes"].sum())
    resident_days = residents * DAYS_PER_YEAR * args.years
    lines = [
        f"### Engines, baseline, {residents:,} residents × {args.years} year(s) — {machine()}",
        "",
        "| engine | wall time (s) | episodes | episodes per second | resident-days per second |",
        "|---|---|---|---|---|",
    ]
    for name, seconds in ((f"array (fastest of {args.repeat})", array_seconds), ("reference", reference_seconds)):
        lines.append(
            f"| {name} | {seconds:.2f} | {episodes:,} | {episodes / seconds:,.0f} | {resident_days / seconds:,.0f} |"
        )
    lines += [
        "",
        f"Array engine / reference engine, per resident-day: {reference_seconds / array_seconds:.0f}×. "
        f"Daily tables identical: {'yes' if identical else 'NO'}.",
    ]
    report("\n".join(lines) + "\n", args.record)


if __name__ == "__main__":
    main()
