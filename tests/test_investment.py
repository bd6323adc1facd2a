"""Hospitals that invest their surplus in beds (`response.invest_from_surplus`), and secondary hospitals
graded up to tertiary (`levers.upgrade`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.facilities import investment_factor
from sim.levers import ProviderResponse
from sim.model import CareModel
from sim.parameters.prices import COMPONENTS
from sim.state import INPATIENT_ITEM, OUTPATIENT_ITEM

ROOT = Path(__file__).resolve().parents[1]
INVEST = "levers.response.invest_from_surplus=true"


@cache
def run(*extra: str) -> sim.Results:
    """The baseline at 50,000 residents for 3 years with the given settings."""
    overrides = ["run.scale=0.02", "run.years=3", *extra]
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.toml", overrides))


@cache
def upgraded(*extra: str) -> sim.Results:
    """`scenarios/hospital_investment.toml` at 50,000 residents for 2 years."""
    overrides = ["run.scale=0.02", "run.years=2", *extra]
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "hospital_investment.toml", overrides))


def yearly(results: sim.Results, column: str) -> np.ndarray:
    return results.annual[column].to_numpy()


def test_investment_factor_hand_worked():
    response = ProviderResponse(surplus_response=2.0, bed_response=1.0, target_occupancy=0.85, max_capacity_change=0.3)
    margin = np.array([0.05, -0.1, 0.0, 0.3, -0.2])
    occupancy = np.array([0.85, 0.85, 0.95, 0.5, 0.45])
    # exp(2 × max(margin, 0) + 1 × (occupancy − 0.85)), its logarithm within ±0.3: a deficit invests
    # nothing and closes nothing; only emptier wards cut beds.
    expected = np.exp([0.1, 0.0, 0.1, 0.25, -0.3])
    assert investment_factor(margin, occupancy, response) == pytest.approx(expected, rel=1e-13)


def test_running_costs_leave_the_start_margin_then_follow_capacity_prices_and_mark_up():
    model = CareModel(sim.load_scenario(overrides=["run.scale=0.004", "run.years=1"]))
    f = model.facilities
    n = len(f)
    rng = np.random.default_rng(0)
    f.revenue[:] = rng.uniform(1e5, 1e6, (n, len(COMPONENTS)))
    f.billed_by_basis[:, OUTPATIENT_ITEM] = f.revenue.sum(axis=1) * 0.4
    f.billed_by_basis[:, INPATIENT_ITEM] = f.revenue.sum(axis=1) * 0.6
    f.recorded_days = 365
    has_beds = f.beds > 0
    f.set_running_costs(0.03, markup=0.15, price_level=1.0)
    assert f.operating_margin(0.15, 1.0)[has_beds] == pytest.approx(0.03, rel=1e-9)
    # Twice the beds cost twice the wards' running costs, 60% of the running costs here.
    # Drugs and consumables are bought and resold with the drugs' mark-up.
    revenue = f.medical_revenue()
    drugs = f.revenue[:, COMPONENTS.index("drugs")] + f.revenue[:, COMPONENTS.index("consumables")]
    running = 0.97 * revenue - drugs / 1.15
    f.beds = f.beds * 2
    expected = 0.03 - 0.6 * running / revenue
    assert f.operating_margin(0.15, 1.0)[has_beds] == pytest.approx(expected[has_beds], rel=1e-9)
    f.beds = f.beds // 2
    # The mark-up removed: the drugs sold at cost keep nothing.
    expected = 0.03 - (drugs - drugs / 1.15) / revenue
    assert f.operating_margin(0.0, 1.0)[has_beds] == pytest.approx(expected[has_beds], rel=1e-9)
    # Prices and running costs rise together; more intensity costs in proportion.
    f.revenue[:] *= 1.02
    f.billed_by_basis[:] *= 1.02
    assert f.operating_margin(0.15, 1.02)[has_beds] == pytest.approx(0.03, rel=1e-9)


def test_hospitals_that_invest_their_surplus_grow_their_beds_without_a_plan():
    invest, still, planned = (
        run(INVEST),
        run(INVEST, "levers.response.surplus_response=0"),
        run(),
    )
    for tier in ("secondary", "tertiary"):
        # Without a surplus invested (nor occupancy, `bed_response` 0) hospitals keep their year-0 beds:
        # the plan no longer grows them.
        assert (yearly(still, f"beds_{tier}") == yearly(still, f"beds_{tier}")[0]).all()
        # Investing the 3% surplus: more beds each year, at about a·m ≈ 4.5% (the plan gives 3%).
        grown = yearly(invest, f"beds_{tier}")[2] / yearly(invest, f"beds_{tier}")[0]
        assert 1.04 < grown < 1.15
    # Primary care keeps the region's plan.
    for tier in ("village", "health_centre"):
        assert (yearly(invest, f"beds_{tier}") == yearly(planned, f"beds_{tier}")).all()
    assert (yearly(invest, "beds_tertiary")[0] == yearly(planned, "beds_tertiary")[0]).all()  # year 0: the same


def test_the_scale_cap_caps_investment():
    """The cap on hospital bed growth (控制公立医院规模) holds investing tertiary hospitals to their beds."""
    capped = run(INVEST, "levers.scale_cap.enabled=true")
    invest = run(INVEST)
    assert (yearly(capped, "beds_tertiary") == yearly(capped, "beds_tertiary")[0]).all()
    assert yearly(invest, "beds_tertiary")[2] > yearly(capped, "beds_tertiary")[2]
    assert yearly(capped, "beds_secondary")[2] > yearly(capped, "beds_secondary")[0]  # not capped


def test_secondary_hospitals_of_tertiary_size_are_graded_up():
    on, off = upgraded(), upgraded("levers.upgrade.enabled=false")
    beds = {t: (yearly(on, f"beds_{t}"), yearly(off, f"beds_{t}")) for t in ("secondary", "tertiary")}
    # Year 0 is before the lever; in year 1 the urban districts' secondary hospitals (630 beds at full
    # scale) are graded tertiary: their beds change tier.
    assert beds["tertiary"][0][0] == beds["tertiary"][1][0]
    moved = beds["tertiary"][0][1] - beds["tertiary"][1][1]
    assert moved > 0.3 * beds["secondary"][1][1]
    assert beds["secondary"][0][1] == pytest.approx(beds["secondary"][1][1] - moved, abs=2)
    # Their patients are now tertiary patients, at tertiary prices.
    assert yearly(on, "visit_share_tertiary")[1] > yearly(off, "visit_share_tertiary")[1] + 0.03
    assert yearly(on, "cost_per_visit_tertiary")[1] < yearly(off, "cost_per_visit_tertiary")[1]
    pd.testing.assert_series_equal(on.annual.iloc[0], off.annual.iloc[0])  # year 0: before the lever


def test_upgraded_hospitals_take_the_tertiary_tier_s_capability_and_quality():
    scenario = sim.load_scenario(
        ROOT / "scenarios" / "hospital_investment.toml", ["run.scale=0.004", "run.warmup_days=0"]
    )
    model = CareModel(scenario)
    secondary = np.flatnonzero(model.facilities.tier == 2)
    large = secondary[model.facilities.beds[secondary] >= 500 * 0.004]
    assert large.size > 0
    while model.year < 1:
        model.step()
    f, care = model.facilities, scenario.care
    assert (f.tier[large] == 3).all()
    assert (f.tier[np.setdiff1d(secondary, large)] == 2).all()
    assert (f.quality[large] == care.quality.tertiary).all()
    assert (f.inpatient_capability[large] == care.inpatient_capability.tertiary).all()
    assert (model.cells.candidate_tier[np.isin(model.cells.candidates, large)] == 3).all()
