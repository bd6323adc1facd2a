"""`CareModel`: the Mesa model that wires the pure functions together, one day per step.

Step order of a day (each a method below, in this order):

1. year start (first day of a year): advance ages, grow capacity, collect fund contributions,
   reset annual start-lines and caps, draw the year's episodes (common random numbers);
2. discharge: stays ending today free their beds; the bill is settled (fund / out of pocket) and
   booked to the facility; some patients are referred down (下转) to their health centre;
3. seek care: today's episodes choose a facility (logit), queue, are seen and billed, referred up
   when the facility cannot treat them, or go to their next choice when turned away; unmet if
   nothing is left; the day's outpatient capacity is used once, and expected outpatient waits
   move toward what patients met today;
4. admit: yesterday's waiting list, then today's admission requests, get free beds in order;
   patients who waited too long go to another capable hospital or are recorded unmet; expected
   admission waits move toward what admitted patients waited;
5. record the day; on the last day of a year, close the year: provider response, then ledgers.

The run starts `run.warmup_days` before year 0 (the tail of year −1, with its own keyed episodes)
so that wards and queues are in use when recording begins; at day 0 the ledgers and the fund are
reset, and nothing of the warm-up is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import care, choice, illness, payment, population, region, rng
from sim.facilities import Facility, FacilityState
from sim.illness import DAYS_PER_YEAR, FOLLOW_UP, Episodes
from sim.insurance import Fund, SchemeTable, split_claims
from sim.metrics import DayRecord, Recorder
from sim.params import TIER_LEVEL

if TYPE_CHECKING:
    from sim.config import Scenario

MAX_CARE_PASSES = 4
"""Hops one episode may make in a day (first choice, referrals, second choices) before it counts unmet."""

_TIER_LEVEL = np.array(TIER_LEVEL)


class CareModel(mesa.Model):
    """The simulated region: residents (arrays), facilities (agents over arrays), fund, money.

    Args:
        scenario: A validated scenario.
        seed: Run seed; defaults to the scenario's `run.seed`.

    Attributes:
        region: The built region.
        population: Residents as arrays.
        facilities: Facility state as arrays (each row also a `Facility` agent).
        fund: The insurance fund's ledger.
        recorder: Daily records; `metrics` turns them into tables.
        day: Days simulated so far.
    """

    def __init__(self, scenario: Scenario, *, seed: int | None = None) -> None:
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(rng=rng.generator(seed, "model"))
        self.scenario = scenario
        self.seed = seed
        self.region = region.build(scenario.region, scenario.run.scale)
        self.population = population.build(self.region, scenario.population, seed)
        self.facilities = FacilityState(self.region, scenario.region, scenario.care)
        for index in range(len(self.facilities)):
            Facility(self, index)
        self.insurance = SchemeTable.from_params(scenario.insurance)
        self.fund = Fund()
        self.recorder = Recorder()
        self.day = -scenario.run.warmup_days
        self.year = self.day // DAYS_PER_YEAR
        self._age0 = self.population.age.copy()
        self._episodes: Episodes | None = None
        self._episode_year: int | None = None
        self._day_bounds = np.zeros(DAYS_PER_YEAR + 1, dtype=np.int64)
        self._init_beds()
        self._init_cells()
        self._waiting = _Requests.empty()
        n = len(self.population)
        self._op_start_line_paid = np.zeros(n)
        self._op_fund_paid = np.zeros(n)
        self._ip_fund_paid = np.zeros(n)
        self._today = DayRecord.empty()

    # ------------------------------------------------------------------ set-up
    _SLOT_FIELDS = ("slot_discharge_day", "slot_resident", "slot_severity", "slot_key", "slot_stay", "slot_intensity")

    def _init_beds(self) -> None:
        self._base_beds = self.facilities.beds.copy()
        self._base_outpatient_capacity = self.facilities.outpatient_capacity.copy()
        beds = self.facilities.beds
        self.slot_facility = np.repeat(np.arange(beds.size), beds)
        n = self.slot_facility.size
        self.slot_discharge_day = np.full(n, -1, dtype=np.int64)
        self.slot_resident = np.zeros(n, dtype=np.int64)
        self.slot_severity = np.zeros(n, dtype=np.int64)
        self.slot_key = np.zeros(n, dtype=np.uint64)
        self.slot_stay = np.zeros(n, dtype=np.int64)
        self.slot_intensity = np.ones(n)

    def _grow_capacity(self) -> None:
        """Scale beds and outpatient capacity to this year's size; occupied beds keep their patients.

        Bed slots stay grouped by facility (care.allocate_beds relies on it), so the slot arrays are
        rebuilt: each facility's occupied slots move, in order, to the front of its new range.
        """
        f = self.facilities
        growth = (1.0 + self.scenario.region.capacity_growth) ** max(self.year, 0)
        f.outpatient_capacity = self._base_outpatient_capacity * growth
        occupied = self.occupied_beds()
        beds = np.where(self._base_beds > 0, np.maximum(1, np.round(self._base_beds * growth)), 0).astype(np.int64)
        beds = np.maximum(beds, occupied)
        if np.array_equal(beds, f.beds):
            return
        old = np.flatnonzero(self.slot_discharge_day >= 0)
        old_fac = self.slot_facility[old]
        start = np.concatenate([[0], np.cumsum(beds)[:-1]])
        new_index = start[old_fac] + care.rank_within(old_fac, beds.size)
        fresh = {name: np.zeros(int(beds.sum()), dtype=getattr(self, name).dtype) for name in self._SLOT_FIELDS}
        fresh["slot_discharge_day"][:] = -1
        fresh["slot_intensity"][:] = 1.0
        for name, array in fresh.items():
            array[new_index] = getattr(self, name)[old]
            setattr(self, name, array)
        self.slot_facility = np.repeat(np.arange(beds.size), beds)
        f.beds = beds

    def _init_cells(self) -> None:
        r, f = self.region, self.facilities
        cand = r.cell_candidates
        safe = np.maximum(cand, 0)
        self._cand_tier = f.tier[safe]
        home = f.consortium[cand[:, 0]]
        self._cand_own_consortium = (f.consortium[safe] == home[:, None]) & (cand >= 0)
        self._referral_outpatient = care.referral_targets(
            cand,
            self._cand_tier,
            f.outpatient_capability,
            home,
            r.consortium_lead,
            r.cell_travel_hours,
        )
        self._referral_inpatient = care.referral_targets(
            cand,
            self._cand_tier,
            f.inpatient_capability,
            home,
            r.consortium_lead,
            r.cell_travel_hours,
        )

    # ------------------------------------------------------------------ public helpers
    @property
    def years(self) -> int:
        """Years simulated (complete or started)."""
        return self.day // DAYS_PER_YEAR + (1 if self.day % DAYS_PER_YEAR else 0)

    def occupied_beds(self) -> np.ndarray:
        """Occupied beds per facility, now."""
        occupied = self.slot_discharge_day >= 0
        return np.bincount(self.slot_facility[occupied], minlength=len(self.facilities))

    def run_years(self, years: int, progress: object | None = None) -> None:
        """Advance `years` more whole years (after the warm-up, if it has not run yet).

        Args:
            years: Years to simulate.
            progress: Optional object whose `update(1)` is called after every day, warm-up
                included (`run.warmup_days + 365 × years` calls from a new model).
        """
        end = (max(self.day, 0) // DAYS_PER_YEAR + years) * DAYS_PER_YEAR
        while self.day < end:
            self.step()
            if progress is not None:
                progress.update(1)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day in the order given in the module docstring."""
        day_of_year = self.day % DAYS_PER_YEAR
        self.year = self.day // DAYS_PER_YEAR
        self._today = DayRecord.empty()
        if self.day == 0:
            self._end_warmup()
        if self._episode_year != self.year:
            self._start_year()
        self._discharge()
        requests = self._seek_care(self._todays_episodes(day_of_year))
        self._admit(requests)
        if self.day >= 0:
            self._record()
        if day_of_year == DAYS_PER_YEAR - 1 and self.year >= 0:
            self._close_year()
        self.day += 1

    def _end_warmup(self) -> None:
        """Recording starts: the warm-up's money is forgotten, its patients stay in their beds."""
        self.fund = Fund()
        self.facilities.close_year()

    def _start_year(self) -> None:
        s, pop = self.scenario, self.population
        pop.age[:] = np.clip(self._age0 + self.year, 0, 120)
        self._grow_capacity()
        growth = (1.0 + s.insurance.contribution_growth) ** max(self.year, 0)
        employees = int(np.count_nonzero(pop.scheme == population.EMPLOYEE))
        income = growth * (
            employees * s.insurance.contribution_employee + (len(pop) - employees) * s.insurance.contribution_resident
        )
        self.fund.collect(income)
        self._today.fund_income = income
        self._op_start_line_paid[:] = 0.0
        self._op_fund_paid[:] = 0.0
        self._ip_fund_paid[:] = 0.0
        self._episodes = illness.draw_year(self.seed, self.year, pop.age, pop.chronic, s.illness)
        self._episode_year = self.year
        self._day_bounds = np.searchsorted(self._episodes.day, np.arange(DAYS_PER_YEAR + 1))

    def _todays_episodes(self, day_of_year: int) -> Episodes:
        assert self._episodes is not None
        return self._episodes.take(slice(self._day_bounds[day_of_year], self._day_bounds[day_of_year + 1]))

    # ------------------------------------------------------------------ billing
    def _bill_outpatient(
        self, resident: np.ndarray, facility: np.ndarray, severity: np.ndarray, kind: np.ndarray
    ) -> None:
        f, pop, table, s = self.facilities, self.population, self.insurance, self.scenario
        tier = f.tier[facility]
        bill = payment.outpatient_bill(tier, f.intensity[facility], severity, kind, self.year, s.prices)
        scheme = pop.scheme[resident]
        level = _TIER_LEVEL[tier]
        fund, oop, used = split_claims(
            bill,
            resident,
            table.outpatient_rate[scheme, level],
            np.maximum(0.0, table.outpatient_start_line[scheme] - self._op_start_line_paid[resident]),
            np.zeros(bill.size),
            np.maximum(0.0, table.outpatient_cap[scheme] - self._op_fund_paid[resident]),
        )
        np.add.at(self._op_start_line_paid, resident, used)
        np.add.at(self._op_fund_paid, resident, fund)
        self._settle(facility, tier, payment.split_components(bill, tier, False, s.prices), fund, oop)
        self._today.add_by_tier("visits", tier)
        self._today.add_by_tier("visit_bills", tier, bill)

    def _settle(
        self, facility: np.ndarray, tier: np.ndarray, components: np.ndarray, fund: np.ndarray, oop: np.ndarray
    ) -> None:
        """Pay bills (fund and patients) and book them to facilities: the one place money moves."""
        self.fund.pay(float(fund.sum()))
        self.facilities.credit(facility, components, fund, oop)
        t = self._today
        t.fund_paid += float(fund.sum())
        t.oop_paid += float(oop.sum())
        t.revenue_booked += float(components.sum())
        for c, name in enumerate(payment.COMPONENTS):
            t.add_by_tier(f"revenue_{name}", tier, components[:, c])

    # ------------------------------------------------------------------ 2. discharge
    def _discharge(self) -> None:
        out = np.flatnonzero(self.slot_discharge_day == self.day)
        if out.size == 0:
            return
        f, pop, table, s = self.facilities, self.population, self.insurance, self.scenario
        facility = self.slot_facility[out]
        tier = f.tier[facility]
        resident = self.slot_resident[out]
        severity = self.slot_severity[out]
        stay = self.slot_stay[out]
        bill = payment.inpatient_bill(tier, self.slot_intensity[out], severity, stay, self.year, s.prices)
        scheme = pop.scheme[resident]
        level = _TIER_LEVEL[tier]
        fund, oop, _ = split_claims(
            bill,
            resident,
            table.inpatient_rate[scheme, level],
            np.zeros(bill.size),
            table.inpatient_start_line[scheme, level],
            np.maximum(0.0, table.inpatient_cap[scheme] - self._ip_fund_paid[resident]),
        )
        np.add.at(self._ip_fund_paid, resident, fund)
        self._settle(facility, tier, payment.split_components(bill, tier, True, s.prices), fund, oop)
        self.slot_discharge_day[out] = -1
        t = self._today
        t.add_by_tier("discharges", tier)
        t.add_by_tier("stay_days", tier, stay.astype(np.float64))
        t.add_by_tier("stay_bills", tier, bill)

        p_down = s.care.down_referral_probability.as_array()[tier]
        down = rng.uniform(self.seed, "care.down_referral", self.slot_key[out]) < p_down
        if down.any():
            centre = self.region.cell_candidates[pop.cell[resident[down]], 1]
            t.referrals_down += int(down.sum())
            self._bill_outpatient(
                resident[down], centre, np.zeros(centre.size, np.int64), np.full(centre.size, FOLLOW_UP)
            )

    # ------------------------------------------------------------------ 3. seek care
    def _seek_care(self, eps: Episodes) -> _Requests:
        t = self._today
        n = len(eps)
        t.episodes = n
        if n == 0:
            return _Requests.empty()
        s, f, pop = self.scenario, self.facilities, self.population
        resident = eps.resident
        cell = pop.cell[resident]
        severity = eps.severity.astype(np.int64)
        cand = self.region.cell_candidates[cell]
        available = cand >= 0
        safe = np.maximum(cand, 0)
        tier = self._cand_tier[cell]
        utility = choice.utilities(
            s.choice,
            severity=severity,
            tier=tier,
            quality=f.quality[safe],
            capability=f.outpatient_capability[safe],
            oop=self._expected_oop(resident, safe, tier, severity, eps.kind),
            hours=self.region.cell_travel_hours[cell],
            expected_wait=f.expected_wait[safe]
            + s.illness.admission_probability.as_array()[severity][:, None] * f.expected_admission_wait[safe],
            trust=pop.trust[resident],
            signed=pop.signed[resident],
            own_consortium=self._cand_own_consortium[cell],
            available=available,
        ) + choice.taste_shocks(self.seed, eps.key, cand.shape[1])

        rows = np.arange(n)
        first = choice.choose(utility)
        pending, target = rows, cand[rows, first]
        utility[rows, first] = -np.inf
        referred = np.zeros(n, dtype=bool)
        out_idx, out_fac, out_ref = [], [], []
        queued = f.backlog
        waited_at, waited = [], []
        for _ in range(MAX_CARE_PASSES):
            if pending.size == 0:
                break
            accepted, wait, queued = care.queue_outpatients(
                target, queued, f.outpatient_capacity, s.care.max_queue_days
            )
            seen, seen_at = pending[accepted], target[accepted]
            self._bill_outpatient(resident[seen], seen_at, severity[seen], eps.kind[seen])
            waited_at.append(seen_at)
            waited.append(wait[accepted])

            treated = f.outpatient_capability[seen_at] >= severity[seen]
            done, done_at = seen[treated], seen_at[treated]
            t.treated_outpatient += int(np.count_nonzero(~eps.needs_admission[done]))
            admit = eps.needs_admission[done]
            a_idx, a_fac = done[admit], done_at[admit]
            can_admit = f.inpatient_capability[a_fac] >= severity[a_idx]
            up_for_bed = self._referral_inpatient[cell[a_idx[~can_admit]], severity[a_idx[~can_admit]]]
            t.referrals_up += int(np.count_nonzero(~can_admit))
            ward = a_fac.copy()
            ward[~can_admit] = up_for_bed
            out_idx.append(a_idx)
            out_fac.append(ward)
            out_ref.append(referred[a_idx] | ~can_admit)

            up = seen[~treated]
            t.referrals_up += up.size
            referred[up] = True
            up_target = self._referral_outpatient[cell[up], severity[up]]

            turned = pending[~accepted]
            alt = choice.choose(utility[turned]) if turned.size else np.zeros(0, np.int64)
            has_alt = np.isfinite(utility[turned, alt]) if turned.size else np.zeros(0, bool)
            t.unmet_outpatient += int(np.count_nonzero(~has_alt))
            turned, alt = turned[has_alt], alt[has_alt]
            utility[turned, alt] = -np.inf
            pending = np.concatenate([up, turned])
            target = np.concatenate([up_target, cand[turned, alt]])
        t.unmet_outpatient += pending.size
        f.backlog = care.end_of_day_backlog(queued, f.outpatient_capacity)
        waited_at_all, waited_all = np.concatenate(waited_at), np.concatenate(waited)
        t.add_by_tier("visit_wait_days", f.tier[waited_at_all], waited_all)
        t.add_by_tier("visit_waits", f.tier[waited_at_all])
        f.expected_wait = self._learned(f.expected_wait, waited_at_all, waited_all)

        idx = np.concatenate(out_idx) if out_idx else np.zeros(0, np.int64)
        t.admission_requests = idx.size
        return _Requests(
            resident=resident[idx],
            facility=np.concatenate(out_fac) if out_fac else np.zeros(0, np.int64),
            severity=severity[idx],
            key=eps.key[idx],
            since=np.full(idx.size, self.day, dtype=np.int64),
            referred=np.concatenate(out_ref) if out_ref else np.zeros(0, bool),
        )

    def _expected_oop(
        self, resident: np.ndarray, facility: np.ndarray, tier: np.ndarray, severity: np.ndarray, kind: np.ndarray
    ) -> np.ndarray:
        """What a patient expects to pay at each candidate: the visit, plus the stay if one is likely."""
        s, f, pop, table = self.scenario, self.facilities, self.population, self.insurance
        scheme = pop.scheme[resident][:, None]
        visit = payment.outpatient_bill(
            tier, f.intensity[facility], severity[:, None], kind[:, None], self.year, s.prices
        )
        start_left = np.maximum(0.0, table.outpatient_start_line[scheme] - self._op_start_line_paid[resident][:, None])
        above = np.maximum(0.0, visit - start_left)
        oop = visit - above * table.outpatient_rate[scheme, _TIER_LEVEL[tier]]
        p_admit = s.illness.admission_probability.as_array()[severity][:, None]
        referred_ward = self._referral_inpatient[self.population.cell[resident], severity][:, None]
        ward = np.where(f.inpatient_capability[facility] >= severity[:, None], facility, referred_ward)
        ward_tier = f.tier[ward]
        stay = (
            s.illness.length_of_stay.as_array()[ward_tier]
            * s.illness.severity_stay_factor.as_array()[severity][:, None]
        )
        ward_bill = payment.inpatient_bill(ward_tier, f.intensity[ward], severity[:, None], stay, self.year, s.prices)
        ward_level = _TIER_LEVEL[ward_tier]
        start = table.inpatient_start_line[scheme, ward_level]
        ward_oop = np.minimum(ward_bill, start) + np.maximum(0.0, ward_bill - start) * (
            1 - table.inpatient_rate[scheme, ward_level]
        )
        return oop + p_admit * ward_oop

    def _learned(self, expected: np.ndarray, facility: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """Expected waits per facility after today's observations (facilities with none keep theirs)."""
        n = len(self.facilities)
        count = np.bincount(facility, minlength=n)
        mean = np.bincount(facility, weights=observed, minlength=n) / np.maximum(count, 1)
        return care.ewma(expected, mean, count > 0, self.scenario.care.wait_memory_days)

    # ------------------------------------------------------------------ 4. admit
    def _admit(self, new: _Requests) -> None:
        s, t = self.scenario, self._today
        queue = _Requests.concat(self._waiting, new)
        t.waiting_start = len(self._waiting)
        slot = care.allocate_beds(queue.facility, np.flatnonzero(self.slot_discharge_day < 0), self.slot_facility)
        admitted = slot >= 0
        self._occupy(queue.take(admitted), slot[admitted])

        rest = queue.take(~admitted)
        leaving = (self.day - rest.since) >= s.care.admission_wait_tolerance_days
        stay, go = rest.take(~leaving), rest.take(leaving)
        if len(go):
            alternative = self._bed_elsewhere(go)
            moved = alternative >= 0
            go.facility = alternative
            elsewhere = go.take(moved)
            slot = care.allocate_beds(
                elsewhere.facility, np.flatnonzero(self.slot_discharge_day < 0), self.slot_facility
            )
            self._occupy(elsewhere.take(slot >= 0), slot[slot >= 0])
            t.unmet_inpatient += int(np.count_nonzero(~moved)) + int(np.count_nonzero(slot < 0))
        self._waiting = stay
        t.waiting_end = len(stay)

    def _bed_elsewhere(self, go: _Requests) -> np.ndarray:
        """For patients leaving a waiting list: the nearest other capable candidate with a free bed."""
        f = self.facilities
        cell = self.population.cell[go.resident]
        cand = self.region.cell_candidates[cell]
        safe = np.maximum(cand, 0)
        free = np.bincount(self.slot_facility[self.slot_discharge_day < 0], minlength=len(f))
        ok = (cand >= 0) & (cand != go.facility[:, None]) & (f.inpatient_capability[safe] >= go.severity[:, None])
        ok &= free[safe] > 0
        hours = np.where(ok, self.region.cell_travel_hours[cell], np.inf)
        best = np.argmin(hours, axis=1)
        return np.where(np.isfinite(hours.min(axis=1)), cand[np.arange(cand.shape[0]), best], -1)

    def _occupy(self, req: _Requests, slot: np.ndarray) -> None:
        if slot.size == 0:
            return
        f, s, t = self.facilities, self.scenario, self._today
        tier = f.tier[req.facility]
        stay = illness.length_of_stay(self.seed, req.key, tier, req.severity, s.illness)
        self.slot_discharge_day[slot] = self.day + stay
        self.slot_resident[slot] = req.resident
        self.slot_severity[slot] = req.severity
        self.slot_key[slot] = req.key
        self.slot_stay[slot] = stay
        self.slot_intensity[slot] = f.intensity[req.facility]
        t.add_by_tier("admissions", tier)
        t.add_by_tier("admission_wait_days", tier, (self.day - req.since).astype(np.float64))
        t.add_by_tier("referred_admissions", tier, req.referred.astype(np.float64))
        home = self.population.district[req.resident]
        county = self.region.district_is_county[home]
        t.county_admissions += int(np.count_nonzero(county))
        t.county_admissions_in_county += int(np.count_nonzero(county & (f.district[req.facility] == home)))
        f.expected_admission_wait = self._learned(
            f.expected_admission_wait, req.facility, (self.day - req.since).astype(np.float64)
        )

    # ------------------------------------------------------------------ 6. record, close year
    def _record(self) -> None:
        t = self._today
        occupied = self.occupied_beds()
        t.add_by_tier("occupied_beds", self.facilities.tier, occupied.astype(np.float64))
        t.add_by_tier("beds", self.facilities.tier, self.facilities.beds.astype(np.float64))
        t.signed = int(np.count_nonzero(self.population.signed))
        t.residents = len(self.population)
        self.recorder.append(self.day, self.year, t)

    def _close_year(self) -> None:
        # Providers respond to the year's ledgers before they are closed.
        self.agents_by_type[Facility].do("respond", self.scenario.prices)
        self.fund.close_year(self.year)
        self.facilities.close_year()


@dataclass
class _Requests:
    """Admission requests (struct of arrays), in priority order."""

    resident: np.ndarray
    facility: np.ndarray
    severity: np.ndarray
    key: np.ndarray
    since: np.ndarray
    referred: np.ndarray

    def __len__(self) -> int:
        return int(self.resident.size)

    def take(self, index: np.ndarray) -> _Requests:
        return _Requests(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def empty(cls) -> _Requests:
        i = np.zeros(0, np.int64)
        return cls(resident=i, facility=i, severity=i, key=np.zeros(0, np.uint64), since=i, referred=np.zeros(0, bool))

    @classmethod
    def concat(cls, a: _Requests, b: _Requests) -> _Requests:
        return cls(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(cls)})
