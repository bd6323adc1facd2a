"""Frontier of lever packages: which settings reach 65% primary care within the 9% revenue-growth cap.

Reads a finished sweep folder of `experiments/frontier_packages.toml` (its `summary.csv`, or its
`runs.parquet`), or runs the sweep first when the folder is missing or unfinished (a killed sweep
resumes where it stopped), then writes:

- ``frontier.html``: primary-care share (final year) against hospital medical revenue growth (mean
  per year), one dot per design point, the target corner shaded and the Pareto frontier drawn
  (`sim.presentation.research_report.frontier_figure`);
- ``frontier.md``: a Markdown table of the points that meet both targets — or, if none does, of
  the closest ones, said so in its first line.

Both go into the sweep folder unless ``--figure`` / ``--table`` say otherwise; the table is also
printed.

Usage:
    tiersim sweep experiments/frontier_packages.toml --workers 2      # then
    python experiments/frontier.py results/sweep-frontier_packages
    python experiments/frontier.py /tmp/frontier --workers 2         # runs the sweep if needed
    python experiments/frontier.py /tmp/f --set run.scale=0.01 --set run.years=2 --closest 8
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ScenarioError
from sim.experiment import load_experiment
from sim.metrics import TARGETS
from sim.paths import check_output
from sim.presentation.research_report import GROWTH, PRIMARY, frontier_figure
from sim.sweep import point_summary, sweep

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPERIMENT = ROOT / "experiments" / "frontier_packages.toml"
SHARE_TARGET = float(TARGETS["primary_visit_share"]["value"])  # type: ignore[arg-type]
GROWTH_CAP = float(TARGETS["medical_revenue_growth"]["value"])  # type: ignore[arg-type]
EXTRA = ("oop_share", "fund_balance")
"""Indicators shown in the table beside the two targets, when the summary has them."""


def load_summary(
    folder: Path, experiment_file: Path, overrides: list[str], workers: int
) -> tuple[pd.DataFrame, list[str]]:
    """The per-point summary of a sweep and its varied parameters, running the sweep if it is not finished.

    A folder with `summary.csv` (written by `tiersim sweep` when a sweep completes) is read as it is,
    with the parameters named in its `experiment.json`. Otherwise the experiment is loaded and swept
    into the folder (created, or resumed if it holds this experiment's unfinished runs).

    Args:
        folder: Sweep store folder.
        experiment_file: Experiment TOML, used when the sweep has to be run.
        overrides: Extra `dotted.key=value` overrides (like `tiersim sweep --set`), used when running.
        workers: Local processes when running.

    Returns:
        One row per design point (`sim.sweep.point_summary` columns) and the parameter names.

    Raises:
        ScenarioError: If the folder holds another experiment's runs, or the experiment is invalid.
    """
    summary_file, manifest = folder / "summary.csv", folder / "experiment.json"
    if summary_file.is_file() and manifest.is_file():
        parameters = list(json.loads(manifest.read_text("utf-8"))["parameters"])
        if overrides:
            print(f"note: {summary_file} exists; --set is ignored (use another folder to rerun)", file=sys.stderr)
        return pd.read_csv(summary_file), parameters
    experiment = load_experiment(experiment_file, overrides)
    print(f"running {experiment.runs} runs of {experiment.name} into {folder} …", file=sys.stderr)
    runs = sweep(experiment, folder, workers=workers)
    return point_summary(runs, experiment), experiment.parameters


def rank_points(summary: pd.DataFrame) -> pd.DataFrame:
    """Mark each point: meets both targets, on the Pareto frontier, and its gap to the target corner.

    The gap is the shortfall of the primary-care share below 65% plus the excess of revenue growth
    above 9%, both in share units (0 for a point that meets both).

    Args:
        summary: Per-point summary with `primary_visit_share` and `medical_revenue_growth_mean`.

    Returns:
        The summary with columns `meets`, `frontier` and `gap`, sorted by gap, then by primary share (descending).
    """
    share = summary[PRIMARY].to_numpy(dtype=float)
    growth = summary[GROWTH].to_numpy(dtype=float)
    finite = np.isfinite(share) & np.isfinite(growth)
    ranked = summary.copy()
    ranked["meets"] = finite & (share >= SHARE_TARGET) & (growth <= GROWTH_CAP)
    ranked["gap"] = np.where(
        finite, np.maximum(0.0, SHARE_TARGET - share) + np.maximum(0.0, growth - GROWTH_CAP), np.inf
    )
    # Pareto frontier: no other point has both lower (or equal) growth and a higher share.
    ranked["frontier"] = [
        bool(finite[i]) and not np.any(finite & (growth <= growth[i]) & (share > share[i])) for i in range(len(share))
    ]
    return ranked.sort_values(["gap", PRIMARY], ascending=[True, False], kind="stable").reset_index(drop=True)


def _short(key: str) -> str:
    """A table header for a dotted key: its last two parts, e.g. `reserved_beds.share`."""
    return ".".join(key.split(".")[-2:])


def markdown_table(ranked: pd.DataFrame, parameters: list[str], closest: int) -> str:
    """The Markdown report: a sentence on what was found, then the table of qualifying (or closest) points.

    Args:
        ranked: Output of `rank_points`.
        parameters: Varied parameter keys (dotted).
        closest: How many points to list when none meets both targets.

    Returns:
        Markdown text.
    """
    meets = ranked[ranked.meets]
    n = len(ranked)
    if len(meets):
        head = (
            f"{len(meets)} of {n} design points reach a primary-care share ≥ {SHARE_TARGET:.0%} (final year) "
            f"with hospital medical revenue growth ≤ {GROWTH_CAP:.0%} (mean per year):"
        )
        shown = meets
    else:
        best_share = ranked.loc[ranked[PRIMARY].idxmax()]
        head = (
            f"**None** of the {n} design points reaches a primary-care share ≥ {SHARE_TARGET:.0%} (final year) "
            f"with revenue growth ≤ {GROWTH_CAP:.0%} (mean per year). The highest share is "
            f"{best_share[PRIMARY]:.1%} (point {int(best_share['point'])}, growth {best_share[GROWTH]:.1%}). "
            f"The {min(closest, n)} closest points (smallest gap = shortfall in share + excess growth):"
        )
        shown = ranked.head(closest)
    extra = [c for c in EXTRA if c in ranked.columns]
    header = ["point", *(f"`{_short(k)}`" for k in parameters), "primary share [95% CI]", "revenue growth"]
    header += [c.replace("_", " ") for c in extra] + ["gap", "frontier"]
    lines = [head, "", "| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for _, r in shown.iterrows():
        cells = [str(int(r["point"]))]
        cells += [f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in parameters]
        interval = (
            f" [{r[f'{PRIMARY}_lo']:.1%}, {r[f'{PRIMARY}_hi']:.1%}]"
            if f"{PRIMARY}_lo" in r and r[f"{PRIMARY}_hi"] > r[f"{PRIMARY}_lo"]
            else ""
        )
        cells += [f"{r[PRIMARY]:.1%}{interval}", f"{r[GROWTH]:.1%}"]
        for c in extra:
            cells.append(f"{r[c] / 1e6:,.1f} m" if c == "fund_balance" else f"{r[c]:.1%}")
        cells += [f"{100 * r['gap']:.1f} pt", "yes" if r["frontier"] else ""]
        lines.append("| " + " | ".join(cells) + " |")
    ranges = ", ".join(f"`{k}` {ranked[k].min():.3g}–{ranked[k].max():.3g}" for k in parameters)
    lines += [
        "",
        f"Primary share over all points: {ranked[PRIMARY].min():.1%}–{ranked[PRIMARY].max():.1%}; revenue growth "
        f"{ranked[GROWTH].min():.1%}–{ranked[GROWTH].max():.1%}. Parameter ranges sampled: {ranges}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Read or run the sweep, write the frontier figure and table.

    Args:
        argv: Command-line arguments (default: `sys.argv`).

    Returns:
        Exit status: 0, or 2 after a one-line error.
    """
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, nargs="?", default=ROOT / "results" / "sweep-frontier_packages")
    p.add_argument("--experiment", type=Path, default=DEFAULT_EXPERIMENT, help="experiment run if the sweep is missing")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--workers", type=int, default=2, help="local processes if the sweep has to run (default 2)")
    p.add_argument("--closest", type=int, default=5, help="points listed when none meets both targets (default 5)")
    p.add_argument("--figure", type=Path, help="frontier HTML (default: FOLDER/frontier.html)")
    p.add_argument("--table", type=Path, help="Markdown table (default: FOLDER/frontier.md)")
    args = p.parse_args(argv)
    figure_path = args.figure or args.folder / "frontier.html"
    table_path = args.table or args.folder / "frontier.md"
    try:
        check_output(args.folder, "FOLDER")
        check_output(figure_path, "--figure", folder=False)
        check_output(table_path, "--table", folder=False)
        summary, parameters = load_summary(args.folder, args.experiment, args.overrides, args.workers)
    except ScenarioError as exc:
        print(f"frontier: error: {exc}", file=sys.stderr)
        return 2
    if summary.empty or not {PRIMARY, GROWTH} <= set(summary.columns) or summary[[PRIMARY, GROWTH]].isna().all().any():
        print(f"frontier: error: {args.folder}: no finished run has {PRIMARY} and {GROWTH}", file=sys.stderr)
        return 2
    ranked = rank_points(summary)
    fig = frontier_figure(summary, parameters)
    fig.write_html(figure_path, include_plotlyjs=True)
    text = markdown_table(ranked, parameters, args.closest)
    table_path.write_text(text, "utf-8")
    print(text)
    print(f"written: {figure_path}, {table_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
