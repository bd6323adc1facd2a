"""Patients a budget's restraint turns away (推诿), and what a per-head budget makes a hospital weigh before it does.

A moderate case a hospital declines to admit because its admission propensity fell below 1 may ask
for a bed at the next tier up (`care.declined_ward`); under a per-head budget a county hospital
counts what that stay would cost the budget (`payment.admission_margin`). Each effect is shown with
the same seed against a control with the mechanism off.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim import care, payment, rules
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR

ROOT = Path(__file__).resolve().parents[1]
MODERATE, SECONDARY, TERTIARY = 1, 2, 3


@cache
def run_scenario(name: str, *extra: str, years: int = 3) -> sim.Results:
    """A scenario at 50,000 residents, seed 1: every run shares its patients (common random numbers)."""
    return sim.run(
        sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", ["run.scale=0.02", f"run.years={years}", *extra])
    )


def yearly(results: sim.Results, column: str) -> np.ndarray:
    return results.annual[column].to_numpy()


def inside(results: sim.Results) -> np.ndarray:
    """County residents' admissions in their own county, by year."""
    return yearly(results, "county_admissions_in_county")


def outside(results: sim.Results) -> np.ndarray:
    """County residents' admissions outside their county, by year."""
    return yearly(results, "county_admissions") - inside(results)


def closed_model(name: str, *extra: str, years: int = 2) -> CareModel:
    """A model after `years` year closes (50,000 residents, seed 1)."""
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", ["run.scale=0.02", *extra]))
    while model.day < years * DAYS_PER_YEAR:
        model.step()
    return model


def test_only_the_cases_restraint_removes_are_declined():
    draw = np.array([0.01, 0.035, 0.069, 0.07, 0.5])
    # Probability 0.07 at propensity 0.5: draws in [0.035, 0.07) needed a bed at the baseline and are declined.
    assert rules.declined_by_restraint(draw, 0.07, 0.5).tolist() == [False, True, True, False, False]
    # No restraint, or a propensity above 1 (more admitted), declines nobody; the baseline's outpatients neither.
    assert not rules.declined_by_restraint(draw, 0.07, 1.0).any()
    assert not rules.declined_by_restraint(draw, 0.07, 1.4).any()


def test_a_declined_patient_asks_at_the_preferred_candidate_above_the_declining_tier():
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / "baseline.toml", ["run.scale=0.02"]))
    cells, f = model.cells, model.facilities
    capability = f.inpatient_capability
    found = 0
    for cell in range(cells.candidates.shape[0]):
        for tier in (1, SECONDARY, TERTIARY):
            ward = care.ward_above(cells, cell, tier, capability, MODERATE)
            allowed = (
                (cells.candidates[cell] >= 0)
                & (cells.candidate_tier[cell] > tier)
                & (capability[np.maximum(cells.candidates[cell], 0)] >= MODERATE)
            )
            if not allowed.any():
                assert ward == -1
                continue
            best = np.flatnonzero(allowed)[np.argmin(cells.candidate_preference[cell][allowed])]
            assert ward == cells.candidates[cell, best] and f.tier[ward] > tier
            found += tier == SECONDARY
    assert found > 0  # county hospitals' patients have a tertiary hospital to go to
    # Declined with a draw to seek: that ward; not declined, or no one seeks: none.
    stream = np.uint64(7)
    key = np.uint64(12345)
    seeks = care.ward_above(cells, 0, 1, capability, MODERATE)
    assert care.declined_ward(0.05, 0.07, 0.5, key, 1.0, stream, cells, 0, 1, capability, MODERATE) == seeks
    assert care.declined_ward(0.05, 0.07, 0.5, key, 0.0, stream, cells, 0, 1, capability, MODERATE) == -1
    assert care.declined_ward(0.05, 0.07, 1.0, key, 1.0, stream, cells, 0, 1, capability, MODERATE) == -1


def test_patients_declined_by_restraint_ask_for_a_bed_higher_up():
    """Under a global budget on claims, from year 2 (propensities fell at year 1's close) declined patients go up."""
    seek = run_scenario("global_budget", "care.declined_seek_bed=1")
    stay = run_scenario("global_budget", "care.declined_seek_bed=0")
    pd.testing.assert_frame_equal(seek.daily[seek.daily.year < 2], stay.daily[stay.daily.year < 2], check_exact=True)
    assert yearly(seek, "treated_outpatient")[2] < yearly(stay, "treated_outpatient")[2]
    assert yearly(seek, "admission_requests")[2] > yearly(stay, "admission_requests")[2]
    assert yearly(seek, "admissions_tertiary")[2] > yearly(stay, "admissions_tertiary")[2]
    # A county hospital's patient declined goes to the city, a health centre's to the county hospital: more
    # county residents are admitted both outside and inside their county (the rate moves with the mix).
    for admitted in (outside, inside):
        assert admitted(seek)[2] > admitted(stay)[2]


def test_the_baseline_declines_nobody():
    """Without a budget no propensity falls below 1: the share of declined patients who seek changes nothing."""
    pd.testing.assert_frame_equal(
        run_scenario("baseline", "care.declined_seek_bed=1").daily,
        run_scenario("baseline", "care.declined_seek_bed=0").daily,
        check_exact=True,
    )


def test_let_go_claim_ratio_and_admission_margin_hand_worked():
    # Tiers 0–3; moderate stays: tier 2 bills 7,000 a stay, tier 3 14,000; tier 1 3,000.
    bills = np.zeros((4, 4))
    counts = np.zeros((4, 4))
    bills[1:, MODERATE] = [6_000.0, 70_000.0, 28_000.0]
    counts[1:, MODERATE] = [2, 10, 2]
    tier = np.array([0, 1, 2, 3, 3])
    fund = np.array([10.0, 60.0, 500.0, 300.0, 300.0])
    billed = np.array([20.0, 100.0, 1000.0, 1000.0, 500.0])  # tertiary fund share 600 / 1,500 = 0.4
    admits = np.array([False, True, True, True])
    ratio = payment.let_go_claim_ratio(bills, counts, fund, billed, tier, admits)
    # Tier 2: 0.4 × 14,000 / 7,000; tier 1: 0.5 × 7,000 / 3,000; tier 0 completed no moderate stay;
    # tier 3 has no tier above.
    np.testing.assert_allclose(ratio, [0.0, 0.5 * 7_000 / 3_000, 0.4 * 2.0, 0.0])
    # v = 0.4, clawback 1, half of the declined seek a bed: 0.4 + 1 × 0.5 × 0.8.
    got = payment.admission_margin(np.array([0.4, 0.4]), np.array([1.0, 0.0]), 0.5, np.array([0.8, 0.8]))
    np.testing.assert_allclose(got, [0.8, 0.4])


def test_per_head_members_weigh_what_a_patient_let_go_costs_the_budget():
    """At year 1's close a member's admission propensity is higher when it counts the stay let go a tier up."""
    on = closed_model("per_head_budget")
    off = closed_model("per_head_budget", "levers.global_budget.weigh_let_go=false")
    f = on.facilities
    # Health centres (their patients go to a county hospital) and hospitals below the top (to a tertiary one).
    below_top = (f.consortium >= 0) & np.isin(f.tier, [1, SECONDARY])
    assert below_top.any()
    kept, cut = f.admission_propensity, off.facilities.admission_propensity
    assert (kept[below_top] >= cut[below_top]).all()
    # Strictly higher but where both reached the bound (1.5): emptier wards raise it too (`fill_beds`).
    assert ((kept > cut) | (cut == 1.5))[below_top].all()
    # Outside consortia, at tertiary hospitals (no tier above) and village clinics (no moderate stays): as before.
    np.testing.assert_array_equal(kept[~below_top], cut[~below_top])
    # If no declined patient sought a bed elsewhere, letting one go would cost nothing: the control's propensities.
    nobody = closed_model("per_head_budget", "care.declined_seek_bed=0")
    np.testing.assert_array_equal(nobody.facilities.admission_propensity, cut)


def test_a_budget_on_claims_at_members_weighs_no_let_go_cost():
    """Under a budget on claims at its members a patient let go leaves the budget: the switch changes nothing."""
    off = run_scenario("global_budget", "levers.global_budget.weigh_let_go=false", years=2)
    pd.testing.assert_frame_equal(off.daily, run_scenario("global_budget", years=2).daily, check_exact=True)
