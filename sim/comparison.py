"""Comparing scenarios: replications with common random numbers, paired differences, targets.

Replication i of every scenario runs with seed `seed + i`, so every scenario's replication i sees
the same residents and the same illnesses (every draw is keyed by seed, stream and resident or
episode: `sim.rng`). The difference between a scenario and the baseline is then taken pair by pair,
which removes most of the noise the two share; its 95% interval is a t-interval over the
replications' paired differences.

With parameter draws (`sim.posterior`), replication i of every scenario also takes posterior
parameter set i: the level intervals then combine parameter uncertainty with run-to-run noise,
while the paired differences share the parameter set, so the uncertainty largely cancels in them
but for how the parameters change a lever's effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sim import metrics
from sim.config import Scenario, ScenarioError
from sim.posterior import apply
from sim.runner import atomic_folder, failure_text, run

KEYS = ("scenario", "replication", "seed", "year", "calendar_year")


def indicator_columns(annual: pd.DataFrame) -> list[str]:
    """The indicator columns of an annual table that a comparison summarises (numbers, not keys)."""
    names = set(metrics.indicators(annual.iloc[0]).keys()) | {"medical_revenue_growth", "fund_balance"}
    return [c for c in annual.columns if c in names or c.startswith("flow_")]


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of a sample (the interval collapses to the mean for one value)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if values.size == 1:
        return (mean, mean, mean)
    from scipy import stats  # here, not at the top: it adds ≈0.4 s to every `tiersim` start

    half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return (mean, mean - half, mean + half)


def paired_summary(runs: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Tidy summary of every scenario × indicator × year: mean and paired difference, with intervals.

    The difference against `baseline` is taken replication by replication (same seed), and both the
    level and the difference get a 95% t-interval over the replications.

    Args:
        runs: One row per (scenario, replication, year) with indicator columns.
        baseline: Name of the scenario the differences are taken against.

    Returns:
        Columns scenario, indicator, year, calendar_year, n, mean, lo, hi, diff, diff_lo, diff_hi.
    """
    indicators = [c for c in runs.columns if c not in KEYS]
    long = runs.melt(id_vars=list(KEYS), value_vars=indicators, var_name="indicator")
    base = long[long.scenario == baseline][["replication", "year", "indicator", "value"]]
    long = long.merge(base, on=["replication", "year", "indicator"], how="left", suffixes=("", "_base"))
    long["difference"] = long["value"] - long["value_base"]
    rows = []
    for (scenario, indicator, year, calendar_year), group in long.groupby(
        ["scenario", "indicator", "year", "calendar_year"], sort=False
    ):
        mean, lo, hi = mean_interval(group["value"].to_numpy(dtype=float))
        diff, diff_lo, diff_hi = mean_interval(group["difference"].to_numpy(dtype=float))
        rows.append(
            {
                "scenario": scenario,
                "indicator": indicator,
                "year": int(year),
                "calendar_year": int(calendar_year),
                "n": int(group["value"].notna().sum()),
                "mean": mean,
                "lo": lo,
                "hi": hi,
                "diff": diff,
                "diff_lo": diff_lo,
                "diff_hi": diff_hi,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """What a comparison produced.

    Attributes:
        scenarios: The scenarios, baseline first.
        seeds: The seed of each replication.
        runs: One row per finished (scenario, replication, year): every indicator.
        summary: Tidy means, intervals and paired differences (see `paired_summary`).
        failures: One row per failed run: scenario, replication, seed, error.
        daily: The first replication's daily table of each scenario (for daily charts); absent when
            that replication failed.
        parameter_draws: The posterior parameter set of each replication (the same in every scenario),
            or None when the scenarios' own values were run.
        posterior: Where the parameter sets came from ("" without draws).
        facilities: One row per finished (scenario, replication, facility, year) (`Results.facilities`
            with the keys scenario, replication, seed first).
        areas: Likewise per residential area (`Results.areas`).
    """

    scenarios: list[Scenario]
    seeds: list[int]
    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    parameter_draws: list[dict[str, float]] | None = None
    posterior: str = ""
    facilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    areas: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def baseline(self) -> str:
        """Name of the baseline scenario."""
        return self.scenarios[0].name

    def mean_annual(self, scenario: str) -> pd.DataFrame:
        """A scenario's annual indicators averaged over its replications (an annual table)."""
        rows = self.runs[self.runs.scenario == scenario]
        table = rows.drop(columns=["scenario", "replication", "seed"]).groupby("year", as_index=False).mean()
        table["calendar_year"] = table["calendar_year"].astype(int)
        return table

    @property
    def targets(self) -> pd.DataFrame:
        """Pass/fail of each policy target per scenario and year, on the replication means."""
        parts = []
        for s in self.scenarios:
            if (self.runs.scenario == s.name).any():
                parts.append(metrics.target_checks(self.mean_annual(s.name)).assign(scenario=s.name))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def write(self, out: str | Path, *, extra: Callable[[Path], None] | None = None) -> Path:
        """Write the comparison's files to the folder `out`.

        They are comparison.csv, runs.parquet, facilities.parquet, areas.parquet, targets.csv,
        failures.csv and scenarios.json.

        scenarios.json holds the seeds, the scenarios and, with parameter draws, the posterior and each
        replication's parameter set (`parameter_draws`).

        The folder is written as `sim.runner.Results.write` writes a run's, atomically, with `extra`
        called on it before it takes `out`'s place (`sim.presentation.comparison_report.write_comparison`
        adds report.html). Returns `out`.
        """
        with atomic_folder(out) as tmp:
            self.summary.to_csv(tmp / "comparison.csv", index=False)
            self.runs.to_parquet(tmp / "runs.parquet", index=False)
            self.facilities.to_parquet(tmp / "facilities.parquet", index=False)
            self.areas.to_parquet(tmp / "areas.parquet", index=False)
            targets = self.targets
            if not targets.empty:
                targets.assign(goal=targets["goal"].astype(str), value=targets["value"].astype(str)).to_csv(
                    tmp / "targets.csv", index=False
                )
            self.failures.to_csv(tmp / "failures.csv", index=False)
            (tmp / "scenarios.json").write_text(
                json.dumps(
                    {
                        "seeds": self.seeds,
                        "scenarios": [s.model_dump(mode="json") for s in self.scenarios],
                        "posterior": self.posterior,
                        "parameter_draws": self.parameter_draws,
                    },
                    indent=2,
                    ensure_ascii=False,
                ),
                "utf-8",
            )
            if extra is not None:
                extra(tmp)
        return Path(out)


def check_comparable(scenarios: Sequence[Scenario], replications: int) -> None:
    """Fail before any run when the comparison cannot be made (one-line `ScenarioError`)."""
    if len(scenarios) < 1:
        raise ScenarioError("compare: give at least one scenario (the baseline first)")
    if replications < 1:
        raise ScenarioError(f"--replications = {replications} is invalid: allowed ≥ 1")
    names = [s.name for s in scenarios]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ScenarioError(f"compare: scenario names must differ; '{duplicated[0]}' is used twice (set `name`)")
    base = scenarios[0]
    for s in scenarios[1:]:
        for section in ("region", "run"):
            a, b = getattr(base, section).model_dump(), getattr(s, section).model_dump()
            if section == "run":
                a.pop("seed"), b.pop("seed")
            for key in a:
                if a[key] != b[key]:
                    raise ScenarioError(
                        f"compare: scenarios must share one region and run settings; '{s.name}' has "
                        f"{section}.{key} = {b[key]!r} where '{base.name}' has {a[key]!r}"
                    )


class _Outcome(NamedTuple):
    """What one replication sends back: its tables, or its error."""

    annual: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    areas: pd.DataFrame | None = None
    error: str | None = None


def _run_one(scenario: Scenario, seed: int, keep_daily: bool) -> _Outcome:
    """One replication (top level, so process pools can pickle it).

    Only the replication whose daily table is kept sends it back: it is large and the others'
    are not used.
    """
    try:
        results = run(scenario, seed=seed)
    except Exception as exc:  # a failed run is recorded, the others go on
        return _Outcome(error=failure_text(exc))
    daily = results.daily if keep_daily else None
    return _Outcome(results.annual, daily, results.facilities, results.areas)


def keyed(table: pd.DataFrame, scenario: str, replication: int, seed: int) -> pd.DataFrame:
    """A run's table with the keys scenario, replication and seed as its first columns."""
    return pd.concat(
        [pd.DataFrame({"scenario": scenario, "replication": replication, "seed": seed}, index=table.index), table],
        axis=1,
    )


def compare(
    scenarios: Sequence[Scenario],
    *,
    replications: int = 8,
    seed: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[int], Any] | None = None,
    parameter_draws: Sequence[dict[str, float]] | None = None,
    posterior: str = "",
) -> Comparison:
    """Run `replications` of every scenario with common random numbers and compare with the first.

    Args:
        scenarios: Validated scenarios, baseline first; they must share region and run settings.
        replications: Replications per scenario (≥ 1).
        seed: Seed of replication 0 (default: the baseline's `run.seed`); replication i uses seed + i.
        workers: Local processes (1: run in this process). Ignored when `executor` is given.
        executor: Any `concurrent.futures.Executor` (e.g. a Dask client's `get_executor()`).
        progress: Called with 1 after every finished run.
        parameter_draws: One posterior parameter set per replication (`sim.posterior.parameter_draws`):
            replication i of every scenario runs with set i. None: the scenarios' own values.
        posterior: Where the parameter sets came from, for the report.

    Returns:
        The comparison; failed runs are listed in `failures` and left out of the summaries.
    """
    check_comparable(scenarios, replications)
    first = scenarios[0].run.seed if seed is None else seed
    seeds = [first + i for i in range(replications)]
    if parameter_draws is not None and len(parameter_draws) != replications:
        raise ScenarioError(f"{len(parameter_draws)} parameter draws for {replications} replications: allowed one each")
    jobs = [(s, r, seed_r) for s in scenarios for r, seed_r in enumerate(seeds)]
    # Built before any run, so a parameter set a scenario cannot take stops the comparison up front.
    runs_of = {(s.name, r): apply(s, None if parameter_draws is None else parameter_draws[r]) for s, r, _ in jobs}
    outcomes: dict[tuple[str, int], _Outcome] = {}
    if executor is None and workers <= 1:
        for s, r, seed_r in jobs:
            outcomes[(s.name, r)] = _run_one(runs_of[(s.name, r)], seed_r, r == 0)
            if progress is not None:
                progress(1)
    else:
        pool = executor or ProcessPoolExecutor(max_workers=workers)
        try:
            futures = {
                pool.submit(_run_one, runs_of[(s.name, r)], seed_r, r == 0): (s.name, r) for s, r, seed_r in jobs
            }
            for future in as_completed(futures):
                outcomes[futures[future]] = future.result()
                if progress is not None:
                    progress(1)
        finally:
            if executor is None:
                pool.shutdown()

    frames, failures, daily, facilities, areas = [], [], {}, [], []
    for s, r, seed_r in jobs:  # job order, not completion order: results do not depend on workers
        annual, days, places, cells, error = outcomes[(s.name, r)]
        if error is not None:
            failures.append({"scenario": s.name, "replication": r, "seed": seed_r, "error": error})
            continue
        assert annual is not None and places is not None and cells is not None
        facilities.append(keyed(places, s.name, r, seed_r))
        areas.append(keyed(cells, s.name, r, seed_r))
        table = annual[["year", "calendar_year", *indicator_columns(annual)]].copy()
        table.insert(0, "scenario", s.name)
        table.insert(1, "replication", r)
        table.insert(2, "seed", seed_r)
        frames.append(table)
        if days is not None:
            daily[s.name] = days
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(KEYS))
    summary = paired_summary(runs, scenarios[0].name) if frames else pd.DataFrame()
    return Comparison(
        scenarios=list(scenarios),
        seeds=seeds,
        runs=runs,
        summary=summary,
        failures=pd.DataFrame(failures, columns=["scenario", "replication", "seed", "error"]),
        daily=daily,
        parameter_draws=None if parameter_draws is None else [dict(d) for d in parameter_draws],
        posterior=posterior if parameter_draws is not None else "",
        facilities=pd.concat(facilities, ignore_index=True) if facilities else pd.DataFrame(),
        areas=pd.concat(areas, ignore_index=True) if areas else pd.DataFrame(),
    )
