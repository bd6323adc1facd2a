"""Self-contained HTML report of one run, in English or Chinese.

`write_report` writes one HTML file that opens offline: plotly.js is inlined once in the head, and
every chart is a plotly div. Each chart is built by its own function returning a plotly `Figure`
(see `figures`), so the comparison report and the dashboard reuse them. The page is
`templates/run_report.html`; this module computes the numbers and figures it shows. Every visible
word comes from `sim.presentation.labels`, and every target line from `sim.metrics.TARGETS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim import __version__
from sim.metrics import BED_TIERS, HOSPITAL_TIERS, TARGETS
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS
from sim.presentation import charts, maps
from sim.presentation.labels import Labels, labels
from sim.presentation.page import figure, write_page
from sim.runner import Results

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("visits", ("primary-share", "visit-shares")),
    ("revenue", ("revenue", "revenue-structure")),
    ("beds", ("bed-occupancy", "daily-beds")),
    ("waits", ("waits",)),
    ("money", ("fund", "payments")),
    ("costs", ("costs",)),
    ("flows", ("referrals", "patient-flows", "coverage")),
    ("places", ("facility-map", "area-map")),
)
"""Report sections after the tables, each with the ids of its figures (keys of `figures`)."""


# ---------------------------------------------------------------------------------------- figures
def primary_share_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Primary-care share of visits by year, with the target line.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    fig = go.Figure(
        charts.line(charts.years(annual), annual["primary_visit_share"], lab["trace_primary_share"], charts.ACCENT)
    )
    charts.target_line(fig, "primary_visit_share", lab)
    charts.share_axis(fig, lab["axis_share_of_visits"])
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["ind_primary_visit_share"])


def visit_shares_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Share of visits by tier per year, stacked bars.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = go.Figure(
        [
            go.Bar(
                x=years,
                y=annual[f"visit_share_{t}"],
                name=lab[f"tier_{t}"],
                marker_color=charts.TIER_COLOURS[t],
                texttemplate="%{y:.0%}",
                textposition="inside",
            )
            for t in TIERS
        ]
    )
    fig.update_layout(barmode="stack")
    charts.share_axis(fig, lab["axis_share_of_visits"])
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_visit_shares"])


def revenue_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Hospital medical revenue (bars) and its yearly growth with the cap line.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    growth = annual["medical_revenue_growth"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["sub_revenue"], lab["sub_growth"]), horizontal_spacing=0.1)
    fig.add_trace(
        go.Bar(
            x=years, y=charts.million(annual["medical_revenue"]), name=lab["trace_revenue"], marker_color=charts.ACCENT
        ),
        row=1,
        col=1,
    )
    fig.add_trace(charts.line(years, growth, lab["growth"], charts.PINK), row=1, col=2)
    charts.target_line(fig, "medical_revenue_growth", lab, row=1, col=2)
    cap = float(TARGETS["medical_revenue_growth"]["value"])  # type: ignore[arg-type]
    known = [float(g) for g in growth if charts.finite(g)]
    low, high = min([0.0, cap, *known]), max([cap, *known])
    pad = 0.15 * (high - low)
    fig.update_yaxes(title_text=lab["axis_million_yuan"], hoverformat=",.1f", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(
        title_text=lab["growth"],
        tickformat=".0%",
        hoverformat=".1%",
        range=[low - (pad if low < 0 else 0), high + pad],
        row=1,
        col=2,
    )
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_revenue"])


def revenue_structure_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Revenue structure (service/drugs/consumables/tests) per year as stacked bars, next to the target bar.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    bars = [str(y) for y in charts.years(annual)]
    shares = {c: list(annual[f"revenue_structure_{c}"]) for c in COMPONENTS}
    return charts.structure_figure(bars, shares, lab, lab["axis_year"], lab["fig_revenue_structure"])


def bed_occupancy_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Annual bed occupancy (occupied bed-days over bed-days) by tier.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = go.Figure(
        [charts.line(years, annual[f"bed_occupancy_{t}"], lab[f"tier_{t}"], charts.TIER_COLOURS[t]) for t in BED_TIERS]
    )
    fig.update_yaxes(title_text=lab["axis_occupancy"], tickformat=".0%", hoverformat=".1%", rangemode="tozero")
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_bed_occupancy"])


def _dates(daily: pd.DataFrame) -> pd.Series:
    """Calendar date of each simulated day (day 0 of a simulated year is 1 January)."""
    day_of_year = daily["day"] - daily.groupby("year")["day"].transform("min")
    first = pd.to_datetime(daily["calendar_year"].astype(int).astype(str) + "-01-01")
    return first + pd.to_timedelta(day_of_year, unit="D")


def daily_beds_figure(daily: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Occupied beds and beds available by tier, one point per simulated day.

    Args:
        daily: The daily table (`Results.daily`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    dates = _dates(daily)
    fig = go.Figure()
    for t in BED_TIERS:
        tier = lab[f"tier_{t}"]
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=daily[f"occupied_beds_{t}"],
                name=lab["trace_occupied"].format(tier=tier),
                mode="lines",
                line={"color": charts.TIER_COLOURS[t], "width": 1.2},
                legendgroup=t,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=daily[f"beds_{t}"],
                name=lab["trace_beds"].format(tier=tier),
                mode="lines",
                line={"color": charts.TIER_COLOURS[t], "width": 2, "dash": "dash", "shape": "hv"},
                legendgroup=t,
            )
        )
    fig.update_xaxes(title_text=lab["axis_date"], tickformat=lab["date_ticks"], hoverformat="%Y-%m-%d")
    fig.update_yaxes(title_text=lab["beds"], rangemode="tozero", hoverformat=",.0f")
    return charts.style(fig, lab["fig_daily_beds"], height=470)


def waits_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Mean outpatient queue and admission wait (days) by tier and year.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_wait_outpatient"], lab["sub_wait_admission"]), horizontal_spacing=0.1
    )
    for col, (column, tiers) in enumerate((("mean_wait_days", TIERS), ("mean_admission_wait_days", BED_TIERS)), 1):
        for t in tiers:
            fig.add_trace(
                charts.line(
                    years,
                    annual[f"{column}_{t}"],
                    lab[f"tier_{t}"],
                    charts.TIER_COLOURS[t],
                    legendgroup=t,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text=lab["axis_days"], rangemode="tozero", hoverformat=".2f")
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_waits"])


def fund_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Insurance fund income and spending per year, and the cumulative balance, ¥ million.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    balance = charts.million(annual["fund_balance"])
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_fund_flows"], lab["sub_fund_balance"]), horizontal_spacing=0.1
    )
    fig.add_trace(
        go.Bar(
            x=years, y=charts.million(annual["fund_income"]), name=lab["trace_fund_income"], marker_color=charts.MUTED
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=years,
            y=charts.million(annual["fund_spending"]),
            name=lab["trace_fund_spending"],
            marker_color=charts.ACCENT,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=years,
            y=balance,
            name=lab["trace_fund_balance"],
            marker_color=[charts.GREEN if b >= 0 else charts.RED for b in balance.fillna(0)],
        ),
        row=1,
        col=2,
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=lab["axis_million_yuan"], hoverformat=",.2f", zeroline=True, zerolinecolor="#52606d", zerolinewidth=1
    )
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_fund"])


def payments_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Bills paid by the fund and out of pocket (stacked, ¥ million), and the out-of-pocket share.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["sub_paid"], lab["sub_oop_share"]), horizontal_spacing=0.1)
    fig.add_trace(
        go.Bar(x=years, y=charts.million(annual["fund_paid"]), name=lab["trace_fund_paid"], marker_color=charts.ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=charts.million(annual["oop_paid"]), name=lab["trace_oop_paid"], marker_color=charts.ORANGE),
        row=1,
        col=1,
    )
    fig.add_trace(charts.line(years, annual["oop_share"], lab["trace_oop_share"], charts.ORANGE), row=1, col=2)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(title_text=lab["axis_million_yuan"], hoverformat=",.2f", row=1, col=1)
    charts.share_axis(fig, lab["axis_share"], row=1, col=2)
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_payments"])


def costs_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Cost per visit, cost per admission and mean length of stay by tier: first and final year.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure: horizontal bars, one per tier and year (a one-year run shows that year only);
        tiers without beds have no admission bars.
    """
    lab = labels(lang)
    years = charts.years(annual)
    ends = sorted({0, len(annual) - 1})
    panels = (("cost_per_visit", ",.0f"), ("cost_per_admission", ",.0f"), ("mean_length_of_stay", ".1f"))
    fig = make_subplots(
        rows=1,
        cols=3,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(lab["sub_cost_visit"], lab["sub_cost_admission"], lab["sub_length_of_stay"]),
    )
    for col, (column, fmt) in enumerate(panels, 1):
        for i in ends:
            fig.add_trace(
                go.Bar(
                    y=[lab[f"tier_{t}"] for t in TIERS],
                    x=[annual[f"{column}_{t}"].iloc[i] for t in TIERS],
                    orientation="h",
                    name=lab["trace_year"].format(year=years[i]),
                    legendgroup=str(i),
                    showlegend=col == 1,
                    marker_color=charts.ACCENT if i == ends[-1] else charts.MUTED,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(tickformat=",~f", hoverformat=fmt, rangemode="tozero", row=1, col=col)
    fig.update_layout(barmode="group")
    charts.style(fig, lab["fig_costs"])
    fig.update_layout(hovermode="y unified")
    return fig


def referrals_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Referrals up and down, and unmet episodes, per year.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_referrals"], lab["ind_unmet_episodes"]), horizontal_spacing=0.1
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["referrals_up"], name=lab["trace_referrals_up"], marker_color=charts.ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["referrals_down"], name=lab["trace_referrals_down"], marker_color=charts.GREEN),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["unmet_episodes"], name=lab["trace_unmet"], marker_color=charts.MUTED), row=1, col=2
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=lab["axis_count"], tickformat=",~f", hoverformat=",.0f", rangemode="tozero")
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_referrals"])


def coverage_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """In-county admission rate and family-doctor signing rate, each with its target line.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = charts.years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["ind_in_county_rate"], lab["ind_signing_rate"]), horizontal_spacing=0.1
    )
    panels = (
        ("in_county_rate", "ind_in_county_rate", charts.ACCENT),
        ("signing_rate", "trace_signing", charts.GREEN),
    )
    for col, (column, name, colour) in enumerate(panels, 1):
        fig.add_trace(charts.line(years, annual[column], lab[name], colour), row=1, col=col)
        charts.target_line(fig, column, lab, row=1, col=col)
        charts.share_axis(fig, lab["axis_share"], row=1, col=col)
    charts.annual_axes(fig, lab)
    return charts.style(fig, lab["fig_coverage"])


_FLOW_COLOURS = {"up": "#0072B2", "down": "#CC79A7", "lateral": "#8C9DAD"}
"""Link colour of a referral up (to a higher tier), down, or within a tier (drawn half transparent)."""


def _flow_kind(source: int, target: int) -> str:
    """Kind of a referral between tiers of these indices in `TIERS`: "up", "down" or "lateral"."""
    return "up" if target > source else "down" if target < source else "lateral"


def _flow_links(row: pd.Series) -> list[tuple[int, int, float, str]]:
    """(from tier, to tier, referrals, kind) of each non-zero `flow_<from>_to_<to>` of one year."""
    links = []
    for a, source in enumerate(TIERS):
        for b, target in enumerate(TIERS):
            value = row.get(f"flow_{source}_to_{target}", math.nan)
            if charts.finite(value) and value > 0:
                links.append((a, b, float(value), _flow_kind(a, b)))
    return links


def _flow_legend(lab: Labels) -> str:
    """Coloured key of the link colours (a Sankey has no legend of its own)."""
    return " &nbsp; ".join(
        f'<span style="color:{_FLOW_COLOURS[k]}">■</span> {lab[f"flow_{k}"]}' for k in ("up", "down", "lateral")
    )


def _stacked(values: list[float]) -> list[float]:
    """Vertical centres (0 top, 1 bottom) of Sankey nodes of these sizes stacked in order, so tiers keep theirs."""
    total = sum(values) or 1.0
    ends = np.cumsum(values) / total
    return [float(0.02 + 0.96 * (end - v / total / 2)) for end, v in zip(ends, values, strict=True)]


def patient_flows_figure(annual: pd.DataFrame, lang: str = "en", title: str | None = None) -> go.Figure:
    """Referrals between tiers in the final year as a Sankey: tiers referring (left) to tiers referred to (right).

    Each tier on the left is labelled with its first contacts (`first_contacts_<tier>`, where the table
    has them); links are the `flow_<from>_to_<to>` referrals, coloured up, down or within a tier.

    Args:
        annual: An annual table (`Results.annual`, or a scenario's replication means).
        lang: Label language, "en" or "zh".
        title: Figure title (default: "Patient flows between tiers in <final year>").

    Returns:
        The figure.
    """
    lab = labels(lang)
    row = annual.iloc[-1]
    links = _flow_links(row)
    sources = sorted({a for a, _, _, _ in links})
    targets = sorted({b for _, b, _, _ in links})
    names = [lab[f"tier_{t}"] for t in TIERS]
    first = [charts.format_value(row.get(f"first_contacts_{TIERS[a]}", math.nan), "count") for a in sources]
    node_labels = [lab["flow_from"].format(tier=names[a], n=n) for a, n in zip(sources, first, strict=True)]
    node_labels += [lab["flow_to"].format(tier=names[b]) for b in targets]
    index = {("from", a): i for i, a in enumerate(sources)} | {
        ("to", b): len(sources) + i for i, b in enumerate(targets)
    }
    out = [sum(v for a, _, v, _ in links if a == s) for s in sources]
    into = [sum(v for _, b, v, _ in links if b == t) for t in targets]
    sankey = go.Sankey(
        arrangement="snap",
        valueformat=",.0f",
        node={
            "label": node_labels,
            "color": [charts.TIER_COLOURS[TIERS[i]] for i in (*sources, *targets)],
            "x": [0.001] * len(sources) + [0.999] * len(targets),
            "y": _stacked(out) + _stacked(into),
            "pad": 18,
            "thickness": 18,
            "line": {"width": 0},
        },
        link={
            "source": [index[("from", a)] for a, _, _, _ in links],
            "target": [index[("to", b)] for _, b, _, _ in links],
            "value": [v for _, _, v, _ in links],
            "color": [charts.rgba(_FLOW_COLOURS[k], 0.45) for _, _, _, k in links],
            "customdata": [
                lab["flow_link"].format(kind=lab[f"flow_{k}"], source=names[a], target=names[b]) for a, b, _, k in links
            ],
            "hovertemplate": "%{customdata}: %{value:,.0f}<extra></extra>",
        },
    )
    fig = go.Figure(sankey)
    year = int(row["calendar_year"]) if charts.finite(row.get("calendar_year")) else ""
    charts.style(fig, title or lab["fig_flows"].format(year=year), height=470)
    fig.add_annotation(
        text=_flow_legend(lab),
        x=1,
        y=1.02,
        xref="paper",
        yref="paper",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
    )
    fig.update_layout(hovermode="closest", margin={"l": 30, "r": 30, "t": 80, "b": 30})
    return fig


_ANNUAL_FIGURES: dict[str, Callable[[pd.DataFrame, str], go.Figure]] = {
    "primary-share": primary_share_figure,
    "visit-shares": visit_shares_figure,
    "revenue": revenue_figure,
    "revenue-structure": revenue_structure_figure,
    "bed-occupancy": bed_occupancy_figure,
    "waits": waits_figure,
    "fund": fund_figure,
    "payments": payments_figure,
    "costs": costs_figure,
    "referrals": referrals_figure,
    "patient-flows": patient_flows_figure,
    "coverage": coverage_figure,
}


def figures(results: Results, lang: str = "en") -> dict[str, go.Figure]:
    """Every figure of the report, keyed by name (its element id in the report is `fig-<name>`).

    Args:
        results: A run's results.
        lang: Label language, "en" or "zh".

    Returns:
        Figures by name ("primary-share", "daily-beds", ...).
    """
    out = {key: build(results.annual, lang) for key, build in _ANNUAL_FIGURES.items()}
    out["daily-beds"] = daily_beds_figure(results.daily, lang)
    out["facility-map"] = maps.facility_map_figure(results.facilities, lang)
    out["area-map"] = maps.area_map_figure(results.areas, lang)
    return out


def captions(lab: Labels) -> dict[str, str]:
    """Plain-text caption under each figure that has one."""

    def target(name: str) -> str:
        return lab["caption_target"].format(goal=charts.goal(name), source=TARGETS[name]["source"])

    return {
        "primary-share": target("primary_visit_share"),
        "revenue": f"{lab['caption_revenue']} {target('medical_revenue_growth')}",
        "revenue-structure": f"{lab['caption_revenue_structure']} {target('revenue_structure')}",
        "daily-beds": lab["caption_daily_beds"],
        "waits": lab["caption_waits"],
        "costs": lab["caption_costs"],
        "patient-flows": lab["caption_flows"],
        "coverage": f"{target('in_county_rate')} {target('signing_rate')}",
        "area-map": lab["caption_places"],
    }


# ----------------------------------------------------------------------------------------- tables
def _change(first: object, last: object, kind: str, lab: Labels) -> str:
    """Final minus first year in the row's unit (percentage points for shares), and relative to a positive first."""
    if not (charts.finite(first) and charts.finite(last)):
        return "—"
    a, b = float(first), float(last)  # type: ignore[arg-type]
    if kind == "pct":
        return f"{100 * (b - a):+.1f} {lab['percentage_points']}"
    scale = 1e6 if kind == "money" else 1.0
    digits = {"money": 1, "count": 0, "rate": 3}[kind]
    relative = f" ({(b - a) / a:+.1%})" if a > 0 and b >= 0 else ""
    return f"{(b - a) / scale:+,.{digits}f}{relative}"


def _headline_rows(lab: Labels) -> list[tuple[str, str, str]]:
    """(label, annual column or "revenue_structure", format kind) of each headline row."""
    return [
        (lab["ind_primary_visit_share"], "primary_visit_share", "pct"),
        (lab["ind_visits_per_capita"], "visits_per_capita", "rate"),
        (lab["ind_admissions_per_capita"], "admissions_per_capita", "rate"),
        (lab["ind_medical_revenue"], "medical_revenue", "money"),
        (lab["ind_medical_revenue_growth"], "medical_revenue_growth", "pct"),
        (lab["ind_revenue_structure"], "revenue_structure", "structure"),
        (lab["ind_oop_share"], "oop_share", "pct"),
        (lab["ind_fund_balance"], "fund_balance", "money"),
        (lab["ind_in_county_rate"], "in_county_rate", "pct"),
        (lab["ind_signing_rate"], "signing_rate", "pct"),
        *((lab["ind_bed_occupancy"].format(tier=lab[f"tier_{t}"]), f"bed_occupancy_{t}", "pct") for t in BED_TIERS),
        (lab["ind_referrals_up"], "referrals_up", "count"),
        *(
            (lab["ind_referred_visit_share"].format(tier=lab[f"tier_{t}"]), f"referred_visit_share_{t}", "pct")
            for t in HOSPITAL_TIERS
        ),
        (lab["ind_referrals_down"], "referrals_down", "count"),
        (lab["ind_unmet_episodes"], "unmet_episodes", "count"),
        (lab["ind_self_care_episodes"], "self_care_episodes", "count"),
    ]


def _status(met: dict[tuple[int, str], bool], year: int, name: str) -> str:
    """CSS class of a target cell: "met", "unmet", or "na" (no check that year)."""
    if (year, name) not in met:
        return "na"
    return "met" if met[(year, name)] else "unmet"


def _checks(targets: pd.DataFrame) -> dict[tuple[int, str], bool]:
    """Met or not, by (simulation year, target), from `Results.targets`."""
    return {(int(r.year), str(r.target)): bool(r.met) for r in targets.itertuples()}


@dataclass(frozen=True)
class TargetCell:
    """One year's cell of a policy target in a targets table.

    Attributes:
        year: The calendar year.
        text: The value: a share, or the revenue structure ("31 : 30 : 13 : 26").
        status: "met", "unmet" or "na" (not checked that year): the cell's CSS class.
        mark: " ✓", " ✗" or "" after the value.
        title: The status in words (the cell's tooltip).
    """

    year: int
    text: str
    status: str
    mark: str
    title: str


def target_cell(
    row: pd.Series, calendar_year: int, name: str, met: dict[tuple[int, str], bool], lab: Labels
) -> TargetCell:
    """One year's cell of a target: its value, met or not (by simulation year in `met`).

    Args:
        row: The year's row of an annual table.
        calendar_year: Its calendar year.
        name: The target, a key of `sim.metrics.TARGETS`.
        met: Met or not, by (simulation year, target).
        lab: Labels of the page's language.

    Returns:
        The cell.
    """
    text = charts.structure_text(row) if name == "revenue_structure" else charts.format_value(row[name], "pct")
    status = _status(met, int(row["year"]), name)
    mark = {"met": " ✓", "unmet": " ✗", "na": ""}[status]
    title = lab["no_data"] if status == "na" else lab[status]
    return TargetCell(year=calendar_year, text=text, status=status, mark=mark, title=title)


def _headline(annual: pd.DataFrame, targets: pd.DataFrame, lab: Labels) -> dict[str, Any]:
    """First vs final year of the key indicators (and the change when they differ); targeted cells met or not."""
    calendar = charts.years(annual)
    ends = sorted({0, len(annual) - 1})
    met = _checks(targets)
    rows = []
    for label, column, kind in _headline_rows(lab):
        goal = charts.goal(column) if column in TARGETS else ""
        cells = []
        for i in ends:
            row = annual.iloc[i]
            text = charts.structure_text(row) if kind == "structure" else charts.format_value(row[column], kind)
            cells.append({"text": text, "status": _status(met, int(row["year"]), column) if goal else ""})
        changes = len(ends) > 1 and kind != "structure"
        change = _change(annual[column].iloc[0], annual[column].iloc[-1], kind, lab) if changes else ""
        rows.append({"label": label, "cells": cells, "change": change, "goal": goal})
    return {"years": [calendar[i] for i in ends], "changes": len(ends) > 1, "rows": rows}


def _targets(annual: pd.DataFrame, targets: pd.DataFrame, lab: Labels) -> list[dict[str, Any]]:
    """Each policy target: name, source, goal and its cell of every year."""
    met = _checks(targets)
    calendar = charts.years(annual)
    return [
        {
            "name": name,
            "source": str(spec["source"]),
            "goal": charts.goal(name),
            "cells": [
                target_cell(row, y, name, met, lab) for (_, row), y in zip(annual.iterrows(), calendar, strict=True)
            ],
        }
        for name, spec in TARGETS.items()
    ]


def _facts(results: Results, lab: Labels) -> list[tuple[str, str]]:
    """The header's facts: population, facilities, beds, seed, years, generation time."""
    s = results.summary
    calendar = charts.years(results.annual)
    span = lab["meta_years_value" if len(calendar) > 1 else "meta_year_value"]
    residents = f"{s['residents']:,}"
    return [
        (lab["meta_residents"], lab["meta_residents_value"].format(residents=residents, scale=_scale(results))),
        (lab["meta_facilities"], f"{s['facilities']:,}"),
        (lab["beds"], f"{s['beds']:,}"),
        (lab["field.seed"], str(results.seed)),
        (lab["meta_years"], span.format(first=calendar[0], last=calendar[-1], n=len(calendar))),
        (lab["meta_generated"], generated()),
    ]


def _scale(results: Results) -> str:
    """The run's scale as shown, e.g. "0.02"."""
    return f"{results.scenario.run.scale:g}"


def generated() -> str:
    """Now, as a page's generation time: "2025-01-31 14:05 CET"."""
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def write_report(results: Results, path: Path, lang: str = "en") -> None:
    """Write the run's report: one self-contained HTML file that opens offline.

    plotly.js is inlined once in the head; no file, script, style sheet or font is fetched.

    Args:
        results: A run's results (`sim.run`).
        path: The HTML file to write (its folder is created if missing).
        lang: Label language, "en" or "zh".

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES`.
    """
    lab = labels(lang)
    figs = figures(results, lang)
    notes = captions(lab)
    write_page(
        Path(path),
        "run_report.html",
        lab=lab,
        title=lab["page_title"].format(scenario=results.scenario.name),
        scenario=results.scenario.name,
        description=results.scenario.description.strip(),
        facts=_facts(results, lab),
        scale=_scale(results),
        headline=_headline(results.annual, results.targets, lab),
        years=charts.years(results.annual),
        targets=_targets(results.annual, results.targets, lab),
        sections={section: [figure(i, figs[i], notes.get(i)) for i in fig_ids] for section, fig_ids in _SECTIONS},
        version=__version__,
    )


def write_run(results: Results, out: str | Path, *, lang: str = "en") -> Path:
    """Write a run's files (`Results.write`) and its report.html into one folder, atomically.

    Args:
        results: A run's results (`sim.run`).
        out: The output folder; an earlier one is replaced only once every file is written.
        lang: Label language of the report, "en" or "zh".

    Returns:
        The output folder.

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES` (nothing is written).
    """
    return results.write(out, extra=lambda folder: write_report(results, folder / "report.html", lang))
