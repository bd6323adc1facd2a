"""Run the baseline and every other scenario with the same seed, and tabulate each one's effects.

Every scenario file in `scenarios/` is run with the same seed, scale and number of years as
`scenarios/baseline.toml` (common random numbers: the same residents, the same illness episodes
and the same keyed draws), so a difference from the baseline is the scenario's effect and not
sampling noise. For each scenario the script prints a Markdown table of the indicators below —
final-year value and a whole-run value (mean of the yearly values, or the sum for counts) —
beside the baseline's, with the difference. An overview table of the headline indicators of all
scenarios comes first. The tables are pasted into docs/levers.md; rerun this script to regenerate
them:

    python experiments/lever_effects.py [--scale F] [--years N] [--seed S] [--out FILE.md]
    python experiments/lever_effects.py --variants [--scale F] [--years N] [--seed S] [--out FILE.md]

With `--variants` it runs, instead of the scenario files, the baseline and the lever variants of
`VARIANTS`: levers no scenario file switches on (per-diem, DRG) and the sensitivity sweep of the
reserved-bed assumptions (share of beds, release rule, outpatient priority), each a scenario file
with `--set`-style overrides.

Indicator definitions are those of `sim.metrics` (`metrics.DEFINITIONS`). Levers start in year 1
in every scenario file (the global budget of liaocheng_2024 in year 2), so year 0 of each run is
identical to the baseline's; the script checks this and warns on stderr if it is not.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import sim
from sim.parameters.prices import COMPONENTS
from sim.paths import check_output
from sim.provenance import code_version

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"


@dataclass(frozen=True)
class Indicator:
    """One row of a scenario's table.

    Attributes:
        column: Column of the annual table (`Results.annual`).
        kind: How values and differences are formatted: "share", "days", "count" or "yuan".
        final: Whether the final-year value is shown.
        run: How the whole-run value is made: "mean" (of the yearly values), "mean1" (of years
            1..N-1, for year-on-year indicators that are undefined in year 0), "sum", or "" (none).
    """

    column: str
    kind: str
    final: bool = True
    run: str = "mean"


INDICATORS = (
    Indicator("primary_visit_share", "share"),
    Indicator("medical_revenue_growth", "share", run="mean1"),
    Indicator("revenue_structure_service", "share", run=""),
    Indicator("revenue_structure_drugs", "share", run=""),
    Indicator("revenue_structure_consumables", "share", run=""),
    Indicator("revenue_structure_tests", "share", run=""),
    Indicator("oop_share", "share"),
    Indicator("fund_balance", "yuan", run=""),
    Indicator("bed_occupancy_tertiary", "share"),
    Indicator("lead_referral_wait_days", "days"),
    Indicator("chronic_admissions", "count", run="sum"),
    Indicator("signing_rate", "share", run=""),
    Indicator("in_county_rate", "share"),
    Indicator("referrals_up", "count", run="sum"),
    Indicator("referrals_down", "count", run="sum"),
    Indicator("transfers_up", "count", run="sum"),
    Indicator("unmet_episodes", "count", run="sum"),
)
"""The indicators of each scenario's table, in order."""

OVERVIEW = (
    ("primary share, final", "primary_visit_share", "final", "share"),
    ("revenue growth, mean yr 1–N−1", "medical_revenue_growth", "mean1", "share"),
    ("service : drugs : consumables : tests, final", "revenue_structure", "final", "structure"),
    ("OOP share, final", "oop_share", "final", "share"),
    ("fund balance, final (¥ m)", "fund_balance", "final", "yuan"),
    ("lead-referral wait, mean (days)", "lead_referral_wait_days", "mean", "days"),
    ("signing, final", "signing_rate", "final", "share"),
    ("unmet episodes, sum", "unmet_episodes", "sum", "count"),
)
"""Columns of the overview table: label, annual-table column, statistic, format."""


@dataclass(frozen=True)
class Variant:
    """A scenario file with overrides, run by `--variants`.

    Attributes:
        name: Name in the tables.
        file: Scenario file name in `scenarios/`.
        overrides: `dotted.key=value` overrides (as `tiersim run --set`).
        description: What the variant changes.
    """

    name: str
    file: str
    overrides: tuple[str, ...]
    description: str


VARIANTS = (
    Variant(
        "per_diem",
        "baseline.toml",
        ("levers.per_diem.enabled=true",),
        "Per-diem payment (按床日付费) of chronic patients' stays from year 1 at the default rates "
        "([yangjiang-consortia-2017]).",
    ),
    Variant(
        "drg",
        "baseline.toml",
        ("levers.drg.enabled=true",),
        "Per-case payment of every completed stay by tier × severity group from year 1, priced at the mean bill "
        "of the group's completed stays in year 0 (price factor 1); stays cut short by a transfer up are billed "
        "item by item.",
    ),
    Variant(
        "reserved_beds_share_0.05",
        "reserved_beds.toml",
        ("levers.reserved_beds.share=0.05",),
        "reserved_beds.toml with 5% of lead hospitals' beds reserved (sweep of an assumption).",
    ),
    Variant(
        "reserved_beds_share_0.20",
        "reserved_beds.toml",
        ("levers.reserved_beds.share=0.2",),
        "reserved_beds.toml with 20% of lead hospitals' beds reserved (sweep of an assumption).",
    ),
    Variant(
        "reserved_beds_release_0",
        "reserved_beds.toml",
        ("levers.reserved_beds.release_after_days=0",),
        "reserved_beds.toml with release_after_days = 0: no bed is ever held, only the priority rules act.",
    ),
    Variant(
        "reserved_beds_release_365",
        "reserved_beds.toml",
        ("levers.reserved_beds.release_after_days=365",),
        "reserved_beds.toml with release_after_days = 365: reserved beds are held even when left idle.",
    ),
    Variant(
        "reserved_beds_no_priority",
        "reserved_beds.toml",
        ("levers.reserved_beds.priority=false",),
        "reserved_beds.toml without outpatient priority (admission order still favours qualifying patients).",
    ),
)
"""Lever variants run by `--variants`: levers no scenario file uses, and the reserved-bed sweep."""

YEAR0_CHECK = ("primary_visit_share", "visits", "admissions", "medical_revenue", "unmet_episodes")
"""Year-0 columns that must equal the baseline's when no lever acts in year 0 (common random numbers)."""


def scenario_files(folder: Path = SCENARIOS) -> list[Path]:
    """The policy packages' files: the baseline first, then the others in name order.

    The backtest files (`backtest_*.toml`) are left out: they set the region to another year's
    conditions, so they are not packages to compare with today's baseline.
    """
    others = sorted(
        p for p in folder.glob("*.toml") if p.resolve() != BASELINE.resolve() and not p.name.startswith("backtest_")
    )
    return [BASELINE, *others]


def statistic(annual: pd.DataFrame, column: str, how: str) -> float:
    """A value of an annual-table column: "final" year, "mean" of years, "mean1" of years 1..N-1, or "sum"."""
    values = annual[column].astype(float)
    if how == "final":
        return float(values.iloc[-1])
    if how == "mean":
        return float(values.mean())
    if how == "mean1":
        return float(values.iloc[1:].mean()) if len(values) > 1 else float("nan")
    if how == "sum":
        return float(values.sum())
    raise ValueError(f"unknown statistic {how!r}")


def fmt(value: float, kind: str) -> str:
    """Format a value (— where it is missing)."""
    if value is None or not math.isfinite(value):
        return "—"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "days":
        return f"{value:.2f}"
    if kind == "yuan":
        return f"{value / 1e6:,.1f} m"
    return f"{value:,.0f}"


def fmt_diff(value: float, base: float, kind: str) -> str:
    """Format scenario − baseline: points for shares, days, ¥ million, counts with the relative change."""
    if not (math.isfinite(value) and math.isfinite(base)):
        return "—"
    diff = value - base
    if kind == "share":
        return f"{100 * diff:+.1f} pp"
    if kind == "days":
        return f"{diff:+.2f}"
    if kind == "yuan":
        return f"{diff / 1e6:+,.1f} m"
    relative = f" ({100 * diff / base:+.1f}%)" if base else ""
    return f"{diff:+,.0f}{relative}"


def _run_label(how: str, years: int) -> str:
    return {"mean": f"mean yr 0–{years - 1}", "mean1": f"mean yr 1–{years - 1}", "sum": f"sum yr 0–{years - 1}"}[how]


def scenario_table(annual: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    """Markdown lines of one scenario's table against the baseline.

    Args:
        annual: The scenario's annual table.
        base: The baseline's annual table (same seed, scale and years).

    Returns:
        The table's lines.
    """
    years = len(annual)
    final_year = int(annual["calendar_year"].iloc[-1])
    lines = [
        f"| indicator | baseline {final_year} | scenario {final_year} | Δ {final_year} "
        "| whole run | baseline | scenario | Δ |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for ind in INDICATORS:
        cells = [f"`{ind.column}`"]
        if ind.final:
            b, s = statistic(base, ind.column, "final"), statistic(annual, ind.column, "final")
            cells += [fmt(b, ind.kind), fmt(s, ind.kind), fmt_diff(s, b, ind.kind)]
        else:
            cells += ["", "", ""]
        if ind.run:
            b, s = statistic(base, ind.column, ind.run), statistic(annual, ind.column, ind.run)
            cells += [_run_label(ind.run, years), fmt(b, ind.kind), fmt(s, ind.kind), fmt_diff(s, b, ind.kind)]
        else:
            cells += ["", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def overview_table(runs: dict[str, pd.DataFrame]) -> list[str]:
    """Markdown lines of the headline indicators of every scenario, one row each."""
    lines = ["| scenario | " + " | ".join(label for label, _, _, _ in OVERVIEW) + " |"]
    lines.append("|---|" + "---:|" * len(OVERVIEW))
    for name, annual in runs.items():
        cells = []
        for _, column, how, kind in OVERVIEW:
            if kind == "structure":
                parts = [statistic(annual, f"revenue_structure_{c}", how) for c in COMPONENTS]
                cells.append(" : ".join(f"{100 * p:.0f}" for p in parts))
            else:
                cells.append(fmt(statistic(annual, column, how), kind))
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return lines


def year0_differences(annual: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    """Year-0 columns in which a run differs from the baseline (expected: none, levers start later)."""
    out = []
    for column in YEAR0_CHECK:
        a, b = float(annual[column].iloc[0]), float(base[column].iloc[0])
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            out.append(f"{column} {a:g} vs {b:g}")
    return out


def command_line(scale: float, years: int, seed: int, variants: bool = False) -> str:
    """The command that regenerates the tables (defaults left out)."""
    command = "python experiments/lever_effects.py" + (" --variants" if variants else "")
    if scale != 0.2:
        command += f" --scale {scale:g}"
    if years != 5:
        command += f" --years {years}"
    if seed != 1:
        command += f" --seed {seed}"
    return command


ENSEMBLE = (
    ("primary share", "primary_visit_share", "share"),
    ("revenue growth", "medical_revenue_growth", "share"),
    ("OOP share", "oop_share", "share"),
    ("in-county admissions", "in_county_rate", "share"),
    ("fund balance (¥ m)", "fund_balance", "yuan"),
)
"""Rows of the ensemble table: label, indicator, format (final-year paired differences)."""


def ensemble_table(scenarios: list[sim.Scenario], draws: int, seed: int) -> list[str]:
    """Final-year differences from the baseline with 95% intervals: default parameters vs the posterior.

    Both columns run `draws` replications of every scenario with seeds seed…seed+draws−1 (common
    random numbers); in the second, replication i of every scenario also takes posterior parameter
    set i (`sim.posterior`), so its interval holds parameter uncertainty as well as run noise.
    """
    from sim.comparison import compare
    from sim.posterior import parameter_draws

    sets = parameter_draws(draws, None, draws, seed)
    runs = {
        "default": compare(scenarios, replications=draws, seed=seed, workers=os.cpu_count() or 1).summary,
        "ensemble": compare(
            scenarios, replications=draws, seed=seed, workers=os.cpu_count() or 1, parameter_draws=sets
        ).summary,
    }

    def cell(summary: pd.DataFrame, name: str, column: str, kind: str) -> str:
        row = summary[(summary.scenario == name) & (summary.indicator == column)]
        row = row[row.year == row.year.max()].iloc[0]
        scale, unit = (100, " pp") if kind == "share" else (1e-6, " m")
        return f"{row['diff'] * scale:+.1f}{unit} [{row.diff_lo * scale:+.1f}, {row.diff_hi * scale:+.1f}]"

    lines = [
        "| scenario | indicator | Δ, default parameters | Δ, calibrated ensemble |",
        "|---|---|---:|---:|",
    ]
    for scenario in scenarios[1:]:
        for label, column, kind in ENSEMBLE:
            default, ensemble = (cell(runs[k], scenario.name, column, kind) for k in ("default", "ensemble"))
            lines.append(f"| `{scenario.name}` | {label} | {default} | {ensemble} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run every scenario against the baseline and print (and optionally write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2, help="share of the full city (default 0.2)")
    parser.add_argument("--years", type=int, default=5, help="simulated years (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed, the same for every scenario (default 1)")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown to this file")
    parser.add_argument(
        "--variants", action="store_true", help="run the baseline and the lever variants instead of the files"
    )
    parser.add_argument(
        "--parameter-draws",
        type=int,
        metavar="N",
        help="instead of the tables: final-year differences with 95%% intervals over N seeds, at the default "
        "parameters and with N draws of the posterior ensemble (sim/data/posterior.csv)",
    )
    args = parser.parse_args(argv)
    if args.years < 2:
        parser.exit(2, "lever_effects: --years must be at least 2 (revenue growth needs two years)\n")
    if args.out is not None:
        try:
            check_output(args.out, folder=False)  # before the runs, which take minutes
        except sim.ScenarioError as exc:
            parser.exit(2, f"lever_effects: {exc}\n")

    version = code_version()  # before the runs: the code they import is the code of this moment
    overrides = [f"run.scale={args.scale}", f"run.years={args.years}", f"run.seed={args.seed}"]
    if args.variants:
        jobs = [("baseline", BASELINE, ())] + [(v.name, SCENARIOS / v.file, v.overrides) for v in VARIANTS]
    else:
        jobs = [(path.stem, path, ()) for path in scenario_files()]
    try:
        scenarios = [sim.load_scenario(path, [*overrides, *extra]) for _, path, extra in jobs]
    except sim.ScenarioError as exc:
        parser.exit(2, f"lever_effects: {exc}\n")

    if args.parameter_draws is not None:
        try:
            lines = ensemble_table(scenarios, args.parameter_draws, args.seed)
        except sim.ScenarioError as exc:
            parser.exit(2, f"lever_effects: {exc}\n")
        head = (
            f"Scale {args.scale:g}, {args.years} simulated years, final year; {args.parameter_draws} paired "
            f"replications (seeds {args.seed}–{args.seed + args.parameter_draws - 1}). Code: {version}.\n\n"
            f"Regenerate with: `{command_line(args.scale, args.years, args.seed, False)}"
            f" --parameter-draws {args.parameter_draws}`\n\n"
        )
        text = head + "\n".join(lines) + "\n"
        print(text, end="")
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
        return 0

    runs: dict[str, pd.DataFrame] = {}
    descriptions: dict[str, tuple[str, str]] = {}
    residents = 0
    variant_text = {v.name: v.description for v in VARIANTS}
    for i, ((name, path, extra), scenario) in enumerate(zip(jobs, scenarios, strict=True), start=1):
        started = time.perf_counter()
        results = sim.run(scenario, seed=args.seed, years=args.years)
        runs[name] = results.annual
        source = " ".join([path.name, *(f"--set {o}" for o in extra)])
        descriptions[name] = (source, variant_text.get(name, scenario.description))
        residents = int(results.summary["residents"])
        print(f"lever_effects: [{i}/{len(jobs)}] {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    names = list(runs)
    base = runs[names[0]]
    for name in names[1:]:
        differences = year0_differences(runs[name], base)
        if differences:
            print(f"lever_effects: warning: {name} differs from the baseline in year 0: {differences}", file=sys.stderr)

    first, last = int(base["calendar_year"].iloc[0]), int(base["calendar_year"].iloc[-1])
    lines = [
        f"Scale {args.scale:g} ({residents:,} residents), seed {args.seed}, {args.years} simulated years "
        f"({first}–{last}); every scenario is run with the same seed (common random numbers). Code: {version}.",
        "",
        f"Regenerate with: `{command_line(args.scale, args.years, args.seed, args.variants)}`",
        "",
        "### Overview",
        "",
        *overview_table(runs),
    ]
    for name in names[1:]:
        source, description = descriptions[name]
        lines += ["", f"### `{name}` ({source}) vs baseline", "", description, "", *scenario_table(runs[name], base)]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
