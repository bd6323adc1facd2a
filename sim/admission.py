"""Admission: waiting lists, bed allocation and the stays begun (step 4 of a day), in two compiled kernels.

A day's admissions are a few dozen requests at city-district sizes, and were some sixty numpy calls
(queue, allocation, beds taken, records, learning): `admit` does them in one kernel. A stay's length
is lognormal, and kernels may not call `log`/`exp` (see `accel`), so `admit` leaves each admission's
mean stay and keyed uniform draw; `begin_stays` turns them into days in numpy and writes the stays'
ends in a second kernel, then keeps the reserved beds' idle days.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import care, illness, places
from sim.accel import helper, kernel
from sim.metrics import by_tier_rows
from sim.rng import keyed_unit_float
from sim.rules import mean_stay
from sim.state import FREE_BED, Cells, DayTotals, Facilities, Requests, Reserves, Residents, Streams, Wards, YearTables

TRANSFER_STREAM = "care.transfer"
"""Stream of the draws that decide whether a stay ends in a transfer up."""

_RECORDS = (
    "admissions",
    "admission_wait_days",
    "referred_admissions",
    "lead_referral_admissions",
    "lead_referral_wait_days",
)
_ADMISSIONS, _ADMISSION_WAIT_DAYS, _REFERRED_ADMISSIONS, _LEAD_REFERRAL_ADMISSIONS, _LEAD_REFERRAL_WAIT_DAYS = (
    by_tier_rows(*_RECORDS)
)
"""Rows of `DayRecord.by_tier` that admissions add to."""

_allocate = helper(care.allocate_admissions.loop)
_learn_waits = helper(care._learn_waits.loop)


class Admitted(NamedTuple):
    """A day's admissions (`admit`): beds taken, stays not yet begun.

    Attributes:
        waiting: The requests still waiting.
        slot: Bed of each admission, in allocation order.
        mean_stay: Mean stay of each admission (its tier's, scaled by severity).
        stay_draw: Keyed uniform draw in (0, 1) of each admission's length of stay.
        expected_wait: (F,) expected admission waits, learned from today's admissions.
        unmet: Requests with nowhere to go, or that left a waiting list and found no bed elsewhere.
        chronic: Admissions of chronic patients (hypertension or diabetes).
        county: Admissions of county residents; `county_in_county` those admitted in their own district.
    """

    waiting: Requests
    slot: np.ndarray
    mean_stay: np.ndarray
    stay_draw: np.ndarray
    expected_wait: np.ndarray
    unmet: int
    chronic: int
    county: int
    county_in_county: int


@helper
def _joined(waiting: Requests, transfers: Requests, new: Requests) -> tuple[Requests, int]:
    """The queue: yesterday's waiting list, then transfers, then today's requests; those with somewhere to go."""
    facility = np.concatenate((waiting.facility, transfers.facility, new.facility))
    kept = np.flatnonzero(facility >= 0)
    queue = Requests(
        np.concatenate((waiting.resident, transfers.resident, new.resident))[kept],
        facility[kept],
        np.concatenate((waiting.severity, transfers.severity, new.severity))[kept],
        np.concatenate((waiting.key, transfers.key, new.key))[kept],
        np.concatenate((waiting.since, transfers.since, new.since))[kept],
        np.concatenate((waiting.referred, transfers.referred, new.referred))[kept],
        np.concatenate((waiting.from_primary, transfers.from_primary, new.from_primary))[kept],
        np.concatenate((waiting.chain_consortium, transfers.chain_consortium, new.chain_consortium))[kept],
        np.concatenate((waiting.chain_paid, transfers.chain_paid, new.chain_paid))[kept],
    )
    return queue, facility.size - kept.size


@helper
def _toward_leads(
    queue: Requests, day: int, residents: Residents, cells: Cells, signed_only: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per request: the patient's home cell, days waited, and referred by primary care to the home lead hospital.

    Only signed residents count as referred to the lead where `signed_only` (the reserved-bed lever's rule).
    """
    m = queue.resident.size
    cell, waited_days, to_lead = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.bool_)
    for r in range(m):
        who = queue.resident[r]
        cell[r] = residents.cell[who]
        waited_days[r] = day - queue.since[r]
        may_qualify = not signed_only or residents.signed[who]
        to_lead[r] = queue.from_primary[r] and queue.facility[r] == cells.lead[cell[r]] and may_qualify
    return cell, waited_days, to_lead


@kernel
def admit(
    waiting: Requests,
    transfers: Requests,
    new: Requests,
    day: int,
    wards: Wards,
    residents: Residents,
    facilities: Facilities,
    cells: Cells,
    tables: YearTables,
    reserves: Reserves,
    streams: Streams,
    totals: DayTotals,
) -> Admitted:
    """The day's admissions: the queue gets beds (`care.allocate_admissions`), and patients take them.

    The queue is yesterday's waiting list, then transfers, then today's requests; requests with no
    hospital to go to are unmet. Patients referred by their consortium's primary care to its lead
    hospital (signed residents only, where `tables.reserved_signed_only`) qualify for reserved beds
    where `tables.reserve` is in force. Admitted patients take their beds — all but the stay's end,
    which `begin_stays` writes — and are counted by tier, facility and home cell; expected admission
    waits move toward what each allocation group waited, group after group.

    Args:
        waiting: Yesterday's waiting list.
        transfers: Transfers up of today's discharges.
        new: Today's requests.
        day: Today.
        wards: The bed slots; the beds taken are written in place.
        residents: The residents (home cell and district, signing, chronic conditions).
        facilities: The hospitals (capability, tier, intensity, consortium, district, expected waits).
        cells: Each cell's candidates, travel times and lead hospital.
        tables: This year's tables (reserve rules, transfer probability, stays, learning horizon).
        reserves: Beds reserved and their idle days.
        streams: Keys of the stay and transfer draws.
        totals: The day's sums, added to in place.

    Returns:
        The admissions and what is left waiting.
    """
    queue, nowhere = _joined(waiting, transfers, new)
    resident, facility, severity, key, since, referred, from_primary, chain_consortium, chain_paid = queue
    cell, waited_days, to_lead = _toward_leads(queue, day, residents, cells, tables.reserved_signed_only)
    qualified = to_lead & tables.reserve
    request, slot, where, group, still, unmet = _allocate(
        facility, waited_days, qualified, severity, cell, wards, reserves.beds,
        reserves.idle_days >= tables.reserve_release_days, tables.admission_wait_tolerance, cells,
        facilities.inpatient_capability,
    )  # fmt: skip
    n, n_tiers = slot.size, totals.by_tier.shape[1]
    mean = np.empty(n)
    draw = np.empty(n)
    waited = np.empty(n)
    admissions = np.zeros(n_tiers, np.int64)
    wait_days = np.zeros(n_tiers)
    referred_admissions = np.zeros(n_tiers)
    lead_admissions = np.zeros(n_tiers, np.int64)
    lead_wait_days = np.zeros(n_tiers)
    n_chronic = n_county = n_in_county = 0
    by_facility, by_cell = totals.by_facility, totals.by_cell
    for a in range(n):
        r, s, f = request[a], slot[a], where[a]
        t, k = facilities.tier[f], key[r]
        mean[a] = mean_stay(tables.mean_stay[t], tables.severity_stay_factor[severity[r]], facilities.stay_length[f])
        draw[a] = keyed_unit_float(streams.stay, k, 0.5)
        p_transfer = tables.transfer_probability[f] if severity[r] < 3 else 0.0
        wards.resident[s] = resident[r]
        wards.severity[s] = severity[r]
        wards.key[s] = k
        wards.intensity[s] = facilities.inpatient_intensity[f]
        wards.qualified[s] = group[a] == 0
        wards.referred[s] = referred[r]
        wards.transfer[s] = keyed_unit_float(streams.transfer, k, 0.0) < p_transfer
        wards.chain_consortium[s] = chain_consortium[r] if chain_consortium[r] >= 0 else facilities.consortium[f]
        wards.chain_paid[s] = chain_paid[r]
        waited[a] = np.float64(day - since[r])
        admissions[t] += 1
        wait_days[t] += waited[a]
        by_facility[places.ADMISSIONS, f] += 1.0
        by_facility[places.ADMISSION_WAIT_DAYS, f] += waited[a]
        by_cell[places.CELL_ADMISSIONS, cell[r]] += 1.0
        referred_admissions[t] += 1.0 if referred[r] else 0.0
        if to_lead[r] and group[a] < 2:
            lead_admissions[t] += 1
            lead_wait_days[t] += waited[a]
        if residents.hypertension[resident[r]] or residents.diabetes[resident[r]]:
            n_chronic += 1
        home = residents.district[resident[r]]
        if cells.district_is_county[home]:
            n_county += 1
            by_cell[places.CELL_COUNTY_ADMISSIONS, cell[r]] += 1.0
            if facilities.district[f] == home:
                n_in_county += 1
                by_cell[places.CELL_IN_COUNTY, cell[r]] += 1.0
    by_tier = totals.by_tier
    for t in range(n_tiers):
        by_tier[_ADMISSIONS, t] += admissions[t]
        by_tier[_ADMISSION_WAIT_DAYS, t] += wait_days[t]
        by_tier[_REFERRED_ADMISSIONS, t] += referred_admissions[t]
        by_tier[_LEAD_REFERRAL_ADMISSIONS, t] += lead_admissions[t]
        by_tier[_LEAD_REFERRAL_WAIT_DAYS, t] += lead_wait_days[t]
    expected_wait = _learn_waits(facilities.expected_admission_wait, where, waited, group, tables.wait_memory_days)
    still_waiting = Requests(
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
    return Admitted(still_waiting, slot, mean, draw, expected_wait, nowhere + unmet, n_chronic, n_county, n_in_county)


@kernel
def _stays(
    days: np.ndarray, slot: np.ndarray, day: int, transfer_after: int, wards: Wards, reserves: Reserves
) -> np.ndarray:
    discharge_day, reserved, idle_days = wards.discharge_day, reserves.beds, reserves.idle_days
    for a in range(slot.size):
        s = slot[a]
        stay = np.int64(max(1.0, np.rint(days[a])))
        if wards.transfer[s]:
            stay = min(stay, transfer_after)
        discharge_day[s] = day + stay
        wards.stay[s] = stay
    idle = np.zeros_like(idle_days)
    if not np.any(reserved):
        return idle
    unused = reserved.copy()
    for s in range(wards.facility.size):
        if discharge_day[s] != FREE_BED and wards.qualified[s]:
            unused[wards.facility[s]] -= 1
    for f in range(idle.size):
        idle[f] = idle_days[f] + 1 if unused[f] > 0 else 0
    return idle


def begin_stays(
    admitted: Admitted,
    *,
    day: int,
    dispersion: float,
    transfer_after: int,
    wards: Wards,
    reserves: Reserves,
) -> np.ndarray:
    """The admitted patients' stays begin: whole days in bed, written to the wards; and the reserves' idle days.

    Days are lognormal around the mean stay (`illness.lognormal_days`, in numpy: kernels may not
    call `log`/`exp`); a stay that ends in a transfer up lasts at most `transfer_after` days.

    Args:
        admitted: Today's admissions (`admit`).
        day: Today.
        dispersion: Lognormal sigma of stays (`IllnessParams.stay_dispersion`).
        transfer_after: Days in the first ward before a transfer up.
        wards: The bed slots; stays' ends and lengths are written in place.
        reserves: Beds reserved and their idle days before today.

    Returns:
        (F,) idle days after today: one more where some reserved beds are not occupied by
        qualifying patients, else none.
    """
    from scipy.special import ndtri  # here, not at the top: scipy adds to every `tiersim` start

    days = illness.lognormal_days(admitted.mean_stay, ndtri(admitted.stay_draw), dispersion)
    return _stays(days, admitted.slot, day, transfer_after, wards, reserves)
