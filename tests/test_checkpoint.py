"""Shared beginnings of runs (`sim.checkpoint`): copies go on exactly; runs from a kept beginning equal fresh ones."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import draws
from sim.checkpoint import PrefixCache, prefix_key, shared_years
from sim.draws import MAX_BYTES, SharedYear
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))
SMALL = ["run.scale=0.002", "run.years=3", "run.warmup_days=30"]
EVERY_LEVER = [
    # Every lever on from year 1, each with settings no scenario file uses: a lever value the model
    # read before its start year would make this run's beginning differ from the others'.
    *(f"levers.{name}.enabled=true" for name in ("reserved_beds", "start_line", "global_budget", "capitation")),
    *(f"levers.{name}.enabled=true" for name in ("per_diem", "drg", "family_doctor", "sanming")),
    "levers.reserved_beds.share=0.3",
    "levers.reserved_beds.priority=false",
    "levers.start_line.resident.inpatient_start_line.tertiary=4000",
    "levers.start_line.cumulative_in_consortium=true",
    "levers.global_budget.growth=0.1",
    "levers.family_doctor.target.all=0.8",
    "levers.family_doctor.management_effect=0.5",
    "levers.sanming.salary_reform=0.9",
    "levers.expansion.enabled=true",
    "levers.expansion.facility=1350",  # the first tertiary hospital
    "levers.expansion.outpatient_share=0.3",
    "levers.drg.price_factor=1.2",
]


class Days:
    """A progress counter."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int) -> None:
        self.n += n


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_goes_on_exactly_as_the_original(how: str) -> None:
    # The residents' ledger and the facilities' claim ledgers are views of one array each: a copy
    # must keep them views, or the copy's year-start resets miss what its kernels write.
    scenario = sim.load_scenario(SCENARIOS[0].parent / "liaocheng_2024.toml", SMALL)
    model = CareModel(scenario, seed=4)
    model.run_years(1)
    twin = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    for m in (model, twin):
        m.run_years(2)
    pd.testing.assert_frame_equal(twin.recorder.daily(), model.recorder.daily(), check_exact=True)


def test_a_model_copied_under_a_scenario_has_its_own_facility_agents() -> None:
    scenario = sim.load_scenario(None, SMALL)
    model = CareModel(scenario, seed=4)
    model.run_years(1)
    twin = model.copy_under(scenario.model_copy(update={"name": "twin"}))
    assert twin.scenario.name == "twin" and twin.region is model.region
    rows = [[(a.unique_id, a.index, a.name) for a in m.agents] for m in (twin, model)]
    assert rows[0] == rows[1]
    assert all(a.model is twin for a in twin.agents) and all(a.model is model for a in model.agents)
    twin.facilities.beds[0] += 1
    assert twin.agents[0].beds == model.agents[0].beds + 1


def test_runs_from_a_kept_beginning_equal_runs_from_the_start() -> None:
    cache = PrefixCache()
    # The backtest sets the region to 2013, `workforce` switches the doctors' module on from the build and
    # `hospital_investment` has hospitals invest from year 0 (`supply_package` both): other beginnings
    # altogether, not lever packages.
    other_beginnings = ("baseline", "workforce", "hospital_investment", "supply_package")
    runs = [
        (path, []) for path in SCENARIOS if path.stem not in other_beginnings and not path.stem.startswith("backtest_")
    ]
    runs += [(SCENARIOS[0].parent / "baseline.toml", EVERY_LEVER), (SCENARIOS[0].parent / "baseline.toml", [])]
    for path, levers in runs:
        scenario = sim.load_scenario(path, [*SMALL, *levers])
        days = Days()
        kept = sim.run(scenario, seed=6, prefixes=cache, progress=days)
        fresh = sim.run(scenario, seed=6)
        pd.testing.assert_frame_equal(kept.daily, fresh.daily, check_exact=True, obj=f"{path.stem} {levers}")
        assert kept.summary == fresh.summary
        assert days.n == scenario.run.warmup_days + 3 * DAYS_PER_YEAR
    # Every lever package starts in year 1: all but the first share its beginning; the baseline
    # without levers is simulated whole, and the kept beginning stays for the next run.
    assert (cache.hits, cache.misses) == (len(runs) - 2, 2)
    sim.run(sim.load_scenario(SCENARIOS[0].parent / "reserved_beds.toml", SMALL), seed=6, prefixes=cache)
    assert cache.hits == len(runs) - 1


@pytest.mark.parametrize("max_bytes", [MAX_BYTES, 0])
def test_runs_share_their_years_draws_unchanged(max_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs from a kept beginning share the later years' episodes and shocks (`sim.draws`), thinned
    # by their own disease management; none changes them. Without room, each run draws its own.
    monkeypatch.setattr(draws, "MAX_BYTES", max_bytes)
    cache = PrefixCache()
    for effect in (0.5, 0.0, 0.2):
        scenario = sim.load_scenario(None, [*SMALL, *EVERY_LEVER, f"levers.family_doctor.management_effect={effect}"])
        kept = sim.run(scenario, seed=6, prefixes=cache)
        pd.testing.assert_frame_equal(kept.daily, sim.run(scenario, seed=6).daily, check_exact=True)
        store = cache._model.shared_draws
        years = {year: shared for year, shared in store._years.items() if shared is not None}
        if effect == 0.5:
            before = {year: [a.copy() for a in _arrays(shared)] for year, shared in years.items()}
    assert sorted(store._years) == [1, 2]
    assert len(years) == (2 if max_bytes else 0)
    for year, shared in years.items():
        assert all(np.array_equal(a, b) for a, b in zip(_arrays(shared), before[year], strict=True))


def _arrays(shared: SharedYear) -> list[np.ndarray]:
    return [*(a for a in vars(shared.unthinned.episodes).values() if isinstance(a, np.ndarray)),
            shared.unthinned.keep_draw, shared.shocks]  # fmt: skip


def test_the_key_holds_what_the_beginning_depends_on() -> None:
    base = sim.load_scenario(None, SMALL)
    levers = sim.load_scenario(None, [*SMALL, *EVERY_LEVER])
    key = prefix_key(levers, 1, 3)
    assert shared_years(base, 3) == 3 and shared_years(levers, 3) == 1
    assert prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "levers.global_budget.growth=0.02"]), 1, 3) == key
    assert prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "name=other", "run.years=5"]), 1, 3) == key
    differs = [
        prefix_key(levers, 2, 3),  # another seed
        prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "choice.tier_constant.tertiary=1.0"]), 1, 3),
        prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "levers.reserved_beds.signed_only=false"]), 1, 3),
        prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "levers.response.restraint=0.2"]), 1, 3),
        prefix_key(sim.load_scenario(None, [*SMALL, *EVERY_LEVER, "levers.drg.start_year=0"]), 1, 3),
        prefix_key(base, 1, 3),  # no lever: the whole run is its beginning
    ]
    assert key not in differs and len(set(differs)) == len(differs)


def test_the_reference_engine_takes_no_prefix_cache() -> None:
    with pytest.raises(ValueError, match="prefixes work with the array engine"):
        sim.run(sim.load_scenario(None, ["run.scale=0.002"]), engine="reference", prefixes=PrefixCache())
