"""Backtest 2013→2023: the region in its 2013 conditions under the national reforms, against the published series.

Runs `scenarios/backtest_2013.toml` (the default region in 2013, the reforms of 2013–2023 as levers
switched on in the years they took effect) and its no-reform counterfactual (the same 2013
conditions, every lever off) with paired replications (`sim.compare`: replication i of both shares
seed `seed + i`), and writes to `--out` (default `results/backtest/`), atomically:

- `backtest.csv`: one row per model point (scenario, series, calendar year: mean and 95% interval
  over the replications) and per published point (value and citation), with `comparable` false in
  2020–2022 (COVID-19 years, which the model does not simulate);
- `backtest.html`: each national series with the model's beside it, 2020–2022 shaded, and tables:
  the timeline of reforms, the 2013 conditions, the trend (slope per year) of model and published
  series, and which trends the model gets wrong with the mechanism each points to.

Published series are the national levels of `sim/data/evidence.toml` (`kind = "level"`); figures
of single places and of years before 2013 are left out. docs/backtest.md gives the results.

    python experiments/backtest.py [--scale F] [--replications N] [--workers W] [--seed S] [--out DIR]

The defaults (scale 0.2, 4 replications, 2 workers) take about two minutes on two cores: a run
of 11 years of 500,000 residents takes ≈28 s, and 8 runs share the two workers.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

import sim
from sim.comparison import Comparison, paired_summary
from sim.config import Scenario, ScenarioError, parameter_rows
from sim.evidence import load_evidence
from sim.levers import Levers, Policy
from sim.paths import WriteError, check_output
from sim.presentation import charts
from sim.presentation.labels import labels
from sim.presentation.page import figure, write_page
from sim.provenance import code_version
from sim.runner import atomic_folder

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "backtest_2013.toml"
BASELINE = REPO / "scenarios" / "baseline.toml"
FIRST_YEAR, LAST_YEAR = 2013, 2023
COVID_YEARS = (2020, 2021, 2022)
"""Years the model cannot be compared in: COVID-19 restrictions cut visits and admissions."""
BACKTEST, NO_REFORM = "backtest_2013", "no_reform_2013"
NATIONAL = "China (national)"


@dataclass(frozen=True)
class Reform:
    """A national reform of the timeline and how the scenario expresses it.

    Attributes:
        lever: The lever of `scenarios/backtest_2013.toml` that carries it ("" if none can).
        year: Calendar year it takes effect in the scenario (or took effect, if no lever carries it).
        reform: What changed.
        document: The document, by title, issuer and year, and its docs/references.md key.
        expressed: How the lever expresses it, or why no lever can.
    """

    lever: str
    year: int
    reform: str
    document: str
    expressed: str


TIMELINE = (
    Reform(
        "family_doctor",
        2016,
        "family-doctor signing",
        "Guiding opinions on promoting family doctor contract services, State Council health-reform office, "
        "NHFPC and others, 2016 [family-doctor-guideline-2016]",
        "signing rises over 2 years to 30% of residents and 60% of key groups, with chronic-disease management",
    ),
    Reform(
        "sanming",
        2017,
        "drug zero mark-up in public hospitals",
        "Notice on rolling out the comprehensive reform of public hospitals, NHFPC and six other departments, "
        "2017 [public-hospital-reform-2017]",
        "drug prices −15% at every tier; no salary reform, no revenue cap",
    ),
    Reform(
        "reserved_beds",
        2017,
        "medical alliances (医联体)",
        "Guiding opinions on promoting the construction and development of medical alliances, General Office "
        "of the State Council, 2017 [medical-alliance-opinions-2017]",
        "patients referred within a consortium go first at its lead hospital; 5% of its beds held for them",
    ),
    Reform(
        "start_line",
        2017,
        "urban and rural resident schemes merged",
        "Opinions on integrating the urban and rural resident basic medical insurance systems, State Council, "
        "2016 [resident-insurance-integration-2016]; completed by end-2019 [resident-insurance-notice-2019]",
        "resident inpatient rates from the 2013 NCMS shares (80/60/50%) to today's (85/75/60%)",
    ),
    Reform(
        "drg",
        2022,
        "DRG/DIP payment",
        "DRG/DIP payment reform three-year action plan, National Healthcare Security Administration, 2021 "
        "[drg-dip-plan-2021]",
        "every hospital's admissions paid per group from 2022 (in fact ≥40%, 30%, 30% of regions in 2022–2024)",
    ),
    Reform(
        "",
        2015,
        "drug zero mark-up in county hospitals",
        "Implementation opinions on the comprehensive reform of county public hospitals, General Office of the "
        "State Council, 2015 [county-hospital-reform-2015]",
        "not separately: the zero mark-up lever has one start year for every tier (2017)",
    ),
    Reform(
        "",
        2019,
        "volume-based drug procurement (4+7, then national)",
        "National centralised drug procurement and use pilot programme, General Office of the State Council, "
        "2019 [vbp-pilot-2019]",
        "not expressed: a second drug-price cut would need the zero mark-up lever to change its size in a "
        "later year, and a lever has one value from one start year",
    ),
)
"""The national reforms of 2013–2023: those a lever carries, then those no lever can."""


@dataclass(frozen=True)
class Panel:
    """One chart: published series and the model columns set against them.

    Attributes:
        name: The chart's id and the CSV's `panel`.
        title: Its title.
        published: Evidence indicators shown (the `indicator` field of evidence.toml).
        model: Model columns shown (annual-table indicators, or derived in `derived_columns`).
        kind: "share", "per_capita", "yuan" or "days".
        mechanism: The missing mechanism a wrong trend here points to.
        note: How model and published series differ in definition, if they do.
    """

    name: str
    title: str
    published: tuple[str, ...]
    model: tuple[str, ...]
    kind: str
    mechanism: str
    note: str = ""


PANELS = (
    Panel(
        "primary_visit_share",
        "Primary-care share of visits",
        ("primary_visit_share",),
        ("primary_visit_share",),
        "share",
        "supply growth by tier and the patients' response to it: tertiary hospitals grew fastest after 2013 and "
        "drew patients up (the model's hospitals grow their clinics with their use; quality is fixed)",
    ),
    Panel(
        "visit_share_tertiary",
        "Tertiary hospitals' share of visits",
        ("visit_share_tertiary",),
        ("visit_share_tertiary",),
        "share",
        "tertiary hospitals' expansion (beds, doctors, reputation) and patients' rising pull to them with income",
    ),
    Panel(
        "visit_share_secondary",
        "Secondary hospitals' share of visits",
        ("visit_share_secondary",),
        ("visit_share_secondary",),
        "share",
        "the split of hospital growth between tiers",
        "published includes level-1 and ungraded hospitals",
    ),
    Panel(
        "visit_share_health_centre",
        "Health centres' share of visits",
        ("visit_share_health_centre",),
        ("visit_share_health_centre",),
        "share",
        "health centres' own investment and staffing (their quality is fixed in the model)",
    ),
    Panel(
        "visit_share_village",
        "Village clinics' and community stations' share of visits",
        ("visit_share_village",),
        ("visit_share_village",),
        "share",
        "the decline of village doctors (retirement, no successors), which the model does not have: village "
        "capacity grows like every other tier's",
    ),
    Panel(
        "visits_per_capita",
        "Visits per resident",
        ("visits_per_capita",),
        ("visits_per_capita",),
        "per_capita",
        "demand's response to price and to supply (visits grow at a fixed rate in the model)",
        "the model counts every referral hop as a visit",
    ),
    Panel(
        "admissions_per_capita",
        "Admissions per resident",
        ("admissions_per_capita",),
        ("admissions_per_capita",),
        "per_capita",
        "supplier-induced admissions as beds grew, and admission thresholds that fall with insurance",
    ),
    Panel(
        "oop_share",
        "Out-of-pocket share",
        ("oop_share",),
        ("oop_share",),
        "share",
        "benefit expansion beyond inpatient rates (outpatient pooling, critical-illness insurance, drug lists), "
        "which the model holds at 2013's except for the merger's rates",
        "published is out-of-pocket ÷ total health expenditure; the model's is out-of-pocket ÷ bills of the "
        "modelled facilities: compare trends, not levels",
    ),
    Panel(
        "cost_per_visit",
        "Bill per outpatient visit (¥)",
        ("cost_per_visit_secondary", "cost_per_visit_tertiary", "cost_per_visit_hospitals (proposed; all hospitals)"),
        ("cost_per_visit_secondary", "cost_per_visit_tertiary", "cost_per_visit_hospitals"),
        "yuan",
        "price regulation and drug-price cuts (volume-based procurement) that slowed bills",
        "published hospital figures include private and specialist hospitals",
    ),
    Panel(
        "cost_per_admission",
        "Bill per admission (¥)",
        (
            "cost_per_admission_secondary",
            "cost_per_admission_tertiary",
            "cost_per_admission_hospitals (proposed; all hospitals)",
        ),
        ("cost_per_admission_secondary", "cost_per_admission_tertiary"),
        "yuan",
        "shorter stays and price cuts (consumables, drugs) in the 2020s",
        "the model's pooled hospital figure is not in its annual table; its secondary and tertiary are shown",
    ),
    Panel(
        "mean_length_of_stay",
        "Mean length of stay (days)",
        ("mean_length_of_stay_hospitals (proposed; all hospital tiers pooled)",),
        ("mean_length_of_stay_secondary", "mean_length_of_stay_tertiary"),
        "days",
        "hospitals shortening stays under fee-for-service too (in the model stays respond only to per-case and "
        "per-diem payment)",
    ),
    Panel(
        "bed_occupancy",
        "Bed occupancy",
        ("bed_occupancy_hospitals (proposed; all hospital tiers pooled)",),
        ("bed_occupancy_secondary", "bed_occupancy_tertiary"),
        "share",
        "beds growing faster than admissions",
    ),
    Panel(
        "beds_per_1000",
        "Hospital beds per 1,000 residents",
        (),
        ("beds_per_1000_secondary", "beds_per_1000_tertiary"),
        "per_capita",
        "hospitals' beds growing from their surplus (fitted to the nation's beds per 1,000 of 2013→2019, all "
        "tiers pooled) and their occupancy (off: not identified); no grading up of county hospitals",
        "no national series of beds by hospital grade for 2013–2019 was found; the model's are shown alone",
    ),
    Panel(
        "revenue_structure_drugs",
        "Drugs' share of hospital bills",
        (
            "revenue_structure_drugs (outpatient bill, all hospitals)",
            "revenue_structure_drugs (inpatient bill, all hospitals)",
        ),
        ("revenue_structure_drugs",),
        "share",
        "volume-based procurement's price cuts",
        "the model pools outpatient and inpatient bills",
    ),
)
"""The charts, in page order."""


# ------------------------------------------------------------------------------ the published series
def _year(period: str) -> int | None:
    """The calendar year of an evidence period ("2019 Jan-Oct" → 2019, "end-2016" → 2016)."""
    match = re.search(r"(19|20)\d\d", period)
    return int(match.group(0)) if match else None


def published_levels() -> pd.DataFrame:
    """National level figures of 2013–2023 from the evidence table (`sim.evidence.load_evidence`).

    Returns:
        One row per figure: id, indicator, calendar_year, value, period, citation, split.
    """
    rows = []
    for fig in load_evidence().levels():
        year = _year(fig.period)
        if fig.place != NATIONAL or year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            continue
        rows.append(
            {
                "id": fig.id,
                "indicator": fig.indicator,
                "calendar_year": year,
                "value": fig.value,
                "period": fig.period,
                "citation": f"{fig.authors}, {fig.title}, {fig.venue}, {fig.year}",
                "split": fig.split,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ the runs
def scenarios(scale: float, seed: int) -> tuple[Scenario, Scenario]:
    """The no-reform counterfactual and the backtest, at `scale` (both checked before any run).

    Raises:
        ScenarioError: One line, if the scenario file or the scale is not valid.
    """
    overrides = [f"run.scale={scale!r}", f"run.seed={seed}"]
    backtest = sim.load_scenario(SCENARIO, overrides)
    data = backtest.model_dump()
    # No reform, but the same providers: how they respond (and hospitals invest) is behaviour, not a reform.
    levers = {"response": data["levers"]["response"]}
    data.update(name=NO_REFORM, description="The 2013 conditions of backtest_2013 with no reform.", levers=levers)
    return Scenario.model_validate(data), backtest


def derived_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with pooled hospital figures added: the bill per visit of secondary and tertiary hospitals."""
    out = runs.copy()
    visits = {t: out["visits"] * out[f"visit_share_{t}"] for t in ("secondary", "tertiary")}
    bills = sum(visits[t] * out[f"cost_per_visit_{t}"] for t in visits)
    out["cost_per_visit_hospitals"] = bills / (visits["secondary"] + visits["tertiary"])
    return out


def active_levers(levers: Levers, calendar_year: int) -> list[str]:
    """The levers of the timeline in force in a calendar year, as `Policy.for_year` sees them."""
    policy = Policy.for_year(levers, calendar_year - FIRST_YEAR)
    on = {
        "family_doctor": policy.signing_progress > 0,
        "sanming": policy.markup_removed > 0,
        "reserved_beds": policy.reserved_share > 0,
        "start_line": bool(policy.schemes),
        "drg": policy.drg_factor is not None,
    }
    return [name for name, active in on.items() if active]


# ------------------------------------------------------------------------------ trends
def _slope(years: np.ndarray, values: np.ndarray) -> float:
    """Least-squares change per year (NaN with fewer than two years)."""
    keep = np.isfinite(values)
    if keep.sum() < 2 or np.unique(years[keep]).size < 2:
        return float("nan")
    return float(np.polyfit(years[keep], values[keep], 1)[0])


def trend_table(summary: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Slope per year of each published series with two or more comparable years, and the model's over the same years.

    COVID-19 years are left out of both. A trend is wrong when the model's slope has the other sign,
    or is less than half or more than twice the published one.

    Returns:
        One row per (panel, published series): years, levels, slopes, whether the model gets it right,
        and the mechanism a wrong trend points to.
    """
    rows = []
    for panel in PANELS:
        for indicator in panel.published:
            points = published[
                (published.indicator == indicator) & ~published.calendar_year.isin(COVID_YEARS)
            ].sort_values("calendar_year")
            if points.calendar_year.nunique() < 2:
                continue
            column = _model_column(panel, indicator)
            years = points.calendar_year.to_numpy()
            model = _model_means(summary, BACKTEST, column, years)
            no_reform = _model_means(summary, NO_REFORM, column, years)
            published_slope = _slope(years.astype(float), points.value.to_numpy())
            model_slope = _slope(years.astype(float), model)
            ratio = model_slope / published_slope if published_slope else float("nan")
            right = bool(np.isfinite(ratio) and 0.5 <= ratio <= 2.0)
            rows.append(
                {
                    "series": indicator,
                    "model column": column,
                    "years": ", ".join(str(y) for y in years),
                    "published first": points.value.iloc[0],
                    "model first": model[0],
                    "published last": points.value.iloc[-1],
                    "model last": model[-1],
                    "published slope/yr": published_slope,
                    "model slope/yr": model_slope,
                    "no-reform slope/yr": _slope(years.astype(float), no_reform),
                    "trend right": "yes" if right else "no",
                    "missing mechanism": "" if right else panel.mechanism,
                }
            )
    return pd.DataFrame(rows)


def _model_column(panel: Panel, indicator: str) -> str:
    """The model column compared with a published series: its namesake, else the panel's first."""
    name = indicator.split(" (")[0]
    return name if name in panel.model else panel.model[0]


def _model_means(summary: pd.DataFrame, scenario: str, column: str, years: np.ndarray) -> np.ndarray:
    rows = summary[(summary.scenario == scenario) & (summary.indicator == column)].set_index("calendar_year")
    return np.array([rows["mean"].get(int(y), np.nan) for y in years], dtype=float)


# ------------------------------------------------------------------------------ the data file
def tidy(summary: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """backtest.csv: every model and published point of every panel, one row each."""
    parts = []
    for panel in PANELS:
        model = summary[summary.indicator.isin(panel.model)]
        parts.append(
            pd.DataFrame(
                {
                    "panel": panel.name,
                    "series": model.indicator,
                    "source": "model",
                    "scenario": model.scenario,
                    "calendar_year": model.calendar_year,
                    "value": model["mean"],
                    "lo": model["lo"],
                    "hi": model["hi"],
                    "citation": "",
                }
            )
        )
        points = published[published.indicator.isin(panel.published)]
        parts.append(
            pd.DataFrame(
                {
                    "panel": panel.name,
                    "series": points.indicator,
                    "source": "published",
                    "scenario": "",
                    "calendar_year": points.calendar_year,
                    "value": points.value,
                    "lo": np.nan,
                    "hi": np.nan,
                    "citation": points.citation,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    table["comparable"] = ~table.calendar_year.isin(COVID_YEARS)
    return table


# ------------------------------------------------------------------------------ the page
LINE = {BACKTEST: "solid", NO_REFORM: "dash"}
COLOURS = (charts.ACCENT, charts.ORANGE, charts.GREEN)
MARKERS = ("circle", "diamond", "square")


def panel_figure(panel: Panel, summary: pd.DataFrame, published: pd.DataFrame) -> go.Figure:
    """One panel: each model column's mean and 95% band (backtest solid, no reform dashed), the published points."""
    fig = go.Figure()
    fig.add_vrect(
        x0=COVID_YEARS[0] - 0.5,
        x1=COVID_YEARS[-1] + 0.5,
        fillcolor="#888888",
        opacity=0.12,
        line_width=0,
        annotation_text="COVID-19: not comparable",
        annotation_position="top left",
    )
    for colour, column in zip(COLOURS, panel.model, strict=False):
        for scenario in (BACKTEST, NO_REFORM):
            rows = summary[(summary.scenario == scenario) & (summary.indicator == column)].sort_values("calendar_year")
            if rows.empty:
                continue
            x = rows.calendar_year.tolist()
            if scenario == BACKTEST:
                fig.add_trace(
                    go.Scatter(
                        x=x + x[::-1],
                        y=rows["hi"].tolist() + rows["lo"].tolist()[::-1],
                        fill="toself",
                        fillcolor=charts.rgba(colour, 0.18),
                        line={"width": 0},
                        hoverinfo="skip",
                        showlegend=False,
                    )
                )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=rows["mean"],
                    mode="lines",
                    line={"color": colour, "dash": LINE[scenario], "width": 2.5 if scenario == BACKTEST else 1.5},
                    name=f"model {column} ({'reforms' if scenario == BACKTEST else 'no reform'})",
                )
            )
    for marker, indicator in zip(MARKERS, panel.published, strict=False):
        points = published[published.indicator == indicator].sort_values("calendar_year")
        if points.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=points.calendar_year,
                y=points.value,
                mode="markers",
                marker={"symbol": marker, "size": 11, "color": charts.RED, "line": {"color": "white", "width": 1}},
                name=f"published {indicator}",
                text=[f"{p}: {c}" for p, c in zip(points.period, points.citation, strict=True)],
                hovertemplate="%{y}<br>%{text}<extra></extra>",
            )
        )
    fig = charts.style(fig, panel.title + (f" — {panel.note}" if panel.note else ""), height=460)
    fig.update_layout(hovermode="closest", title_font_size=15)
    fig.update_xaxes(tickmode="linear", dtick=1, tickformat="d", range=[FIRST_YEAR - 0.5, LAST_YEAR + 0.5])
    if panel.kind == "share":
        fig.update_yaxes(tickformat=".0%", hoverformat=".1%")
    return fig


def _table(heading: str, frame: pd.DataFrame) -> Markup:
    """A headed table as pandas writes it (numbers to 4 significant digits), scrolling sideways if wide."""
    html = Markup(frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, classes="targets"))
    return Markup('<h2>{}</h2><div style="overflow-x:auto">{}</div>').format(heading, html)


def conditions_table(backtest: Scenario) -> pd.DataFrame:
    """The scenario values the backtest sets to 2013's: key, 2013 value, the baseline's (today's)."""
    today = {r["key"]: r["default"] for r in parameter_rows(sim.load_scenario(BASELINE))}
    rows = [
        {"parameter": r["key"], "2013 value": r["default"], "baseline (today)": today[r["key"]], "unit": r["unit"]}
        for r in parameter_rows(backtest)
        if today.get(r["key"]) != r["default"] and not r["key"].startswith(("levers.", "run.", "name", "description"))
    ]
    return pd.DataFrame(rows)


def timeline_table(levers: Levers) -> pd.DataFrame:
    """The timeline with, for each lever, the calendar years it is in force in the scenario."""
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    rows = []
    for r in TIMELINE:
        in_force = [y for y in years if r.lever in active_levers(levers, y)] if r.lever else []
        rows.append(
            {
                "year": r.year,
                "reform": r.reform,
                "document": r.document,
                "lever": r.lever or "—",
                "in force (scenario)": f"{in_force[0]}–{in_force[-1]}" if in_force else "—",
                "how": r.expressed,
            }
        )
    return pd.DataFrame(rows)


def write_backtest_page(path: Path, comparison: Comparison, summary: pd.DataFrame, published: pd.DataFrame) -> None:
    """backtest.html: introduction, the tables, then one chart per panel."""
    backtest = comparison.scenarios[1]
    trends = trend_table(summary, published)
    wrong = trends[trends["trend right"] == "no"][
        ["series", "published slope/yr", "model slope/yr", "missing mechanism"]
    ]
    runs = comparison.runs
    n = runs[runs.scenario == BACKTEST].replication.nunique()
    intro = (
        f"The default region in its 2013 conditions (scenarios/backtest_2013.toml) run {FIRST_YEAR}–{LAST_YEAR} "
        f"with the national reforms as levers in the years they took effect (solid lines: mean and 95% interval "
        f"over {n} paired replications, seeds {comparison.seeds[0]}–{comparison.seeds[-1]}), and the same "
        f"region with no reform (dashed), at scale {backtest.run.scale:g} "
        f"({round(backtest.region.residents * backtest.run.scale):,} residents); red markers are the "
        f"published national figures (sim/data/evidence.toml). 2020–2022 are shaded: COVID-19 restrictions cut "
        f"care in those years and the model does not simulate them, so they are left out of every trend. "
        f"Code: {code_version()}. Tables: the timeline of reforms; the trend of each published series "
        f"with two or more comparable years against the model's over the same years (wrong: the other sign, or "
        f"under half or over twice the published slope); the trends the model gets wrong and the missing "
        f"mechanism each points to; the 2013 conditions (sources in the scenario file)."
    )
    page_figures = [figure(p.name, panel_figure(p, summary, published)) for p in PANELS]
    write_page(
        path,
        "research_page.html",
        lab=labels("en"),
        title=f"Backtest {FIRST_YEAR}→{LAST_YEAR}: model and published national series",
        intro=intro,
        tables=[
            _table("The national reforms of 2013–2023 and the levers that carry them", timeline_table(backtest.levers)),
            _table("Trends: published against model, over the same comparable years", trends),
            _table("Trends the model gets wrong, and the missing mechanism each points to", wrong),
            _table("The 2013 conditions (sources: scenarios/backtest_2013.toml)", conditions_table(backtest)),
        ],
        figures=page_figures,
    )


# ------------------------------------------------------------------------------ command line
class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line and exit status 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"backtest: error: {message} (see 'python experiments/backtest.py --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2, help="share of the 2.5-million city (default 0.2)")
    parser.add_argument("--replications", type=int, default=4, help="paired replications (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="local processes (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of replication 0 (default 1)")
    parser.add_argument("--out", type=Path, default=Path("results/backtest"), help="output folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check the flags, run both scenarios, write backtest.csv and backtest.html, print the trend table."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if not 0 < args.scale <= 1:
            raise ScenarioError(f"--scale = {args.scale:g} is invalid: allowed > 0 and ≤ 1 (share of the city)")
        if args.replications < 1:
            raise ScenarioError(f"--replications = {args.replications} is invalid: allowed ≥ 1")
        if args.workers < 1:
            raise ScenarioError(f"--workers = {args.workers} is invalid: allowed ≥ 1")
        check_output(args.out, replaces="backtest.csv")
        pair = scenarios(args.scale, args.seed)
    except ScenarioError as exc:
        parser.exit(2, f"backtest: {exc}\n")

    comparison = sim.compare(list(pair), replications=args.replications, workers=args.workers)
    if not comparison.failures.empty:
        print(f"backtest: {len(comparison.failures)} run(s) failed:", file=sys.stderr)
        print(comparison.failures.to_string(index=False), file=sys.stderr)
        if comparison.runs.empty:
            return 1
    summary = paired_summary(derived_columns(comparison.runs), NO_REFORM)
    published = published_levels()
    try:
        with atomic_folder(args.out) as tmp:
            tidy(summary, published).to_csv(tmp / "backtest.csv", index=False)
            write_backtest_page(tmp / "backtest.html", comparison, summary, published)
    except WriteError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 40):
        print(trend_table(summary, published).drop(columns=["missing mechanism"]).to_string(index=False))
    print(f"backtest: wrote {args.out / 'backtest.html'} and {args.out / 'backtest.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
