"""The siphon effect (虹吸): does a tertiary hospital that adds beds draw its catchment away from primary care?

Paired runs (the same seeds, so common random numbers) of the baseline and of the expansion lever
(`levers.expansion`: one tertiary hospital adds `--beds-share` of its beds from `--start-year`),
each with learning off and on (`care.learning.enabled`), for several replications. The indicator is
the share of first contacts at primary care (village clinics and health centres) among the residents
of the hospital's catchment: the cells for which it is the nearest tertiary candidate (by travel
time). Each year's paired difference (expansion − baseline) has a 95% t interval over the
replications; the difference of those differences (learning on − off) says whether learning makes
the expansion draw more patients away.

Usage:
    python experiments/siphon.py --out results/siphon                       # scale 0.2, 4 years, 6 replications
    python experiments/siphon.py --scale 0.1 --years 3 --replications 4 --out results/siphon_small
    python experiments/siphon.py --set levers.response.fill_beds=false --out results/siphon_unfilled

Writes `runs.csv` (one row per run and year), `summary.csv` and `summary.md` into `--out`; each run
is kept in `--out/runs/` as it finishes, so an interrupted experiment resumes where it stopped.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import sim
from sim.model import CareModel, Phase, first_recorded_day, last_day_of_a_recorded_year
from sim.params import TIERS
from sim.rules import is_primary
from sim.runner import atomic_file

LEARNING = {"off": "false", "on": "true"}
SCENARIOS = ("baseline", "expansion")
TERTIARY = TIERS.index("tertiary")


def catchment(model: CareModel, hospital: int) -> np.ndarray:
    """(cells,) the cell's nearest tertiary candidate, by travel time, is `hospital`."""
    cells = model.cells
    tertiary = (cells.candidate_tier == TERTIARY) & (cells.candidates >= 0)
    hours = np.where(tertiary, cells.travel_hours, np.inf)
    nearest = np.take_along_axis(cells.candidates, np.argmin(hours, axis=1)[:, None], axis=1)[:, 0]
    return tertiary.any(axis=1) & (nearest == hospital)


def largest_catchment(model: CareModel) -> int:
    """The tertiary hospital whose catchment has the most residents."""
    residents = np.bincount(model.population.cell, minlength=model.cells.candidates.shape[0])
    hospitals = np.flatnonzero(model.facilities.tier == TERTIARY)
    return int(hospitals[np.argmax([residents[catchment(model, h)].sum() for h in hospitals])])


def first_contacts_by_year(model: CareModel, years: int) -> list[np.ndarray]:
    """Run `years` years; (cells, tiers) first contacts of each recorded year (the warm-up's left out)."""
    snapshots: list[np.ndarray] = []

    def snapshot(m: CareModel) -> None:
        snapshots.append(m.first_contacts_by_cell.copy())

    model.insert_phase(Phase("warm-up contacts", snapshot, first_recorded_day), before="seek care")
    model.insert_phase(Phase("year's contacts", snapshot, last_day_of_a_recorded_year), before="record")
    model.run_years(years)
    return [after - before for before, after in itertools.pairwise(snapshots)]


def one_run(scenario: sim.Scenario, seed: int, area: np.ndarray, years: int) -> pd.DataFrame:
    """Primary share of first contacts, in the catchment and elsewhere, per year of one run."""
    model = CareModel(scenario, seed=seed)
    primary = is_primary(np.arange(len(TIERS)))
    rows = []
    for year, contacts in enumerate(first_contacts_by_year(model, years)):
        row: dict[str, float | int] = {"year": year}
        for name, cells in (("catchment", area), ("elsewhere", ~area)):
            part = contacts[cells]
            row[f"{name}_first_contacts"] = int(part.sum())
            row[f"{name}_primary_share"] = float(part[:, primary].sum() / max(part.sum(), 1))
        rows.append(row)
    return pd.DataFrame(rows)


def paired_interval(d: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences and its 95% t interval."""
    mean = float(d.mean())
    half = float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
    return mean, mean - half, mean + half


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per learning setting and year: baseline and expansion shares, their paired difference; and on − off."""
    wide = runs.pivot_table(
        index=["learning", "seed", "year"], columns="scenario", values="catchment_primary_share"
    ).reset_index()
    wide["diff"] = wide["expansion"] - wide["baseline"]
    rows = []
    for (learning, year), g in wide.groupby(["learning", "year"]):
        d, lo, hi = paired_interval(g["diff"].to_numpy())
        rows.append(
            {"learning": learning, "year": year, "baseline": g["baseline"].mean(),
             "expansion": g["expansion"].mean(), "diff": d, "diff_lo": lo, "diff_hi": hi}
        )  # fmt: skip
    by = wide.pivot_table(index=["seed", "year"], columns="learning", values="diff").reset_index()
    for year, g in by.groupby("year"):
        d, lo, hi = paired_interval((g["on"] - g["off"]).to_numpy())
        rows.append({"learning": "on − off", "year": year, "diff": d, "diff_lo": lo, "diff_hi": hi})
    return pd.DataFrame(rows)


def markdown(summary: pd.DataFrame, header: str) -> str:
    """The summary as a Markdown table (shares in %, differences in percentage points)."""
    lines = [
        header,
        "",
        "| learning | year | baseline | expansion | expansion − baseline (pp) [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        base = f"{100 * r.baseline:.2f}%" if np.isfinite(r.baseline) else ""
        grown = f"{100 * r.expansion:.2f}%" if np.isfinite(r.expansion) else ""
        lines.append(
            f"| {r.learning} | {r.year} | {base} | {grown} | "
            f"{100 * r.diff:+.3f} [{100 * r.diff_lo:+.3f}, {100 * r.diff_hi:+.3f}] |"
        )
    return "\n".join(lines) + "\n"


def check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """One line and exit status 2 for a value out of range."""
    if not 0 < args.scale <= 1:
        parser.exit(2, f"siphon: --scale = {args.scale:g} is invalid: allowed 0 < scale ≤ 1\n")
    if not 0 <= args.start_year < args.years:
        parser.exit(2, f"siphon: --start-year = {args.start_year} is invalid: allowed 0–{args.years - 1} (< --years)\n")
    if not 2 <= args.replications <= 100:
        parser.exit(2, f"siphon: --replications = {args.replications} is invalid: allowed 2–100\n")
    if not 1 <= args.years <= 50:
        parser.exit(2, f"siphon: --years = {args.years} is invalid: allowed 1–50\n")
    for name in ("beds_share", "outpatient_share"):
        value = getattr(args, name)
        if not 0 <= value <= 5:
            parser.exit(2, f"siphon: --{name.replace('_', '-')} = {value:g} is invalid: allowed 0–5\n")
    if args.out.exists() and not args.out.is_dir():
        parser.exit(2, f"siphon: --out {args.out}: is a file; allowed a folder\n")


def main(argv: list[str] | None = None) -> int:
    """Run the paired experiment and write its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2, help="share of the full city (default 0.2)")
    parser.add_argument("--years", type=int, default=4, help="simulated years (default 4)")
    parser.add_argument("--replications", type=int, default=6, help="paired replications (default 6)")
    parser.add_argument("--seed", type=int, default=1, help="first seed; replication i uses seed + i (default 1)")
    parser.add_argument("--start-year", type=int, default=1, help="year the hospital expands (default 1)")
    parser.add_argument("--beds-share", type=float, default=0.2, help="beds added, share (default 0.2)")
    parser.add_argument("--outpatient-share", type=float, default=0.0, help="outpatient capacity added (default 0)")
    parser.add_argument(
        "--facility", type=int, default=None, help="tertiary hospital's index (default: the largest catchment's)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for runs.csv, summary.csv and summary.md")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter in every run (repeatable)"
    )
    args = parser.parse_args(argv)
    check(args, parser)
    common = [f"run.scale={args.scale}", f"run.years={args.years}", *args.set]
    expansion = [
        "levers.expansion.enabled=true",
        f"levers.expansion.start_year={args.start_year}",
        f"levers.expansion.beds_share={args.beds_share}",
        f"levers.expansion.outpatient_share={args.outpatient_share}",
    ]
    try:
        probe = CareModel(sim.load_scenario(overrides=common))
        hospital = largest_catchment(probe) if args.facility is None else args.facility
        scenarios = {
            (learning, name): sim.load_scenario(
                overrides=[
                    *common,
                    f"care.learning.enabled={flag}",
                    *([*expansion, f"levers.expansion.facility={hospital}"] if name == "expansion" else []),
                ]
            )
            for learning, flag in LEARNING.items()
            for name in SCENARIOS
        }
        CareModel(scenarios[("on", "expansion")])  # checks the facility before the runs
    except sim.ScenarioError as exc:
        parser.exit(2, f"siphon: {exc}\n")
    area = catchment(probe, hospital)
    residents = int(np.bincount(probe.population.cell, minlength=area.size)[area].sum())
    settings = {**vars(args), "out": str(args.out), "facility": hospital, "catchment_residents": residents}
    folder = args.out / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    saved = args.out / "settings.json"
    if saved.exists() and json.loads(saved.read_text(encoding="utf-8")) != settings:
        parser.exit(2, f"siphon: --out {args.out}: holds runs of other settings; allowed an empty or matching folder\n")
    with atomic_file(saved) as tmp:
        tmp.write_text(json.dumps(settings, indent=2), encoding="utf-8")

    frames = []
    for r in range(args.replications):
        seed = args.seed + r
        for (learning, name), scenario in scenarios.items():
            path = folder / f"{learning}_{name}_{seed}.csv"
            if not path.exists():
                started = time.perf_counter()
                table = one_run(scenario, seed, area, args.years)
                with atomic_file(path) as tmp:
                    table.to_csv(tmp, index=False)
                print(f"siphon: learning {learning}, {name}, seed {seed}: {time.perf_counter() - started:.1f} s",
                      file=sys.stderr)  # fmt: skip
            table = pd.read_csv(path)
            frames.append(table.assign(learning=learning, scenario=name, seed=seed))
    runs = pd.concat(frames, ignore_index=True)
    summary = summarise(runs)
    header = (
        f"Catchment of {probe.region.facility_name[hospital]} (facility {hospital}; {int(area.sum())} cells, "
        f"{residents:,} residents, "
        f"nearest tertiary candidate): primary share of first contacts. Scale {args.scale:g}, {args.years} years, "
        f"{args.replications} paired replications (seeds {args.seed}–{args.seed + args.replications - 1}); "
        f"expansion from year {args.start_year}: beds +{args.beds_share:g}, outpatient capacity "
        f"+{args.outpatient_share:g}."
    )
    text = markdown(summary, header)
    for name, write in (
        ("runs.csv", lambda p: runs.to_csv(p, index=False)),
        ("summary.csv", lambda p: summary.to_csv(p, index=False)),
        ("summary.md", lambda p: p.write_text(text, encoding="utf-8")),
    ):
        with atomic_file(args.out / name) as tmp:
            write(tmp)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
