"""discharge: stays that end today, their bills, transfers up and down-referrals.

Step 2 of a day (`CareModel._discharge`) in one compiled call: the beds whose stay ends today are
found, each stay is billed (fee-for-service, per case or per-diem) and split between fund and
patient, the case mix and the day's by-tier records are added up, stays cut short by a transfer up
become admission requests at a higher tier, and discharged patients referred down (下转) to their
health centre are billed their follow-up visit. At city-district sizes a day has a handful of
discharges, and the same work as numpy calls cost dozens of calls' overhead each day.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import care, insurance, places, rng
from sim.accel import helper, kernel
from sim.metrics import BY_TIER_FIELDS
from sim.parameters.illness import FOLLOW_UP, SEVERITIES
from sim.parameters.prices import COMPONENTS
from sim.rules import (
    coded_severity,
    covered_rate,
    is_capitated,
    is_primary,
    recognised_tests,
    visit_bill,
    visit_row,
)
from sim.state import (
    FREE_BED,
    INPATIENT_CASE,
    INPATIENT_DAY,
    INPATIENT_ITEM,
    OUTPATIENT_HEAD,
    OUTPATIENT_ITEM,
    Accounts,
    Cells,
    Claims,
    DayTotals,
    Facilities,
    Requests,
    Residents,
    Streams,
    Wards,
    YearTables,
)

N_COMPONENTS = len(COMPONENTS)
_TESTS = COMPONENTS.index("tests")

_MOST_SEVERE = len(SEVERITIES) - 1
_DISCHARGES, _STAY_DAYS, _STAY_BILLS, _STAY_OOP, _VISITS, _VISIT_BILLS, _CASE_WEIGHTS = (
    BY_TIER_FIELDS.index(name)
    for name in ("discharges", "stay_days", "stay_bills", "stay_oop", "visits", "visit_bills", "case_weights")
)
"""Rows of `DayRecord.by_tier` the phase adds to."""

_split_claims = helper(insurance._split_claims.loop)
_outpatient_batches = helper(insurance._outpatient_batches.loop)


@helper
def transfer_target(cell: int, severity: int, origin_tier: int, cells: Cells, inpatient_capability: np.ndarray) -> int:
    """Where a patient transferred up (上转) asks for a bed: the preferred higher-tier candidate able to admit them.

    The first candidate of lowest referral preference (as argmin) of a higher tier than the ward left,
    admitting `severity` (the severity at the higher tier); else where the cell's patients are
    referred up to; −1: nowhere to go.
    """
    best = care.ward_above(cells, cell, origin_tier, inpatient_capability, severity)
    return best if best >= 0 else cells.referral_inpatient[cell, severity]


class Stays(NamedTuple):
    """The stays that end today, in bed-slot order.

    Attributes:
        claims: Their claims, one billing batch (`basis`: item by item, per case or per day).
        start_line_paid: Inpatient start-line the patient paid on each stay.
        group: Severity group each stay is coded in: its own, or one higher where upcoded (per case).
    """

    claims: Claims
    start_line_paid: np.ndarray
    group: np.ndarray


class DownReferrals(NamedTuple):
    """Discharged patients referred down (下转) and their follow-up visits at their health centre.

    Attributes:
        origin: Hospital referring each patient down.
        visits: The follow-up visits as claims, one batch (`basis`: item by item or per head).
    """

    origin: np.ndarray
    visits: Claims


class Discharges(NamedTuple):
    """What a day's discharges did (`discharges`).

    Attributes:
        stays: The stays that end today, as claims.
        transfers: Transfers up (上转) as admission requests at a higher tier (facility −1: nowhere to go).
        down: Patients referred down, and their visits.
    """

    stays: Stays
    transfers: Requests
    down: DownReferrals


@helper
def _ending_today(day: int, discharge_day: np.ndarray) -> np.ndarray:
    """Bed slots whose stay ends today, in slot order."""
    n = 0
    for s in range(discharge_day.size):
        if discharge_day[s] == day:
            n += 1
    out = np.empty(n, np.int64)
    n = 0
    for s in range(discharge_day.size):
        if discharge_day[s] == day:
            out[n] = s
            n += 1
    return out


@helper
def _bill_stays(
    out: np.ndarray,
    wards: Wards,
    residents: Residents,
    facilities: Facilities,
    tables: YearTables,
    annual_paid: np.ndarray,
    upcoding_word: np.uint64,
) -> Stays:
    """Each stay's bill and components, split between fund and patient as one batch (`insurance.split_claims`).

    A stay paid per case is paid its coded group's price (`rules.coded_severity`, by a draw keyed by
    the episode); what upcoding adds is counted per facility. A referred stay at a hospital billed
    item by item repeats only part of its tests where results are recognised (`rules.recognised_tests`).
    Inpatient caps are as of the batch start; the fund's part is added to the residents' accounts.
    """
    n = out.size
    group = np.empty(n, np.int64)
    facility, tier, resident = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    home = np.empty(n, np.int64)
    bill, components, basis = np.empty(n), np.empty((n, N_COMPONENTS)), np.full(n, INPATIENT_ITEM, np.int8)
    start_line, rate, cap_left = np.empty(n), np.empty(n), np.empty(n)
    level = tables.price_level
    use_case_price, use_per_diem = tables.case_price.size > 0, tables.per_diem_rate.size > 0
    for i in range(n):
        s = out[i]
        fac = wards.facility[s]
        tr = facilities.tier[fac]
        who = wards.resident[s]
        sev = wards.severity[s]
        facility[i], tier[i], resident[i], group[i], home[i] = fac, tr, who, sev, residents.cell[who]
        b = (
            tables.inpatient_price_per_day[tr] * tables.severity_price_factor[sev] * wards.stay[s]
            * wards.intensity[s] * level
        )  # fmt: skip
        coded = sev
        if use_case_price and not wards.transfer[s]:
            share = facilities.upcoding_share[fac]
            draw = rng.keyed_unit_float(upcoding_word, wards.key[s], 0.0) if share > 0 else 1.0
            coded = coded_severity(sev, share, draw)
            b = tables.case_price[tr, coded] * level
            basis[i] = INPATIENT_CASE
        if use_per_diem and (residents.hypertension[who] or residents.diabetes[who]) and tables.per_diem_rate[tr] > 0:
            b = tables.per_diem_rate[tr] * wards.stay[s] * level
            basis[i] = INPATIENT_DAY
        if basis[i] == INPATIENT_CASE and coded != sev:
            group[i] = coded
            facilities.upcoded[fac] += b - tables.case_price[tr, sev] * level
        # As `payment.split_by_shares`: drugs and consumables split from their sum.
        both = b * tables.drugs_and_consumables_share_inpatient[tr]
        drugs, tests = b * tables.drug_share_inpatient[tr], b * tables.test_share_inpatient[tr]
        parts = (b - both - tests, drugs, both - drugs, tests)
        for c in range(N_COMPONENTS):
            if basis[i] != INPATIENT_ITEM:  # per-case and per-diem payments are the amounts paid
                components[i, c] = parts[c]
            else:
                components[i, c] = parts[c] * facilities.inpatient_volume[fac, c] * tables.price_multiplier[c]
        if basis[i] == INPATIENT_ITEM and tables.tests_avoided > 0 and wards.referred[s] and not is_primary(tr):
            components[i, _TESTS] = recognised_tests(components[i, _TESTS], tables.tests_avoided)
        bill[i] = visit_bill(components[i])
        their_scheme = np.int64(residents.scheme[who])
        line = tables.inpatient_start_line[their_scheme, tables.tier_level[tr]]
        if tables.chain_start_line and wards.chain_consortium[s] == facilities.consortium[fac]:
            line = max(0.0, line - wards.chain_paid[s])
        start_line[i] = line
        referred, signed = 1 if wards.referred[s] else 0, 1 if residents.signed[who] else 0
        rate[i] = covered_rate(
            tables.inpatient_rates[their_scheme, tr, referred, signed], facilities.self_paid_share[fac]
        )
        cap_left[i] = max(0.0, tables.inpatient_cap[their_scheme] - annual_paid[who, 2])
    fund, oop, _ = _split_claims(bill, resident, rate, np.zeros(n), start_line, cap_left)
    start_line_paid = np.empty(n)
    for i in range(n):
        annual_paid[resident[i], 2] += fund[i]
        start_line_paid[i] = min(bill[i], start_line[i])
    claims = Claims(facility, tier, components, bill, fund, oop, basis, np.full(1, n), home)
    return Stays(claims, start_line_paid, group)


@helper
def _count_ended(
    out: np.ndarray, stays: Stays, wards: Wards, tables: YearTables, accounts: Accounts, by_tier: np.ndarray
) -> None:
    """The case mix and the day's records of the stays that end here (not in a transfer up).

    The day's case weights are those of the groups the stays are coded in (`YearTables.case_weight`).
    """
    n, n_tiers, level = out.size, by_tier.shape[1], tables.price_level
    ended_sums = np.zeros((5, n_tiers))
    for i in range(n):
        if wards.transfer[out[i]]:
            continue
        sev, tier, bill = wards.severity[out[i]], stays.claims.tier[i], stays.claims.bill[i]
        accounts.case_bills[tier, sev] += bill / level  # group prices are kept in year-0 yuan
        accounts.case_counts[tier, sev] += 1.0
        ended_sums[0, tier] += 1.0
        ended_sums[1, tier] += np.float64(wards.stay[out[i]])
        ended_sums[2, tier] += bill
        ended_sums[3, tier] += stays.claims.oop[i]
        ended_sums[4, tier] += tables.case_weight[stays.group[i]]
    if n:
        for t in range(n_tiers):
            by_tier[_DISCHARGES, t] += ended_sums[0, t]
            by_tier[_STAY_DAYS, t] += ended_sums[1, t]
            by_tier[_STAY_BILLS, t] += ended_sums[2, t]
            by_tier[_STAY_OOP, t] += ended_sums[3, t]
            by_tier[_CASE_WEIGHTS, t] += ended_sums[4, t]


@helper
def _transfers_up(
    day: int,
    out: np.ndarray,
    stays: Stays,
    wards: Wards,
    residents: Residents,
    facilities: Facilities,
    cells: Cells,
    transfer_word: np.uint64,
    totals: DayTotals,
) -> Requests:
    """Stays cut short by a transfer up ask for a bed at the preferred higher tier, one level more severe."""
    flows, by_facility = totals.flows, totals.by_facility
    n_up = 0
    for i in range(out.size):
        if wards.transfer[out[i]]:
            n_up += 1
    resident, target, severity = np.empty(n_up, np.int64), np.empty(n_up, np.int64), np.empty(n_up, np.int64)
    chain_consortium, key = np.empty(n_up, np.int64), np.empty(n_up, np.uint64)
    from_primary, chain_paid = np.empty(n_up, np.bool_), np.empty(n_up)
    j = 0
    for i in range(out.size):
        s = out[i]
        if not wards.transfer[s]:
            continue
        who = wards.resident[s]
        sev = min(wards.severity[s] + 1, _MOST_SEVERE)
        cell = residents.cell[who]
        goes_to = transfer_target(cell, sev, stays.claims.tier[i], cells, facilities.inpatient_capability)
        if goes_to >= 0:
            flows[stays.claims.tier[i], facilities.tier[goes_to]] += 1.0
            by_facility[places.REFERRALS_OUT, stays.claims.facility[i]] += 1.0
            by_facility[places.REFERRALS_IN, goes_to] += 1.0
        resident[j], target[j], severity[j] = who, goes_to, sev
        chain_consortium[j] = facilities.consortium[stays.claims.facility[i]]
        key[j] = rng.hash_word(transfer_word, wards.key[s])
        from_primary[j] = is_primary(stays.claims.tier[i])
        chain_paid[j] = wards.chain_paid[s] + stays.start_line_paid[i]
        j += 1
    since, referred = np.full(n_up, day, np.int64), np.ones(n_up, np.bool_)
    return Requests(resident, target, severity, key, since, referred, from_primary, chain_consortium, chain_paid)


@helper
def _refer_down(
    out: np.ndarray,
    stays: Stays,
    wards: Wards,
    residents: Residents,
    facilities: Facilities,
    cells: Cells,
    tables: YearTables,
    down_word: np.uint64,
    annual_paid: np.ndarray,
    totals: DayTotals,
) -> DownReferrals:
    """Discharged patients referred down (下转) by a draw keyed by the episode; a follow-up visit at their centre."""
    n, n_tiers, flows = out.size, totals.by_tier.shape[1], totals.flows
    down = np.zeros(n, np.bool_)
    n_down = 0
    for i in range(n):
        s = out[i]
        if not wards.transfer[s]:
            p_down = (
                tables.down_referral_probability[stays.claims.tier[i]]
                * facilities.down_referral_willingness[stays.claims.facility[i]]
            )
            down[i] = rng.keyed_unit_float(down_word, wards.key[s], 0.0) < p_down
            n_down += 1 if down[i] else 0
    origin, centre, centre_tier = np.empty(n_down, np.int64), np.empty(n_down, np.int64), np.empty(n_down, np.int64)
    components, bill = np.empty((n_down, N_COMPONENTS)), np.empty(n_down)
    who_down = np.empty(n_down, np.int64)
    scheme_down, signed_down = np.empty(n_down, residents.scheme.dtype), np.empty(n_down, np.bool_)
    j = 0
    for i in range(n):
        if down[i]:
            who = wards.resident[out[i]]
            c = cells.candidates[residents.cell[who], 1]
            origin[j], who_down[j], centre[j], centre_tier[j] = stays.claims.facility[i], who, c, facilities.tier[c]
            scheme_down[j], signed_down[j] = residents.scheme[who], residents.signed[who]
            flows[stays.claims.tier[i], facilities.tier[c]] += 1.0
            totals.by_facility[places.REFERRALS_OUT, origin[j]] += 1.0
            totals.by_facility[places.REFERRALS_IN, c] += 1.0
            visit = visit_row(c, 0, FOLLOW_UP)  # a follow-up visit of severity 0
            for part in range(N_COMPONENTS):
                components[j, part] = tables.visit_components[visit, part]
            bill[j] = tables.visit_bills[visit]
            j += 1
    claims = insurance.OutpatientClaims(
        bill, who_down, centre_tier, np.ones(n_down, np.bool_), scheme_down, signed_down,
        np.full(n_down, tables.waive_start_line),
    )  # fmt: skip
    ends = np.full(1, n_down)
    fund, oop = _outpatient_batches(
        claims, tables.outpatient_rates, tables.outpatient_start_line, tables.outpatient_cap, ends,
        annual_paid[:, 0], annual_paid[:, 1], np.zeros(0), np.zeros(0),
    )  # fmt: skip
    # Capitation (按人头): the fund's share of a signed resident's visit to their own consortium's
    # primary care is already paid per head, so the facility is not paid it again per visit.
    basis = np.full(n_down, OUTPATIENT_ITEM, np.int8)
    visit_sums = np.zeros((2, n_tiers))
    for j in range(n_down):
        if tables.capitation and is_capitated(
            signed_down[j],
            centre_tier[j],
            facilities.consortium[centre[j]],
            cells.consortium[residents.cell[who_down[j]]],
        ):
            basis[j] = OUTPATIENT_HEAD
            fund[j] = 0.0
        visit_sums[0, centre_tier[j]] += 1.0
        visit_sums[1, centre_tier[j]] += bill[j]
    if n_down:
        for t in range(n_tiers):
            totals.by_tier[_VISITS, t] += visit_sums[0, t]
            totals.by_tier[_VISIT_BILLS, t] += visit_sums[1, t]
    home = np.empty(n_down, np.int64)
    for j in range(n_down):
        home[j] = residents.cell[who_down[j]]
    return DownReferrals(origin, Claims(centre, centre_tier, components, bill, fund, oop, basis, ends, home))


@kernel
def discharges(
    day: int,
    wards: Wards,
    residents: Residents,
    facilities: Facilities,
    cells: Cells,
    tables: YearTables,
    accounts: Accounts,
    streams: Streams,
    totals: DayTotals,
) -> Discharges:
    """The day's discharges: bills of the stays that end today, transfers up, down-referrals and their visits.

    Stays are taken in bed-slot order and their bills split as one batch (`insurance.split_claims`,
    inpatient caps left as of the batch start); the follow-up visits of patients referred down are
    one outpatient batch after them (`insurance.settle_outpatient_batches`). The beds are freed.

    Args:
        day: Today.
        wards: The bed slots (the freed beds are written in place).
        residents: The residents (conditions, scheme, signing, home cell).
        facilities: The facilities (tier, consortium, volumes, willingness to refer down, capability, upcoding
            share; what upcoding added is written in place).
        cells: Each cell's candidates and referral targets.
        tables: This year's prices and insurance rules.
        accounts: The residents' annual accounts and the case mix (updated in place).
        streams: Keys of the down-referral, transfer and coding draws.
        totals: The day's sums, added to in place.
    """
    out = _ending_today(day, wards.discharge_day)
    stays = _bill_stays(out, wards, residents, facilities, tables, accounts.annual_paid, streams.upcoding)
    _count_ended(out, stays, wards, tables, accounts, totals.by_tier)
    transfers = _transfers_up(day, out, stays, wards, residents, facilities, cells, streams.transfer_key, totals)
    for i in range(out.size):
        wards.discharge_day[out[i]] = FREE_BED
    down = _refer_down(
        out, stays, wards, residents, facilities, cells, tables, streams.down_referral, accounts.annual_paid, totals
    )
    return Discharges(stays, transfers, down)
