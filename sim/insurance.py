"""Basic medical insurance: start-lines (起付线), reimbursement rates by level, caps, the fund.

A claim is split in a fixed order: the start-line (deductible) is paid out of pocket first, the
fund then pays the level's reimbursement rate of the rest up to what is left of the resident's
annual cap, and the resident pays the remainder. Outpatient start-lines accumulate over a year
(门诊统筹 annual deductible); inpatient start-lines apply per admission, by the level of the
admitting hospital ([yangjiang-consortia-2017] 五(三): "合理确定三级医院、二级医院、镇卫生院等不同级别…的支付标准").
Every yuan of a bill is paid by exactly one of fund and patient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.accel import helper, kernel
from sim.arrays import stable_order
from sim.parameters.insurance import (
    InsuranceParams,
)


def contribution_income(params: InsuranceParams, employees: int, residents: int, year: int) -> float:
    """A year's contributions to the pooled fund (医保基金筹资), yuan.

    Each insured pays their scheme's contribution, grown by `contribution_growth` a year from year 0
    (the warm-up's year −1 pays year 0's rates).

    Args:
        params: The schemes' contribution rules.
        employees: Residents insured by the employee scheme.
        residents: All residents (the others are in the resident scheme).
        year: Simulated year.
    """
    growth = (1.0 + params.contribution_growth) ** max(year, 0)
    return growth * (employees * params.contribution_employee + (residents - employees) * params.contribution_resident)


@dataclass
class SchemeTable:
    """Benefit rules as arrays indexed [scheme, level] (schemes: EMPLOYEE, RESIDENT)."""

    outpatient_start_line: np.ndarray
    outpatient_rate: np.ndarray
    outpatient_cap: np.ndarray
    inpatient_start_line: np.ndarray
    inpatient_rate: np.ndarray
    inpatient_cap: np.ndarray

    @classmethod
    def from_params(cls, params: InsuranceParams) -> SchemeTable:
        """Arrays from the two schemes' rules (employee first, matching population.EMPLOYEE)."""
        rules = (params.employee, params.resident)
        return cls(
            outpatient_start_line=np.array([r.outpatient_start_line for r in rules]),
            outpatient_rate=np.stack([r.outpatient_rate.as_array() for r in rules]),
            outpatient_cap=np.array([r.outpatient_cap for r in rules]),
            inpatient_start_line=np.stack([r.inpatient_start_line.as_array() for r in rules]),
            inpatient_rate=np.stack([r.inpatient_rate.as_array() for r in rules]),
            inpatient_cap=np.array([r.inpatient_cap for r in rules]),
        )


def claim_rate_table(
    rate: np.ndarray, level_of_tier: np.ndarray, rate_cut: np.ndarray, gatekeeping_cut: float
) -> np.ndarray:
    """Reimbursement rates after the cuts for unreferred hospital care (差异化支付, gatekeeping).

    Args:
        rate: (schemes, levels) rates of the benefit table.
        level_of_tier: Payment level of each tier.
        rate_cut: Cut of each level's rate for unreferred care (none at primary level).
        gatekeeping_cut: Further cut for a signed resident's unreferred hospital care.

    Returns:
        (schemes, tiers, referred, signed) rates; look them up with `claim_rates`.
    """
    scheme, tier, referred, signed = np.meshgrid(
        np.arange(rate.shape[0]), np.arange(level_of_tier.size), [False, True], [False, True], indexing="ij"
    )
    level = level_of_tier[tier]
    unreferred_hospital = ~referred & (level >= 1)
    cut = np.where(unreferred_hospital, rate_cut[level], 0.0)
    cut = cut + np.where(unreferred_hospital & signed, gatekeeping_cut, 0.0)
    return np.clip(rate[scheme, level] - cut, 0.0, 1.0)


def claim_rates(
    table: np.ndarray, scheme: np.ndarray, tier: np.ndarray, referred: np.ndarray, signed: np.ndarray
) -> np.ndarray:
    """Rates of claims (arrays broadcast together) from a `claim_rate_table`."""
    _, n_tiers, _, _ = table.shape
    return table.ravel()[((scheme * n_tiers + tier) * 2 + referred) * 2 + signed]


@kernel
def _split_claims(
    bill: np.ndarray,
    resident: np.ndarray,
    rate: np.ndarray,
    start_line_left: np.ndarray,
    per_claim_start_line: np.ndarray,
    cap_left: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`split_claims` (an empty `per_claim_start_line` for none), numpy's roundings step by step."""
    n = bill.size
    order = stable_order(resident)
    rest = bill.copy()
    if per_claim_start_line.size:
        for i in range(n):
            rest[i] = bill[i] - min(bill[i], per_claim_start_line[i])
    cum, prev = np.empty(n), np.empty(n)
    annual, eligible, fund = np.empty(n), np.empty(n), np.empty(n)
    _within_resident_running(rest, resident, order, cum, prev)
    for i in range(n):
        annual[i] = min(cum[i], start_line_left[i]) - min(prev[i], start_line_left[i])
        eligible[i] = (rest[i] - annual[i]) * rate[i]
    _within_resident_running(eligible, resident, order, cum, prev)
    for i in range(n):
        fund[i] = min(max(min(cum[i], cap_left[i]) - min(prev[i], cap_left[i]), 0.0), eligible[i])
    return fund, bill - fund, annual


def split_claims(
    bill: np.ndarray,
    resident: np.ndarray,
    rate: np.ndarray,
    start_line_left: np.ndarray,
    per_claim_start_line: np.ndarray | None,
    cap_left: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a batch of bills into fund and out-of-pocket parts, claim by claim in batch order.

    Claims of the same resident are settled in order, so an annual start-line and cap are used up
    exactly as if the claims came one at a time.

    Args:
        bill: Amount billed per claim (yuan).
        resident: Resident of each claim.
        rate: Reimbursement rate per claim.
        start_line_left: The resident's annual start-line not yet paid, per claim (as of the batch start).
        per_claim_start_line: Start-line charged on this claim alone (inpatient), per claim; None for none.
        cap_left: What the fund may still pay the resident this year, per claim (as of the batch start).

    Returns:
        (fund pays, patient pays, annual start-line consumed), per claim.
    """
    per_claim = np.zeros(0) if per_claim_start_line is None else per_claim_start_line
    return _split_claims(bill, resident, rate, start_line_left, per_claim, cap_left)


@helper
def _within_resident_running(
    values: np.ndarray, resident: np.ndarray, order: np.ndarray, cum: np.ndarray, prev: np.ndarray
) -> None:
    """Per claim, the sum of its resident's claims in the batch up to and including it (`cum`), and before it (`prev`).

    One running total over the batch in resident order, less its value where each resident's claims
    begin (the roundings of `np.cumsum` and `np.maximum.accumulate` over that order).
    """
    total = 0.0
    base = 0.0
    for r in range(order.size):
        i = order[r]
        total += values[i]
        starts = r == 0 or resident[i] != resident[order[r - 1]]
        x = total - values[i] if starts else 0.0
        base = x if r == 0 else max(base, x)
        cum[i] = total - base
        prev[i] = cum[i] - values[i]


class OutpatientClaims(NamedTuple):
    """Outpatient claims (struct of arrays), in batch order.

    Attributes:
        bill: Amount billed per claim (yuan).
        resident: Resident of each claim.
        tier: Tier of the facility of each claim.
        referred: The visit was referred (no cut for unreferred hospital care).
        scheme: Insurance scheme of each claim's resident.
        signed: Family-doctor signing of each claim's resident.
        waive_start_line: Claims charged no start-line.
    """

    bill: np.ndarray
    resident: np.ndarray
    tier: np.ndarray
    referred: np.ndarray
    scheme: np.ndarray
    signed: np.ndarray
    waive_start_line: np.ndarray


@kernel
def _outpatient_batches(
    claims: OutpatientClaims,
    rates: np.ndarray,
    scheme_start_line: np.ndarray,
    scheme_cap: np.ndarray,
    ends: np.ndarray,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
    first_start_left: np.ndarray,
    first_fund_paid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """`settle_outpatient_batches`, the first batch's start-line left and fund paid optionally given.

    `first_start_left`, per claim of the first batch: the start-line its resident had left,
    max(0, start-line − paid), as the caller read it; empty: read from `start_line_paid` here.
    `first_fund_paid`, likewise: what the fund had paid its resident (`fund_paid`); empty: read here.
    A caller that has read the residents' accounts already saves a second read of a city's rows.
    """
    bill, resident, tier, referred, scheme, signed, waive_start_line = claims
    n = bill.size
    rate, start_line, cap = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        their_scheme = np.int64(scheme[i])
        rate[i] = rates[their_scheme, tier[i], 1 if referred[i] else 0, 1 if signed[i] else 0]
        start_line[i] = scheme_start_line[their_scheme]
        cap[i] = scheme_cap[their_scheme]
    fund, oop, used = np.empty(n), np.empty(n), np.empty(n)
    cum, prev, eligible = np.empty(n), np.empty(n), np.empty(n)
    begin = 0
    for end in ends:
        order = begin + stable_order(resident[begin:end])
        _within_resident_running(bill, resident, order, cum, prev)
        given = begin == 0 and first_start_left.size > 0
        given_paid = begin == 0 and first_fund_paid.size > 0
        for i in range(begin, end):
            if waive_start_line[i]:
                left = 0.0
            elif given:
                left = first_start_left[i]
            else:
                left = max(0.0, start_line[i] - start_line_paid[resident[i]])
            used[i] = min(cum[i], left) - min(prev[i], left)
            eligible[i] = (bill[i] - used[i]) * rate[i]
        _within_resident_running(eligible, resident, order, cum, prev)
        for i in range(begin, end):
            cap_left = max(0.0, cap[i] - (first_fund_paid[i] if given_paid else fund_paid[resident[i]]))
            fund[i] = min(max(min(cum[i], cap_left) - min(prev[i], cap_left), 0.0), eligible[i])
            oop[i] = bill[i] - fund[i]
        for i in range(begin, end):
            start_line_paid[resident[i]] += used[i]
            fund_paid[resident[i]] += fund[i]
        begin = end
    return fund, oop


def settle_outpatient_batches(
    claims: OutpatientClaims,
    *,
    rates: np.ndarray,
    start_line: np.ndarray,
    cap: np.ndarray,
    ends: np.ndarray,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Split outpatient claims batch after batch (`split_claims`), using up annual start-lines and caps.

    Each batch sees the start-line and cap its residents have left after the batches before it.

    Args:
        claims: The claims, in batch order.
        rates: Outpatient reimbursement rates (`claim_rate_table`).
        start_line: Annual outpatient start-line (起付线) of each scheme.
        cap: Annual outpatient fund cap of each scheme.
        ends: Where each batch ends.
        start_line_paid: Per resident, start-line paid so far this year (updated in place).
        fund_paid: Per resident, paid by the fund so far this year (updated in place).

    Returns:
        (fund pays, patient pays), per claim.
    """
    # No start-line left given for the first batch: it is read from `start_line_paid`. (The day's
    # outpatient kernel gives it: `ExpectedCosts.start_line_left`, the same value, read once.)
    return _outpatient_batches(
        claims, rates, start_line, cap, ends, start_line_paid, fund_paid, np.zeros(0), np.zeros(0)
    )


COST_TABLE_PARTS = ("visit", "start_line_unmet", "start_line_met", "rate", "stay")
"""Parts of a row of the expected-cost table (`expected_costs`), in order along its middle axis."""
_VISIT, _UNMET, _MET, _RATE, _STAY = range(len(COST_TABLE_PARTS))


def out_of_pocket(visit: np.ndarray, rate: np.ndarray, stay: np.ndarray, start_left: np.ndarray | float) -> np.ndarray:
    """What a patient expects to pay: the visit after the start-line left and the rate, plus the expected stay."""
    return (visit - np.maximum(0.0, visit - start_left) * rate) + stay


def cost_table_rows(
    visit: np.ndarray,
    rate: np.ndarray,
    stay: np.ndarray,
    transform: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    severity: np.ndarray,
    visit_key: np.ndarray | None = None,
    stay_key: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """(R, parts, K) rows of the expected-cost table (`COST_TABLE_PARTS`) from visit bills, rates and stays.

    The transformed out-of-pocket cost is tabulated for the two states of a patient's annual
    outpatient start-line that cover almost every visit: all of the visit falls within what is
    left of it (`start_line_unmet`), or none is left (`start_line_met`).

    Args:
        visit: Visit bills: (R, K) rows, or a flat array that `visit_key` picks from.
        rate: Their reimbursement rates, likewise.
        stay: Expected out-of-pocket stays: (R, K) rows, or a flat array that `stay_key` picks from.
        transform: Function of the out-of-pocket cost and the episode's severity, elementwise with
            broadcasting (numpy's: see `accel`).
        severity: (R,) the severity of each row's patient case.
        visit_key: (R, K) where each entry's visit and rate are in the flat arrays.
        stay_key: (R, K) where each entry's stay is.
        out: Last year's table, written over if of the same shape (fresh memory is slow: see `arrays.Buffers`).
    """
    if visit_key is None or stay_key is None:
        visit_key = stay_key = np.arange(visit.size).reshape(visit.shape)
        visit, rate, stay = visit.ravel(), rate.ravel(), stay.ravel()
    shape = (visit_key.shape[0], len(COST_TABLE_PARTS), visit_key.shape[1])
    table = out if out is not None and out.shape == shape else np.empty(shape)
    unmet, met = _cost_table_parts(visit, rate, stay, visit_key, stay_key, table)
    table[:, _UNMET] = transform(unmet, severity[:, None])
    table[:, _MET] = transform(met, severity[:, None])
    return table


@kernel
def _cost_table_parts(
    visit: np.ndarray,
    rate: np.ndarray,
    stay: np.ndarray,
    visit_key: np.ndarray,
    stay_key: np.ndarray,
    table: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The table's visit, rate and stay parts written in one pass; the out-of-pocket costs to transform returned."""
    n, k = visit_key.shape
    unmet, met = np.empty((n, k)), np.empty((n, k))
    for i in range(n):
        for j in range(k):
            v, r, s = visit[visit_key[i, j]], rate[visit_key[i, j]], stay[stay_key[i, j]]
            table[i, _VISIT, j], table[i, _RATE, j], table[i, _STAY, j] = v, r, s
            unmet[i, j] = (v - _above_zero(v - np.inf) * r) + s
            met[i, j] = (v - _above_zero(v - 0.0) * r) + s
    return unmet, met


@helper
def _above_zero(x: float) -> float:
    """`np.maximum(0.0, x)` (NaN stays NaN)."""
    return x if x > 0.0 or x != x else 0.0


def home_codes(cell: np.ndarray, scheme: np.ndarray) -> np.ndarray:
    """Each resident's home cell and scheme in one int32 (cell · 2 + scheme), as `expected_costs` reads them."""
    return cell.astype(np.int32) * 2 + scheme.astype(np.int32)


@kernel
def _expected_costs(
    table: np.ndarray,
    n_cases: int,
    resident: np.ndarray,
    severity: np.ndarray,
    kind: np.ndarray,
    home: np.ndarray,
    signed: np.ndarray,
    trust: np.ndarray,
    start_line: np.ndarray,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
) -> tuple[np.ndarray, ...]:
    n, k = resident.size, table.shape[2]
    # Residents' attributes first, in a loop of its own: its loads are independent, so the CPU
    # overlaps their cache misses (a city's arrays do not fit in cache).
    cell, their_scheme = np.empty(n, np.int32), np.empty(n, np.int8)
    their_signed, their_trust = np.empty(n, np.bool_), np.empty(n, trust.dtype)
    row, start_left, their_fund_paid = np.empty(n, np.int64), np.empty(n), np.empty(n)
    for i in range(n):
        who = resident[i]
        h = np.int64(home[who])
        c, s = h >> 1, h & 1
        cell[i], their_scheme[i], their_signed[i], their_trust[i] = c, s, signed[who], trust[who]
        row[i] = c * n_cases + ((severity[i] * 2 + kind[i]) * 2 + s) * 2 + (1 if signed[who] else 0)
        start_left[i] = max(0.0, start_line[s] - start_line_paid[who])
        their_fund_paid[i] = fund_paid[who]
    value = np.empty((n, k))
    pending, oop = np.empty(n * k, np.int64), np.empty(n * k)
    m = 0
    for i in range(n):
        r, left = row[i], start_left[i]
        for j in range(k):
            visit = table[r, _VISIT, j]
            if left >= visit:
                value[i, j] = table[r, _UNMET, j]
            elif left == 0.0:
                value[i, j] = table[r, _MET, j]
            else:
                value[i, j] = np.nan
                pending[m] = i * k + j
                oop[m] = (visit - max(0.0, visit - left) * table[r, _RATE, j]) + table[r, _STAY, j]
                m += 1
    return value, pending[:m], oop[:m], cell, their_scheme, their_signed, their_trust, start_left, their_fund_paid


@dataclass(frozen=True)
class ExpectedCosts:
    """The day's episodes' transformed expected costs at their candidates, and their residents' attributes.

    The attributes are read once here, in the day's one pass over the city-sized arrays, and
    handed on to the day's claims (`care.outpatient_day`).

    Attributes:
        cost: (n, K) the transform of what each patient expects to pay at each candidate.
        cell: (n,) home cell of each episode's resident.
        scheme: (n,) the resident's insurance scheme.
        signed: (n,) the resident is signed with a family doctor.
        trust: (n,) the resident's trust in primary care.
        start_line_left: (n,) the resident's annual outpatient start-line (起付线) not yet paid.
        fund_paid: (n,) what the fund has paid for the resident's outpatient care this year.
    """

    cost: np.ndarray
    cell: np.ndarray
    scheme: np.ndarray
    signed: np.ndarray
    trust: np.ndarray
    start_line_left: np.ndarray
    fund_paid: np.ndarray


def expected_costs(
    table: np.ndarray,
    n_cases: int,
    transform: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    resident: np.ndarray,
    severity: np.ndarray,
    kind: np.ndarray,
    home: np.ndarray,
    signed: np.ndarray,
    trust: np.ndarray,
    start_line: np.ndarray,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
) -> ExpectedCosts:
    """What patients expect to pay at each candidate (the visit after start-line and rate, plus the stay), transformed.

    The table (`cost_table_rows`) has a row per home cell and patient case, case = ((severity · 2
    + kind) · 2 + scheme) · 2 + signed, in blocks of `n_cases` rows per cell; it holds the
    transformed cost for patients whose outpatient start-line (起付线) left covers the whole visit
    and for those with none left, so `transform` (a logarithm, kept in numpy: see `accel`) runs
    only for the few visits that the start-line left covers in part. The residents' home cells,
    schemes, signing, trust, start-line left and outpatient fund payments are read in the same pass
    over their city-sized arrays, for the rest of the day to use.

    Args:
        table: (R, parts, K) this year's expected-cost table.
        n_cases: Patient cases per cell.
        transform: Function of the out-of-pocket cost and the episode's severity, the one the table was built with.
        resident: (n,) patient of each episode.
        severity: (n,) the episode's severity.
        kind: (n,) ACUTE or FOLLOW_UP.
        home: (N,) every resident's home cell and scheme (`home_codes`).
        signed: (N,) every resident's family-doctor signing.
        trust: (N,) every resident's trust in primary care.
        start_line: Annual outpatient start-line of each scheme.
        start_line_paid: (N,) start-line each resident has paid so far this year.
        fund_paid: (N,) what the fund has paid for each resident's outpatient care so far this year.

    Returns:
        The transformed costs and the residents' attributes, per episode.
    """
    value, pending, oop, *attributes = _expected_costs(
        table, n_cases, resident, severity, kind, home, signed, trust, start_line, start_line_paid, fund_paid
    )
    value.ravel()[pending] = transform(oop, severity[pending // value.shape[1]])
    return ExpectedCosts(value, *attributes)


def chain_start_line(
    start_line: np.ndarray, paid_in_chain: np.ndarray, in_chain: np.ndarray, cumulative: bool
) -> np.ndarray:
    """Start-line of an admission that may continue a referral chain (转诊累计计算起付线).

    [yangjiang-consortia-2017] 五(三): "在医联体内按规定转诊的病人按照连续的诊疗过程累计计算起付线".

    Under the cumulative rule an admission continuing a chain inside the same consortium is charged
    only the part of its start-line not already paid along the chain, so the chain as a whole pays
    one start-line: that of the highest level it reached.

    Args:
        start_line: This admission's own start-line (by level and scheme).
        paid_in_chain: Start-line already paid by earlier stays of the chain.
        in_chain: The admission continues a chain begun in the same consortium.
        cumulative: Whether the cumulative rule is in force.

    Returns:
        The start-line charged on this admission.
    """
    if not cumulative:
        return start_line
    return np.where(in_chain, np.maximum(0.0, start_line - paid_in_chain), start_line)


@dataclass
class Fund:
    """The insurance fund's ledger (医保基金), in yuan, for the current year and cumulatively."""

    income: float = 0.0
    spending: float = 0.0
    balance: float = 0.0

    def collect(self, amount: float) -> None:
        """Add a year's contributions."""
        self.income += amount
        self.balance += amount

    def pay(self, amount: float) -> None:
        """Pay claims or settlements."""
        self.spending += amount
        self.balance -= amount

    def close_year(self) -> None:
        """Start a new year's income and spending (the balance carries over)."""
        self.income = 0.0
        self.spending = 0.0
