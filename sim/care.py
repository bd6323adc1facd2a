"""Care delivery: capability, up-referral, outpatient queues, beds, discharge, unmet need.

Pure functions over arrays; `model.CareModel` calls them in its daily order.

- Capability: each tier treats outpatients and admits inpatients up to a severity; a facility that
  cannot treat an episode sees the patient and refers them up (上转), counted as a referral.
- Outpatient queues: a facility sees `capacity` visits a day; arrivals beyond it wait (the wait in
  days is the backlog ahead of them over capacity); past `max_queue_days` of backlog the facility
  turns patients away and they go to their next-best candidate, or are recorded unmet.
- Medicines: a facility stocks a share of chronic regimens (its formulary breadth); a chronic
  follow-up whose regimen it does not stock is seen and referred up to the preferred higher-tier
  candidate that stocks it. A tele-consultation with the lead hospital (远程会诊) can resolve at
  primary care an episode somewhat beyond its capability.
- Beds: each facility has a fixed number of beds, held as slots, so occupancy can never exceed
  capacity. A patient who finds no bed joins the facility's waiting list; after
  `admission_wait_tolerance_days` they go to another capable hospital with a free bed, or are
  recorded unmet.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import choice, insurance, metrics, places, rng
from sim.accel import helper, kernel
from sim.arrays import rank_within
from sim.parameters.illness import ACUTE, FOLLOW_UP, SEVERITIES
from sim.parameters.population import EMPLOYEE
from sim.parameters.prices import COMPONENTS
from sim.rules import (
    declined_by_restraint,
    is_capitated,
    is_primary,
    recognised_tests,
    remotely_resolved,
    stays_home,
    stocks,
    visit_bill,
    visit_row,
)
from sim.state import (
    FREE_BED,
    OUTPATIENT_HEAD,
    OUTPATIENT_ITEM,
    Cells,
    Claims,
    DayTotals,
    Facilities,
    Learning,
    Wards,
    YearTables,
)


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


class Stock(NamedTuple):
    """What besides its capability decides whether a facility treats an episode: medicines and tele-consultation.

    Attributes:
        regimen: (n,) each episode's regimen draw (`rules.stocks`; −1: acute, needs no chronic regimen).
        consulted: (n,) the episode's tele-consultation draw says a consultation resolves it
            (`rules.remotely_resolved`).
        cell: (n,) home cell of the episode's patient: its candidates are where a regimen is looked for.
        breadth: (F,) formulary breadth of each facility.
        severity_gap: Highest severity above a facility's capability a tele-consultation resolves.
    """

    regimen: np.ndarray
    consulted: np.ndarray
    cell: np.ndarray
    breadth: np.ndarray
    severity_gap: int


@helper
def stocking_target(
    candidates: np.ndarray,
    preference: np.ndarray,
    candidate_tier: np.ndarray,
    capability: np.ndarray,
    breadth: np.ndarray,
    tier: int,
    severity: int,
    regimen: float,
) -> int:
    """The preferred candidate above `tier` that treats `severity` and stocks the regimen (−1: none).

    Args:
        candidates: (K,) the patient's candidate facilities (−1: none).
        preference: (K,) their referral order (`referral_preference`).
        candidate_tier: (K,) their tiers.
        capability: (F,) outpatient capability of each facility.
        breadth: (F,) formulary breadth of each facility.
        tier: Tier of the facility that refers.
        severity: Severity of the episode.
        regimen: The patient's regimen draw.
    """
    best, best_preference = -1, np.inf
    for j in range(candidates.size):
        g = candidates[j]
        if g < 0 or candidate_tier[j] <= tier or capability[g] < severity or not stocks(regimen, breadth[g]):
            continue
        if preference[j] < best_preference:
            best, best_preference = g, preference[j]
    return best


@helper
def outpatient_outcome(
    e: int,
    f: int,
    severity: np.ndarray,
    referral_up: np.ndarray,
    facilities: Facilities,
    primary_facility: np.ndarray,
    stock: Stock,
    cells: Cells,
) -> tuple[bool, int]:
    """Whether facility `f` treats episode `e` as an outpatient, and where it refers the patient up otherwise.

    Treated when the facility is capable of the severity (or a tele-consultation resolves it, see
    `rules.remotely_resolved`) and stocks the regimen. An episode beyond its capability is referred
    to `referral_up[e]`; a follow-up whose regimen it does not stock to `stocking_target`, and is
    treated where it is when no candidate above stocks it. The target of a treated episode is
    `referral_up[e]` (unused).
    """
    capability = facilities.outpatient_capability
    capable = capability[f] >= severity[e] or remotely_resolved(
        stock.consulted[e], primary_facility[f], facilities.consortium[f], severity[e], capability[f],
        stock.severity_gap,
    )  # fmt: skip
    if not capable:
        return False, referral_up[e]
    if stocks(stock.regimen[e], stock.breadth[f]):
        return True, referral_up[e]
    c = stock.cell[e]
    up = stocking_target(
        cells.candidates[c], cells.candidate_preference[c], cells.candidate_tier[c], capability, stock.breadth,
        facilities.tier[f], severity[e], stock.regimen[e],
    )  # fmt: skip
    if up < 0:
        return True, referral_up[e]
    return False, up


class Passes(NamedTuple):
    """What a day's care passes did (`outpatient_passes`); "seen" rows are in pass order.

    Attributes:
        first: (n,) candidate slot each episode chose first (−1: cared for at home).
        seen: Episode of each visit; `seen_at` facility, `seen_referred` whether it was referred
            (as of that visit), `seen_wait` days waited, `treated` whether the facility could treat it,
            `up_target` where it refers an untreated patient.
        turned, turned_at: Episode and facility of each arrival turned away, in pass order.
        pass_ends: Where each pass's visits end in the seen rows (one entry per pass run).
        referred, from_primary: (n,) final referral state of each episode (referred up; by primary care).
        queued: (F,) visits queued at each facility after the passes.
        unmet: Episodes left with no candidate, or still unseen after the last pass.
        self_care: Episodes cared for at home (`rules.stays_home`), never queued.
    """

    first: np.ndarray
    seen: np.ndarray
    seen_at: np.ndarray
    seen_referred: np.ndarray
    seen_wait: np.ndarray
    treated: np.ndarray
    up_target: np.ndarray
    turned: np.ndarray
    turned_at: np.ndarray
    pass_ends: np.ndarray
    referred: np.ndarray
    from_primary: np.ndarray
    queued: np.ndarray
    unmet: int
    self_care: int


@kernel
def outpatient_passes(
    utility: np.ndarray,
    cand: np.ndarray,
    severity: np.ndarray,
    referral_up: np.ndarray,
    lead: np.ndarray,
    lead_eligible: np.ndarray,
    facilities: Facilities,
    primary_facility: np.ndarray,
    max_queue_days: float,
    priority: bool,
    max_passes: int,
    stock: Stock,
    cells: Cells,
    outside: np.ndarray,
    outside_shock: np.ndarray,
) -> Passes:
    """A day's outpatient care: first choices, queues, referrals up and second choices, pass by pass.

    An episode whose outside option beats its best candidate stays home (`rules.stays_home`) and is
    never queued; a patient turned away later does not weigh it again. Each pass queues its pending
    episodes in order (`queue_outpatients`); a facility sees those it accepts and refers up (上转) those
    it cannot treat, to `referral_up`; those turned away go to their best remaining candidate, or are
    unmet when none is left. With `priority` (优先就诊), episodes referred by primary care to their lead
    hospital queue before the others, behind each other only.

    Args:
        utility: (n, K) total utility of each episode's candidates; chosen slots are set to −inf.
        cand: (n, K) candidate facilities (−1: none).
        severity: (n,) severity of each episode.
        referral_up: (n,) facility an episode is referred up to when its facility cannot treat it.
        lead: (n,) lead hospital of the episode's home consortium.
        lead_eligible: (n,) the episode may be first in line there (signed, where that is required).
        facilities: Their backlog (visits queued at the start of the day), outpatient capacity and
            capability.
        primary_facility: (F,) the facility is primary care.
        max_queue_days: Backlog in days of capacity beyond which arrivals are turned away.
        priority: The priority lever is in force.
        max_passes: Passes before an episode still pending counts unmet.
        stock: The episodes' regimens and tele-consultation draws, the facilities' formularies
            (`outpatient_outcome`).
        cells: Each cell's candidates and referral order (where a regimen is looked for).
        outside: (n,) utility of staying home (−inf: the episode always seeks care).
        outside_shock: (n,) the outside option's taste shock.
    """
    queued, capacity, capability = facilities.backlog, facilities.outpatient_capacity, facilities.outpatient_capability
    n, k = utility.shape
    n_fac = queued.size
    first = np.empty(n, np.int64)
    pending = np.empty(n, np.int64)
    target = np.empty(n, np.int64)
    n_first = 0
    for i in range(n):
        # The best so far held in a register, not reloaded: the compiler then selects without a branch.
        best, top = 0, utility[i, 0]
        for j in range(1, k):
            if utility[i, j] > top:
                best, top = j, utility[i, j]
        if stays_home(outside[i], outside_shock[i], top):
            first[i] = -1
            continue
        first[i] = best
        pending[n_first], target[n_first] = i, cand[i, best]
        n_first += 1
        utility[i, best] = -np.inf
    self_care = n - n_first
    pending, target = pending[:n_first], target[:n_first]
    referred = np.zeros(n, np.bool_)
    from_primary = np.zeros(n, np.bool_)
    queued = queued.copy()
    ahead = np.zeros(n_fac)
    size = n * max_passes
    seen, seen_at, up_target = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    seen_referred, treated = np.empty(size, np.bool_), np.empty(size, np.bool_)
    seen_wait = np.empty(size)
    turned, turned_at = np.empty(size, np.int64), np.empty(size, np.int64)
    ends = np.empty(max_passes, np.int64)
    m = 0
    n_turned = 0
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
                # `outpatient_outcome`'s two common cases inline: a call passes its records' every array
                # (≈0.2 µs a visit). Capable and stocked: treated; beyond capability with no
                # tele-consultation draw (`rules.remotely_resolved` needs one): referred up.
                if capability[f] >= severity[e] and stocks(stock.regimen[e], stock.breadth[f]):
                    treated[m], up_target[m] = True, referral_up[e]
                elif capability[f] < severity[e] and not stock.consulted[e]:
                    treated[m], up_target[m] = False, referral_up[e]
                else:
                    treated[m], up_target[m] = outpatient_outcome(
                        e, f, severity, referral_up, facilities, primary_facility, stock, cells
                    )
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
                turned[n_turned], turned_at[n_turned] = e, target[i]
                n_turned += 1
                best, top = 0, utility[e, 0]
                for j in range(1, k):
                    if utility[e, j] > top:
                        best, top = j, utility[e, j]
                if np.isfinite(top):
                    utility[e, best] = -np.inf
                    next_pending[c], next_target[c] = e, cand[e, best]
                    c += 1
                else:
                    unmet += 1
        pending, target = next_pending[:c], next_target[:c]
    unmet += pending.size
    return Passes(
        first,
        seen[:m],
        seen_at[:m],
        seen_referred[:m],
        seen_wait[:m],
        treated[:m],
        up_target[:m],
        turned[:n_turned],
        turned_at[:n_turned],
        ends[:passes],
        referred,
        from_primary,
        queued,
        unmet,
        self_care,
    )


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


def formulary_breadth(
    tier_breadth: np.ndarray,
    tier: np.ndarray,
    consortium: np.ndarray,
    consortium_lead: np.ndarray,
    share_of_lead: float | None,
) -> np.ndarray:
    """Each facility's formulary breadth: its tier's, or under a unified drug list (统一药品目录) its lead's share.

    Args:
        tier_breadth: (tiers,) share of chronic regimens each tier stocks.
        tier: (F,) tier of each facility.
        consortium: (F,) consortium of each facility (−1: none).
        consortium_lead: (consortia,) lead hospital of each consortium.
        share_of_lead: Share of its lead's breadth a consortium's primary member stocks (None: the
            lever is off); a member never stocks less than its tier's.
    """
    breadth = tier_breadth[tier]
    if share_of_lead is None:
        return breadth
    member = is_primary(tier) & (consortium >= 0)
    lead_breadth = breadth[consortium_lead[np.maximum(consortium, 0)]]
    return np.where(member, np.maximum(breadth, share_of_lead * lead_breadth), breadth)


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


@kernel
def allocate_admissions(
    facility: np.ndarray,
    waited: np.ndarray,
    qualified: np.ndarray,
    severity: np.ndarray,
    cell: np.ndarray,
    wards: Wards,
    reserved: np.ndarray,
    released: np.ndarray,
    tolerance: float,
    cells: Cells,
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
        wards: The bed slots (read only: which are free, which hold a qualifier).
        reserved: (F,) beds reserved at each hospital.
        released: (F,) the hospital's reserve is released to any patient.
        tolerance: Days of waiting after which a patient looks elsewhere.
        cells: Each cell's candidate facilities and travel times.
        capability: (F,) highest severity each facility admits.
    """
    slot_facility, candidates, hours = wards.facility, cells.candidates, cells.travel_hours
    m, n_fac = facility.size, capability.size
    free_mask = wards.discharge_day == FREE_BED
    qualified_mask = ~free_mask & wards.qualified
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
    return Admissions(request[:n], slot[:n], where[:n], group[:n], waiting[:n_waiting], unmet)


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


@helper
def ward_above(cells: Cells, cell: int, tier: int, capability: np.ndarray, severity: int) -> int:
    """The cell's preferred candidate above `tier` that admits the severity (`referral_preference`); −1 if none.

    Where a patient a facility of that tier declines to admit asks for a bed next: a county hospital's
    patient goes to the city's tertiary hospital, a health centre's to its county hospital.
    """
    best, top = -1, np.inf
    for j in range(cells.candidates.shape[1]):
        c = cells.candidates[cell, j]
        if c >= 0 and cells.candidate_tier[cell, j] > tier and capability[c] >= severity:
            if cells.candidate_preference[cell, j] < top:
                best, top = c, cells.candidate_preference[cell, j]
    return best


@helper
def declined_ward(
    draw: float,
    probability: float,
    propensity: float,
    key: np.uint64,
    seek_share: float,
    stream: np.uint64,
    cells: Cells,
    cell: int,
    tier: int,
    capability: np.ndarray,
    severity: int,
) -> int:
    """Where an episode not admitted where treated asks for a bed instead (推诿); −1: it is treated as an outpatient.

    Only an episode declined by restraint (`rules.declined_by_restraint`) looks further, and then with
    probability `seek_share` (its keyed draw, `rules.DECLINED_STREAM`), at the next tier up
    (`ward_above`). At the baseline propensity no episode is declined and no draw is made.

    Args:
        draw: The episode's admission draw.
        probability: Its severity's admission probability.
        propensity: The treating facility's admission propensity for the severity (1 where not discretionary).
        key: The episode's key.
        seek_share: Probability a declined episode asks for a bed higher up (`CareParams.declined_seek_bed`).
        stream: Key of the draws' stream.
        cells: Each cell's candidates and referral order.
        cell: The patient's home cell.
        tier: The treating facility's tier.
        capability: (F,) highest severity each facility admits.
        severity: The episode's severity.
    """
    if not declined_by_restraint(draw, probability, propensity):
        return -1
    if not rng.keyed_unit_float(stream, key, 0.0) < seek_share:
        return -1
    return ward_above(cells, cell, tier, capability, severity)


@kernel
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
    """Expected waits per facility after today's observations, learned group after group.

    Each group's mean wait observed at a facility moves its expected wait by an exponentially
    weighted moving average, E ← (1 − α) E + α · mean, α = 1 / `memory_days`; facilities without
    news keep theirs.

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


@kernel
def learn_outcomes(
    learning: Learning, resident: np.ndarray, cell: np.ndarray, tier: np.ndarray, resolved: np.ndarray
) -> None:
    """Trust and reputations after a day's visit outcomes, in place; both engines call this once a day.

    Own experience: each outcome at primary care, in order, moves the resident's trust T by
    T ← T + r · (outcome − T), r = `trust_rate`, outcome 1 if treated there, 0 if referred on (上转) or
    turned away; trust is kept in float32, the step computed in float64. Word of mouth: each (home
    cell, tier) with outcomes today moves its reputation R by R ← (1 − α) R + α · (resolved / outcomes),
    α = `reputation_rate`; the others keep theirs. Counts are integers, so the result does not depend
    on the order of a day's outcomes beyond the order of one resident's.

    Args:
        learning: The learned state (`trust` and `reputation` are updated in place).
        resident: Resident of each outcome, in the day's order (visits in pass order, then turn-aways).
        cell: Their home cell.
        tier: Tier of the facility of the outcome.
        resolved: Treated there (False: referred on or turned away).
    """
    trust, reputation = learning.trust, learning.reputation
    rate, alpha = learning.trust_rate, learning.reputation_rate
    n_tiers = reputation.shape[1]
    count = np.zeros(reputation.size, np.int64)
    good = np.zeros(reputation.size, np.int64)
    for r in range(resident.size):
        if is_primary(tier[r]):
            w = resident[r]
            before = float(trust[w])
            trust[w] = before + rate * ((1.0 if resolved[r] else 0.0) - before)
        key = cell[r] * n_tiers + tier[r]
        count[key] += 1
        good[key] += 1 if resolved[r] else 0
    for r in range(resident.size):
        key = cell[r] * n_tiers + tier[r]
        if count[key] > 0:
            c, t = cell[r], tier[r]
            reputation[c, t] = (1 - alpha) * reputation[c, t] + alpha * (good[key] / count[key])
            count[key] = 0


# ---------------------------------------------------------------------- a day's outpatient care, fused
# At city-district sizes a day's outpatient care would be some sixty numpy calls and six kernel
# calls around choice, passes, billing and learning, each costing more in overhead than in
# arithmetic. `outpatient_day` does it all in one compiled call.

_utilities_loop = helper(choice._episode_utilities.loop)
_passes_loop = helper(outpatient_passes.loop)
_claims_loop = helper(insurance._outpatient_batches.loop)
_learn_waits_loop = helper(_learn_waits.loop)
_learn_outcomes_loop = helper(learn_outcomes.loop)

_TESTS = COMPONENTS.index("tests")

RECORD_ROWS = metrics.by_tier_rows(*metrics.OUTPATIENT_DAY_FIELDS)
"""Rows of `DayRecord.by_tier` that `outpatient_day` adds to."""
(
    _FIRST_CONTACTS, _VISITS, _VISIT_BILLS, _VISIT_WAIT_DAYS, _VISIT_WAITS, _REFERRED, _EMPLOYEE, _EMPLOYEE_REFERRED,
    _CHRONIC,
) = RECORD_ROWS  # fmt: skip


class Seekers(NamedTuple):
    """Today's episodes seeking care, in arrival order, with what their patients expect.

    Attributes:
        resident: The patient.
        cell: The patient's home cell.
        severity: Severity of the episode.
        kind: Acute episode or follow-up (`ACUTE`, `FOLLOW_UP`).
        admission_draw: Keyed uniform draw deciding whether the episode needs a bed.
        key: The episode's key (its tele-consultation and declined-bed draws, `rules.CONSULT_STREAM`,
            `rules.DECLINED_STREAM`).
        eligible: May be first in line at the lead hospital when referred there (signed, where
            the reserved-bed lever requires it).
        managed: A signed patient's chronic follow-up (医防融合): pulled to their family doctor.
        cost: (n, K) `choice.cost_value` of the expected out-of-pocket payment on each candidate's route.
        terms: The patients' utility terms besides costs (`choice.episode_terms`).
        shocks: (rows, K + 1) taste shocks at each candidate slot, then the outside option's
            (`choice.taste_shocks`); `shock_row` the row of each episode.
        shock_row: Row of `shocks` of each episode.
        scheme: The patient's insurance scheme.
        signed: The patient is signed with a family doctor.
        chronic: The patient has hypertension or diabetes (慢性病).
        start_line_left: The patient's annual outpatient start-line not yet paid.
        fund_paid: What the fund has paid for the patient's outpatient care this year, before today.
    """

    resident: np.ndarray
    cell: np.ndarray
    severity: np.ndarray
    kind: np.ndarray
    admission_draw: np.ndarray
    key: np.ndarray
    eligible: np.ndarray
    managed: np.ndarray
    cost: np.ndarray
    terms: choice.EpisodeTerms
    shocks: np.ndarray
    shock_row: np.ndarray
    scheme: np.ndarray
    signed: np.ndarray
    chronic: np.ndarray
    start_line_left: np.ndarray
    fund_paid: np.ndarray


class BedRequests(NamedTuple):
    """Treated episodes that need a bed, in the order they were seen.

    Attributes:
        episode: Index of the episode among today's seekers.
        facility: The hospital asked (−1: nowhere to go).
        referred: Referred up (by the facility that saw them, or because it could not admit them).
        from_primary: Referred up by primary care.
    """

    episode: np.ndarray
    facility: np.ndarray
    referred: np.ndarray
    from_primary: np.ndarray


class OutpatientDay(NamedTuple):
    """What a day's outpatient care did (`outpatient_day`).

    Attributes:
        backlog: (F,) visits still queued after the day.
        expected_wait: (F,) expected outpatient waits learned from today's visits.
        claims: The visits as claims, a batch per care pass (`basis`: item by item or per head).
        requests: Bed requests.
        unmet: Episodes left with no candidate or unseen after the last pass.
        treated_outpatient: Episodes treated without needing a bed.
        referrals_up: Episodes referred up (上转) by a facility that could not treat or admit them.
        self_care: Episodes cared for at home (自我医疗).
    """

    backlog: np.ndarray
    expected_wait: np.ndarray
    claims: Claims
    requests: BedRequests
    unmet: int
    treated_outpatient: int
    referrals_up: int
    self_care: int


@helper
def _utilities_today(
    seekers: Seekers,
    terms: choice.CandidateTerms,
    cells: Cells,
    facilities: Facilities,
    tables: YearTables,
    regimen: np.ndarray,
    learning: Learning,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) candidates and utilities of today's episodes: taste shocks, the managed pull, medicines and reputations.

    A candidate that could treat a follow-up but does not stock its regimen (`regimen`, see
    `rules.stocks`) takes `tables.unstocked_penalty`: the patient knows it would refer them on.
    """
    cell, severity = seekers.cell, seekers.severity
    n, k = cell.size, cells.candidates.shape[1]
    cand = np.empty((n, k), cells.candidates.dtype)  # element by element: `take` of rows is slower
    shock = np.empty((n, k))
    p_admit = np.empty(n)
    for i in range(n):
        p_admit[i] = tables.admission_probability[severity[i]]
        for j in range(k):
            cand[i, j] = cells.candidates[cell[i], j]
            shock[i, j] = seekers.shocks[seekers.shock_row[i], j]
    utility = _utilities_loop(
        terms, cell, severity, cand, seekers.cost, facilities.expected_wait, facilities.expected_admission_wait,
        p_admit, seekers.terms, shock,
    )  # fmt: skip
    pull = tables.managed_follow_up_pull
    if pull > 0:
        for i in range(n):
            if not seekers.managed[i]:
                continue  # adding 0.0 would change no utility (but −0.0, which compares equal)
            c = cell[i]
            for j in range(k):
                on_own_primary = is_primary(cells.candidate_tier[c, j]) and cells.own_consortium[c, j]
                utility[i, j] += pull * (1.0 if on_own_primary else 0.0)
    if tables.formulary_limited:
        unstocked_penalty(utility, cand, severity, regimen, facilities.outpatient_capability, tables)
    if learning.enabled:
        for i in range(n):
            for j in range(k):
                utility[i, j] += reputation_term(learning, cell[i], cells.candidate_tier[cell[i], j])
    return cand, utility


@helper
def unstocked_penalty(
    utility: np.ndarray,
    cand: np.ndarray,
    severity: np.ndarray,
    regimen: np.ndarray,
    capability: np.ndarray,
    tables: YearTables,
) -> None:
    """Add `tables.unstocked_penalty` to each capable candidate that does not stock the episode's regimen.

    Args:
        utility: (n, K) utilities, changed in place.
        cand: (n, K) candidate facilities (−1: none).
        severity: (n,) severity of each episode.
        regimen: (n,) regimen draw of each episode (−1: acute).
        capability: (F,) outpatient capability of each facility (an incapable candidate is valued as a route already).
        tables: This year's formulary breadth and penalty.
    """
    for i in range(regimen.size):
        if regimen[i] < 0.0:
            continue
        for j in range(cand.shape[1]):
            g = cand[i, j]
            if g >= 0 and capability[g] >= severity[i] and not stocks(regimen[i], tables.formulary_breadth[g]):
                utility[i, j] += tables.unstocked_penalty


@helper
def reputation_term(learning: Learning, cell: int, tier: int) -> float:
    """Utility of a candidate of `tier` to a resident of `cell`: weight × (reputation − reference)."""
    return learning.reputation_weight * (learning.reputation[cell, tier] - learning.reference[tier])


@helper
def _bill_visits(
    seekers: Seekers,
    passes: Passes,
    cells: Cells,
    facilities: Facilities,
    tables: YearTables,
    annual_paid: np.ndarray,
    by_tier: np.ndarray,
    by_facility: np.ndarray,
) -> Claims:
    """The visits of the care passes as claims, each pass a billing batch, added to the day's and year's records."""
    seen, seen_at, ends = passes.seen, passes.seen_at, passes.pass_ends
    n_tiers = by_tier.shape[1]
    visit_components, m = tables.visit_components, seen.size
    who, tier, home = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64)
    their_scheme, their_signed = np.empty(m, seekers.scheme.dtype), np.empty(m, np.bool_)
    first_left = np.empty(ends[0] if ends.size else 0)
    first_paid = np.empty(first_left.size)
    components, bill = np.empty((m, visit_components.shape[1])), np.empty(m)
    for r in range(m):
        e = seen[r]
        who[r], home[r] = seekers.resident[e], seekers.cell[e]
        their_scheme[r], their_signed[r] = seekers.scheme[e], seekers.signed[e]
        if r < first_left.size:  # the first pass sees each episode at most once
            first_left[r] = seekers.start_line_left[e]
            first_paid[r] = seekers.fund_paid[e]
        tier[r] = facilities.tier[seen_at[r]]
        visit = visit_row(seen_at[r], seekers.severity[e], seekers.kind[e])
        for c in range(visit_components.shape[1]):  # element by element: a row slice costs a view per visit
            components[r, c] = visit_components[visit, c]
        bill[r] = tables.visit_bills[visit]
        if tables.tests_avoided > 0 and passes.seen_referred[r] and not is_primary(tier[r]):
            components[r, _TESTS] = recognised_tests(components[r, _TESTS], tables.tests_avoided)
            bill[r] = visit_bill(components[r])
    claims = insurance.OutpatientClaims(
        bill, who, tier, passes.seen_referred, their_scheme, their_signed, np.zeros(m, np.bool_)
    )
    fund, oop = _claims_loop(
        claims, tables.outpatient_rates, tables.outpatient_start_line, tables.outpatient_cap, ends,
        annual_paid[:, 0], annual_paid[:, 1], first_left, first_paid,
    )  # fmt: skip
    # Capitation (按人头): the fund's share of a signed resident's visit to their own consortium's
    # primary care is already paid per head, so the facility is not paid it again per visit.
    basis = np.full(m, OUTPATIENT_ITEM, np.int8)
    if tables.capitation:
        for r in range(m):
            if is_capitated(
                their_signed[r], tier[r], facilities.consortium[seen_at[r]], cells.consortium[seekers.cell[seen[r]]]
            ):
                basis[r] = OUTPATIENT_HEAD
                fund[r] = 0.0
    counts, waits = np.zeros(n_tiers, np.int64), np.zeros(n_tiers)
    by_route = np.zeros((4, n_tiers), np.int64)  # referred, employees', employees' referred, chronic patients'
    for r in range(m):
        counts[tier[r]] += 1
        waits[tier[r]] += passes.seen_wait[r]
        by_facility[places.VISIT_WAIT_DAYS, seen_at[r]] += passes.seen_wait[r]
        by_facility[places.VISIT_WAITS, seen_at[r]] += 1.0
        employee = their_scheme[r] == EMPLOYEE
        by_route[0, tier[r]] += passes.seen_referred[r]
        by_route[1, tier[r]] += employee
        by_route[2, tier[r]] += employee and passes.seen_referred[r]
        by_route[3, tier[r]] += seekers.chronic[seen[r]]
    for t in range(n_tiers):
        by_tier[_VISITS, t] += counts[t]
        by_tier[_REFERRED, t] += by_route[0, t]
        by_tier[_EMPLOYEE, t] += by_route[1, t]
        by_tier[_EMPLOYEE_REFERRED, t] += by_route[2, t]
        by_tier[_CHRONIC, t] += by_route[3, t]
    bounds = np.zeros(ends.size + 1, np.int64)
    bounds[1:] = ends
    metrics.add_batches_loop(tier, bill.reshape(m, 1), bounds, by_tier, RECORD_ROWS[2:3])
    for t in range(n_tiers):
        by_tier[_VISIT_WAIT_DAYS, t] += waits[t]
        by_tier[_VISIT_WAITS, t] += counts[t]
    return Claims(seen_at, tier, components, bill, fund, oop, basis, ends, home)


@helper
def _bed_requests(
    seekers: Seekers, passes: Passes, cells: Cells, facilities: Facilities, tables: YearTables, totals: DayTotals
) -> tuple[BedRequests, int, int]:
    """Treated episodes that need a bed ask where treated or where that facility refers them up.

    A moderate case declined by restraint may ask at the next tier up on its own (`declined_ward`).
    Referrals to a facility are added to the day's flows by tier and to the year's by facility (`totals`).

    Returns:
        The requests, in the order of the seen rows; the episodes treated as outpatients; and those
        referred up (untreated, or treated where they cannot be admitted).
    """
    seen, seen_at, treated, severity = passes.seen, passes.seen_at, passes.treated, seekers.severity
    facility_tier, m, flows, by_facility = facilities.tier, seen.size, totals.flows, totals.by_facility
    episode, ward = np.empty(m, np.int64), np.empty(m, np.int64)
    referred, from_primary = np.empty(m, np.bool_), np.empty(m, np.bool_)
    n_req = treated_outpatient = referrals_up = 0
    for r in range(m):
        if not treated[r]:
            continue
        e, f = seen[r], seen_at[r]
        discretion = facilities.admission_propensity[f] if severity[e] == 1 else 1.0
        probability = tables.admission_probability[severity[e]]
        if not seekers.admission_draw[e] < probability * discretion:
            elsewhere = declined_ward(
                seekers.admission_draw[e], probability, discretion, seekers.key[e], tables.declined_seek_bed,
                tables.declined_stream, cells, seekers.cell[e], facility_tier[f], facilities.inpatient_capability,
                severity[e],
            )  # fmt: skip
            if elsewhere < 0:
                treated_outpatient += 1
                continue
            # The patient goes on their own, not referred: their referral state is unchanged.
            episode[n_req], ward[n_req] = e, elsewhere
            referred[n_req], from_primary[n_req] = passes.referred[e], passes.from_primary[e]
            n_req += 1
            continue
        can_admit = facilities.inpatient_capability[f] >= severity[e]
        episode[n_req] = e
        ward[n_req] = f if can_admit else cells.referral_inpatient[seekers.cell[e], severity[e]]
        referred[n_req] = passes.referred[e] or not can_admit
        from_primary[n_req] = passes.from_primary[e] if can_admit else is_primary(facility_tier[f])
        if not can_admit:
            referrals_up += 1
            if ward[n_req] >= 0:  # a request with nowhere to go is recorded unmet at admission
                flows[facility_tier[f], facility_tier[ward[n_req]]] += 1
                by_facility[places.REFERRALS_OUT, f] += 1.0
                by_facility[places.REFERRALS_IN, ward[n_req]] += 1.0
        n_req += 1
    for r in range(m):
        if not treated[r]:
            referrals_up += 1
            flows[facility_tier[seen_at[r]], facility_tier[passes.up_target[r]]] += 1
            by_facility[places.REFERRALS_OUT, seen_at[r]] += 1.0
            by_facility[places.REFERRALS_IN, passes.up_target[r]] += 1.0
    requests = BedRequests(episode[:n_req], ward[:n_req], referred[:n_req], from_primary[:n_req])
    return requests, treated_outpatient, referrals_up


@helper
def _learn_from_passes(seekers: Seekers, passes: Passes, facilities: Facilities, learning: Learning) -> None:
    """`learn_outcomes` of the day's visits (pass order; treated or referred on), then of those turned away."""
    m, n_turned = passes.seen.size, passes.turned.size
    resident, cell = np.empty(m + n_turned, np.int64), np.empty(m + n_turned, np.int64)
    tier, resolved = np.empty(m + n_turned, np.int64), np.zeros(m + n_turned, np.bool_)
    for r in range(m):
        e = passes.seen[r]
        resident[r], cell[r], tier[r], resolved[r] = (
            seekers.resident[e],
            seekers.cell[e],
            facilities.tier[passes.seen_at[r]],
            passes.treated[r],
        )
    for r in range(n_turned):
        e = passes.turned[r]
        resident[m + r], cell[m + r], tier[m + r] = (
            seekers.resident[e],
            seekers.cell[e],
            facilities.tier[passes.turned_at[r]],
        )
    _learn_outcomes_loop(learning, resident, cell, tier, resolved)


@kernel
def outpatient_day(
    seekers: Seekers,
    terms: choice.CandidateTerms,
    cells: Cells,
    facilities: Facilities,
    tables: YearTables,
    annual_paid: np.ndarray,
    totals: DayTotals,
    learning: Learning,
) -> OutpatientDay:
    """A day's outpatient care in one call: choice, care passes, billing, waits and bed requests.

    The steps of `CareModel._seek_care` after the expected costs (ODD step 3): utilities with the
    taste shocks (`choice`), the managed follow-up pull, the care passes (`outpatient_passes`), each
    pass's visits billed as a batch (`insurance.settle_outpatient_batches`; capitated visits' fund
    share zeroed), the day's by-tier records and referral flows (added in place to `totals`), the
    backlog after the day, expected waits learned (`learn_waits`), and the treated episodes that
    need a bed (`illness.needs_admission`) as requests where treated or where that facility refers
    them up; with learning on, trust and reputations learned from the day's outcomes
    (`learn_outcomes`: the visits in pass order, then those turned away).

    Args:
        seekers: Today's episodes.
        terms: This year's candidate utility terms.
        cells: Each cell's candidates and referral targets.
        facilities: The facilities (read; the backlog and waits after the day are returned).
        tables: This year's tables.
        annual_paid: (residents, 3) the residents' annual accounts (outpatient columns updated in place).
        totals: The day's sums, added to in place.
        learning: Trust and reputations (learned in place when on); first contacts by cell are added to it.
    """
    cell, severity = seekers.cell, seekers.severity
    n, n_fac, n_tiers = cell.size, facilities.tier.size, totals.by_tier.shape[1]
    regimen, consulted = np.full(n, -1.0), np.zeros(n, np.bool_)
    for i in range(n):
        if tables.formulary_limited and seekers.kind[i] == FOLLOW_UP:
            regimen[i] = rng.keyed_unit_float(tables.regimen_stream, seekers.resident[i], 0.0)
        if tables.consult_share > 0:
            consulted[i] = rng.keyed_unit_float(tables.consult_stream, seekers.key[i], 0.0) < tables.consult_share
    cand, utility = _utilities_today(seekers, terms, cells, facilities, tables, regimen, learning)
    referral_up, lead = np.empty(n, np.int64), np.empty(n, np.int64)
    outside, outside_shock = np.full(n, -np.inf), np.empty(n)
    k = cells.candidates.shape[1]
    for i in range(n):
        referral_up[i] = cells.referral_outpatient[cell[i], severity[i]]
        lead[i] = cells.lead[cell[i]]
        if seekers.kind[i] == ACUTE:
            outside[i] = terms.outside[severity[i]]
        outside_shock[i] = seekers.shocks[seekers.shock_row[i], k]
    primary_facility = np.empty(n_fac, np.bool_)
    for f in range(n_fac):
        primary_facility[f] = is_primary(facilities.tier[f])
    passes = _passes_loop(
        utility, cand, severity, referral_up, lead, seekers.eligible, facilities, primary_facility,
        tables.max_queue_days, tables.priority, tables.max_care_passes,
        Stock(regimen, consulted, cell, tables.formulary_breadth, tables.consult_severity_gap), cells, outside,
        outside_shock,
    )  # fmt: skip
    first_contacts = np.zeros(n_tiers, np.int64)
    for i in range(n):
        if passes.first[i] < 0:
            continue  # cared for at home: no first contact
        first_tier = cells.candidate_tier[cell[i], passes.first[i]]
        first_contacts[first_tier] += 1
        learning.first_contacts[cell[i], first_tier] += 1
    for t in range(n_tiers):
        totals.by_tier[_FIRST_CONTACTS, t] += first_contacts[t]
    claims = _bill_visits(seekers, passes, cells, facilities, tables, annual_paid, totals.by_tier, totals.by_facility)
    backlog = np.empty(n_fac)
    for f in range(n_fac):
        backlog[f] = max(0.0, passes.queued[f] - facilities.outpatient_capacity[f])
    expected_wait = _learn_waits_loop(
        facilities.expected_wait, passes.seen_at, passes.seen_wait, np.zeros(passes.seen.size, np.int64),
        tables.wait_memory_days,
    )  # fmt: skip
    if learning.enabled:
        _learn_from_passes(seekers, passes, facilities, learning)
    requests, treated_outpatient, referrals_up = _bed_requests(seekers, passes, cells, facilities, tables, totals)
    return OutpatientDay(
        backlog, expected_wait, claims, requests, passes.unmet, treated_outpatient, referrals_up, passes.self_care
    )
