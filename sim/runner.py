"""Running scenarios.

`run()` simulates one scenario and returns `Results`; `compare()` runs replications of several
scenarios — replication i of every scenario with the same seed, so they share residents and
illnesses (common random numbers) — on local processes, and returns a `Comparison` of paired
differences against the first (baseline) scenario. Both write their files atomically.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import metrics
from sim.checkpoint import PrefixCache
from sim.config import Scenario
from sim.model import CareModel
from sim.paths import writing
from sim.places import Places
from sim.reference import reference_model
from sim.region import Region

ENGINES: dict[str, Callable[..., CareModel]] = {"array": CareModel, "reference": reference_model}
"""Engines `run` can use: residents as arrays (fast, the default), or one Mesa agent each (small populations)."""


@dataclass
class Results:
    """What one run produced.

    Attributes:
        scenario: The scenario that was run.
        seed: The seed used.
        daily: One row per simulated day (raw counts and sums; see `metrics.DayRecord`).
        annual: One row per simulated year: sums and every indicator.
        summary: The summary.json content (headline indicators, yearly lists).
        places: The run's sums by facility and area (`facilities` and `areas` tabulate them when first asked:
            a sweep, which keeps indicators only, never pays for the tables).
        region: The region the run simulated (the places' names, tiers and positions).
    """

    scenario: Scenario
    seed: int
    daily: pd.DataFrame
    annual: pd.DataFrame
    summary: dict[str, Any]
    places: Places = field(repr=False)
    region: Region = field(repr=False)

    @functools.cached_property
    def facilities(self) -> pd.DataFrame:
        """One row per facility and year (`places.Places.facility_table`; docs/outputs.md)."""
        return self.places.facility_table(self.region, self.scenario.run.start_year)

    @functools.cached_property
    def areas(self) -> pd.DataFrame:
        """One row per residential area (cell) and year (`places.Places.area_table`; docs/outputs.md)."""
        return self.places.area_table(self.region, self.scenario.run.start_year)

    @property
    def targets(self) -> pd.DataFrame:
        """Pass/fail of each policy target per year."""
        return metrics.target_checks(self.annual)

    def write(self, out: str | Path, *, extra: Callable[[Path], None] | None = None) -> Path:
        """Write summary.json, annual.csv, daily.parquet, facilities.parquet, areas.parquet, scenario.json, atomically.

        Args:
            out: The output folder; an earlier one is replaced only once every file is written.
            extra: Writes more files into the new folder before it takes `out`'s place, so that they
                are replaced together (`sim.presentation.report.write_run` adds report.html).

        Returns:
            The output folder.
        """
        with atomic_folder(out) as tmp:
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, ensure_ascii=False), "utf-8")
            self.annual.to_csv(tmp / "annual.csv", index=False)
            self.daily.to_parquet(tmp / "daily.parquet", index=False)
            self.facilities.to_parquet(tmp / "facilities.parquet", index=False)
            self.areas.to_parquet(tmp / "areas.parquet", index=False)
            (tmp / "scenario.json").write_text(self.scenario.model_dump_json(indent=2), "utf-8")
            if extra is not None:
                extra(tmp)
        return Path(out)


def failure_text(exc: BaseException) -> str:
    """A failed run's exception as one line, "Type: message", to store or show beside the runs that went on."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


@contextmanager
def atomic_folder(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside `out` that replaces `out` only when the block completes.

    An interrupted or failed write never leaves a half-written `out`, and an existing `out` is
    kept until the new one is complete.

    Raises:
        WriteError: If the folder cannot be written (disk full, a parent removed or made a file).
    """
    out = Path(out)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with writing(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()  # not mkdtemp: the results folder gets the user's usual permissions
            yield tmp
            if out.exists():
                old = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
                os.replace(out, old)
                try:
                    os.replace(tmp, out)
                except OSError:
                    os.replace(old, out)  # the earlier results stay where they were
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """A temporary file name beside `path`; the file written there replaces `path` when the block completes.

    A killed or failed write leaves `path` as it was (and at most a hidden `.*.tmp` file).

    Raises:
        WriteError: If the file cannot be written (disk full, its folder removed).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with writing(path):
            yield tmp
            os.replace(tmp, path)
    finally:
        with suppress(OSError):  # its folder may be gone: the failure is already being raised
            tmp.unlink(missing_ok=True)


def run(
    scenario: Scenario,
    *,
    seed: int | None = None,
    years: int | None = None,
    progress: Any | None = None,
    engine: str = "array",
    prefixes: PrefixCache | None = None,
) -> Results:
    """Simulate a scenario.

    Args:
        scenario: A validated scenario (see `sim.load_scenario`).
        seed: Overrides `scenario.run.seed`.
        years: Overrides `scenario.run.years`.
        progress: Optional object with `update(n)` (e.g. a tqdm bar) advanced once per day.
        engine: "array" (`CareModel`) or "reference" (`sim.reference.reference_model`: one `Patient`
            agent per resident, identical results, far slower; at most `sim.reference.MAX_RESIDENTS`).
        prefixes: A `sim.checkpoint.PrefixCache` (array engine only): the days before the first
            lever starts are taken from the last run given the same cache where they were the
            same, and kept for the next. Same results, less time when runs differ only in levers.

    Returns:
        The run's results.

    Raises:
        ValueError: Unknown engine, or `prefixes` with the reference engine.
        ScenarioError: The reference engine and more residents than it accepts.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine = {engine!r} is invalid: allowed {', '.join(map(repr, ENGINES))}")
    years = years if years is not None else scenario.run.years
    if prefixes is None:
        model = ENGINES[engine](scenario, seed=seed)
        model.run_years(years, progress)
    elif engine != "array":
        raise ValueError(f"prefixes work with the array engine, not engine = {engine!r}")
    else:
        model = prefixes.run_model(scenario, scenario.run.seed if seed is None else int(seed), years, progress)
    results = collect(model)
    del model
    # A Mesa model refers to itself (its wrapped `step`, its agents), so only the cyclic garbage
    # collector frees it, and its full passes are rare: free this one before the next run is built
    # (≈0.1 s for a process's every object; a few ms in a sweep worker, see `sweep._job`).
    gc.collect()
    return results


def collect(model: CareModel) -> Results:
    """The results of the years a model has simulated so far (the dashboard streams them year by year).

    Args:
        model: A model advanced by whole years (`CareModel.run_years`).

    Returns:
        Its results, as `run` returns them.
    """
    scenario = model.scenario
    daily = model.recorder.daily()
    daily.insert(2, "calendar_year", daily["year"] + scenario.run.start_year)
    annual = metrics.annual(daily.drop(columns=["calendar_year"]))
    annual.insert(1, "calendar_year", annual["year"] + scenario.run.start_year)
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": model.seed,
        "scale": scenario.run.scale,
        "residents": len(model.population),
        "facilities": len(model.facilities),
        "beds": int(model.facilities.beds.sum()),
        "calendar_years": [int(y) for y in annual["calendar_year"]],
        **metrics.summary(annual),
    }
    return Results(
        scenario=scenario,
        seed=model.seed,
        daily=daily,
        annual=annual,
        summary=summary,
        places=copy.deepcopy(model.places),  # the model's goes on (the dashboard collects year by year)
        region=model.region,
    )
