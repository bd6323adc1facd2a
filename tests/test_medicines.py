"""Medicines and tests: formulary breadth at each tier, and the four levers acting through it and through referrals.

The rules are checked on hand-made cases (which facility stocks a regimen, where an unstocked
follow-up is referred, which referrals a tele-consultation resolves, what a recognised test
costs); each effect against the baseline with the same seed, held to a band around today's size at
this small scale (the comment beside it), beside a control in which the mechanism has nothing to
act on and the lever changes nothing at all.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import care, illness
from sim.parameters.illness import ACUTE, FOLLOW_UP
from sim.rules import recognised_tests, remotely_resolved, stocks
from sim.state import Cells, Facilities

ROOT = Path(__file__).resolve().parents[1]
FULL_FORMULARY = ["care.formulary_breadth.village=1", "care.formulary_breadth.health_centre=1"]
CAPABLE_PRIMARY = ["care.outpatient_capability.village=3", "care.outpatient_capability.health_centre=3"]
NOBODY_SIGNED = ["population.signing_rate_key_groups=0", "population.signing_rate_others=0"]


@cache
def run(*extra: str) -> sim.Results:
    """The baseline at 50,000 residents for one year, with `extra` overrides (levers start in year 0)."""
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.toml", ["run.scale=0.02", "run.years=1", *extra]))


def lever(name: str, *extra: str) -> tuple[str, ...]:
    return (f"levers.{name}.enabled=true", f"levers.{name}.start_year=0", *extra)


def total(results: sim.Results, *columns: str) -> float:
    return float(results.annual[list(columns)].to_numpy().sum())


def assert_same_run(a: sim.Results, b: sim.Results) -> None:
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)


# ---------------------------------------------------------------------------------- rules
def _facilities(tier: list[int], capability: list[int], consortium: list[int]) -> Facilities:
    n = len(tier)
    fields = {name: np.ones(n) for name in Facilities._fields}
    fields.update(
        tier=np.array(tier), outpatient_capability=np.array(capability), consortium=np.array(consortium),
        inpatient_volume=np.ones((n, 4)),
    )  # fmt: skip
    return Facilities(**fields)


# One cell whose candidates are a village clinic (0), a health centre (1), a county hospital (2)
# and a tertiary hospital (3), all in consortium 0; the village stocks 60%, the centre 80%.
FACILITIES = _facilities([0, 1, 2, 3], [0, 1, 2, 3], [0, 0, 0, 0])
BREADTH = np.array([0.6, 0.8, 1.0, 1.0])
CELLS = Cells(
    **{name: np.zeros((0, 0)) for name in Cells._fields}
    | {
        "candidates": np.array([[0, 1, 2, 3]]),
        "candidate_preference": np.array([[0.0, 1000.0, 2000.0, 3000.0]]),
        "candidate_tier": np.array([[0, 1, 2, 3]]),
    }
)


def outcome(facility: int, severity: int, regimen: float, consulted: bool = False) -> tuple[bool, int]:
    """Whether `facility` treats one episode, and where it refers it (its capability target: the next tier)."""
    stock = care.Stock(np.array([regimen]), np.array([consulted]), np.array([0]), BREADTH, 1)
    primary = FACILITIES.tier <= 1
    treated, up = care.outpatient_outcome(
        0, facility, np.array([severity]), np.array([min(severity, 3)]), FACILITIES, primary, stock, CELLS
    )
    return bool(treated), int(up)


def test_a_broader_formulary_stocks_a_superset():
    draws = np.random.default_rng(0).random(1000)
    narrow, broad = stocks(draws, 0.6), stocks(draws, 0.8)
    assert np.all(broad[narrow]) and broad.sum() > narrow.sum()
    assert stocks(-1.0, 0.0)  # an acute episode needs no chronic regimen


def test_a_follow_up_whose_regimen_is_not_stocked_is_referred_to_the_first_tier_up_that_stocks_it():
    assert outcome(0, 0, 0.5) == (True, 0)  # stocked at the village: treated there
    assert outcome(0, 0, 0.7) == (False, 1)  # not at the village, at the health centre
    assert outcome(0, 0, 0.9) == (False, 2)  # at neither primary facility: the county hospital
    assert outcome(1, 0, 0.9) == (False, 2)
    assert outcome(2, 0, 0.99) == (True, 0)  # hospitals stock every regimen
    assert outcome(0, 0, -1.0) == (True, 0)  # an acute episode is not held back by the formulary
    assert outcome(0, 1, 0.5) == (False, 1)  # beyond capability: referred as before


def test_a_follow_up_nobody_above_stocks_is_treated_where_it_is():
    stock = care.Stock(np.array([0.7]), np.array([False]), np.array([0]), np.array([0.6, 0.5, 0.5, 0.5]), 1)
    treated, _ = care.outpatient_outcome(
        0, 0, np.array([0]), np.array([0]), FACILITIES, FACILITIES.tier <= 1, stock, CELLS
    )
    assert treated


def test_tele_consultation_resolves_only_primary_care_s_referrals_within_its_gap():
    assert outcome(0, 1, -1.0, consulted=True) == (True, 1)  # one level beyond the village: resolved
    assert outcome(0, 2, -1.0, consulted=True)[0] is False  # two levels beyond: still referred
    assert outcome(2, 3, -1.0, consulted=True)[0] is False  # a hospital's referral: no tele-consultation
    assert not remotely_resolved(True, True, -1, 1, 0, 1)  # outside any consortium: no lead to consult


def test_recognised_tests_are_a_share_of_the_tests():
    assert recognised_tests(80.0, 0.25) == 60.0
    assert recognised_tests(80.0, 0.0) == 80.0


def test_long_prescriptions_avoid_only_eligible_follow_ups_and_more_avoid_a_superset():
    n = 2000
    key = np.arange(n, dtype=np.uint64) * np.uint64(7919)
    kind = np.where(np.arange(n) % 2 == 0, FOLLOW_UP, ACUTE)
    eligible = np.arange(n) % 3 != 0
    kept = illness.long_prescription_kept(1, key, kind, eligible, 0.2)
    more = illness.long_prescription_kept(1, key, kind, eligible, 0.4)
    avoided = np.setdiff1d(np.arange(n), kept)
    assert np.all(kind[avoided] == FOLLOW_UP) and np.all(eligible[avoided])
    assert np.isin(more, kept).all() and more.size < kept.size
    eligible_follow_ups = np.count_nonzero((kind == FOLLOW_UP) & eligible)
    assert 0.15 < avoided.size / eligible_follow_ups < 0.25


# ---------------------------------------------------------------------------------- effects
def test_formulary_gaps_refer_follow_ups_up():
    """Primary care stocking 60–80% of regimens adds referrals up, from villages to hospitals too."""
    base, full = run(), run(*FULL_FORMULARY)
    ratio = total(base, "referrals_up") / total(full, "referrals_up")
    assert 1.25 < ratio < 1.7  # 1.44 at this size
    assert total(base, "flow_village_to_secondary") > 1.5 * total(full, "flow_village_to_secondary")  # 2.0×
    # Control: without chronic follow-ups no regimen is needed, and the formulary changes nothing.
    no_follow_ups = "illness.follow_up_rate=0"
    assert_same_run(run(no_follow_ups), run(no_follow_ups, *FULL_FORMULARY))


def test_unified_drug_list_removes_most_formulary_referrals():
    """Primary members stocking their lead's list: referrals up fall to about what full formularies give."""
    base, unified, full = run(), run(*lever("unified_formulary")), run(*FULL_FORMULARY)
    ratio = total(unified, "referrals_up") / total(base, "referrals_up")
    assert 0.55 < ratio < 0.85  # 0.70 at this size
    assert total(unified, "primary_visit_share") > total(base, "primary_visit_share")
    # Control: where primary care stocks every regimen already, the lever changes nothing.
    assert_same_run(run(*FULL_FORMULARY, *lever("unified_formulary")), full)


def test_long_prescriptions_remove_signed_patients_follow_up_visits():
    base, long_rx = run(), run(*lever("long_prescription"))
    drop = 1 - total(long_rx, "episodes") / total(base, "episodes")
    assert 0.01 < drop < 0.04  # 0.020 at this size
    assert total(long_rx, "visits_village") < total(base, "visits_village")
    # Control: with nobody signed, nobody is eligible, and the lever changes nothing.
    assert_same_run(run(*NOBODY_SIGNED, *lever("long_prescription")), run(*NOBODY_SIGNED))


def test_recognised_results_cut_hospitals_test_revenue_not_their_service_revenue():
    base, recognised = run(), run(*lever("test_recognition"))
    hospital_tests = ("revenue_tests_secondary", "revenue_tests_tertiary")
    hospital_service = ("revenue_service_secondary", "revenue_service_tertiary")
    drop = 1 - total(recognised, *hospital_tests) / total(base, *hospital_tests)
    assert 0.02 < drop < 0.06  # 0.037 at this size: referred visits and stays
    service_change = abs(1 - total(recognised, *hospital_service) / total(base, *hospital_service))
    assert service_change < drop / 20  # 0.0005: patients' choices barely move, the cut lands on tests
    # Control: the lever acts only through the share of tests not repeated.
    assert_same_run(run(*lever("test_recognition", "levers.test_recognition.tests_avoided=0")), base)


def test_tele_consultation_avoids_referrals_up_from_primary_care():
    base, tele = run(), run(*lever("teleconsultation"))
    ratio = total(tele, "referrals_up") / total(base, "referrals_up")
    assert 0.85 < ratio < 0.97  # 0.92 at this size
    assert total(tele, "flow_village_to_health_centre") < total(base, "flow_village_to_health_centre")
    # Control: primary care capable of every severity refers nothing for capability; nothing changes.
    assert_same_run(run(*CAPABLE_PRIMARY, *lever("teleconsultation")), run(*CAPABLE_PRIMARY))


@pytest.mark.parametrize(
    ("override", "expect"),
    [
        ("levers.teleconsultation.severity_gap=0", "levers.teleconsultation.severity_gap"),
        ("levers.long_prescription.visits_avoided=1.5", "levers.long_prescription.visits_avoided"),
        ("care.formulary_breadth.village=-0.1", "care.formulary_breadth.village"),
    ],
)
def test_bad_medicine_parameters_are_refused(override: str, expect: str):
    with pytest.raises(sim.config.ScenarioError, match=expect):
        sim.load_scenario(overrides=[override])
