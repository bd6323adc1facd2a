"""Care pathways and price response: routes through a facility that refers on, and the cost term.

A patient weighs each candidate as a route: treated there, or, where it cannot treat the episode,
seen there and referred on (上转) to the cell's referral target. Levers that make unreferred hospital
care dearer then redirect patients to the referral route instead of only charging them more; and a
uniform rise of reimbursement rates, which narrows the yuan gaps between levels, moves them up.
Each effect is shown against a control with the mechanism off (routes made prohibitive, or patients
indifferent to price).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import choice
from sim.parameters.choice import ChoiceParams

ROOT = Path(__file__).resolve().parents[1]
PRIMARY = ("village", "health_centre")
NO_ROUTES = "choice.referral_step=-50"
"""A referral step no patient takes: the control with the referral route switched off."""


@cache
def run_scenario(name: str, *extra: str, seed: int = 1) -> sim.Results:
    """A scenario file at a small scale (25,000 residents), 2 years, levers from year 1."""
    overrides = ["run.scale=0.01", "run.years=2", f"run.seed={seed}", *extra]
    return sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", overrides))


def year1(results: sim.Results, column: str) -> float:
    return float(results.annual[column].to_numpy()[1])


# ---------------------------------------------------------------------------------- the rules
def test_a_candidate_refers_on_exactly_the_severities_above_its_capability():
    candidates = np.array([[0, 1, 2, -1]])
    capability = np.array([0, 1, 3])
    referral = np.array([[1, 1, 2, 2]])  # the cell's target for severities 0–3
    onward = choice.onward_targets(candidates, capability, referral)
    assert onward.shape == (1, 4, 4)
    assert onward[0, :, 0].tolist() == [-1, 1, 2, 2]  # capability 0: refers severities 1–3
    assert onward[0, :, 1].tolist() == [-1, -1, 2, 2]
    assert onward[0, :, 2].tolist() == [-1, -1, -1, -1]  # treats all
    assert onward[0, :, 3].tolist() == [-1, -1, -1, -1]  # no candidate


def test_a_route_is_valued_at_where_it_is_treated_plus_the_way_there():
    params = ChoiceParams()
    candidates = np.array([[0, 1]])  # a health centre and a tertiary hospital
    tier, quality = np.array([1, 3]), np.array([0.45, 1.0])
    hours = np.array([[0.2, 1.0]])
    onward = choice.onward_targets(candidates, np.array([1, 3]), np.array([[0, 0, 1, 1]]))
    terms = choice.candidate_terms(
        params,
        candidates=candidates,
        facility_tier=tier,
        facility_quality=quality,
        hours=hours,
        onward=onward,
        own_consortium=np.ones((1, 2), dtype=bool),
    )
    tc, qw = params.tier_constant.as_array(), params.quality.as_array()
    severe = 3  # the health centre refers it to the hospital
    route = terms.attraction[severe, 0]
    direct = terms.attraction[severe, 1]
    assert direct == pytest.approx(tc[3] + qw[severe] * 1.0)
    assert route == pytest.approx(direct + params.travel * 1.0 + params.referral_step)
    assert terms.onward[severe].tolist() == [1, -1]
    minor = 0  # treated at the health centre
    assert terms.attraction[minor, 0] == pytest.approx(tc[1] + qw[minor] * 0.45)


def test_the_cost_term_is_the_logarithm_plus_a_linear_part_weighed_against_income():
    oop = np.array([0.0, 100.0, 1000.0])
    assert np.array_equal(choice.cost_value(oop, 0.0, 1.0), np.log1p(oop / 100))
    assert choice.cost_value(oop, 0.5, 1.0) == pytest.approx(np.log1p(oop / 100) + 0.5 * oop / 100)
    # Twice the income: a bill weighs what half of it did.
    assert choice.cost_value(oop, 0.5, 2.0) == pytest.approx(choice.cost_value(oop / 2, 0.5, 1.0))
    # The yuan difference between a stay at two levels keeps a weight the logarithm alone would lose.
    gap_log = np.diff(choice.cost_value(np.array([3000.0, 4000.0]), 0.0, 1.0))[0]
    gap = np.diff(choice.cost_value(np.array([3000.0, 4000.0]), 0.5, 1.0))[0]
    assert gap > 10 * gap_log


# ---------------------------------------------------------------------------------- effects and their controls
@pytest.mark.parametrize("seed", (1, 2))
def test_a_wider_start_line_gap_redirects_patients_through_referral_rather_than_only_charging_them(seed):
    base, gap = run_scenario("baseline", seed=seed), run_scenario("start_line_gap", seed=seed)
    base0, gap0 = run_scenario("baseline", NO_ROUTES, seed=seed), run_scenario("start_line_gap", NO_ROUTES, seed=seed)
    # More patients reach hospitals referred (+1.5–1.6 points at secondary, +0.2–0.3 at tertiary here) …
    for tier, rise in (("secondary", 0.01), ("tertiary", 0.0015)):
        column = f"referred_visit_share_{tier}"
        assert year1(gap, column) > year1(base, column) + rise
        assert year1(gap0, column) - year1(base0, column) < 0.002  # not without the route
    # … so the lever costs patients less than where they can only go straight to hospital or stay
    # at primary care (+12.3 against +14.5 points here).
    oop = year1(gap, "oop_share") - year1(base, "oop_share")
    oop0 = year1(gap0, "oop_share") - year1(base0, "oop_share")
    assert 0 < oop < oop0 - 0.01
    # First contacts move to primary care either way (+3.4–3.5 points here).
    first = sum(year1(gap, f"first_contact_share_{t}") - year1(base, f"first_contact_share_{t}") for t in PRIMARY)
    assert first > 0.02


@pytest.mark.parametrize("seed", (1, 2))
def test_a_uniform_rate_rise_moves_patients_up_through_what_they_pay(seed):
    # Among the patients who visit either way (self-care off: every episode visits), the rise moves
    # them up the tiers: +0.04 points of tertiary visits (its clinics run full), −0.16–0.17 of primary
    # care's, at this size in year 1.
    base, rise = (run_scenario(name, "choice.self_care=false", seed=seed) for name in ("baseline", "rate_rise"))
    assert year1(rise, "visit_share_tertiary") > year1(base, "visit_share_tertiary") + 0.0002
    assert year1(rise, "primary_visit_share") < year1(base, "primary_visit_share") - 0.0008
    assert year1(rise, "oop_share") < year1(base, "oop_share") - 0.05
    # With self-care, it also brings residents who stayed home, mostly with minor illnesses to primary
    # care, which dilutes the shares; tertiary visits still rise in number (+0.6–0.9%), visits per capita
    # by ≈2.3%.
    base_home, rise_home = run_scenario("baseline", seed=seed), run_scenario("rate_rise", seed=seed)
    tertiary = [year1(r, "visits") * year1(r, "visit_share_tertiary") for r in (base_home, rise_home)]
    assert tertiary[1] > tertiary[0] * 1.005
    assert year1(rise_home, "visits_per_capita") > year1(base_home, "visits_per_capita")
    # Control: patients indifferent to price. The money moves; the patients do not.
    base0, rise0 = (
        run_scenario("baseline", "choice.cost=0", seed=seed),
        run_scenario("rate_rise", "choice.cost=0", seed=seed),
    )
    assert year1(rise0, "visit_share_tertiary") == year1(base0, "visit_share_tertiary")
    assert year1(rise0, "visits_per_capita") == year1(base0, "visits_per_capita")
    assert year1(rise0, "oop_share") < year1(base0, "oop_share") - 0.05


def test_the_referred_share_by_scheme_averages_to_the_referred_share():
    annual = run_scenario("start_line_gap").annual
    for tier in ("secondary", "tertiary"):
        total = annual[f"referred_visit_share_{tier}"]
        employee, resident = (
            annual[f"referred_visit_share_employee_{tier}"],
            annual[f"referred_visit_share_resident_{tier}"],
        )
        assert (
            (total >= np.minimum(employee, resident) - 1e-12) & (total <= np.maximum(employee, resident) + 1e-12)
        ).all()
        assert (total > 0).all()
