"""Care delivery: capability, up-referral, outpatient queues, beds, discharge, unmet need.

Pure functions over arrays; `model.CareModel` calls them in its daily order.

- Capability: each tier treats outpatients and admits inpatients up to a severity; a facility that
  cannot treat an episode sees the patient and refers them up (上转), counted as a referral.
- Outpatient queues: a facility sees `capacity` visits a day; arrivals beyond it wait (the wait in
  days is the backlog ahead of them over capacity); past `max_queue_days` of backlog the facility
  turns patients away and they go to their next-best candidate, or are recorded unmet.
- Beds: each facility has a fixed number of beds, held as slots, so occupancy can never exceed
  capacity. A patient who finds no bed joins the facility's waiting list; after
  `admission_wait_tolerance_days` they go to another capable hospital with a free bed, or are
  recorded unmet.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np

from sim import choice, illness, insurance, metrics
from sim.accel import helper, kernel
from sim.arrays import stable_argsort
from sim.parameters.illness import SEVERITIES
from sim.rules import is_capitated, is_primary


def rank_within(group: np.ndarray) -> np.ndarray:
    """Position of each element among earlier elements of the same group (0, 1, 2, … in array order)."""
    order = stable_argsort(group)
    sorted_group = group[order]
    first = np.empty(group.size, dtype=bool)
    first[:1] = True
    np.not_equal(sorted_group[1:], sorted_group[:-1], out=first[1:])
    position = np.arange(group.size)
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = position - np.maximum.accumulate(np.where(first, position, 0))
    return rank


def queue_outpatients(
    facility: np.ndarray, queued: np.ndarray, capacity: np.ndarray, max_queue_days: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place arrivals (in arrival order) at the back of facilities' outpatient queues.

    A day may call this several times (first choices, then referrals and second choices); the
    queue is drained once, at the end of the day, by `end_of_day_backlog`.

    Args:
        facility: (n,) facility each arrival goes to.
        queued: (F,) visits already queued today (yesterday's backlog plus today's earlier arrivals).
        capacity: (F,) visits seen per day.
        max_queue_days: Backlog, in days of capacity, beyond which arrivals are turned away.

    Returns:
        (accepted mask, wait in days of capacity ahead of each accepted arrival, queued after them).
    """
    position = queued[facility] + rank_within(facility)
    limit = capacity * (1.0 + max_queue_days)
    accepted = position < limit[facility]
    wait = position / np.maximum(capacity[facility], 1e-9)
    queued = queued + np.bincount(facility[accepted], minlength=queued.size)
    return accepted, np.where(accepted, wait, 0.0), queued


class Passes(NamedTuple):
    """What a day's care passes did (`outpatient_passes`); "seen" rows are in pass order.

    Attributes:
        first: (n,) candidate slot each episode chose first.
        seen: Episode of each visit; `seen_at` facility, `seen_referred` whether it was referred
            (as of that visit), `seen_wait` days waited, `treated` whether the facility could treat it,
            `up_target` where it refers an untreated patient.
        pass_ends: Where each pass's visits end in the seen rows (one entry per pass run).
        referred, from_primary: (n,) final referral state of each episode (referred up; by primary care).
        queued: (F,) visits queued at each facility after the passes.
        unmet: Episodes left with no candidate, or still unseen after the last pass.
    """

    first: np.ndarray
    seen: np.ndarray
    seen_at: np.ndarray
    seen_referred: np.ndarray
    seen_wait: np.ndarray
    treated: np.ndarray
    up_target: np.ndarray
    pass_ends: np.ndarray
    referred: np.ndarray
    from_primary: np.ndarray
    queued: np.ndarray
    unmet: int


def _passes_numpy(
    utility: np.ndarray,
    cand: np.ndarray,
    severity: np.ndarray,
    referral_up: np.ndarray,
    lead: np.ndarray,
    lead_eligible: np.ndarray,
    queued: np.ndarray,
    capacity: np.ndarray,
    max_queue_days: float,
    capability: np.ndarray,
    primary_facility: np.ndarray,
    priority: bool,
    max_passes: int,
) -> tuple:
    n = severity.size
    rows = np.arange(n)
    first = np.argmax(utility, axis=1)
    pending, target = rows, cand[rows, first]
    utility[rows, first] = -np.inf
    referred = np.zeros(n, dtype=bool)
    from_primary = np.zeros(n, dtype=bool)
    ahead = np.zeros(queued.size)
    parts: list[tuple[np.ndarray, ...]] = []
    unmet = 0
    for _ in range(max_passes):
        if pending.size == 0:
            break
        if priority:
            # Priority (优先就诊) for patients referred to their lead hospital: they queue behind each other only.
            accepted = np.zeros(pending.size, dtype=bool)
            wait = np.zeros(pending.size)
            first_in_line = from_primary[pending] & (target == lead[pending]) & lead_eligible[pending]
            for group in (first_in_line, ~first_in_line):
                if group.any():
                    start = ahead if group is first_in_line else queued
                    ok, w, after = queue_outpatients(target[group], start, capacity, max_queue_days)
                    accepted[group], wait[group] = ok, w
                    added = after - start
                    queued = queued + added
                    if group is first_in_line:
                        ahead = ahead + added
        else:
            accepted, wait, after = queue_outpatients(target, queued, capacity, max_queue_days)
            queued = queued + (after - queued)
        seen, seen_at = pending[accepted], target[accepted]
        treated = capability[seen_at] >= severity[seen]
        parts.append((seen, seen_at, referred[seen], wait[accepted], treated, referral_up[seen]))
        up = seen[~treated]
        referred[up] = True
        from_primary[up] = primary_facility[seen_at[~treated]]
        turned = pending[~accepted]
        if turned.size:
            alt = np.argmax(utility.take(turned, axis=0), axis=1)
            has_alt = np.isfinite(utility[turned, alt])
            unmet += int(np.count_nonzero(~has_alt))
            turned, alt = turned[has_alt], alt[has_alt]
            utility[turned, alt] = -np.inf
            pending = np.concatenate([up, turned])
            target = np.concatenate([referral_up[up], cand[turned, alt]])
        else:
            pending, target = up, referral_up[up]
    unmet += pending.size
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else [np.zeros(0, np.int64)] * 6
    ends = np.cumsum([p[0].size for p in parts]).astype(np.int64)
    return first, *columns, ends, referred, from_primary, queued, unmet


@kernel(_passes_numpy)
def _passes(
    utility: np.ndarray,
    cand: np.ndarray,
    severity: np.ndarray,
    referral_up: np.ndarray,
    lead: np.ndarray,
    lead_eligible: np.ndarray,
    queued: np.ndarray,
    capacity: np.ndarray,
    max_queue_days: float,
    capability: np.ndarray,
    primary_facility: np.ndarray,
    priority: bool,
    max_passes: int,
) -> tuple:
    n, k = utility.shape
    n_fac = queued.size
    first = np.empty(n, np.int64)
    pending = np.arange(n)
    target = np.empty(n, np.int64)
    for i in range(n):
        best = 0
        for j in range(1, k):
            if utility[i, j] > utility[i, best]:
                best = j
        first[i] = best
        target[i] = cand[i, best]
        utility[i, best] = -np.inf
    referred = np.zeros(n, np.bool_)
    from_primary = np.zeros(n, np.bool_)
    queued = queued.copy()
    ahead = np.zeros(n_fac)
    size = n * max_passes
    seen, seen_at, up_target = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    seen_referred, treated = np.empty(size, np.bool_), np.empty(size, np.bool_)
    seen_wait = np.empty(size)
    ends = np.empty(max_passes, np.int64)
    m = 0
    passes = 0
    unmet = 0
    arrived = np.zeros(n_fac, np.int64)
    admitted = np.zeros(n_fac, np.int64)
    for _ in range(max_passes):
        n_pending = pending.size
        if n_pending == 0:
            break
        accepted = np.zeros(n_pending, np.bool_)
        wait = np.zeros(n_pending)
        in_line = np.zeros(n_pending, np.bool_)
        if priority:
            for i in range(n_pending):
                e = pending[i]
                in_line[i] = from_primary[e] and target[i] == lead[e] and lead_eligible[e]
        # Groups as in `queue_outpatients`: positions are the queue at the group's start plus the
        # arrivals before in the group (accepted or not); the queue grows by those accepted.
        for group in range(2 if priority else 1):
            members = False
            arrived[:] = 0
            admitted[:] = 0
            for i in range(n_pending):
                if priority and in_line[i] != (group == 0):
                    continue
                members = True
                f = target[i]
                start = ahead[f] if priority and group == 0 else queued[f]
                position = start + arrived[f]
                arrived[f] += 1
                if position < capacity[f] * (1.0 + max_queue_days):
                    accepted[i] = True
                    wait[i] = position / max(capacity[f], 1e-9)
                    admitted[f] += 1
            if not members:
                continue
            for f in range(n_fac):
                if priority and group == 0:
                    added = (ahead[f] + admitted[f]) - ahead[f]
                    queued[f] = queued[f] + added
                    ahead[f] = ahead[f] + added
                else:
                    queued[f] = queued[f] + ((queued[f] + admitted[f]) - queued[f])
        begin = m
        for i in range(n_pending):
            if accepted[i]:
                e, f = pending[i], target[i]
                seen[m], seen_at[m], seen_referred[m], seen_wait[m] = e, f, referred[e], wait[i]
                treated[m] = capability[f] >= severity[e]
                up_target[m] = referral_up[e]
                if not treated[m]:
                    referred[e] = True
                    from_primary[e] = primary_facility[f]
                m += 1
        ends[passes] = m
        passes += 1
        next_pending = np.empty(n_pending, np.int64)
        next_target = np.empty(n_pending, np.int64)
        c = 0
        for r in range(begin, m):  # referred up first, then those turned away (as `np.concatenate`)
            if not treated[r]:
                next_pending[c], next_target[c] = seen[r], up_target[r]
                c += 1
        for i in range(n_pending):
            if not accepted[i]:
                e = pending[i]
                best = 0
                for j in range(1, k):
                    if utility[e, j] > utility[e, best]:
                        best = j
                if np.isfinite(utility[e, best]):
                    utility[e, best] = -np.inf
                    next_pending[c], next_target[c] = e, cand[e, best]
                    c += 1
                else:
                    unmet += 1
        pending, target = next_pending[:c], next_target[:c]
    unmet += pending.size
    return (
        first,
        seen[:m],
        seen_at[:m],
        seen_referred[:m],
        seen_wait[:m],
        treated[:m],
        up_target[:m],
        ends[:passes],
        referred,
        from_primary,
        queued,
        unmet,
    )


def outpatient_passes(
    utility: np.ndarray,
    cand: np.ndarray,
    severity: np.ndarray,
    referral_up: np.ndarray,
    lead: np.ndarray,
    lead_eligible: np.ndarray,
    queued: np.ndarray,
    capacity: np.ndarray,
    max_queue_days: float,
    capability: np.ndarray,
    primary_facility: np.ndarray,
    *,
    priority: bool,
    max_passes: int,
) -> Passes:
    """A day's outpatient care: first choices, queues, referrals up and second choices, pass by pass.

    Each pass queues its pending episodes in order (`queue_outpatients`); a facility sees those it
    accepts and refers up (上转) those it cannot treat, to `referral_up`; those turned away go to their
    best remaining candidate, or are unmet when none is left. With `priority` (优先就诊), episodes
    referred by primary care to their lead hospital queue before the others, behind each other only.

    Args:
        utility: (n, K) total utility of each episode's candidates; chosen slots are set to −inf.
        cand: (n, K) candidate facilities (−1: none).
        severity: (n,) severity of each episode.
        referral_up: (n,) facility an episode is referred up to when its facility cannot treat it.
        lead: (n,) lead hospital of the episode's home consortium.
        lead_eligible: (n,) the episode may be first in line there (signed, where that is required).
        queued: (F,) visits queued at the start of the day.
        capacity: (F,) visits seen per day.
        max_queue_days: Backlog in days of capacity beyond which arrivals are turned away.
        capability: (F,) highest severity each facility treats as an outpatient.
        primary_facility: (F,) the facility is primary care.
        priority: The priority lever is in force.
        max_passes: Passes before an episode still pending counts unmet.

    Returns:
        The passes' outcome.
    """
    out = _passes(
        utility, cand, severity, referral_up, lead, lead_eligible, queued, capacity,
        float(max_queue_days), capability, primary_facility, bool(priority), int(max_passes),
    )  # fmt: skip
    return Passes(*out[:-1], unmet=int(out[-1]))


def end_of_day_backlog(queued: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Visits still waiting after a day's capacity has been used."""
    return np.maximum(0.0, queued - capacity)


def allocate_beds(facility: np.ndarray, free_slots: np.ndarray, slot_facility: np.ndarray) -> np.ndarray:
    """Give free beds to requests in order; each facility's free slots go to its first requests.

    Args:
        facility: (n,) facility of each request, in priority order.
        free_slots: Indices of free bed slots, sorted.
        slot_facility: (S,) facility owning each bed slot.

    Returns:
        (n,) slot given to each request, or -1 where its facility had no bed left.
    """
    n_fac = int(slot_facility.max()) + 1 if slot_facility.size else 0
    n_fac = max(n_fac, int(facility.max()) + 1 if facility.size else 0)
    free_fac = slot_facility[free_slots]
    free_count = np.bincount(free_fac, minlength=n_fac)
    first_free = np.cumsum(free_count) - free_count  # free slots are sorted, so grouped by facility
    rank = rank_within(facility)
    ok = rank < free_count[facility]
    slot = np.full(facility.size, -1, dtype=np.int64)
    slot[ok] = free_slots[first_free[facility[ok]] + rank[ok]]
    return slot


def reserved_beds(is_lead: np.ndarray, beds: np.ndarray, share: float) -> np.ndarray:
    """Beds each hospital holds for patients its consortium's primary care refers (预留床位): a share of a lead's beds.

    Args:
        is_lead: Each facility leads its consortium.
        beds: Each facility's beds.
        share: Share of a lead hospital's beds reserved (0 when the lever is off).

    Returns:
        Whole beds per facility: `share` × beds rounded at leads, none elsewhere.
    """
    return np.where(is_lead, np.round(share * beds), 0).astype(np.int64)


def unreserved(free_slots: np.ndarray, slot_facility: np.ndarray, protected: np.ndarray) -> np.ndarray:
    """Free slots open to any patient: each facility's first `protected[f]` free slots are held back."""
    owner = slot_facility[free_slots]
    rank = rank_within(owner)
    return free_slots[rank >= protected[owner]]


def open_beds(
    slot_facility: np.ndarray, free: np.ndarray, qualified: np.ndarray, reserved: np.ndarray, released: np.ndarray
) -> np.ndarray:
    """Free bed slots open to any patient: all free beds but those held for reserved-bed qualifiers.

    A hospital holds back its first `reserved − beds occupied by qualifiers` free beds, none once its
    reserve is `released` (some reserved beds stood unused by qualifiers `release_after_days` days in
    a row: the whole reserve is open to anyone until qualifiers fill it again).

    Args:
        slot_facility: (S,) facility owning each bed slot (non-decreasing).
        free: (S,) the bed is free.
        qualified: (S,) the bed is occupied by a qualifier.
        reserved: (F,) beds reserved at each hospital.
        released: (F,) the hospital's reserve is released.

    Returns:
        Indices of the open slots, in slot order.
    """
    slots = np.flatnonzero(free)
    if not reserved.any():  # nothing is held back
        return slots
    occupied = np.bincount(slot_facility[qualified], minlength=reserved.size)
    return unreserved(slots, slot_facility, np.where(released, 0, np.maximum(0, reserved - occupied)))


class Admissions(NamedTuple):
    """A day's bed allocation (`allocate_admissions`), admissions in group order.

    Attributes:
        request: Request admitted; `slot` its bed; `facility` the hospital (another one for those
            who left a waiting list); `group` 0 reserved-bed qualifiers, 1 the others, 2 those who
            left a waiting list for a bed elsewhere.
        waiting: Requests still waiting, in order.
        unmet: Requests that left a waiting list and found no bed elsewhere.
    """

    request: np.ndarray
    slot: np.ndarray
    facility: np.ndarray
    group: np.ndarray
    waiting: np.ndarray
    unmet: int


def _admissions_numpy(
    facility: np.ndarray,
    waited: np.ndarray,
    qualified: np.ndarray,
    severity: np.ndarray,
    cell: np.ndarray,
    slot_facility: np.ndarray,
    slot_free: np.ndarray,
    slot_qualified: np.ndarray,
    reserved: np.ndarray,
    released: np.ndarray,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
) -> tuple:
    free_mask, qualified_mask = slot_free.copy(), slot_qualified.copy()
    admitted = np.zeros(facility.size, dtype=bool)
    parts = []
    for group, members in enumerate((qualified, ~qualified)):
        idx = np.flatnonzero(members)
        if idx.size == 0:
            continue
        board = (
            np.flatnonzero(free_mask)
            if group == 0
            else open_beds(slot_facility, free_mask, qualified_mask, reserved, released)
        )
        slot = allocate_beds(facility[idx], board, slot_facility)
        got = slot >= 0
        free_mask[slot[got]] = False
        qualified_mask[slot[got]] = group == 0
        parts.append((idx[got], slot[got], facility[idx[got]], np.full(int(got.sum()), group)))
        admitted[idx[got]] = True
    rest = np.flatnonzero(~admitted)
    leaving = waited[rest] >= tolerance
    unmet = 0
    if leaving.any():
        go = rest[leaving]
        board = open_beds(slot_facility, free_mask, qualified_mask, reserved, released)
        cand = candidates.take(cell[go], axis=0)
        safe = np.maximum(cand, 0)
        free = np.bincount(slot_facility[board], minlength=capability.size)
        ok = (cand >= 0) & (cand != facility[go][:, None]) & (capability[safe] >= severity[go][:, None])
        ok &= free[safe] > 0
        h = np.where(ok, hours.take(cell[go], axis=0), np.inf)
        best = np.argmin(h, axis=1)
        target = np.where(np.isfinite(h.min(axis=1)), cand[np.arange(go.size), best], -1)
        moved = target >= 0
        slot = allocate_beds(target[moved], board, slot_facility)
        got = slot >= 0
        parts.append((go[moved][got], slot[got], target[moved][got], np.full(int(got.sum()), 2)))
        unmet = int(np.count_nonzero(~moved)) + int(np.count_nonzero(~got))
    empty = np.zeros(0, np.int64)
    columns = [np.concatenate(c).astype(np.int64) for c in zip(*parts, strict=True)] if parts else [empty] * 4
    return *columns, rest[~leaving], unmet


@kernel(_admissions_numpy)
def _admissions(
    facility: np.ndarray,
    waited: np.ndarray,
    qualified: np.ndarray,
    severity: np.ndarray,
    cell: np.ndarray,
    slot_facility: np.ndarray,
    slot_free: np.ndarray,
    slot_qualified: np.ndarray,
    reserved: np.ndarray,
    released: np.ndarray,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
) -> tuple:
    m, n_fac = facility.size, capability.size
    free_mask, qualified_mask = slot_free.copy(), slot_qualified.copy()
    holds = False
    for f in range(reserved.size):
        holds = holds or reserved[f] != 0
    request, slot, where, group = (
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
    )
    n = 0
    admitted = np.zeros(m, np.bool_)
    next_free = np.empty(n_fac, np.int64)  # per facility, the next slot to look at
    first_slot = np.zeros(n_fac + 1, np.int64)
    for s in range(slot_facility.size):
        first_slot[slot_facility[s] + 1] = s + 1
    for f in range(n_fac):  # facilities without slots start where the previous one ended
        first_slot[f + 1] = max(first_slot[f + 1], first_slot[f])
    held = np.zeros(n_fac, np.int64)
    for g in range(3):
        # Beds open to this group: every free bed for qualifiers; for the others, each facility's
        # free beds after the first `held` ones (reserved minus occupied by qualifiers, unless released).
        held[:] = 0
        if g > 0 and holds:
            for f in range(n_fac):
                held[f] = reserved[f]
            for s in range(slot_facility.size):
                if qualified_mask[s] and not free_mask[s]:
                    held[slot_facility[s]] -= 1
            for f in range(n_fac):
                held[f] = 0 if released[f] else max(0, held[f])
        board = free_mask.copy()
        for f in range(n_fac):
            skip = held[f]
            s = first_slot[f]
            while skip > 0 and s < first_slot[f + 1]:
                if board[s]:
                    board[s] = False
                    skip -= 1
                s += 1
            next_free[f] = first_slot[f]
        if g < 2:
            for i in range(m):
                if qualified[i] != (g == 0):
                    continue
                f = facility[i]
                s = next_free[f]
                while s < first_slot[f + 1] and not board[s]:
                    s += 1
                next_free[f] = s + 1
                if s < first_slot[f + 1]:
                    free_mask[s] = False
                    qualified_mask[s] = g == 0
                    request[n], slot[n], where[n], group[n] = i, s, f, g
                    n += 1
                    admitted[i] = True
            continue
        # Those who waited too long: the nearest other capable candidate with an open bed, all
        # choosing from the same board, then taking its beds in turn.
        free = np.zeros(n_fac, np.int64)
        for s in range(slot_facility.size):
            if board[s]:
                free[slot_facility[s]] += 1
        unmet = 0
        waiting = np.empty(m, np.int64)
        n_waiting = 0
        for i in range(m):
            if admitted[i]:
                continue
            if waited[i] < tolerance:
                waiting[n_waiting] = i
                n_waiting += 1
                continue
            c = cell[i]
            best, best_hours = -1, np.inf
            for j in range(candidates.shape[1]):
                f = candidates[c, j]
                if f < 0 or f == facility[i] or capability[f] < severity[i] or free[f] <= 0:
                    continue
                if hours[c, j] < best_hours:
                    best, best_hours = f, hours[c, j]
            if best < 0:
                unmet += 1
                continue
            s = next_free[best]
            while s < first_slot[best + 1] and not board[s]:
                s += 1
            next_free[best] = s + 1
            if s < first_slot[best + 1]:
                request[n], slot[n], where[n], group[n] = i, s, best, 2
                n += 1
            else:
                unmet += 1
    return request[:n], slot[:n], where[:n], group[:n], waiting[:n_waiting], unmet


def allocate_admissions(
    facility: np.ndarray,
    waited: np.ndarray,
    qualified: np.ndarray,
    severity: np.ndarray,
    cell: np.ndarray,
    slot_facility: np.ndarray,
    slot_free: np.ndarray,
    slot_qualified: np.ndarray,
    reserved: np.ndarray,
    released: np.ndarray,
    tolerance: float,
    candidates: np.ndarray,
    hours: np.ndarray,
    capability: np.ndarray,
) -> Admissions:
    """A day's beds for admission requests, in priority order (`allocate_beds` group by group).

    Reserved-bed qualifiers first, to any free bed; then the others, to the free beds not held for
    qualifiers (each hospital holds back its first `reserved − occupied by qualifiers` free beds,
    none once `released`); then those who waited `tolerance` days or more go to the nearest other
    capable candidate with an open bed, all choosing from the same beds, or are unmet.

    Args:
        facility: (m,) hospital each request waits for.
        waited: (m,) days each request has waited.
        qualified: (m,) the request qualifies for reserved beds.
        severity: (m,) severity of each request.
        cell: (m,) home cell of each request's patient.
        slot_facility: (S,) facility owning each bed slot (non-decreasing).
        slot_free: (S,) the bed is free.
        slot_qualified: (S,) the bed is occupied by a qualifier.
        reserved: (F,) beds reserved at each hospital.
        released: (F,) the hospital's reserve is released to any patient.
        tolerance: Days of waiting after which a patient looks elsewhere.
        candidates: (cells, K) each cell's candidate facilities (−1: none).
        hours: (cells, K) travel time to each candidate.
        capability: (F,) highest severity each facility admits.

    Returns:
        The admissions, the requests still waiting and the count of those left unmet.
    """
    out = _admissions(
        facility, waited, qualified, severity, cell, slot_facility, slot_free, slot_qualified, reserved, released,
        float(tolerance), candidates, hours, capability,
    )  # fmt: skip
    return Admissions(*out[:-1], unmet=int(out[-1]))


def referral_preference(
    candidates: np.ndarray,
    candidate_tier: np.ndarray,
    candidate_consortium: np.ndarray,
    home_consortium: np.ndarray,
    lead: np.ndarray,
    hours: np.ndarray,
) -> np.ndarray:
    """(cells, K) order in which candidates receive referrals: lower is preferred.

    The lowest tier first (分级诊疗: a village clinic refers a moderate case to its health centre,
    not to the city); within a tier the home consortium's own facilities (医联体内上转) and its lead
    hospital before other members; then the nearest.
    """
    outside = candidate_consortium != home_consortium[:, None]
    not_lead = candidates != lead[np.maximum(home_consortium, 0)][:, None]
    return candidate_tier * 1000.0 + outside * 100.0 + not_lead * 10.0 + np.minimum(hours, 9.0)


def preferred(candidates: np.ndarray, preference: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per row, the allowed candidate with the lowest preference (−1 where none is allowed)."""
    score = np.where(allowed, preference, np.inf)
    best = np.argmin(score, axis=1)
    rows = np.arange(candidates.shape[0])
    return np.where(np.isfinite(score[rows, best]), candidates[rows, best], -1)


def referral_targets(candidates: np.ndarray, preference: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """(cells, severities) facility a patient of each cell is referred up to for each severity.

    The preferred candidate (see `referral_preference`) that can treat the severity.
    """
    cap = np.where(candidates >= 0, capability[np.maximum(candidates, 0)], -9)
    return np.stack([preferred(candidates, preference, cap >= s) for s in range(len(SEVERITIES))], axis=1)


def ewma(previous: np.ndarray, observed: np.ndarray, has_observation: np.ndarray, memory_days: float) -> np.ndarray:
    """Expected value learned from recent days (exponentially weighted; unchanged without news)."""
    alpha = 1.0 / memory_days
    return np.where(has_observation, (1 - alpha) * previous + alpha * observed, previous)


def _learn_waits_numpy(
    expected: np.ndarray, facility: np.ndarray, observed: np.ndarray, group: np.ndarray, memory_days: float
) -> np.ndarray:
    for g in np.unique(group):
        part = group == g
        count = np.bincount(facility[part], minlength=expected.size)
        mean = np.bincount(facility[part], weights=observed[part], minlength=expected.size) / np.maximum(count, 1)
        expected = ewma(expected, mean, count > 0, memory_days)
    return expected


@kernel(_learn_waits_numpy)
def _learn_waits(
    expected: np.ndarray, facility: np.ndarray, observed: np.ndarray, group: np.ndarray, memory_days: float
) -> np.ndarray:
    alpha = 1.0 / memory_days
    expected = expected.copy()
    count = np.zeros(expected.size, np.int64)
    total = np.zeros(expected.size)
    begin = 0
    while begin < group.size:
        end = begin
        while end < group.size and group[end] == group[begin]:
            f = facility[end]
            count[f] += 1
            total[f] += observed[end]
            end += 1
        for i in range(begin, end):
            f = facility[i]
            if count[f] > 0:
                expected[f] = (1 - alpha) * expected[f] + alpha * (total[f] / count[f])
                count[f] = 0
                total[f] = 0.0
        begin = end
    return expected


def learn_waits(
    expected: np.ndarray, facility: np.ndarray, observed: np.ndarray, group: np.ndarray, memory_days: float
) -> np.ndarray:
    """Expected waits per facility after today's observations, learned group after group (`ewma`).

    Args:
        expected: (F,) expected waits before.
        facility: Facility of each observation.
        observed: Wait observed, days.
        group: Group of each observation, non-decreasing: each group's mean is news of its own, in turn.
        memory_days: Learning horizon (`CareParams.wait_memory_days`).

    Returns:
        (F,) expected waits after; facilities without observations keep theirs.
    """
    return _learn_waits(expected, facility, observed, group, float(memory_days))


# ---------------------------------------------------------------------- a day's outpatient care, fused
# At city-district sizes a day's outpatient care was some sixty numpy calls and six kernel calls
# around choice, passes, billing and learning, each costing more in overhead than in arithmetic.
# `outpatient_day` does it all in one compiled call (its twin is the same sequence in numpy).

_utilities_loop = helper(choice._episode_utilities.loop)
_passes_loop = helper(_passes.loop)
_claims_loop = helper(insurance._outpatient_batches.loop)
_learn_waits_loop = helper(_learn_waits.loop)

RECORD_ROWS = metrics.by_tier_rows("first_contacts", "visits", "visit_bills", "visit_wait_days", "visit_waits")
"""Rows of `DayRecord.by_tier` that `outpatient_day` adds to, in the order of its `rows` argument."""


def _outpatient_day_numpy(
    attraction: np.ndarray,
    travel: np.ndarray,
    incapable: np.ndarray,
    primary: np.ndarray,
    available: np.ndarray,
    own_consortium: np.ndarray,
    cand_tier: np.ndarray,
    referral_outpatient: np.ndarray,
    referral_inpatient: np.ndarray,
    cell_lead: np.ndarray,
    cell_consortium: np.ndarray,
    cell: np.ndarray,
    resident: np.ndarray,
    severity: np.ndarray,
    kind: np.ndarray,
    cell_candidates: np.ndarray,
    eligible: np.ndarray,
    managed: np.ndarray,
    admission_draw: np.ndarray,
    cost: float,
    log_cost: np.ndarray,
    wait: float,
    admission_probability: np.ndarray,
    trust_term: np.ndarray,
    signed_pull: np.ndarray,
    shocks: np.ndarray,
    shock_rows: np.ndarray,
    managed_pull: float,
    facility_tier: np.ndarray,
    facility_consortium: np.ndarray,
    backlog: np.ndarray,
    capacity: np.ndarray,
    expected_wait: np.ndarray,
    expected_admission_wait: np.ndarray,
    outpatient_capability: np.ndarray,
    inpatient_capability: np.ndarray,
    admission_propensity: np.ndarray,
    max_queue_days: float,
    memory_days: float,
    priority: bool,
    max_passes: int,
    visit_components: np.ndarray,
    visit_bills: np.ndarray,
    patient_scheme: np.ndarray,
    patient_signed: np.ndarray,
    start_line_left: np.ndarray,
    rates: np.ndarray,
    start_line: np.ndarray,
    cap: np.ndarray,
    capitation: bool,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
    by_tier: np.ndarray,
    rows: np.ndarray,
    flows: np.ndarray,
) -> tuple:
    n_sev = referral_outpatient.shape[1]
    n_tiers = by_tier.shape[1]
    cand = cell_candidates.take(cell, axis=0)
    utility = choice._episode_utilities(
        attraction, travel, incapable, primary, available, own_consortium, cell, severity, cand, cost, log_cost,
        wait, expected_wait, expected_admission_wait, admission_probability[severity], trust_term, signed_pull,
        shocks.take(shock_rows, axis=0),
    )  # fmt: skip
    if managed_pull > 0:
        utility += managed_pull * (
            managed[:, None] & is_primary(cand_tier.take(cell, axis=0)) & own_consortium.take(cell, axis=0)
        )
    passes = outpatient_passes(
        utility, cand, severity, referral_outpatient[cell, severity], cell_lead[cell], eligible, backlog, capacity,
        max_queue_days, outpatient_capability, is_primary(facility_tier), priority=priority, max_passes=max_passes,
    )  # fmt: skip
    seen, seen_at, waited, treated = passes.seen, passes.seen_at, passes.seen_wait, passes.treated
    ends = passes.pass_ends
    by_tier[rows[0]] += np.bincount(cand_tier[cell, passes.first], minlength=n_tiers)
    # Each pass is its own billing batch: a patient seen twice is billed as on two separate occasions.
    who = resident[seen]
    tier = facility_tier[seen_at]
    visit = (seen_at * n_sev + severity[seen]) * 2 + kind[seen]
    components = visit_components.take(visit, axis=0)
    bill = visit_bills[visit]
    # The first pass sees each episode at most once, with the start-line left read by `expected_costs`.
    first = seen[: ends[0]] if ends.size else seen
    fund, oop = insurance._outpatient_batches(
        bill, who, tier, passes.seen_referred, patient_scheme[seen], patient_signed[seen], rates, start_line, cap,
        np.zeros(bill.size, dtype=bool), ends, start_line_paid, fund_paid, start_line_left[first],
    )  # fmt: skip
    if capitation:
        # The fund's share of a signed resident's visit to their own consortium's primary care is
        # paid per head (capitation), not again per visit.
        capitated = is_capitated(patient_signed[seen], tier, facility_consortium[seen_at], cell_consortium[cell[seen]])
        fund = np.where(capitated, 0.0, fund)
    else:
        capitated = np.zeros(bill.size, dtype=bool)
    by_tier[rows[1]] += np.bincount(tier, minlength=n_tiers)
    metrics._add_batches(tier, bill[:, None], np.concatenate([np.zeros(1, np.int64), ends]), by_tier, rows[2:3])
    backlog = end_of_day_backlog(passes.queued, capacity)
    by_tier[rows[3]] += np.bincount(tier, weights=waited, minlength=n_tiers)
    by_tier[rows[4]] += np.bincount(tier, minlength=n_tiers)
    expected_wait = _learn_waits(expected_wait, seen_at, waited, np.zeros(seen_at.size, dtype=np.int64), memory_days)
    # Treated episodes that need a bed ask for one where treated, or where that facility refers
    # them up to. An admitted episode is never seen again today, so its referral flags are final.
    done, done_at = seen[treated], seen_at[treated]
    admit = illness.needs_admission(
        admission_draw[done], severity[done], admission_propensity[done_at], admission_probability
    )
    treated_outpatient = int(np.count_nonzero(~admit))
    a_idx, a_fac = done[admit], done_at[admit]
    can_admit = inpatient_capability[a_fac] >= severity[a_idx]
    refer = ~can_admit
    ward = a_fac.copy()
    ward[refer] = referral_inpatient[cell[a_idx[refer]], severity[a_idx[refer]]]
    up_from, up_to = seen_at[~treated], passes.up_target[~treated]
    referrals_up = int(np.count_nonzero(refer)) + up_from.size
    routed = refer & (ward >= 0)  # a request with nowhere to go is recorded unmet at admission
    flow = np.concatenate([facility_tier[a_fac[routed]], facility_tier[up_from]]) * n_tiers + np.concatenate(
        [facility_tier[ward[routed]], facility_tier[up_to]]
    )
    flows += np.bincount(flow, minlength=n_tiers * n_tiers).reshape(n_tiers, n_tiers)
    request_referred = passes.referred[a_idx] | refer
    request_from_primary = np.where(can_admit, passes.from_primary[a_idx], is_primary(facility_tier[a_fac]))
    counts = np.array([passes.unmet, treated_outpatient, referrals_up], dtype=np.int64)
    return (
        backlog, expected_wait, seen_at, tier, components, bill, fund, oop, capitated, ends,
        a_idx, ward, request_referred, request_from_primary, counts,
    )  # fmt: skip


@kernel(_outpatient_day_numpy)
def _outpatient_day(
    attraction: np.ndarray,
    travel: np.ndarray,
    incapable: np.ndarray,
    primary: np.ndarray,
    available: np.ndarray,
    own_consortium: np.ndarray,
    cand_tier: np.ndarray,
    referral_outpatient: np.ndarray,
    referral_inpatient: np.ndarray,
    cell_lead: np.ndarray,
    cell_consortium: np.ndarray,
    cell: np.ndarray,
    resident: np.ndarray,
    severity: np.ndarray,
    kind: np.ndarray,
    cell_candidates: np.ndarray,
    eligible: np.ndarray,
    managed: np.ndarray,
    admission_draw: np.ndarray,
    cost: float,
    log_cost: np.ndarray,
    wait: float,
    admission_probability: np.ndarray,
    trust_term: np.ndarray,
    signed_pull: np.ndarray,
    shocks: np.ndarray,
    shock_rows: np.ndarray,
    managed_pull: float,
    facility_tier: np.ndarray,
    facility_consortium: np.ndarray,
    backlog: np.ndarray,
    capacity: np.ndarray,
    expected_wait: np.ndarray,
    expected_admission_wait: np.ndarray,
    outpatient_capability: np.ndarray,
    inpatient_capability: np.ndarray,
    admission_propensity: np.ndarray,
    max_queue_days: float,
    memory_days: float,
    priority: bool,
    max_passes: int,
    visit_components: np.ndarray,
    visit_bills: np.ndarray,
    patient_scheme: np.ndarray,
    patient_signed: np.ndarray,
    start_line_left: np.ndarray,
    rates: np.ndarray,
    start_line: np.ndarray,
    cap: np.ndarray,
    capitation: bool,
    start_line_paid: np.ndarray,
    fund_paid: np.ndarray,
    by_tier: np.ndarray,
    rows: np.ndarray,
    flows: np.ndarray,
) -> tuple:
    """Choice, care passes, billing, waits and bed requests of a day's episodes (`outpatient_day`)."""
    n, k = cell.size, cell_candidates.shape[1]
    cand = np.empty((n, k), cell_candidates.dtype)  # element by element: `take` of rows is slower
    shock = np.empty((n, k))
    for i in range(n):
        for j in range(k):
            cand[i, j] = cell_candidates[cell[i], j]
            shock[i, j] = shocks[shock_rows[i], j]
    n_sev = referral_outpatient.shape[1]
    n_tiers = by_tier.shape[1]
    n_fac = facility_tier.size
    p_admit = np.empty(n)
    referral_up = np.empty(n, np.int64)
    lead = np.empty(n, np.int64)
    for i in range(n):
        p_admit[i] = admission_probability[severity[i]]
        referral_up[i] = referral_outpatient[cell[i], severity[i]]
        lead[i] = cell_lead[cell[i]]
    utility = _utilities_loop(
        attraction, travel, incapable, primary, available, own_consortium, cell, severity, cand, cost, log_cost,
        wait, expected_wait, expected_admission_wait, p_admit, trust_term, signed_pull, shock,
    )  # fmt: skip
    if managed_pull > 0:
        for i in range(n):
            if not managed[i]:
                continue  # the twin adds 0.0, which changes no utility (but −0.0, which compares equal)
            c = cell[i]
            for j in range(k):
                utility[i, j] += managed_pull * (1.0 if is_primary(cand_tier[c, j]) and own_consortium[c, j] else 0.0)
    primary_facility = np.empty(n_fac, np.bool_)
    for f in range(n_fac):
        primary_facility[f] = is_primary(facility_tier[f])
    first, seen, seen_at, seen_referred, waited, treated, up_target, ends, referred, from_primary, queued, unmet = (
        _passes_loop(
            utility, cand, severity, referral_up, lead, eligible, backlog, capacity, max_queue_days,
            outpatient_capability, primary_facility, priority, max_passes,
        )
    )  # fmt: skip
    counts = np.zeros(n_tiers, np.int64)
    for i in range(n):
        counts[cand_tier[cell[i], first[i]]] += 1
    for t in range(n_tiers):
        by_tier[rows[0], t] += counts[t]
    # Each pass is its own billing batch: a patient seen twice is billed as on two separate occasions.
    m = seen.size
    who = np.empty(m, np.int64)
    tier = np.empty(m, np.int64)
    their_scheme, their_signed = np.empty(m, patient_scheme.dtype), np.empty(m, np.bool_)
    first_left = np.empty(ends[0] if ends.size else 0)
    components = np.empty((m, visit_components.shape[1]))
    bill = np.empty(m)
    for r in range(m):
        e = seen[r]
        who[r] = resident[e]
        their_scheme[r], their_signed[r] = patient_scheme[e], patient_signed[e]
        if r < first_left.size:  # the first pass sees each episode at most once
            first_left[r] = start_line_left[e]
        tier[r] = facility_tier[seen_at[r]]
        visit = (seen_at[r] * n_sev + severity[e]) * 2 + kind[e]
        for c in range(visit_components.shape[1]):  # element by element: a row slice costs a view per visit
            components[r, c] = visit_components[visit, c]
        bill[r] = visit_bills[visit]
    fund, oop = _claims_loop(
        bill, who, tier, seen_referred, their_scheme, their_signed, rates, start_line, cap, np.zeros(m, np.bool_),
        ends, start_line_paid, fund_paid, first_left,
    )  # fmt: skip
    capitated = np.zeros(m, np.bool_)
    if capitation:
        for r in range(m):
            capitated[r] = is_capitated(
                their_signed[r], tier[r], facility_consortium[seen_at[r]], cell_consortium[cell[seen[r]]]
            )
            if capitated[r]:
                fund[r] = 0.0
    counts[:] = 0
    sums = np.zeros(n_tiers)
    for r in range(m):
        counts[tier[r]] += 1
        sums[tier[r]] += waited[r]
    for t in range(n_tiers):
        by_tier[rows[1], t] += counts[t]
    bounds = np.zeros(ends.size + 1, np.int64)
    bounds[1:] = ends
    metrics.add_batches_loop(tier, bill.reshape(m, 1), bounds, by_tier, rows[2:3])
    new_backlog = np.empty(n_fac)
    for f in range(n_fac):
        new_backlog[f] = max(0.0, queued[f] - capacity[f])
    for t in range(n_tiers):
        by_tier[rows[3], t] += sums[t]
        by_tier[rows[4], t] += counts[t]
    new_expected_wait = _learn_waits_loop(expected_wait, seen_at, waited, np.zeros(m, np.int64), memory_days)
    # Treated episodes that need a bed ask for one where treated, or where that facility refers
    # them up to (see the twin); requests keep the order of the seen rows.
    a_idx = np.empty(m, np.int64)
    ward = np.empty(m, np.int64)
    request_referred = np.empty(m, np.bool_)
    request_from_primary = np.empty(m, np.bool_)
    n_req = 0
    treated_outpatient = 0
    referrals_up = 0
    for r in range(m):
        if not treated[r]:
            continue
        e, f = seen[r], seen_at[r]
        discretion = admission_propensity[f] if severity[e] == 1 else 1.0
        if not admission_draw[e] < admission_probability[severity[e]] * discretion:
            treated_outpatient += 1
            continue
        can_admit = inpatient_capability[f] >= severity[e]
        a_idx[n_req] = e
        ward[n_req] = f if can_admit else referral_inpatient[cell[e], severity[e]]
        request_referred[n_req] = referred[e] or not can_admit
        request_from_primary[n_req] = from_primary[e] if can_admit else is_primary(facility_tier[f])
        if not can_admit:
            referrals_up += 1
            if ward[n_req] >= 0:  # a request with nowhere to go is recorded unmet at admission
                flows[facility_tier[f], facility_tier[ward[n_req]]] += 1
        n_req += 1
    for r in range(m):
        if not treated[r]:
            referrals_up += 1
            flows[facility_tier[seen_at[r]], facility_tier[up_target[r]]] += 1
    counts = np.array([unmet, treated_outpatient, referrals_up], dtype=np.int64)
    return (
        new_backlog, new_expected_wait, seen_at, tier, components, bill, fund, oop, capitated, ends,
        a_idx[:n_req], ward[:n_req], request_referred[:n_req], request_from_primary[:n_req], counts,
    )  # fmt: skip


_DAY_ARGUMENTS = tuple(inspect.signature(_outpatient_day_numpy).parameters)
_DAY_ARGUMENT_NAMES = frozenset(_DAY_ARGUMENTS)


def outpatient_day(**arrays: object) -> tuple:
    """A day's outpatient care in one call: choice, care passes, billing, waits and bed requests.

    The steps of `CareModel._seek_care` after the expected costs (ODD step 3): utilities with the
    taste shocks (`choice`), the managed follow-up pull, the care passes (`outpatient_passes`), each
    pass's visits billed as a batch (`insurance.settle_outpatient_batches`; capitated visits' fund
    share zeroed), the day's by-tier records and referral flows (added in place to the `by_tier`
    rows `rows` = `RECORD_ROWS` and to `flows`), the backlog after the day, expected waits learned
    (`learn_waits`), and the treated episodes that need a bed (`illness.needs_admission`) as
    requests where treated or where that facility refers them up.

    Args:
        **arrays: Every argument of `_outpatient_day_numpy`, by name. Arrays of length n are
            per episode: `patient_scheme`, `patient_signed` and `start_line_left` are the
            residents' as `insurance.expected_costs` read them, so the claims need not read the
            city-sized arrays again. `start_line_paid`, `fund_paid`, `by_tier` and `flows` are
            updated in place.

    Returns:
        (backlog, expected_wait, then the claims — facility, tier, components, bill, fund,
        out-of-pocket, capitated, batch ends —, then the requests — episode index, ward, referred,
        from primary care —, and counts [unmet, treated as outpatients, referred up]).

    Raises:
        TypeError: An argument is missing or unknown.
    """
    if arrays.keys() != _DAY_ARGUMENT_NAMES:
        raise TypeError(f"outpatient_day arguments differ from {_DAY_ARGUMENTS}: {sorted(arrays)}")
    return _outpatient_day(*map(arrays.__getitem__, _DAY_ARGUMENTS))
