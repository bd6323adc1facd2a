"""Maps of facilities and residential areas, and the facilities that gain and lose most against a baseline.

A map is a plotly scatter on the region's own coordinates (km): no map tiles, nothing fetched, so it
draws offline like every other figure. Facilities are marked by tier (shape and size) and coloured
by an indicator of the facility table (`sim.places`); areas (cells) are points at their village
clinic or community station, coloured by an indicator of the area table. A menu in the figure picks
the indicator. The run report maps one run's final year; the comparison report and the dashboard
map a scenario's change from the baseline, replication means, with the table of `gains_and_losses`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.params import TIERS
from sim.presentation import charts
from sim.presentation.labels import Labels, labels

FACILITY_INDICATORS: dict[str, str] = {
    "visits": "count",
    "admissions": "count",
    "occupancy": "pct",
    "mean_visit_wait_days": "days",
    "medical_revenue": "money",
    "referrals_in": "count",
}
"""Facility columns a map can be coloured by, with how each is shown; the first is the default."""
AREA_INDICATORS: dict[str, str] = {
    "primary_visit_share": "pct",
    "oop_share": "pct",
    "in_county_rate": "pct",
    "admissions_per_1000": "rate",
}
"""Area columns a map can be coloured by (`area_indicators` adds the derived ones)."""
_SIZES = {"village": 6, "health_centre": 9, "secondary": 14, "tertiary": 18}
_SYMBOLS = {"village": "circle", "health_centre": "square", "secondary": "diamond", "tertiary": "star"}
_KEYS = ("scenario", "replication", "seed")
_HOVER = {"count": ",.0f", "pct": ".1%", "days": ".2f", "money": ",.0f", "rate": ".1f"}


def final_year(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a facility or area table's last year."""
    return table[table["year"] == table["year"].max()]


def area_indicators(areas: pd.DataFrame) -> pd.DataFrame:
    """The area table with the derived indicators the maps show (admissions per 1,000 residents)."""
    per_1000 = 1000.0 * areas["admissions"] / areas["residents"].where(areas["residents"] > 0)
    return areas.assign(admissions_per_1000=per_1000)


def _colour_values(values: pd.Series) -> np.ndarray:
    """Marker colours: the values, NaN where undefined (plotly.js draws those in its default grey)."""
    return values.to_numpy(dtype=float)


def _scale(values: pd.Series, change: bool) -> dict[str, object]:
    """The colour axis of one indicator: a sequential scale, or a diverging one centred on no change."""
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if change:
        bound = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
        return {"cmin": -bound, "cmax": bound, "colorscale": "RdBu"}
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {"cmin": low, "cmax": high if high > low else low + 1.0, "colorscale": "Viridis"}


def _indicator_label(lab: Labels, name: str, change: bool) -> str:
    text = lab[f"place_{name}"]
    return lab["place_change"].format(indicator=text) if change else text


def place_map(
    table: pd.DataFrame,
    indicators: dict[str, str],
    title: str,
    lang: str = "en",
    *,
    change: bool = False,
    by_tier: bool = True,
) -> go.Figure:
    """A scatter map of places (facilities or areas), coloured by a chosen indicator.

    Args:
        table: One row per place: name, district, x_km, y_km, tier (facilities) and the indicator columns.
        indicators: Columns to colour by (the first shown first), with how each is shown (`_HOVER` keys).
        title: The figure's title.
        lang: Label language.
        change: The values are changes from a baseline: a diverging scale centred on 0.
        by_tier: One trace per tier, marked by shape and size (facilities); else one trace (areas).

    Returns:
        The figure; its menu recolours every trace by another indicator.
    """
    lab = labels(lang)
    groups = [(t, table[table["tier"] == t]) for t in TIERS] if by_tier else [("", table)]
    groups = [(t, g) for t, g in groups if len(g)]
    names = list(indicators)
    fig = go.Figure()
    for tier, group in groups:
        fig.add_trace(
            go.Scatter(
                x=group["x_km"],
                y=group["y_km"],
                mode="markers",
                name=lab[f"tier_{tier}"] if tier else lab["place_areas"],
                text=[f"{n} · {d}" for n, d in zip(group["name"], group["district"], strict=True)],
                marker={
                    "size": _SIZES[tier] if tier else 9,
                    "symbol": _SYMBOLS[tier] if tier else "circle",
                    "coloraxis": "coloraxis",
                    "line": {"width": 0.6 if tier in ("secondary", "tertiary") else 0, "color": "#1f2933"},
                    "opacity": 0.9,
                },
            )
        )

    def restyle(name: str) -> tuple[dict[str, object], dict[str, object]]:
        label = _indicator_label(lab, name, change)
        value = f"%{{marker.color:{'+' if change else ''}{_HOVER[indicators[name]]}}}"
        data = {
            "marker.color": [_colour_values(group[name]) for _, group in groups],
            "hovertemplate": [f"<b>%{{text}}</b><br>{label}: {value}<extra></extra>"] * len(groups),
        }
        layout = {f"coloraxis.{k}": v for k, v in _scale(table[name], change).items()}
        layout["coloraxis.colorbar.title.text"] = label
        layout["coloraxis.colorbar.tickformat"] = ".0%" if indicators[name] == "pct" else ",~s"
        return data, layout

    first_data, first_layout = restyle(names[0])
    for i, _ in enumerate(groups):
        fig.data[i].marker.color = first_data["marker.color"][i]
        fig.data[i].hovertemplate = first_data["hovertemplate"][i]
    charts.style(fig, title, height=560)
    fig.update_layout(
        coloraxis={
            "colorbar": {"thickness": 14, "title": {"side": "right"}},
            **{k.split(".", 1)[1]: v for k, v in first_layout.items() if k.count(".") == 1},
        },
        updatemenus=[
            {
                "buttons": [
                    {"label": _indicator_label(lab, n, change), "method": "update", "args": list(restyle(n))}
                    for n in names
                ],
                "direction": "down",
                "x": 0.0,
                "xanchor": "left",
                "y": 1.0,
                "yanchor": "bottom",
                "showactive": True,
            }
        ],
        legend={"orientation": "h", "y": -0.08, "x": 0.0},
    )
    fig.layout.coloraxis.colorbar.title.text = first_layout["coloraxis.colorbar.title.text"]
    fig.layout.coloraxis.colorbar.tickformat = first_layout["coloraxis.colorbar.tickformat"]
    fig.update_xaxes(title_text=lab["place_km"], showgrid=False, zeroline=False)
    # Equal scales, north up as the district map draws it.
    fig.update_yaxes(title_text=lab["place_km"], showgrid=False, zeroline=False, scaleanchor="x", autorange="reversed")
    return fig


def facility_map_figure(facilities: pd.DataFrame, lang: str = "en") -> go.Figure:
    """The facilities of a run's final year on the map, coloured by a chosen indicator (visits first)."""
    lab = labels(lang)
    table = final_year(facilities)
    title = lab["map_facilities_title"].format(year=_calendar_year(table))
    return place_map(table, FACILITY_INDICATORS, title, lang)


def area_map_figure(areas: pd.DataFrame, lang: str = "en") -> go.Figure:
    """The residential areas of a run's final year on the map, coloured by a chosen indicator (primary share first)."""
    lab = labels(lang)
    table = area_indicators(final_year(areas))
    title = lab["map_areas_title"].format(year=_calendar_year(table))
    return place_map(table, AREA_INDICATORS, title, lang, by_tier=False)


def _calendar_year(table: pd.DataFrame) -> int:
    return int(table["calendar_year"].iloc[0]) if len(table) else 0


def changes(
    table: pd.DataFrame, baseline: str, scenario: str, id_column: str, indicators: Sequence[str]
) -> pd.DataFrame:
    """Each place's final-year indicators in a scenario and the baseline, replication means, and the change.

    Args:
        table: Facility or area rows of every (scenario, replication, year) (`Comparison.facilities`, `.areas`).
        baseline: The baseline's name.
        scenario: The scenario's name.
        id_column: The places' id column ("facility_id" or "area_id").
        indicators: Columns to compare.

    Returns:
        One row per place in the last year both scenarios have: its descriptive columns, then
        `<indicator>` (the change, scenario − baseline), `<indicator>_baseline` and
        `<indicator>_scenario`; empty when either scenario has no row.
    """
    if table.empty or not table["scenario"].isin([baseline, scenario]).any():
        return pd.DataFrame()
    # The last year both have finished (the dashboard shows years as they finish).
    year = min(table.loc[table["scenario"] == name, "year"].max() for name in (baseline, scenario))
    rows = table[table["year"] == year]
    text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c])]
    descriptive = [*text, "x_km", "y_km", "calendar_year"]
    descriptive = [id_column, *[c for c in descriptive if c != id_column and c not in _KEYS]]
    columns = list(indicators)
    means = {name: rows[rows["scenario"] == name].groupby(id_column)[columns].mean() for name in (baseline, scenario)}
    if means[baseline].empty or means[scenario].empty:
        return pd.DataFrame()
    places = rows[rows["scenario"] == scenario].drop_duplicates(id_column).set_index(id_column)[descriptive[1:]]
    out = places.copy()
    for name in indicators:
        out[f"{name}_baseline"] = means[baseline][name]
        out[f"{name}_scenario"] = means[scenario][name]
        out[name] = out[f"{name}_scenario"] - out[f"{name}_baseline"]
    return out.reset_index()


def change_maps(
    facilities: pd.DataFrame, areas: pd.DataFrame, baseline: str, scenario: str, lang: str = "en"
) -> dict[str, go.Figure]:
    """The maps of a scenario's change from the baseline in the final year: "facility-changes" and "area-changes".

    A map is left out while either scenario has no finished year (the dashboard shows years as they finish).
    """
    lab = labels(lang)
    out = {}
    moved = changes(facilities, baseline, scenario, "facility_id", list(FACILITY_INDICATORS))
    if len(moved):
        title = lab["map_facility_changes_title"].format(
            year=_calendar_year(moved), scenario=scenario, baseline=baseline
        )
        out["facility-changes"] = place_map(moved, FACILITY_INDICATORS, title, lang, change=True)
    if areas.empty:
        return out
    area_moved = changes(area_indicators(areas), baseline, scenario, "area_id", list(AREA_INDICATORS))
    if len(area_moved):
        title = lab["map_area_changes_title"].format(
            year=_calendar_year(area_moved), scenario=scenario, baseline=baseline
        )
        out["area-changes"] = place_map(area_moved, AREA_INDICATORS, title, lang, change=True, by_tier=False)
    return out


def gains_and_losses(facilities: pd.DataFrame, baseline: str, scenario: str, n: int = 10) -> pd.DataFrame:
    """The `n` facilities whose outpatient visits rise most and the `n` whose visits fall most against the baseline.

    Final year, replication means; only facilities whose visits changed. Columns: name, tier,
    district, visits_baseline, visits_scenario, visits (the change), share (the change ÷ baseline
    visits, NaN from none); gainers first, largest first, then losers, largest loss last.
    """
    columns = ["name", "tier", "district", "visits_baseline", "visits_scenario", "visits", "share"]
    moved = changes(facilities, baseline, scenario, "facility_id", ["visits"])
    if moved.empty:
        return pd.DataFrame(columns=columns)
    moved = moved[moved["visits"] != 0].sort_values("visits", ascending=False, kind="stable")
    base = moved["visits_baseline"]
    moved = moved.assign(share=moved["visits"] / base.where(base > 0))
    gainers, losers = moved[moved["visits"] > 0].head(n), moved[moved["visits"] < 0].tail(n)
    return pd.concat([gainers, losers])[columns].reset_index(drop=True)
