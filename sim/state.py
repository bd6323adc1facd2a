"""The engine's state as typed records of arrays, each field declared and documented once.

A record is a `NamedTuple` of arrays (and a few scalars): the compiled kernels take a handful of
records rather than dozens of arrays, read fields by name, and write arrays in place. Two records
are the model's own state, declared here with each field's type and initial value (`Column`):

- `Wards`: every bed as a slot;
- `Requests`: admission requests (waiting lists, transfers, today's requests).

The others are read-only views the model assembles from its state for a phase (the arrays are
shared, not copied, so a kernel writes the model's state in place):

- `Residents`, `Facilities`, `Cells`: the entities' attributes the day's phases read;
- `YearTables`: this year's prices, insurance rules and care parameters;
- `Accounts`: the residents' annual accounts and the case mix;
- `Streams`: keys of the random streams of the phases (`sim.rng`);
- `DayTotals`: the day's by-tier sums and referral flows (`metrics.DayRecord`), the year's by place;
- `Claims`: a phase's paid claims, which the model books (`CareModel.settle_claims`).

Adding a field to `Wards` or `Requests` is one line here; the records are allocated, grown,
filtered and joined field by field, so only the phases that read the field change.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass
from typing import Annotated, NamedTuple

import numpy as np

from sim.arrays import rank_within

FREE_BED = np.iinfo(np.int64).min
"""`Wards.discharge_day` of a free bed."""

PAYMENT_BASES = ("outpatient_item", "outpatient_head", "inpatient_item", "inpatient_case", "inpatient_day")
"""How a claim is paid (计费方式), by setting: item by item (fee-for-service), per head (capitation,
按人头), per case (DRG/DIP, 按病种/按病组), per day (per diem, 按床日). `Claims.basis` holds the index."""
OUTPATIENT_ITEM, OUTPATIENT_HEAD, INPATIENT_ITEM, INPATIENT_CASE, INPATIENT_DAY = range(len(PAYMENT_BASES))


@dataclass(frozen=True)
class Column:
    """A state field's element type and the value of a new element."""

    dtype: type
    fill: object = 0


@functools.cache
def columns(record: type) -> dict[str, Column]:
    """The declared `Column` of each field of a state record, in field order."""
    hints = typing.get_type_hints(record, include_extras=True)
    return {name: hints[name].__metadata__[0] for name in record._fields}  # type: ignore[attr-defined]


def _filled(record: type, n: int) -> dict[str, np.ndarray]:
    return {name: np.full(n, c.fill, dtype=c.dtype) for name, c in columns(record).items()}


class Wards(NamedTuple):
    """Every bed as a slot (struct of arrays), grouped by facility: occupancy can never exceed beds.

    Attributes:
        facility: Facility owning each slot (non-decreasing; `care.allocate_beds` relies on it).
        discharge_day: Day the stay ends; `FREE_BED` for a free bed.
        resident: The patient in the bed.
        severity: Severity of the stay.
        key: The episode's key (the stay's keyed draws).
        stay: Days of the stay.
        intensity: The facility's service intensity at admission (the stay is billed at it).
        qualified: Occupied by a patient who qualified for a reserved bed.
        referred: The admission was referred.
        transfer: The stay ends in a transfer up (上转) rather than a discharge.
        chain_consortium: Consortium where the stay's referral chain began (start-line rules).
        chain_paid: Inpatient start-line paid along the chain before this stay.
    """

    facility: Annotated[np.ndarray, Column(np.int64)]
    discharge_day: Annotated[np.ndarray, Column(np.int64, FREE_BED)]
    resident: Annotated[np.ndarray, Column(np.int64)]
    severity: Annotated[np.ndarray, Column(np.int64)]
    key: Annotated[np.ndarray, Column(np.uint64)]
    stay: Annotated[np.ndarray, Column(np.int64)]
    intensity: Annotated[np.ndarray, Column(np.float64, 1.0)]
    qualified: Annotated[np.ndarray, Column(np.bool_, False)]
    referred: Annotated[np.ndarray, Column(np.bool_, False)]
    transfer: Annotated[np.ndarray, Column(np.bool_, False)]
    chain_consortium: Annotated[np.ndarray, Column(np.int64, -1)]
    chain_paid: Annotated[np.ndarray, Column(np.float64, 0.0)]

    @classmethod
    def empty(cls, beds: np.ndarray) -> Wards:
        """Free wards of `beds[f]` slots for each facility f."""
        arrays = _filled(cls, int(beds.sum()))
        arrays["facility"] = np.repeat(np.arange(beds.size), beds)
        return cls(**arrays)

    def free_slots(self) -> np.ndarray:
        """Indices of free beds, in slot order (so grouped by facility)."""
        return np.flatnonzero(self.discharge_day == FREE_BED)

    def occupied(self, n_facilities: int, *, qualified_only: bool = False) -> np.ndarray:
        """Occupied beds per facility (only those of qualifying patients, if asked)."""
        busy = self.discharge_day != FREE_BED
        if qualified_only:
            busy &= self.qualified
        return np.bincount(self.facility[busy], minlength=n_facilities)

    def resized(self, beds: np.ndarray) -> Wards:
        """The same patients in wards of new sizes (each facility's stays move to the front of its range)."""
        grown = Wards.empty(beds)
        busy = np.flatnonzero(self.discharge_day != FREE_BED)
        owner = self.facility[busy]
        start = np.concatenate([[0], np.cumsum(beds)[:-1]])
        target = start[owner] + rank_within(owner)
        for name in self._fields:
            if name != "facility":
                getattr(grown, name)[target] = getattr(self, name)[busy]
        return grown


class Requests(NamedTuple):
    """Admission requests (struct of arrays), in priority order.

    Attributes:
        resident: The patient.
        facility: The hospital asked for a bed (−1: nowhere to go; recorded unmet at admission).
        severity: Severity of the stay asked for.
        key: The episode's key (keyed draws of the stay).
        since: Day the request was made.
        referred: Referred up by a facility (not the patient's own first choice).
        from_primary: Referred up by primary care (村卫生室/卫生院/社区卫生服务中心).
        chain_consortium: Consortium where the referral chain began (−1: not a transfer).
        chain_paid: Inpatient start-line already paid along the chain (transfers).
    """

    resident: Annotated[np.ndarray, Column(np.int64)]
    facility: Annotated[np.ndarray, Column(np.int64, -1)]
    severity: Annotated[np.ndarray, Column(np.int64)]
    key: Annotated[np.ndarray, Column(np.uint64)]
    since: Annotated[np.ndarray, Column(np.int64)]
    referred: Annotated[np.ndarray, Column(np.bool_, False)]
    from_primary: Annotated[np.ndarray, Column(np.bool_, False)]
    chain_consortium: Annotated[np.ndarray, Column(np.int64, -1)]
    chain_paid: Annotated[np.ndarray, Column(np.float64, 0.0)]

    @property
    def size(self) -> int:
        """Number of requests (`len` of a record is its number of fields)."""
        return int(self.resident.size)

    def take(self, index: np.ndarray) -> Requests:
        """The requests at `index`, in its order."""
        return Requests(*(field[index] for field in self))

    @classmethod
    def empty(cls) -> Requests:
        """No requests: one shared instance (request lists are replaced, never changed in place)."""
        return _NO_REQUESTS

    @classmethod
    def concat_all(cls, parts: list[Requests]) -> Requests:
        """The requests of `parts`, one list after another."""
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate(fields) for fields in zip(*parts, strict=True)))

    @classmethod
    def new(cls, n: int, **given: np.ndarray) -> Requests:
        """`n` requests with the fields `given`; other fields at their declared initial value."""
        return cls(
            **{name: given[name] if name in given else np.full(n, c.fill, c.dtype) for name, c in columns(cls).items()}
        )


_NO_REQUESTS = Requests(**_filled(Requests, 0))


class Residents(NamedTuple):
    """The residents' attributes the day's phases read (views of `population.Population`).

    Attributes:
        cell: Home cell.
        district: Home district.
        scheme: Insurance scheme (`EMPLOYEE` or `RESIDENT`).
        signed: Signed with a family doctor (家庭医生签约).
        hypertension: Has hypertension.
        diabetes: Has diabetes.
    """

    cell: np.ndarray
    district: np.ndarray
    scheme: np.ndarray
    signed: np.ndarray
    hypertension: np.ndarray
    diabetes: np.ndarray


class Facilities(NamedTuple):
    """The facilities' attributes the day's phases read and write (views of `facilities.FacilityState`).

    Attributes:
        tier: Tier (0 village clinic … 3 tertiary hospital).
        consortium: Medical consortium (医联体/医共体; −1: none).
        district: District.
        outpatient_capacity: Visits seen per day.
        outpatient_capability: Highest severity treated as outpatients.
        inpatient_capability: Highest severity admitted (−1: no beds).
        inpatient_intensity: Service intensity multiplier on the prices of stays.
        admission_propensity: Multiplier on moderate cases' admission probability.
        down_referral_willingness: Multiplier on the probability of referring a discharged patient down.
        inpatient_volume: (F, 4) volume of service, drugs, consumables and tests billed in stays relative to the
            baseline mix.
        stay_length: Multiplier on the mean length of stay.
        self_paid_share: Share of a stay's bill for items outside the benefit list (目录外), paid by the patient.
        backlog: Outpatient visits waiting.
        expected_wait: Learned outpatient wait in days.
        expected_admission_wait: Learned admission wait in days.
        upcoding_share: Share of stays paid per case coded one group higher (`rules.coded_severity`).
        upcoded: This year's per-case bills added by upcoding, yuan (added to in place).
    """

    tier: np.ndarray
    consortium: np.ndarray
    district: np.ndarray
    outpatient_capacity: np.ndarray
    outpatient_capability: np.ndarray
    inpatient_capability: np.ndarray
    inpatient_intensity: np.ndarray
    admission_propensity: np.ndarray
    down_referral_willingness: np.ndarray
    inpatient_volume: np.ndarray
    stay_length: np.ndarray
    self_paid_share: np.ndarray
    backlog: np.ndarray
    expected_wait: np.ndarray
    expected_admission_wait: np.ndarray
    upcoding_share: np.ndarray
    upcoded: np.ndarray


class Cells(NamedTuple):
    """Geography by home cell: each cell's candidate facilities and where its patients are referred.

    Attributes:
        candidates: (cells, K) candidate facilities (−1: none).
        travel_hours: (cells, K) travel time to each candidate.
        candidate_tier: (cells, K) the candidates' tiers.
        candidate_preference: (cells, K) referral order (lower is preferred).
        own_consortium: (cells, K) the candidate belongs to the cell's consortium.
        referral_outpatient: (cells, severities) where an outpatient is referred up to.
        referral_inpatient: (cells, severities) where an inpatient is referred up to.
        lead: Lead hospital of the cell's consortium.
        consortium: The cell's consortium.
        district_is_county: (districts,) the district is a county (县), not a city district.
    """

    candidates: np.ndarray
    travel_hours: np.ndarray
    candidate_tier: np.ndarray
    candidate_preference: np.ndarray
    own_consortium: np.ndarray
    referral_outpatient: np.ndarray
    referral_inpatient: np.ndarray
    lead: np.ndarray
    consortium: np.ndarray
    district_is_county: np.ndarray


class YearTables(NamedTuple):
    """This year's prices, insurance rules and care parameters, as the day's phases read them.

    Attributes:
        price_level: `(1 + price_inflation) ** year` (group prices are kept in year-0 yuan).
        price_multiplier: (4,) price change of each component (service, drugs, consumables, tests).
        inpatient_price_per_day: (tiers,) inpatient price per day.
        severity_price_factor: (severities,) inpatient price factor.
        drug_share_inpatient: (tiers,) baseline drug share of an inpatient bill.
        drugs_and_consumables_share_inpatient: (tiers,) baseline drugs and consumables share of an inpatient bill.
        test_share_inpatient: (tiers,) baseline test share of an inpatient bill.
        case_price: (tiers, severities) per-case (DRG) prices in year-0 yuan; empty where not in force.
        per_diem_rate: (tiers,) per-diem rate of chronic patients (0: none); empty where not in force.
        visit_components: Visit bill components by (facility, severity, kind).
        visit_bills: Their bills (`payment.bill_totals`).
        tier_level: (tiers,) insurance level of each tier.
        outpatient_rates: Outpatient reimbursement rates (`insurance.claim_rate_table`).
        outpatient_start_line: (schemes,) annual outpatient start-line (起付线).
        outpatient_cap: (schemes,) annual outpatient fund cap.
        inpatient_rates: Inpatient reimbursement rates (`insurance.claim_rate_table`).
        inpatient_start_line: (schemes, levels) inpatient start-line.
        inpatient_cap: (schemes,) annual inpatient fund cap.
        chain_start_line: One start-line along a referral chain is in force.
        waive_start_line: Follow-ups after a down-referral are charged no start-line.
        capitation: Capitation is in force (the fund does not pay a signed resident's own primary care).
        admission_probability: (severities,) probability an episode needs a bed.
        down_referral_probability: (tiers,) probability a discharged patient is referred down.
        transfer_probability: (F,) probability a stay below the top severity at each facility ends in a transfer up.
        mean_stay: (tiers,) mean length of stay.
        severity_stay_factor: (severities,) factor of the mean stay.
        managed_follow_up_pull: Utility pull of a managed follow-up to the family doctor (医防融合).
        priority: Patients referred by primary care to their lead hospital are seen first (优先就诊).
        max_queue_days: Outpatient backlog, in days of capacity, beyond which arrivals are turned away.
        max_care_passes: Care passes a day before an episode still pending counts unmet.
        wait_memory_days: Learning horizon of expected waits.
        reserve: Reserved beds are in force (qualifying patients are admitted first).
        reserved_signed_only: Only signed residents qualify for reserved beds.
        reserve_release_days: Idle days after which a reserve is open to anyone.
        admission_wait_tolerance: Days of waiting for a bed after which a patient looks elsewhere.
        formulary_breadth: (F,) share of chronic regimens each facility stocks (`rules.stocks`).
        formulary_limited: Some facility stocks less than every regimen (else no regimen is drawn).
        regimen_stream: Key of the residents' regimen draws (`rules.REGIMEN_STREAM`, by resident).
        unstocked_penalty: Utility of a candidate that does not stock a follow-up's regimen (the
            `referral_step` coefficient: the patient knows it will refer them on).
        consult_share: Share of consortium primary care's referrals up resolved by tele-consultation (远程会诊).
        consult_stream: Key of the episodes' tele-consultation draws (`rules.CONSULT_STREAM`, by episode key).
        consult_severity_gap: Highest severity above a facility's capability a tele-consultation resolves.
        declined_seek_bed: Probability a moderate case declined by restraint asks for a bed at the next tier up.
        declined_stream: Key of the draws deciding it (`rules.DECLINED_STREAM`, by episode key).
        tests_avoided: Share of the tests of a referred visit at a hospital not repeated (检查结果互认).
        case_weight: (severities,) relative weight of each per-case group (`payment.group_weights`).
    """

    price_level: float
    price_multiplier: np.ndarray
    inpatient_price_per_day: np.ndarray
    severity_price_factor: np.ndarray
    drug_share_inpatient: np.ndarray
    drugs_and_consumables_share_inpatient: np.ndarray
    test_share_inpatient: np.ndarray
    case_price: np.ndarray
    per_diem_rate: np.ndarray
    visit_components: np.ndarray
    visit_bills: np.ndarray
    tier_level: np.ndarray
    outpatient_rates: np.ndarray
    outpatient_start_line: np.ndarray
    outpatient_cap: np.ndarray
    inpatient_rates: np.ndarray
    inpatient_start_line: np.ndarray
    inpatient_cap: np.ndarray
    chain_start_line: bool
    waive_start_line: bool
    capitation: bool
    admission_probability: np.ndarray
    down_referral_probability: np.ndarray
    transfer_probability: np.ndarray
    mean_stay: np.ndarray
    severity_stay_factor: np.ndarray
    managed_follow_up_pull: float
    priority: bool
    max_queue_days: float
    max_care_passes: int
    wait_memory_days: float
    reserve: bool
    reserved_signed_only: bool
    reserve_release_days: int
    admission_wait_tolerance: float
    formulary_breadth: np.ndarray
    formulary_limited: bool
    regimen_stream: np.uint64
    unstocked_penalty: float
    consult_share: float
    consult_stream: np.uint64
    consult_severity_gap: int
    declined_seek_bed: float
    declined_stream: np.uint64
    tests_avoided: float
    case_weight: np.ndarray


class Reserves(NamedTuple):
    """Beds reserved at each hospital for patients referred by its consortium's primary care (预留床位).

    Attributes:
        beds: (F,) beds reserved.
        idle_days: (F,) days each reserve has stood partly unused by qualifying patients.
    """

    beds: np.ndarray
    idle_days: np.ndarray


class Accounts(NamedTuple):
    """Money kept across a year's days, written in place by the phases.

    Attributes:
        annual_paid: (residents, 3) this year's outpatient start-line paid, outpatient and inpatient
            fund paid.
        case_bills: (tiers, severities) bills of stays that ended, in year-0 yuan.
        case_counts: (tiers, severities) stays that ended.
    """

    annual_paid: np.ndarray
    case_bills: np.ndarray
    case_counts: np.ndarray


class Streams(NamedTuple):
    """Keys (`rng.stream_key`) of the random streams the day's phases draw from, by the episode's key.

    Attributes:
        down_referral: A discharged patient is referred down.
        transfer_key: The key of a transfer up's new request.
        stay: A stay's length.
        transfer: A stay ends in a transfer up.
        upcoding: A stay paid per case is coded a group higher (`rules.UPCODING_STREAM`).
    """

    down_referral: np.uint64
    transfer_key: np.uint64
    stay: np.uint64
    transfer: np.uint64
    upcoding: np.uint64


class Claims(NamedTuple):
    """Paid claims of care given (struct of arrays), in billing batches one after another.

    Attributes:
        facility: Facility of each claim.
        tier: Tier of the facility.
        components: (n, 4) billed service, drugs, consumables and tests.
        bill: Their bills (`payment.bill_totals`).
        fund: Paid by the fund (0 for a capitated visit: its fund part is paid per head, 按人头).
        oop: Paid by the patient.
        basis: How each claim is paid (`PAYMENT_BASES`, int8).
        ends: Where each billing batch ends.
        cell: Home cell of each claim's patient (`places.book_cells`).
    """

    facility: np.ndarray
    tier: np.ndarray
    components: np.ndarray
    bill: np.ndarray
    fund: np.ndarray
    oop: np.ndarray
    basis: np.ndarray
    ends: np.ndarray
    cell: np.ndarray


class DayTotals(NamedTuple):
    """The sums the phases add to in place: the day's by tier (`metrics.DayRecord`), the year's by place (`places`).

    Attributes:
        by_tier: (len(BY_TIER_FIELDS), tiers) by-tier sums.
        flows: (tiers, tiers) referrals from one tier (row) to another (column).
        by_facility: (len(places.FACILITY_SUMS), facilities) this year's sums by facility.
        by_cell: (len(places.CELL_SUMS), cells) this year's sums by the patient's home cell.
    """

    by_tier: np.ndarray
    flows: np.ndarray
    by_facility: np.ndarray
    by_cell: np.ndarray


class Learning(NamedTuple):
    """What residents learn from the outcomes of their visits, and the per-cell record of first contacts.

    Attributes:
        enabled: Learning is on (`LearningParams.enabled`); off, `trust` and `reputation` never change.
        trust: (residents,) float32 trust in primary care (the model's ledger column), updated in place.
        reputation: (cells, tiers) share of visits resolved that each cell expects of each tier, updated in place.
        reference: (tiers,) the reputation the utility term is measured from (the prior).
        trust_rate: Step of trust toward an outcome (`LearningParams.trust_rate`).
        reputation_rate: Step of a reputation toward the day's share resolved (1 / memory days).
        reputation_weight: Utility per unit of reputation above the reference.
        first_contacts: (cells, tiers) first contacts by home cell and tier since the model began, added in place.
    """

    enabled: bool
    trust: np.ndarray
    reputation: np.ndarray
    reference: np.ndarray
    trust_rate: float
    reputation_rate: float
    reputation_weight: float
    first_contacts: np.ndarray
