"""`CareModel`: the Mesa model that wires the pure functions together, one day per step.

The day is an ordered list of phases, `CareModel.phases` (print each to see the day; `insert_phase`
adds one), by default:

1. year start (first day of a year): advance ages, grow capacity, put this year's levers in force
   (`levers.Policy`: insurance rules, prices, reserved beds, budgets, per-case prices), sign
   residents up with family doctors, pay capitation, collect fund contributions, reset annual
   start-lines and caps, draw the year's episodes (common random numbers; disease management
   thins them);
2. discharge: stays ending today free their beds; the bill (fee-for-service, per-diem or per
   case) is settled between fund and patient and booked to the facility; patients whose
   condition needs a higher tier are transferred up (an admission request there); some are
   referred down (下转) to their health centre;
3. seek care: today's episodes choose a facility (logit), queue (referred signed patients first
   where priority is in force), are seen and billed, referred up when the facility cannot treat
   them, or go to their next choice when turned away; unmet if nothing is left; the day's
   outpatient capacity is used once, and expected outpatient waits move toward what patients met
   (with `care.learning` on, so do trust in primary care and each cell's reputation of each tier);
4. admit: yesterday's waiting list, then transfers and today's requests, get free beds —
   patients qualifying for reserved beds first, others only to beds not held for them; patients
   who waited too long go to another capable hospital or are recorded unmet; expected admission
   waits move toward what admitted patients waited;
5. on the last day of a year, close the year: budget settlement, provider response, revenue cap,
   then the ledgers;
6. record the day.

Claims are settled where they arise (`_settle`: paid by fund and patients, booked to facilities),
in steps 2 and 3: a day's stays, its down-referral follow-ups, then each care pass.

The run starts `run.warmup_days` before year 0 (the tail of year −1, with its own keyed episodes)
so that wards and queues are in use when recording begins; at day 0 the ledgers and the fund are
reset, and nothing of the warm-up is recorded. Levers start in year 0 at the earliest.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import (
    admission,
    care,
    choice,
    discharge,
    facilities,
    illness,
    payment,
    places,
    population,
    region,
    rng,
    workforce,
)
from sim.accel import Pins
from sim.ahead import BlockShocks, YearDraws, YearInputs
from sim.config import ScenarioError
from sim.draws import SharedDraws, SharedYear
from sim.facilities import Facility, FacilityState
from sim.illness import Episodes, YearEpisodes
from sim.insurance import (
    COST_TABLE_PARTS,
    ExpectedCosts,
    Fund,
    SchemeTable,
    claim_rate_table,
    claim_rates,
    contribution_income,
    cost_table_rows,
    expected_costs,
    home_codes,
)
from sim.levers import Assessment, GlobalBudget, Policy, ProviderResponse
from sim.metrics import DayRecord, Recorder
from sim.parameters.illness import ACUTE, DAYS_PER_YEAR, FOLLOW_UP, SEVERITIES
from sim.parameters.prices import COMPONENTS
from sim.params import TIER_LEVEL, TIERS
from sim.regionfiles import digest as region_digest
from sim.regionfiles import load as load_region
from sim.rules import (
    CONSULT_STREAM,
    DECLINED_STREAM,
    REGIMEN_STREAM,
    UPCODING_STREAM,
    is_primary,
    staffed_capability,
    staffed_quality,
)
from sim.state import (
    FREE_BED,
    Accounts,
    Cells,
    Claims,
    DayTotals,
    Learning,
    Requests,
    Reserves,
    Residents,
    Streams,
    Wards,
    YearTables,
)

if TYPE_CHECKING:
    from sim.config import Scenario

MAX_CARE_PASSES = 4
"""Hops one episode may make in a day (first choice, referrals, second choices) before it counts unmet."""

TRANSFER_AFTER_DAYS = 2

SHOCK_BLOCK_EPISODES = 1 << 16
"""Episodes whose taste shocks are drawn in one call: many days' at small scales, a few megabytes at most."""

"""Days a patient who needs a higher tier spends in the first ward before the transfer (上转)."""

_TIER_LEVEL = np.array(TIER_LEVEL)
_NO_TABLE, _NO_RATES = np.zeros((0, 0)), np.zeros(0)
"""Per-case prices and per-diem rates where those payments are not in force (kernels take arrays only)."""
_NO_RATES.setflags(write=False)  # read-only as the lever's rates are: one compiled signature for both
_PATIENT_CASES = len(SEVERITIES) * 2 * 2 * 2
"""Patient cases for expected costs: severity × kind × scheme × signed (case = ((s·2 + k)·2 + scheme)·2 + signed)."""


_CHANGING_RESIDENT_FIELDS = ("age", "signed")
"""The residents' arrays a model changes (ages each year, signing by lever); each model has its own copy."""


@dataclass(frozen=True)
class Phase:
    """One phase of the simulated day: what runs, and on which days.

    Attributes:
        name: What the phase does, in a few words ("discharge", "year close").
        run: Called with the model.
        when: Called with the model before the phase; the phase runs when it returns True.
    """

    name: str
    run: Callable[[CareModel], None]
    when: Callable[[CareModel], bool]

    def __str__(self) -> str:
        return f"{self.name:<16} {self.when.__name__.replace('_', ' '):<30} {self.run.__qualname__}"


def every_day(model: CareModel) -> bool:
    """Every day, the warm-up's included."""
    return True


def first_recorded_day(model: CareModel) -> bool:
    """Day 0, the first recorded day, after the warm-up."""
    return model.day == 0


def first_day_of_a_year(model: CareModel) -> bool:
    """The first simulated day of a year (the warm-up starts in the middle of its year)."""
    return model._episode_year != model.year


def last_day_of_a_recorded_year(model: CareModel) -> bool:
    """The last day of year 0 or later."""
    return model.day % DAYS_PER_YEAR == DAYS_PER_YEAR - 1 and model.year >= 0


def recorded_day(model: CareModel) -> bool:
    """Day 0 or later (nothing of the warm-up is recorded)."""
    return model.day >= 0


@functools.lru_cache(maxsize=1)
def _mesa_attributes() -> frozenset[str]:
    """The attributes Mesa's `Model` constructor sets on a model (its own state, not the simulator's)."""
    return frozenset(vars(mesa.Model(rng=0)))


@functools.lru_cache(maxsize=1)
def _built(
    region_json: str, region_files: str, population_json: str, scale: float, seed: int
) -> tuple[region.Region, population.Population]:
    """The region and its residents, kept for the next model of this process with the same inputs.

    `region_files` is a digest of the region's files (empty for the embedded city): an edited file
    is another region. What models do not change is made read-only: they share it (see `_residents`).
    """
    built = load_region(region.RegionParams.model_validate_json(region_json), scale)
    residents = population.build(built, population.PopulationParams.model_validate_json(population_json), seed)
    for f in fields(residents):
        if f.name not in _CHANGING_RESIDENT_FIELDS:
            getattr(residents, f.name).setflags(write=False)
    return built, residents


def _residents(
    region_params: region.RegionParams, population_params: population.PopulationParams, scale: float, seed: int
) -> tuple[region.Region, population.Population]:
    """The region and residents (shared, read-only) with fresh copies of what models change: ages and signing.

    Replications with one seed — every point of a sweep, every scenario of a comparison — build
    them once per process: drawing 100,000 residents takes longer than 20 simulated days. Only
    the changing arrays are copied: fresh memory is slow (see `arrays.Buffers`).
    """
    files = region_digest(region_params.files) if region_params.files else ""
    built, residents = _built(region_params.model_dump_json(), files, population_params.model_dump_json(), scale, seed)
    changed = {name: getattr(residents, name).copy() for name in _CHANGING_RESIDENT_FIELDS}
    return built, replace(residents, **changed)


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
        policy: The levers in force this year.
        recorder: Daily records; `metrics` turns them into tables.
        day: Days simulated so far (negative during the warm-up).
        shared_draws: Years of episodes and taste shocks shared with other runs of the seed
            (`sim.draws`; set by `sim.checkpoint.PrefixCache`), or None: this run draws its own.
    """

    def __init__(self, scenario: Scenario, *, seed: int | None = None) -> None:
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(rng=rng.generator(seed, "model"))
        self.scenario = scenario
        self.seed = seed
        self.region, self.population = _residents(scenario.region, scenario.population, scenario.run.scale, seed)
        self.facilities = FacilityState(self.region, scenario.region, scenario.care)
        self._make_facility_agents()
        # Doctors per facility (`sim.workforce`); quality and outpatient capability follow their skill.
        self.staff = workforce.build(
            self.region.facility_doctors,
            self.facilities.tier,
            scenario.workforce,
            len(self.population),
            self.region.facility_gps,
        )
        self._tier_capability = self.facilities.outpatient_capability.copy()
        self._tier_doctors, self._gps = np.zeros(len(TIERS)), 0.0  # set each year
        self.fund = Fund()
        self.recorder = Recorder()
        self.day = -scenario.run.warmup_days
        self.year = self.day // DAYS_PER_YEAR
        self.policy = Policy.for_year(scenario.levers, self.year)
        # Set each year by `_year_tables`.
        self.choice_terms: choice.CandidateTerms | None = None
        self._visit_components = self._visit_bills = np.zeros(0)
        self._cost_table = np.zeros((0, len(COST_TABLE_PARTS), 0))
        self._cost_transform = choice.cost_transform(scenario.choice, self.year)
        self.insurance = SchemeTable.from_params(scenario.insurance)
        self._outpatient_rates = self._inpatient_rates = np.zeros((2, len(TIER_LEVEL), 2, 2))  # set each year
        self._age0 = self.population.age.copy()
        self._signing_draw: np.ndarray | None = None  # drawn when a lever first raises signing (a city's is 20 MB)
        self._episodes: YearEpisodes | None = None
        self._draws = YearDraws()  # next year's episodes are drawn while this year runs
        self._last_day = self.day  # of the days `run_years` was last asked for: no year is drawn ahead beyond it
        self._episode_year: int | None = None
        self._shocks = np.zeros((0, self.region.cell_candidates.shape[1]))  # see `_todays_shocks`
        self._shock_range = (-1, -1)  # episodes of this year whose shocks `_shocks` holds
        self._shock_blocks = BlockShocks()  # the next block's shocks are drawn while this block's days run
        self.shared_draws: SharedDraws | None = None
        self._shared_year: SharedYear | None = None  # this year's shared draws, if any
        self._kept: np.ndarray | None = None  # the rows of the shared year this run's episodes are (None: all)
        self.wards = Wards.empty(self.facilities.beds)
        self._base_beds = self.facilities.beds.copy()
        self._base_outpatient_capacity = self.facilities.outpatient_capacity.copy()
        # Hospitals' own growth of beds and clinic sessions (the supply response), compounded yearly:
        # the factors a year's close asks for, applied at the next year's start under its levers.
        self._bed_scale = np.ones(len(self.facilities))
        self._clinic_scale = np.ones(len(self.facilities))
        self._asked_bed_factor = np.ones(len(self.facilities))
        self._asked_clinic_factor = np.ones(len(self.facilities))
        # The level of beds (its own scale × the expansion lever's) each hospital's clinics were staffed for.
        self._staffed_beds = np.ones(len(self.facilities))
        self._init_cells()
        self.waiting = Requests.empty()
        self.transfers = Requests.empty()
        n, n_consortia = len(self.population), self.region.consortium_lead.size
        # A resident's annual accounts side by side, then the home cell and scheme (`home_codes`) and
        # trust that the day's expected costs read with them: one 32-byte row per resident, so a
        # patient's costs and claims read and write one cache line, not a line in each of five arrays.
        self._ledger = np.zeros((n, 4))
        self._link_ledger()
        self._home[:] = home_codes(self.population.cell, self.population.scheme)
        self._trust[:] = self.population.trust  # read-only in the population, so never stale here
        learning = scenario.care.learning
        n_cells = self.region.cell_candidates.shape[0]
        self._reputation_reference = learning.reputation_prior.as_array().astype(np.float64)
        self.reputation = np.tile(self._reputation_reference, (n_cells, 1))
        self.first_contacts_by_cell = np.zeros((n_cells, len(TIERS)), dtype=np.int64)
        self.places = places.Places(self.region, COMPONENTS)
        self._expansion_targets()  # a bad facility stops the run before it starts
        self.reserved = np.zeros(len(self.facilities), dtype=np.int64)
        self.reserve_idle_days = np.zeros(len(self.facilities), dtype=np.int64)
        self._tier_beds = self._tier_reserved = np.zeros(0)  # set each year
        self._budget = np.full(n_consortia, np.nan)
        self._last_fund_claims = np.full(n_consortia, np.nan)
        self._last_resident_claims = np.full(n_consortia, np.nan)
        self.case_bills = np.zeros((4, 4))
        self.case_counts = np.zeros((4, 4))
        self._case_price: np.ndarray | None = None
        self.today = DayRecord.empty()
        self._signed_count = 0  # set each year
        self.requests = Requests.empty()  # today's admission requests, from seek care to admit
        self._streams = Streams(
            down_referral=rng.stream_key(seed, "care.down_referral"),
            transfer_key=rng.stream_key(seed, "care.transfer_key"),
            stay=rng.stream_key(seed, illness.STAY_STREAM),
            transfer=rng.stream_key(seed, admission.TRANSFER_STREAM),
            upcoding=rng.stream_key(seed, UPCODING_STREAM),
        )
        self.tables: YearTables | None = None  # set at each year start (`_tabulate_year`)
        self._pins = Pins()  # the day's kernels, called without typing their records each day
        self.phases = self.day_plan()
        self._draw_ahead(self.year, self.day % DAYS_PER_YEAR)  # the warm-up's year, while its start's rules are made

    # ------------------------------------------------------------------ set-up
    def _link_ledger(self) -> None:
        """The residents' accounts, home codes and trust as views of `_ledger` (see `__init__`)."""
        self.annual_paid = self._ledger[:, :3]
        self.outpatient_start_line_paid, self.outpatient_fund_paid, self.inpatient_fund_paid = self.annual_paid.T
        self._home, self._trust = self._ledger.view(np.int32)[:, 6], self._ledger.view(np.float32)[:, 7]

    @property
    def trust(self) -> np.ndarray:
        """(residents,) float32 trust in primary care now: as drawn at birth, then as learned (`learning`)."""
        return self._trust

    def learning(self) -> Learning:
        """Trust, reputations and the first contacts by cell as the day's care passes read and learn them."""
        lp = self.scenario.care.learning
        return Learning(
            enabled=bool(lp.enabled),
            trust=self._trust,
            reputation=self.reputation,
            reference=self._reputation_reference,
            trust_rate=float(lp.trust_rate),
            reputation_rate=1.0 / float(lp.reputation_memory_days),
            reputation_weight=float(lp.reputation_weight),
            first_contacts=self.first_contacts_by_cell,
        )

    def _expansion_targets(self) -> np.ndarray:
        """(F,) the facility expands when the expansion lever is active: its hospital, or its tier's.

        Raises:
            ScenarioError: The lever names a facility that does not exist or is not of its tier.
        """
        ex, f = self.scenario.levers.expansion, self.facilities
        of_tier = f.tier == TIERS.index(ex.tier)
        if ex.facility < 0:
            return of_tier
        if not (ex.facility < len(f) and of_tier[ex.facility]):
            allowed = np.flatnonzero(of_tier)
            raise ScenarioError(
                f"levers.expansion.facility = {ex.facility} is invalid: allowed −1 (every {ex.tier} hospital) or "
                f"a {ex.tier} hospital's index ({', '.join(map(str, allowed[:12]))}{' …' if allowed.size > 12 else ''})"
            )
        return np.arange(len(f)) == ex.facility

    def _make_facility_agents(self) -> None:
        """A `Facility` agent over each row of `facilities`, numbered from 1."""
        for index in range(len(self.facilities)):
            Facility(self, index)

    def __setstate__(self, state: dict) -> None:
        # A copy (`copy.deepcopy`, pickle) copies each view on its own: make them views of the ledger again.
        self.__dict__.update(state)
        self._link_ledger()

    def _init_cells(self) -> None:
        """Each home cell's candidates, consortium, lead hospital and referral targets (`cells`), and table keys."""
        r, f = self.region, self.facilities
        cand = r.cell_candidates
        safe = np.maximum(cand, 0)
        home = f.consortium[cand[:, 0]]
        candidate_tier = f.tier[safe]
        self._is_lead = np.zeros(len(f), dtype=bool)
        self._is_lead[r.consortium_lead] = True
        cand_consortium = np.where(cand >= 0, f.consortium[safe], -2)
        preference = care.referral_preference(
            cand, candidate_tier, cand_consortium, home, r.consortium_lead, r.cell_travel_hours
        )
        self.cells = Cells(
            candidates=cand,
            travel_hours=r.cell_travel_hours,
            candidate_tier=candidate_tier,
            candidate_preference=preference,
            own_consortium=(f.consortium[safe] == home[:, None]) & (cand >= 0),
            referral_outpatient=care.referral_targets(cand, preference, f.outpatient_capability),
            referral_inpatient=care.referral_targets(cand, preference, f.inpatient_capability),
            lead=r.consortium_lead[home],
            consortium=home,
            district_is_county=r.district_is_county,
        )
        # Keys into the yearly cost tables (`_year_tables`) for each cell, patient case (severity,
        # kind, scheme, signed) and candidate: (cells, cases, K) of the visit at the candidate, and
        # of the stay, at the candidate or where it would refer up to.
        case = np.arange(_PATIENT_CASES)[None, :, None]
        severity, patient = case // 8, case % 4
        self._visit_key = safe[:, None, :] * _PATIENT_CASES + case
        capable = f.inpatient_capability[safe][:, None, :] >= severity
        ward = np.where(capable, safe[:, None, :], self.cells.referral_inpatient[:, severity[0, :, 0], None]) % len(f)
        self._stay_key = ((ward * len(SEVERITIES) + severity) * 2 + capable) * 4 + patient
        # Where each candidate refers each severity on (a route through it), and the key of that
        # referred visit in the yearly table of onward visits (−1: the candidate treats it).
        self._onward = choice.onward_targets(cand, f.outpatient_capability, self.cells.referral_outpatient)
        onward = self._onward[:, severity[0, :, 0], :]
        self._onward_key = np.where(onward >= 0, onward * _PATIENT_CASES + case, -1)

    # ------------------------------------------------------------------ public helpers
    def copy_under(self, scenario: Scenario) -> CareModel:
        """A copy of this model that goes on under `scenario` from today (its past stays this model's).

        Sound only where `scenario` would have given this model as it is now: `sim.checkpoint`
        decides that (`prefix_key`), and copies models on the first day of a year, before the
        year start derives this year's rules from the scenario; this method checks nothing.
        """
        # What no model changes (the region, the residents' read-only attributes) is shared, not copied.
        twin = CareModel.__new__(CareModel)
        shared: dict[int, object] = {id(self): twin, id(self.scenario): scenario, id(self.region): self.region}
        for value in vars(self.population).values():
            if isinstance(value, np.ndarray) and not value.flags.writeable:
                shared[id(value)] = value
        # Mesa's own state (its registries of agents among it) is made anew by its constructor, and
        # the agents, views of rows, with it: copying the registries took most of the time.
        mesa.Model.__init__(twin, rng=rng.generator(self.seed, "model"))
        own = {name: value for name, value in vars(self).items() if name not in _mesa_attributes()}
        vars(twin).update(copy.deepcopy(own, shared))
        twin._link_ledger()
        twin._make_facility_agents()
        return twin

    def occupied_beds(self) -> np.ndarray:
        """Occupied beds per facility, now."""
        return self.wards.occupied(len(self.facilities))

    def case_mix(self) -> tuple[np.ndarray, np.ndarray]:
        """This year's completed stays by (tier, severity): their bills in year-0 yuan, and how many (read-only).

        Per-case prices (DRG/DIP) are set from the case mix of the year before the lever starts
        (`payment.group_prices`); a stay that ends in a transfer up is not completed.
        """
        bills, counts = self.case_bills.view(), self.case_counts.view()
        bills.flags.writeable = counts.flags.writeable = False
        return bills, counts

    def annual_accounts(self) -> dict[str, np.ndarray]:
        """Each resident's insurance accounts this year, yuan (read-only views; zeroed at each year start).

        Keys: `outpatient_start_line_paid` (toward the annual outpatient start-line, 门诊起付线),
        `outpatient_fund_paid` and `inpatient_fund_paid` (toward the annual caps, 封顶线; a capitated
        visit counts the fund's part it would have paid).
        """
        names = ("outpatient_start_line_paid", "outpatient_fund_paid", "inpatient_fund_paid")
        accounts = {}
        for name, column in zip(names, self.annual_paid.T, strict=True):
            view = column.view()
            view.flags.writeable = False
            accounts[name] = view
        return accounts

    def run_years(self, years: int, progress: object | None = None) -> None:
        """Advance `years` more whole years (after the warm-up, if it has not run yet).

        Args:
            years: Years to simulate.
            progress: Optional object whose `update(1)` is called after every day, warm-up
                included (`run.warmup_days + 365 × years` calls from a new model).
        """
        end = (max(self.day, 0) // DAYS_PER_YEAR + years) * DAYS_PER_YEAR
        self._last_day = end - 1
        while self.day < end:
            self.step()
            if progress is not None:
                progress.update(1)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the day
    @classmethod
    def day_plan(cls) -> list[Phase]:
        """The phases of a day, in order (the module docstring describes each)."""
        return [
            Phase("end of warm-up", cls._end_warmup, first_recorded_day),
            Phase("year start", cls._start_year, first_day_of_a_year),
            Phase("discharge", cls._discharge, every_day),
            Phase("seek care", cls._seek_care_today, every_day),
            Phase("admit", cls._admit_today, every_day),
            Phase("year close", cls._close_year, last_day_of_a_recorded_year),
            Phase("record", cls._record, recorded_day),
        ]

    def insert_phase(self, phase: Phase, *, before: str) -> None:
        """Run `phase` every day (when its `when` holds) just before the phase named `before`.

        Raises:
            KeyError: No phase of this model is named `before`.
        """
        names = [p.name for p in self.phases]
        if before not in names:
            raise KeyError(f"no phase named {before!r}; the day's phases are {', '.join(names)}")
        self.phases.insert(names.index(before), phase)

    def replace_phase(self, name: str, run: Callable[[CareModel], None]) -> None:
        """Run `run` in place of the phase named `name` (on the same days): another engine's way of a phase.

        Raises:
            KeyError: No phase of this model is named `name`.
        """
        names = [p.name for p in self.phases]
        if name not in names:
            raise KeyError(f"no phase named {name!r}; the day's phases are {', '.join(names)}")
        at = names.index(name)
        self.phases[at] = replace(self.phases[at], run=run)

    def step(self) -> None:
        """Simulate one day: each phase of `phases` whose `when` holds today, in order."""
        self.year = self.day // DAYS_PER_YEAR
        self.today = DayRecord.empty()
        for phase in self.phases:
            if phase.when(self):
                phase.run(self)
        self.day += 1

    def _seek_care_today(self) -> None:
        day_of_year = self.day % DAYS_PER_YEAR
        episodes, kept = self._todays(day_of_year)
        block, rows = self._todays_shocks(day_of_year)
        self.requests = self._seek_care(episodes, (block, rows if kept is None else rows[kept]))

    def _admit_today(self) -> None:
        requests, self.requests = self.requests, Requests.empty()
        self._admit(requests)

    # ------------------------------------------------------------------ 1. year start
    def _end_warmup(self) -> None:
        """Recording starts: the warm-up's money is forgotten, its patients stay in their beds."""
        self.fund = Fund()
        self.facilities.close_year()
        self.facilities.last_revenue[:] = np.nan
        self.places.restart(self.first_contacts_by_cell)
        self._last_fund_claims[:] = np.nan
        self._last_resident_claims[:] = np.nan

    def _start_year(self) -> None:
        s, pop, f = self.scenario, self.population, self.facilities
        pop.age[:] = population.ages_in(self._age0, self.year)
        self.policy = policy = Policy.for_year(s.levers, self.year)
        self._grow_capacity()
        self._upgrade_hospitals()
        self.insurance = SchemeTable.from_params(policy.insurance(s.insurance))
        self._outpatient_rates, self._inpatient_rates = (
            claim_rate_table(rate, _TIER_LEVEL, policy.rate_cut, policy.gatekeeping_cut)
            for rate in (self.insurance.outpatient_rate, self.insurance.inpatient_rate)
        )
        self._staff_year()
        self._build_county_specialties()
        self._year_tables()
        self.reserved = care.reserved_beds(self._is_lead, f.beds, policy.reserved_share)
        # Beds and reserves change only here: their daily by-tier records are this year's totals.
        self._tier_beds, self._tier_reserved = (
            np.bincount(f.tier, weights=beds.astype(np.float64), minlength=len(TIERS))
            for beds in (f.beds, self.reserved)
        )
        if policy.drg_factor is not None and self._case_price is None:
            self._case_price = payment.group_prices(self.case_bills, self.case_counts, policy.drg_factor)
        self.case_bills[:] = 0.0  # group prices come from last year's completed stays
        self.case_counts[:] = 0.0
        gb = policy.global_budget
        self._budget = (
            (self._last_resident_claims if gb.per_head else self._last_fund_claims) * (1.0 + gb.growth)
            if gb is not None
            else (np.full_like(self._budget, np.nan))
        )
        self._sign_up()
        self._signed_count = int(np.count_nonzero(pop.signed))  # residents sign up only at a year start
        if policy.capitation_rate > 0:
            home = pop.cell[pop.signed]
            paid = payment.capitation_payments(
                policy.capitation_rate,
                policy.capitation_station_share,
                station=self.region.cell_candidates[home, 0],
                centre=self.region.cell_candidates[home, 1],
                n_facilities=len(f),
            )
            payee = np.flatnonzero(paid)
            self.pay_lump_sum(payee, paid[payee])
            self.today.capitation_paid = float(paid.sum())

        employees = int(np.count_nonzero(pop.scheme == population.EMPLOYEE))
        income = contribution_income(s.insurance, employees, len(pop), self.year)
        self.fund.collect(income)
        self.today.fund_income = income
        self.annual_paid[:] = 0.0
        self._draw_year()
        self._tabulate_year()
        self._pins.clear()  # this year's tables may be of other types (a lever's table in force or not)

    def _staff_year(self) -> None:
        """This year's doctors (`sim.workforce`): last year's flows, then sending down; quality and capability follow.

        With `workforce.enabled` off, the doctors stay as built and quality and capability their tier's.
        """
        wp, f, policy = self.scenario.workforce, self.facilities, self.policy
        if wp.enabled:
            staff = self.staff
            if self.year >= 1:  # year 0 is the build's
                ratio = workforce.pay_ratio(wp, policy.salary_reform, policy.primary_pay_gap_closed)
                staff = workforce.advance(
                    staff, wp, tier=f.tier, district=f.district, ratio=ratio, residents=len(self.population)
                )
            staff = workforce.rotate(
                staff, policy.sending_down_share, tier=f.tier, consortium=f.consortium, lead=self.region.consortium_lead
            )
            before, after = self.staff.effective_skill, staff.effective_skill
            f.quality = staffed_quality(f.quality, before, after, wp.quality_per_skill)
            capability = staffed_capability(self._tier_capability, f.tier, staff.effective_skill, wp.skill.as_array())
            self.staff = staff
            if not np.array_equal(capability, f.outpatient_capability):
                f.outpatient_capability = capability
                self._init_cells()  # referral targets and routes follow capability
        self._tier_doctors = np.bincount(f.tier, weights=self.staff.doctors, minlength=len(TIERS))
        self._gps = float(self.staff.gps.sum())

    def _tabulate_year(self) -> None:
        """This year's prices, insurance rules and care parameters as the day's phases read them (`YearTables`)."""
        s, policy, table = self.scenario, self.policy, self.insurance
        prices, care_params, illness_params = s.prices, s.care, s.illness
        f = self.facilities
        breadth = care.formulary_breadth(
            care_params.formulary_breadth.as_array(),
            f.tier,
            f.consortium,
            self.region.consortium_lead,
            policy.formulary_share_of_lead,
        )
        self.tables = YearTables(
            price_level=self._price_level(),
            price_multiplier=policy.price_multiplier,
            inpatient_price_per_day=prices.inpatient_price_per_day.as_array(),
            severity_price_factor=prices.inpatient_severity_factor.as_array(),
            drug_share_inpatient=prices.drug_share_inpatient.as_array(),
            drugs_and_consumables_share_inpatient=(
                prices.drug_share_inpatient.as_array() + prices.consumables_share_inpatient.as_array()
            ),
            test_share_inpatient=prices.test_share_inpatient.as_array(),
            case_price=self._case_price
            if self._case_price is not None and policy.drg_factor is not None
            else _NO_TABLE,
            per_diem_rate=_NO_RATES if policy.per_diem_rate is None else policy.per_diem_rate,
            visit_components=self._visit_components,
            visit_bills=self._visit_bills,
            tier_level=_TIER_LEVEL,
            outpatient_rates=self._outpatient_rates,
            outpatient_start_line=table.outpatient_start_line,
            outpatient_cap=table.outpatient_cap,
            inpatient_rates=self._inpatient_rates,
            inpatient_start_line=table.inpatient_start_line,
            inpatient_cap=table.inpatient_cap,
            chain_start_line=bool(policy.cumulative_start_line),
            waive_start_line=bool(policy.no_start_line_after_down_referral),
            capitation=bool(policy.capitation_rate > 0),
            admission_probability=illness_params.admission_probability.as_array(),
            down_referral_probability=care_params.down_referral_probability.as_array(),
            transfer_probability=payment.transfer_probability(
                care_params.transfer_probability.as_array()[f.tier],
                per_head_member=self._per_head_hospitals(),
                retention_response=policy.response.retention_response,
                surplus_kept=0.0 if policy.global_budget is None else policy.global_budget.surplus_kept,
            ),
            mean_stay=illness_params.length_of_stay.as_array(),
            severity_stay_factor=illness_params.severity_stay_factor.as_array(),
            managed_follow_up_pull=float(policy.managed_follow_up_pull),
            priority=bool(policy.priority),
            max_queue_days=float(care_params.max_queue_days),
            max_care_passes=MAX_CARE_PASSES,
            wait_memory_days=float(care_params.wait_memory_days),
            reserve=bool(policy.reserved_share > 0),
            reserved_signed_only=bool(policy.reserved_signed_only),
            reserve_release_days=int(policy.reserved_release_days),
            admission_wait_tolerance=float(care_params.admission_wait_tolerance_days),
            formulary_breadth=breadth,
            formulary_limited=bool((breadth < 1.0).any()),
            regimen_stream=rng.stream_key(self.seed, REGIMEN_STREAM),
            unstocked_penalty=float(s.choice.referral_step),
            consult_share=float(policy.consult_share),
            consult_stream=rng.stream_key(self.seed, CONSULT_STREAM),
            consult_severity_gap=int(policy.consult_severity_gap),
            declined_seek_bed=float(care_params.declined_seek_bed),
            declined_stream=rng.stream_key(self.seed, DECLINED_STREAM),
            tests_avoided=float(policy.tests_avoided),
            case_weight=self._case_weights(),
        )

    def _case_weights(self) -> np.ndarray:
        """(severities,) the per-case groups' weights for the case-mix index (`payment.group_weights`)."""
        return payment.group_weights(
            self.scenario.prices.inpatient_severity_factor.as_array(),
            self.scenario.illness.severity_stay_factor.as_array(),
            SEVERITIES.index("severe"),
        )

    def _totals(self) -> DayTotals:
        """Today's sums the phases add to."""
        return DayTotals(self.today.by_tier, self.today.flows, self.places.by_facility, self.places.by_cell)

    def _residents(self) -> Residents:
        """The residents' attributes the day's phases read."""
        pop = self.population
        return Residents(pop.cell, pop.district, pop.scheme, pop.signed, pop.hypertension, pop.diabetes)

    def _draw_year(self) -> None:
        """This year's episodes (common random numbers; disease management thins them) and their taste shocks."""
        s, pop = self.scenario, self.population
        keep = self._keep(self.policy)
        self._shared_year = (
            self.shared_draws.year(self.year, pop.age, pop.chronic, s.illness, len(self._episodes or ()))
            if self.shared_draws is not None and self.day % DAYS_PER_YEAR == 0
            else None
        )
        self._episodes = None  # its arrays are overwritten by this year's
        self._shock_blocks.drop()  # it reads them
        if self._shared_year is not None:
            self._episodes, self._kept = illness.thin(self._shared_year.unthinned, keep, self._draws.buffers())
        else:
            self._kept = None
            first_day = self.day % DAYS_PER_YEAR  # the warm-up starts late in its year
            inputs = YearInputs(self.seed, self.year, pop.age, pop.chronic, s.illness, keep, first_day)
            self._episodes = self._draws.draw(inputs)
            if self.shared_draws is None and (self.year + 1) * DAYS_PER_YEAR <= self._last_day:
                self._draw_ahead(self.year + 1, 0)
        self._episode_year = self.year
        self._shock_range = (-1, -1)  # last year's shocks are not this year's episodes'

    def _draw_ahead(self, year: int, first_day: int) -> None:
        """Start drawing the episodes of `year` on another thread (`sim.ahead`): its ages and lever, today's sign-ups.

        Its year start takes them if its ages, chronic conditions and thinning are those (sign-ups
        change only at a year start, and not at all without a lever raising them).
        """
        s = self.scenario
        age = population.ages_in(self._age0, year)
        keep = self._keep(Policy.for_year(s.levers, year))
        self._draws.draw_ahead(YearInputs(self.seed, year, age, self.population.chronic, s.illness, keep, first_day))

    def _keep(self, policy: Policy) -> np.ndarray | None:
        """Each resident's acceptance probability of acute episodes under `policy`'s disease management (None: 1)."""
        if policy.management_effect <= 0:
            return None
        managed = self.population.signed & self.population.chronic
        return np.where(managed, 1.0 - policy.management_effect, 1.0)

    def _sign_up(self) -> None:
        """Family-doctor signing rises toward the lever's targets (key groups first); nobody unsigns.

        A resident signs once their keyed draw falls below their group's rate, the same draw as at
        initialisation, so a higher rate signs up a superset of the baseline's residents.
        """
        pop, p = self.population, self.scenario.population
        rate_all, rate_key = self.policy.signing_rates(p.signing_rate_others, p.signing_rate_key_groups)
        if rate_key == p.signing_rate_key_groups and rate_all == p.signing_rate_others:
            return
        key = pop.key_group
        key_share = float(key.mean())
        # `rate_all` is the target for everyone: others sign at whatever rate makes up the total.
        rate_others = np.clip((rate_all - key_share * rate_key) / max(1.0 - key_share, 1e-9), 0.0, 1.0)
        rate_others = max(rate_others, p.signing_rate_others)
        if self._signing_draw is None:
            self._signing_draw = rng.uniform(self.seed, "pop.signed", np.arange(len(pop)))
        pop.signed |= self._signing_draw < np.where(key, rate_key, rate_others)

    def _grow_capacity(self) -> None:
        """Scale beds and outpatient capacity to this year's size; occupied beds keep their patients."""
        f, ex = self.facilities, self.scenario.levers.expansion
        growth, last_growth = self._planned_growth(self.year), self._planned_growth(self.year - 1)
        # The scale cap (控制规模) in force this year bounds the rise the hospitals asked for.
        ceiling = np.full(len(f), np.inf)
        if (cap := self.scenario.levers.scale_cap).active(self.year):
            capped = (f.tier == TIERS.index("tertiary")) if cap.tertiary_only else ~is_primary(f.tier)
            ceiling[capped] = np.exp(cap.max_growth)
        last_plan = self._base_beds * self._bed_scale * last_growth  # before this year's response and planning
        self._bed_scale = self._bed_scale * np.minimum(self._asked_bed_factor, ceiling)
        self._plan_beds(last_plan, growth, last_growth)
        self._clinic_scale = self._clinic_scale * np.minimum(self._asked_clinic_factor, ceiling)
        self._asked_bed_factor = np.ones(len(f))
        self._asked_clinic_factor = np.ones(len(f))
        f.outpatient_capacity = self._base_outpatient_capacity * self._clinic_scale * growth
        beds = np.zeros_like(self._base_beds)
        for tier in np.unique(f.tier):  # each tier's total grows, shared by largest remainders
            members = f.tier == tier
            base = self._base_beds[members] * self._bed_scale[members]
            beds[members] = region.apportion(base, round(base.sum() * growth[members][0]))  # a tier's growth is one
        if ex.active(self.year):
            grown = self._expansion_targets()  # from this scenario's lever: `copy_under` may have changed it
            beds[grown] += np.round(beds[grown] * ex.beds_share).astype(beds.dtype)
            f.outpatient_capacity = np.where(
                grown, f.outpatient_capacity * (1.0 + ex.outpatient_share), f.outpatient_capacity
            )
        beds = np.maximum(beds, self.occupied_beds())
        if not np.array_equal(beds, f.beds):
            self.wards = self.wards.resized(beds)
            f.beds = beds

    def _planned_growth(self, year: int) -> np.ndarray:
        """(F,) each facility's planned growth of capacity from year 0 to `year` (`region.capacity_growth`).

        Hospitals that invest from their surplus (`response.invest_from_surplus`) have no planned growth.
        """
        f = self.facilities
        growth = (1.0 + self.scenario.region.capacity_growth) ** max(year, 0)
        if not self.policy.response.invest_from_surplus:
            return np.full(len(f), growth)
        return np.where(is_primary(f.tier), growth, 1.0)

    def _upgrade_hospitals(self) -> None:
        """Secondary hospitals with the upgrade lever's beds become tertiary (医院等级评审); routes follow.

        Prices, insurance rates and transfer probabilities are read by tier each year; capability and
        quality become the tertiary tier's where higher.
        """
        lever, f, care_params = self.policy.upgrade, self.facilities, self.scenario.care
        if lever is None:
            return
        up = np.flatnonzero((f.tier == TIERS.index("secondary")) & (f.beds >= lever.min_beds * self.scenario.run.scale))
        if up.size == 0:
            return
        tertiary = TIERS.index("tertiary")
        f.tier[up] = tertiary
        f.quality[up] = np.maximum(f.quality[up], care_params.quality.as_array()[tertiary])
        for capability, tier_values in (
            (f.outpatient_capability, care_params.outpatient_capability),
            (f.inpatient_capability, care_params.inpatient_capability),
            (self._tier_capability, care_params.outpatient_capability),
        ):
            capability[up] = np.maximum(capability[up], int(tier_values.as_array()[tertiary]))
        self._init_cells()

    def _plan_beds(self, last_plan: np.ndarray, growth: np.ndarray, last_growth: np.ndarray) -> None:
        """The bed planning levers in force rescale this year's planned beds (`_bed_scale`) before tiers share them.

        `primary_beds_first` moves the hospitals' planned growth of the year to the health centres;
        `bed_standard` holds hospital tiers to their ceilings and builds health centres up to their floor.
        A change of scale stays: the plan grows from the beds it gave, with no catching up later.

        Args:
            last_plan: (F,) last year's planned beds of each facility.
            growth: (F,) this year's planned growth of each facility's capacity since year 0.
            last_growth: (F,) last year's.
        """
        policy, f = self.policy, self.facilities
        if not policy.primary_beds_first and policy.bed_build_up == 0 and np.isinf(policy.bed_ceiling).all():
            return
        plan = self._base_beds * self._bed_scale * growth
        own = self._base_beds * self._bed_scale * last_growth  # last year's plan × the supply response
        factor = facilities.primary_beds_first(plan, own, f.tier) if policy.primary_beds_first else np.ones(len(f))
        residents_k = len(self.population) / 1000.0
        tier_beds = np.bincount(f.tier, weights=f.beds.astype(np.float64), minlength=len(TIERS))
        factor = factor * facilities.standard_beds(
            plan * factor,
            np.minimum(own, last_plan),
            f.tier,
            over=tier_beds >= policy.bed_ceiling * residents_k,
            ceiling=policy.bed_ceiling * residents_k,
            floor=policy.bed_floor * residents_k,
            build_up=policy.bed_build_up,
        )
        self._bed_scale = self._bed_scale * factor

    def todays_episodes(self, day_of_year: int) -> Episodes:
        """The episodes of this year's day `day_of_year` that seek care, in arrival order (`_todays`)."""
        return self._todays(day_of_year)[0]

    def _todays(self, day_of_year: int) -> tuple[Episodes, np.ndarray | None]:
        """Today's episodes that seek care, and which of the day's episodes they are (None: all).

        Long prescriptions (长处方) make some chronic follow-up visits unnecessary
        (`illness.long_prescription_kept`): the visits kept are the baseline's.
        """
        assert self._episodes is not None
        episodes = self._episodes.days(day_of_year, day_of_year + 1)
        avoided = self.policy.prescription_visits_avoided
        if avoided <= 0:
            return episodes, None
        eligible = self.population.signed[episodes.resident] if self.policy.prescription_signed_only else None
        kept = illness.long_prescription_kept(self.seed, episodes.key, episodes.kind, eligible, avoided)
        return episodes.take(kept), kept

    def _todays_shocks(self, day_of_year: int) -> tuple[np.ndarray, np.ndarray]:
        """Taste shocks of today's episodes: a block of days' shocks (`SHOCK_BLOCK_EPISODES`) and today's rows of it.

        Shocks are keyed by episode, so drawing a block of days at once gives each day the same
        shocks in one call where small days would each make a dozen; the next block's are drawn on
        another thread while this block's days run (`sim.ahead.BlockShocks`). With shared draws,
        the block is the year's (`sim.draws`).
        """
        assert self._episodes is not None
        bounds = self._episodes.start
        begin, end = bounds[day_of_year], bounds[day_of_year + 1]
        if self._shared_year is not None:
            rows = np.arange(begin, end) if self._kept is None else self._kept[begin:end]
            return self._shared_year.shocks, rows
        first, last = self._shock_range
        if not first <= begin <= end <= last:
            first, last = self._shock_block(day_of_year)
            k, key = self.region.cell_candidates.shape[1], self._episodes.key
            self._shocks = self._shock_blocks.draw(self.seed, key[first:last], k)
            self._shock_range = (first, last)
            following = np.searchsorted(bounds, last, side="right") - 1  # the day the next block starts
            if following < DAYS_PER_YEAR:
                self._shock_blocks.draw_ahead(self.seed, key[slice(*self._shock_block(following))], k)
        return self._shocks, np.arange(begin - first, end - first)

    def _shock_block(self, day_of_year: int) -> tuple[int, int]:
        """The episodes whose shocks are drawn with the day's: whole days from it up to the block size, at least it."""
        assert self._episodes is not None
        bounds = self._episodes.start
        days = np.searchsorted(bounds, bounds[day_of_year] + SHOCK_BLOCK_EPISODES, side="right") - 1
        return int(bounds[day_of_year]), int(bounds[max(days, day_of_year + 1)])

    # ------------------------------------------------------------------ money
    def settle(self, claims: Claims) -> None:
        """Pay claims (fund and patients) and book them to facilities: where billed money moves.

        Claims in consecutive batches (`claims.ends`) are paid and booked batch after batch, every
        sum as if each batch were settled on its own (`FacilityState.book_claims`).
        """
        t = self.today
        bounds = [0, *claims.ends.tolist()]
        sums = self.facilities.book_claims(
            claims.facility, claims.tier, claims.components, claims.bill, claims.fund, claims.oop,
            basis=claims.basis, bounds=np.array(bounds, dtype=np.int64), by_tier=t.by_tier,
        )  # fmt: skip
        places.book_cells(claims.cell, claims.tier, claims.bill, claims.oop, claims.basis, self.places.by_cell)
        for (fund_sum, oop_sum, booked_sum), begin, end in zip(sums.tolist(), bounds[:-1], bounds[1:], strict=True):
            if end > begin:  # an empty batch pays nothing
                self.fund.pay(fund_sum)
                t.fund_paid += fund_sum
                t.oop_paid += oop_sum
                t.revenue_booked += booked_sum

    def pay_lump_sum(self, facility: np.ndarray, amount: np.ndarray) -> None:
        """The fund pays facilities a lump sum (negative: facilities pay the fund back)."""
        self.fund.pay(float(amount.sum()))
        self.facilities.credit_lump_sum(facility, amount)
        t = self.today
        t.fund_paid += float(amount.sum())
        t.revenue_booked += float(amount.sum())
        t.add_by_tier("revenue_lump_sum", self.facilities.tier[facility], amount)

    # ------------------------------------------------------------------ 2. discharge
    def _discharge(self) -> None:
        """Stays ending today: billed, booked to the case mix, transferred up or ended, referred down (`discharge`)."""
        t, policy = self.today, self.policy
        day = self._pins(
            discharge.discharges,
            self.day, self.wards, self._residents(), self.facilities.arrays(), self.cells, self.tables,
            Accounts(self.annual_paid, self.case_bills, self.case_counts), self._streams, self._totals(),
        )  # fmt: skip
        stays = day.stays
        if stays.claims.facility.size == 0:
            return
        self.settle(stays.claims)
        t.chain_start_line_paid += float(stays.start_line_paid.sum())
        if day.transfers.size:
            self._ask_for_transfer(day.transfers)
        origin, visits = day.down
        if origin.size:
            t.referrals_down += int(origin.size)
            self.settle(visits)
            if policy.down_referral_bonus > 0:
                self.pay_lump_sum(origin, np.full(origin.size, policy.down_referral_bonus))

    def transfer_up(self, slots: np.ndarray, start_line_paid: np.ndarray) -> None:
        """Patients whose condition needs a higher tier ask for a bed there (上转), one level more severe."""
        w, f = self.wards, self.facilities
        resident = w.resident[slots]
        severity = np.minimum(w.severity[slots] + 1, 3)
        origin = w.facility[slots]
        target = np.array(
            [
                discharge.transfer_target(c, sev, tier, self.cells, f.inpatient_capability)
                for c, sev, tier in zip(self.population.cell[resident], severity, f.tier[origin], strict=True)
            ],
            dtype=np.int64,
        )
        self._ask_for_transfer(
            Requests.new(
                resident.size,
                resident=resident,
                facility=target,
                severity=severity,
                key=rng.bits(self.seed, "care.transfer_key", w.key[slots]),
                since=np.full(resident.size, self.day, dtype=np.int64),
                referred=np.ones(resident.size, dtype=bool),
                from_primary=is_primary(f.tier[origin]),
                chain_consortium=f.consortium[origin],
                chain_paid=w.chain_paid[slots] + start_line_paid,
            )
        )
        routed = target >= 0
        self.today.add_flow(f.tier[origin[routed]], f.tier[target[routed]])
        self.places.add_referrals(origin[routed], target[routed])

    def _ask_for_transfer(self, asked: Requests) -> None:
        """Queue transfers up (上转) for the day's admission step, with their chain's consortium and start-line paid."""
        self.transfers = Requests.concat_all([self.transfers, asked]) if self.transfers.size else asked
        self.today.referrals_up += asked.size
        self.today.transfers_up += asked.size

    # ------------------------------------------------------------------ 3. seek care
    def _seek_care(self, eps: Episodes, shocks: tuple[np.ndarray, np.ndarray]) -> Requests:
        t = self.today
        n = len(eps)
        t.episodes = n
        if n == 0:
            self.facilities.backlog = care.end_of_day_backlog(
                self.facilities.backlog, self.facilities.outpatient_capacity
            )
            return Requests.empty()
        s, f = self.scenario, self.facilities
        resident = eps.resident
        severity = eps.severity.astype(np.int64)
        costs = self.expected_costs(resident, severity, eps.kind)
        cell, signed = costs.cell, costs.signed
        terms = self.choice_terms
        assert terms is not None
        # Chronic-disease management (医防融合): a signed patient's follow-ups are with their family doctor.
        managed = (eps.kind == FOLLOW_UP) & signed
        seekers = care.Seekers(
            resident=resident,
            cell=cell,
            severity=severity,
            kind=eps.kind,
            admission_draw=eps.admission_draw,
            key=eps.key,
            eligible=signed if self.policy.reserved_signed_only else np.ones(n, dtype=bool),
            managed=managed,
            cost=costs.cost,
            terms=choice.episode_terms(s.choice, costs.trust, signed),
            shocks=shocks[0],
            shock_row=shocks[1],
            scheme=costs.scheme,
            signed=signed,
            chronic=self.population.chronic_of(resident),
            start_line_left=costs.start_line_left,
            fund_paid=costs.fund_paid,
        )
        day = self._pins(
            care.outpatient_day,
            seekers, terms, self.cells, f.arrays(), self.tables, self.annual_paid, self._totals(), self.learning(),
        )  # fmt: skip
        f.backlog, f.expected_wait = day.backlog, day.expected_wait
        # Each care pass is its own billing batch: a patient seen twice is billed as on two separate occasions.
        self.settle(day.claims)
        t.unmet_outpatient += day.unmet
        t.self_care_episodes += day.self_care
        t.treated_outpatient += day.treated_outpatient
        t.referrals_up += day.referrals_up
        asked = day.requests
        new = Requests.new(
            asked.episode.size,
            resident=resident[asked.episode],
            facility=asked.facility,
            severity=severity[asked.episode],
            key=eps.key[asked.episode],
            since=np.full(asked.episode.size, self.day, dtype=np.int64),
            referred=asked.referred,
            from_primary=asked.from_primary,
        )
        t.admission_requests = new.size
        return new

    def referred_to_lead(self, resident: np.ndarray, facility: np.ndarray, from_primary: np.ndarray) -> np.ndarray:
        """Patients referred by their consortium's primary care to its lead hospital.

        Signed residents only, where the reserved-bed lever requires it: the patients reserved beds
        and priority are for, whether or not those levers are on (so their waits can be compared
        with the baseline).
        """
        ok = from_primary & (facility == self.cells.lead[self.population.cell[resident]])
        if self.policy.reserved_signed_only:
            ok &= self.population.signed[resident]
        return ok

    def _year_tables(self) -> None:
        """This year's tables: visit bills, expected costs, and the candidates' utility terms.

        Prices, intensity, volumes, quality, rules and rates change only at a year start, so they
        are tabulated here once a year: visit bill components by (facility, severity, kind) for
        `care.outpatient_day`; for `_expected_costs`, what patients expect (`insurance.cost_table_rows`,
        by cell, patient case and candidate): visits by (facility, severity, kind, scheme, signed),
        stays by (admitting facility, severity, referred up or not, scheme, signed), the latter
        already weighted by the probability of admission, and the logarithms of their sums at the
        start-line states almost every visit is in; the parts of each cell's candidates' utilities
        that do not change within the year.
        """
        s, f, table = self.scenario, self.facilities, self.insurance
        cand = self.region.cell_candidates
        self.choice_terms = choice.candidate_terms(
            s.choice,
            candidates=cand,
            facility_tier=f.tier,
            facility_quality=f.quality,
            hours=self.region.cell_travel_hours,
            onward=self._onward,
            own_consortium=self.cells.own_consortium,
        )
        n_sev = len(SEVERITIES)
        facility = np.arange(len(f)).reshape(-1, 1, 1, 1, 1)
        tier = f.tier[facility]
        severity = np.arange(n_sev).reshape(1, -1, 1, 1, 1)
        kind = np.array([ACUTE, FOLLOW_UP]).reshape(1, 1, -1, 1, 1)  # axis 2 is the kind for visits,
        capable = np.array([False, True]).reshape(1, 1, -1, 1, 1)  # and whether the facility admits for stays
        scheme = np.arange(2).reshape(1, 1, 1, -1, 1)
        signed = np.array([False, True]).reshape(1, 1, 1, 1, -1)
        shape = (len(f), n_sev, 2, 2, 2)
        visit = payment.outpatient_bill(tier, f.outpatient_intensity[facility], severity, kind, self.year, s.prices)
        rows = np.repeat(np.arange(len(f)), n_sev * 2)  # (facility, severity, kind) order
        self._visit_components = payment.priced_components(
            visit.ravel(), f.tier[rows], False, s.prices, self.policy.price_multiplier, f.outpatient_volume[rows]
        )
        self._visit_bills = payment.bill_totals(self._visit_components)
        # What patients expect a bill to become under this year's component prices (at the baseline mix).
        visit_index, stay_index = (
            payment.price_index(inpatient, s.prices, self.policy.price_multiplier) for inpatient in (False, True)
        )
        expected_visit = visit * visit_index[tier]
        visit_cost = np.broadcast_to(expected_visit, shape).ravel()
        visit_rate = np.broadcast_to(claim_rates(self._outpatient_rates, scheme, tier, False, signed), shape).ravel()
        stay = illness.mean_stay(tier, severity, f.stay_length[facility], s.illness)
        stay_bill = (
            payment.inpatient_bill(tier, f.inpatient_intensity[facility], severity, stay, self.year, s.prices)
            * stay_index[tier]
        )
        start = table.inpatient_start_line[scheme, _TIER_LEVEL[tier]]
        rate = claim_rates(self._inpatient_rates, scheme, tier, ~capable, signed)
        stay_oop = np.minimum(stay_bill, start) + np.maximum(0.0, stay_bill - start) * (1 - rate)
        p_admit = s.illness.admission_probability.as_array()[severity]
        stay_cost = np.broadcast_to(p_admit * stay_oop, shape).ravel()
        # A route referred on adds the referred visit where it is referred to (no unreferred cut; the
        # annual outpatient start-line is left out of this expectation), beside the stay.
        referred_rate = claim_rates(self._outpatient_rates, scheme, tier, True, signed)
        onward_cost = np.broadcast_to(expected_visit * (1.0 - referred_rate), shape).ravel()
        k = self.region.cell_candidates.shape[1]
        route_stay = stay_cost[self._stay_key.reshape(-1, k)] + np.where(
            self._onward_key >= 0, onward_cost[np.maximum(self._onward_key, 0)], 0.0
        ).reshape(-1, k)
        # By (cell × case, K) rows, so a day's patients take whole rows; the parts of a row side by
        # side, so a patient's are read from neighbouring memory.
        self._cost_transform = choice.cost_transform(s.choice, self.year)
        self._cost_table = cost_table_rows(
            visit_cost,
            visit_rate,
            route_stay.ravel(),
            self._cost_transform,
            severity=np.tile(np.arange(_PATIENT_CASES) // 8, len(cand)),
            visit_key=self._visit_key.reshape(-1, k),
            stay_key=np.arange(route_stay.size).reshape(-1, k),
            out=self._cost_table,  # last year's, read no more
        )

    def expected_costs(self, resident: np.ndarray, severity: np.ndarray, kind: np.ndarray) -> ExpectedCosts:
        """`choice.cost_value` of what each patient expects to pay on each candidate's route.

        The route's visit, the referred visit where the candidate refers the episode on, and the stay
        if likely. A first contact is unreferred, so any cut for unreferred hospital care applies; a stay that
        the candidate would refer up for is referred. The residents' home cells, signing and trust come with it.
        """
        pop = self.population
        return expected_costs(
            self._cost_table,
            _PATIENT_CASES,
            self._cost_transform,
            resident=resident,
            severity=severity,
            kind=kind,
            home=self._home,
            signed=pop.signed,
            trust=self._trust,
            start_line=self.insurance.outpatient_start_line,
            start_line_paid=self.outpatient_start_line_paid,
            fund_paid=self.outpatient_fund_paid,
        )

    def learned(
        self, expected: np.ndarray, facility: np.ndarray, observed: np.ndarray, group: np.ndarray | None = None
    ) -> np.ndarray:
        """Expected waits per facility after today's observations (by group, in turn, if given)."""
        group = np.zeros(facility.size, dtype=np.int64) if group is None else group
        return care.learn_waits(expected, facility, observed, group, self.scenario.care.wait_memory_days)

    # ------------------------------------------------------------------ 4. admit
    def _admit(self, new: Requests) -> None:
        s, t, f = self.scenario, self.today, self.facilities
        t.waiting_start = self.waiting.size
        t.transfer_requests = self.transfers.size
        # Reserved beds: qualifying patients first, to any free bed; then the others, to the free
        # beds not held for qualifying patients; then those who waited too long look elsewhere.
        admitted = self._pins(
            admission.admit,
            self.waiting, self.transfers, new, self.day, self.wards, self._residents(), f.arrays(), self.cells,
            self.tables, Reserves(self.reserved, self.reserve_idle_days), self._streams, self._totals(),
        )  # fmt: skip
        self.transfers = Requests.empty()
        self.waiting = admitted.waiting
        t.waiting_end = self.waiting.size
        t.unmet_inpatient += admitted.unmet
        t.chronic_admissions += admitted.chronic
        t.county_admissions += admitted.county
        t.county_admissions_in_county += admitted.county_in_county
        f.expected_admission_wait = admitted.expected_wait
        self.reserve_idle_days = admission.begin_stays(
            admitted,
            day=self.day,
            dispersion=s.illness.stay_dispersion,
            transfer_after=TRANSFER_AFTER_DAYS,
            wards=self.wards,
            reserves=Reserves(self.reserved, self.reserve_idle_days),
        )

    def released(self) -> np.ndarray:
        """Hospitals whose bed reserve is open to any patient now (`care.open_beds`' release rule)."""
        return self.reserve_idle_days >= self.policy.reserved_release_days

    def open_slots(self) -> np.ndarray:
        """Free beds open to any patient: all free beds but those held for qualifying patients."""
        w = self.wards
        busy = w.discharge_day != FREE_BED
        return care.open_beds(w.facility, ~busy, busy & w.qualified, self.reserved, self.released())

    # ------------------------------------------------------------------ 5. close year, 6. record
    def _record(self) -> None:
        t = self.today
        occupied = self.occupied_beds()
        f = self.facilities
        t.add_tier_totals("occupied_beds", np.bincount(f.tier, weights=occupied, minlength=len(TIERS)))
        t.add_tier_totals("beds", self._tier_beds)
        t.add_tier_totals("reserved_beds", self._tier_reserved)
        t.add_tier_totals("doctors", self._tier_doctors)
        t.gps = self._gps
        t.signed = self._signed_count
        t.residents = len(self.population)
        self.recorder.append(self.day, self.year, t)
        f.record_day(occupied)
        self.places.by_facility[places.BED_DAYS] += occupied
        if last_day_of_a_recorded_year(self):
            self.places.close_year(
                self.year, DAYS_PER_YEAR, f.beds, self.first_contacts_by_cell,
                np.bincount(self.population.cell, minlength=self.region.n_cells),
            )  # fmt: skip

    def _close_year(self) -> None:
        f, policy = self.facilities, self.policy
        visit_worth = self._assess(policy.assessment) if policy.assessment is not None else 0.0
        if policy.global_budget is not None:
            self._settle_budgets(policy.global_budget)
        margin = self._operating_margin(policy.response)  # at this year's intensity, before the response changes it
        incentives = replace(
            self._margins(),
            salary_reform=policy.salary_reform,
            markup_removed=policy.markup_removed,
            # A patient referred down moves at least their next follow-up visit to primary care.
            referral_bonus=payment.bonus_per_stay_bill(
                policy.down_referral_bonus + visit_worth, self.case_bills, self.case_counts, f.tier
            ),
            coding_gain=payment.coding_gain(self.case_counts, self._case_weights())[f.tier],
        )
        f.respond(incentives, self.scenario.prices, policy.response)
        if policy.revenue_cap is not None:
            # The cap is on all medical revenue (医药总收入): a hospital over it cuts visits and stays alike.
            hospital = ~is_primary(f.tier)
            revenue = f.medical_revenue()
            f.outpatient_intensity, f.inpatient_intensity = (
                payment.capped_intensity(intensity, revenue, f.last_revenue, hospital, policy.revenue_cap)
                for intensity in (f.outpatient_intensity, f.inpatient_intensity)
            )
        self._respond_with_capacity(policy.response, margin, incentives.volume_margin)
        # Both bases, whatever the lever: a beginning shared with runs of other levers (`sim.checkpoint`)
        # must not depend on it.
        self._last_fund_claims = self._member_claims()
        self._last_resident_claims = self._resident_claims()
        self.fund.close_year()
        self.places.keep_ledgers(f)
        f.close_year()

    def _operating_margin(self, response: ProviderResponse) -> np.ndarray:
        """(F,) this year's surplus ÷ revenue of each facility; the first year's close sets their running costs.

        The running costs are set whatever the response: a beginning shared with runs of other
        settings (`sim.checkpoint`) must not depend on it.
        """
        f = self.facilities
        if f.recorded_days > 0 and np.isnan(f.bed_day_cost).all():
            f.set_running_costs(response.start_margin, self._drug_markup(), self._price_level())
        return f.operating_margin(self._drug_markup(), self._price_level())

    def _respond_with_capacity(
        self, response: ProviderResponse, margin: np.ndarray, volume_margin: np.ndarray | float
    ) -> None:
        """Hospitals fuller than the targets ask for more beds and clinic sessions next year; emptier ones for fewer.

        The factors are applied at the next year's start (`_grow_capacity`), under that year's
        levers. With `invest_from_surplus` a hospital's beds follow its surplus (`margin`, this year's
        surplus ÷ revenue) and occupancy (`facilities.investment_factor`) instead of the region's plan.
        Primary care's capacity follows the region's growth alone: it is planned and funded by
        government (收支两条线), not grown from its own use. With `fill_beds` hospitals also work to
        fill their beds (`_fill_beds`), as far as an extra case pays (`volume_margin`).
        """
        f = self.facilities
        hospital = ~is_primary(f.tier)
        bound = response.max_capacity_change
        if response.invest_from_surplus:
            factor = facilities.investment_factor(margin, f.occupancy(), response)
            self._asked_bed_factor = np.where(hospital & (f.beds > 0), factor, 1.0)
        elif response.bed_response > 0:
            factor = facilities.capacity_factor(f.occupancy(), response.target_occupancy, response.bed_response, bound)
            self._asked_bed_factor = np.where(hospital & (f.beds > 0), factor, 1.0)
        if response.clinic_response > 0:
            use = f.clinic_use()
            factor = facilities.capacity_factor(use, response.target_clinic_use, response.clinic_response, bound)
            self._asked_clinic_factor = np.where(hospital, factor, 1.0)
        if response.fill_beds:
            self._fill_beds(response, hospital, volume_margin)

    def _drug_markup(self) -> float:
        """The mark-up of drug prices over their cost in force this year: the scenario's, less the price levers' cut."""
        markup = self.scenario.prices.drug_markup
        return max(0.0, (1.0 + markup) * (1.0 - self.policy.markup_removed) - 1.0)

    def _price_level(self) -> float:
        """This year's level of prices (and of facilities' running costs) relative to year 0."""
        return (1.0 + self.scenario.prices.price_inflation) ** self.year

    def _fill_beds(self, response: ProviderResponse, hospital: np.ndarray, volume_margin: np.ndarray | float) -> None:
        """Hospitals fill the beds they have (Roemer's law): clinics staffed with the beds, milder cases admitted.

        A hospital staffs its clinic sessions with its beds (staff are set per bed), so beds it added
        since the last close ask for sessions in proportion next year, on top of the use response
        (outpatients are where inpatients come from). A hospital whose beds ran emptier than
        `target_occupancy` admits more moderate cases from now on (`facilities.spare_beds`), as far as
        an extra case pays it (`facilities.filled_propensity`: not at all under a budget that takes
        back all of an extra case's bill).
        """
        f, ex = self.facilities, self.scenario.levers.expansion
        level = self._bed_scale.copy()
        if ex.active(self.year):
            level[self._expansion_targets()] *= 1.0 + ex.beds_share
        added = np.where(hospital, np.log(level / self._staffed_beds), 0.0)
        self._asked_clinic_factor = self._asked_clinic_factor * np.exp(response.fill_clinic_elasticity * added)
        self._staffed_beds = level
        spare = np.where(hospital, facilities.spare_beds(f.occupancy(), response.target_occupancy), 0.0)
        f.admission_propensity = facilities.filled_propensity(
            f.admission_propensity, spare, volume_margin, response.fill_admission_elasticity
        )

    def _assess(self, lever: Assessment) -> np.ndarray:
        """The year's assessment of consortia (绩效考核): members pay back the deposit their score does not earn.

        Returns:
            (F,) yuan a visit moved down to primary care is worth to each facility's consortium.
        """
        f = self.facilities
        paid, worth = payment.assessment(
            f.visits, f.fund_claims, is_primary(f.tier), f.consortium, lever.withheld_share, lever.target_primary_share
        )
        payee = np.flatnonzero(paid)
        self.pay_lump_sum(payee, paid[payee])
        self.today.assessment_paid = float(paid.sum())
        return worth

    def _settle_budgets(self, gb: GlobalBudget) -> None:
        """Year-end settlement of each consortium's global budget (结余留用、合理超支分担), then resource sinking."""
        f, r = self.facilities, self.policy.response
        spending = self._consortium_spending(gb)
        has_budget = np.isfinite(self._budget)
        transfer = np.where(
            has_budget, payment.budget_transfer(self._budget, spending, gb.surplus_kept, gb.overspend_borne), 0.0
        )
        amount = payment.share_transfer(transfer, f.consortium, self._is_lead, f.medical_revenue(), gb.lead_share)
        payee = np.flatnonzero(amount)
        self.pay_lump_sum(payee, amount[payee])
        self.today.budget_settlement = float(transfer.sum())
        # The lead invests part of what it keeps in its primary members' capability (资源下沉).
        f.quality = payment.sinking_quality(
            f.quality,
            invest=gb.reinvest_share * np.maximum(0.0, amount[self.region.consortium_lead]),
            consortium=f.consortium,
            member=is_primary(f.tier) & (f.consortium >= 0),
            revenue=f.medical_revenue(),
            quality_per_investment=r.quality_per_investment,
        )
        if gb.per_head:
            # Its residents' care elsewhere is paid from its budget: the lead builds its own specialties (重点专科).
            f.quality = payment.sinking_quality(
                f.quality,
                invest=gb.specialty_share * np.maximum(0.0, amount[self.region.consortium_lead]),
                consortium=f.consortium,
                member=self._is_lead,
                revenue=f.medical_revenue(),
                quality_per_investment=r.quality_per_investment,
            )

    def _county_communities(self) -> np.ndarray:
        """(consortia,) consortia led below the top tier: county medical communities (县域医共体), not city groups."""
        return self.facilities.tier[self.region.consortium_lead] < TIERS.index("tertiary")

    def _per_head_hospitals(self) -> np.ndarray:
        """(F,) hospitals whose transfers up leave their consortium's per-head budget this year.

        Hospitals of a county medical community transfer up to a tertiary hospital outside it; within
        a city medical group the lead receives them.
        """
        gb, f = self.policy.global_budget, self.facilities
        if gb is None or not gb.per_head:
            return np.zeros(len(f), dtype=bool)
        county = self._county_communities()[np.maximum(f.consortium, 0)]
        return (f.consortium >= 0) & ~is_primary(f.tier) & county

    def _build_county_specialties(self) -> None:
        """County medical communities' lead hospitals treat up to the lever's severity (重点专科), from its start.

        Referral targets and routes follow capability (`_init_cells`).
        """
        lever, f = self.policy.county_specialties, self.facilities
        if lever is None:
            return
        leads = self.region.consortium_lead[self._county_communities()]
        f.quality[leads] = np.maximum(f.quality[leads], lever.quality)
        raised = False
        for capability in (f.inpatient_capability, f.outpatient_capability):
            raised |= bool((capability[leads] < lever.severity).any())
            capability[leads] = np.maximum(capability[leads], lever.severity)
        if raised:
            self._init_cells()

    def _consortium_spending(self, gb: GlobalBudget) -> np.ndarray:
        """This year's fund spending each consortium's budget bears: on claims at its members, or per head.

        Per head (按人头总额预付), a consortium bears the fund's payments for its residents (those whose
        nearest primary facility is a member) wherever they were treated, as their annual accounts
        count them; otherwise the fund's claims at its members.
        """
        return self._resident_claims() if gb.per_head else self._member_claims()

    def _member_claims(self) -> np.ndarray:
        """(consortia,) the fund's claims this year at each consortium's members."""
        f = self.facilities
        member = f.consortium >= 0  # a hospital of a region from files may belong to no consortium
        return np.bincount(f.consortium[member], weights=f.fund_claims[member], minlength=self._budget.size)

    def _resident_claims(self) -> np.ndarray:
        """(consortia,) the fund's payments this year for each consortium's residents, wherever they were treated."""
        home = self.cells.consortium[self.population.cell]
        resident = home >= 0
        paid = self.outpatient_fund_paid[resident] + self.inpatient_fund_paid[resident]
        return np.bincount(home[resident], weights=paid, minlength=self._budget.size)

    def _margins(self) -> payment.Incentives:
        """Per facility: the margins of visits, stays and cases, and the shares of stays paid per case and per day."""
        f = self.facilities
        clawback = np.zeros(self._budget.size)
        if (gb := self.policy.global_budget) is not None:
            spending = self._consortium_spending(gb)
            clawback = payment.budget_clawback(self._budget, spending, gb.surplus_kept, gb.overspend_borne)
        billed = payment.true_group_bills(f.billed_by_basis, f.upcoded)
        own_clawback = np.where(f.consortium >= 0, clawback[f.consortium], 0.0)  # in no consortium: no budget
        incentives = payment.margins(billed, f.fund_claims, own_clawback)
        if gb is None or not gb.per_head or not gb.weigh_let_go:
            return incentives
        # A moderate case a member lets go is admitted, if at all, a tier up — within the consortium (a
        # health centre's at its county hospital) or outside it (a county hospital's at a tertiary
        # hospital) — and paid from the budget either way.
        ratio = payment.let_go_claim_ratio(
            self.case_bills,
            self.case_counts,
            f.fund_claims,
            billed.sum(axis=1),
            f.tier,
            self.scenario.care.inpatient_capability.as_array() >= SEVERITIES.index("moderate"),
        )
        admission = payment.admission_margin(
            incentives.volume_margin,
            own_clawback,
            self.scenario.care.declined_seek_bed,
            ratio[f.tier],
        )
        return replace(incentives, admission_margin=admission)
