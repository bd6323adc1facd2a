"""Self-contained HTML report of a comparison of scenarios, in English or Chinese.

`write_comparison_report` writes one HTML file that opens offline: the scenarios and replications,
a text summary of what changed against the baseline, the targets per scenario and year, and the
figures of `comparison_figures` (means over replications with 95% intervals, paired differences,
patient flows). The page is `templates/comparison_report.html`; this module computes what it shows.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim import __version__, metrics
from sim.comparison import KEYS, Comparison, paired_summary
from sim.metrics import BED_TIERS, TARGETS
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS
from sim.presentation import charts, maps, report
from sim.presentation.labels import Labels, labels
from sim.presentation.page import Figure, figure, render, write_page

_SCENARIO_COLOURS = (
    "#1F4E79",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#8C6D31",
    "#7F7F7F",
    "#0072B2",
    "#B5A300",
)
"""Colour of each scenario in the comparison's order (baseline first), repeated after the tenth."""
_SCALE = {"pct": 100.0, "money": 1e-6, "count": 1.0, "rate": 1.0, "days": 1.0}
"""Factor from an indicator's value to the number shown in sentences (shares in points, money in ¥ million)."""
_DIGITS = {"pct": 1, "money": 1, "count": 0, "rate": 3, "days": 2}
_UNIT = {"pct": "unit_pp", "money": "unit_million", "count": "unit_plain", "rate": "unit_plain", "days": "unit_days"}
_HOVER = {"pct": ".1%", "money": ",.2f", "count": ",.0f", "rate": ".3f", "days": ".2f"}
_STATS = ("n", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi")
_NO_STAT = pd.Series(dict.fromkeys(_STATS, math.nan))


def _scalar_targets() -> list[str]:
    """Targets of `sim.metrics.TARGETS` that are one number (not the revenue structure)."""
    return [name for name, spec in TARGETS.items() if not isinstance(spec["value"], dict)]


def _key_indicators() -> list[tuple[str, str]]:
    """(indicator, kind) of the text summary and the differences figure: every one-number target first."""
    others = [
        ("revenue_structure_service", "pct"),
        ("oop_share", "pct"),
        ("medical_revenue", "money"),
        ("fund_balance", "money"),
        ("referrals_up", "count"),
        ("referrals_down", "count"),
        ("unmet_episodes", "count"),
        ("bed_occupancy_tertiary", "pct"),
    ]
    return [(name, "pct") for name in _scalar_targets()] + others


def _series_indicators() -> list[tuple[str, str]]:
    """(indicator, kind) of the time-series figure: every one-number target, out-of-pocket share, fund balance."""
    return [(name, "pct") for name in _scalar_targets()] + [("oop_share", "pct"), ("fund_balance", "money")]


def _indicator_label(column: str, lab: Labels) -> str:
    """Title of an indicator column, e.g. "Bed occupancy, Tertiary hospital"."""
    if f"ind_{column}" in lab:
        return lab[f"ind_{column}"]
    for t in TIERS:
        if column == f"bed_occupancy_{t}":
            return lab["ind_bed_occupancy"].format(tier=lab[f"tier_{t}"])
        if column == f"case_mix_index_{t}":
            return lab["ind_case_mix_index_tier"].format(tier=lab[f"tier_{t}"])
    for c in COMPONENTS:
        if column == f"revenue_structure_{c}":
            return lab["ind_revenue_share"].format(component=lab[f"component_{c}"])
    return column


def _say(column: str, lab: Labels) -> str:
    """An indicator as named inside a sentence of the text summary."""
    return lab.get(f"say_{column}") or _indicator_label(column, lab)


def _numbers(values: Sequence[float], kind: str, signed: bool = False) -> list[str]:
    """Values of one kind as text in sentence units, with enough decimals (up to 3) that they differ."""
    scaled = [v * _SCALE[kind] for v in values]
    finite = [v for v in scaled if math.isfinite(v)]
    digits = _DIGITS[kind]
    while digits < 3 and len({f"{v:.{digits}f}" for v in finite}) < len(set(finite)):
        digits += 1
    sign = "+" if signed else ""
    return [f"{v:{sign},.{digits}f}" if math.isfinite(v) else "—" for v in scaled]


def _diff_text(stat: pd.Series, kind: str, lab: Labels) -> str:
    """A paired difference with its interval, e.g. "+1.2 pp [+0.9, +1.5]"."""
    diff, lo, hi = _numbers([stat["diff"], stat["diff_lo"], stat["diff_hi"]], kind, signed=True)
    return f"{lab[_UNIT[kind]].format(x=diff)} [{lo}, {hi}]"


def _comparison_summary(comparison: Comparison) -> pd.DataFrame:
    """`Comparison.summary`, plus out-of-pocket payments derived replication by replication.

    A run's out-of-pocket payments follow from its fund spending and out-of-pocket share
    (oop = fund × share / (1 − share)), so they get the same paired means and intervals.
    """
    runs = comparison.runs
    if runs.empty or "oop_paid" in runs or not {"fund_spending", "oop_share"} <= set(runs.columns):
        return comparison.summary
    share = runs["oop_share"].where(runs["oop_share"] < 1)
    derived = runs[list(KEYS)].assign(oop_paid=runs["fund_spending"] * share / (1 - share))
    return pd.concat([comparison.summary, paired_summary(derived, comparison.baseline)], ignore_index=True)


def _scenario_annual(comparison: Comparison, name: str) -> pd.DataFrame:
    """A scenario's replication means; first contacts by tier from its first replication if the runs lack them."""
    table = comparison.mean_annual(name)
    missing = [f"first_contacts_{t}" for t in TIERS if f"first_contacts_{t}" not in table]
    daily = comparison.daily.get(name)
    if missing and daily is not None and set(missing) <= set(daily.columns):
        table = table.merge(metrics.aggregate(daily)[["year", *missing]], on="year", how="left")
    return table


@dataclass
class _View:
    """What the comparison figures and tables share.

    Attributes:
        comparison: The comparison.
        lab: Labels of the report's language.
        lang: The report's language.
        names: Scenarios with at least one finished run, in the comparison's order.
        year: The final simulation year (0-based).
        calendar_year: Its calendar year.
        groups: Summary rows by (scenario, indicator), sorted by year.
        annual: Each scenario's replication means (see `_scenario_annual`).
        met: Target met or not by (scenario, year, target), on the replication means.
    """

    comparison: Comparison
    lab: Labels
    lang: str
    names: list[str]
    year: int
    calendar_year: int
    groups: dict[tuple[str, str], pd.DataFrame]
    annual: dict[str, pd.DataFrame]
    met: dict[tuple[str, int, str], bool]

    @property
    def baseline(self) -> str:
        """Name of the baseline scenario."""
        return self.comparison.baseline

    def colour(self, name: str) -> str:
        """The scenario's colour, by its place in the comparison."""
        order = [s.name for s in self.comparison.scenarios]
        return _SCENARIO_COLOURS[order.index(name) % len(_SCENARIO_COLOURS)]

    def series(self, name: str, indicator: str) -> pd.DataFrame:
        """Summary rows of one scenario and indicator, one per year (empty if none)."""
        return self.groups.get((name, indicator), pd.DataFrame(columns=["year", "calendar_year", *_STATS]))

    def at(self, name: str, indicator: str) -> pd.Series:
        """Summary of one scenario and indicator in the final year (NaN where missing)."""
        rows = self.series(name, indicator)
        rows = rows[rows["year"] == self.year]
        return rows.iloc[0] if len(rows) else _NO_STAT

    def replications(self, name: str) -> int:
        """Finished replications of a scenario."""
        runs = self.comparison.runs
        return int(runs.loc[runs["scenario"] == name, "replication"].nunique())


def _view(comparison: Comparison, lang: str) -> _View | None:
    """The shared view of a comparison, or None when no run finished."""
    lab = labels(lang)
    runs = comparison.runs
    if runs.empty:
        return None
    names = [s.name for s in comparison.scenarios if (runs["scenario"] == s.name).any()]
    last = runs.loc[runs["year"].idxmax()]
    summary = _comparison_summary(comparison)
    groups = {key: g.sort_values("year") for key, g in summary.groupby(["scenario", "indicator"], sort=False)}
    targets = comparison.targets
    met = {(str(r.scenario), int(r.year), str(r.target)): bool(r.met) for r in targets.itertuples()}
    return _View(
        comparison=comparison,
        lab=lab,
        lang=lang,
        names=names,
        year=int(last["year"]),
        calendar_year=int(last["calendar_year"]),
        groups=groups,
        annual={name: _scenario_annual(comparison, name) for name in names},
        met=met,
    )


def _mean_trace(v: _View, name: str, column: str, kind: str, showlegend: bool) -> list[go.Scatter]:
    """A scenario's mean over the years with its 95% band (drawn first, so under the line)."""
    rows = v.series(name, column)
    scale = 1e-6 if kind == "money" else 1.0
    years = [int(y) for y in rows["calendar_year"]]
    mean, lo, hi = (rows[c].astype(float) * scale for c in ("mean", "lo", "hi"))
    colour = v.colour(name)
    fmt = _HOVER[kind]
    line = charts.line(
        years,
        mean,
        name,
        colour,
        legendgroup=name,
        showlegend=showlegend,
        customdata=np.column_stack([lo, hi]) if len(rows) else None,
        hovertemplate=f"%{{y:{fmt}}} [%{{customdata[0]:{fmt}}}, %{{customdata[1]:{fmt}}}]",
    )
    keep = (lo.notna() & hi.notna()).to_numpy()
    if not keep.any():
        return [line]
    x = [y for y, k in zip(years, keep, strict=True) if k]
    band = go.Scatter(
        x=[*x, *x[::-1]],
        y=[*hi[keep], *lo[keep][::-1]],
        mode="lines",
        fill="toself",
        fillcolor=charts.rgba(colour, 0.18),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=name,
    )
    return [band, line]


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a grid of `n` panels."""
    return max(1, math.ceil(n / cols)), min(cols, max(n, 1))


def _legend_below(fig: go.Figure) -> None:
    """Put the legend of a tall grid of panels just under its bottom axis labels (a fixed distance in pixels)."""
    plot_height = fig.layout.height - 80 - 60
    fig.update_layout(legend={"y": -45 / plot_height}, margin={"b": 60})


def _series_figure(v: _View) -> go.Figure:
    """Key indicators over the years, one panel each: every scenario's mean, its 95% band, target lines."""
    lab = v.lab
    panels = _series_indicators()
    rows, cols = _grid(len(panels))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[_indicator_label(c, lab) for c, _ in panels],
        horizontal_spacing=0.08,
        vertical_spacing=0.2,
    )
    for i, (column, kind) in enumerate(panels):
        where = {"row": i // cols + 1, "col": i % cols + 1}
        for name in v.names:
            for trace in _mean_trace(v, name, column, kind, showlegend=i == 0):
                fig.add_trace(trace, **where)
        if column in TARGETS:
            charts.target_line(fig, column, lab, **where)
        if kind == "pct":
            fig.update_yaxes(tickformat=".0%", rangemode="tozero", **where)
        else:
            fig.update_yaxes(zeroline=True, zerolinecolor="#52606d", **where)
    fig.update_xaxes(tickmode="linear", dtick=1, tickformat="d")
    charts.style(fig, lab["fig_cmp_series"], height=160 + 300 * rows)
    _legend_below(fig)
    return fig


def _differences_figure(v: _View) -> go.Figure:
    """Final-year paired difference of every key indicator, one panel each, with 95% interval whiskers."""
    lab = v.lab
    others = [n for n in v.names if n != v.baseline]
    panels = _key_indicators()
    rows, cols = _grid(len(panels))
    titles = [
        lab["unit_pp_title"].format(label=_indicator_label(c, lab)) if k == "pct" else _indicator_label(c, lab)
        for c, k in panels
    ]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.1, vertical_spacing=0.14)
    for i, (column, kind) in enumerate(panels):
        where = {"row": i // cols + 1, "col": i % cols + 1}
        scale = _SCALE[kind] if kind in ("pct", "money") else 1.0
        for name in others:
            s = v.at(name, column)
            diff, lo, hi = (float(s[c]) * scale for c in ("diff", "diff_lo", "diff_hi"))
            fig.add_trace(
                go.Scatter(
                    x=[diff],
                    y=[name],
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    marker={"color": v.colour(name), "size": 9},
                    error_x={"type": "data", "symmetric": False, "array": [hi - diff], "arrayminus": [diff - lo]},
                    customdata=[_diff_text(s, kind, lab)],
                    hovertemplate="%{y}: %{customdata}<extra></extra>",
                ),
                **where,
            )
        fig.add_vline(x=0, line={"color": "#52606d", "width": 1}, **where)
        fig.update_yaxes(type="category", autorange="reversed", showticklabels=where["col"] == 1, **where)
    if not others:
        fig.add_annotation(text=lab["no_comparison"], x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    height = 140 + rows * max(170, 60 + 34 * len(others))
    charts.style(fig, lab["fig_cmp_differences"].format(year=v.calendar_year), height=height)
    fig.update_layout(hovermode="closest")
    _legend_below(fig)
    return fig


def _interval_bar(v: _View, name: str, x: list[str], columns: list[str], kind: str, **kwargs: object) -> go.Bar:
    """One scenario's final-year means of `columns` as bars at `x`, with 95% interval whiskers."""
    scale = 1e-6 if kind == "money" else 1.0
    stats = [v.at(name, c) for c in columns]
    mean, lo, hi = (np.array([float(s[c]) * scale for s in stats]) for c in ("mean", "lo", "hi"))
    fmt = _HOVER[kind]
    return go.Bar(
        x=x,
        y=mean,
        name=name,
        legendgroup=name,
        marker_color=v.colour(name),
        error_y={"type": "data", "symmetric": False, "array": hi - mean, "arrayminus": mean - lo, "thickness": 1.2},
        customdata=np.column_stack([lo, hi]),
        hovertemplate=f"{html.escape(name)}: %{{y:{fmt}}} [%{{customdata[0]:{fmt}}}, %{{customdata[1]:{fmt}}}]"
        "<extra></extra>",
        **kwargs,
    )


def _tiers(tiers: Sequence[str], lab: Labels) -> list[str]:
    """Tier names in the report's language."""
    return [lab[f"tier_{t}"] for t in tiers]


def _beds_figure(v: _View) -> go.Figure:
    """Final-year bed occupancy by tier, one bar per scenario."""
    lab = v.lab
    x = _tiers(BED_TIERS, lab)
    fig = go.Figure([_interval_bar(v, name, x, [f"bed_occupancy_{t}" for t in BED_TIERS], "pct") for name in v.names])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=lab["axis_tier"])
    fig.update_yaxes(title_text=lab["axis_occupancy"], tickformat=".0%", rangemode="tozero")
    return charts.style(fig, lab["fig_cmp_beds"].format(year=v.calendar_year))


def _waits_figure(v: _View) -> go.Figure:
    """Final-year outpatient queue and wait for a bed by tier, one bar per scenario."""
    lab = v.lab
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_wait_outpatient"], lab["sub_wait_admission"]), horizontal_spacing=0.1
    )
    for col, (column, tiers) in enumerate((("mean_wait_days", TIERS), ("mean_admission_wait_days", BED_TIERS)), 1):
        for name in v.names:
            bar = _interval_bar(
                v, name, _tiers(tiers, lab), [f"{column}_{t}" for t in tiers], "days", showlegend=col == 1
            )
            fig.add_trace(bar, row=1, col=col)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=lab["axis_days"], rangemode="tozero")
    return charts.style(fig, lab["fig_cmp_waits"].format(year=v.calendar_year))


def _money_figure(v: _View) -> go.Figure:
    """Final-year money flows per scenario: fund income and spending, out-of-pocket payments, hospital revenue."""
    lab = v.lab
    flows = (
        ("fund_income", "trace_fund_income"),
        ("fund_spending", "trace_fund_spending"),
        ("oop_paid", "trace_oop_paid"),
        ("medical_revenue", "trace_hospital_revenue"),
    )
    x = [lab[key] for _, key in flows]
    fig = go.Figure([_interval_bar(v, name, x, [c for c, _ in flows], "money") for name in v.names])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=lab["axis_million_yuan"], rangemode="tozero")
    return charts.style(fig, lab["fig_cmp_money"].format(year=v.calendar_year))


def _revenue_structure_figure(v: _View) -> go.Figure:
    """Final-year revenue structure of every scenario as stacked bars, next to the target bar."""
    lab = v.lab
    shares = {c: [float(v.at(name, f"revenue_structure_{c}")["mean"]) for name in v.names] for c in COMPONENTS}
    title = lab["fig_cmp_revenue_structure"].format(year=v.calendar_year)
    return charts.structure_figure(list(v.names), shares, lab, lab["scenario"], title)


def _flows_ids(v: _View) -> dict[str, str]:
    """Figure id of each scenario's Sankey, `flows-<place in the comparison>`."""
    order = [s.name for s in v.comparison.scenarios]
    return {name: f"flows-{order.index(name)}" for name in v.names}


def _comparison_figures(v: _View) -> dict[str, go.Figure]:
    """Every comparison figure by name, in the order of the report."""
    figs = {"series": _series_figure(v), "differences": _differences_figure(v)}
    for name, fig_id in _flows_ids(v).items():
        title = v.lab["fig_cmp_flows"].format(year=v.calendar_year, scenario=name)
        figs[fig_id] = report.patient_flows_figure(v.annual[name], v.lang, title=title)
    figs["revenue-structure"] = _revenue_structure_figure(v)
    figs["beds"] = _beds_figure(v)
    figs["waits"] = _waits_figure(v)
    figs["money"] = _money_figure(v)
    figs.update(_place_figures(v))
    return figs


def _altered(v: _View) -> dict[str, int]:
    """The scenarios other than the baseline with facility tables of the baseline and their own, by their place."""
    facilities = v.comparison.facilities
    if facilities.empty or not (facilities["scenario"] == v.baseline).any():
        return {}
    order = [s.name for s in v.comparison.scenarios]
    return {
        name: order.index(name) for name in v.names if name != v.baseline and (facilities["scenario"] == name).any()
    }


def _place_figures(v: _View) -> dict[str, go.Figure]:
    """Each scenario's maps of change from the baseline: `facility-changes-<i>` and `area-changes-<i>`."""
    c, figs = v.comparison, {}
    for name, i in _altered(v).items():
        for key, fig in maps.change_maps(c.facilities, c.areas, v.baseline, name, v.lang).items():
            figs[f"{key}-{i}"] = fig
    return figs


def _gains_tables(v: _View) -> list[dict[str, Any]]:
    """Each scenario's table of the facilities that gain and lose most visits against the baseline."""
    lab, tables = v.lab, []
    for name in _altered(v):
        rows = maps.gains_and_losses(v.comparison.facilities, v.baseline, name)
        tables.append(
            {
                "title": lab["gains_title"].format(year=v.calendar_year),
                "scenario": name,
                "columns": [
                    lab["col_facility"],
                    lab["col_tier"],
                    lab["col_district"],
                    lab["col_baseline_visits"].format(baseline=v.baseline),
                    lab["col_scenario_visits"].format(scenario=name),
                    lab["col_change"],
                ],
                "rows": [
                    [
                        r.name,
                        lab[f"tier_{r.tier}"],
                        r.district,
                        f"{r.visits_baseline:,.1f}",
                        f"{r.visits_scenario:,.1f}",
                        f"{r.visits:+,.1f}" + (f" ({r.share:+.0%})" if charts.finite(r.share) else ""),
                    ]
                    for r in rows.itertuples()
                ],
            }
        )
    return tables


def comparison_figures(comparison: Comparison, lang: str = "en") -> dict[str, go.Figure]:
    """Every figure of the comparison report, keyed by name (its element id in the report is `fig-<name>`).

    Args:
        comparison: A comparison (`sim.compare`).
        lang: Label language, "en" or "zh".

    Returns:
        Figures by name: "series", "differences", "flows-<i>" (one Sankey per scenario, i its place in
        the comparison), "revenue-structure", "beds", "waits", "money", and for each scenario but the
        baseline the maps "facility-changes-<i>" and "area-changes-<i>"; none when no run finished.
    """
    v = _view(comparison, lang)
    return {} if v is None else _comparison_figures(v)


def _comparison_captions(v: _View) -> dict[str, str]:
    """Plain-text caption under each comparison figure."""
    lab = v.lab
    first_in_runs = all(f"first_contacts_{t}" in v.comparison.runs for t in TIERS)
    captions = {
        "series": lab["caption_series"],
        "differences": lab["caption_differences"],
        "revenue-structure": report.captions(lab)["revenue-structure"],
        "beds": lab["caption_cmp_bars"],
        "waits": f"{lab['caption_cmp_bars']} {lab['caption_waits']}",
        "money": lab["caption_cmp_money"],
    }
    for i in _altered(v).values():
        captions[f"area-changes-{i}"] = lab["caption_place_changes"]
    for name, fig_id in _flows_ids(v).items():
        mean = lab["flows_mean"].format(n=v.replications(name))
        first = mean if first_in_runs else lab["flows_first"]
        captions[fig_id] = lab["caption_cmp_flows"].format(flows=lab["caption_flows"], referrals=mean, first=first)
    return captions


# -------------------------------------------------------------------------------------------- page
def _change_clause(stat: pd.Series, column: str, kind: str, lab: Labels) -> str | None:
    """The sentence "raises X by a [lo, hi]" if the paired 95% interval excludes 0 (from 2 replications), else None."""
    values = [stat["diff"], stat["diff_lo"], stat["diff_hi"]]
    if not (charts.finite(stat["n"]) and stat["n"] >= 2 and all(charts.finite(x) for x in values)):
        return None
    diff, lo, hi = (float(x) for x in values)
    if lo <= 0 <= hi:
        return None
    amount, low, high = _numbers([abs(diff), min(abs(lo), abs(hi)), max(abs(lo), abs(hi))], kind)
    verbs = ("sum_increases", "sum_decreases") if kind in ("count", "money") else ("sum_raises", "sum_lowers")
    verb = verbs[0] if diff > 0 else verbs[1]
    return lab[verb].format(what=_say(column, lab), amount=lab[_UNIT[kind]].format(x=amount), lo=low, hi=high)


def _target_clauses(v: _View, name: str) -> list[str]:
    """Targets a scenario meets and the baseline misses in the final year, or the other way round."""
    clauses = []
    for target in TARGETS:
        mine, base = v.met.get((name, v.year, target)), v.met.get((v.baseline, v.year, target))
        if mine is None or base is None or mine == base:
            continue
        key = "sum_meets" if mine else "sum_misses"
        clauses.append(v.lab[key].format(what=_say(target, v.lab), goal=charts.goal(target)))
    return clauses


def _scenario_item(v: _View, name: str) -> dict[str, Any]:
    """What changed in one scenario against the baseline: the sentence's label key, and its clauses if it has them."""
    if name not in v.names:
        return {"key": "sum_no_runs", "scenario": name, "clauses": None}
    if min(v.replications(name), v.replications(v.baseline)) < 2:
        return {"key": "sum_one_replication", "scenario": name, "clauses": None}
    changes = [_change_clause(v.at(name, c), c, k, v.lab) for c, k in _key_indicators()]
    clauses = [c for c in changes if c] + _target_clauses(v, name)
    return {"key": "sum_scenario", "scenario": name, "clauses": clauses}


def _summary(comparison: Comparison, v: _View | None) -> dict[str, Any]:
    """The text summary: its year, and one item per scenario other than the baseline (see `_scenario_item`)."""
    others = [s.name for s in comparison.scenarios[1:]]
    if v is None or comparison.baseline not in v.names:
        items = [{"key": "sum_no_runs", "scenario": comparison.baseline, "clauses": None}]
    elif not others:
        items = [{"key": "sum_baseline_only", "scenario": comparison.baseline, "clauses": None}]
    else:
        items = [_scenario_item(v, name) for name in others]
    return {"year": v.calendar_year if v is not None else "", "sentences": items}


def _targets(v: _View) -> dict[str, Any]:
    """Each policy target per scenario and year, on the replication means (`comparison_targets.html`)."""
    targets = []
    for name, spec in TARGETS.items():
        scenarios = []
        for scenario in v.names:
            met = {(y, t): ok for (s, y, t), ok in v.met.items() if s == scenario}
            cells = [
                report.target_cell(row, int(row["calendar_year"]), name, met, v.lab)
                for _, row in v.annual[scenario].iterrows()
            ]
            scenarios.append({"name": scenario, "cells": cells})
        targets.append({"name": name, "source": str(spec["source"]), "goal": charts.goal(name), "scenarios": scenarios})
    return {"years": charts.years(v.annual[v.names[0]]), "targets": targets}


def comparison_targets_html(comparison: Comparison, lang: str = "en") -> str:
    """The comparison report's targets table as an HTML fragment (the dashboard shows it too).

    Args:
        comparison: A comparison (`sim.compare`).
        lang: Label language, "en" or "zh".

    Returns:
        The table and its legend; "" when no run finished.
    """
    v = _view(comparison, lang)
    return "" if v is None else render("comparison_targets.html", lab=v.lab, **_targets(v))


def _seeds_text(seeds: Sequence[int]) -> str:
    """Seeds as "1–8" when consecutive, else listed."""
    if len(seeds) > 1 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def _facts(comparison: Comparison, lab: Labels) -> list[tuple[str, str]]:
    """The header's facts: scenarios (baseline marked), replications, seeds, scale, years, draws, failures, time."""
    run = comparison.scenarios[0].run
    first, last = run.start_year, run.start_year + run.years - 1
    span = lab["meta_years_value" if run.years > 1 else "meta_year_value"]
    names = [
        lab["baseline_mark"].format(scenario=s.name) if i == 0 else s.name for i, s in enumerate(comparison.scenarios)
    ]
    facts = [
        (lab["meta_scenarios"], ", ".join(names)),
        (lab["meta_replications"], str(len(comparison.seeds))),
        (lab["meta_seeds"], _seeds_text(comparison.seeds)),
        (lab["field.scale"], f"{run.scale:g}"),
        (lab["meta_years"], span.format(first=first, last=last, n=run.years)),
    ]
    if comparison.parameter_draws is not None:
        n, posterior = len(comparison.parameter_draws), comparison.posterior
        facts.append((lab["meta_parameter_draws"], lab["meta_parameter_draws_value"].format(n=n, posterior=posterior)))
    if len(comparison.failures):
        facts.append((lab["meta_failed"], str(len(comparison.failures))))
    facts.append((lab["meta_generated"], report.generated()))
    return facts


def _figure_sections(v: _View) -> dict[str, list[Figure]]:
    """The figures of each figure section, by section id, in the report's order."""
    figs = _comparison_figures(v)
    captions = _comparison_captions(v)
    groups = {
        "series": ("series",),
        "differences": ("differences",),
        "patient_flows": tuple(_flows_ids(v).values()),
        "revenue": ("revenue-structure",),
        "beds_waits": ("beds", "waits"),
        "money": ("money",),
        "places": tuple(i for i in figs if i.startswith(("facility-changes-", "area-changes-"))),
    }
    return {section: [figure(i, figs[i], captions.get(i)) for i in ids] for section, ids in groups.items() if ids}


def write_comparison_report(comparison: Comparison, path: Path, lang: str = "en") -> None:
    """Write a comparison's report: one self-contained HTML file that opens offline.

    The file `path` (its folder created if missing) holds the scenarios and replications of
    `comparison` (`sim.compare`), a text summary of what changed against the baseline (only
    differences whose paired 95% interval excludes 0), the targets per scenario and year, the
    figures of `comparison_figures` and any failed runs, labelled in `lang` ("en" or "zh").
    plotly.js is inlined once; nothing is fetched.

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES`.
    """
    lab = labels(lang)
    v = _view(comparison, lang)
    figures = {} if v is None else _figure_sections(v)
    sections = [
        "summary",
        *(["targets", *figures] if v is not None else []),
        *(["failures"] if len(comparison.failures) else []),
    ]
    write_page(
        Path(path),
        "comparison_report.html",
        **({} if v is None else _targets(v)),
        lab=lab,
        title=lab["cmp_page_title"].format(scenarios=", ".join(s.name for s in comparison.scenarios)),
        facts=_facts(comparison, lab),
        replications=len(comparison.seeds),
        scale=f"{comparison.scenarios[0].run.scale:g}",
        sections=sections,
        scenarios=[{"name": s.name, "description": s.description.strip()} for s in comparison.scenarios],
        baseline=comparison.baseline,
        summary=_summary(comparison, v),
        figures=figures,
        gains=[] if v is None else _gains_tables(v),
        failures=list(comparison.failures.itertuples()),
        version=__version__,
    )


def write_comparison(comparison: Comparison, out: str | Path, *, lang: str = "en") -> Path:
    """`sim.presentation.report.write_run` for a comparison: `Comparison.write` with its report.html in `lang`.

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES` (nothing is written).
    """
    return comparison.write(out, extra=lambda folder: write_comparison_report(comparison, folder / "report.html", lang))
