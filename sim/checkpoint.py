"""Shared beginnings of runs: the days before any lever acts, simulated once and reused.

A lever acts from its `start_year` (1 by default: year 0 is the last year of today's rules). Until
the first enabled lever starts, a run is the same for every scenario that differs from it only in
its levers, with the same seed (common random numbers: the same residents, illnesses, choices and
draws under the same rules): the warm-up and the years before that start. A sweep over lever
settings simulates that beginning again in every run: at the sweep benchmark's settings (levers
from year 1) 455 of a run's 1,915 days.

`PrefixCache.run_model` keeps a copy of the model as it stood when the shared beginning ended,
keyed by everything that beginning depends on (`prefix_key`), and runs each later scenario with
that key from a copy of it. Results are identical to a run from the start (tests/test_checkpoint.py
runs every scenario file and every lever at once both ways); a key that differs, or a lever that
starts in year 0, just means the beginning is simulated (and kept for the next run). Sweeps use
one per process (`sim.sweep`); `sim.run(..., prefixes=cache)` takes one.

What a lever may not do before its start year is a rule of `levers`: the model reads a lever's
values only through `Lever.active` (and `Policy.for_year`), except the fields a lever class lists
in `acts_before_start`, which are part of the key.
"""

from __future__ import annotations

import gc
import json
from typing import Any

from sim.config import Scenario
from sim.draws import SharedDraws
from sim.levers import Lever
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR
from sim.regionfiles import digest as region_digest


def shared_years(scenario: Scenario, years: int) -> int:
    """Whole simulated years, of a run of `years`, before the first enabled lever's start year."""
    starts = [lever.start_year for lever in _levers(scenario).values() if lever.enabled]
    return min([years, *starts])


def prefix_key(scenario: Scenario, seed: int, years: int) -> str:
    """What the days before the first lever acts depend on (`shared_years` of `years`), as JSON.

    That is the scenario without its name, description, seed and length, with each lever reduced to
    the values it acts through before its start year (`Lever.acts_before_start`), plus the seed and
    the number of shared years, and a region in files' digest (an edited file is another region).
    """
    data = scenario.model_dump(mode="json", exclude={"name": True, "description": True, "run": {"seed", "years"}})
    if scenario.region.files:
        data["region"]["files"] = [scenario.region.files, region_digest(scenario.region.files)]
    for name, lever in _levers(scenario).items():
        data["levers"][name] = {field: data["levers"][name][field] for field in lever.acts_before_start}
    return json.dumps([data, int(seed), shared_years(scenario, years)], sort_keys=True)


def _levers(scenario: Scenario) -> dict[str, Lever]:
    values = {name: getattr(scenario.levers, name) for name in type(scenario.levers).model_fields}
    return {name: value for name, value in values.items() if isinstance(value, Lever)}


class PrefixCache:
    """The last shared beginning simulated in this process, to start runs with the same key from.

    One model is kept, sharing what no model changes (`CareModel.copy_under`): ≈60 MB for a
    100,000-resident region; for the full city ≈1.1 GB, so a full-city run with a cache peaks at
    ≈2 GiB against 0.9. Runs from it also share the later years' episodes and taste shocks
    (`sim.draws.SharedDraws`: ≈45 MB a year at 100,000 residents, at most `sim.draws.MAX_BYTES`).
    A sweep gives a worker its runs seed by seed (`sweep.sweep`), so consecutive runs share it.
    """

    def __init__(self) -> None:
        self._key: str | None = None
        self._model: CareModel | None = None
        self.hits = 0
        self.misses = 0

    def run_model(self, scenario: Scenario, seed: int, years: int, progress: Any | None = None) -> CareModel:
        """A model of `scenario` run for `years`, its shared beginning copied from the kept model if the keys match.

        Args:
            scenario: The scenario to run.
            seed: Its seed.
            years: Simulated years.
            progress: Optional object whose `update(n)` is called as days pass (the copied ones at once).

        Returns:
            The model after `years` simulated years, as `CareModel.run_years` from a new model leaves it.
        """
        shared = shared_years(scenario, years)
        if shared == years:  # no lever: a run shares all of itself, with no other scenario
            self.misses += 1
            model = CareModel(scenario, seed=seed)
            model.run_years(years, progress)
            return model
        key = prefix_key(scenario, seed, years)
        if key == self._key and self._model is not None:
            self.hits += 1
            model = self._model.copy_under(scenario)
            if progress is not None:
                progress.update(scenario.run.warmup_days + shared * DAYS_PER_YEAR)
        else:
            self.misses += 1
            self.clear()  # free the old model before building the next
            model = CareModel(scenario, seed=seed)
            model.run_years(shared, progress)
            # Later years' episodes and shocks are alike too, until levers thin them (`sim.draws`).
            model.shared_draws = SharedDraws(seed, model.region.cell_candidates.shape[1])
            self._model, self._key = model.copy_under(scenario), key
        model.run_years(years - shared, progress)
        return model

    def clear(self) -> None:
        """Forget the kept model."""
        if self._model is not None and gc.get_freeze_count():
            # A model refers to itself, so only the cyclic collector frees it, and never while it is
            # frozen out of the collector's passes (as a sweep worker freezes its long-lived objects).
            gc.unfreeze()
        self._key = self._model = None
