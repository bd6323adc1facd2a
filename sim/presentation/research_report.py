"""Pages and tables of the research workflows: sweep, sensitivity, calibration, evidence.

Each page is one self-contained HTML file from `templates/research_page.html`, with the reports'
page skeleton and style (`sim.presentation.page`): plotly.js inlined once, so it opens offline.
Figures are functions returning plotly `Figure`s, so a notebook or the dashboard can show them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from sim.evidence import EFFECT_FACTOR, LEVEL_TOLERANCE, EvidenceResult
from sim.metrics import TARGETS
from sim.presentation import charts
from sim.presentation.labels import labels
from sim.presentation.page import figure, write_page
from sim.runner import atomic_file
from sim.sweep import HEADLINE, point_summary

if TYPE_CHECKING:
    from sim.calibration import CalibrationResult
    from sim.experiment import Experiment

_BLUE, _ORANGE, _RED, _GREEN = "#1F4E79", "#E69F00", "#C0392B", "#009E73"
PRIMARY, GROWTH = "primary_visit_share", "medical_revenue_growth_mean"
NAMES = {
    "primary_visit_share": "primary-care share of visits, final year",
    "medical_revenue_growth_mean": "hospital medical revenue growth, mean per year",
    "oop_share": "out-of-pocket share, final year",
    "in_county_rate": "in-county admissions, final year",
    "fund_balance": "insurance fund balance, final year (¥)",
}


def _name(indicator: str) -> str:
    return NAMES.get(indicator, indicator.replace("_", " "))


def _hover(summary: pd.DataFrame, parameters: list[str]) -> list[str]:
    return [
        "<br>".join(
            [
                f"point {int(r['point'])}",
                *(f"{k} = {r[k]:.4g}" if isinstance(r[k], float) else f"{k} = {r[k]}" for k in parameters),
            ]
        )
        for _, r in summary.iterrows()
    ]


def frontier_figure(summary: pd.DataFrame, parameters: list[str], title: str | None = None) -> go.Figure:
    """Primary-care share against revenue growth, one dot per design point, with the 65% / 9% targets.

    Points in the shaded corner meet both targets; the line joins the points no other point beats
    on both (the Pareto frontier: highest primary share for a given growth).
    """
    x, y = summary[GROWTH].to_numpy(dtype=float), summary[PRIMARY].to_numpy(dtype=float)
    share, cap = float(TARGETS[PRIMARY]["value"]), float(TARGETS["medical_revenue_growth"]["value"])  # type: ignore[arg-type]
    fig = go.Figure()
    finite = np.isfinite(x) & np.isfinite(y)
    lo_x = min(float(np.nanmin(x[finite])) if finite.any() else 0.0, cap) - 0.01
    fig.add_shape(type="rect", x0=lo_x, x1=cap, y0=share, y1=1.0, fillcolor=_GREEN, opacity=0.08, line_width=0)
    meets = finite & (x <= cap) & (y >= share)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            name="design point",
            marker={"size": 9, "color": np.where(meets, _GREEN, _BLUE), "line": {"width": 0.5, "color": "white"}},
            text=_hover(summary, parameters),
            hovertemplate="%{text}<br>growth %{x:.1%}, primary %{y:.1%}<extra></extra>",
        )
    )
    order = np.argsort(x[finite])
    fx, fy = x[finite][order], y[finite][order]
    front = [i for i in range(len(fx)) if fy[i] > (fy[:i].max() if i else -np.inf)]
    fig.add_trace(go.Scatter(x=fx[front], y=fy[front], mode="lines", name="frontier", line={"color": _ORANGE}))
    fig.add_hline(y=share, line={"dash": "dash", "color": _RED}, annotation_text=f"target ≥{share:.0%}")
    fig.add_vline(x=cap, line={"dash": "dash", "color": _RED}, annotation_text=f"cap ≤{cap:.0%}")
    fig.update_xaxes(title_text=_name(GROWTH), tickformat=".0%")
    fig.update_yaxes(title_text=_name(PRIMARY), tickformat=".0%")
    charts.style(fig, title or f"Which settings reach {share:.0%} primary care within the {cap:.0%} revenue cap")
    fig.update_layout(hovermode="closest")
    return fig


def effect_figure(summary: pd.DataFrame, experiment: Experiment, indicator: str) -> go.Figure:
    """One indicator against the varied parameters: a heatmap for a two-parameter grid, else a panel per parameter."""
    keys = experiment.parameters
    numeric = all(pd.api.types.is_numeric_dtype(summary[k]) for k in keys)
    if experiment.spec.design == "factorial" and len(keys) == 2:
        grid = summary.pivot_table(index=keys[1], columns=keys[0], values=indicator, aggfunc="mean")
        fig = go.Figure(
            go.Heatmap(
                x=[str(v) for v in grid.columns],
                y=[str(v) for v in grid.index],
                z=grid.to_numpy(),
                colorscale="Viridis",
                colorbar={"title": {"text": ""}},
                hovertemplate=f"{keys[0]} = %{{x}}<br>{keys[1]} = %{{y}}<br>%{{z:.4g}}<extra></extra>",
            )
        )
        fig.update_xaxes(title_text=keys[0], type="category")
        fig.update_yaxes(title_text=keys[1], type="category")
        fig = charts.style(fig, _name(indicator))
        fig.update_layout(hovermode="closest")
        return fig
    fig = make_subplots(rows=1, cols=len(keys), shared_yaxes=True, horizontal_spacing=0.04)
    for j, key in enumerate(keys, start=1):
        err = (summary[indicator] - summary[f"{indicator}_lo"]).to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=summary[key] if numeric else summary[key].astype(str),
                y=summary[indicator],
                mode="markers",
                marker={"size": 7, "color": _BLUE, "opacity": 0.7},
                error_y={"type": "data", "array": err, "visible": bool(np.nanmax(err, initial=0) > 0)},
                name=key,
                showlegend=False,
                text=_hover(summary, keys),
                hovertemplate="%{text}<br>%{y:.4g}<extra></extra>",
            ),
            row=1,
            col=j,
        )
        fig.update_xaxes(title_text=key, row=1, col=j)
    fig = charts.style(fig, f"{_name(indicator)} (mean and 95% interval over replications)")
    fig.update_layout(hovermode="closest")
    return fig


def _page(path: Path, title: str, intro: str, figures: dict[str, go.Figure], tables: list[Markup]) -> None:
    """Write one page (`research_page.html`), atomically: title, introduction, the tables, then the figures."""
    with atomic_file(path) as tmp:
        write_page(
            tmp,
            "research_page.html",
            lab=labels("en"),
            title=title,
            intro=intro,
            tables=tables,
            figures=[figure(name, fig) for name, fig in figures.items()],
        )


def _table_html(frame: pd.DataFrame) -> Markup:
    """A table as pandas writes it (numbers to 4 significant digits), markup for a page."""
    return Markup(frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, classes="targets"))


def write_sweep_outputs(experiment: Experiment, runs: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Write summary.csv (every point: mean and 95% interval of every indicator) and sweep.html.

    Returns:
        The per-point summary.
    """
    summary = point_summary(runs, experiment)
    with atomic_file(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    figures: dict[str, go.Figure] = {}
    if {PRIMARY, GROWTH} <= set(summary.columns) and summary[[PRIMARY, GROWTH]].notna().any().all():
        figures["frontier"] = frontier_figure(summary, experiment.parameters)
    for indicator in HEADLINE:
        if indicator in summary.columns:
            figures[indicator] = effect_figure(summary, experiment, indicator)
    failed = int((runs.status != "ok").sum()) if len(runs) else 0
    intro = (
        f"{experiment.spec.description or experiment.name} — design {experiment.spec.design}, "
        f"{len(experiment.points)} points × {len(experiment.seeds)} replications (seeds {experiment.seeds[0]}–"
        f"{experiment.seeds[-1]}, the same at every point), {failed} failed. Every run is in runs.parquet; "
        "means and intervals per point in summary.csv."
    )
    if experiment.parameter_draws is not None:
        intro += (
            f" Replication i at every point takes parameter set i of {len(experiment.parameter_draws)} drawn from "
            f"the posterior {experiment.posterior}: the intervals include parameter uncertainty."
        )
    _page(out / "sweep.html", f"tiersim sweep: {experiment.name}", intro, figures, [])
    return summary


def sensitivity_figure(table: pd.DataFrame) -> go.Figure:
    """Bars of the sensitivity indices per parameter, with their 95% intervals."""
    method, indicator = table["method"].iloc[0], table["indicator"].iloc[0]
    fig = go.Figure()
    if method == "sobol":
        bars = (("S1", "first order S1", _BLUE), ("ST", "total order ST", _ORANGE))
    else:
        bars = (("mu_star", "μ* (mean |elementary effect|)", _BLUE),)
    for column, name, colour in bars:
        fig.add_trace(
            go.Bar(
                x=table["parameter"],
                y=table[column],
                name=name,
                marker_color=colour,
                error_y={"type": "data", "array": table[f"{column}_hi"] - table[column]},
            )
        )
    if method == "morris":
        fig.add_trace(go.Scatter(x=table["parameter"], y=table["sigma"], mode="markers", name="σ", marker_color=_RED))
    fig.update_layout(barmode="group")
    return charts.style(fig, f"Sensitivity of {_name(indicator)} ({'Sobol' if method == 'sobol' else 'Morris'})")


def write_sensitivity_outputs(experiment: Experiment, tables: list[pd.DataFrame], out: Path) -> None:
    """Write sensitivity.csv (all indicators' indices) and sensitivity.html (a chart and table each)."""
    combined = pd.concat(tables, ignore_index=True)
    with atomic_file(out / "sensitivity.csv") as tmp:
        combined.to_csv(tmp, index=False)
    figures = {f"sensitivity-{t['indicator'].iloc[0]}": sensitivity_figure(t) for t in tables}
    intro = (
        f"{experiment.spec.description or experiment.name} — {experiment.runs} runs "
        f"({experiment.spec.design} design, {len(experiment.points)} points × {len(experiment.seeds)} replications, "
        "indicator averaged over replications). Intervals are bootstrap 95% intervals (SALib)."
    )
    _page(
        out / "sensitivity.html",
        f"tiersim sensitivity: {experiment.name}",
        intro,
        figures,
        [_table_html(t.drop(columns=["method"])) for t in tables],
    )


def calibration_figure(result: CalibrationResult) -> go.Figure:
    """Published against simulated value of each target (relative), with the simulated 95% interval."""
    fit = result.fit_table()
    fig = go.Figure(
        go.Bar(
            x=fit["target"],
            y=fit["simulated"] / fit["published"],
            marker_color=_BLUE,
            name="simulated ÷ published",
            error_y={"type": "data", "array": (fit["simulated_hi"] - fit["simulated"]) / fit["published"]},
        )
    )
    fig.add_hline(y=1.0, line={"dash": "dash", "color": _RED}, annotation_text="published")
    fig.update_yaxes(title_text="simulated ÷ published")
    return charts.style(fig, "Fit of the calibrated model to its targets")


def search_figure(result: CalibrationResult) -> go.Figure:
    """Every point the search ran, by round: its parameters and loss (log scale)."""
    keys = result.calibration.keys
    ev = result.evaluated
    fig = make_subplots(rows=1, cols=len(keys), shared_yaxes=True, horizontal_spacing=0.04)
    for j, key in enumerate(keys, start=1):
        fig.add_trace(
            go.Scatter(
                x=ev[key],
                y=ev["loss"],
                mode="markers",
                marker={"color": ev["round"], "colorscale": "Viridis", "size": 7, "showscale": j == 1},
                showlegend=False,
                hovertemplate=f"{key} = %{{x:.4g}}<br>loss %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=j,
        )
        fig.add_vline(x=result.fitted[key], line={"color": _RED, "dash": "dash"}, row=1, col=j)
        fig.update_xaxes(title_text=key, row=1, col=j)
    fig.update_yaxes(type="log", title_text="loss", row=1, col=1)
    fig = charts.style(fig, "Search: loss of every point run (colour: round); dashed: fitted value")
    fig.update_layout(hovermode="closest")
    return fig


def write_calibration_report(result: CalibrationResult, path: Path) -> None:
    """Write calibration.html: fitted values, the fit table and figures."""
    c = result.calibration
    fitted = pd.DataFrame(
        [
            {"parameter": k, "fitted": v, "low": c.spec.parameters[k].low, "high": c.spec.parameters[k].high}
            for k, v in result.fitted.items()
        ]
    )
    intro = (
        f"{c.spec.description or c.experiment.name} — {len(result.evaluated)} points in "
        f"{c.spec.rounds + 1} rounds, {len(c.experiment.seeds)} replications each (common random numbers). "
        "The fitted scenario is fitted.toml."
    )
    _page(
        path,
        f"tiersim calibration: {c.experiment.name}",
        intro,
        {"fit": calibration_figure(result), "search": search_figure(result)},
        [_table_html(fitted), _table_html(result.fit_table())],
    )


def evidence_figure(table: pd.DataFrame) -> go.Figure:
    """Every reform effect as simulated ÷ published, with its interval: 1 is a perfect match.

    The band is the size tolerance (a factor `sim.evidence.EFFECT_FACTOR` either way); a dot left of
    0 has the wrong direction. Ratios are drawn within [−2, 4] (beyond, at the edge).
    """
    effects = table[(table.kind == "effect") & table.simulated.notna()].iloc[::-1]
    fig = go.Figure()
    fig.add_vrect(x0=1 / EFFECT_FACTOR, x1=EFFECT_FACTOR, fillcolor=charts.rgba(_GREEN, 0.12), line_width=0)
    fig.add_vline(x=0, line={"color": _RED, "width": 1})
    fig.add_vline(x=1, line={"color": _GREEN, "width": 1, "dash": "dot"})
    for split, colour in (("fit", _BLUE), ("holdout", _ORANGE)):
        rows = effects[effects.split == split]
        ratio = (rows.simulated / rows.published).clip(-2, 4)
        lo = (np.minimum(rows.simulated_lo, rows.simulated_hi) / rows.published).clip(-2, 4)
        hi = (np.maximum(rows.simulated_lo, rows.simulated_hi) / rows.published).clip(-2, 4)
        low, high = np.minimum(lo, hi), np.maximum(lo, hi)
        fig.add_trace(
            go.Scatter(
                x=ratio,
                y=rows.id,
                mode="markers",
                marker={"size": 8, "color": colour},
                error_x={"type": "data", "symmetric": False, "array": high - ratio, "arrayminus": ratio - low},
                name=split,
                text=[
                    f"{r.reform}: published {r.published:.4g} {r.unit}, simulated {r.simulated:.4g} "
                    f"[{r.simulated_lo:.4g}, {r.simulated_hi:.4g}]"
                    for r in rows.itertuples()
                ],
                hovertemplate="%{y}<br>%{text}<br>ratio %{x:.2f}<extra></extra>",
            )
        )
    fig = charts.style(fig, "Reform effects: simulated ÷ published (band: within size; left of 0: wrong direction)")
    fig.update_layout(height=max(charts.HEIGHT, 22 * len(effects) + 160), hovermode="closest")
    fig.update_xaxes(title_text="simulated ÷ published", range=[-2.1, 4.1], zeroline=False)
    return fig


def write_evidence_page(result: EvidenceResult, out: Path) -> None:
    """Write evidence.html: the score, every figure held against the model, and the effects figure.

    Args:
        result: The model held against the evidence table.
        out: The folder (evidence.html is written into it atomically).
    """
    s, table = result.settings, result.table

    def mark(value: object) -> str:
        return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else "✓" if value else "✗"

    def with_interval(value: float, lo: float, hi: float) -> str:
        return f"{value:.4g}" + (f" [{lo:.4g}, {hi:.4g}]" if np.isfinite(lo) and np.isfinite(hi) else "")

    shown = pd.DataFrame(
        {
            "id": table.id,
            "split": table.split,
            "reform": table.reform,
            "measure": table.measure,
            "unit": table.unit.str.slice(0, 40),
            "published": [with_interval(r.published, r.published_lo, r.published_hi) for r in table.itertuples()],
            "simulated": [with_interval(r.simulated, r.simulated_lo, r.simulated_hi) for r in table.itertuples()],
            "direction": table.direction_ok.map(mark),
            "size": table.size_ok.map(mark),
        }
    )
    sources = table[["id", "indicator", "design", "place", "period", "citation"]].rename(
        columns={"indicator": "model expression", "design": "design (sim/data/evidence)"}
    )
    score = result.score().assign(direction_ok=lambda s: s.direction_ok.map(lambda v: "—" if pd.isna(v) else int(v)))
    intro = (
        f"The model held against {len(table)} published figures of {s['evidence'].rsplit('/', 1)[-1]} "
        f"({(table.kind == 'effect').sum()} reform effects, {(table.kind == 'level').sum()} levels): each reform "
        f"design run against the counterfactual with {s['replications']} paired replications, "
        f"{s['years']} years at scale {s['scale']}, reforms from year 1. An effect is consistent in direction "
        f"when its sign is the published one and within size when it lies within a factor {EFFECT_FACTOR:g} of "
        f"the published value (or the intervals overlap); a level is within size within "
        f"{LEVEL_TOLERANCE:.0%}. Fit figures may be used to fit parameters; hold-out figures never are. "
        + (
            f"Intervals include parameter uncertainty: replication i takes posterior parameter set i "
            f"({s['parameter_draws']}), the same in every design. "
            if s.get("parameter_draws")
            else ""
        )
        + result.headline().replace("\n", "; ")
    )
    _page(
        out / "evidence.html",
        "Evidence: the model against published results",
        intro,
        {"effects": evidence_figure(table)},
        [_table_html(score), _table_html(shown), _table_html(sources)],
    )
