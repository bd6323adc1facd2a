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
from sim import care, insurance, payment, population, rules
from sim.insurance import SchemeTable, claim_rate_table, contribution_income
from sim.metrics import BY_TIER_FIELDS
from sim.model import CareModel
from sim.parameters.illness import ACUTE, FOLLOW_UP
from sim.parameters.insurance import InsuranceParams
from sim.params import TIERS
from sim.state import INPATIENT_CASE, OUTPATIENT_HEAD, OUTPATIENT_ITEM

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
SMALL = ["run.scale=0.01", "run.years=3"]


def capitation_from_year_0(rate: float) -> list[str]:
    return ["levers.capitation.enabled=true", "levers.capitation.start_year=0", f"levers.capitation.rate={rate}"]


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
    # Within a yuan of the budget: half a yuan under keeps 0.375, half a yuan over pays back 0.2.
    near = payment.budget_transfer(np.array([100.0, 100.0]), np.array([99.5, 100.5]), 0.75, 0.4)
    assert near.tolist() == [0.375, -0.2]
    consortium = np.array([0, 0, 0, 1, 1, -1])
    is_lead = np.array([True, False, False, True, False, False])
    revenue = np.array([500.0, 30.0, 10.0, 400.0, 0.0, 99.0])
    amounts = payment.share_transfer(transfer, consortium, is_lead, revenue, lead_share=0.6)
    # Lead 60% of 15 = 9; members 6 by revenue 30:10; consortium 1's members earned nothing: its lead bears it all.
    assert amounts == pytest.approx([9.0, 4.5, 1.5, -12.0, 0.0, 0.0], rel=1e-15)
    # A member whose lump sums left it with negative revenue shares as one with none.
    revenue[2] = -10.0
    amounts = payment.share_transfer(transfer, consortium, is_lead, revenue, lead_share=0.6)
    assert amounts[:3] == pytest.approx([9.0, 6.0, 0.0], rel=1e-15)
    # Members earning half a yuan between them still take their 40%.
    revenue[1:3] = [0.25, 0.25]
    amounts = payment.share_transfer(transfer, consortium, is_lead, revenue, lead_share=0.6)
    assert amounts[:3] == pytest.approx([9.0, 3.0, 3.0], rel=1e-15)


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
    # Members that earned nothing this year gain nothing (no share of revenue to scale the investment by).
    idle = payment.sinking_quality(
        quality, np.array([80.0, 100.0]), consortium, member, revenue * (consortium != 1), 0.5
    )
    assert idle[4] == quality[4] and idle[1] == pytest.approx(0.5)
    # Members earning half a yuan between them gain 0.5 × 0.1 / 0.5 = 0.1 each.
    tiny = payment.sinking_quality(quality, np.array([0.1, 0.0]), consortium, member, np.full(6, 0.25), 0.5)
    assert tiny[[1, 2]] == pytest.approx([0.5, 0.6], rel=1e-15)


def test_bills_and_prices_hand_worked():
    prices = sim.load_scenario().prices  # the baseline price tables
    tier, severity = np.array([0, 3, 3]), np.array([0, 2, 2])
    kind = np.array([ACUTE, ACUTE, FOLLOW_UP])
    # A village clinic's minor visit ¥35 × 0.85; a tertiary severe visit ¥300 × 1.8 (a follow-up × 0.8),
    # at intensity 1.2, two years of 2% inflation.
    visits = payment.outpatient_bill(tier, np.array([1.0, 1.2, 1.2]), severity, kind, 2, prices)
    assert visits == pytest.approx(np.array([35 * 0.85, 300 * 1.8 * 1.2, 300 * 1.8 * 1.2 * 0.8]) * 1.02**2, rel=1e-14)
    # A tertiary stay: ¥1,400 a day × 1.3 (complex) × 8 days × intensity 1.1, in year 3.
    stay = payment.inpatient_bill(np.array([3]), np.array([1.1]), np.array([3]), np.array([8]), 3, prices)
    assert stay == pytest.approx([1_400 * 1.3 * 8 * 1.1 * 1.02**3], rel=1e-14)
    # A ¥1,000 tertiary visit: drugs 38%, consumables 7%, tests 27%, service the rest.
    parts = payment.split_components(np.array([1_000.0]), np.array([3]), False, prices)
    assert parts == pytest.approx(np.array([[280.0, 380.0, 70.0, 270.0]]), rel=1e-14)
    # Sanming's prices (service +25%, drugs and consumables −15%, tests −20%) and a hospital's drug volume cut
    # by a tenth and its consumables volume raised by a twentieth.
    multiplier = np.array([1.25, 0.85, 0.85, 0.8])
    priced = payment.priced_components(np.array([1_000.0]), np.array([3]), False, prices, multiplier)
    assert priced == pytest.approx(np.array([[350.0, 323.0, 59.5, 216.0]]), rel=1e-14)
    volume = np.array([[1.0, 0.9, 1.05, 1.0]])
    priced = payment.priced_components(np.array([1_000.0]), np.array([3]), False, prices, multiplier, volume)
    assert priced == pytest.approx(np.array([[350.0, 290.7, 62.475, 216.0]]), rel=1e-14)
    # What a patient expects a tertiary bill to become: the tier's shares weighted by the price changes.
    index = payment.price_index(False, prices, multiplier)
    assert index[3] == pytest.approx(0.28 * 1.25 + 0.38 * 0.85 + 0.07 * 0.85 + 0.27 * 0.8, rel=1e-14)


def test_outpatient_claims_use_up_the_annual_start_line_and_cap_hand_worked():
    rules = InsuranceParams(employee={"outpatient_start_line": 100, "outpatient_cap": 130})  # primary rate 0.55
    table = SchemeTable.from_params(rules)
    rates = claim_rate_table(table.outpatient_rate, np.array([0, 0, 1, 2]), np.zeros(3), 0.0)
    # One employee's three visits to a health centre, in two batches; then a follow-up
    # after a down-referral, which pays no start-line.
    bill = np.array([60.0, 80.0, 200.0, 50.0])
    start_line_paid, fund_paid = np.zeros(1), np.zeros(1)
    claims = insurance.OutpatientClaims(
        bill, np.zeros(4, dtype=np.int64), np.ones(4, dtype=np.int64), np.zeros(4, dtype=bool),
        scheme=np.zeros(4, dtype=np.int64), signed=np.zeros(4, dtype=bool),
        waive_start_line=np.array([False, False, False, True]),
    )  # fmt: skip
    fund, oop = insurance.settle_outpatient_batches(
        claims, rates=rates, start_line=table.outpatient_start_line, cap=table.outpatient_cap,
        ends=np.array([2, 3, 4]), start_line_paid=start_line_paid, fund_paid=fund_paid,
    )  # fmt: skip
    # ¥60 all start-line; ¥80: 40 start-line, 0.55 × 40 = 22 by the fund; ¥200: 0.55 × 200 = 110, but the
    # cap leaves 130 − 22 = 108; the follow-up: no start-line, and the cap is used up.
    assert fund == pytest.approx([0.0, 22.0, 108.0, 0.0], rel=1e-14)
    assert oop == pytest.approx(bill - fund, rel=1e-14)
    assert start_line_paid.tolist() == [100.0] and fund_paid == pytest.approx([130.0])
    # The same follow-up with cap room left: the fund pays its rate of the whole bill.
    follow_up = insurance.OutpatientClaims(
        np.array([50.0]), np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), np.zeros(1, dtype=bool),
        scheme=np.zeros(1, dtype=np.int64), signed=np.zeros(1, dtype=bool), waive_start_line=np.ones(1, dtype=bool),
    )  # fmt: skip
    fund, _ = insurance.settle_outpatient_batches(
        follow_up, rates=rates, start_line=table.outpatient_start_line, cap=table.outpatient_cap,
        ends=np.array([1]), start_line_paid=np.zeros(1), fund_paid=np.zeros(1),
    )  # fmt: skip
    assert fund == pytest.approx([27.5], rel=1e-14)


def test_the_first_outpatient_batch_takes_the_start_line_left_its_caller_read():
    # Visits at a health centre (resident rate 0.55, start-line ¥100), batches of one claim then two.
    table = SchemeTable.from_params(InsuranceParams(resident={"outpatient_start_line": 100}))
    rates = claim_rate_table(table.outpatient_rate, np.array([0, 0, 1, 2]), np.zeros(3), 0.0)
    start_line_paid, fund_paid = np.array([40.0]), np.zeros(1)
    n = 3
    claims = insurance.OutpatientClaims(
        np.array([50.0, 30.0, 100.0]), np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.zeros(n, dtype=bool),
        np.ones(n, dtype=np.int64), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool),
    )  # fmt: skip
    fund, _ = insurance._outpatient_batches(
        claims, rates, table.outpatient_start_line, table.outpatient_cap, np.array([1, 3]), start_line_paid,
        fund_paid, np.array([60.0]), np.zeros(0),
    )  # fmt: skip
    # ¥50 all start-line (60 left); then ¥10 start-line, 0.55 × 20 = 11, and 0.55 × 100 = 55.
    assert fund == pytest.approx([0.0, 11.0, 55.0], rel=1e-15) and start_line_paid.tolist() == [100.0]


def test_a_start_line_lever_s_rules_hold_from_its_start_year():
    model = CareModel(sim.load_scenario(ROOT / "scenarios" / "start_line_gap.toml", ["run.scale=0.002"]))
    rates = []
    while model.day <= 365:
        model.step()
        if model.day in (1, 366):  # the first day of years 0 and 1 simulated
            rates.append(model.insurance.outpatient_rate[1].tolist())  # resident scheme, by level
    assert rates == [[0.55, 0.45, 0.35], [0.70, 0.45, 0.30]]  # baseline in year 0; the lever's from year 1


def test_claim_rates_by_scheme_tier_referral_and_signing_hand_worked():
    # Resident scheme (row 1): 0.55 / 0.45 / 0.35 at primary, secondary, tertiary level; tiers 0 and 1 are primary.
    rate = np.array([[0.9, 0.7, 0.7], [0.55, 0.45, 0.35]])
    level_of_tier = np.array([0, 0, 1, 2])
    table = claim_rate_table(rate, level_of_tier, rate_cut=np.array([0.0, 0.1, 0.15]), gatekeeping_cut=0.3)
    assert table.shape == (2, 4, 2, 2)  # scheme, tier, referred, signed
    # Unreferred hospital care loses its level's cut, and a signed resident's the gatekeeping cut too;
    # referred care and primary care lose nothing; a rate never falls below 0 (0.35 − 0.15 − 0.3).
    assert table[1, 3].tolist() == [[0.35 - 0.15, 0.0], [0.35, 0.35]]
    assert table[1, 2, 0].tolist() == pytest.approx([0.45 - 0.1, 0.45 - 0.1 - 0.3])
    assert (table[:, :2] == rate[:, :1, None, None]).all()
    scheme, tier = np.array([0, 1, 1, 1]), np.array([1, 3, 3, 2])
    referred, signed = np.array([False, True, False, False]), np.array([True, False, False, True])
    got = insurance.claim_rates(table, scheme, tier, referred, signed)
    assert got == pytest.approx([0.9, 0.35, 0.2, 0.05])


def test_group_prices_and_referral_bonus_hand_worked():
    # Last year's completed stays of two tiers × two severities (yuan of year 0): one group had none.
    bills = np.array([[3_000.0, 8_000.0], [0.0, 20_000.0]])
    counts = np.array([[2.0, 4.0], [0.0, 5.0]])
    # Means 1,500, 2,000 and 4,000; the empty group takes their mean, 2,500; prices 10% above.
    prices = payment.group_prices(bills, counts, 1.1)
    np.testing.assert_allclose(prices, [[1_650.0, 2_200.0], [2_750.0, 4_400.0]], rtol=1e-14)
    # A group of one stay is priced at that stay's bill.
    one = payment.group_prices(np.array([[900.0, 1_000.0, 0.0]]), np.array([[1.0, 2.0, 0.0]]), 1.0)
    assert one.tolist() == [[900.0, 500.0, 700.0]]
    assert payment.group_prices(np.zeros((2, 2)), np.zeros((2, 2)), 1.1).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    # A ¥200 bonus against the tier's mean stay bill: 11,000/6 and 20,000/5; a tier with no stay: 0.
    bonus = payment.bonus_per_stay_bill(200.0, bills, counts, np.array([0, 1, 1]))
    assert bonus == pytest.approx([200 / (11_000 / 6), 200 / 4_000, 200 / 4_000])
    # One stay of ¥0.50 (a tier's mean however small).
    assert payment.bonus_per_stay_bill(1.0, np.array([[0.5, 0.0]]), np.array([[1.0, 0.0]]), np.array([0])) == [2.0]
    idle = payment.bonus_per_stay_bill(200.0, bills * [[1], [0]], counts * [[1], [0]], np.array([1]))
    assert idle.tolist() == [0.0]


def test_residents_age_a_year_a_year_within_0_and_120():
    age0 = np.array([0, 30, 100, 120])
    assert population.ages_in(age0, 0).tolist() == [0, 30, 100, 120]
    assert population.ages_in(age0, 5).tolist() == [5, 35, 105, 120]
    assert population.ages_in(age0, 19).tolist() == [19, 49, 119, 120]
    assert population.ages_in(age0, -1).tolist() == [0, 29, 99, 119]  # the warm-up's year before year 0


def test_claims_booked_to_facility_ledgers_hand_worked():
    f = CareModel(sim.load_scenario(overrides=["run.scale=0.002"])).facilities
    by_tier = np.zeros((len(BY_TIER_FIELDS), len(TIERS)))
    # Two batches: a ¥100 visit at facility 0 (fund 60, patient 40) and a capitated ¥50 visit there (the fund
    # pays nothing per visit, the patient 20); then a free visit (¥0) and a ¥1,000 stay paid per case at 1.
    components = np.array([[50.0, 20, 10, 20], [25.0, 10, 5, 10], [0.0, 0, 0, 0], [500.0, 200, 100, 200]])
    billed, fund, oop = components.sum(axis=1), np.array([60.0, 0.0, 0.0, 700.0]), np.array([40.0, 20.0, 0.0, 300.0])
    facility, tier = np.array([0, 0, 1, 1]), f.tier[[0, 0, 1, 1]]
    basis = np.array([OUTPATIENT_ITEM, OUTPATIENT_HEAD, OUTPATIENT_ITEM, INPATIENT_CASE], np.int8)
    sums = f.book_claims(
        facility, tier, components, billed, fund, oop, basis=basis, bounds=np.array([0, 2, 4]), by_tier=by_tier
    )
    assert sums.tolist() == [[60.0, 60.0, 120.0], [700.0, 300.0, 1_000.0]]  # fund, patients, booked per batch
    # The capitated visit books what was paid, ¥20, in its bill's proportions.
    assert f.revenue[:2].tolist() == [[50.0 + 10.0, 20.0 + 4.0, 10.0 + 2.0, 20.0 + 4.0], [500.0, 200.0, 100.0, 200.0]]
    assert f.paid_by_fund[:2].tolist() == [60.0, 700.0] and f.paid_out_of_pocket[:2].tolist() == [60.0, 300.0]
    assert f.billed_by_basis[:2].tolist() == [[100.0, 20.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1_000.0, 0.0]]
    assert f.fund_claims[:2].tolist() == [60.0, 700.0] and not f.revenue[2:].any()
    rows = [BY_TIER_FIELDS.index(f"revenue_{c}") for c in ("service", "drugs", "consumables", "tests")]
    assert by_tier[rows].sum() == 1_120.0
    # Lump sums: by the fund, into revenue; a negative one is paid back.
    f.credit_lump_sum(np.array([0, 1]), np.array([30.0, -200.0]))
    assert f.medical_revenue()[:2].tolist() == [150.0, 800.0] and f.paid_by_fund[:2].tolist() == [90.0, 500.0]
    f.close_year()
    assert f.last_revenue[:2].tolist() == [150.0, 800.0] and not f.medical_revenue().any()
    assert not f.paid_by_fund.any() and not f.fund_claims.any() and not f.lump_sum.any()
    # However small a capitated visit's bill, what is booked is what was paid: ¥0.20 of ¥0.80.
    one = np.array([0]), f.tier[[0]], np.array([[0.4, 0.16, 0.08, 0.16]]), np.array([0.8]), np.zeros(1), np.array([0.2])
    f.book_claims(*one, basis=np.full(1, OUTPATIENT_HEAD, np.int8), bounds=np.array([0, 1]), by_tier=by_tier)
    assert f.revenue[0] == pytest.approx([0.1, 0.04, 0.02, 0.04], rel=1e-15)


def test_margins_under_fee_for_service_fixed_payment_and_budgets_hand_worked():
    # Three consortia: under budget (keeps 75% of a surplus), over (pays back 40%), no budget this year.
    clawback = payment.budget_clawback(np.array([100.0, 100.0, np.nan]), np.array([80.0, 130.0, 50.0]), 0.75, 0.4)
    assert clawback.tolist() == [0.75, 0.4, 0.0]
    assert payment.budget_clawback(np.array([100.0]), np.array([100.0]), 0.75, 0.4).tolist() == [0.75]  # on budget
    # A hospital billing ¥600 of stays item by item and ¥400 per case, the fund paying ¥700 of it; a clinic
    # with no bills.
    billed = np.array([[0, 0, 600.0, 400.0, 0], [0, 0, 600.0, 400.0, 0], [0, 0, 0, 0, 0]])
    got = payment.margins(billed, np.array([700.0, 700.0, 0.0]), np.array([0.0, 0.4, 0.4]))
    v = got.volume_margin
    assert v == pytest.approx([1.0, 1 - 0.7 * 0.4, 1.0], rel=1e-15)
    assert got.inpatient_margin == pytest.approx([0.6, 0.6 * (1 - 0.7 * 0.4), 1.0], rel=1e-15)
    assert got.outpatient_margin == pytest.approx(v, rel=1e-15)  # no visits billed: the volume margin alone
    # However small the bills: a station billing ¥0.25 item by item and ¥0.25 per head, the fund paying ¥0.25.
    got = payment.margins(np.array([[0.25, 0.25, 0, 0, 0]]), np.array([0.25]), np.array([0.4]))
    assert got.volume_margin.tolist() == [0.8] and got.outpatient_margin.tolist() == [0.4]  # 1 − 0.25/0.5 × 0.4


def test_claims_of_interleaved_residents_settle_each_in_their_own_order():
    # Residents 7 and 3, claims interleaved: each uses up their own ¥100 start-line and ¥50 cap.
    resident = np.array([7, 3, 7, 3, 7])
    bill = np.array([80.0, 150.0, 60.0, 30.0, 200.0])
    fund, oop, used = insurance.split_claims(
        bill, resident, np.full(5, 0.5), np.array([100.0, 100.0, 100.0, 100.0, 100.0]), None, np.full(5, 50.0)
    )
    # Resident 7: 80 start-line; 20 more start-line, 0.5 × 40 = 20; 0.5 × 200 = 100 capped at 30 left.
    # Resident 3: 100 start-line, 0.5 × 50 = 25; 0.5 × 30 = 15.
    assert used == pytest.approx([80.0, 100.0, 20.0, 0.0, 0.0], rel=1e-15)
    assert fund == pytest.approx([0.0, 25.0, 20.0, 15.0, 30.0], rel=1e-15)
    assert oop == pytest.approx(bill - fund, rel=1e-15)


def test_reserved_beds_are_a_share_of_lead_hospitals_beds_hand_worked():
    is_lead, beds = np.array([True, True, False, True]), np.array([400, 35, 300, 0])
    assert care.reserved_beds(is_lead, beds, 0.1).tolist() == [40, 4, 0, 0]  # 3.5 rounds to 4
    assert care.reserved_beds(is_lead, beds, 0.0).tolist() == [0, 0, 0, 0]


def test_drug_consumables_and_test_shares_leave_a_service_part_of_every_bill():
    assert sim.load_scenario(overrides=["prices.test_share_outpatient.tertiary=0.55"])  # 0.38 + 0.07 + 0.55: none left
    error = r"drug_share_{0}.{1} \+ consumables_share_{0}.{1} \+ test_share_{0}"
    for share in ("0.6", "1.0"):
        with pytest.raises(sim.ScenarioError, match=error.format("outpatient", "tertiary")):
            sim.load_scenario(overrides=[f"prices.test_share_outpatient.tertiary={share}"])
    with pytest.raises(sim.ScenarioError, match=error.format("inpatient", "secondary")):
        sim.load_scenario(overrides=["prices.drug_share_inpatient.secondary=0.9"])
    with pytest.raises(sim.ScenarioError, match=error.format("inpatient", "secondary")):
        sim.load_scenario(overrides=["prices.consumables_share_inpatient.secondary=0.6"])


def test_bill_components_add_up_to_the_bill_as_before_the_split():
    """Drugs + consumables is the drugs-and-consumables part the split came from: the bill is the same double."""
    prices = sim.load_scenario().prices
    rng = np.random.default_rng(7)
    total, tier = rng.uniform(1.0, 5e4, 20_000), rng.integers(0, 4, 20_000)
    for inpatient in (False, True):
        parts = payment.split_components(total, tier, inpatient, prices)
        drugs, consumables, tests = (share[tier] for share in prices.shares(inpatient))
        both = total * (drugs + consumables)
        assert (parts[:, 1] + parts[:, 2] == both).all()  # exact: drugs are at least half of it
        three = np.stack([total - both - total * tests, both, total * tests], axis=1)  # the split before
        assert (payment.bill_totals(parts) == three.sum(axis=1)).all()
        assert (parts >= 0).all() and np.allclose(parts[:, 2], total * consumables, rtol=1e-12)


# ---------------------------------------------------------------------------------- the audit
def audited(path: Path | None, overrides: list[str]) -> Audit:
    audit = Audit(CareModel(sim.load_scenario(path, [*SMALL, *overrides])))
    audit.daily = audit.run()
    return audit


@pytest.mark.parametrize("name", SCENARIOS)
def test_books_balance_under_every_scenario(name):
    audit = audited(ROOT / "scenarios" / f"{name}.toml", [])
    assert audit.checked_days == audit.model.scenario.run.warmup_days + 3 * 365


def test_books_balance_with_the_smallest_capitation():
    """Half a yuan a head, from year 0, at 5,000 residents: paid to each signed resident's primary care."""
    audit = Audit(CareModel(sim.load_scenario(None, ["run.scale=0.002", "run.years=1", *capitation_from_year_0(0.5)])))
    assert audit.run().capitation_paid.sum() > 0


def test_books_balance_with_every_lever_from_year_0():
    from_year_0 = ("drg", "per_diem", "capitation", "global_budget")
    audit = audited(None, [*EVERY_LEVER, *(f"levers.{k}.start_year=0" for k in from_year_0)])
    d = audit.daily
    # A global budget's first year has no budget yet (no year before it): it settles from year 1.
    assert d.capitation_paid.sum() > 0 and (d.budget_settlement != 0).sum() == 2


def test_capitated_visit_hand_worked():
    """Capitation pays a signed resident's visits to their own consortium's primary care, and no others."""
    # (signed, tier, facility's consortium, home consortium) → capitated
    cases = [
        (True, 0, 3, 3, True),  # village clinic of their own consortium
        (True, 1, 3, 3, True),  # health centre of their own consortium
        (True, 1, 4, 3, False),  # another consortium's health centre
        (True, 2, 3, 3, False),  # their consortium's county hospital
        (False, 1, 3, 3, False),  # unsigned
    ]
    for signed, tier, facility_consortium, home, expected in cases:
        assert bool(rules.is_capitated(signed, tier, facility_consortium, home)) is expected
    signed, tier, facility_consortium, home, expected = (np.array(column) for column in zip(*cases, strict=True))
    assert (rules.is_capitated(signed, tier, facility_consortium, home) == expected).all()
    assert rules.is_primary(np.arange(4)).tolist() == [True, True, False, False]
