"""Global sensitivity analysis of a sweep: Sobol' and Morris indices of one indicator (SALib).

The experiment's design supplies the sample (``design = "sobol"``: Saltelli's scheme; ``"morris"``:
one-at-a-time trajectories); the sweep supplies the outputs, averaged over each point's
replications — common random numbers make the replications of every point share residents and
illnesses, so differences between points are the parameters' doing. The indices:

- Sobol' first order S1: share of the indicator's variance explained by a parameter alone; total
  order ST: including all its interactions ([saltelli-2010] estimators, bootstrap 95%
  intervals);
- Morris μ*: mean absolute elementary effect (importance), σ: spread of the effects
  (non-linearity or interactions) [campolongo-2007].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import ScenarioError
from sim.experiment import MORRIS_LEVELS, Experiment, salib_problem
from sim.sweep import STATUS_OK

METHODS = ("sobol", "morris")
"""Designs an analysis exists for (the method is named after its design)."""


def check_design(experiment: Experiment) -> str:
    """The analysis method for the experiment's design; a one-line `ScenarioError` if it has none."""
    design = experiment.spec.design
    if design not in METHODS:
        raise ScenarioError(
            f"{experiment.source}: design = {design!r} cannot give sensitivity indices; allowed: sobol, morris"
        )
    return design


def point_means(experiment: Experiment, runs: pd.DataFrame, indicator: str) -> np.ndarray:
    """The indicator of every design point, averaged over its replications.

    Raises:
        ScenarioError: If a point has no successful run or the indicator is not finite everywhere.
    """
    ok = runs[runs.status == STATUS_OK]
    means = ok.groupby("point")[indicator].mean().reindex(range(len(experiment.points)))
    missing = np.flatnonzero(~np.isfinite(means.to_numpy(dtype=float)))
    if missing.size:
        raise ScenarioError(
            f"{indicator}: no finite value at {missing.size} design point(s) (first: point {missing[0]}); "
            "see the failed runs in the store, or choose another indicator"
        )
    return means.to_numpy(dtype=float)


def analyse(experiment: Experiment, runs: pd.DataFrame, indicator: str, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices of `indicator` to each varied parameter.

    Args:
        experiment: The experiment (design sobol or morris).
        runs: Its sweep's runs (`sim.sweep.sweep`).
        indicator: A stored indicator column, e.g. "primary_visit_share".
        seed: Seed of the bootstrap resampling of the intervals.

    Returns:
        One row per parameter. Sobol: S1, S1_lo, S1_hi, ST, ST_lo, ST_hi. Morris: mu, mu_star,
        mu_star_lo, mu_star_hi, sigma. Sorted from most to least influential.
    """
    method = check_design(experiment)
    problem = salib_problem(experiment.spec)
    y = point_means(experiment, runs, indicator)
    if method == "sobol":
        from SALib.analyze import sobol

        s = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
        table = pd.DataFrame(
            {
                "parameter": problem["names"],
                "S1": s["S1"],
                "S1_lo": s["S1"] - s["S1_conf"],
                "S1_hi": s["S1"] + s["S1_conf"],
                "ST": s["ST"],
                "ST_lo": s["ST"] - s["ST_conf"],
                "ST_hi": s["ST"] + s["ST_conf"],
            }
        )
        order = "ST"
    else:
        from SALib.analyze import morris

        x = experiment.points.to_numpy(dtype=float)
        s = morris.analyze(problem, x, y, num_levels=MORRIS_LEVELS, seed=seed)
        table = pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu": s["mu"],
                "mu_star": s["mu_star"],
                "mu_star_lo": s["mu_star"] - s["mu_star_conf"],
                "mu_star_hi": s["mu_star"] + s["mu_star_conf"],
                "sigma": s["sigma"],
            }
        )
        order = "mu_star"
    table.insert(1, "indicator", indicator)
    table.insert(2, "method", method)
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)
