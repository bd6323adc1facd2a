"""Run the baseline and compare it with the published national figures in `sim/data/published.toml`.

Prints a Markdown table "simulated vs published" (figure, published value and year, source,
simulated value in the first simulated year, note), a second table of the policy targets the
baseline is measured against and, with `--years N` (N ≥ 2), a table of the baseline's yearly
trend. With `--scales F1,F2,...` it instead runs the baseline at each scale and prints one row of
headline indicators per scale (the scale-invariance check). The tables are pasted into docs/ODD.md
("Calibration: simulated vs published"); rerun this script to regenerate them:

    python experiments/baseline_vs_published.py [--scale F] [--years N] [--seed S] [--out FILE.md]
    python experiments/baseline_vs_published.py --scales 0.02,0.2,1 [--years N] [--seed S]

Indicator definitions are those of `sim.metrics`; published figures come from `sim.data.figure`.
Rows marked "(input)" compare a parameter, not a model output, with its published counterpart.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim import data, population, region
from sim.config import Scenario
from sim.parameters.illness import DAYS_PER_YEAR
from sim.params import TIERS
from sim.paths import check_output
from sim.provenance import code_version

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = REPO / "scenarios" / "baseline.toml"
HOSPITALS = ("secondary", "tertiary")


@dataclass(frozen=True)
class Context:
    """What a row needs to compute its simulated value.

    Attributes:
        row: The first simulated year of the annual table (`Results.annual`).
        later: The second simulated year, if the run had one (for year-on-year indicators).
        results: The run's results.
        scenario: The scenario that was run.
        people: The run's residents (rebuilt from the same seed; draws are keyed, so identical).
    """

    row: pd.Series
    later: pd.Series | None
    results: sim.Results
    scenario: Scenario
    people: population.Population


@dataclass(frozen=True)
class Row:
    """One comparison: a published figure and the simulated quantity set against it.

    Attributes:
        figure: Key in published.toml.
        simulated: Function of the run context giving the simulated value.
        quantity: Name of the simulated quantity (an annual-table column or a short formula).
        kind: How to format both values: "share", "per_capita", "yuan", "days", "count".
        note: Why the two may differ, or how they were made comparable.
        component: For figures whose value is a table (e.g. admission shares by level): the
            components summed to make the published value.
        label: Text for the figure column; defaults to `figure` (with components, if any).
        published: Function giving the published value when it is derived from several figures
            (e.g. fund spending / income); defaults to the figure's own value.
    """

    figure: str
    simulated: Callable[[Context], float]
    quantity: str
    kind: str
    note: str
    component: tuple[str, ...] = ()
    label: str = ""
    published: Callable[[], float] | None = None


def col(name: str) -> Callable[[Context], float]:
    """A simulated value read from one column of the first simulated year."""
    return lambda c: _get(c.row, name)


def _get(row: pd.Series | None, name: str) -> float:
    """One value of an annual-table row, NaN where the row or the column is missing."""
    if row is None or name not in row.index:
        return float("nan")
    return float(row[name])


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _pooled(c: Context, num: str, den: str, tiers: tuple[str, ...] = HOSPITALS) -> float:
    """Ratio of by-tier sums pooled over tiers, e.g. cost per visit of all hospitals."""
    return _ratio(sum(_get(c.row, f"{num}_{t}") for t in tiers), sum(_get(c.row, f"{den}_{t}") for t in tiers))


def _admission_share(tier: str) -> Callable[[Context], float]:
    return lambda c: _ratio(_get(c.row, f"admissions_{tier}"), _get(c.row, "admissions"))


def _first_year_beds(row: pd.Series) -> float:
    """Beds in the first simulated year: its bed-days over its days (beds only grow at year starts)."""
    return sum(_get(row, f"beds_{t}") for t in TIERS) / DAYS_PER_YEAR


def _beds_per_1000(c: Context) -> float:
    return 1000.0 * _first_year_beds(c.row) / _get(c.row, "residents")


def _doctors_per_1000(c: Context) -> float:
    return float(c.scenario.region.doctors_per_1000.as_array().sum())


def _employee_share(c: Context) -> float:
    return float(np.mean(c.people.scheme == population.EMPLOYEE))


def _key_group_signing(c: Context) -> float:
    return float(np.mean(c.people.signed[c.people.key_group]))


def _first_contact_primary(c: Context) -> float:
    return _get(c.row, "first_contact_share_village") + _get(c.row, "first_contact_share_health_centre")


def _growth(c: Context) -> float:
    return _get(c.later, "medical_revenue_growth")


def _published_fund_ratio() -> float:
    spending = data.figure("employee_fund_spending").value + data.figure("resident_fund_spending").value
    income = data.figure("employee_fund_income").value + data.figure("resident_fund_income").value
    return float(spending) / float(income)


def _published_employee_share() -> float:
    employees = float(data.figure("insured_employees").value)
    return employees / (employees + float(data.figure("insured_residents").value))


def _published_income_per_insured(scheme: str) -> float:
    """Fund income per insured person in 2023: `<scheme>_fund_income` / `insured_<scheme>s`."""
    return float(data.figure(f"{scheme}_fund_income").value) / float(data.figure(f"insured_{scheme}s").value)


def comparisons(scenario: Scenario) -> list[Row]:
    """The calibration rows, in the order of the published.toml sections.

    Args:
        scenario: The scenario that was run (for notes that quote its parameters).

    Returns:
        The rows of the "simulated vs published" table.
    """
    p = scenario.prices
    drug_op = p.drug_share_outpatient.as_array()
    drug_ip = p.drug_share_inpatient.as_array()
    price_note = (
        "published figure is 2019 money; simulated prices are the calibrated year-0 prices "
        f"(inflation {p.price_inflation:.0%}/yr starts after year 0)"
    )
    return [
        Row(
            "primary_visit_share",
            col("primary_visit_share"),
            "primary_visit_share",
            "share",
            "primary = village clinics/stations + township/community health centres",
        ),
        Row(
            "primary_visit_share_2021",
            col("primary_visit_share"),
            "primary_visit_share",
            "share",
            "full-year bulletin figure; the trend falls ≈0.5–1 point a year",
        ),
        Row("tertiary_visit_share", col("visit_share_tertiary"), "visit_share_tertiary", "share", ""),
        Row(
            "secondary_visit_share",
            col("visit_share_secondary"),
            "visit_share_secondary",
            "share",
            "published value includes level-1 and ungraded hospitals (a three-tier model has nowhere else to "
            "put them); the ≈3.7% of visits at other institutions have no counterpart",
        ),
        Row(
            "secondary_only_visit_share",
            col("visit_share_secondary"),
            "visit_share_secondary",
            "share",
            "secondary (二级) hospitals only",
        ),
        Row(
            "visits_per_capita",
            col("visits_per_capita"),
            "visits_per_capita",
            "per_capita",
            "simulated visits count every referral hop and down-referral follow-up as a visit",
        ),
        Row(
            "visits_per_capita_2022",
            col("visits_per_capita"),
            "visits_per_capita",
            "per_capita",
            "2022 volumes were depressed by COVID-19 restrictions",
        ),
        Row("admissions_per_capita", col("admissions_per_capita"), "admissions_per_capita", "per_capita", ""),
        Row(
            "admissions_per_capita_2022",
            col("admissions_per_capita"),
            "admissions_per_capita",
            "per_capita",
            "2022 volumes were depressed by COVID-19 restrictions",
        ),
        Row(
            "admission_shares_by_level",
            _admission_share("tertiary"),
            "admissions_tertiary / admissions",
            "share",
            "",
            component=("tertiary",),
        ),
        Row(
            "admission_shares_by_level",
            _admission_share("secondary"),
            "admissions_secondary / admissions",
            "share",
            "published: secondary 32.5% + level-1 4.2% + ungraded 4.7% hospitals",
            component=("secondary", "level1", "ungraded"),
        ),
        Row(
            "admission_shares_by_level",
            _admission_share("health_centre"),
            "admissions_health_centre / admissions",
            "share",
            "published: township 16.3% + community 1.4% centres",
            component=("township", "community"),
        ),
        Row(
            "bed_occupancy_hospitals",
            col("bed_occupancy_secondary"),
            "bed_occupancy_secondary",
            "share",
            "all hospitals, including private and specialist ones",
        ),
        Row(
            "bed_occupancy_hospitals",
            col("bed_occupancy_tertiary"),
            "bed_occupancy_tertiary",
            "share",
            "all hospitals, including private and specialist ones",
        ),
        Row(
            "bed_occupancy_public_hospitals",
            lambda c: _pooled(c, "occupied_beds", "beds"),
            "occupied / available bed-days, secondary + tertiary",
            "share",
            "all simulated hospitals are public",
        ),
        Row(
            "bed_occupancy_community_centres",
            col("bed_occupancy_health_centre"),
            "bed_occupancy_health_centre",
            "share",
            "simulated pools township and community health centres; published: community centres, one quarter",
        ),
        Row(
            "mean_length_of_stay_hospitals",
            col("mean_length_of_stay_secondary"),
            "mean_length_of_stay_secondary",
            "days",
            "",
        ),
        Row(
            "mean_length_of_stay_hospitals",
            col("mean_length_of_stay_tertiary"),
            "mean_length_of_stay_tertiary",
            "days",
            "",
        ),
        Row(
            "mean_length_of_stay_hospitals",
            lambda c: _pooled(c, "stay_days", "discharges"),
            "stay days / discharges, secondary + tertiary",
            "days",
            "length of stay is billed and counted at discharge",
        ),
        Row(
            "beds_per_1000",
            _beds_per_1000,
            "beds / residents × 1,000 (all tiers)",
            "per_capita",
            "(input) published counts beds of every institution, including specialist, maternal and child, "
            "and village-level ones; the model has hospitals and health centres only",
        ),
        Row(
            "doctors_per_1000",
            _doctors_per_1000,
            "sum of region.doctors_per_1000",
            "per_capita",
            "(input) simulated doctors are outpatient doctors only",
        ),
        Row("cost_per_visit_tertiary", col("cost_per_visit_tertiary"), "cost_per_visit_tertiary", "yuan", price_note),
        Row(
            "cost_per_visit_secondary", col("cost_per_visit_secondary"), "cost_per_visit_secondary", "yuan", price_note
        ),
        Row(
            "cost_per_admission_tertiary",
            col("cost_per_admission_tertiary"),
            "cost_per_admission_tertiary",
            "yuan",
            price_note,
        ),
        Row(
            "cost_per_admission_secondary",
            col("cost_per_admission_secondary"),
            "cost_per_admission_secondary",
            "yuan",
            price_note,
        ),
        Row(
            "cost_per_visit_hospitals",
            lambda c: _pooled(c, "visit_bills", "visits"),
            "visit bills / visits, secondary + tertiary",
            "yuan",
            "published is 2023 money, simulated prices are calibrated to 2019 public-hospital figures",
        ),
        Row(
            "cost_per_admission_hospitals",
            lambda c: _pooled(c, "stay_bills", "discharges"),
            "stay bills / discharges, secondary + tertiary",
            "yuan",
            "published is 2023 money, simulated prices are calibrated to 2019 public-hospital figures",
        ),
        Row(
            "cost_per_inpatient_day_hospitals",
            lambda c: _pooled(c, "stay_bills", "stay_days"),
            "stay bills / stay days, secondary + tertiary",
            "yuan",
            "published is 2022 money",
        ),
        Row(
            "drug_share_outpatient_hospitals",
            col("revenue_structure_drugs"),
            "revenue_structure_drugs",
            "share",
            "simulated: drugs share of secondary + tertiary revenue (consumables apart), outpatient and "
            f"inpatient pooled; by construction an outpatient bill is {drug_op[2]:.0%} (secondary) / "
            f"{drug_op[3]:.0%} (tertiary) drugs",
        ),
        Row(
            "drug_share_inpatient_hospitals",
            col("revenue_structure_drugs"),
            "revenue_structure_drugs",
            "share",
            f"as above; by construction an inpatient bill is {drug_ip[2]:.0%} (secondary) / {drug_ip[3]:.0%} "
            "(tertiary) drugs",
        ),
        Row(
            "oop_share_total_health_expenditure",
            col("oop_share"),
            "oop_share",
            "share",
            "different definitions: simulated is the share of facility bills paid out of pocket; published is the "
            "individual share of total health expenditure (denominator adds government and social spending outside "
            "facility bills; numerator adds pharmacy purchases)",
        ),
        Row(
            "insured_employees",
            _employee_share,
            "residents in the employee scheme / residents",
            "share",
            "(input) published: employees / (employees + residents insured), 2023",
            label="employee share of insured",
            published=_published_employee_share,
        ),
        Row(
            "employee_fund_spending",
            lambda c: _ratio(_get(c.row, "fund_spending"), _get(c.row, "fund_income")),
            "fund_spending / fund_income",
            "share",
            "published: (employee + resident fund spending) / (income), 2023, funds incl. maternity insurance; "
            "contributions are calibrated to this year-0 ratio; later years see the trend table",
            label="fund spending / fund income",
            published=_published_fund_ratio,
        ),
        Row(
            "resident_fund_income",
            lambda c: float(c.scenario.insurance.contribution_resident),
            "insurance.contribution_resident",
            "yuan",
            "(input) published: resident fund income / insured residents, 2023; the simulated contribution is "
            "calibrated to the fund ratio above, not set to this figure",
            label="resident fund income per insured",
            published=lambda: _published_income_per_insured("resident"),
        ),
        Row(
            "employee_fund_income",
            lambda c: float(c.scenario.insurance.contribution_employee),
            "insurance.contribution_employee",
            "yuan",
            "(input) published: employee fund income (incl. maternity insurance) / insured employees, 2023; "
            "about half of it goes to personal accounts, which the model does not have",
            label="employee fund income per insured",
            published=lambda: _published_income_per_insured("employee"),
        ),
    ]


def targets() -> list[Row]:
    """The policy-target rows: what the baseline is measured against, not calibrated to."""
    return [
        Row(
            "target_primary_visit_share",
            col("primary_visit_share"),
            "primary_visit_share",
            "share",
            "≥65%",
        ),
        Row(
            "target_medical_revenue_growth",
            _growth,
            "medical_revenue_growth (second year)",
            "share",
            "≤9%; needs --years ≥ 2",
        ),
        Row(
            "target_revenue_structure",
            col("revenue_structure_service"),
            "revenue_structure_service",
            "share",
            "5:3:2",
            component=("service",),
        ),
        Row(
            "target_revenue_structure",
            lambda c: _get(c.row, "revenue_structure_drugs") + _get(c.row, "revenue_structure_consumables"),
            "revenue_structure_drugs + revenue_structure_consumables",
            "share",
            "the target's 3 is drugs and consumables (药品耗材)",
            component=("drugs",),
        ),
        Row(
            "target_revenue_structure",
            col("revenue_structure_tests"),
            "revenue_structure_tests",
            "share",
            "",
            component=("tests",),
        ),
        Row(
            "target_in_county_rate",
            col("in_county_rate"),
            "in_county_rate",
            "share",
            "simulated: county residents' admissions in their own county",
        ),
        Row(
            "target_first_contact_primary",
            _first_contact_primary,
            "first_contact_share_village + first_contact_share_health_centre",
            "share",
            "simulated: episodes (acute and chronic follow-ups) whose first contact is at primary care; "
            "published: residents whose first choice in a two-week illness is primary care",
        ),
        Row("target_signing_rate_all", col("signing_rate"), "signing_rate", "share", "≥60% by 2025"),
        Row(
            "target_signing_rate_key_groups",
            _key_group_signing,
            "signed among key groups",
            "share",
            "(input) population.signing_rate_key_groups; ≥90%",
        ),
    ]


def fmt(value: float, kind: str) -> str:
    """Format a value for the table (— for a missing one)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "per_capita":
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    if kind == "yuan":
        return f"¥{value:,.0f}" if value >= 1000 else f"¥{value:,.1f}"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "days2":
        return f"{value:.2f}"
    if kind == "millions":
        return f"{value / 1e6:,.0f}"
    return f"{value:,.0f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(rows: list[Row], ctx: Context, title: str) -> list[str]:
    """Markdown lines of one table; figures missing from published.toml are reported on stderr."""
    lines = [
        f"| {title} | published (value, year) | source | simulated ({int(ctx.row['calendar_year'])}) | note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        try:
            fig = data.figure(r.figure)
        except KeyError as exc:
            print(f"baseline_vs_published: skipped {r.figure}: {exc}", file=sys.stderr)
            continue
        label = r.label or r.figure
        if r.published is not None:
            published = r.published()
        elif isinstance(fig.value, dict):
            published = float(sum(fig.value[k] for k in r.component))
            label = f"{label}: {' + '.join(r.component)}"
        else:
            published = float(fig.value)
        simulated = r.simulated(ctx)
        lines.append(
            f"| `{_cell(label)}` | {fmt(published, r.kind)} ({fig.year}) | {_cell(fig.source)} "
            f"| {fmt(simulated, r.kind)} (`{_cell(r.quantity)}`) | {_cell(r.note)} |"
        )
    return lines


TREND = (
    ("primary share", "primary_visit_share", "share"),
    ("primary share of first contacts", "first_contact_primary", "share"),
    ("tertiary share", "visit_share_tertiary", "share"),
    ("admissions / resident", "admissions_per_capita", "per_capita"),
    ("tertiary occupancy", "bed_occupancy_tertiary", "share"),
    ("tertiary outpatient wait (days)", "mean_wait_days_tertiary", "days2"),
    ("referrals up (incl. transfers)", "referrals_up", "count"),
    ("of which inpatient transfers up", "transfers_up", "count"),
    ("referrals down", "referrals_down", "count"),
    ("hospital revenue growth", "medical_revenue_growth", "share"),
    ("fund spending / income", None, "share"),
    ("fund balance (¥ m, cumulative)", "fund_balance", "millions"),
    ("unmet episodes", "unmet_episodes", "count"),
)
"""Rows of the yearly trend table: label, annual-table column (None: computed), format."""


def trend(annual: pd.DataFrame) -> list[str]:
    """Markdown lines of the baseline's yearly trend (one column per simulated year)."""
    years = [str(int(y)) for y in annual["calendar_year"]]
    lines = ["| indicator | " + " | ".join(years) + " |", "|---|" + "---|" * len(years)]
    for label, column, kind in TREND:
        if column is None:
            values = annual["fund_spending"] / annual["fund_income"]
        elif column == "first_contact_primary":
            values = annual["first_contact_share_village"] + annual["first_contact_share_health_centre"]
        else:
            values = annual[column]
        lines.append(f"| {label} | " + " | ".join(fmt(float(v), kind) for v in values) + " |")
    return lines


def flows(row: pd.Series) -> list[str]:
    """Markdown lines of one year's tier-to-tier referrals (`flow_<from>_to_<to>`) and first contacts."""
    lines = [
        "| from → to | " + " | ".join(TIERS) + " | first contacts |",
        "|---|" + "---:|" * (len(TIERS) + 1),
    ]
    for source in TIERS:
        cells = [f"{_get(row, f'flow_{source}_to_{target}'):,.0f}" for target in TIERS]
        lines.append(f"| {source} | " + " | ".join(cells) + f" | {_get(row, f'first_contacts_{source}'):,.0f} |")
    return lines


SCALE_COLUMNS = (
    ("primary share", "primary_visit_share", "share"),
    ("tertiary share", "visit_share_tertiary", "share"),
    ("in-county rate", "in_county_rate", "share"),
    ("tertiary occupancy", "bed_occupancy_tertiary", "share"),
    ("health-centre share of admissions", "admissions_health_centre", "admission_share"),
    ("unmet episodes per 1,000 residents", "unmet_episodes", "per_1000"),
)
"""Columns of the scale-invariance table: label, annual-table column, format."""


def scale_table(scenario_path: Path, scales: list[float], seed: int, years: int) -> str:
    """Run the baseline at each scale; one Markdown row per scale (first simulated year).

    Run times go to stderr (they depend on the machine, so they are not part of the table).
    """
    version = code_version()  # before the runs: the code they import is the code of this moment
    header = "| scale | residents | beds (first year) | " + " | ".join(label for label, _, _ in SCALE_COLUMNS) + " |"
    lines = [header, "|---" * (len(SCALE_COLUMNS) + 3) + "|"]
    for scale in scales:
        scenario = sim.load_scenario(scenario_path, [f"run.scale={scale}"])
        started = time.perf_counter()
        results = sim.run(scenario, seed=seed, years=years)
        print(f"baseline_vs_published: scale {scale:g}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        row, s = results.annual.iloc[0], results.summary
        cells = []
        for _, column, kind in SCALE_COLUMNS:
            if kind == "admission_share":
                cells.append(fmt(_ratio(float(row[column]), float(row["admissions"])), "share"))
            elif kind == "per_1000":
                cells.append(f"{1000 * float(row[column]) / float(row['residents']):.2f}")
            else:
                cells.append(fmt(float(row[column]), kind))
        lines.append(f"| {scale:g} | {s['residents']:,} | {_first_year_beds(row):,.0f} | " + " | ".join(cells) + " |")
    lines += ["", f"Seed {seed}, {years} simulated year(s), values of the first simulated year. Code: {version}."]
    return "\n".join(lines) + "\n"


def report(results: sim.Results, scenario: Scenario, command: str) -> str:
    """The Markdown report of a run: header, calibration table, targets table.

    Args:
        results: The baseline run.
        scenario: The scenario that was run.
        command: The command line that regenerates the report.

    Returns:
        Markdown text.
    """
    annual = results.annual
    reg = region.build(scenario.region, scenario.run.scale)
    people = population.build(reg, scenario.population, results.seed)
    ctx = Context(
        row=annual.iloc[0],
        later=annual.iloc[1] if len(annual) > 1 else None,
        results=results,
        scenario=scenario,
        people=people,
    )
    s = results.summary
    header = [
        f"Scenario `{scenario.name}`, scale {scenario.run.scale:g} ({s['residents']:,} residents, "
        f"{s['facilities']:,} facilities, {_first_year_beds(ctx.row):,.0f} beds in the first year), seed "
        f"{results.seed}, {len(annual)} simulated year(s); simulated values are for the first simulated year "
        f"({int(ctx.row['calendar_year'])}). Code: {code_version()}.",
        "",
        f"Regenerate with: `{command}`",
        "",
    ]
    body = render(comparisons(scenario), ctx, "figure")
    body += ["", *render(targets(), ctx, "policy target")]
    body += [
        "",
        f"Referrals between tiers in {int(ctx.row['calendar_year'])} (`flow_<from>_to_<to>`: outpatient "
        "referrals up, inpatient referrals and transfers up, referrals down at discharge) and first contacts "
        "(`first_contacts_<tier>`: the tier of each episode's first choice):",
        "",
        *flows(ctx.row),
    ]
    if len(annual) > 1:
        body += ["", *trend(annual)]
    return "\n".join([*header, *body]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the baseline and print (and optionally write) the comparison tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO, help="scenario TOML (default: baseline)")
    parser.add_argument("--scale", type=float, default=None, help="share of the full city (default: the scenario's)")
    parser.add_argument("--years", type=int, default=1, help="simulated years (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown to this file")
    parser.add_argument(
        "--scales",
        default=None,
        help="comma-separated scales, e.g. 0.02,0.2,1: print the scale-invariance table instead",
    )
    args = parser.parse_args(argv)
    if args.out is not None:
        try:
            check_output(args.out, folder=False)  # before the runs, which take minutes
        except sim.ScenarioError as exc:
            parser.exit(2, f"baseline_vs_published: {exc}\n")

    if args.scales is not None:
        try:
            scales = [float(x) for x in args.scales.split(",") if x.strip()]
            for scale in scales:
                sim.load_scenario(args.scenario, [f"run.scale={scale}"])
        except (ValueError, sim.ScenarioError) as exc:
            parser.exit(2, f"baseline_vs_published: --scales {args.scales!r}: {exc}\n")
        text = scale_table(args.scenario, scales, args.seed, args.years)
        print(text, end="")
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
        return 0

    overrides = [f"run.scale={args.scale}"] if args.scale is not None else []
    try:
        scenario = sim.load_scenario(args.scenario, overrides)
    except sim.ScenarioError as exc:
        parser.exit(2, f"baseline_vs_published: {exc}\n")
    results = sim.run(scenario, seed=args.seed, years=args.years)

    command = "python experiments/baseline_vs_published.py"
    if args.scenario.resolve() != DEFAULT_SCENARIO:
        command += f" --scenario {args.scenario}"
    if args.scale is not None:
        command += f" --scale {args.scale:g}"
    if args.years != 1:
        command += f" --years {args.years}"
    if args.seed != 1:
        command += f" --seed {args.seed}"
    text = report(results, scenario, command)
    print(text, end="")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
