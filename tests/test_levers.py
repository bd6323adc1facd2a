"""Policy levers: mechanisms (exact rules) and directions (same seed, lever on vs off)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import care, payment
from sim.config import ScenarioError
from sim.insurance import chain_start_line
from sim.levers import Levers, Policy, signing_target
from sim.model import CareModel
from sim.params import TIERS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
SMALL = ["run.scale=0.05", "run.years=3"]


@cache
def run_scenario(name: str, *extra: str) -> sim.Results:
    """A scenario file at a small scale, same seed for all (common random numbers)."""
    return sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", [*SMALL, *extra]))


def later_years(results: sim.Results, column: str) -> np.ndarray:
    return results.annual[column].to_numpy()[1:]


# ---------------------------------------------------------------------------------- mechanisms
def test_referral_chain_pays_one_start_line():
    """Primary stay (start-line 200) transferred to a secondary hospital (500) in the same consortium."""
    first = chain_start_line(np.array([200.0]), np.array([0.0]), np.array([True]), cumulative=True)
    second = chain_start_line(np.array([500.0]), first, np.array([True]), cumulative=True)
    assert first[0] + second[0] == 500.0  # one start-line: the highest level's
    separate = chain_start_line(np.array([500.0]), first, np.array([True]), cumulative=False)
    assert first[0] + separate[0] == 700.0
    other_consortium = chain_start_line(np.array([500.0]), first, np.array([False]), cumulative=True)
    assert other_consortium[0] == 500.0
    downhill = chain_start_line(np.array([200.0]), np.array([1000.0]), np.array([True]), cumulative=True)
    assert downhill[0] == 0.0


def test_cumulative_start_line_lowers_what_transferred_patients_pay():
    on = run_scenario("cumulative_start_line")
    off = run_scenario("baseline")
    assert later_years(on, "transfers_up").sum() > 0
    paid_on = on.daily.loc[on.daily.year >= 1, "chain_start_line_paid"].sum()
    paid_off = off.daily.loc[off.daily.year >= 1, "chain_start_line_paid"].sum()
    assert paid_on < paid_off


def test_budget_surplus_and_overspend_split_by_stated_shares():
    transfer = payment.budget_transfer(
        budget=np.array([100.0, 100.0]), spending=np.array([80.0, 130.0]), surplus_kept=0.75, overspend_borne=0.4
    )
    assert np.allclose(transfer, [15.0, -12.0])  # keeps 75% of 20; pays back 40% of 30 (the fund bears 18)
    consortium = np.array([0, 0, 0, 1, 1, -1])
    is_lead = np.array([True, False, False, True, False, False])
    revenue = np.array([500.0, 30.0, 10.0, 400.0, 0.0, 99.0])
    amounts = payment.share_transfer(transfer, consortium, is_lead, revenue, lead_share=0.6)
    assert np.isclose(amounts[0], 0.6 * 15) and np.isclose(amounts[1], 0.4 * 15 * 0.75)
    assert np.isclose(amounts[2], 0.4 * 15 * 0.25)
    assert np.isclose(amounts[3], -12.0)  # members without revenue: the lead bears it all
    assert amounts[5] == 0.0
    for c in (0, 1):
        assert np.isclose(amounts[consortium == c].sum(), transfer[c])


def test_budget_settlement_books_exactly_the_transfer():
    r = run_scenario("global_budget")
    settled = r.daily[r.daily.budget_settlement != 0]
    assert len(settled) >= 1 and (settled.day % 365 == 364).all()
    lump = sum(settled[f"revenue_lump_sum_{t}"] for t in TIERS)
    assert np.allclose(lump, settled.budget_settlement)


def test_reserved_beds_are_held_from_unreferred_patients():
    free = np.arange(10)
    owner = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    open_slots = care.unreserved(free, owner, protected=np.array([2, 0, 3]))
    assert open_slots.tolist() == [2, 3, 4, 5, 6]
    assert care.allocate_beds(np.array([2, 2]), open_slots, owner).tolist() == [-1, -1]


def test_reserved_bed_never_given_to_unreferred_before_release():
    scenario = sim.load_scenario(
        ROOT / "scenarios" / "reserved_beds.toml",
        [
            "run.scale=0.05",
            "levers.reserved_beds.start_year=0",
            "levers.reserved_beds.release_after_days=365",
            "levers.reserved_beds.share=0.3",
        ],
    )
    model = CareModel(scenario)
    leads = np.flatnonzero(model._is_lead)
    checked = 0
    while model.day < 364:
        model.step()
        if model.day < 90:  # warm-up patients admitted before the reservation leave first
            continue
        occupied = model.occupied_beds()[leads]
        held = model.wards.occupied(len(model.facilities), qualified_only=True)[leads]
        assert (occupied - held <= model.facilities.beds[leads] - model._reserved[leads]).all()
        checked += 1
    assert checked > 250 and model._reserved[leads].sum() > 0


def test_capitation_revenue_is_rate_times_signed_residents():
    r = run_scenario("capitation")
    rate = sim.load_scenario(ROOT / "scenarios" / "capitation.toml").levers.capitation.rate
    year_starts = r.daily[(r.daily.day % 365 == 0) & (r.daily.year >= 1)]
    assert len(year_starts) == 2
    assert np.allclose(year_starts.capitation_paid, rate * year_starts.signed)
    assert (year_starts.revenue_lump_sum_health_centre > 0).all()
    assert r.daily.loc[r.daily.year == 0, "capitation_paid"].sum() == 0  # starts in year 1


def test_signing_ramps_to_target_key_groups_first():
    levers = Levers.model_validate({"family_doctor": {"enabled": True, "start_year": 1, "years_to_target": 2}})
    assert signing_target(levers, 0, 0.2, 0.6) == (0.2, 0.6)
    all_1, key_1 = signing_target(levers, 1, 0.2, 0.6)
    assert 0.2 < all_1 < 0.6 and 0.6 < key_1 < 0.9
    assert signing_target(levers, 5, 0.2, 0.6) == pytest.approx((0.6, 0.9))
    r = run_scenario("family_doctor")
    rates = r.annual.signing_rate.to_numpy()
    assert rates[0] < rates[1] < rates[2]


def test_policy_is_off_before_start_year():
    levers = Levers.model_validate({"sanming": {"enabled": True, "start_year": 2}})
    assert Policy.for_year(levers, 1).revenue_cap is None
    assert Policy.for_year(levers, 2).revenue_cap == 0.09
    assert np.allclose(Policy.for_year(levers, 1).price_multiplier, 1.0)


@pytest.mark.parametrize("name", SCENARIOS)
def test_money_conserved_under_every_scenario(name):
    d = run_scenario(name).daily
    assert np.allclose(d.fund_paid + d.oop_paid, d.revenue_booked, rtol=0, atol=1e-6 * d.revenue_booked.abs().max())


def test_money_conserved_under_per_diem_and_drg():
    for lever in ("per_diem", "drg"):
        r = run_scenario("baseline", f"levers.{lever}.enabled=true")
        d = r.daily
        assert np.allclose(d.fund_paid + d.oop_paid, d.revenue_booked, rtol=0, atol=1e-6 * d.revenue_booked.max())
        growth = later_years(r, "medical_revenue_growth")[1:]
        base = later_years(run_scenario("baseline"), "medical_revenue_growth")[1:]
        assert growth.mean() < base.mean(), lever  # paying per day or per case restrains intensity


@pytest.mark.parametrize(
    ("override", "expect"),
    [
        ("levers.reserved_beds.share=1.5", "levers.reserved_beds.share = 1.5"),
        ("levers.global_budget.overspend_borne=-0.1", "levers.global_budget.overspend_borne"),
        ("levers.family_doctor.target.all=2", "≤ 1"),
        ("levers.sanming.price_change.drugs=-1", "≥ -0.9"),
        ("levers.capitation.rat=3", "did you mean 'rate'"),
        (
            "levers.start_line.resident.inpatient_rate.tertiary=1.2",
            "levers.start_line.resident.inpatient_rate.tertiary",
        ),
    ],
)
def test_bad_lever_parameter_one_line_error(override, expect):
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(overrides=[override])
    assert expect in str(info.value) and "\n" not in str(info.value)


# ---------------------------------------------------------------------------------- directions
def test_wider_start_line_gap_raises_primary_share():
    gap, base = run_scenario("start_line_gap"), run_scenario("baseline")
    assert (later_years(gap, "primary_visit_share") > later_years(base, "primary_visit_share")).all()
    assert gap.annual.primary_visit_share.iloc[0] == base.annual.primary_visit_share.iloc[0]  # lever starts in year 1


def test_reserved_beds_shorten_referred_patients_wait():
    on, off = run_scenario("reserved_beds"), run_scenario("baseline")
    assert (later_years(on, "lead_referral_wait_days") < 0.5 * later_years(off, "lead_referral_wait_days")).all()


def test_global_budget_slows_hospital_revenue_growth():
    on, off = run_scenario("global_budget"), run_scenario("baseline")
    assert later_years(on, "medical_revenue_growth").mean() < later_years(off, "medical_revenue_growth").mean() - 0.01


def test_family_doctor_raises_primary_share_and_lowers_chronic_admissions():
    on, off = run_scenario("family_doctor"), run_scenario("baseline")
    assert (later_years(on, "primary_visit_share") > later_years(off, "primary_visit_share")).all()
    assert (later_years(on, "chronic_admissions") < later_years(off, "chronic_admissions")).all()


def test_sanming_caps_revenue_growth_and_moves_structure_toward_532():
    on, off = run_scenario("sanming"), run_scenario("baseline")
    assert (later_years(off, "medical_revenue_growth") > 0.09).all()
    assert (later_years(on, "medical_revenue_growth") < 0.09).all()
    target = np.array([0.5, 0.3, 0.2])
    columns = ["revenue_structure_service", "revenue_structure_drugs", "revenue_structure_tests"]
    distance_on = np.abs(on.annual[columns].to_numpy()[-1] - target).sum()
    distance_off = np.abs(off.annual[columns].to_numpy()[-1] - target).sum()
    assert distance_on < 0.7 * distance_off
