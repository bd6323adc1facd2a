"""Self-contained HTML report of one run, in English or Chinese.

`write_report` writes one HTML file that opens offline: plotly.js is inlined once in the head, and
every chart is a plotly div. Each chart is built by its own function returning a plotly `Figure`
(see `figures`), so a dashboard can reuse them. Every visible word comes from `sim.presentation.labels`, and every
target line from `sim.metrics.TARGETS`.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from sim import __version__, metrics
from sim.comparison import KEYS, Comparison, paired_summary
from sim.metrics import BED_TIERS, TARGETS
from sim.params import TIERS
from sim.payment import COMPONENTS
from sim.presentation.labels import Labels, labels
from sim.runner import Results

FONT = (
    '-apple-system, "Segoe UI", "Helvetica Neue", Arial, "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", sans-serif'
)
TIER_COLOURS = {"village": "#009E73", "health_centre": "#56B4E9", "secondary": "#E69F00", "tertiary": "#D55E00"}
"""One colour per tier (Okabe–Ito, colour-blind safe), the same in every figure."""
COMPONENT_COLOURS = {"service": "#0072B2", "drugs": "#CC79A7", "tests": "#8C9DAD"}
"""One colour per revenue component."""
_ACCENT = "#1F4E79"  # the main series of a figure
_MUTED = "#9FB3C8"  # a secondary series (e.g. the first year)
_ORANGE = "#E69F00"
_GREEN = "#009E73"
_PINK = "#CC79A7"
_RED = "#C62828"  # target lines, deficits
_HEIGHT = 430

_CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#e4e7eb; --bg:#f4f6f8; --accent:#1f4e79;
        --ok-bg:#e3f4e8; --ok:#1e6b34; --bad-bg:#fdeaea; --bad:#a61b1b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 FONT; }
header { background: var(--accent); color: #fff; padding: 24px 40px 20px; }
header .brand { font-size: 12.5px; letter-spacing: .04em; opacity: .8; text-transform: uppercase; }
header h1 { margin: 4px 0 4px; font-size: 28px; font-weight: 600; }
header .desc { margin: 0 0 12px; max-width: 900px; opacity: .95; }
header dl { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
header dl div { display: flex; gap: 6px; }
header dt { opacity: .75; }
header dd { margin: 0; font-weight: 600; }
header .note { margin: 10px 0 0; font-size: 12.5px; opacity: .8; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 40px; font-size: 13px;
      display: flex; flex-wrap: wrap; gap: 2px 16px; }
nav b { color: var(--muted); font-weight: 600; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
main { max-width: 1240px; margin: 0 auto; padding: 4px 24px 24px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px; margin: 18px 0; }
h2 { margin: 0 0 12px; font-size: 19px; font-weight: 600; color: var(--accent); }
figure { margin: 0 0 18px; }
figure:last-child { margin-bottom: 0; }
figcaption { color: var(--muted); font-size: 12.5px; margin: 2px 0 0 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12.5px; border-bottom: 2px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
th:not(:first-child), td:not(:first-child) { white-space: nowrap; }
td.met { background: var(--ok-bg); color: var(--ok); font-weight: 600; }
td.unmet { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
td.na { color: var(--muted); }
td .source { display: block; color: var(--muted); font-size: 11.5px; font-weight: 400; max-width: 560px; }
p.legend { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
td.scenario, th.scenario { text-align: left; }
tr.group td { border-top: 2px solid var(--line); }
ul.changes { margin: 8px 0 0; padding-left: 20px; }
ul.changes li { margin: 6px 0; }
p.intro { margin: 14px 0 0; color: var(--muted); }
footer { max-width: 1240px; margin: 0 auto; padding: 0 24px 32px; color: var(--muted); font-size: 12.5px; }
@media print { body { background: #fff; } section, figure { break-inside: avoid; } nav { display: none; } }
""".replace("FONT", FONT)

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("visits", ("primary-share", "visit-shares")),
    ("revenue", ("revenue", "revenue-structure")),
    ("beds", ("bed-occupancy", "daily-beds")),
    ("waits", ("waits",)),
    ("money", ("fund", "payments")),
    ("costs", ("costs",)),
    ("flows", ("referrals", "patient-flows", "coverage")),
)
"""Report sections after the tables, each with the ids of its figures (keys of `figures`)."""


# ---------------------------------------------------------------------------------------- helpers
def _finite(value: object) -> bool:
    """A real number that is neither NaN nor infinite."""
    return isinstance(value, numbers.Real) and math.isfinite(value)


def _goal(name: str) -> str:
    """A target's goal as text, e.g. "≥ 65%" or "≈ 50 : 30 : 20"."""
    spec = TARGETS[name]
    goal = spec["value"]
    if isinstance(goal, dict):
        return "≈ " + " : ".join(f"{100 * goal[c]:g}" for c in COMPONENTS)
    sign = {">=": "≥", "<=": "≤"}[str(spec["direction"])]
    return f"{sign} {100 * float(goal):g}%"


def _rgba(colour: str, alpha: float) -> str:
    """A "#RRGGBB" colour with transparency."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _years(annual: pd.DataFrame) -> list[int]:
    """Calendar year of each row of the annual table."""
    return [int(y) for y in annual["calendar_year"]]


def _style(fig: go.Figure, title: str, height: int = _HEIGHT) -> go.Figure:
    """Apply the report's common look: white template, left title, legend below."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
        hovermode="x unified",
    )
    fig.update_annotations(font_size=13)
    return fig


def _annual_axes(fig: go.Figure, lab: Labels) -> None:
    """Whole calendar years on every x axis."""
    fig.update_xaxes(tickmode="linear", dtick=1, tickformat="d", title_text=lab["axis_year"])


def _share_axis(fig: go.Figure, title: str, **where: int) -> None:
    """A 0–100% y axis (so target lines always show)."""
    fig.update_yaxes(title_text=title, tickformat=".0%", hoverformat=".1%", range=[0, 1.02], **where)


def _target_line(fig: go.Figure, name: str, lab: Labels, **where: int) -> None:
    """Dashed horizontal line at a target of `sim.metrics.TARGETS`, labelled with its goal."""
    fig.add_hline(
        y=float(TARGETS[name]["value"]),  # type: ignore[arg-type]
        line={"dash": "dash", "color": _RED, "width": 1.5},
        annotation={"text": lab["target_line"].format(goal=_goal(name)), "font": {"color": _RED, "size": 12}},
        annotation_position="top left",
        **where,
    )


def _line(x: Sequence[object], y: pd.Series, name: str, colour: str, **kwargs: object) -> go.Scatter:
    """A line with markers; NaN values are gaps (a single year still shows as a point)."""
    return go.Scatter(
        x=x,
        y=y,
        name=name,
        mode="lines+markers",
        line={"color": colour, "width": 2.5},
        marker={"size": 7},
        connectgaps=False,
        **kwargs,
    )


def _million(series: pd.Series) -> pd.Series:
    """Yuan to ¥ million."""
    return series / 1e6


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
    fig = go.Figure(_line(_years(annual), annual["primary_visit_share"], lab["trace_primary_share"], _ACCENT))
    _target_line(fig, "primary_visit_share", lab)
    _share_axis(fig, lab["axis_share_of_visits"])
    _annual_axes(fig, lab)
    return _style(fig, lab["ind_primary_visit_share"])


def visit_shares_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Share of visits by tier per year, stacked bars.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    fig = go.Figure(
        [
            go.Bar(
                x=years,
                y=annual[f"visit_share_{t}"],
                name=lab[f"tier_{t}"],
                marker_color=TIER_COLOURS[t],
                texttemplate="%{y:.0%}",
                textposition="inside",
            )
            for t in TIERS
        ]
    )
    fig.update_layout(barmode="stack")
    _share_axis(fig, lab["axis_share_of_visits"])
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_visit_shares"])


def revenue_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Hospital medical revenue (bars) and its yearly growth with the cap line.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    growth = annual["medical_revenue_growth"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["sub_revenue"], lab["sub_growth"]), horizontal_spacing=0.1)
    fig.add_trace(
        go.Bar(x=years, y=_million(annual["medical_revenue"]), name=lab["trace_revenue"], marker_color=_ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(_line(years, growth, lab["growth"], _PINK), row=1, col=2)
    _target_line(fig, "medical_revenue_growth", lab, row=1, col=2)
    cap = float(TARGETS["medical_revenue_growth"]["value"])  # type: ignore[arg-type]
    known = [float(g) for g in growth if _finite(g)]
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
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_revenue"])


def revenue_structure_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Revenue structure (service/drugs/tests) per year as stacked bars, next to the target bar.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    bars = [str(y) for y in _years(annual)]
    shares = {c: list(annual[f"revenue_structure_{c}"]) for c in COMPONENTS}
    return _structure_figure(bars, shares, lab, lab["axis_year"], lab["fig_revenue_structure"])


def _structure_figure(
    bars: list[str], shares: dict[str, list[float]], lab: Labels, x_title: str, title: str
) -> go.Figure:
    """Stacked revenue-structure bars (one per year or scenario), then the hatched target bar.

    Args:
        bars: Name of each bar.
        shares: Share of each revenue component, one value per bar.
        lab: Labels of the report's language.
        x_title: Title of the x axis.
        title: Title of the figure.

    Returns:
        The figure.
    """
    goal = TARGETS["revenue_structure"]["value"]
    assert isinstance(goal, dict)
    x = [*bars, lab["target"]]
    patterns = [""] * len(bars) + ["/"]
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=[*shares[c], goal[c]],
                name=lab[f"component_{c}"],
                marker={"color": COMPONENT_COLOURS[c], "pattern": {"shape": patterns, "fgcolor": "#ffffff"}},
                texttemplate="%{y:.0%}",
                textposition="inside",
                insidetextanchor="middle",
            )
            for c in COMPONENTS
        ]
    )
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(type="category", title_text=x_title)
    _share_axis(fig, lab["axis_share"])
    return _style(fig, title)


def bed_occupancy_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Annual bed occupancy (occupied bed-days over bed-days) by tier.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    fig = go.Figure([_line(years, annual[f"bed_occupancy_{t}"], lab[f"tier_{t}"], TIER_COLOURS[t]) for t in BED_TIERS])
    fig.update_yaxes(title_text=lab["axis_occupancy"], tickformat=".0%", hoverformat=".1%", rangemode="tozero")
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_bed_occupancy"])


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
                line={"color": TIER_COLOURS[t], "width": 1.2},
                legendgroup=t,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=daily[f"beds_{t}"],
                name=lab["trace_beds"].format(tier=tier),
                mode="lines",
                line={"color": TIER_COLOURS[t], "width": 2, "dash": "dash", "shape": "hv"},
                legendgroup=t,
            )
        )
    fig.update_xaxes(title_text=lab["axis_date"], tickformat=lab["date_ticks"], hoverformat="%Y-%m-%d")
    fig.update_yaxes(title_text=lab["beds"], rangemode="tozero", hoverformat=",.0f")
    return _style(fig, lab["fig_daily_beds"], height=470)


def waits_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Mean outpatient queue and admission wait (days) by tier and year.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_wait_outpatient"], lab["sub_wait_admission"]), horizontal_spacing=0.1
    )
    for col, (column, tiers) in enumerate((("mean_wait_days", TIERS), ("mean_admission_wait_days", BED_TIERS)), 1):
        for t in tiers:
            fig.add_trace(
                _line(
                    years,
                    annual[f"{column}_{t}"],
                    lab[f"tier_{t}"],
                    TIER_COLOURS[t],
                    legendgroup=t,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text=lab["axis_days"], rangemode="tozero", hoverformat=".2f")
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_waits"])


def fund_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Insurance fund income and spending per year, and the cumulative balance, ¥ million.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    balance = _million(annual["fund_balance"])
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_fund_flows"], lab["sub_fund_balance"]), horizontal_spacing=0.1
    )
    fig.add_trace(
        go.Bar(x=years, y=_million(annual["fund_income"]), name=lab["trace_fund_income"], marker_color=_MUTED),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=_million(annual["fund_spending"]), name=lab["trace_fund_spending"], marker_color=_ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=years,
            y=balance,
            name=lab["trace_fund_balance"],
            marker_color=[_GREEN if b >= 0 else _RED for b in balance.fillna(0)],
        ),
        row=1,
        col=2,
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=lab["axis_million_yuan"], hoverformat=",.2f", zeroline=True, zerolinecolor="#52606d", zerolinewidth=1
    )
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_fund"])


def payments_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Bills paid by the fund and out of pocket (stacked, ¥ million), and the out-of-pocket share.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["sub_paid"], lab["sub_oop_share"]), horizontal_spacing=0.1)
    fig.add_trace(
        go.Bar(x=years, y=_million(annual["fund_paid"]), name=lab["trace_fund_paid"], marker_color=_ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=_million(annual["oop_paid"]), name=lab["trace_oop_paid"], marker_color=_ORANGE),
        row=1,
        col=1,
    )
    fig.add_trace(_line(years, annual["oop_share"], lab["trace_oop_share"], _ORANGE), row=1, col=2)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(title_text=lab["axis_million_yuan"], hoverformat=",.2f", row=1, col=1)
    _share_axis(fig, lab["axis_share"], row=1, col=2)
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_payments"])


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
    years = _years(annual)
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
                    marker_color=_ACCENT if i == ends[-1] else _MUTED,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(tickformat=",~f", hoverformat=fmt, rangemode="tozero", row=1, col=col)
    fig.update_layout(barmode="group")
    _style(fig, lab["fig_costs"])
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
    years = _years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["sub_referrals"], lab["ind_unmet_episodes"]), horizontal_spacing=0.1
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["referrals_up"], name=lab["trace_referrals_up"], marker_color=_ACCENT),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["referrals_down"], name=lab["trace_referrals_down"], marker_color=_GREEN),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=years, y=annual["unmet_episodes"], name=lab["trace_unmet"], marker_color=_MUTED), row=1, col=2
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=lab["axis_count"], tickformat=",~f", hoverformat=",.0f", rangemode="tozero")
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_referrals"])


def coverage_figure(annual: pd.DataFrame, lang: str = "en") -> go.Figure:
    """In-county admission rate and family-doctor signing rate, each with its target line.

    Args:
        annual: The annual table (`Results.annual`).
        lang: Label language, "en" or "zh".

    Returns:
        The figure.
    """
    lab = labels(lang)
    years = _years(annual)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(lab["ind_in_county_rate"], lab["ind_signing_rate"]), horizontal_spacing=0.1
    )
    panels = (
        ("in_county_rate", "ind_in_county_rate", _ACCENT),
        ("signing_rate", "trace_signing", _GREEN),
    )
    for col, (column, name, colour) in enumerate(panels, 1):
        fig.add_trace(_line(years, annual[column], lab[name], colour), row=1, col=col)
        _target_line(fig, column, lab, row=1, col=col)
        _share_axis(fig, lab["axis_share"], row=1, col=col)
    _annual_axes(fig, lab)
    return _style(fig, lab["fig_coverage"])


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
            if _finite(value) and value > 0:
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
    first = [_format(row.get(f"first_contacts_{TIERS[a]}", math.nan), "count") for a in sources]
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
            "color": [TIER_COLOURS[TIERS[i]] for i in (*sources, *targets)],
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
            "color": [_rgba(_FLOW_COLOURS[k], 0.45) for _, _, _, k in links],
            "customdata": [
                lab["flow_link"].format(kind=lab[f"flow_{k}"], source=names[a], target=names[b]) for a, b, _, k in links
            ],
            "hovertemplate": "%{customdata}: %{value:,.0f}<extra></extra>",
        },
    )
    fig = go.Figure(sankey)
    year = int(row["calendar_year"]) if _finite(row.get("calendar_year")) else ""
    _style(fig, title or lab["fig_flows"].format(year=year), height=470)
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
    return out


def _captions(lab: Labels) -> Labels:
    """Plain-text caption under each figure that has one."""

    def target(name: str) -> str:
        return lab["caption_target"].format(goal=_goal(name), source=TARGETS[name]["source"])

    return {
        "primary-share": target("primary_visit_share"),
        "revenue": f"{lab['caption_revenue']} {target('medical_revenue_growth')}",
        "revenue-structure": f"{lab['caption_revenue_structure']} {target('revenue_structure')}",
        "daily-beds": lab["caption_daily_beds"],
        "waits": lab["caption_waits"],
        "costs": lab["caption_costs"],
        "patient-flows": lab["caption_flows"],
        "coverage": f"{target('in_county_rate')} {target('signing_rate')}",
    }


# ----------------------------------------------------------------------------------------- tables
def _format(value: object, kind: str) -> str:
    """A number as shown in the tables: "pct" 51.4%, "money" 117.8 (¥ million), "count", "rate"."""
    if not _finite(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    return {"pct": f"{100 * v:.1f}%", "money": f"{v / 1e6:,.1f}", "count": f"{v:,.0f}", "rate": f"{v:.3f}"}[kind]


def _change(first: object, last: object, kind: str, lab: Labels) -> str:
    """Final minus first year in the row's unit (percentage points for shares), and relative to a positive first."""
    if not (_finite(first) and _finite(last)):
        return "—"
    a, b = float(first), float(last)  # type: ignore[arg-type]
    if kind == "pct":
        return f"{100 * (b - a):+.1f} {lab['percentage_points']}"
    scale = 1e6 if kind == "money" else 1.0
    digits = {"money": 1, "count": 0, "rate": 3}[kind]
    relative = f" ({(b - a) / a:+.1%})" if a > 0 and b >= 0 else ""
    return f"{(b - a) / scale:+,.{digits}f}{relative}"


def _structure(row: pd.Series) -> str:
    """Revenue structure of one year as "31 : 43 : 26" (percent)."""
    values = [row[f"revenue_structure_{c}"] for c in COMPONENTS]
    return " : ".join(f"{100 * v:.0f}" for v in values) if all(_finite(v) for v in values) else "—"


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
        (lab["ind_referrals_down"], "referrals_down", "count"),
        (lab["ind_unmet_episodes"], "unmet_episodes", "count"),
    ]


def _status(met: dict[tuple[int, str], bool], year: int, name: str) -> str:
    """CSS class of a target cell: "met", "unmet", or "na" (no check that year)."""
    if (year, name) not in met:
        return "na"
    return "met" if met[(year, name)] else "unmet"


def _checks(targets: pd.DataFrame) -> dict[tuple[int, str], bool]:
    """Met or not, by (simulation year, target), from `Results.targets`."""
    return {(int(r.year), str(r.target)): bool(r.met) for r in targets.itertuples()}


def _headline_html(annual: pd.DataFrame, targets: pd.DataFrame, lab: Labels) -> str:
    """First vs final year of the key indicators; targeted cells coloured met/not met."""
    years = _years(annual)
    ends = sorted({0, len(annual) - 1})
    met = _checks(targets)
    head = "".join(f"<th>{years[i]}</th>" for i in ends)
    change_head = f"<th>{lab['col_change']}</th>" if len(ends) > 1 else ""
    rows = []
    for label, column, kind in _headline_rows(lab):
        goal = _goal(column) if column in TARGETS else ""
        cells = []
        for i in ends:
            row = annual.iloc[i]
            text = _structure(row) if kind == "structure" else _format(row[column], kind)
            status = _status(met, int(row["year"]), column) if goal else ""
            cells.append(f'<td class="{status}">{text}</td>')
        change = ""
        if len(ends) > 1:
            delta = "" if kind == "structure" else _change(annual[column].iloc[0], annual[column].iloc[-1], kind, lab)
            change = f"<td>{delta}</td>"
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}{change}<td>{goal}</td></tr>")
    return (
        f"<table><thead><tr><th>{lab['col_indicator']}</th>{head}{change_head}<th>{lab['target']}</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _target_cell(row: pd.Series, calendar_year: int, name: str, met: dict[tuple[int, str], bool], lab: Labels) -> str:
    """One year's cell of a target: its value (a share, or the revenue structure), ✓/✗, coloured."""
    text = _structure(row) if name == "revenue_structure" else _format(row[name], "pct")
    status = _status(met, int(row["year"]), name)
    mark = {"met": " ✓", "unmet": " ✗", "na": ""}[status]
    title = lab["no_data"] if status == "na" else lab[status]
    return f'<td class="{status}" title="{calendar_year}: {title}">{text}{mark}</td>'


def _targets_html(annual: pd.DataFrame, targets: pd.DataFrame, lab: Labels) -> str:
    """Each policy target per year: value (a share, or the 5:3:2 structure), ✓/✗, coloured; goal and source."""
    years = _years(annual)
    met = _checks(targets)
    head = "".join(f"<th>{y}</th>" for y in years)
    rows = []
    for name, spec in TARGETS.items():
        cells = [_target_cell(row, y, name, met, lab) for (_, row), y in zip(annual.iterrows(), years, strict=True)]
        source = f'<span class="source">{lab["source"]}: {html.escape(str(spec["source"]))}</span>'
        rows.append(f"<tr><td>{lab[f'ind_{name}']}{source}</td><td>{_goal(name)}</td>{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr><th>{lab['col_indicator']}</th><th>{lab['target']}</th>{head}</tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table><p class="legend">{lab["targets_legend"]}</p>'
    )


# ----------------------------------------------------------------------------------------- page
def _header_html(results: Results, lab: Labels) -> str:
    """Scenario name and description, population, seed, years, generation time."""
    s = results.summary
    years = _years(results.annual)
    scale = f"{results.scenario.run.scale:g}"
    span = lab["meta_years_value" if len(years) > 1 else "meta_year_value"]
    meta = [
        (lab["meta_residents"], lab["meta_residents_value"].format(residents=f"{s['residents']:,}", scale=scale)),
        (lab["meta_facilities"], f"{s['facilities']:,}"),
        (lab["beds"], f"{s['beds']:,}"),
        (lab["field.seed"], str(results.seed)),
        (lab["meta_years"], span.format(first=years[0], last=years[-1], n=len(years))),
        (lab["meta_generated"], datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
    ]
    items = "".join(f"<div><dt>{k}</dt><dd>{html.escape(v)}</dd></div>" for k, v in meta)
    description = results.scenario.description.strip()
    desc = f'<p class="desc">{html.escape(description)}</p>' if description else ""
    return (
        f'<header><div class="brand">{lab["brand"]}</div><h1>{html.escape(results.scenario.name)}</h1>{desc}'
        f'<dl>{items}</dl><p class="note">{lab["scale_note"].format(scale=scale)}</p></header>'
    )


def _figure_html(name: str, fig: go.Figure, caption: str | None) -> str:
    """One figure: its plotly div (id `fig-<name>`), labelled with its title, and its caption."""
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{name}",
        default_height=f"{fig.layout.height}px",
        config={"displaylogo": False, "responsive": True},
    )
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure aria-label="{html.escape(fig.layout.title.text)}">{div}{cap}</figure>'


def _section(section: str, body: str, lab: Labels) -> str:
    """A titled section of the page (its id is the key of its heading in `labels.toml`, without `sec_`)."""
    return f'<section id="{section}"><h2>{lab[f"sec_{section}"]}</h2>{body}</section>'


def _body_html(results: Results, lab: Labels, lang: str) -> str:
    """Header, contents, the two tables and every figure section, and the footer."""
    targets = results.targets
    figs = figures(results, lang)
    captions = _captions(lab)
    sections = [
        _section("headline", _headline_html(results.annual, targets, lab), lab),
        _section("targets", _targets_html(results.annual, targets, lab), lab),
        *(
            _section(section, "".join(_figure_html(i, figs[i], captions.get(i)) for i in fig_ids), lab)
            for section, fig_ids in _SECTIONS
        ),
    ]
    nav = "".join(f'<a href="#{s}">{lab[f"sec_{s}"]}</a>' for s in ("headline", "targets", *(s for s, _ in _SECTIONS)))
    footer = f"<p>{lab['footer_tiers']}</p><p>{lab['footer_generator'].format(version=__version__)}</p>"
    return (
        f"{_header_html(results, lab)}\n<nav><b>{lab['nav_label']}</b>{nav}</nav>\n"
        f"<main>\n{''.join(sections)}\n</main>\n<footer>{footer}</footer>"
    )


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
    title = lab["page_title"].format(scenario=results.scenario.name)
    _write_page(Path(path), title, _body_html(results, lab, lang), lab)


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


def _write_page(path: Path, title: str, body: str, lab: Labels) -> None:
    """Write one HTML page: plotly.js inlined once in the head, the report's style sheet, `body`."""
    page = (
        f'<!DOCTYPE html>\n<html lang="{lab["html_lang"]}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


# ------------------------------------------------------------------------------------ comparison
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
    line = _line(
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
        fillcolor=_rgba(colour, 0.18),
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
            _target_line(fig, column, lab, **where)
        if kind == "pct":
            fig.update_yaxes(tickformat=".0%", rangemode="tozero", **where)
        else:
            fig.update_yaxes(zeroline=True, zerolinecolor="#52606d", **where)
    fig.update_xaxes(tickmode="linear", dtick=1, tickformat="d")
    _style(fig, lab["fig_cmp_series"], height=160 + 300 * rows)
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
    _style(fig, lab["fig_cmp_differences"].format(year=v.calendar_year), height=height)
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
    return _style(fig, lab["fig_cmp_beds"].format(year=v.calendar_year))


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
    return _style(fig, lab["fig_cmp_waits"].format(year=v.calendar_year))


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
    return _style(fig, lab["fig_cmp_money"].format(year=v.calendar_year))


def _revenue_structure_figure(v: _View) -> go.Figure:
    """Final-year revenue structure of every scenario as stacked bars, next to the target bar."""
    lab = v.lab
    shares = {c: [float(v.at(name, f"revenue_structure_{c}")["mean"]) for name in v.names] for c in COMPONENTS}
    title = lab["fig_cmp_revenue_structure"].format(year=v.calendar_year)
    return _structure_figure(list(v.names), shares, lab, lab["scenario"], title)


def _flows_ids(v: _View) -> Labels:
    """Figure id of each scenario's Sankey, `flows-<place in the comparison>`."""
    order = [s.name for s in v.comparison.scenarios]
    return {name: f"flows-{order.index(name)}" for name in v.names}


def _comparison_figures(v: _View) -> dict[str, go.Figure]:
    """Every comparison figure by name, in the order of the report."""
    figs = {"series": _series_figure(v), "differences": _differences_figure(v)}
    for name, fig_id in _flows_ids(v).items():
        title = v.lab["fig_cmp_flows"].format(year=v.calendar_year, scenario=name)
        figs[fig_id] = patient_flows_figure(v.annual[name], v.lang, title=title)
    figs["revenue-structure"] = _revenue_structure_figure(v)
    figs["beds"] = _beds_figure(v)
    figs["waits"] = _waits_figure(v)
    figs["money"] = _money_figure(v)
    return figs


def comparison_figures(comparison: Comparison, lang: str = "en") -> dict[str, go.Figure]:
    """Every figure of the comparison report, keyed by name (its element id in the report is `fig-<name>`).

    Args:
        comparison: A comparison (`sim.compare`).
        lang: Label language, "en" or "zh".

    Returns:
        Figures by name: "series", "differences", "flows-<i>" (one Sankey per scenario, i its place in
        the comparison), "revenue-structure", "beds", "waits", "money"; none when no run finished.
    """
    v = _view(comparison, lang)
    return {} if v is None else _comparison_figures(v)


def _comparison_captions(v: _View) -> Labels:
    """Plain-text caption under each comparison figure."""
    lab = v.lab
    first_in_runs = all(f"first_contacts_{t}" in v.comparison.runs for t in TIERS)
    captions = {
        "series": lab["caption_series"],
        "differences": lab["caption_differences"],
        "revenue-structure": _captions(lab)["revenue-structure"],
        "beds": lab["caption_cmp_bars"],
        "waits": f"{lab['caption_cmp_bars']} {lab['caption_waits']}",
        "money": lab["caption_cmp_money"],
    }
    for name, fig_id in _flows_ids(v).items():
        mean = lab["flows_mean"].format(n=v.replications(name))
        first = mean if first_in_runs else lab["flows_first"]
        captions[fig_id] = lab["caption_cmp_flows"].format(flows=lab["caption_flows"], referrals=mean, first=first)
    return captions


# --------------------------------------------------------------------------------- comparison page
def _change_clause(stat: pd.Series, column: str, kind: str, lab: Labels) -> str | None:
    """The sentence "raises X by a [lo, hi]" if the paired 95% interval excludes 0 (from 2 replications), else None."""
    values = [stat["diff"], stat["diff_lo"], stat["diff_hi"]]
    if not (_finite(stat["n"]) and stat["n"] >= 2 and all(_finite(x) for x in values)):
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
        clauses.append(v.lab[key].format(what=_say(target, v.lab), goal=_goal(target)))
    return clauses


def _scenario_sentence(v: _View, name: str) -> str:
    """What changed in one scenario against the baseline, as one sentence."""
    lab = v.lab
    shown = f"<b>{html.escape(name)}</b>"
    if name not in v.names:
        return lab["sum_no_runs"].format(scenario=shown)
    if min(v.replications(name), v.replications(v.baseline)) < 2:
        return lab["sum_one_replication"].format(scenario=shown)
    changes = [_change_clause(v.at(name, c), c, k, lab) for c, k in _key_indicators()]
    clauses = [html.escape(c) for c in changes if c] + [html.escape(c) for c in _target_clauses(v, name)]
    text = lab["clause_sep"].join(clauses) if clauses else lab["sum_no_change"]
    return lab["sum_scenario"].format(scenario=shown, year=v.calendar_year, clauses=text)


def _summary_html(comparison: Comparison, v: _View | None, lab: Labels) -> str:
    """The scenarios and their descriptions, then the auto-generated text on what changed."""
    rows = "".join(
        f'<tr><td class="scenario">{html.escape(s.name)}</td><td class="scenario">'
        f"{html.escape(s.description.strip())}</td></tr>"
        for s in comparison.scenarios
    )
    table = (
        f'<table><thead><tr><th>{lab["scenario"]}</th><th class="scenario">{lab["col_description"]}</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )
    others = [s.name for s in comparison.scenarios[1:]]
    if v is None or comparison.baseline not in v.names:
        items = [lab["sum_no_runs"].format(scenario=f"<b>{html.escape(comparison.baseline)}</b>")]
    elif not others:
        items = [lab["sum_baseline_only"]]
    else:
        items = [_scenario_sentence(v, name) for name in others]
    year = v.calendar_year if v is not None else ""
    intro = lab["sum_intro"].format(baseline=html.escape(comparison.baseline), year=year)
    lis = "".join(f"<li>{item}</li>" for item in items)
    return f'{table}<p class="intro">{intro}</p><ul class="changes">{lis}</ul>'


def _comparison_targets_html(v: _View) -> str:
    """Each policy target per scenario and year, on the replication means: value, ✓/✗, coloured."""
    lab = v.lab
    table = v.annual[v.names[0]]
    years = _years(table)
    head = "".join(f"<th>{y}</th>" for y in years)
    rows = []
    for name, spec in TARGETS.items():
        source = f'<span class="source">{lab["source"]}: {html.escape(str(spec["source"]))}</span>'
        span = f' rowspan="{len(v.names)}"'
        for k, scenario in enumerate(v.names):
            annual = v.annual[scenario]
            met = {(y, t): ok for (s, y, t), ok in v.met.items() if s == scenario}
            cells = "".join(
                _target_cell(row, int(row["calendar_year"]), name, met, lab) for _, row in annual.iterrows()
            )
            lead = f"<td{span}>{lab[f'ind_{name}']}{source}</td><td{span}>{_goal(name)}</td>" if k == 0 else ""
            group = ' class="group"' if k == 0 else ""
            rows.append(f'<tr{group}>{lead}<td class="scenario">{html.escape(scenario)}</td>{cells}</tr>')
    return (
        f"<table><thead><tr><th>{lab['col_indicator']}</th><th>{lab['target']}</th>"
        f'<th class="scenario">{lab["scenario"]}</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="legend">{lab["targets_legend"]}</p>'
    )


def comparison_targets_html(comparison: Comparison, lang: str = "en") -> str:
    """The comparison report's targets table as an HTML fragment (the dashboard shows it too).

    Args:
        comparison: A comparison (`sim.compare`).
        lang: Label language, "en" or "zh".

    Returns:
        The table and its legend; "" when no run finished.
    """
    v = _view(comparison, lang)
    return "" if v is None else _comparison_targets_html(v)


def style_sheet() -> str:
    """The reports' CSS, so that pages showing report pieces (the dashboard) look the same."""
    return _CSS


def _failures_html(failures: pd.DataFrame, lab: Labels) -> str:
    """One row per failed run: scenario, replication, seed and error."""
    rows = "".join(
        f'<tr><td class="scenario">{html.escape(str(r.scenario))}</td><td>{html.escape(str(r.replication))}</td>'
        f'<td>{html.escape(str(r.seed))}</td><td class="scenario">{html.escape(str(r.error))}</td></tr>'
        for r in failures.itertuples()
    )
    return (
        f"<table><thead><tr><th>{lab['scenario']}</th><th>{lab['col_replication']}</th><th>{lab['field.seed']}"
        f'</th><th class="scenario">{lab["col_error"]}</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _seeds_text(seeds: Sequence[int]) -> str:
    """Seeds as "1–8" when consecutive, else listed."""
    if len(seeds) > 1 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def _comparison_header_html(comparison: Comparison, lab: Labels) -> str:
    """Scenarios (baseline marked), replications, seeds, scale, years, failed runs, generation time."""
    run = comparison.scenarios[0].run
    first, last = run.start_year, run.start_year + run.years - 1
    span = lab["meta_years_value" if run.years > 1 else "meta_year_value"]
    names = [
        lab["baseline_mark"].format(scenario=s.name) if i == 0 else s.name for i, s in enumerate(comparison.scenarios)
    ]
    meta = [
        (lab["meta_scenarios"], ", ".join(names)),
        (lab["meta_replications"], str(len(comparison.seeds))),
        (lab["meta_seeds"], _seeds_text(comparison.seeds)),
        (lab["field.scale"], f"{run.scale:g}"),
        (lab["meta_years"], span.format(first=first, last=last, n=run.years)),
    ]
    if len(comparison.failures):
        meta.append((lab["meta_failed"], str(len(comparison.failures))))
    meta.append((lab["meta_generated"], datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")))
    items = "".join(f"<div><dt>{k}</dt><dd>{html.escape(v)}</dd></div>" for k, v in meta)
    note = lab["cmp_note"].format(n=len(comparison.seeds), scale=f"{run.scale:g}")
    return (
        f'<header><div class="brand">{lab["brand"]}</div><h1>{lab["cmp_heading"]}</h1>'
        f'<dl>{items}</dl><p class="note">{note}</p></header>'
    )


def _comparison_sections(comparison: Comparison, v: _View | None, lab: Labels) -> list[tuple[str, str]]:
    """(section id, inner HTML) of every section of the comparison report, in order."""
    sections = [("summary", _summary_html(comparison, v, lab))]
    if v is not None:
        figs = _comparison_figures(v)
        captions = _comparison_captions(v)
        flows = tuple(_flows_ids(v).values())
        groups = (
            ("series", ("series",)),
            ("differences", ("differences",)),
            ("patient_flows", flows),
            ("revenue", ("revenue-structure",)),
            ("beds_waits", ("beds", "waits")),
            ("money", ("money",)),
        )
        sections.append(("targets", _comparison_targets_html(v)))
        for section, ids in groups:
            sections.append((section, "".join(_figure_html(i, figs[i], captions.get(i)) for i in ids)))
    if len(comparison.failures):
        sections.append(("failures", _failures_html(comparison.failures, lab)))
    return sections


def _comparison_body_html(comparison: Comparison, lab: Labels, lang: str) -> str:
    """Header, contents, the summary, targets table, every figure section, failed runs, and the footer."""
    sections = _comparison_sections(comparison, _view(comparison, lang), lab)
    body = "".join(_section(s, inner, lab) for s, inner in sections)
    nav = "".join(f'<a href="#{s}">{lab[f"sec_{s}"]}</a>' for s, _ in sections)
    footer = f"<p>{lab['footer_tiers']}</p><p>{lab['footer_generator'].format(version=__version__)}</p>"
    return (
        f"{_comparison_header_html(comparison, lab)}\n<nav><b>{lab['nav_label']}</b>{nav}</nav>\n"
        f"<main>\n{body}\n</main>\n<footer>{footer}</footer>"
    )


def write_comparison_report(comparison: Comparison, path: Path, lang: str = "en") -> None:
    """Write a comparison's report: one self-contained HTML file that opens offline.

    It holds the scenarios and replications, a text summary of what changed against the baseline
    (only differences whose paired 95% interval excludes 0), the targets per scenario and year,
    and the figures of `comparison_figures`. plotly.js is inlined once; nothing is fetched.

    Args:
        comparison: A comparison (`sim.compare`).
        path: The HTML file to write (its folder is created if missing).
        lang: Label language, "en" or "zh".

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES`.
    """
    lab = labels(lang)
    title = lab["cmp_page_title"].format(scenarios=", ".join(s.name for s in comparison.scenarios))
    _write_page(Path(path), title, _comparison_body_html(comparison, lab, lang), lab)


def write_comparison(comparison: Comparison, out: str | Path, *, lang: str = "en") -> Path:
    """Write a comparison's files (`Comparison.write`) and its report.html into one folder, atomically.

    Args:
        comparison: A comparison (`sim.compare`).
        out: The output folder; an earlier one is replaced only once every file is written.
        lang: Label language of the report, "en" or "zh".

    Returns:
        The output folder.

    Raises:
        ValueError: If `lang` is not a language of `sim.presentation.labels.LANGUAGES` (nothing is written).
    """
    return comparison.write(out, extra=lambda folder: write_comparison_report(comparison, folder / "report.html", lang))
