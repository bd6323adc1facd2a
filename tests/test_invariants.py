"""Invariants that must hold every day of every run: episodes, referrals, beds (money: tests/test_accounting.py)."""

from __future__ import annotations

import numpy as np

import sim
from sim.metrics import BY_TIER_FIELDS
from sim.model import FREE_BED, CareModel
from sim.params import TIERS


def test_ledger_rows_keep_residents_through_year_starts(small_model: CareModel):
    """Zeroing residents' annual accounts at a year start (audited in tests/audit.py) spares the rest of their row."""
    m, pop = small_model, small_model.population
    for _ in range(m.scenario.run.warmup_days + 370):  # five days into the second recorded year
        m.step()
    assert np.array_equal(m._home >> 1, pop.cell) and np.array_equal(m._home & 1, pop.scheme)
    assert np.array_equal(m._trust, pop.trust)
    assert m.outpatient_fund_paid.sum() > 0 and m.outpatient_start_line_paid.sum() > 0  # this year's visits
    # One 32-byte row per resident: the accounts, home code and trust of resident i are 32·i bytes in.
    columns = (m.outpatient_start_line_paid, m.outpatient_fund_paid, m._home, m._trust)
    rows = [a.__array_interface__["data"][0] for a in columns]
    assert {a.strides for a in (m.outpatient_start_line_paid, m.outpatient_fund_paid, m._home, m._trust)} == {(32,)}
    assert 0 <= max(rows) - min(rows) < 32


def test_every_episode_served_referred_unmet_or_self_cared(small_results):
    """Each new episode is treated as an outpatient, requests a bed, is recorded unmet, or is cared for at home."""
    d = small_results.daily
    served = d["treated_outpatient"] + d["admission_requests"] + d["unmet_outpatient"]
    assert (d["episodes"] == served + d["self_care_episodes"]).all()
    assert d["self_care_episodes"].sum() > 0 and d["unmet_outpatient"].sum() > 0  # every term occurs
    admitted = sum(d[f"admissions_{t}"] for t in TIERS)
    # Inpatients transferred up (上转) ask for a bed too: each transfer is one more request.
    assert (d["transfer_requests"] == d["transfers_up"]).all() and d["transfers_up"].sum() > 0
    lhs = d["waiting_start"] + d["admission_requests"] + d["transfer_requests"]
    assert (lhs == admitted + d["unmet_inpatient"] + d["waiting_end"]).all()
    assert (d["waiting_start"].iloc[1:].to_numpy() == d["waiting_end"].iloc[:-1].to_numpy()).all()
    assert d["referrals_up"].sum() > 0


def test_by_tier_fields_recorded(small_results):
    for name in BY_TIER_FIELDS:
        for t in TIERS:
            assert f"{name}_{t}" in small_results.daily.columns
    # Village clinics have no beds and admit nobody.
    assert small_results.daily["admissions_village"].sum() == 0


def test_referrals_cross_tiers(small_results):
    """Up-referrals and transfers go to a higher tier, down-referrals to a health centre: never sideways."""
    a = small_results.annual
    for t in TIERS:
        assert (a[f"flow_{t}_to_{t}"] == 0).all(), t
    up = sum(a[f"flow_{s}_to_{t}"] for i, s in enumerate(TIERS) for t in TIERS[i + 1 :])
    down = sum(a[f"flow_{s}_to_{t}"] for i, s in enumerate(TIERS) for t in TIERS[:i])
    assert (up == a["referrals_up"]).all() and (down == a["referrals_down"]).all()


def test_a_tiny_region_with_bedless_hospitals_still_accounts_for_every_episode():
    """At 1,000 residents some hospitals get no beds: patients they would admit are recorded unmet."""
    import sim

    scenario = sim.load_scenario(None, ["run.scale=0.0004", "run.years=1", "run.warmup_days=10"])
    model = CareModel(scenario)
    assert (model.cells.referral_inpatient < 0).any(), "this scale must leave some cell without an admitting hospital"
    d = sim.run(scenario).daily
    served = d["treated_outpatient"] + d["admission_requests"] + d["unmet_outpatient"]
    assert (d["episodes"] == served + d["self_care_episodes"]).all()
    admitted = sum(d[f"admissions_{t}"] for t in TIERS)
    lhs = d["waiting_start"] + d["admission_requests"] + d["transfer_requests"]
    assert (lhs == admitted + d["unmet_inpatient"] + d["waiting_end"]).all()
    assert d["unmet_inpatient"].sum() > 0


def test_no_stay_is_overwritten_during_the_warm_up():
    """A bed is given to a new patient only once its stay has ended, on negative (warm-up) days too."""
    model = CareModel(sim.load_scenario(overrides=["run.scale=0.002", "run.warmup_days=90"]))
    checked = 0
    while model.day < 20:
        wards = model.wards
        staying = (wards.discharge_day != FREE_BED) & (wards.discharge_day > model.day)
        key = wards.key.copy()
        model.step()
        if model.wards is wards:  # not resized at a year start
            assert np.array_equal(model.wards.key[staying], key[staying])
            assert np.all(model.wards.discharge_day[staying] != FREE_BED)
            checked += int(staying.sum())
    assert checked > 1_000
