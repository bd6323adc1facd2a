"""Parameter sweeps: every run of an experiment, on any executor, into a resumable store.

`sweep()` runs each (design point, replication) of an `Experiment` as one job, on local processes or
any `concurrent.futures.Executor` (a Dask cluster through `sim.executors`), and stores one row per
finished run — run id, point, replication, seed, the point's parameter values, status, error and
every indicator — as soon as it finishes (`sim.store`). Indicators are stored twice: the final
simulated year's value under the indicator's name, and the mean over the simulated years as
`<name>_mean` (year-on-year indicators such as revenue growth average over the years that have one).

A run that raises is stored with status "failed" and its error; the sweep goes on. Run again, a
sweep skips stored runs, so a killed sweep finishes where it stopped.

Runs are handed out seed by seed, and each process keeps the beginning of its last run (the warm-up
and the years before the first enabled lever starts, `sim.checkpoint`): the points of a sweep over
lever settings that start in year 1 share it, so each run after a worker's first of a seed starts
from a copy of it, with the same results.
"""

from __future__ import annotations

import difflib
import functools
import gc
import multiprocessing
import platform
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import metrics
from sim.checkpoint import PrefixCache
from sim.comparison import indicator_columns
from sim.config import Scenario, ScenarioError, load_scenario
from sim.experiment import Experiment
from sim.model import CareModel
from sim.posterior import parameter_draws, posterior_name
from sim.provenance import code_version
from sim.runner import failure_text, run
from sim.store import RunStore

KEYS = ("run_id", "point", "replication", "seed")
STATUS_OK = "ok"
STATUS_FAILED = "failed"
YEAR_ON_YEAR = "medical_revenue_growth"
"""Indicators defined from consecutive years: no value in a run's first year."""
HEADLINE = ("primary_visit_share", "medical_revenue_growth_mean", "oop_share", "in_county_rate", "fund_balance")
"""Indicators the sweep table and page show by default (all are stored)."""


def _stored_columns(annual: pd.DataFrame) -> list[str]:
    """The annual columns a sweep keeps: illness episodes (the same at every point of a seed) and every indicator."""
    return ["episodes", *(c for c in indicator_columns(annual) if not c.startswith("flow_"))]


@functools.cache
def indicator_names() -> tuple[str, ...]:
    """Every indicator a sweep stores, final-year names then `_mean` names (from one simulated day)."""
    scenario = load_scenario(None, ["run.scale=0.002", "run.warmup_days=0", "run.years=1"])
    model = CareModel(scenario)
    model.step()
    columns = _stored_columns(metrics.annual(model.recorder.daily()))
    return (*columns, *(f"{c}_mean" for c in columns))


def check_indicator(name: str, years: int, flag: str = "--indicator") -> None:
    """Fail with a one-line `ScenarioError` if `name` is not a stored indicator, or has no value in `years`.

    Year-on-year indicators (revenue growth) need at least two simulated years.
    """
    names = indicator_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; allowed: {', '.join(names[:8])}, …"
        raise ScenarioError(f"{flag} {name!r}: not an indicator{hint}")
    if name.startswith(YEAR_ON_YEAR) and years < 2:
        raise ScenarioError(
            f"{flag} {name!r}: a year-on-year indicator; allowed only with run.years ≥ 2 (here {years})"
        )


_PREFIXES = PrefixCache()
"""This process's last shared beginning of a run (`sim.checkpoint`): runs of one seed that differ
only in levers starting in year 1 or later take their warm-up and earlier years from it."""


def run_indicators(scenario: Scenario, seed: int) -> dict[str, float]:
    """Run one scenario and reduce it to indicators: final-year value and `<name>_mean` over years.

    The run's beginning comes from this process's `PrefixCache` where it can (same results).
    """
    annual = run(scenario, seed=seed, prefixes=_PREFIXES).annual
    columns = _stored_columns(annual)
    values = annual[columns].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    # Year after year, as a Series' mean adds them (fewer than 8 values: in order); no finite value: NaN.
    total = np.where(finite, values, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.full(len(columns), np.nan), where=count > 0)
    out: dict[str, float] = {}
    for column, last, average in zip(columns, values[-1].tolist(), mean.tolist(), strict=True):
        out[column], out[f"{column}_mean"] = last, average
    return out


def _job(scenario: Scenario, seed: int) -> tuple[dict[str, float] | None, str, float]:
    """One run (module level, so process pools and Dask can ship it): (indicators, error, seconds)."""
    started = time.perf_counter()
    try:
        values = run_indicators(scenario, seed)
    except Exception as exc:  # a failed run is stored with its error; the sweep goes on
        return None, failure_text(exc), time.perf_counter() - started
    finally:
        if multiprocessing.parent_process() is not None and gc.get_freeze_count() == 0:
            # A worker process's modules, compiled kernels and cached region outlive every run: leave
            # them out of the garbage collector's passes, so freeing each finished run costs milliseconds.
            gc.freeze()
    return values, "", time.perf_counter() - started


def _row(experiment: Experiment, run_id: int, point: int, replication: int, outcome: tuple) -> dict[str, Any]:
    values, error, _ = outcome
    row: dict[str, Any] = {
        "run_id": run_id,
        "point": point,
        "replication": replication,
        "seed": experiment.seeds[replication],
    }
    for key, value in experiment.points.iloc[point].items():
        row[str(key)] = value.item() if isinstance(value, np.generic) else value
    row["status"] = STATUS_OK if values is not None else STATUS_FAILED
    row["error"] = error
    row.update(values or {})
    return row


def with_parameter_draws(experiment: Experiment, count: int | None, posterior: str | Path | None) -> Experiment:
    """The experiment run with parameter uncertainty (`--parameter-draws N`, `--posterior FILE`).

    Every point then runs N replications (in place of the file's `replications`): replication i
    with seed `seed + i` and posterior parameter set i (`sim.posterior.parameter_draws`), the same
    at every point, so points are compared on the same residents, illnesses and parameters.
    Without `count` the experiment is returned unchanged.

    Raises:
        ScenarioError: A bad count or posterior file, a posterior key that the design varies, or a
            parameter set the base scenario cannot take (checked on the first point, before any run).
    """
    draws = parameter_draws(count, posterior, count or 0, experiment.seeds[0])  # replication 0's seed
    if draws is None:
        return experiment
    spec = experiment.spec.model_copy(update={"replications": count})
    varied = Experiment(spec, experiment.source, experiment.base, points=experiment.points)
    both = sorted(set(draws[0]) & set(varied.parameters))
    if both:
        raise ScenarioError(
            f"--parameter-draws: the posterior sets {both[0]}, which the experiment varies; allowed disjoint keys"
        )
    varied.parameter_draws = draws
    varied.posterior = posterior_name(posterior)
    for replication in range(count):
        varied.run_scenario(0, replication)
    return varied


def sweep(
    experiment: Experiment,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[int], Any] | None = None,
    retry_failed: bool = False,
) -> pd.DataFrame:
    """Run every not-yet-stored run of an experiment and return the complete store.

    Args:
        experiment: A checked experiment (`sim.experiment.load_experiment`).
        out: Store folder; created, or resumed if it holds this experiment's runs.
        workers: Local processes when no executor is given (1: in this process).
        executor: Any `concurrent.futures.Executor`, e.g. `Client.get_executor()` of a Dask cluster.
        progress: Called with the number of newly finished runs (first with those already stored).
        retry_failed: Run again the runs stored as failed.

    Returns:
        One row per run, sorted by run id (see the module docstring for the columns).

    Raises:
        ScenarioError: If `out` holds another experiment's runs or unrelated files.
    """
    store = RunStore(out)
    store.open(
        experiment.fingerprint(),
        {
            "name": experiment.name,
            "source": experiment.source,
            "design": experiment.spec.design,
            "parameters": experiment.parameters,
            "points": len(experiment.points),
            "replications": len(experiment.seeds),
            "code_version": code_version(),
            **({"posterior": experiment.posterior} if experiment.parameter_draws is not None else {}),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    if retry_failed:
        stored = store.read()
        if len(stored):
            store.forget(set(stored.run_id[stored.status == STATUS_FAILED]))
    done = store.done()
    # Seed by seed: a worker's consecutive runs then share their beginning (`sim.checkpoint`).
    pending = sorted((job for job in experiment.jobs() if job[0] not in done), key=lambda job: (job[2], job[1]))
    if progress is not None:
        progress(len(experiment.jobs()) - len(pending))
    host = platform.node()

    def keep(run_id: int, point: int, replication: int, outcome: tuple) -> None:
        store.add(
            _row(experiment, run_id, point, replication, outcome), {"seconds": round(outcome[2], 4), "host": host}
        )
        if progress is not None:
            progress(1)

    if pending and executor is None and workers <= 1:
        for run_id, point, replication in pending:
            keep(
                run_id,
                point,
                replication,
                _job(experiment.run_scenario(point, replication), experiment.seeds[replication]),
            )
    elif pending:
        pool = executor or ProcessPoolExecutor(max_workers=workers)
        futures = {}
        try:
            for run_id, point, replication in pending:
                future = pool.submit(_job, experiment.run_scenario(point, replication), experiment.seeds[replication])
                futures[future] = (run_id, point, replication)
            for future in as_completed(futures):
                keep(*futures[future], future.result())
        finally:
            if executor is None:
                pool.shutdown(wait=True, cancel_futures=True)
            else:
                for future in futures:
                    future.cancel()
    _PREFIXES.clear()  # in this process (the workers' go with them)
    store.compact()
    return store.read()


def point_summary(runs: pd.DataFrame, experiment: Experiment, indicators: list[str] | None = None) -> pd.DataFrame:
    """Mean and 95% t-interval over replications of each design point's indicators (failed runs left out).

    Returns:
        One row per point: point, parameters, runs, failed, then `<indicator>`, `<indicator>_lo`,
        `<indicator>_hi` for every indicator.
    """
    ok = runs[runs.status == STATUS_OK] if len(runs) else runs
    names = indicators or [c for c in runs.columns if c not in (*KEYS, *experiment.parameters, "status", "error")]
    rows = []
    for point, params in experiment.points.iterrows():
        group = ok[ok.point == point] if len(ok) else ok
        row: dict[str, Any] = {"point": point, **params.to_dict()}
        row["runs"] = len(group)
        row["failed"] = int((runs.point == point).sum() - len(group)) if len(runs) else 0
        for name in names:
            values = group[name].to_numpy(dtype=float) if len(group) else np.array([])
            values = values[np.isfinite(values)]
            mean = float(values.mean()) if values.size else np.nan
            half = (
                float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
                if values.size > 1
                else 0.0
            )
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = mean, mean - half, mean + half
        rows.append(row)
    return pd.DataFrame(rows)
