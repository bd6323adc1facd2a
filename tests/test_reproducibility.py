"""Same seed, same results; different seed, different results; draws keyed per resident."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np

import sim
from sim import illness, population, region, rng
from sim.arrays import Buffers
from sim.population import Population


def _summary_text(results: sim.Results) -> str:
    return json.dumps(results.summary, sort_keys=True)


def test_same_seed_identical_summary(small_scenario, small_results):
    again = sim.run(small_scenario)
    assert _summary_text(again) == _summary_text(small_results)
    assert again.daily.equals(small_results.daily)


def test_different_seed_differs(small_scenario, small_results):
    other = sim.run(small_scenario, seed=2)
    assert _summary_text(other) != _summary_text(small_results)
    # ...but not wildly: the same model with other draws.
    a = small_results.annual["primary_visit_share"].to_numpy()
    b = other.annual["primary_visit_share"].to_numpy()
    assert np.all(np.abs(a - b) < 0.03)


def test_written_summary_identical(tmp_path, small_scenario, small_results):
    first = small_results.write(tmp_path / "a")
    second = sim.run(small_scenario).write(tmp_path / "b")
    assert (first / "summary.json").read_bytes() == (second / "summary.json").read_bytes()
    assert (first / "annual.csv").read_bytes() == (second / "annual.csv").read_bytes()


def test_keyed_draws_do_not_depend_on_batch():
    ids = np.arange(1000)
    whole = rng.uniform(7, "s", 3, ids)
    part = rng.uniform(7, "s", 3, ids[500:])
    assert np.array_equal(whole[500:], part)
    assert not np.array_equal(rng.uniform(7, "s", 3, ids), rng.uniform(7, "t", 3, ids))
    assert not np.array_equal(rng.uniform(7, "s", 3, ids), rng.uniform(8, "s", 3, ids))
    u = rng.uniform(1, "x", np.arange(200_000))
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005


def test_one_extra_resident_changes_only_that_resident():
    """Residents' attributes and illnesses are keyed by resident id, not by population size."""
    scenario_a = sim.load_scenario(overrides=["region.residents=100000", "run.scale=0.05"])
    scenario_b = sim.load_scenario(overrides=["region.residents=100020", "run.scale=0.05"])
    a = sim.CareModel(scenario_a).population
    b = sim.CareModel(scenario_b).population
    assert len(b) == len(a) + 1
    for name in ("age", "scheme", "hypertension", "diabetes", "signed", "trust"):
        assert np.array_equal(getattr(a, name), getattr(b, name)[: len(a)]), name
    ep_a = illness.draw_year(1, 0, a.age, a.chronic, scenario_a.illness)
    ep_b = illness.draw_year(1, 0, b.age, b.chronic, scenario_b.illness)
    keep = ep_b.resident < len(a)
    assert np.array_equal(ep_a.resident, ep_b.resident[keep])
    assert np.array_equal(ep_a.key, ep_b.key[keep])
    assert np.array_equal(ep_a.severity, ep_b.severity[keep])


def test_thinning_keeps_a_subset_of_episodes(small_model):
    """A policy lowering illness rates removes episodes; the ones kept are the baseline's (CRN)."""
    pop: Population = small_model.population
    params = small_model.scenario.illness
    base = illness.draw_year(3, 1, pop.age, pop.chronic, params)
    keep = np.where(pop.chronic, 0.7, 1.0)
    thinned = illness.draw_year(3, 1, pop.age, pop.chronic, params, keep=keep)
    assert len(thinned) < len(base)
    assert set(thinned.key.tolist()) <= set(base.key.tolist())


def test_a_shared_unthinned_year_thins_to_what_each_keep_draws(small_model):
    """Runs of one seed share a year's unthinned episodes (`sim.draws`): thinning them is drawing anew."""
    pop: Population = small_model.population
    params = small_model.scenario.illness
    year = illness.draw_unthinned_year(3, 1, pop.age, pop.chronic, params)
    assert year is not None
    for keep in (None, np.where(pop.chronic, 0.7, 1.0), np.where(pop.signed, 0.0, 0.95)):
        drawn = illness.draw_year(3, 1, pop.age, pop.chronic, params, keep=keep)
        thinned, kept = illness.thin(year, keep, Buffers())
        assert (kept is None) == (keep is None)
        for field in fields(illness.YearEpisodes):
            assert np.array_equal(getattr(thinned, field.name), getattr(drawn, field.name)), field.name
        if kept is not None:
            assert len(thinned) < len(year.episodes)
            assert np.array_equal(year.episodes.key[kept], drawn.key)


def test_a_year_with_tied_arrivals_is_not_shared(small_model, monkeypatch):
    # Episodes of a day tied on their arrival word are ordered by another sort in `draw_year`, which
    # thinning could not reproduce: such a year is drawn by each run.
    pop: Population = small_model.population
    monkeypatch.setattr(illness, "_arrival", lambda day, key: day.astype(np.uint64) << np.uint64(55))
    assert illness.draw_unthinned_year(3, 1, pop.age, pop.chronic, small_model.scenario.illness) is None


def test_patient_view_agrees_with_arrays(small_model):
    pop = small_model.population
    for i in (0, 17, len(pop) - 1):
        p = pop[i]
        assert p.age == pop.age[i]
        assert p.scheme == pop.scheme[i]
        assert p.signed == bool(pop.signed[i])
        assert p.chronic == bool(pop.chronic[i])
        assert abs(p.trust - float(pop.trust[i])) == 0
    p = pop[5]
    p.signed = not p.signed
    assert pop.signed[5] == p.signed
    assert "Patient(index=5" in repr(p)


def test_patient_view_rejects_unknown():
    import pytest

    pop = sim.CareModel(sim.load_scenario(overrides=["run.scale=0.01"])).population
    with pytest.raises(AttributeError):
        _ = pop[0].income
    with pytest.raises(IndexError):
        pop[len(pop)]


def test_facility_agents_view_the_arrays(small_model):
    from sim.facilities import Facility

    agents = list(small_model.agents_by_type[Facility])
    assert len(agents) == len(small_model.facilities)
    for _ in range(small_model.scenario.run.warmup_days + 10):
        small_model.step()
    f = small_model.facilities
    for agent in agents[:: max(1, len(agents) // 25)]:
        i = agent.index
        assert agent.name == f.name[i] and agent.beds == f.beds[i]
        assert agent.tier == ("village", "health_centre", "secondary", "tertiary")[f.tier[i]]
        assert agent.occupied_beds == small_model.occupied_beds()[i] <= agent.beds
        assert agent.intensity == {"outpatient": f.outpatient_intensity[i], "inpatient": f.inpatient_intensity[i]}
        assert sum(agent.revenue.values()) == f.revenue[i].sum()
        assert repr(agent).startswith(f"Facility({i},")


def test_population_drawn_by_blocks_is_the_same(monkeypatch):
    """Every draw of a resident is keyed by the resident: drawing them in blocks changes nothing."""
    scenario = sim.load_scenario(overrides=["run.scale=0.004"])
    reg = region.build(scenario.region, scenario.run.scale)
    whole = population.build(reg, scenario.population, 5)
    monkeypatch.setattr(population, "BUILD_BLOCK", 999)
    blocked = population.build(reg, scenario.population, 5)
    assert len(whole) > 5 * 999
    for f in fields(whole):
        a, b = getattr(whole, f.name), getattr(blocked, f.name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name


def test_models_share_only_what_they_do_not_change():
    """Models of one process share the residents' read-only arrays; each has its own ages and signing."""
    scenario = sim.load_scenario(overrides=["run.scale=0.004"])
    a, b = sim.CareModel(scenario).population, sim.CareModel(scenario).population
    assert a.cell is b.cell and not a.cell.flags.writeable
    assert a.age is not b.age and a.signed is not b.signed
    before = b.age.copy()
    a.age += 1
    assert np.array_equal(b.age, before)
