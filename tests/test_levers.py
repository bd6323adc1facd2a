"""Policy levers: their exact rules, and their effects with a control that switches the mechanism off.

Each effect is measured against the baseline with the same seed (common random numbers), held to a
band of sizes rather than a sign — so an effect that shrank by most of its size fails — and shown
to come from the lever's mechanism: with the mechanism switched off (patients indifferent to price,
no reserve, no money at stake, no management effect, no cap, no provider response) the effect is
gone. Each band brackets today's size at this small scale (the comment beside it); a change of
model that moves an effect out of its band is a reviewed change of results.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import care, metrics, payment
from sim.config import ScenarioError
from sim.insurance import chain_start_line
from sim.levers import Levers, Policy
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR
from sim.parameters.prices import COMPONENTS

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow))
"""Each effect is checked on seed 1 in the default suite and on seeds 1–3 in the slow one."""
NO_RESPONSE = [
    f"levers.response.{k}=0"
    for k in (
        "restraint",
        "mix_response",
        "admission_response",
        "down_referral_response",
        "per_case_stay_response",
        "per_day_stay_response",
    )
]


@cache
def run_scenario(name: str, *extra: str, seed: int = 1, years: int = 3) -> sim.Results:
    """A scenario file at a small scale (50,000 residents); every run of a seed shares its patients."""
    overrides = ["run.scale=0.02", f"run.years={years}", f"run.seed={seed}", *extra]
    return sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", overrides))


def yearly(results: sim.Results, column: str) -> np.ndarray:
    return results.annual[column].to_numpy()


def assert_same_run(a: sim.Results, b: sim.Results) -> None:
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)


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
        assert (occupied - held <= model.facilities.beds[leads] - model.reserved[leads]).all()
        checked += 1
    assert checked > 250 and model.reserved[leads].sum() > 0


def test_signing_ramps_to_target_key_groups_first():
    levers = Levers.model_validate({"family_doctor": {"enabled": True, "start_year": 1, "years_to_target": 2}})
    assert Policy.for_year(levers, 0).signing_rates(0.2, 0.6) == (0.2, 0.6)
    all_1, key_1 = Policy.for_year(levers, 1).signing_rates(0.2, 0.6)
    assert 0.2 < all_1 < 0.6 and 0.6 < key_1 < 0.9
    assert Policy.for_year(levers, 5).signing_rates(0.2, 0.6) == pytest.approx((0.6, 0.9))
    r = run_scenario("family_doctor")
    rates = r.annual.signing_rate.to_numpy()
    assert rates[0] < rates[1] < rates[2]


def test_provider_response_hand_worked():
    """A year's response of a village clinic (m = 1), a secondary (m = 0.5, v = 0.8) and a tertiary hospital (m = 0)."""
    prices = sim.load_scenario().prices  # intensity drift: secondary 5.5%, tertiary 6.5% a year
    response = Levers().response  # restraint 0.04, admission 0.3, down-referral 1.0, mix 0.08
    tier, ones = np.array([0, 2, 3]), np.ones(3)
    incentives = payment.Incentives(volume_margin=np.array([1.0, 0.8, 1.0]), referral_bonus=np.array([0, 0, 0.1]))
    margin = np.array([1.0, 0.5, 0.0])
    intensity, mix = payment.respond_in_setting(
        np.array([1.0, 1.0, 2.0]), np.ones((3, 4)), tier, margin, incentives, prices, response, inpatient=False
    )
    # Intensity: exp(ln(1 + drift)·m − restraint·(1 − m)).
    assert intensity == pytest.approx([1.0, math.exp(0.5 * math.log(1.055) - 0.02), 2 * math.exp(-0.04)], rel=1e-14)
    # Drug, consumables and test volumes: exp(−0.08·(1 − m)); service volume unchanged.
    np.testing.assert_allclose(
        mix, np.exp([[0, 0, 0, 0], [0, -0.04, -0.04, -0.04], [0, -0.08, -0.08, -0.08]]), rtol=1e-14
    )
    shares = np.array([0.0, 0.05, 0.0])
    propensity, willingness, stay, self_paid = payment.respond_in_wards(ones, ones, ones, shares, incentives, response)
    assert propensity == pytest.approx([1.0, math.exp(0.3 * -0.2), 1.0], rel=1e-14)  # exp(0.3·(v − 1))
    assert willingness == pytest.approx([1.0, math.exp(0.2), math.exp(0.1)], rel=1e-14)  # exp(1.0·(1 − v + bonus))
    assert (stay == 1.0).all()  # stays paid item by item: lengths unchanged
    # Self-paid items: + cost_shift_response·(1 − v), only where a budget takes back part of the fund's claims.
    assert self_paid == pytest.approx([0.0, 0.05 + response.cost_shift_response * 0.2, 0.0], rel=1e-14)
    # A drug mark-up of 15% removed (药品零差率) cuts drug volumes by a further exp(−0.08) a year, even at m = 1;
    # without substitution consumables and tests stay.
    markup = payment.Incentives(markup_removed=0.15)
    none = response.model_copy(update={"markup_substitution": 0.0})
    _, mix = payment.respond_in_setting(ones, np.ones((3, 4)), tier, 1.0, markup, prices, none, inpatient=False)
    assert mix[:, 1] == pytest.approx(np.full(3, math.exp(-0.08))) and (mix[:, [0, 2, 3]] == 1).all()
    # Bounded: propensity within 0.5–1.5, willingness to refer down within 1–5, drug, consumables and test
    # volumes 0.5–1 (consumables and tests up to the substitution ceiling), stay lengths 0.5–1.5.
    _, bounded_mix = payment.respond_in_setting(
        ones, np.full((3, 4), 0.51), tier, 0.0, payment.Incentives(), prices, response, inpatient=True
    )
    assert (bounded_mix[:, 1:] == 0.5).all()
    bounded = payment.respond_in_wards(
        np.array([0.52, 1.0, 1.0]), np.array([4.9, 1.0, 1.0]), np.array([0.51, 1.49, 1.0]), np.array([0.99, 0, 0]),
        payment.Incentives(volume_margin=np.array([0.0, 1.0, 1.0]), per_case_share=np.array([1.0, 0, 0]),
                           per_day_share=np.array([0, 1.0, 0])),
        response.model_copy(update={"per_case_stay_response": 0.5, "per_day_stay_response": 0.5}),
    )  # fmt: skip
    assert bounded[0][0] == 0.5 and bounded[1][0] == 5.0 and bounded[2][:2].tolist() == [0.5, 1.5]
    assert bounded[3].tolist() == [response.max_self_paid_share, 0.0, 0.0]  # at most the ceiling
    # Salary reform removes its share of the drift.
    reformed = payment.Incentives(salary_reform=0.7)
    intensity, _ = payment.respond_in_setting(
        ones, np.ones((3, 4)), tier, 1.0, reformed, prices, response, inpatient=False
    )
    assert intensity == pytest.approx([1.0, 1.055**0.3, 1.065**0.3], rel=1e-14)


def test_substitution_after_the_zero_markup_hand_worked():
    """Consumables and tests rise at the pace drugs fall, to make up `markup_substitution` of the drug revenue lost."""
    prices = sim.load_scenario().prices  # tertiary stays: drugs 24.3%, consumables 17.7%, tests 27%
    response = Levers().response  # mix_response 0.08, markup_substitution 0.5
    tier, one = np.array([3]), np.ones((1, 4))
    markup = payment.Incentives(markup_removed=0.15)
    _, mix = payment.respond_in_setting(np.ones(1), one, tier, 1.0, markup, prices, response, inpatient=True)
    drugs = math.exp(-0.08)
    ceiling = 1 + 0.5 * 0.243 * (1 - 0.85 * drugs) / (0.177 + 0.27)  # ≈ 1.0586, below exp(0.08) ≈ 1.083
    assert mix[0, 1] == pytest.approx(drugs, rel=1e-14)
    assert mix[0, 2:] == pytest.approx([ceiling, ceiling], rel=1e-14) and ceiling < math.exp(0.08)
    # A year later drugs fell again and the ceiling rose: consumables rise by at most exp(0.08).
    _, later = payment.respond_in_setting(np.ones(1), mix, tier, 1.0, markup, prices, response, inpatient=True)
    assert later[0, 2] == pytest.approx(1 + 0.5 * 0.243 * (1 - 0.85 * drugs**2) / 0.447, rel=1e-14)
    assert later[0, 2] > mix[0, 2]
    # A small first step: the pace binds before the ceiling.
    slow = response.model_copy(update={"mix_response": 0.01})
    _, paced = payment.respond_in_setting(np.ones(1), one, tier, 1.0, markup, prices, slow, inpatient=True)
    assert paced[0, 2:] == pytest.approx([math.exp(0.01)] * 2, rel=1e-14)
    # No mark-up removed (a fixed payment cuts drugs instead): no substitution.
    _, kept = payment.respond_in_setting(np.ones(1), one, tier, 0.0, payment.Incentives(), prices, response, True)
    assert kept[0, 2:] == pytest.approx([math.exp(-0.08)] * 2, rel=1e-14)


def test_stays_shorten_when_paid_per_case_and_lengthen_when_paid_per_day():
    """Length of stay × exp(per_day_stay_response·d − per_case_stay_response·c), c, d the stays' shares paid so."""
    response = Levers().response
    ones = np.ones(4)
    incentives = payment.Incentives(
        per_case_share=np.array([0.0, 1.0, 0.0, 0.5]), per_day_share=np.array([0.0, 0.0, 1.0, 0.5])
    )
    _, _, stay, _ = payment.respond_in_wards(ones, ones, ones, np.zeros(4), incentives, response)
    case, day = response.per_case_stay_response, response.per_day_stay_response
    assert stay == pytest.approx([1.0, math.exp(-case), math.exp(day), math.exp((day - case) / 2)], rel=1e-14)
    assert stay[1] < 1.0 < stay[2]


def test_margins_are_those_of_each_setting():
    """A payment of stays leaves the margin of visits alone, and the other way round."""
    # Bills by basis: outpatient item, per head; inpatient item, per case, per day.
    billed = np.array(
        [
            [100.0, 0.0, 300.0, 0.0, 0.0],  # all item by item
            [100.0, 0.0, 0.0, 300.0, 0.0],  # stays per case (DRG)
            [50.0, 50.0, 300.0, 0.0, 0.0],  # half the visits capitated
            [0.0, 0.0, 100.0, 100.0, 200.0],  # no visits; stays by all three
        ]
    )
    got = payment.margins(billed, fund_claims=np.zeros(4), clawback=np.zeros(4))
    assert got.outpatient_margin.tolist() == [1.0, 1.0, 0.5, 1.0]
    assert got.inpatient_margin.tolist() == [1.0, 0.0, 1.0, 0.25]
    assert got.per_case_share.tolist() == [0.0, 1.0, 0.0, 0.25] and got.per_day_share.tolist() == [0, 0, 0, 0.5]
    # A global budget's clawback scales both settings' margins by the volume margin.
    budget = payment.margins(billed, fund_claims=np.full(4, 200.0), clawback=np.full(4, 0.5))
    volume = 1 - 0.5 * 200 / billed.sum(axis=1)
    np.testing.assert_allclose(budget.outpatient_margin, got.outpatient_margin * volume, rtol=1e-14)
    np.testing.assert_allclose(budget.inpatient_margin, got.inpatient_margin * volume, rtol=1e-14)


def test_policy_is_off_before_start_year():
    levers = Levers.model_validate({"sanming": {"enabled": True, "start_year": 2}})
    assert Policy.for_year(levers, 1).revenue_cap is None
    assert Policy.for_year(levers, 2).revenue_cap == 0.09
    assert np.allclose(Policy.for_year(levers, 1).price_multiplier, 1.0)


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


# ---------------------------------------------------------------------------------- effects and their controls
@pytest.mark.parametrize("seed", SEEDS)
def test_start_line_gap_moves_patients_down_through_what_they_pay(seed):
    gap, base = run_scenario("start_line_gap", seed=seed, years=2), run_scenario("baseline", seed=seed, years=2)
    effect = yearly(gap, "primary_visit_share") - yearly(base, "primary_visit_share")
    assert effect[0] == 0.0  # the lever starts in year 1
    assert 0.01 < effect[1] < 0.035  # +2.1–2.2 points here
    assert yearly(gap, "oop_share")[1] > yearly(base, "oop_share")[1] + 0.08  # and patients pay more
    # Control: patients indifferent to what they pay. The money still moves; the patients do not.
    indifferent = ["choice.cost=0"]
    gap0, base0 = (run_scenario(n, *indifferent, seed=seed, years=2) for n in ("start_line_gap", "baseline"))
    assert np.array_equal(yearly(gap0, "primary_visit_share"), yearly(base0, "primary_visit_share"))
    assert yearly(gap0, "oop_share")[1] > yearly(base0, "oop_share")[1] + 0.08


@pytest.mark.parametrize("seed", SEEDS)
def test_reserved_beds_shorten_referred_patients_bed_wait_through_the_reserve(seed):
    on, off = run_scenario("reserved_beds", seed=seed, years=2), run_scenario("baseline", seed=seed, years=2)
    ratio = yearly(on, "lead_referral_wait_days")[1] / yearly(off, "lead_referral_wait_days")[1]
    assert 0.25 < ratio < 0.6  # 0.36–0.44 here
    # Without the reserve, priority in the outpatient queue alone does not shorten the wait for a bed.
    no_reserve = run_scenario("reserved_beds", "levers.reserved_beds.share=0", seed=seed, years=2)
    assert yearly(no_reserve, "lead_referral_wait_days")[1] / yearly(off, "lead_referral_wait_days")[1] > 0.85
    # With neither, the lever does nothing at all.
    nothing = ["levers.reserved_beds.share=0", "levers.reserved_beds.priority=false"]
    assert_same_run(run_scenario("reserved_beds", *nothing, seed=seed, years=2), off)


@pytest.mark.parametrize("seed", SEEDS)
def test_family_doctor_lowers_chronic_admissions_by_its_management_effect(seed):
    on, off = run_scenario("family_doctor", seed=seed, years=2), run_scenario("baseline", seed=seed, years=2)
    fall = 1 - yearly(on, "chronic_admissions")[1] / yearly(off, "chronic_admissions")[1]
    # Management avoids 20% of a signed chronic patient's acute episodes, and most chronic patients
    # are signed by year 1: chronic admissions fall by somewhat less than 20%.
    effect = sim.load_scenario(ROOT / "scenarios" / "family_doctor.toml").levers.family_doctor.management_effect
    assert 0.5 * effect < fall < effect  # 12.5–14.3% here
    unmanaged = run_scenario("family_doctor", "levers.family_doctor.management_effect=0", seed=seed, years=2)
    assert abs(1 - yearly(unmanaged, "chronic_admissions")[1] / yearly(off, "chronic_admissions")[1]) < 0.02


@pytest.mark.parametrize("seed", SEEDS)
def test_family_doctor_raises_primary_share_through_the_pull_of_signing(seed):
    on, off = run_scenario("family_doctor", seed=seed, years=2), run_scenario("baseline", seed=seed, years=2)
    effect = yearly(on, "primary_visit_share")[1] - yearly(off, "primary_visit_share")[1]
    assert 0.003 < effect < 0.02  # +1.4 points in year 1 here
    # Control: signing pulls no one (neither the signed pull nor the managed follow-ups' pull) and
    # avoids no episode (those avoided went to primary care more than others). More signed residents
    # then move no one toward primary care: the share stays within a tenth of a point.
    no_pull = ["choice.signed=0", "levers.family_doctor.managed_follow_up_pull=0"]
    on0, off0 = (
        run_scenario("family_doctor", *no_pull, "levers.family_doctor.management_effect=0", seed=seed, years=2),
        run_scenario("baseline", *no_pull[:1], seed=seed, years=2),
    )
    assert abs(yearly(on0, "primary_visit_share")[1] - yearly(off0, "primary_visit_share")[1]) < 0.001


@pytest.mark.parametrize("seed", SEEDS)
def test_gatekeeping_moves_signed_residents_down_through_what_unreferred_care_costs_them(seed):
    on = run_scenario("family_doctor", "levers.family_doctor.gatekeeping=true", seed=seed, years=2)
    off = run_scenario("family_doctor", seed=seed, years=2)
    effect = yearly(on, "primary_visit_share")[1] - yearly(off, "primary_visit_share")[1]
    assert 0.01 < effect < 0.035  # +2.2 points here: unreferred hospital care is not reimbursed
    assert yearly(on, "oop_share")[1] > yearly(off, "oop_share")[1] + 0.03  # and they pay more
    indifferent = ["choice.cost=0"]
    on0 = run_scenario("family_doctor", "levers.family_doctor.gatekeeping=true", *indifferent, seed=seed, years=2)
    off0 = run_scenario("family_doctor", *indifferent, seed=seed, years=2)
    assert np.array_equal(yearly(on0, "primary_visit_share"), yearly(off0, "primary_visit_share"))


@pytest.mark.parametrize("seed", SEEDS)
def test_down_referral_bonus_raises_referrals_down_through_hospitals_willingness(seed):
    with_bonus = run_scenario("cumulative_start_line", seed=seed)
    without = run_scenario("cumulative_start_line", "levers.start_line.down_referral_bonus=0", seed=seed)
    # Hospitals respond at the year's close: more referrals down from year 2.
    rise = yearly(with_bonus, "referrals_down")[2] / yearly(without, "referrals_down")[2] - 1
    assert 0.005 < rise < 0.05  # +1.3–2.1% here
    assert yearly(with_bonus, "referrals_down")[1] == yearly(without, "referrals_down")[1]
    # Hospitals that do not respond to what referring down earns them refer as many as without a bonus.
    unmoved = run_scenario("cumulative_start_line", "levers.response.down_referral_response=0", seed=seed)
    assert np.array_equal(yearly(unmoved, "referrals_down"), yearly(without, "referrals_down"))


@pytest.mark.parametrize("seed", SEEDS)
def test_cumulative_start_line_saves_transferred_patients_the_start_line_paid_below(seed):
    on = run_scenario("cumulative_start_line", seed=seed, years=2)
    off = run_scenario("cumulative_start_line", "levers.start_line.cumulative_in_consortium=false", seed=seed, years=2)
    year1 = [r.daily[r.daily.year == 1] for r in (on, off)]
    transfers = year1[0].transfers_up.sum()
    assert transfers > 100 and transfers == year1[1].transfers_up.sum()
    # Each transfer within the consortium pays only the top-up of a start-line already paid lower down
    # (¥200–800): the saving per transfer, out-of-consortium transfers included, is of that order.
    saving = year1[1].chain_start_line_paid.sum() - year1[0].chain_start_line_paid.sum()
    assert 50 < saving / transfers < 300  # ¥94–104 here


def test_global_budget_shifts_costs_to_patients_through_self_paid_items():
    """Under a budget, stays' bills move to items outside the benefit list: patients pay more per admission."""
    budget = run_scenario("global_budget")
    control = run_scenario("global_budget", "levers.response.cost_shift_response=0")
    # Year 1 is the same (the response acts from the year after); then the patients' part rises.
    assert yearly(budget, "oop_per_admission")[1] == yearly(control, "oop_per_admission")[1]
    shifted = yearly(budget, "oop_per_admission")[2] - yearly(control, "oop_per_admission")[2]
    assert 100 < shifted < 800  # ¥438 here
    assert yearly(budget, "oop_share")[2] > yearly(control, "oop_share")[2]


def test_global_budget_restrains_growth_through_settlements_and_provider_response():
    base = run_scenario("baseline")
    budget, no_response = run_scenario("global_budget"), run_scenario("global_budget", *NO_RESPONSE)
    growth = yearly(base, "medical_revenue_growth")
    # Year 1: the settlement — hospitals pay back part of the overspend — slows revenue growth.
    assert yearly(no_response, "medical_revenue_growth")[1] == yearly(budget, "medical_revenue_growth")[1]
    assert -0.03 < yearly(budget, "medical_revenue_growth")[1] - growth[1] < -0.005  # −1.7 points here
    # Year 2: providers respond to what an extra service earns them now.
    response = yearly(budget, "medical_revenue_growth")[2] - yearly(no_response, "medical_revenue_growth")[2]
    assert -0.04 < response < -0.01  # −2.3 points here
    # With no money at stake (nothing kept, nothing paid back) the budget changes nothing at all.
    stake = ["levers.global_budget.surplus_kept=0", "levers.global_budget.overspend_borne=0"]
    assert_same_run(run_scenario("global_budget", *stake), base)


def test_per_head_budget_keeps_transfers_up_in_the_county():
    """A county hospital whose transfers up are paid from its consortium's per-head budget keeps some."""
    per_head = run_scenario("per_head_budget", years=2)
    no_keep = run_scenario("per_head_budget", "levers.response.retention_response=0", years=2)
    pd.testing.assert_frame_equal(per_head.daily[per_head.daily.year == 0], no_keep.daily[no_keep.daily.year == 0])
    assert yearly(per_head, "transfers_up")[1] < 0.9 * yearly(no_keep, "transfers_up")[1]
    # Fewer county residents are admitted outside their county; those kept fill county beds longer, so
    # at this size the in-county rate itself moves within noise (+0.2 points at 250,000 residents).
    outside = [
        yearly(r, "county_admissions")[1] - yearly(r, "county_admissions_in_county")[1] for r in (per_head, no_keep)
    ]
    assert outside[0] < outside[1]
    # Under a budget on claims at its members a transfer out costs the consortium nothing: none is kept.
    claims = run_scenario("global_budget", years=2)
    assert_same_run(claims, run_scenario("global_budget", "levers.response.retention_response=0", years=2))


def test_per_head_budget_bears_its_residents_care_anywhere():
    """Settled in full both ways, the fund pays 1.05 × the residents' payments last year − this year's."""
    overrides = [
        "run.scale=0.01",
        "levers.global_budget.surplus_kept=1",
        "levers.global_budget.overspend_borne=1",
        "levers.global_budget.growth=0.05",
    ]
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / "per_head_budget.toml", overrides))
    home = model.cells.consortium[model.population.cell]
    paid_by_year = []
    while len(paid_by_year) < 2:
        model.step()
        if model.day > 0 and model.day % DAYS_PER_YEAR == 0:  # the step that closed a year
            accounts = model.annual_accounts()
            paid = accounts["outpatient_fund_paid"] + accounts["inpatient_fund_paid"]
            paid_by_year.append(paid[home >= 0].sum())
    settled = model.today.budget_settlement
    assert settled == pytest.approx(1.05 * paid_by_year[0] - paid_by_year[1], rel=1e-9)
    assert paid_by_year[1] > paid_by_year[0] > 0


def test_county_specialties_keep_complex_cases_in_the_county():
    """County lead hospitals that treat complex cases admit them at home: the in-county rate rises."""
    built = run_scenario("county_specialties", years=2)
    base = run_scenario("baseline", years=2)
    pd.testing.assert_frame_equal(built.daily[built.daily.year == 0], base.daily[base.daily.year == 0])
    assert yearly(built, "in_county_rate")[1] > yearly(base, "in_county_rate")[1] + 0.005  # +1.2 points here
    assert yearly(built, "admissions_tertiary")[1] < yearly(base, "admissions_tertiary")[1]
    # The mechanism is capability: at the severity they already treat, with their own quality, nothing changes.
    same = run_scenario(
        "county_specialties", "levers.county_specialties.severity=2", "levers.county_specialties.quality=0"
    )
    assert_same_run(same, run_scenario("baseline"))


def test_assessment_pays_by_score_and_makes_hospitals_below_target_more_willing_to_refer_down():
    """Consortia below the primary-share target pay back deposit; their hospitals value a referral down more."""
    assessed = run_scenario("assessment", years=2)
    base = run_scenario("baseline", years=2)
    paid = assessed.daily.groupby("year").assessment_paid.sum().to_numpy()
    assert paid[0] == 0 and paid[1] < 0  # the deposit the scores did not earn, settled at year 1's close
    pd.testing.assert_frame_equal(  # the same care until then
        assessed.daily.drop(columns=["assessment_paid"]).iloc[:-1],
        base.daily.drop(columns=["assessment_paid"]).iloc[:-1],
    )
    willing = [_closed_facilities("assessment", [], 2), _closed_facilities("baseline", [], 2)]
    more = willing[0].down_referral_willingness > willing[1].down_referral_willingness
    hospital = willing[0].tier >= 2
    assert more.any() and not (more & ~hospital).any()
    # The mechanism is the money: with nothing withheld the assessment changes nothing.
    assert_same_run(run_scenario("assessment", "levers.assessment.withheld_share=0", years=2), base)


def _closed_facilities(name: str, extra: list[str], years: int) -> object:
    """A model's facilities after `years` year closes (scale 0.02, seed 1)."""
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", ["run.scale=0.02", *extra]))
    while model.day < years * DAYS_PER_YEAR:
        model.step()
    return model.facilities


def test_assessment_scores_hand_worked():
    visits = np.array([60.0, 40.0, 100.0, 50.0])
    claims = np.array([100.0, 1000.0, 500.0, 80.0])
    primary = np.array([True, False, True, False])
    consortium = np.array([0, 0, 1, -1])
    paid, worth = payment.assessment(visits, claims, primary, consortium, 0.1, 0.75)
    # Consortium 0: 60% primary, score 0.8; its members pay back 0.1 × claims × 0.2. Consortium 1 is full.
    np.testing.assert_allclose(paid, [-2.0, -20.0, 0.0, 0.0])
    # A visit moved to primary care is worth 0.1 × 1,100 ÷ (0.75 × 100) in consortium 0; none at full score.
    np.testing.assert_allclose(worth, [0.0, 1100 * 0.1 / 75, 0.0, 0.0])  # to its hospital


def _closed_years(name: str, extra: list[str], years: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A model's facilities' (last year's revenue, intensity, quality) at each of its year closes."""
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", ["run.scale=0.02", *extra]))
    closes = []
    while len(closes) < years:
        model.step()
        if model.day > 0 and model.day % DAYS_PER_YEAR == 0:
            f = model.facilities
            closes.append((f.last_revenue.copy(), f.inpatient_intensity.copy(), f.quality.copy()))
    return closes


def test_revenue_cap_cuts_each_hospital_over_it_back_to_the_cap():
    # Sanming with the cap alone: prices, salaries and drug mark-ups unchanged.
    cap_only = [f"levers.sanming.price_change.{c}=0" for c in COMPONENTS]
    cap_only += ["levers.sanming.salary_reform=0"]
    on = _closed_years("sanming", cap_only, 2)
    off = _closed_years("sanming", [*cap_only, "levers.sanming.enforce_revenue_cap=false"], 2)
    (revenue0, _, _), (revenue1, intensity_off, _) = off
    assert np.array_equal(on[1][0], revenue1)  # the same year 1 until its close
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = revenue1 / revenue0 - 1
    hospital = CareModel(sim.load_scenario(overrides=["run.scale=0.02"])).facilities.tier >= 2
    over = hospital & (growth > 0.09)
    assert over.sum() >= 3
    expected = np.where(over, 1.09 / (1 + growth), 1.0)
    np.testing.assert_allclose(on[1][1] / intensity_off, expected, rtol=1e-12)


def test_sanming_prices_salaries_and_mark_up_each_do_their_part():
    base, sanming = run_scenario("baseline"), run_scenario("sanming")
    no_salary_reform = run_scenario("sanming", "levers.sanming.salary_reform=0")
    no_mix_response = run_scenario("sanming", "levers.response.mix_response=0")
    # Salary reform removes most of the fee-for-service drift: growth 2–6 points lower from year 2.
    reform = yearly(sanming, "medical_revenue_growth")[2] - yearly(no_salary_reform, "medical_revenue_growth")[2]
    assert -0.07 < reform < -0.02  # −4.4 points here
    # Prices: service up, drugs and tests down move the structure in year 1 by their arithmetic alone.
    shares = [f"revenue_structure_{c}" for c in COMPONENTS]
    before = base.annual[shares].to_numpy()[1]
    change = 1 + sim.load_scenario(ROOT / "scenarios" / "sanming.toml").levers.sanming.price_change.as_array()
    priced = before * change / (before * change).sum()
    np.testing.assert_allclose(no_mix_response.annual[shares].to_numpy()[1], priced, atol=0.003)
    # The zero mark-up then makes drugs unprofitable: their volume falls, year after year.
    drugs = yearly(sanming, "revenue_structure_drugs")[2] - yearly(no_mix_response, "revenue_structure_drugs")[2]
    assert -0.04 < drugs < -0.01  # −1.9 points here


ZERO_MARKUP = [
    "levers.sanming.price_change.service=0.1",
    "levers.sanming.price_change.consumables=0",
    "levers.sanming.price_change.tests=0",
    "levers.sanming.salary_reform=0",
    "levers.sanming.enforce_revenue_cap=false",
]
"""The Sanming lever as the drug zero mark-up alone (as `sim/data/evidence/zero_markup.toml`), from year 1."""
NO_SUBSTITUTION = "levers.response.markup_substitution=0"


def test_zero_markup_substitution_raises_the_consumables_share():
    """Hospitals make up part of the drug revenue a removed mark-up loses with consumables and tests."""
    zero_markup = run_scenario("sanming", *ZERO_MARKUP)
    control = run_scenario("sanming", *ZERO_MARKUP, NO_SUBSTITUTION)
    # Year 1 is billed before the first response to the lever: the same run with and without substitution.
    assert (zero_markup.daily.year <= 1).sum() > 0
    pd.testing.assert_frame_equal(
        zero_markup.daily[zero_markup.daily.year <= 1], control.daily[control.daily.year <= 1], check_exact=True
    )
    # Year 2: consumables and tests take a larger share of hospital revenue, drugs' share falls as with the control.
    rise = {c: yearly(zero_markup, f"revenue_structure_{c}")[2] - yearly(control, f"revenue_structure_{c}")[2]
            for c in COMPONENTS}  # fmt: skip
    assert 0.002 < rise["consumables"] < 0.02 and 0.002 < rise["tests"] < 0.03, rise
    assert rise["service"] < 0 and rise["drugs"] < 0  # the same bills of service and drugs, a larger whole
    assert yearly(zero_markup, "medical_revenue")[2] > yearly(control, "medical_revenue")[2]
    # The mark-up kept (no drug price cut): substitution changes nothing.
    kept = [*ZERO_MARKUP, "levers.sanming.price_change.drugs=0"]
    assert_same_run(run_scenario("sanming", *kept), run_scenario("sanming", *kept, NO_SUBSTITUTION))


def test_revenue_structure_target_counts_drugs_and_consumables_together():
    """5:3:2 is service : (drugs + consumables) : tests ([sanming-six-projects-2021] 总体目标: 药品耗材收入)."""
    row = {"year": 0, "revenue_structure_service": 0.48, "revenue_structure_drugs": 0.2}
    row |= {"revenue_structure_consumables": 0.12, "revenue_structure_tests": 0.2}
    others = {name: np.nan for name in metrics.TARGETS if name != "revenue_structure"}
    checks = metrics.target_checks(pd.DataFrame([row | others]))
    assert checks.value.tolist() == ["0.48/0.32/0.20"] and checks.met.tolist() == [True]
    far = row | {"revenue_structure_drugs": 0.1, "revenue_structure_consumables": 0.12, "revenue_structure_tests": 0.3}
    assert not metrics.target_checks(pd.DataFrame([far | others])).met.any()  # 0.22 and 0.30: over 5 points off


@pytest.mark.parametrize("lever", ["drg", "per_diem"])
def test_fixed_payment_of_stays_restrains_revenue_by_its_price(lever):
    base = run_scenario("baseline")
    paid, no_response = (run_scenario("baseline", f"levers.{lever}.enabled=true", *x) for x in ([], NO_RESPONSE))
    growth = yearly(base, "medical_revenue_growth")
    # Year 1: stays paid a fixed amount no longer bill the year's rise of intensity; the response comes after it.
    assert yearly(paid, "medical_revenue_growth")[1] == yearly(no_response, "medical_revenue_growth")[1]
    assert -0.08 < yearly(paid, "medical_revenue_growth")[1] - growth[1] < -0.02  # −3.9 / −5.9 points here


NO_STAY_RESPONSE = ["levers.response.per_case_stay_response=0", "levers.response.per_day_stay_response=0"]


def test_payment_per_case_shortens_stays_and_leaves_visits_alone():
    """DRG pays a stay per case: stays shorten, the beds freed admit more; visits, paid item by item, do not move."""
    base = run_scenario("baseline")
    drg, control = (
        run_scenario("baseline", "levers.drg.enabled=true"),
        run_scenario("baseline", "levers.drg.enabled=true", *NO_STAY_RESPONSE),
    )
    for tier in ("secondary", "tertiary"):  # exp(−0.055): 5.4% shorter after one year's response
        stay = yearly(drg, f"mean_length_of_stay_{tier}")[2] / yearly(control, f"mean_length_of_stay_{tier}")[2]
        assert 0.92 < stay < 0.97  # 0.952 / 0.944 here
    assert yearly(drg, "admissions")[2] > yearly(control, "admissions")[2] * 1.005  # +1.5% here
    for tier in ("health_centre", "secondary", "tertiary"):
        visit = yearly(drg, f"cost_per_visit_{tier}")[2] / yearly(base, f"cost_per_visit_{tier}")[2]
        assert abs(visit - 1) < 0.02  # within 0.6% here: the providers' response to DRG is in the wards


def test_payment_per_day_lengthens_stays():
    """Per diem pays chronic patients' stays by the day: their hospitals keep them longer."""
    per_diem = run_scenario("baseline", "levers.per_diem.enabled=true")
    control = run_scenario("baseline", "levers.per_diem.enabled=true", *NO_STAY_RESPONSE)
    for tier in ("secondary", "tertiary"):
        stay = yearly(per_diem, f"mean_length_of_stay_{tier}")[2] / yearly(control, f"mean_length_of_stay_{tier}")[2]
        assert 1.002 < stay < 1.03  # +0.6% / +0.8% here: a share of the stays is paid per day


def test_resource_sinking_raises_primary_members_quality_from_the_lead_s_surplus():
    # A generous budget so that consortia keep a surplus.
    generous = ["levers.global_budget.growth=0.3"]
    on = _closed_years("global_budget", generous, 2)
    off = _closed_years("global_budget", [*generous, "levers.global_budget.reinvest_share=0"], 2)
    assert np.array_equal(on[0][2], off[0][2])  # nothing invested before the first settlement
    gain = on[1][2] - off[1][2]
    tier = CareModel(sim.load_scenario(overrides=["run.scale=0.02"])).facilities.tier
    assert (gain[tier >= 2] == 0).all() and (gain >= 0).all()
    consortium = CareModel(sim.load_scenario(overrides=["run.scale=0.02"])).facilities.consortium
    members = (tier <= 1) & (consortium >= 0)
    assert (gain[members] > 0).all() and 0.005 < gain[members].mean() < 0.2  # every consortium kept a surplus
    # A tight budget: every consortium overspends and pays back, and nothing is invested.
    tight = ["levers.global_budget.growth=-0.3"]
    paid_back = _closed_years("global_budget", tight, 2)[1][2]
    assert np.array_equal(
        paid_back, _closed_years("global_budget", [*tight, "levers.global_budget.reinvest_share=0"], 2)[1][2]
    )
