"""`Patient`: one resident (居民) as a Mesa agent that decides about its own care, one episode at a time.

Each method is one decision of one patient, made by calling the pure functions of `choice`, `care`,
`illness`, `insurance` and `payment` on one-patient arrays, with the same keyed random streams as the
array engine (`sim.model.CareModel`): utilities and taste shocks, the first and later choices of
facility, the place in a queue, whether the episode needs a bed and where to ask for one, the course
of a stay, the bills a patient presents to the fund, and where to go after waiting too long for a bed.
The reference model (`sim.reference.model`) calls them in the array engine's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import care, choice, illness, payment, rng
from sim.agents import Agent
from sim.insurance import chain_start_line, claim_rates
from sim.model import TRANSFER_AFTER_DAYS
from sim.parameters.illness import ACUTE, FOLLOW_UP
from sim.parameters.prices import COMPONENTS
from sim.params import TIER_LEVEL
from sim.rules import (
    CONSULT_STREAM,
    REGIMEN_STREAM,
    UPCODING_STREAM,
    coded_severity,
    covered_rate,
    is_capitated,
    is_primary,
    recognised_tests,
    stays_home,
    visit_bill,
    visit_row,
)
from sim.state import INPATIENT_CASE, INPATIENT_DAY, INPATIENT_ITEM, OUTPATIENT_HEAD, OUTPATIENT_ITEM, Requests

if TYPE_CHECKING:
    from sim.model import CareModel

_TESTS = COMPONENTS.index("tests")


@dataclass
class Case:
    """One of today's episodes, as its patient pursues it through the day's care passes.

    Attributes:
        resident, kind, severity, admission_draw, key: The episode (see `illness.Episodes`).
        utility: (K,) utility of each candidate facility, taste shock included; −inf once tried or absent.
        target: Facility the patient goes to in the current pass.
        referred: Referred up by a facility today, not the patient's own choice (上转).
        from_primary: Referred up by primary care.
        regimen: The patient's regimen draw for a follow-up (`rules.stocks`; −1: none needed).
        consulted: A tele-consultation would resolve the episode (`rules.remotely_resolved`).
    """

    resident: int
    kind: int
    severity: int
    admission_draw: float
    key: np.uint64
    utility: np.ndarray
    target: int
    referred: bool = False
    from_primary: bool = False
    regimen: float = -1.0
    consulted: bool = False


@dataclass
class Claim:
    """One bill as its patient presents it to the fund (医保结算); the fund settles claims in batches.

    Attributes:
        components: (4,) billed service, drugs, consumables, tests; `bill` is their sum (`payment.bill_totals`).
        rate: Reimbursement rate of the claim.
        start_line: The scheme's annual outpatient start-line (visits) or this admission's start-line (stays).
        cap: The scheme's annual cap on fund payments (outpatient or inpatient).
        fixed: Paid a fixed amount (a capitated visit, a per-case or per-diem stay).
    """

    resident: int
    facility: int
    tier: int
    components: np.ndarray
    bill: float
    rate: float
    start_line: float
    cap: float
    basis: int


class Patient(Agent):
    """One resident: its attributes are the population's arrays at `index`, its decisions its own.

    Attributes:
        index: Row of the resident in `model.population`.
    """

    model: CareModel

    def __init__(self, model: CareModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def cell(self) -> int:
        """Home cell: its candidates and travel times are the patient's options."""
        return int(self.model.population.cell[self.index])

    # ------------------------------------------------------------------ seeking care
    def fall_ill(self, kind: int, severity: int, admission_draw: float, key: np.uint64) -> Case | None:
        """Weigh the home cell's candidates for a new episode and head for the best (the first contact).

        Returns None when the patient stays home instead (自我医疗, `rules.stays_home`): an acute
        episode whose outside option beats every candidate.
        """
        m, i = self.model, self.index
        s, f, pop = m.scenario, m.facilities, m.population
        cell = self.cell
        cand = m.region.cell_candidates[cell]
        signed = pop.signed[i : i + 1]
        own_consortium = m.cells.own_consortium[cell]
        assert m.choice_terms is not None
        shocks = choice.taste_shocks(m.seed, np.array([key], dtype=np.uint64), cand.size)
        utility = choice.utilities(
            s.choice,
            m.choice_terms,
            cell=pop.cell[i : i + 1],
            severity=np.array([severity], dtype=np.int64),
            candidates=cand[None, :],
            cost=self.expected_costs(severity, kind)[None, :],
            facility_wait=f.expected_wait,
            admission_wait=f.expected_admission_wait,
            admission_probability=s.illness.admission_probability.as_array()[[severity]],
            trust=m.trust[i : i + 1],
            signed=signed,
            shocks=shocks[:, : cand.size],
        )
        if m.policy.managed_follow_up_pull > 0:
            # Chronic-disease management (医防融合): a signed patient's follow-ups are with their family doctor.
            managed = (kind == FOLLOW_UP) & signed
            utility += m.policy.managed_follow_up_pull * (
                managed[:, None] & is_primary(m.cells.candidate_tier[cell]) & own_consortium
            )
        tables = m.tables
        regimen = -1.0
        if tables.formulary_limited and kind == FOLLOW_UP:
            # The patient knows which candidates would not stock their regimen and refer them on.
            regimen = float(rng.uniform(m.seed, REGIMEN_STREAM, np.array([i]))[0])
            care.unstocked_penalty(
                utility, cand[None, :], np.array([severity]), np.array([regimen]), f.outpatient_capability, tables
            )
        consulted = tables.consult_share > 0 and bool(
            rng.uniform(m.seed, CONSULT_STREAM, np.array([key], dtype=np.uint64))[0] < tables.consult_share
        )
        learning = m.learning()
        if learning.enabled:
            # What the patient's neighbours learned of each tier (word of mouth).
            for j in range(cand.size):
                utility[0, j] += care.reputation_term(learning, cell, int(m.cells.candidate_tier[cell, j]))
        first = int(choice.choose(utility)[0])
        outside = m.choice_terms.outside[severity] if kind == ACUTE else -np.inf
        if stays_home(outside, shocks[0, cand.size], utility[0, first]):
            return None
        case = Case(i, kind, severity, admission_draw, key, utility[0], int(cand[first]), regimen=regimen)
        case.consulted = consulted
        case.utility[first] = -np.inf
        return case

    def expected_costs(self, severity: int, kind: int) -> np.ndarray:
        """(K,) `choice.cost_value` of what the patient expects to pay on each candidate's route.

        From this year's cost table; the outpatient start-line left is the patient's own so far this year.
        """
        return self.model.expected_costs(np.array([self.index]), np.array([severity]), np.array([kind])).cost[0]

    def arrive(self, case: Case, ahead: float) -> tuple[bool, float]:
        """Join the back of the target's outpatient queue, `ahead` visits queued there: (accepted, wait in days)."""
        m, target = self.model, case.target
        accepted, wait, _ = care.queue_outpatients(
            np.zeros(1, dtype=np.int64),
            np.array([ahead]),
            m.facilities.outpatient_capacity[target : target + 1],
            m.scenario.care.max_queue_days,
        )
        return bool(accepted[0]), float(wait[0])

    def referral_up(self, case: Case) -> int | None:
        """After being seen: None if the facility treats the episode, else the facility it refers the patient up to.

        It refers up an episode beyond its capability that no tele-consultation resolves, and a
        follow-up whose regimen it does not stock (`care.outpatient_outcome`).
        """
        m, facility = self.model, case.target
        f, tables = m.facilities, m.tables
        treated, up = care.outpatient_outcome(
            0,
            facility,
            np.array([case.severity]),
            m.cells.referral_outpatient[self.cell, [case.severity]],
            f.arrays(),
            is_primary(f.tier),
            care.Stock(
                np.array([case.regimen]),
                np.array([case.consulted]),
                np.array([self.cell]),
                tables.formulary_breadth,
                tables.consult_severity_gap,
            ),
            m.cells,
        )
        if treated:
            return None
        case.referred = True
        case.from_primary = bool(is_primary(f.tier[facility]))
        return int(up)

    def choose_again(self, case: Case) -> bool:
        """Turned away: head for the next-best candidate not yet tried; False if none is left (unmet)."""
        alt = int(choice.choose(case.utility[None, :])[0])
        if not np.isfinite(case.utility[alt]):
            return False
        case.utility[alt] = -np.inf
        case.target = int(self.model.region.cell_candidates[self.cell, alt])
        return True

    def referred_to_lead(self, facility: int, from_primary: bool) -> bool:
        """Whether the patient is referred by their consortium's primary care to its lead hospital."""
        return bool(
            self.model.referred_to_lead(np.array([self.index]), np.array([facility]), np.array([from_primary]))[0]
        )

    def ask_for_bed(self, case: Case, facility: int) -> tuple[Requests, bool] | None:
        """Treated at `facility`: None if no bed is needed, else (admission request, referred up for it).

        The bed is asked for where treated, or, if that facility cannot admit the severity, at its
        inpatient referral target (a referral up; −1 if there is none). A moderate case the facility
        declines out of restraint may ask at the next tier up on its own, not referred (`care.declined_ward`).
        """
        m = self.model
        f = m.facilities
        severity = np.array([case.severity], dtype=np.int64)
        probability = m.scenario.illness.admission_probability.as_array()
        needs = illness.needs_admission(
            np.array([case.admission_draw]), severity, f.admission_propensity[[facility]], probability
        )
        if not needs[0]:
            elsewhere = care.declined_ward(
                case.admission_draw,
                probability[case.severity],
                f.admission_propensity[facility] if case.severity == 1 else 1.0,
                case.key,
                m.tables.declined_seek_bed,
                m.tables.declined_stream,
                m.cells,
                self.cell,
                int(f.tier[facility]),
                f.inpatient_capability,
                case.severity,
            )
            if elsewhere < 0:
                return None
            return self._request(case, elsewhere, case.referred, case.from_primary), False
        can_admit = bool(f.inpatient_capability[facility] >= case.severity)
        ward = facility if can_admit else int(m.cells.referral_inpatient[self.cell, case.severity])
        from_primary = case.from_primary if can_admit else bool(is_primary(f.tier[facility]))
        return self._request(case, ward, case.referred or not can_admit, from_primary), not can_admit

    def _request(self, case: Case, ward: int, referred: bool, from_primary: bool) -> Requests:
        """The case's request for a bed at `ward`, asked today."""
        return Requests(
            resident=np.array([self.index], dtype=np.int64),
            facility=np.array([ward], dtype=np.int64),
            severity=np.array([case.severity], dtype=np.int64),
            key=np.array([case.key], dtype=np.uint64),
            since=np.array([self.model.day], dtype=np.int64),
            referred=np.array([referred]),
            from_primary=np.array([from_primary]),
            chain_consortium=np.full(1, -1, dtype=np.int64),
            chain_paid=np.zeros(1),
        )

    # ------------------------------------------------------------------ bills
    def present_visit(self, facility: int, severity: int, kind: int, referred: bool) -> Claim:
        """The bill of one visit, at this year's prices, with the patient's rate (referred or not, signed or not)."""
        m, i = self.model, self.index
        f, pop = m.facilities, m.population
        tier = int(f.tier[facility])
        scheme, signed = pop.scheme[i], pop.signed[i]
        visit = visit_row(facility, severity, kind)
        # Capitation (按人头): the fund's share of a signed resident's visit to their own consortium's
        # primary care is already paid per head.
        capitated = m.policy.capitation_rate > 0 and bool(
            is_capitated(signed, tier, f.consortium[facility], m.cells.consortium[self.cell])
        )
        components, bill = m.tables.visit_components[visit], m.tables.visit_bills[visit]
        if m.tables.tests_avoided > 0 and referred and not is_primary(tier):
            # Results recognised (检查结果互认): the hospital repeats only part of the tests.
            components = components.copy()
            components[_TESTS] = recognised_tests(components[_TESTS], m.tables.tests_avoided)
            bill = visit_bill(components)
        return Claim(
            resident=i,
            facility=facility,
            tier=tier,
            components=components,
            bill=bill,
            rate=claim_rates(m.tables.outpatient_rates, scheme, tier, referred, signed),
            start_line=m.insurance.outpatient_start_line[scheme],
            cap=m.insurance.outpatient_cap[scheme],
            basis=OUTPATIENT_HEAD if capitated else OUTPATIENT_ITEM,
        )

    def present_stay(self, slot: int) -> Claim:
        """The bill of the stay in bed `slot` ending today: per-diem, per case or item by item.

        Per-diem (按床日) for a chronic patient where the lever pays it; per case (DRG) for a stay that
        ends here, at the price of the group it is coded in (`coded_group`); a stay cut short by a
        transfer up is billed item by item, a referred one at a hospital with part of its tests not
        repeated where results are recognised (检查结果互认). The start-line is the admission's own, less
        what the referral chain already paid where that rule is in force.
        """
        m, i = self.model, self.index
        s, f, pop, w, policy = m.scenario, m.facilities, m.population, m.wards, m.policy
        at = slice(slot, slot + 1)
        facility = w.facility[at]
        tier = f.tier[facility]
        severity, stay = w.severity[at], w.stay[at]
        bill = payment.inpatient_bill(tier, w.intensity[at], severity, stay, m.year, s.prices)
        basis = INPATIENT_ITEM
        inflation = (1.0 + s.prices.price_inflation) ** m.year
        if m.tables.case_price.size > 0 and not w.transfer[slot]:
            bill = m.tables.case_price[tier, self.coded_group(slot)] * inflation
            basis = INPATIENT_CASE
        if policy.per_diem_rate is not None and (pop.hypertension[i] | pop.diabetes[i]):
            if policy.per_diem_rate[tier[0]] > 0:
                bill = policy.per_diem_rate[tier] * stay * inflation
                basis = INPATIENT_DAY
        if basis != INPATIENT_ITEM:  # per-case and per-diem payments are the amounts paid, whatever the components
            components = payment.split_components(bill, tier, True, s.prices)
        else:
            components = payment.priced_components(
                bill, tier, True, s.prices, policy.price_multiplier, f.inpatient_volume.take(facility, axis=0)
            )
            if m.tables.tests_avoided > 0 and w.referred[slot] and not is_primary(tier[0]):
                # Results recognised (检查结果互认): the hospital repeats only part of the tests.
                components[0, _TESTS] = recognised_tests(components[0, _TESTS], m.tables.tests_avoided)
        scheme = pop.scheme[i]
        start_line = chain_start_line(
            m.insurance.inpatient_start_line[[scheme], TIER_LEVEL[tier[0]]],
            w.chain_paid[at],
            w.chain_consortium[at] == f.consortium[facility],
            policy.cumulative_start_line,
        )
        return Claim(
            resident=i,
            facility=int(facility[0]),
            tier=int(tier[0]),
            components=components[0],
            bill=payment.bill_totals(components)[0],
            rate=covered_rate(
                claim_rates(m.tables.inpatient_rates, scheme, tier[0], w.referred[slot], pop.signed[i]),
                f.self_paid_share[facility[0]],
            ),
            start_line=start_line[0],
            cap=m.insurance.inpatient_cap[scheme],
            basis=basis,
        )

    def coded_group(self, slot: int) -> int:
        """The severity group the stay in bed `slot` is coded in when paid per case: its own, or one higher.

        The hospital codes a share of its stays one group higher (upcoding, `rules.coded_severity`), by
        a draw keyed by the episode.
        """
        m, w = self.model, self.model.wards
        share = m.facilities.upcoding_share[w.facility[slot]]
        draw = rng.uniform(m.seed, UPCODING_STREAM, w.key[slot : slot + 1])[0] if share > 0 else 1.0
        return int(coded_severity(int(w.severity[slot]), share, draw))

    def referred_down(self, slot: int) -> int:
        """At the end of the stay in bed `slot`: the health centre the patient is referred down to (下转), or −1.

        A draw keyed by the episode, below the tier's rate times the facility's willingness to refer down.
        """
        m = self.model
        f, w = m.facilities, m.wards
        facility = w.facility[slot]
        p_down = (
            m.scenario.care.down_referral_probability.as_array()[f.tier[facility]]
            * f.down_referral_willingness[facility]
        )
        if rng.uniform(m.seed, "care.down_referral", w.key[slot : slot + 1])[0] < p_down:
            return int(m.region.cell_candidates[self.cell, 1])
        return -1

    # ------------------------------------------------------------------ beds
    def course_in_ward(self, request: Requests, tier: np.ndarray) -> tuple[int, bool]:
        """(days in bed, whether the stay ends in a transfer up) of an admission, drawn by the episode's key."""
        m = self.model
        s = m.scenario
        stay = illness.length_of_stay(
            m.seed, request.key, tier, request.severity, m.facilities.stay_length[request.facility], s.illness
        )
        p_transfer = m.tables.transfer_probability[request.facility] * (request.severity < 3)
        transfer = rng.uniform(m.seed, "care.transfer", request.key) < p_transfer
        stay = np.where(transfer, np.minimum(stay, TRANSFER_AFTER_DAYS), stay)
        return int(stay[0]), bool(transfer[0])

    def bed_elsewhere(self, facility: int, severity: int, free: np.ndarray) -> int:
        """Tired of waiting: the nearest other candidate that admits the severity and has an open bed (−1: none).

        Args:
            facility: Where the patient has been waiting.
            severity: Severity of the episode.
            free: (F,) open beds per facility as the leavers found them this morning.
        """
        m = self.model
        cell = self.cell
        cand = m.region.cell_candidates[cell]
        safe = np.maximum(cand, 0)
        ok = (cand >= 0) & (cand != facility) & (m.facilities.inpatient_capability[safe] >= severity) & (free[safe] > 0)
        if not ok.any():
            return -1
        hours = np.where(ok, m.region.cell_travel_hours[cell], np.inf)
        return int(cand[np.argmin(hours)])
