"""The per-agent engine, each resident a `Patient` deciding for itself (the oracle): `reference_model`.

It is a `CareModel` built with other phases (composition, not a subclass): the year start, the
settlement of claims, the year close and the daily record are the model's own; the three decision
phases — discharge, seek care, admit — are `PatientDecisions`', loops over patients, one at a time,
in the array engine's order:

- discharge: stays ending today, in bed-slot order;
- seek care: today's episodes in arrival order (the random order of their keys); then pass after
  pass, referrals up before second choices, each in the order of the pass before; where priority is
  in force, patients referred to their lead hospital queue first, in arrival order;
- admit: the waiting list (oldest first), then today's transfers, then today's requests; patients
  qualifying for reserved beds first; then those who waited too long, in the same order.

What is shared between patients is shared as in the array engine, so results are identical, not
merely alike: a facility's outpatient queue is its backlog plus the arrivals it accepted earlier in
the pass, folded into the backlog at the end of the pass (so a place in the queue is the same
floating-point number); the fund settles a batch of claims at once (one care pass, or the day's
discharges) with `insurance.split_claims`, so a resident's several claims in a batch use up the
start-line and cap with the same arithmetic; expected waits are learned from the same groups of
observations. This is for small populations (`MAX_RESIDENTS`): tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import care, places, regionfiles
from sim.config import ScenarioError
from sim.illness import Episodes
from sim.insurance import split_claims
from sim.model import MAX_CARE_PASSES, CareModel
from sim.parameters.illness import DAYS_PER_YEAR, FOLLOW_UP
from sim.parameters.population import EMPLOYEE
from sim.parameters.prices import COMPONENTS
from sim.reference.agents import Case, Claim, Patient
from sim.state import FREE_BED, INPATIENT_CASE, OUTPATIENT_HEAD, Claims, Learning, Requests

if TYPE_CHECKING:
    from sim.config import Scenario

MAX_RESIDENTS = 200_000
"""Largest population the reference engine accepts: at ≈1 million resident-days a second
(docs/performance.md), five simulated years of it take ≈6 minutes, and the default scale would take 15."""


def reference_model(scenario: Scenario, *, seed: int | None = None) -> CareModel:
    """The simulated region with one `Patient` Mesa agent per resident, deciding one at a time (the oracle).

    A `CareModel` whose discharge, seek care and admit phases are `PatientDecisions`'.

    Args:
        scenario: A validated scenario, of at most `MAX_RESIDENTS` residents.
        seed: Run seed; defaults to the scenario's `run.seed`.

    Raises:
        ScenarioError: The scenario has more than `MAX_RESIDENTS` residents.
    """
    region = regionfiles.load(scenario.region, scenario.run.scale)
    if region.residents > MAX_RESIDENTS:
        raise ScenarioError(
            f"engine reference: {region.residents:,} residents is more than its limit of {MAX_RESIDENTS:,} "
            f"(run.scale ≤ {MAX_RESIDENTS / region.cell_residents.sum():g}); use the array engine"
        )
    model = CareModel(scenario, seed=seed)
    decisions = PatientDecisions(model)
    model.replace_phase("discharge", decisions.discharge)
    model.replace_phase("seek care", decisions.seek_care)
    model.replace_phase("admit", decisions.admit)
    return model


class PatientDecisions:
    """The day's three decision phases — discharge, seek care, admit — made patient by patient.

    Each resident is a `Patient` agent of the model (`model.agents_by_type[Patient]`); the phases
    read and write the model through its public state, as the array engine's phases do.

    Args:
        model: The model whose residents decide.

    Attributes:
        model: That model.
        patients: The `Patient` agents, indexed by resident.
    """

    def __init__(self, model: CareModel) -> None:
        self.model = model
        self.patients = [Patient(model, index) for index in range(len(model.population))]

    def discharge(self, model: CareModel) -> None:
        """Stays ending today end one by one (the "discharge" phase)."""
        self._discharge_patients()

    def seek_care(self, model: CareModel) -> None:
        """Today's patients seek care one at a time (the "seek care" phase); their bed requests wait for admission."""
        model.requests = self._patients_seek_care(model.todays_episodes(model.day % DAYS_PER_YEAR))

    def admit(self, model: CareModel) -> None:
        """The day's requests are admitted one at a time (the "admit" phase)."""
        requests, model.requests = model.requests, Requests.empty()
        self._admit_patients(requests)

    # ------------------------------------------------------------------ money
    def _fund_settles_visits(self, claims: list[Claim], batch_ends: list[int], *, waive_start_line: bool) -> None:
        """The fund settles visit claims (门诊统筹) batch after batch; they are paid and booked (`settle`).

        A batch is settled as if its claims came at once: each resident's annual start-line and cap
        left are taken at the batch start and used up claim by claim in batch order (`split_claims`);
        a later batch sees what earlier ones used. A capitated visit's fund part is not paid again.

        Args:
            claims: The visits' claims, in the order they arose.
            batch_ends: Where each batch ends (a day's care passes are its batches).
            waive_start_line: No annual start-line is charged (after a down-referral, where a lever says so).
        """
        c = _Batch.of(claims)
        fund, oop = np.empty(c.bill.size), np.empty(c.bill.size)
        begin = 0
        for end in batch_ends:
            part, who = slice(begin, end), c.resident[begin:end]
            if waive_start_line:
                start_left = np.zeros(end - begin)
            else:
                start_left = np.maximum(0.0, c.start_line[part] - self.model.outpatient_start_line_paid[who])
            cap_left = np.maximum(0.0, c.cap[part] - self.model.outpatient_fund_paid[who])
            fund[part], oop[part], used = split_claims(c.bill[part], who, c.rate[part], start_left, None, cap_left)
            for resident, start_paid, paid in zip(who, used, fund[part], strict=True):  # each patient's year so far
                self.model.outpatient_start_line_paid[resident] += start_paid
                self.model.outpatient_fund_paid[resident] += paid
            begin = end
        bounds = [0, *batch_ends]
        paid_fund = np.where(c.basis == OUTPATIENT_HEAD, 0.0, fund)
        home = self.model.population.cell[c.resident]
        self.model.settle(
            Claims(c.facility, c.tier, c.components, c.bill, paid_fund, oop, c.basis, np.array(batch_ends), home)
        )
        t = self.model.today
        t.add_by_tier("visits", c.tier)
        t.add_by_tier_batches(("visit_bills",), c.tier, c.bill[:, None], bounds)

    def _fund_settles_stays(self, claims: list[Claim]) -> tuple[_Batch, np.ndarray]:
        """The fund settles the day's stays as one batch (caps left as of its start); they are paid and booked.

        Returns:
            The stays, and what each patient paid.
        """
        c = _Batch.of(claims)
        cap_left = np.maximum(0.0, c.cap - self.model.inpatient_fund_paid[c.resident])
        fund, oop, _ = split_claims(c.bill, c.resident, c.rate, np.zeros(c.bill.size), c.start_line, cap_left)
        for resident, paid in zip(c.resident, fund, strict=True):
            self.model.inpatient_fund_paid[resident] += paid
        home = self.model.population.cell[c.resident]
        ends = np.full(1, c.bill.size)
        self.model.settle(Claims(c.facility, c.tier, c.components, c.bill, fund, oop, c.basis, ends, home))
        return c, oop

    # ------------------------------------------------------------------ 2. discharge
    def _discharge_patients(self) -> None:
        """Stays ending today end one by one, in bed-slot order: billed, transferred up or ended, referred down."""
        w = self.model.wards
        out = np.flatnonzero(w.discharge_day == self.model.day)
        if out.size == 0:
            return
        f, s, t, policy = self.model.facilities, self.model.scenario, self.model.today, self.model.policy
        patients = [self.patients[w.resident[slot]] for slot in out]
        stays, oop = self._fund_settles_stays([p.present_stay(slot) for p, slot in zip(patients, out, strict=True)])
        ended = ~w.transfer[out]  # the other stays continue higher up
        deflator = (1.0 + s.prices.price_inflation) ** self.model.year  # group prices are kept in year-0 yuan
        # The group each stay is coded in: one higher than its severity where paid per case and upcoded.
        group = np.array(
            [
                p.coded_group(slot) if basis == INPATIENT_CASE else w.severity[slot]
                for p, slot, basis in zip(patients, out, stays.basis, strict=True)
            ],
            dtype=np.int64,
        )
        prices, level = self.model.tables.case_price, self.model.tables.price_level
        for slot, tier, coded in zip(out, stays.tier, group, strict=True):
            if coded != w.severity[slot]:
                f.upcoded[w.facility[slot]] += prices[tier, coded] * level - prices[tier, w.severity[slot]] * level
        for slot, tier, bill in zip(out[ended], stays.tier[ended], stays.bill[ended], strict=True):
            self.model.case_bills[tier, w.severity[slot]] += bill / deflator
            self.model.case_counts[tier, w.severity[slot]] += 1
        t.add_by_tier("discharges", stays.tier[ended])
        t.add_by_tier("stay_days", stays.tier[ended], w.stay[out[ended]].astype(np.float64))
        t.add_by_tier("stay_bills", stays.tier[ended], stays.bill[ended])
        t.add_by_tier("stay_oop", stays.tier[ended], oop[ended])
        t.add_by_tier("case_weights", stays.tier[ended], self.model.tables.case_weight[group[ended]])
        start_line_paid = np.minimum(stays.bill, stays.start_line)
        t.chain_start_line_paid += float(start_line_paid.sum())
        for slot, paid in zip(out[~ended], start_line_paid[~ended], strict=True):
            self.model.transfer_up(np.array([slot]), np.array([paid]))
        w.discharge_day[out] = FREE_BED

        claims, origin = [], []
        for patient, slot in zip(patients, out, strict=True):
            centre = patient.referred_down(slot) if not w.transfer[slot] else -1
            if centre >= 0:
                claims.append(patient.present_visit(centre, 0, FOLLOW_UP, True))
                origin.append(w.facility[slot])
        if claims:
            origin_at = np.array(origin, dtype=np.int64)
            t.referrals_down += len(claims)
            t.add_flow(f.tier[origin_at], f.tier[[c.facility for c in claims]])
            self.model.places.add_referrals(origin_at, np.array([c.facility for c in claims], dtype=np.int64))
            self._fund_settles_visits(claims, [len(claims)], waive_start_line=policy.no_start_line_after_down_referral)
            if policy.down_referral_bonus > 0:
                self.model.pay_lump_sum(origin_at, np.full(origin_at.size, policy.down_referral_bonus))

    # ------------------------------------------------------------------ 3. seek care
    def _patients_seek_care(self, eps: Episodes) -> Requests:
        """Today's patients choose, queue, are seen, referred up or turned away, one at a time; their bed requests."""
        t, f = self.model.today, self.model.facilities
        t.episodes = len(eps)
        if len(eps) == 0:
            f.backlog = care.end_of_day_backlog(f.backlog, f.outpatient_capacity)
            return Requests.empty()
        pending: list[Case] = []
        for i in range(len(eps)):
            patient = self.patients[eps.resident[i]]
            case = patient.fall_ill(int(eps.kind[i]), int(eps.severity[i]), eps.admission_draw[i], eps.key[i])
            if case is None:
                t.self_care_episodes += 1
                continue
            t.add_by_tier("first_contacts", f.tier[[case.target]])
            self.model.first_contacts_by_cell[patient.cell, f.tier[case.target]] += 1
            pending.append(case)

        queued, ahead = f.backlog, np.zeros(len(f))
        passes: list[list[tuple[Case, int, bool, float]]] = []  # per pass, those seen: case, where, referred, wait
        treated: list[tuple[Case, int]] = []
        flows: list[tuple[int, int]] = []
        turned_away: list[tuple[int, int]] = []  # resident, facility
        resolved: list[bool] = []  # of each visit, in pass order: treated where seen
        for _ in range(MAX_CARE_PASSES):
            if not pending:
                break
            accepted, wait = np.zeros(len(pending), dtype=bool), np.zeros(len(pending))
            if self.model.policy.priority:
                # Priority (优先就诊) for patients referred to their lead hospital: they queue behind each other only.
                first_in_line = np.array(
                    [self.patients[c.resident].referred_to_lead(c.target, c.from_primary) for c in pending]
                )
                for group in (first_in_line, ~first_in_line):
                    if group.any():
                        start = ahead if group is first_in_line else queued
                        added = self._join_queues(pending, np.flatnonzero(group), start, accepted, wait)
                        queued = queued + added
                        if group is first_in_line:
                            ahead = ahead + added
            else:
                queued = queued + self._join_queues(pending, range(len(pending)), queued, accepted, wait)
            seen: list[tuple[Case, int, bool, float]] = []
            referred_up: list[Case] = []
            turned: list[Case] = []
            for case, ok, waited in zip(pending, accepted, wait, strict=True):
                if not ok:
                    turned.append(case)
                    turned_away.append((case.resident, case.target))
                    continue
                seen.append((case, case.target, case.referred, waited))
                up = self.patients[case.resident].referral_up(case)
                resolved.append(up is None)
                if up is None:
                    treated.append((case, case.target))
                else:
                    flows.append((case.target, up))
                    case.target = up
                    referred_up.append(case)
            passes.append(seen)
            t.referrals_up += len(referred_up)
            pending = referred_up
            for case in turned:
                if self.patients[case.resident].choose_again(case):
                    pending.append(case)
                else:
                    t.unmet_outpatient += 1
        t.unmet_outpatient += len(pending)

        # Each pass is its own billing batch: a patient seen twice is billed as on two separate occasions.
        visits = [v for seen in passes for v in seen]
        self._fund_settles_visits(
            [
                self.patients[c.resident].present_visit(at, c.severity, c.kind, referred)
                for c, at, referred, _ in visits
            ],
            np.cumsum([len(seen) for seen in passes]).tolist(),
            waive_start_line=False,
        )
        f.backlog = care.end_of_day_backlog(queued, f.outpatient_capacity)
        seen_at = np.array([at for _, at, _, _ in visits], dtype=np.int64)
        waited = np.array([waited for *_, waited in visits], dtype=np.float64)
        t.add_by_tier("visit_wait_days", f.tier[seen_at], waited)
        t.add_by_tier("visit_waits", f.tier[seen_at])
        by_facility = self.model.places.by_facility
        np.add.at(by_facility[places.VISIT_WAIT_DAYS], seen_at, waited)  # one visit after another, in pass order
        np.add.at(by_facility[places.VISIT_WAITS], seen_at, 1.0)
        referred = np.array([was_referred for _, _, was_referred, _ in visits], dtype=bool)
        who = np.array([c.resident for c, *_ in visits], dtype=np.int64)
        employee = self.model.population.scheme[who] == EMPLOYEE
        t.add_by_tier("referred_visits", f.tier[seen_at[referred]])
        t.add_by_tier("employee_visits", f.tier[seen_at[employee]])
        t.add_by_tier("employee_referred_visits", f.tier[seen_at[employee & referred]])
        chronic = self.model.population.chronic_of(who)
        t.add_by_tier("chronic_visits", f.tier[seen_at[chronic]])
        f.expected_wait = self.model.learned(f.expected_wait, seen_at, waited)
        learning = self.model.learning()
        if learning.enabled:
            self._learn_outcomes(learning, visits, resolved, turned_away)

        requests: list[Requests] = []
        for case, at in treated:
            asked = self.patients[case.resident].ask_for_bed(case, at)
            if asked is None:
                t.treated_outpatient += 1
                continue
            request, referred = asked
            requests.append(request)
            if referred:
                t.referrals_up += 1
                if request.facility[0] >= 0:  # a request with nowhere to go is recorded unmet at admission
                    flows.append((at, int(request.facility[0])))
        if flows:
            origin, target = np.array(flows, dtype=np.int64).T
            t.add_flow(f.tier[origin], f.tier[target])
            self.model.places.add_referrals(origin, target)
        new = Requests.concat_all(requests)
        t.admission_requests = new.size
        return new

    def _learn_outcomes(
        self,
        learning: Learning,
        visits: list[tuple[Case, int, bool, float]],
        resolved: list[bool],
        turned_away: list[tuple[int, int]],
    ) -> None:
        """Trust and reputations learn from the day's visits (treated or referred on), then from those turned away."""
        f = self.model.facilities
        resident = [c.resident for c, *_ in visits] + [who for who, _ in turned_away]
        at = [at for _, at, *_ in visits] + [where for _, where in turned_away]
        outcome = resolved + [False] * len(turned_away)
        care.learn_outcomes(
            learning,
            np.array(resident, dtype=np.int64),
            np.array([self.patients[who].cell for who in resident], dtype=np.int64),
            f.tier[np.array(at, dtype=np.int64)],
            np.array(outcome, dtype=bool),
        )

    def _join_queues(
        self, pending: list[Case], members: Iterable[int], start: np.ndarray, accepted: np.ndarray, wait: np.ndarray
    ) -> np.ndarray:
        """Patients `pending[members]` join their targets' queues one after the other.

        Args:
            pending: The pass's patients.
            members: Those who join now, in arrival order.
            start: (F,) visits queued at each facility before them.
            accepted: Filled in for the members: accepted (True) or turned away.
            wait: Filled in for the accepted members: the wait in days.

        Returns:
            (F,) visits added to each queue, as the array engine folds them in ((start + n) − start),
            so that a place in a queue is the same floating-point number in both engines.
        """
        arrived = np.zeros(len(self.model.facilities), dtype=np.int64)
        for j in members:
            case = pending[j]
            accepted[j], wait[j] = self.patients[case.resident].arrive(case, start[case.target] + arrived[case.target])
            if accepted[j]:
                arrived[case.target] += 1
        return (start + arrived) - start

    # ------------------------------------------------------------------ 4. admit
    def _admit_patients(self, new: Requests) -> None:
        """Waiting list, transfers, then new requests take free beds one by one; those who waited too long move on."""
        s, t, w = self.model.scenario, self.model.today, self.model.wards
        t.waiting_start = self.model.waiting.size
        t.transfer_requests = self.model.transfers.size
        queue = Requests.concat_all([self.model.waiting, self.model.transfers, new])
        self.model.transfers = Requests.empty()
        requests: list[Requests] = []
        for i in range(queue.size):
            request = queue.take(slice(i, i + 1))
            if request.facility[0] < 0:  # no hospital able to admit it (tiny scales): unmet
                t.unmet_inpatient += 1
            else:
                requests.append(request)
        to_lead = [self.patients[r.resident[0]].referred_to_lead(r.facility[0], r.from_primary[0]) for r in requests]
        # Reserved beds: qualifying patients first, to any free bed; then the others, to the free beds
        # not held for qualifying patients. Each group takes beds in turn from the list of free beds
        # as the group found it (`board`), as the array engine allocates a group at once.
        qualified = [lead and self.model.policy.reserved_share > 0 for lead in to_lead]
        admitted = [False] * len(requests)
        for first in (True, False):
            board = w.free_slots() if first else self.model.open_slots()
            facility, waited = [], []
            for j, request in enumerate(requests):
                if qualified[j] != first:
                    continue
                slot = care.allocate_beds(request.facility, board, w.facility)[0]
                if slot >= 0:
                    board = board[board != slot]
                    waited.append(self._take_bed(request, slot, qualified=first, to_lead=to_lead[j]))
                    facility.append(request.facility[0])
                    admitted[j] = True
            self._learn_admission_waits(facility, waited)

        rest = [j for j in range(len(requests)) if not admitted[j]]
        leaving = [j for j in rest if self.model.day - requests[j].since[0] >= s.care.admission_wait_tolerance_days]
        if leaving:
            # The leavers all choose from the same board of open beds, then take beds from it in turn.
            board = self.model.open_slots()
            free = np.bincount(w.facility[board], minlength=len(self.model.facilities))
            facility, waited = [], []
            for j in leaving:
                request = requests[j]
                target = self.patients[request.resident[0]].bed_elsewhere(
                    request.facility[0], request.severity[0], free
                )
                slot = -1
                if target >= 0:
                    request = request._replace(facility=np.array([target], dtype=np.int64))
                    slot = care.allocate_beds(request.facility, board, w.facility)[0]
                if slot < 0:
                    t.unmet_inpatient += 1
                    continue
                board = board[board != slot]
                waited.append(self._take_bed(request, slot, qualified=False, to_lead=False))
                facility.append(target)
            self._learn_admission_waits(facility, waited)
        gone = set(leaving)
        self.model.waiting = Requests.concat_all([requests[j] for j in rest if j not in gone])
        t.waiting_end = self.model.waiting.size
        if self.model.reserved.any():
            unused = self.model.reserved - w.occupied(len(self.model.facilities), qualified_only=True)
            self.model.reserve_idle_days = np.where(unused > 0, self.model.reserve_idle_days + 1, 0)
        else:
            self.model.reserve_idle_days = np.zeros_like(self.model.reserve_idle_days)

    def _take_bed(self, request: Requests, slot: int, *, qualified: bool, to_lead: bool) -> float:
        """The patient of a one-request `request` takes bed `slot`; the days it waited."""
        f, t, w, pop = self.model.facilities, self.model.today, self.model.wards, self.model.population
        resident, facility = request.resident[0], request.facility[0]
        tier = f.tier[request.facility]
        stay, transfer = self.patients[resident].course_in_ward(request, tier)
        w.discharge_day[slot] = self.model.day + stay
        w.resident[slot] = resident
        w.severity[slot] = request.severity[0]
        w.key[slot] = request.key[0]
        w.stay[slot] = stay
        w.intensity[slot] = f.inpatient_intensity[facility]
        w.qualified[slot] = qualified
        w.referred[slot] = request.referred[0]
        w.transfer[slot] = transfer
        chain = request.chain_consortium[0]
        w.chain_consortium[slot] = chain if chain >= 0 else f.consortium[facility]
        w.chain_paid[slot] = request.chain_paid[0]
        waited = float(self.model.day - request.since[0])
        t.add_by_tier("admissions", tier)
        t.add_by_tier("admission_wait_days", tier, np.array([waited]))
        t.add_by_tier("referred_admissions", tier, request.referred.astype(np.float64))
        if to_lead:
            t.add_by_tier("lead_referral_admissions", tier)
            t.add_by_tier("lead_referral_wait_days", tier, np.array([waited]))
        t.chronic_admissions += int(pop.hypertension[resident] | pop.diabetes[resident])
        by_facility, by_cell, cell = self.model.places.by_facility, self.model.places.by_cell, pop.cell[resident]
        by_facility[places.ADMISSIONS, facility] += 1.0
        by_facility[places.ADMISSION_WAIT_DAYS, facility] += waited
        by_cell[places.CELL_ADMISSIONS, cell] += 1.0
        home = pop.district[resident]
        if self.model.region.district_is_county[home]:
            t.county_admissions += 1
            t.county_admissions_in_county += int(f.district[facility] == home)
            by_cell[places.CELL_COUNTY_ADMISSIONS, cell] += 1.0
            by_cell[places.CELL_IN_COUNTY, cell] += float(f.district[facility] == home)
        return waited

    def _learn_admission_waits(self, facility: list[int], waited: list[float]) -> None:
        """Expected admission waits move toward what one group of admitted patients waited (as in the array engine)."""
        if not facility:
            return
        f = self.model.facilities
        f.expected_admission_wait = self.model.learned(
            f.expected_admission_wait, np.array(facility, dtype=np.int64), np.array(waited, dtype=np.float64)
        )


@dataclass
class _Batch:
    """A list of claims as arrays, in their order (see `Claim`)."""

    resident: np.ndarray
    facility: np.ndarray
    tier: np.ndarray
    components: np.ndarray
    bill: np.ndarray
    rate: np.ndarray
    start_line: np.ndarray
    cap: np.ndarray
    basis: np.ndarray

    @classmethod
    def of(cls, claims: list[Claim]) -> _Batch:
        return cls(
            resident=np.array([c.resident for c in claims], dtype=np.int64),
            facility=np.array([c.facility for c in claims], dtype=np.int64),
            tier=np.array([c.tier for c in claims], dtype=np.int64),
            components=np.array([c.components for c in claims], dtype=np.float64).reshape(len(claims), len(COMPONENTS)),
            bill=np.array([c.bill for c in claims], dtype=np.float64),
            rate=np.array([c.rate for c in claims], dtype=np.float64),
            start_line=np.array([c.start_line for c in claims], dtype=np.float64),
            cap=np.array([c.cap for c in claims], dtype=np.float64),
            basis=np.array([c.basis for c in claims], dtype=np.int8),
        )
