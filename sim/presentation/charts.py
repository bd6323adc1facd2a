"""The look every chart shares, and numbers as the pages show them.

One font stack, one colour per tier and per revenue component, the common layout (`style`), axes
and target lines (from `sim.metrics.TARGETS`), so the run report, the comparison report, the
research pages and the dashboard draw alike.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from sim.metrics import STRUCTURE_PARTS, TARGETS
from sim.parameters.prices import COMPONENTS
from sim.presentation.labels import Labels

FONT = (
    '-apple-system, "Segoe UI", "Helvetica Neue", Arial, "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", sans-serif'
)
TIER_COLOURS = {"village": "#009E73", "health_centre": "#56B4E9", "secondary": "#E69F00", "tertiary": "#D55E00"}
"""One colour per tier (Okabe–Ito, colour-blind safe), the same in every figure."""
COMPONENT_COLOURS = {
    "service": "#0072B2",
    "drugs": "#CC79A7",
    "consumables": "#882255",
    "drugs_and_consumables": "#AA4499",
    "tests": "#8C9DAD",
}
"""One colour per revenue component, and per part of the 5:3:2 target (`metrics.STRUCTURE_PARTS`)."""
ACCENT = "#1F4E79"  # the main series of a figure
MUTED = "#9FB3C8"  # a secondary series (e.g. the first year)
ORANGE = "#E69F00"
GREEN = "#009E73"
PINK = "#CC79A7"
RED = "#C62828"  # target lines, deficits
HEIGHT = 430


def finite(value: object) -> bool:
    """A real number that is neither NaN nor infinite."""
    return isinstance(value, numbers.Real) and math.isfinite(value)


def goal(name: str) -> str:
    """A target's goal as text, e.g. "≥ 65%" or "≈ 50 : 30 : 20"."""
    spec = TARGETS[name]
    goal = spec["value"]
    if isinstance(goal, dict):
        return "≈ " + " : ".join(f"{100 * goal[part]:g}" for part in STRUCTURE_PARTS)
    sign = {">=": "≥", "<=": "≤"}[str(spec["direction"])]
    return f"{sign} {100 * float(goal):g}%"


def rgba(colour: str, alpha: float) -> str:
    """A "#RRGGBB" colour with transparency."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def years(annual: pd.DataFrame) -> list[int]:
    """Calendar year of each row of the annual table."""
    return [int(y) for y in annual["calendar_year"]]


def style(fig: go.Figure, title: str, height: int = HEIGHT) -> go.Figure:
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


def annual_axes(fig: go.Figure, lab: Labels) -> None:
    """Whole calendar years on every x axis."""
    fig.update_xaxes(tickmode="linear", dtick=1, tickformat="d", title_text=lab["axis_year"])


def share_axis(fig: go.Figure, title: str, **where: int) -> None:
    """A 0–100% y axis (so target lines always show)."""
    fig.update_yaxes(title_text=title, tickformat=".0%", hoverformat=".1%", range=[0, 1.02], **where)


def target_line(fig: go.Figure, name: str, lab: Labels, **where: int) -> None:
    """Dashed horizontal line at a target of `sim.metrics.TARGETS`, labelled with its goal."""
    fig.add_hline(
        y=float(TARGETS[name]["value"]),  # type: ignore[arg-type]
        line={"dash": "dash", "color": RED, "width": 1.5},
        annotation={"text": lab["target_line"].format(goal=goal(name)), "font": {"color": RED, "size": 12}},
        annotation_position="top left",
        **where,
    )


def line(x: Sequence[object], y: pd.Series, name: str, colour: str, **kwargs: object) -> go.Scatter:
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


def million(series: pd.Series) -> pd.Series:
    """Yuan to ¥ million."""
    return series / 1e6


def structure_figure(
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
    # The target's bar has the structure's three parts: drugs and consumables are one, stacked where they are.
    stacks = [(c, [*shares[c], goal.get(c)]) for c in COMPONENTS]
    both = "drugs_and_consumables"
    stacks.insert(COMPONENTS.index("consumables") + 1, (both, [None] * len(bars) + [goal[both]]))
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=y,
                name=lab[f"component_{c}"],
                marker={"color": COMPONENT_COLOURS[c], "pattern": {"shape": patterns, "fgcolor": "#ffffff"}},
                texttemplate="%{y:.0%}",
                textposition="inside",
                insidetextanchor="middle",
            )
            for c, y in stacks
        ]
    )
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(type="category", title_text=x_title)
    share_axis(fig, lab["axis_share"])
    return style(fig, title)


def format_value(value: object, kind: str) -> str:
    """A number as shown in the tables: "pct" 51.4%, "money" 117.8 (¥ million), "count", "rate"."""
    if not finite(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    return {"pct": f"{100 * v:.1f}%", "money": f"{v / 1e6:,.1f}", "count": f"{v:,.0f}", "rate": f"{v:.3f}"}[kind]


def structure_text(row: pd.Series) -> str:
    """Revenue structure of one year as "31 : 30 : 13 : 26" (percent; service, drugs, consumables, tests)."""
    values = [row[f"revenue_structure_{c}"] for c in COMPONENTS]
    return " : ".join(f"{100 * v:.0f}" for v in values) if all(finite(v) for v in values) else "—"
