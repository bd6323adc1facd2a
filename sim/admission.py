"""Admission: waiting lists, bed allocation and the stays begun (step 4 of a day), in two compiled kernels.

A day's admissions are a few dozen requests at city-district sizes, and were some sixty numpy calls
(queue, allocation, beds taken, records, learning): `admit` does them in one kernel. A stay's length
is lognormal, and kernels may not call `log`/`exp` (see `accel`), so `admit` leaves each admission's
mean stay and keyed uniform draw; `begin_stays` turns them into days in numpy and writes the stays'
ends in a second kernel, then keeps the reserved beds' idle days.

Requests and wards are passed as tuples of their arrays (`REQUEST_FIELDS`, `WARD_FIELDS`), so the
kernels take dataclass fields without Python objects.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import care, illness, rng
from sim.accel import helper, kernel
from sim.metrics import by_tier_rows
from sim.rng import hash_word, unit_float

REQUEST_FIELDS = (
    "resident",
    "facility",
    "severity",
    "key",
    "since",
    "referred",
    "from_primary",
    "chain_consortium",
    "chain_paid",
)
"""An admission request's arrays, in the order the kernels take and return them (`model._Requests`)."""

WARD_FIELDS = (
    "facility",
    "discharge_day",
    "resident",
    "severity",
    "key",
    "stay",
    "intensity",
    "qualified",
    "referred",
    "transfer",
    "chain_consortium",
    "chain_paid",
)
"""The wards' arrays, in the order the kernels take them (`model._Wards`)."""

TRANSFER_STREAM = "care.transfer"
"""Stream of the draws that decide whether a stay ends in a transfer up."""

_RECORDS = (
    "admissions",
    "admission_wait_days",
    "referred_admissions",
    "lead_referral_admissions",
    "lead_referral_wait_days",
)
_RECORD_ROWS = by_tier_rows(*_RECORDS)
"""Rows of `DayRecord.by_tier` that admissions add to, in `_RECORDS` order."""

_allocate = helper(care._admissions.loop)
_learn_waits = helper(care._learn_waits.loop)


class Admitted(NamedTuple):
    """A day's admissions (`admit`): beds taken, stays not yet begun.

    Attributes:
        waiting: The requests still waiting, their arrays in `REQUEST_FIELDS` order.
        slot: Bed of each admission, in allocation order.
        mean_stay: Mean stay of each admission (its tier's, scaled by severity).
        stay_draw: Keyed uniform draw in (0, 1) of each admission's length of stay.
        expected_wait: (F,) expected admission waits, learned from today's admissions.
        unmet: Requests with nowhere to go, or that left a waiting list and found no bed elsewhere.
        chronic: Admissions of chronic patients (hypertension or diabetes).
        county: Admissions of county residents; `county_in_county` those admitted in their own district.
    """

    waiting: tuple[np.ndarray, ...]
    slot: np.ndarray
    mean_stay: np.ndarray
    stay_draw: np.ndarray
    expected_wait: np.ndarray
    unmet: int
    chronic: int
    county: int
    county_in_county: int


def _admit_numpy(
    waiting: tuple[np.ndarray, ...],
    transfers: tuple[np.ndarray, ...],
    new: tuple[np.ndarray, ...],
    day: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    home_cell: np.ndarray,
    signed: np.ndarray,
    hypertension: np.ndarray,
    diabetes: np.ndarray,
    home_district: np.ndarray,
    cell_lead: np.ndarray,
    signed_only: bool,
    reserve: bool,
    reserved: np.ndarray,
    idle_days: np.ndarray,
    release_days: int,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
    tier: np.ndarray,
    intensity: np.ndarray,
    consortium: np.ndarray,
    district: np.ndarray,
    county_district: np.ndarray,
    transfer_probability: np.ndarray,
    mean_stay: np.ndarray,
    stay_factor: np.ndarray,
    stay_word: np.uint64,
    transfer_word: np.uint64,
    records: np.ndarray,
    rows: np.ndarray,
    expected_wait: np.ndarray,
    memory_days: float,
) -> tuple:
    queue = [np.concatenate(parts) for parts in zip(waiting, transfers, new, strict=True)]
    # At very small scales some cells have no hospital able to admit a severity (hospitals get no
    # beds): those requests have nowhere to go and are unmet.
    somewhere = queue[1] >= 0
    nowhere = int(np.count_nonzero(~somewhere))
    if nowhere:
        queue = [a[somewhere] for a in queue]
    resident, facility, severity, key, since, referred, from_primary, chain_consortium, chain_paid = queue
    cell = home_cell[resident]
    to_lead = from_primary & (facility == cell_lead[cell])
    if signed_only:
        to_lead &= signed[resident]
    qualified = to_lead if reserve else np.zeros(resident.size, dtype=bool)
    slot_facility, discharge_day, w_resident, w_severity, w_key, _, w_intensity = ward[:7]
    w_qualified, w_referred, w_transfer, w_chain_consortium, w_chain_paid = ward[7:]
    busy = discharge_day != free_bed
    beds = care.allocate_admissions(
        facility, day - since, qualified, severity, cell, slot_facility, ~busy, busy & w_qualified, reserved,
        idle_days >= release_days, tolerance, candidates, hours, capability,
    )  # fmt: skip
    i, slot, where = beds.request, beds.slot, beds.facility
    at_tier = tier[where]
    admitted_severity = severity[i]
    admitted_key = key[i]
    mean = mean_stay[at_tier] * stay_factor[admitted_severity]
    draw = rng.uniform_open_after(stay_word, admitted_key)
    p_transfer = transfer_probability[at_tier] * (admitted_severity < 3)
    transfer = rng.uniform_after(transfer_word, admitted_key) < p_transfer
    w_resident[slot] = resident[i]
    w_severity[slot] = admitted_severity
    w_key[slot] = admitted_key
    w_intensity[slot] = intensity[where]
    w_qualified[slot] = beds.group == 0
    w_referred[slot] = referred[i]
    w_transfer[slot] = transfer
    w_chain_consortium[slot] = np.where(chain_consortium[i] >= 0, chain_consortium[i], consortium[where])
    w_chain_paid[slot] = chain_paid[i]
    waited = (day - since[i]).astype(np.float64)
    lead = to_lead[i] & (beds.group < 2)
    n_tiers = records.shape[1]
    records[rows[0]] += np.bincount(at_tier, minlength=n_tiers)
    records[rows[1]] += np.bincount(at_tier, weights=waited, minlength=n_tiers)
    records[rows[2]] += np.bincount(at_tier, weights=referred[i].astype(np.float64), minlength=n_tiers)
    records[rows[3]] += np.bincount(at_tier[lead], minlength=n_tiers)
    records[rows[4]] += np.bincount(at_tier[lead], weights=waited[lead], minlength=n_tiers)
    patient = resident[i]
    home = home_district[patient]
    county = county_district[home]
    # Each allocation group's waits are news of its own, in turn.
    expected_wait = care.learn_waits(expected_wait, where, waited, beds.group, memory_days)
    return (
        tuple(a[beds.waiting] for a in queue),
        slot,
        mean,
        draw,
        expected_wait,
        nowhere + beds.unmet,
        int(np.count_nonzero(hypertension[patient] | diabetes[patient])),
        int(np.count_nonzero(county)),
        int(np.count_nonzero(county & (district[where] == home))),
    )


@kernel(_admit_numpy)
def _admit(
    waiting: tuple[np.ndarray, ...],
    transfers: tuple[np.ndarray, ...],
    new: tuple[np.ndarray, ...],
    day: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    home_cell: np.ndarray,
    signed: np.ndarray,
    hypertension: np.ndarray,
    diabetes: np.ndarray,
    home_district: np.ndarray,
    cell_lead: np.ndarray,
    signed_only: bool,
    reserve: bool,
    reserved: np.ndarray,
    idle_days: np.ndarray,
    release_days: int,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
    tier: np.ndarray,
    intensity: np.ndarray,
    consortium: np.ndarray,
    district: np.ndarray,
    county_district: np.ndarray,
    transfer_probability: np.ndarray,
    mean_stay: np.ndarray,
    stay_factor: np.ndarray,
    stay_word: np.uint64,
    transfer_word: np.uint64,
    records: np.ndarray,
    rows: np.ndarray,
    expected_wait: np.ndarray,
    memory_days: float,
) -> tuple:
    facility = np.concatenate((waiting[1], transfers[1], new[1]))
    kept = np.flatnonzero(facility >= 0)
    nowhere = facility.size - kept.size
    facility = facility[kept]
    resident = np.concatenate((waiting[0], transfers[0], new[0]))[kept]
    severity = np.concatenate((waiting[2], transfers[2], new[2]))[kept]
    key = np.concatenate((waiting[3], transfers[3], new[3]))[kept]
    since = np.concatenate((waiting[4], transfers[4], new[4]))[kept]
    referred = np.concatenate((waiting[5], transfers[5], new[5]))[kept]
    from_primary = np.concatenate((waiting[6], transfers[6], new[6]))[kept]
    chain_consortium = np.concatenate((waiting[7], transfers[7], new[7]))[kept]
    chain_paid = np.concatenate((waiting[8], transfers[8], new[8]))[kept]
    m = kept.size
    cell = np.empty(m, np.int64)
    waited_days = np.empty(m, np.int64)
    to_lead = np.empty(m, np.bool_)
    qualified = np.empty(m, np.bool_)
    for r in range(m):
        cell[r] = home_cell[resident[r]]
        waited_days[r] = day - since[r]
        to_lead[r] = from_primary[r] and facility[r] == cell_lead[cell[r]] and (not signed_only or signed[resident[r]])
        qualified[r] = to_lead[r] and reserve
    slot_facility, discharge_day, w_qualified = ward[0], ward[1], ward[7]
    busy = discharge_day != free_bed
    request, slot, where, group, still, unmet = _allocate(
        facility, waited_days, qualified, severity, cell, slot_facility, ~busy, busy & w_qualified, reserved,
        idle_days >= release_days, tolerance, candidates, hours, capability,
    )  # fmt: skip
    n, n_tiers = slot.size, records.shape[1]
    mean = np.empty(n)
    draw = np.empty(n)
    waited = np.empty(n)
    admissions = np.zeros(n_tiers, np.int64)
    wait_days = np.zeros(n_tiers)
    referred_admissions = np.zeros(n_tiers)
    lead_admissions = np.zeros(n_tiers, np.int64)
    lead_wait_days = np.zeros(n_tiers)
    n_chronic = n_county = n_in_county = 0
    for a in range(n):
        r, s, f = request[a], slot[a], where[a]
        t, k = tier[f], key[r]
        mean[a] = mean_stay[t] * stay_factor[severity[r]]
        draw[a] = unit_float(hash_word(stay_word, k), 0.5)
        p_transfer = transfer_probability[t] if severity[r] < 3 else 0.0
        ward[2][s] = resident[r]
        ward[3][s] = severity[r]
        ward[4][s] = k
        ward[6][s] = intensity[f]
        ward[7][s] = group[a] == 0
        ward[8][s] = referred[r]
        ward[9][s] = unit_float(hash_word(transfer_word, k), 0.0) < p_transfer
        ward[10][s] = chain_consortium[r] if chain_consortium[r] >= 0 else consortium[f]
        ward[11][s] = chain_paid[r]
        waited[a] = np.float64(day - since[r])
        admissions[t] += 1
        wait_days[t] += waited[a]
        referred_admissions[t] += 1.0 if referred[r] else 0.0
        if to_lead[r] and group[a] < 2:
            lead_admissions[t] += 1
            lead_wait_days[t] += waited[a]
        if hypertension[resident[r]] or diabetes[resident[r]]:
            n_chronic += 1
        home = home_district[resident[r]]
        if county_district[home]:
            n_county += 1
            if district[f] == home:
                n_in_county += 1
    for t in range(n_tiers):
        records[rows[0], t] += admissions[t]
        records[rows[1], t] += wait_days[t]
        records[rows[2], t] += referred_admissions[t]
        records[rows[3], t] += lead_admissions[t]
        records[rows[4], t] += lead_wait_days[t]
    expected_wait = _learn_waits(expected_wait, where, waited, group, memory_days)
    waiting_list = (
        resident[still],
        facility[still],
        severity[still],
        key[still],
        since[still],
        referred[still],
        from_primary[still],
        chain_consortium[still],
        chain_paid[still],
    )
    return waiting_list, slot, mean, draw, expected_wait, nowhere + unmet, n_chronic, n_county, n_in_county


def admit(
    waiting: tuple[np.ndarray, ...],
    transfers: tuple[np.ndarray, ...],
    new: tuple[np.ndarray, ...],
    *,
    day: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    home_cell: np.ndarray,
    signed: np.ndarray,
    hypertension: np.ndarray,
    diabetes: np.ndarray,
    home_district: np.ndarray,
    cell_lead: np.ndarray,
    signed_only: bool,
    reserve: bool,
    reserved: np.ndarray,
    idle_days: np.ndarray,
    release_days: int,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
    tier: np.ndarray,
    intensity: np.ndarray,
    consortium: np.ndarray,
    district: np.ndarray,
    county_district: np.ndarray,
    transfer_probability: np.ndarray,
    mean_stay: np.ndarray,
    stay_factor: np.ndarray,
    seed: int,
    records: np.ndarray,
    expected_wait: np.ndarray,
    memory_days: float,
) -> Admitted:
    """The day's admissions: the queue gets beds (`care.allocate_admissions`), and patients take them.

    The queue is yesterday's waiting list, then transfers, then today's requests; requests with no
    hospital to go to are unmet. Patients referred by their consortium's primary care to its lead
    hospital (signed residents only, where `signed_only`) qualify for reserved beds where `reserve`
    is in force. Admitted patients take their beds — all but the stay's end, which `begin_stays`
    writes — and are counted by tier; expected admission waits move toward what each allocation
    group waited, group after group.

    Args:
        waiting: Yesterday's waiting list, its arrays in `REQUEST_FIELDS` order.
        transfers: Transfers up of today's discharges, likewise.
        new: Today's requests, likewise.
        day: Today.
        ward: The wards' arrays in `WARD_FIELDS` order; the beds taken are written in place.
        free_bed: `discharge_day` of a free bed.
        home_cell: (residents,) home cell of each resident.
        signed: (residents,) signed with a family doctor.
        hypertension: (residents,) has hypertension.
        diabetes: (residents,) has diabetes.
        home_district: (residents,) home district.
        cell_lead: (cells,) lead hospital of each cell's consortium.
        signed_only: Only signed residents qualify for reserved beds.
        reserve: Reserved beds are in force (qualifying patients are admitted first).
        reserved: (F,) beds reserved at each hospital.
        idle_days: (F,) days each reserve has stood partly unused by qualifying patients.
        release_days: Idle days after which a reserve is open to anyone.
        tolerance: Days of waiting after which a patient looks elsewhere.
        candidates: (cells, K) each cell's candidate facilities (−1: none).
        hours: (cells, K) travel time to each candidate.
        capability: (F,) highest severity each facility admits.
        tier: (F,) tier of each facility.
        intensity: (F,) service intensity of each facility (its stays are billed at it).
        consortium: (F,) consortium of each facility.
        district: (F,) district of each facility.
        county_district: (districts,) the district is a county.
        transfer_probability: (tiers,) probability a stay below the top severity ends in a transfer up.
        mean_stay: (tiers,) mean length of stay.
        stay_factor: (severities,) factor of the mean stay by severity.
        seed: Run seed (stays and transfers are keyed by the request's key).
        records: `DayRecord.by_tier`, added to in place.
        expected_wait: (F,) expected admission waits before today.
        memory_days: Learning horizon of expected waits.

    Returns:
        The admissions and what is left waiting.
    """
    out = _admit(
        waiting, transfers, new, day, ward, free_bed, home_cell, signed, hypertension, diabetes, home_district,
        cell_lead, signed_only, reserve, reserved, idle_days, release_days, float(tolerance), candidates, hours,
        capability, tier, intensity, consortium, district, county_district, transfer_probability, mean_stay,
        stay_factor, rng.stream_key(seed, illness.STAY_STREAM), rng.stream_key(seed, TRANSFER_STREAM), records,
        _RECORD_ROWS, expected_wait, float(memory_days),
    )  # fmt: skip
    return Admitted(*out[:5], *(int(count) for count in out[5:]))


def _stays_numpy(
    days: np.ndarray,
    slot: np.ndarray,
    day: int,
    transfer_after: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    reserved: np.ndarray,
    idle_days: np.ndarray,
) -> np.ndarray:
    slot_facility, discharge_day, stay_days, qualified, transfer = ward[0], ward[1], ward[5], ward[7], ward[9]
    stay = np.maximum(1, np.rint(days)).astype(np.int32)
    stay = np.where(transfer[slot], np.minimum(stay, transfer_after), stay)
    discharge_day[slot] = day + stay
    stay_days[slot] = stay
    if not reserved.any():
        return np.zeros_like(idle_days)
    busy = (discharge_day != free_bed) & qualified
    unused = reserved - np.bincount(slot_facility[busy], minlength=reserved.size)
    return np.where(unused > 0, idle_days + 1, 0)


@kernel(_stays_numpy)
def _stays(
    days: np.ndarray,
    slot: np.ndarray,
    day: int,
    transfer_after: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    reserved: np.ndarray,
    idle_days: np.ndarray,
) -> np.ndarray:
    slot_facility, discharge_day, stay_days, qualified, transfer = ward[0], ward[1], ward[5], ward[7], ward[9]
    for a in range(slot.size):
        s = slot[a]
        stay = np.int64(max(1.0, np.rint(days[a])))
        if transfer[s]:
            stay = min(stay, transfer_after)
        discharge_day[s] = day + stay
        stay_days[s] = stay
    idle = np.zeros_like(idle_days)
    if not np.any(reserved):
        return idle
    unused = reserved.copy()
    for s in range(slot_facility.size):
        if discharge_day[s] != free_bed and qualified[s]:
            unused[slot_facility[s]] -= 1
    for f in range(idle.size):
        idle[f] = idle_days[f] + 1 if unused[f] > 0 else 0
    return idle


def begin_stays(
    admitted: Admitted,
    *,
    day: int,
    dispersion: float,
    transfer_after: int,
    ward: tuple[np.ndarray, ...],
    free_bed: int,
    reserved: np.ndarray,
    idle_days: np.ndarray,
) -> np.ndarray:
    """The admitted patients' stays begin: whole days in bed, written to the wards; and the reserves' idle days.

    Days are lognormal around the mean stay (`illness.lognormal_days`, in numpy: kernels may not
    call `log`/`exp`); a stay that ends in a transfer up lasts at most `transfer_after` days.

    Args:
        admitted: Today's admissions (`admit`).
        day: Today.
        dispersion: Lognormal sigma of stays (`IllnessParams.stay_dispersion`).
        transfer_after: Days in the first ward before a transfer up.
        ward: The wards' arrays in `WARD_FIELDS` order; stays' ends and lengths are written in place.
        free_bed: `discharge_day` of a free bed.
        reserved: (F,) beds reserved at each hospital.
        idle_days: (F,) days each reserve has stood partly unused by qualifying patients, before today.

    Returns:
        (F,) idle days after today: one more where some reserved beds are not occupied by
        qualifying patients, else none.
    """
    from scipy.special import ndtri  # here, not at the top: scipy adds to every `tiersim` start

    days = illness.lognormal_days(admitted.mean_stay, ndtri(admitted.stay_draw), dispersion)
    return _stays(days, admitted.slot, day, transfer_after, ward, free_bed, reserved, idle_days)
