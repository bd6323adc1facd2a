"""The dashboard's own figure: the region's districts on their grid, coloured by an indicator.

Every other chart of the dashboard is a report figure (`sim.presentation.report`,
`sim.presentation.comparison_report`), drawn from the same tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from sim.presentation.charts import FONT
from sim.presentation.labels import labels
from sim.region import Region

COLOURS = "YlGnBu"
METRICS = {"occupancy": "map_occupancy", "primary_revenue_share": "map_primary_revenue"}
"""Indicators a district can be coloured by (columns of `Snapshot.districts`) → their label keys."""


def district_boxes(region: Region) -> pd.DataFrame:
    """Each district's tile on the map: the box around its facilities.

    Args:
        region: A built region (the map is the same at every scale).

    Returns:
        One row per district: district, name, x0, x1, y0, y1 (km).
    """
    xy, district = region.facility_xy, region.facility_district
    rows = []
    for d, name in enumerate(region.district_names):
        points = xy[district == d]
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        rows.append({"district": d, "name": name, "x0": x0, "x1": x1, "y0": y0, "y1": y1})
    return pd.DataFrame(rows)


def district_name(name: str, lang: str) -> str:
    """A district's name in a language: "County 3" → "县3"."""
    lab = labels(lang)
    match = re.fullmatch(r"(District|County) (\d+)", name)
    return lab[match.group(1).lower()].format(k=match.group(2)) if match else name


def district_figure(
    boxes: pd.DataFrame, districts: dict[str, pd.DataFrame], metric: str, lang: str = "en"
) -> go.Figure:
    """One map per scenario, side by side, districts coloured on one 0–100% scale (final year shown).

    Args:
        boxes: `district_boxes` of the region.
        districts: Per scenario (baseline first), rows of calendar_year, district and the metric.
        metric: A key of `METRICS`.
        lang: Label language.

    Returns:
        The figure (an empty frame with a title when there is nothing yet).
    """
    lab = labels(lang)
    names = list(districts)
    if not names:
        fig = go.Figure()
        fig.update_layout(title=lab["map_empty"], height=200, template="plotly_white", font={"family": FONT})
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    year = int(min(table["calendar_year"].max() for table in districts.values()))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.04)
    for col, name in enumerate(names, start=1):
        table = districts[name]
        values = table[table["calendar_year"] == year].set_index("district")[metric]
        for box in boxes.itertuples():
            value = float(values.get(box.district, np.nan))
            known = np.isfinite(value)
            colour = sample_colorscale(COLOURS, [value if known else 0.0])[0] if known else "#e4e7eb"
            text = f"{value:.0%}" if known else "—"
            label = district_name(box.name, lang)
            fig.add_trace(
                go.Scatter(
                    x=[box.x0, box.x1, box.x1, box.x0, box.x0],
                    y=[box.y0, box.y0, box.y1, box.y1, box.y0],
                    fill="toself",
                    fillcolor=colour,
                    mode="lines",
                    line={"color": "#ffffff", "width": 2},
                    hoverinfo="text",
                    hoveron="fills",
                    text=f"{label}: {text}",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            fig.add_annotation(
                x=(box.x0 + box.x1) / 2,
                y=(box.y0 + box.y1) / 2,
                text=f"{label}<br><b>{text}</b>",
                showarrow=False,
                font={"size": 11, "color": "#ffffff" if known and value > 0.55 else "#1f2933"},
                row=1,
                col=col,
            )
    # The colour bar: an invisible point carrying the scale.
    fig.add_trace(
        go.Scatter(
            x=[boxes["x0"].iloc[0]],
            y=[boxes["y0"].iloc[0]],
            mode="markers",
            marker={
                "size": 0.1,
                "color": [0.0],
                "cmin": 0.0,
                "cmax": 1.0,
                "colorscale": COLOURS,
                "showscale": True,
                "colorbar": {"tickformat": ".0%", "thickness": 14},
            },
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", autorange="reversed")
    for col in range(2, len(names) + 1):
        fig.update_yaxes(scaleanchor=f"x{col}", row=1, col=col)
    title = lab["map_title"].format(metric=lab[METRICS[metric]], year=year)
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        height=460,
        margin={"l": 20, "r": 20, "t": 80, "b": 20},
    )
    return fig
