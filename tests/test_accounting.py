"""Money and year-boundary accounting: hand-worked examples of each rule, and an audit of every scenario.

The audit (`tests/audit.py`) keeps its own books beside the model's, from what is asked to be
booked, and holds them against the facilities' and the fund's ledgers every day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audit import Audit

import sim
from sim import payment
from sim.insurance import InsuranceParams, contribution_income
from sim.model import CareModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
SMALL = ["run.scale=0.02", "run.years=3"]
EVERY_LEVER = [
    f"levers.{lever}.enabled=true"
    for lever in ("reserved_beds", "start_line", "global_budget", "capitation", "per_diem", "drg", "family_doctor")
] + [
    "levers.sanming.enabled=true",
    "levers.start_line.cumulative_in_consortium=true",
    "levers.start_line.apply_rate_cut=true",
    "levers.start_line.down_referral_bonus=200",
    "levers.start_line.no_start_line_after_down_referral=true",
    "levers.family_doctor.gatekeeping=true",
]


# ---------------------------------------------------------------------------------- hand-worked rules
def test_contributions_hand_worked():
    rules = InsuranceParams(contribution_employee=3_100, contribution_resident=1_250, contribution_growth=0.07)
    # 3 employees and 7 resident-scheme insured: 3 × 3,100 + 7 × 1,250 = 18,050 a year, grown 7% a year.
    assert contribution_income(rules, employees=3, residents=10, year=0) == 18_050
    assert contribution_income(rules, employees=3, residents=10, year=2) == pytest.approx(18_050 * 1.07**2, rel=1e-15)
    assert contribution_income(rules, employees=3, residents=10, year=-1) == 18_050  # the warm-up pays year 0's


def test_capitation_hand_worked():
    # Three signed residents: two of station 0 / centre 2, one of station 1 / centre 3; ¥120 a head, half each.
    paid = payment.capitation_payments(
        120.0, 0.5, station=np.array([0, 0, 1]), centre=np.array([2, 2, 3]), n_facilities=5
    )
    assert paid.tolist() == [120.0, 60.0, 120.0, 60.0, 0.0]
    paid = payment.capitation_payments(100.0, 0.3, station=np.array([0]), centre=np.array([1]), n_facilities=2)
    assert paid == pytest.approx([30.0, 70.0], rel=1e-15)


def test_revenue_cap_hand_worked():
    intensity = np.array([1.0, 1.0, 1.0, 1.2, 1.0])
    revenue = np.array([120.0, 105.0, 130.0, 200.0, 50.0])
    last = np.array([100.0, 100.0, np.nan, 160.0, 10.0])
    hospital = np.array([True, True, True, True, False])
    capped = payment.capped_intensity(intensity, revenue, last, hospital, cap=0.09)
    # Grew 20%: × 1.09/1.20; grew 5%: under the cap; no last year: no growth rate; grew 25%: × 1.09/1.25;
    # not a hospital: no cap however fast it grew.
    assert capped == pytest.approx([1.09 / 1.2, 1.0, 1.0, 1.2 * 1.09 / 1.25, 1.0], rel=1e-15)
    assert revenue[0] * capped[0] == pytest.approx(100.0 * 1.09)  # this year's revenue at the new intensity: the cap
    assert intensity.tolist() == [1.0, 1.0, 1.0, 1.2, 1.0]  # a new array


def test_budget_settlement_hand_worked():
    # Budgets of 100: one consortium spent 80 and keeps 75% of the 20 saved; one spent 130 and pays back 40% of 30.
    transfer = payment.budget_transfer(np.array([100.0, 100.0]), np.array([80.0, 130.0]), 0.75, 0.4)
    assert transfer.tolist() == [15.0, -12.0]
    consortium = np.array([0, 0, 0, 1, 1, -1])
    is_lead = np.array([True, False, False, True, False, False])
    revenue = np.array([500.0, 30.0, 10.0, 400.0, 0.0, 99.0])
    amounts = payment.share_transfer(transfer, consortium, is_lead, revenue, lead_share=0.6)
    # Lead 60% of 15 = 9; members 6 by revenue 30:10; consortium 1's members earned nothing: its lead bears it all.
    assert amounts == pytest.approx([9.0, 4.5, 1.5, -12.0, 0.0, 0.0], rel=1e-15)


def test_resource_sinking_hand_worked():
    quality = np.array([0.9, 0.4, 0.5, 0.9, 0.95, 0.3])
    consortium = np.array([0, 0, 0, 1, 1, -1])
    member = np.array([False, True, True, False, True, False])
    revenue = np.array([1000.0, 300.0, 100.0, 800.0, 50.0, 10.0])
    # Consortium 0 invests 80 in members earning 400: each gains 0.5 × 80/400 = 0.1; consortium 1's member
    # would gain 0.5 × 100/50 = 1 but quality stops at 1.
    raised = payment.sinking_quality(quality, np.array([80.0, 100.0]), consortium, member, revenue, 0.5)
    assert raised == pytest.approx([0.9, 0.5, 0.6, 0.9, 1.0, 0.3], rel=1e-15)
    unchanged = payment.sinking_quality(quality, np.zeros(2), consortium, member, revenue, 0.5)
    assert unchanged.tolist() == quality.tolist()


# ---------------------------------------------------------------------------------- the audit
def audited(path: Path | None, overrides: list[str]) -> Audit:
    audit = Audit(CareModel(sim.load_scenario(path, [*SMALL, *overrides])))
    audit.daily = audit.run()
    return audit


@pytest.mark.parametrize("name", SCENARIOS)
def test_books_balance_under_every_scenario(name):
    audit = audited(ROOT / "scenarios" / f"{name}.toml", [])
    assert audit.checked_days == audit.model.scenario.run.warmup_days + 3 * 365


def test_books_balance_with_every_lever_from_year_0():
    audit = audited(None, [*EVERY_LEVER, *(f"levers.{k}.start_year=0" for k in ("drg", "per_diem", "capitation"))])
    d = audit.daily
    assert d.capitation_paid.sum() > 0 and (d.budget_settlement != 0).sum() == 2
