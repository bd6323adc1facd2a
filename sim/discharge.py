"""discharge: stays that end today, their bills, transfers up and down-referrals.

Step 2 of a day (`CareModel._discharge`) in one compiled call: the beds whose stay ends today are
found, each stay is billed (fee-for-service, per case or per-diem) and split between fund and
patient, the case mix and the day's by-tier records are added up, stays cut short by a transfer up
become admission requests at a higher tier, and discharged patients referred down (下转) to their
health centre are billed their follow-up visit. At city-district sizes a day has a handful of
discharges, and the same work as numpy calls cost dozens of calls' overhead each day.

The numpy twin `_discharges_numpy` is the same phase as whole-array numpy calls; the kernel
repeats its arithmetic operation for operation (see `sim.accel`).
"""

from __future__ import annotations

import numpy as np

from sim import care, insurance, payment, rng
from sim.accel import helper, kernel
from sim.arrays import row_sums
from sim.metrics import BY_TIER_FIELDS
from sim.parameters.illness import FOLLOW_UP, SEVERITIES
from sim.rules import is_capitated, is_primary

_N_SEVERITIES = len(SEVERITIES)
_MOST_SEVERE = len(SEVERITIES) - 1
_DISCHARGES, _STAY_DAYS, _STAY_BILLS, _VISITS, _VISIT_BILLS = (
    BY_TIER_FIELDS.index(name) for name in ("discharges", "stay_days", "stay_bills", "visits", "visit_bills")
)
"""Rows of `DayRecord.by_tier` the phase adds to."""

_split_claims = helper(insurance._split_claims.loop)
_outpatient_batches = helper(insurance._outpatient_batches.loop)


def transfer_targets(
    cell: np.ndarray,
    severity: np.ndarray,
    origin_tier: np.ndarray,
    cell_candidates: np.ndarray,
    candidate_tier: np.ndarray,
    candidate_preference: np.ndarray,
    inpatient_capability: np.ndarray,
    referral_inpatient: np.ndarray,
) -> np.ndarray:
    """Where patients transferred up (上转) ask for a bed: the preferred higher-tier candidate able to admit them.

    Args:
        cell: Home cell of each patient.
        severity: Severity at the higher tier (one level more than in the first ward).
        origin_tier: Tier of the ward they leave.
        cell_candidates: (cells, K) candidate facilities of each cell (−1: none).
        candidate_tier: (cells, K) their tiers.
        candidate_preference: (cells, K) referral order (lower is preferred).
        inpatient_capability: Highest severity each facility admits.
        referral_inpatient: (cells, severities) where each cell's patients are referred up to otherwise.

    Returns:
        Facility per patient (−1: nowhere to go).
    """
    cand = cell_candidates.take(cell, axis=0)
    higher = (
        (cand >= 0)
        & (candidate_tier.take(cell, axis=0) > origin_tier[:, None])
        & (inpatient_capability[np.maximum(cand, 0)] >= severity[:, None])
    )
    target = care.preferred(cand, candidate_preference.take(cell, axis=0), higher)
    return np.where(target >= 0, target, referral_inpatient[cell, severity])


def _discharges_numpy(
    day: int,
    free_bed: int,
    discharge_day: np.ndarray,
    slot_facility: np.ndarray,
    slot_resident: np.ndarray,
    slot_severity: np.ndarray,
    slot_key: np.ndarray,
    slot_stay: np.ndarray,
    slot_intensity: np.ndarray,
    slot_referred: np.ndarray,
    slot_transfer: np.ndarray,
    slot_chain_consortium: np.ndarray,
    slot_chain_paid: np.ndarray,
    facility_tier: np.ndarray,
    facility_consortium: np.ndarray,
    component_volume: np.ndarray,
    down_willingness: np.ndarray,
    inpatient_capability: np.ndarray,
    hypertension: np.ndarray,
    diabetes: np.ndarray,
    scheme: np.ndarray,
    signed: np.ndarray,
    resident_cell: np.ndarray,
    cell_candidates: np.ndarray,
    candidate_tier: np.ndarray,
    candidate_preference: np.ndarray,
    referral_inpatient: np.ndarray,
    cell_consortium: np.ndarray,
    price_per_day: np.ndarray,
    severity_factor: np.ndarray,
    drug_share: np.ndarray,
    test_share: np.ndarray,
    price_multiplier: np.ndarray,
    inflation: float,
    case_price: np.ndarray,
    per_diem_rate: np.ndarray,
    tier_level: np.ndarray,
    inpatient_start_line: np.ndarray,
    inpatient_cap: np.ndarray,
    inpatient_rates: np.ndarray,
    cumulative_start_line: bool,
    case_bills: np.ndarray,
    case_counts: np.ndarray,
    down_probability: np.ndarray,
    down_word: np.uint64,
    transfer_word: np.uint64,
    visit_components: np.ndarray,
    visit_bills: np.ndarray,
    outpatient_rates: np.ndarray,
    outpatient_start_line: np.ndarray,
    outpatient_cap: np.ndarray,
    waive_start_line: bool,
    capitation: bool,
    annual_paid: np.ndarray,
    by_tier: np.ndarray,
    flows: np.ndarray,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    out = np.flatnonzero(discharge_day == day)
    start_line_paid_so_far, fund_paid_so_far, ip_fund_paid = annual_paid.T
    n_tiers = by_tier.shape[1]
    facility = slot_facility[out]
    tier = facility_tier[facility]
    resident = slot_resident[out]
    severity = slot_severity[out]
    stay = slot_stay[out]
    transfer = slot_transfer[out]

    # The bill: item by item, per case (DRG) for a stay that ends here, per-diem for chronic patients.
    bill = payment.stay_bills(price_per_day, severity_factor, tier, severity, stay, slot_intensity[out], inflation)
    fixed = np.zeros(bill.size, dtype=bool)
    if case_price.size:
        bill = np.where(transfer, bill, case_price[tier, severity] * inflation)
        fixed |= ~transfer
    if per_diem_rate.size:
        per_diem = (hypertension[resident] | diabetes[resident]) & (per_diem_rate[tier] > 0)
        bill = np.where(per_diem, per_diem_rate[tier] * stay * inflation, bill)
        fixed |= per_diem
    baseline = payment.split_by_shares(bill, tier, drug_share, test_share)
    components = baseline * component_volume.take(facility, axis=0) * price_multiplier[None, :]
    # Per-case and per-diem payments are the amounts paid, whatever the components.
    components[fixed] = baseline[fixed]
    bill = row_sums(components)

    their_scheme = scheme[resident]
    start_line = inpatient_start_line[their_scheme, tier_level[tier]]
    in_chain = slot_chain_consortium[out] == facility_consortium[facility]
    start_line = insurance.chain_start_line(start_line, slot_chain_paid[out], in_chain, cumulative_start_line)
    fund, oop, _ = insurance.split_claims(
        bill,
        resident,
        insurance.claim_rates(inpatient_rates, their_scheme, tier, slot_referred[out], signed[resident]),
        np.zeros(bill.size),
        start_line,
        np.maximum(0.0, inpatient_cap[their_scheme] - ip_fund_paid[resident]),
    )
    np.add.at(ip_fund_paid, resident, fund)

    # Case mix and the day's records of stays that end here (the others continue higher up).
    ended = ~transfer
    ended_tier, ended_severity, ended_bill = tier[ended], severity[ended], bill[ended]
    np.add.at(case_bills, (ended_tier, ended_severity), ended_bill / inflation)  # group prices are in year-0 yuan
    np.add.at(case_counts, (ended_tier, ended_severity), 1)
    by_tier[_DISCHARGES] += np.bincount(ended_tier, minlength=n_tiers)
    by_tier[_STAY_DAYS] += np.bincount(ended_tier, weights=stay[ended].astype(np.float64), minlength=n_tiers)
    by_tier[_STAY_BILLS] += np.bincount(ended_tier, weights=ended_bill, minlength=n_tiers)
    start_line_paid = np.minimum(bill, start_line)
    stays = (np.stack([facility, tier]), components, np.stack([bill, fund, oop, start_line_paid]), fixed)

    # Transfers up ask for a bed at a higher tier, one level more severe.
    up = out[transfer]
    origin = slot_facility[up]
    up_resident = slot_resident[up]
    up_severity = np.minimum(slot_severity[up] + 1, _MOST_SEVERE)
    target = transfer_targets(
        resident_cell[up_resident], up_severity, facility_tier[origin], cell_candidates, candidate_tier,
        candidate_preference, inpatient_capability, referral_inpatient,
    )  # fmt: skip
    routed = target >= 0
    flows += np.bincount(
        facility_tier[origin[routed]] * n_tiers + facility_tier[target[routed]], minlength=n_tiers * n_tiers
    ).reshape(n_tiers, n_tiers)
    transfers = (
        np.stack([up_resident, target, up_severity, facility_consortium[origin]]),
        rng.bits_after(transfer_word, slot_key[up]),
        is_primary(facility_tier[origin]),
        slot_chain_paid[up] + start_line_paid[transfer],
    )
    discharge_day[out] = free_bed

    # Discharged patients referred down (下转) by a draw keyed by the episode; a follow-up visit at their centre.
    ended_slots = out[ended]
    p_down = down_probability[ended_tier] * down_willingness[facility[ended]]
    down = rng.uniform_after(down_word, slot_key[ended_slots]) < p_down
    who = slot_resident[ended_slots[down]]
    centre = cell_candidates[resident_cell[who], 1]
    centre_tier = facility_tier[centre]
    flows += np.bincount(ended_tier[down] * n_tiers + centre_tier, minlength=n_tiers * n_tiers).reshape(
        n_tiers, n_tiers
    )
    visit = centre * _N_SEVERITIES * 2 + FOLLOW_UP  # a follow-up visit of severity 0
    visit_bill = visit_bills[visit]
    visit_fund, visit_oop = insurance.settle_outpatient_batches(
        visit_bill,
        who,
        centre_tier,
        np.ones(who.size, bool),
        scheme=scheme[who],
        signed=signed[who],
        rates=outpatient_rates,
        start_line=outpatient_start_line,
        cap=outpatient_cap,
        waive_start_line=np.full(who.size, waive_start_line),
        ends=np.array([who.size], dtype=np.int64),
        start_line_paid=start_line_paid_so_far,
        fund_paid=fund_paid_so_far,
    )
    # Capitation (按人头): the fund's share of a signed resident's visit to their own consortium's
    # primary care is already paid per head, so the facility is not paid it again per visit.
    capitated = capitation & is_capitated(
        signed[who], centre_tier, facility_consortium[centre], cell_consortium[resident_cell[who]]
    )
    visit_fund = np.where(capitated, 0.0, visit_fund)
    if who.size:
        by_tier[_VISITS] += np.bincount(centre_tier, minlength=n_tiers)
        by_tier[_VISIT_BILLS] += np.bincount(centre_tier, weights=visit_bill, minlength=n_tiers)
    visits = (
        np.stack([slot_facility[ended_slots[down]], centre, centre_tier]),
        visit_components.take(visit, axis=0),
        np.stack([visit_bill, visit_fund, visit_oop]),
        capitated,
    )
    return stays, transfers, visits


@kernel(_discharges_numpy)
def discharges(
    day: int,
    free_bed: int,
    discharge_day: np.ndarray,
    slot_facility: np.ndarray,
    slot_resident: np.ndarray,
    slot_severity: np.ndarray,
    slot_key: np.ndarray,
    slot_stay: np.ndarray,
    slot_intensity: np.ndarray,
    slot_referred: np.ndarray,
    slot_transfer: np.ndarray,
    slot_chain_consortium: np.ndarray,
    slot_chain_paid: np.ndarray,
    facility_tier: np.ndarray,
    facility_consortium: np.ndarray,
    component_volume: np.ndarray,
    down_willingness: np.ndarray,
    inpatient_capability: np.ndarray,
    hypertension: np.ndarray,
    diabetes: np.ndarray,
    scheme: np.ndarray,
    signed: np.ndarray,
    resident_cell: np.ndarray,
    cell_candidates: np.ndarray,
    candidate_tier: np.ndarray,
    candidate_preference: np.ndarray,
    referral_inpatient: np.ndarray,
    cell_consortium: np.ndarray,
    price_per_day: np.ndarray,
    severity_factor: np.ndarray,
    drug_share: np.ndarray,
    test_share: np.ndarray,
    price_multiplier: np.ndarray,
    inflation: float,
    case_price: np.ndarray,
    per_diem_rate: np.ndarray,
    tier_level: np.ndarray,
    inpatient_start_line: np.ndarray,
    inpatient_cap: np.ndarray,
    inpatient_rates: np.ndarray,
    cumulative_start_line: bool,
    case_bills: np.ndarray,
    case_counts: np.ndarray,
    down_probability: np.ndarray,
    down_word: np.uint64,
    transfer_word: np.uint64,
    visit_components: np.ndarray,
    visit_bills: np.ndarray,
    outpatient_rates: np.ndarray,
    outpatient_start_line: np.ndarray,
    outpatient_cap: np.ndarray,
    waive_start_line: bool,
    capitation: bool,
    annual_paid: np.ndarray,
    by_tier: np.ndarray,
    flows: np.ndarray,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The day's discharges: bills of the stays that end today, transfers up, down-referrals and their visits.

    Stays are taken in bed-slot order and their bills split as one batch (`insurance.split_claims`,
    inpatient caps left as of the batch start); the follow-up visits of patients referred down are
    one outpatient batch after them (`insurance.settle_outpatient_batches`).

    Args:
        day: Today.
        free_bed: `discharge_day` of a free bed (the freed beds are set to it).
        discharge_day: Per bed slot, the day its stay ends.
        slot_facility: Per slot, its facility.
        slot_resident: Per slot, its patient.
        slot_severity: Per slot, the stay's severity.
        slot_key: Per slot, the episode's key (keyed draws).
        slot_stay: Per slot, days of the stay.
        slot_intensity: Per slot, the facility's service intensity at admission.
        slot_referred: Per slot, the admission was referred.
        slot_transfer: Per slot, the stay ends in a transfer up.
        slot_chain_consortium: Per slot, consortium where the referral chain began.
        slot_chain_paid: Per slot, inpatient start-line paid along the chain before this stay.
        facility_tier: Per facility, its tier.
        facility_consortium: Per facility, its consortium.
        component_volume: (F, 3) per facility, volumes of service, drugs and tests.
        down_willingness: Per facility, its willingness to refer down.
        inpatient_capability: Per facility, the highest severity it admits.
        hypertension: Per resident.
        diabetes: Per resident.
        scheme: Per resident, insurance scheme.
        signed: Per resident, signed with a family doctor.
        resident_cell: Per resident, home cell.
        cell_candidates: (cells, K) candidate facilities of each cell (−1: none).
        candidate_tier: (cells, K) their tiers.
        candidate_preference: (cells, K) their referral order (lower is preferred).
        referral_inpatient: (cells, severities) where a cell's patients are referred up to otherwise.
        cell_consortium: Per cell, home consortium.
        price_per_day: Inpatient price per day by tier.
        severity_factor: Inpatient price factor by severity.
        drug_share: Baseline drug share of an inpatient bill by tier.
        test_share: Baseline test share of an inpatient bill by tier.
        price_multiplier: Price change of each component.
        inflation: This year's price level, `(1 + price_inflation) ** year` (group prices are kept in
            year-0 yuan).
        case_price: (tiers, severities) per-case prices in year-0 yuan; empty where not in force.
        per_diem_rate: Per-diem rate of chronic patients by tier (0: none); empty where not in force.
        tier_level: Insurance level of each tier.
        inpatient_start_line: (schemes, levels) inpatient start-line.
        inpatient_cap: Annual inpatient fund cap by scheme.
        inpatient_rates: Inpatient reimbursement rates (`claim_rate_table`).
        cumulative_start_line: The chain start-line rule is in force (`insurance.chain_start_line`).
        case_bills: (tiers, severities) bills of stays that ended, in year-0 yuan (updated in place).
        case_counts: (tiers, severities) stays that ended (updated in place).
        down_probability: Down-referral probability by tier.
        down_word: `rng.stream_key` of "care.down_referral".
        transfer_word: `rng.stream_key` of "care.transfer_key".
        visit_components: Visit bill components by (facility, severity, kind), as `_year_tables` makes them.
        visit_bills: Their row sums.
        outpatient_rates: Outpatient reimbursement rates (`claim_rate_table`).
        outpatient_start_line: Annual outpatient start-line by scheme.
        outpatient_cap: Annual outpatient fund cap by scheme.
        waive_start_line: Follow-ups after a down-referral are charged no start-line.
        capitation: Capitation is in force (the fund does not pay a signed resident's own primary care).
        annual_paid: (N, 3) per resident: outpatient start-line paid, outpatient and inpatient fund
            paid this year (updated in place).
        by_tier: The day's by-tier records (`DayRecord.by_tier`, updated in place).
        flows: The day's referral flows between tiers (updated in place).

    Returns:
        Arrays of a kind side by side (rows of one array: each returned array costs a microsecond):
        the stays' claims — (facility, tier), (n, 3) components, (bill, fund, out-of-pocket,
        start-line paid), paid a fixed amount; transfer requests — (resident, target facility or
        −1, severity, chain consortium), key, from primary care, start-line paid along the chain;
        follow-up visit claims — (facility referring down, centre, its tier), (n, 3) components,
        (bill, fund, out-of-pocket), capitated. The start-line paid is summed by numpy:
        `arrays.pairwise_sum` is recursive, and numba cannot link a recursive function loaded from
        its cache into a new compilation.
    """
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
    n_tiers = by_tier.shape[1]
    use_case_price, use_per_diem = case_price.size > 0, per_diem_rate.size > 0

    # Each stay's bill and components, start-line, rate and cap left, in slot order.
    stay_ids, stay_amounts = np.empty((2, n), np.int64), np.empty((4, n))
    facility, tier, bill = stay_ids[0], stay_ids[1], stay_amounts[0]
    resident, components, fixed = np.empty(n, np.int64), np.empty((n, 3)), np.zeros(n, np.bool_)
    start_line, rate, cap_left = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        s = out[i]
        fac = slot_facility[s]
        tr = facility_tier[fac]
        who = slot_resident[s]
        sev = slot_severity[s]
        facility[i], tier[i], resident[i] = fac, tr, who
        b = price_per_day[tr] * severity_factor[sev] * slot_stay[s] * slot_intensity[s] * inflation
        if use_case_price and not slot_transfer[s]:
            b = case_price[tr, sev] * inflation
            fixed[i] = True
        if use_per_diem and (hypertension[who] or diabetes[who]) and per_diem_rate[tr] > 0:
            b = per_diem_rate[tr] * slot_stay[s] * inflation
            fixed[i] = True
        drugs, tests = b * drug_share[tr], b * test_share[tr]
        service = b - drugs - tests
        if fixed[i]:
            components[i, 0], components[i, 1], components[i, 2] = service, drugs, tests
        else:
            components[i, 0] = service * component_volume[fac, 0] * price_multiplier[0]
            components[i, 1] = drugs * component_volume[fac, 1] * price_multiplier[1]
            components[i, 2] = tests * component_volume[fac, 2] * price_multiplier[2]
        bill[i] = components[i, 0] + components[i, 1] + components[i, 2]
        their_scheme = np.int64(scheme[who])
        line = inpatient_start_line[their_scheme, tier_level[tr]]
        if cumulative_start_line and slot_chain_consortium[s] == facility_consortium[fac]:
            line = max(0.0, line - slot_chain_paid[s])
        start_line[i] = line
        rate[i] = inpatient_rates[their_scheme, tr, 1 if slot_referred[s] else 0, 1 if signed[who] else 0]
        cap_left[i] = max(0.0, inpatient_cap[their_scheme] - annual_paid[who, 2])
    fund, oop, _ = _split_claims(bill, resident, rate, np.zeros(n), start_line, cap_left)
    for i in range(n):
        annual_paid[resident[i], 2] += fund[i]
        stay_amounts[1, i], stay_amounts[2, i] = fund[i], oop[i]

    # Case mix and the day's records of stays that end here; transfers up, one level more severe.
    ended_sums = np.zeros((3, n_tiers))
    start_line_paid = stay_amounts[3]
    n_up = 0
    for i in range(n):
        start_line_paid[i] = min(bill[i], start_line[i])
        if slot_transfer[out[i]]:
            n_up += 1
            continue
        sev = slot_severity[out[i]]
        case_bills[tier[i], sev] += bill[i] / inflation  # group prices are kept in year-0 yuan
        case_counts[tier[i], sev] += 1.0
        ended_sums[0, tier[i]] += 1.0
        ended_sums[1, tier[i]] += np.float64(slot_stay[out[i]])
        ended_sums[2, tier[i]] += bill[i]
    if n:
        for t in range(n_tiers):
            by_tier[_DISCHARGES, t] += ended_sums[0, t]
            by_tier[_STAY_DAYS, t] += ended_sums[1, t]
            by_tier[_STAY_BILLS, t] += ended_sums[2, t]

    up_ids, up_key, up_primary, up_paid = (
        np.empty((4, n_up), np.int64), np.empty(n_up, np.uint64), np.empty(n_up, np.bool_), np.empty(n_up)
    )  # fmt: skip
    j = 0
    for i in range(n):
        s = out[i]
        if not slot_transfer[s]:
            continue
        who = slot_resident[s]
        sev = min(slot_severity[s] + 1, _MOST_SEVERE)
        cell = resident_cell[who]
        # The preferred higher-tier candidate able to admit them (the first lowest preference, as argmin).
        best, best_score = -1, np.inf
        for k in range(cell_candidates.shape[1]):
            c = cell_candidates[cell, k]
            if c >= 0 and candidate_tier[cell, k] > tier[i] and inpatient_capability[c] >= sev:
                if candidate_preference[cell, k] < best_score:
                    best, best_score = k, candidate_preference[cell, k]
        target = cell_candidates[cell, best] if best >= 0 else referral_inpatient[cell, sev]
        if target >= 0:
            flows[tier[i], facility_tier[target]] += 1.0
        up_ids[0, j], up_ids[1, j], up_ids[2, j], up_ids[3, j] = who, target, sev, facility_consortium[facility[i]]
        up_key[j] = rng.hash_word(transfer_word, slot_key[s])
        up_primary[j] = is_primary(tier[i])
        up_paid[j] = slot_chain_paid[s] + start_line_paid[i]
        j += 1
    for i in range(n):
        discharge_day[out[i]] = free_bed

    # Discharged patients referred down (下转) by a draw keyed by the episode; a follow-up visit at their centre.
    down = np.zeros(n, np.bool_)
    n_down = 0
    for i in range(n):
        s = out[i]
        if not slot_transfer[s]:
            p_down = down_probability[tier[i]] * down_willingness[facility[i]]
            down[i] = rng.unit_float(rng.hash_word(down_word, slot_key[s]), 0.0) < p_down
            n_down += 1 if down[i] else 0
    visit_ids, visit_parts, visit_amounts = (
        np.empty((3, n_down), np.int64),
        np.empty((n_down, 3)),
        np.empty((3, n_down)),
    )
    origin, centre, centre_tier, visit_bill = visit_ids[0], visit_ids[1], visit_ids[2], visit_amounts[0]
    who_down = np.empty(n_down, np.int64)
    scheme_down, signed_down = np.empty(n_down, scheme.dtype), np.empty(n_down, np.bool_)
    j = 0
    for i in range(n):
        if down[i]:
            who = resident[i]
            c = cell_candidates[resident_cell[who], 1]
            origin[j], who_down[j], centre[j], centre_tier[j] = facility[i], who, c, facility_tier[c]
            scheme_down[j], signed_down[j] = scheme[who], signed[who]
            flows[tier[i], facility_tier[c]] += 1.0
            visit = c * _N_SEVERITIES * 2 + FOLLOW_UP  # a follow-up visit of severity 0
            visit_parts[j, 0], visit_parts[j, 1], visit_parts[j, 2] = (
                visit_components[visit, 0], visit_components[visit, 1], visit_components[visit, 2],
            )  # fmt: skip
            visit_bill[j] = visit_bills[visit]
            j += 1
    visit_fund, visit_oop = _outpatient_batches(
        visit_bill, who_down, centre_tier, np.ones(n_down, np.bool_), scheme_down, signed_down, outpatient_rates,
        outpatient_start_line, outpatient_cap, np.full(n_down, waive_start_line), np.full(1, n_down),
        annual_paid[:, 0], annual_paid[:, 1], np.zeros(0),
    )  # fmt: skip
    # Capitation (按人头): the fund's share of a signed resident's visit to their own consortium's
    # primary care is already paid per head, so the facility is not paid it again per visit.
    capitated = np.zeros(n_down, np.bool_)
    visit_sums = np.zeros((2, n_tiers))
    for j in range(n_down):
        who = who_down[j]
        capitated[j] = capitation and is_capitated(
            signed_down[j], centre_tier[j], facility_consortium[centre[j]], cell_consortium[resident_cell[who]]
        )
        visit_amounts[1, j] = 0.0 if capitated[j] else visit_fund[j]
        visit_amounts[2, j] = visit_oop[j]
        visit_sums[0, centre_tier[j]] += 1.0
        visit_sums[1, centre_tier[j]] += visit_bill[j]
    if n_down:
        for t in range(n_tiers):
            by_tier[_VISITS, t] += visit_sums[0, t]
            by_tier[_VISIT_BILLS, t] += visit_sums[1, t]
    return (
        (stay_ids, components, stay_amounts, fixed),
        (up_ids, up_key, up_primary, up_paid),
        (visit_ids, visit_parts, visit_amounts, capitated),
    )
