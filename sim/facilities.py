"""Facilities: state as arrays (the daily hot path) and a `Facility` Mesa agent over each row.

Facilities are few and rich. Their daily state — queue backlog, expected waits, today's revenue —
lives in `FacilityState` arrays so a day's thousands of visits are handled in a few numpy calls;
each facility is also a `Facility` (a Mesa agent, `sim.agents.Agent`) whose properties read its row. The once-a-year
provider decision (under fee-for-service: raise intensity) is `FacilityState.respond`, every
facility's at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import metrics, payment
from sim.accel import helper, kernel
from sim.agents import Agent
from sim.levers import ProviderResponse
from sim.parameters.care import CareParams
from sim.parameters.prices import COMPONENTS
from sim.parameters.region import RegionParams
from sim.params import TIERS
from sim.region import Region
from sim.rules import visit_bill
from sim.state import OUTPATIENT_HEAD, PAYMENT_BASES, Facilities

if TYPE_CHECKING:
    from sim.model import CareModel

_CLAIM_COLUMNS = (
    *COMPONENTS,
    "paid_by_fund",
    "paid_out_of_pocket",
    *(f"billed_{basis}" for basis in PAYMENT_BASES),
    "fund_claims",
    "visits",
)
"""Ledger columns a claim is booked to, in `FacilityState._claims` order."""
_DRUGS, _CONSUMABLES = COMPONENTS.index("drugs"), COMPONENTS.index("consumables")
_REVENUE_ROWS = metrics.by_tier_rows(*(f"revenue_{c}" for c in COMPONENTS))
"""The day record's rows of booked revenue by component."""


_paid_components_loop = helper(payment._paid_components.loop)


@kernel
def _book_claims(
    facility: np.ndarray,
    tier: np.ndarray,
    components: np.ndarray,
    billed: np.ndarray,
    fund: np.ndarray,
    oop: np.ndarray,
    basis: np.ndarray,
    bounds: np.ndarray,
    ledger: np.ndarray,
    scratch: np.ndarray,
    by_tier: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """`FacilityState.book_claims`: each batch's sums added to the ledger as bincount adds them.

    `scratch` is a ledger-shaped array of zeros, left zeros: a batch's sums per facility, kept
    between calls so that a call costs what its claims do, not what the region's facilities do.
    """
    booked, sums = _paid_components_loop(components, billed, fund, oop, bounds)
    n_components = booked.shape[1]
    billed_column, fund_claims_column, visits_column = n_components + 2, ledger.shape[1] - 2, ledger.shape[1] - 1
    is_touched = np.zeros(ledger.shape[0], np.bool_)
    touched = np.empty(facility.size, np.int64)
    for b in range(bounds.size - 1):
        n_touched = 0
        for i in range(bounds[b], bounds[b + 1]):
            f = facility[i]
            if not is_touched[f]:
                is_touched[f] = True
                touched[n_touched] = f
                n_touched += 1
            billed_i = visit_bill(booked[i])
            for c in range(n_components):
                scratch[f, c] += booked[i, c]
            scratch[f, n_components] += fund[i]
            scratch[f, n_components + 1] += oop[i]
            scratch[f, billed_column + basis[i]] += billed_i
            scratch[f, fund_claims_column] += fund[i]
            scratch[f, visits_column] += 1.0 if basis[i] <= OUTPATIENT_HEAD else 0.0
        for j in range(n_touched):  # untouched rows would add 0.0, which changes nothing
            f = touched[j]
            is_touched[f] = False
            for c in range(ledger.shape[1]):
                ledger[f, c] += scratch[f, c]
                scratch[f, c] = 0.0
    metrics.add_batches_loop(tier, booked, bounds, by_tier, rows)
    return sums


def capacity_factor(use: np.ndarray, target: float, response: float, bound: float) -> np.ndarray:
    """A year's factor on a hospital's beds or clinic sessions from how much of them it used.

    exp(response × (use − target)), its logarithm within ±`bound`: a hospital fuller than the
    target adds capacity, one emptier cuts it, relative to the region's growth.
    """
    return np.exp(np.clip(response * (use - target), -bound, bound))


def investment_factor(margin: np.ndarray, occupancy: np.ndarray, response: ProviderResponse) -> np.ndarray:
    """A year's factor on a hospital's beds from its surplus and its occupancy (`ProviderResponse.invest_from_surplus`).

    exp(surplus_response × max(margin, 0) + bed_response × (occupancy − target_occupancy)), its
    logarithm within ±`max_capacity_change`. A surplus is invested in beds; a deficit invests
    nothing but closes no bed (a public hospital's losses are covered by its owner and beds once
    built are kept), so beds are cut only where they run emptier than the target.
    """
    use = response.bed_response * (occupancy - response.target_occupancy)
    bound = response.max_capacity_change
    return np.exp(np.clip(response.surplus_response * np.maximum(margin, 0.0) + use, -bound, bound))


def spare_beds(occupancy: np.ndarray, target: float) -> np.ndarray:
    """ln(target ÷ occupancy) where a hospital's beds ran emptier than the target; 0 where not, or without use.

    The log-ratio of the beds a hospital has to the beds its use fills at the target occupancy:
    what a hospital that fills its beds (Roemer's law) works to fill. A facility with no occupied
    bed-days (no beds, or no recorded days) has nothing to fill them from.
    """
    spare = np.zeros(occupancy.shape)
    emptier = (occupancy > 0) & (occupancy < target)
    spare[emptier] = np.log(target / occupancy[emptier])
    return spare


def filled_propensity(
    propensity: np.ndarray, spare: np.ndarray, volume_margin: np.ndarray | float, elasticity: float
) -> np.ndarray:
    """Moderate-case admission propensity after a year of filling spare beds (supplier-induced admissions).

    A hospital admits more moderate cases by exp(`elasticity` × v × `spare`), v the share of an extra
    case's bill it keeps (`payment.Incentives.volume_margin`): fee-for-service or per-case payment
    pays every admission (v = 1); under a budget that takes back what the fund pays for an extra case,
    an admission to fill a bed earns only what is kept, and at v = 0 nothing. Bounded as the ward
    response (0.5–1.5); hospitals without spare beds keep theirs.
    """
    raised = np.clip(propensity * np.exp(elasticity * volume_margin * spare), 0.5, 1.5)
    return np.where(spare > 0, raised, propensity)


def primary_beds_first(plan: np.ndarray, own: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """(F,) factors on this year's planned beds that move the hospitals' planned growth to the health centres.

    增量资源重点保障基层: a hospital's plan loses the year's growth and keeps its own supply response
    (`own`), and the beds it would have gained are shared among the health centres in proportion to
    their planned beds. Without health centres' beds to add to, the plan is unchanged.

    Args:
        plan: (F,) this year's planned beds.
        own: (F,) the same without the year's planned growth: last year's plan × the supply response.
        tier: (F,) tier of each facility.
    """
    factor = np.ones(plan.size)
    hospital = (tier >= TIERS.index("secondary")) & (plan > 0)
    centre = tier == TIERS.index("health_centre")
    centre_beds = plan[centre].sum()
    if centre_beds <= 0:
        return factor
    factor[hospital] = own[hospital] / plan[hospital]
    factor[centre] = 1.0 + (plan[hospital] - own[hospital]).sum() / centre_beds
    return factor


def standard_beds(
    plan: np.ndarray,
    held: np.ndarray,
    tier: np.ndarray,
    over: np.ndarray,
    ceiling: np.ndarray,
    floor: np.ndarray,
    build_up: float,
) -> np.ndarray:
    """(F,) factors on this year's planned beds under bed standards by tier (床位配置标准).

    A tier `over` its ceiling gets no growth: each facility's plan is what it `held`. A tier under
    it grows at most to it: its planned total is scaled down to the ceiling. A tier under its
    floor adds `build_up` of the gap between its planned total and the floor.

    Args:
        plan: (F,) this year's planned beds.
        held: (F,) beds planned with no growth: last year's plan, or less where the supply response cuts.
        tier: (F,) tier of each facility.
        over: (tiers,) whether the tier's beds are at or above its ceiling.
        ceiling: (tiers,) most beds of each tier (inf: none).
        floor: (tiers,) beds each tier is built up toward (0: none).
        build_up: Share of the gap to the floor added this year.
    """
    factor = np.ones(plan.size)
    for t in range(ceiling.size):
        members = (tier == t) & (plan > 0)
        total = plan[members].sum()
        if total <= 0:
            continue
        if over[t]:
            factor[members] = held[members] / plan[members]
        elif total > ceiling[t]:
            factor[members] = ceiling[t] / total
        elif total < floor[t]:
            factor[members] = 1.0 + build_up * (floor[t] - total) / total
    return factor


class FacilityState:
    """All facilities' state as arrays, one row per facility.

    Attributes:
        tier, district, consortium: From the region.
        beds: Inpatient beds (they grow each year with `region.capacity_growth`, or from a hospital's surplus and
            use; the model's bed slots follow).
        outpatient_capacity: Visits seen per day (doctors × visits per doctor-day).
        quality: Perceived quality, 0–1.
        outpatient_capability, inpatient_capability: Highest severity treated / admitted.
        outpatient_intensity, inpatient_intensity: Service intensity multiplier on the prices of visits
            and of stays (1 at the start).
        backlog: Outpatient visits waiting.
        expected_wait, expected_admission_wait: Learned waits in days, what patients expect.
        outpatient_volume, inpatient_volume: (F, 4) volume of service, drugs, consumables and tests billed in
            visits and in stays relative to the baseline mix.
        admission_propensity: Multiplier on moderate cases' admission probability (provider response).
        down_referral_willingness: Multiplier on the probability of referring a discharged patient down.
        stay_length: Multiplier on the mean length of stay (provider response).
        self_paid_share: Share of stays' bills for items outside the benefit list (目录外), which patients pay
            in full (provider response: cost shifting under a budget).
        upcoding_share: Share of stays paid per case coded one severity group higher (provider response).
        upcoded: This year's per-case bills added by upcoding, yuan.
        revenue: (F, 4) this year's billed revenue by component (service, drugs, consumables, tests), yuan.
        lump_sum: This year's lump-sum revenue (capitation, budget settlement, bonuses; may be < 0), yuan.
        paid_by_fund, paid_out_of_pocket: This year's revenue by payer, yuan.
        billed_by_basis: (F, 5) this year's bills by how they were paid (`state.PAYMENT_BASES`; a
            capitated visit's booked part, what the patient paid).
        fund_claims: This year's claims paid by the fund (the spending a global budget covers).
        visits: This year's outpatient visits billed.
        bed_days: This year's occupied bed-days, counted on the recorded days (`recorded_days` of them).
        last_revenue: Last year's medical revenue (billed + lump sums), for the revenue-growth cap.
        bed_day_cost, clinic_day_cost: Running costs per bed and per visit a day of clinic capacity, per
            recorded day at price level and intensity 1 (set at the first year's close; NaN before), yuan.
    """

    def __init__(self, region: Region, region_params: RegionParams, care: CareParams) -> None:
        tier = region.facility_tier.astype(np.int64)
        self.tier = tier
        self.district = region.facility_district
        self.consortium = region.facility_consortium
        self.name = region.facility_name
        self.beds = region.facility_beds.copy()
        self.outpatient_capacity = region.facility_doctors * region_params.visits_per_doctor_day.as_array()[tier]
        self.quality = care.quality.as_array()[tier]
        self.outpatient_capability = care.outpatient_capability.as_array()[tier].astype(np.int64)
        # A facility left without beds at a small scale admits nobody: it refers its inpatients up.
        self.inpatient_capability = np.where(
            self.beds > 0, care.inpatient_capability.as_array()[tier].astype(np.int64), -1
        )
        n = tier.size
        self.outpatient_intensity, self.inpatient_intensity = np.ones(n), np.ones(n)
        self.backlog = np.zeros(n)
        self.expected_wait = np.zeros(n)
        self.expected_admission_wait = np.zeros(n)
        self.outpatient_volume = np.ones((n, len(COMPONENTS)))
        self.inpatient_volume = np.ones((n, len(COMPONENTS)))
        self.admission_propensity = np.ones(n)
        self.down_referral_willingness = np.ones(n)
        self.stay_length = np.ones(n)
        self.self_paid_share = np.zeros(n)
        self.upcoding_share = np.zeros(n)
        self.upcoded = np.zeros(n)
        # The claim ledgers are columns of one matrix, so a batch of claims is booked in one bincount.
        self._claims = np.zeros((n, len(_CLAIM_COLUMNS)))
        self._booking = np.zeros_like(self._claims)  # `_book_claims`'s scratch
        self._link_ledgers()
        self.lump_sum = np.zeros(n)
        self.last_revenue = np.full(n, np.nan)
        self.bed_days = np.zeros(n)
        self.recorded_days = 0
        # Running costs (staff, upkeep) per bed and per visit a day of clinic capacity, per recorded day at
        # price level and intensity 1: set at the first year's close (`set_running_costs`), NaN before.
        self.bed_day_cost = np.full(n, np.nan)
        self.clinic_day_cost = np.full(n, np.nan)

    def _link_ledgers(self) -> None:
        """The revenue and claim ledgers as views of the columns of `_claims`."""
        n = len(COMPONENTS)
        self.revenue = self._claims[:, :n]
        self.paid_by_fund, self.paid_out_of_pocket = self._claims[:, n : n + 2].T
        self.billed_by_basis = self._claims[:, n + 2 : n + 2 + len(PAYMENT_BASES)]
        self.fund_claims, self.visits = self._claims[:, -2], self._claims[:, -1]

    def __setstate__(self, state: dict) -> None:
        # A copy (`copy.deepcopy`, pickle) copies each view on its own: make them views of `_claims` again.
        self.__dict__.update(state)
        self._link_ledgers()

    def respond(self, incentives: payment.Incentives, prices: payment.PriceParams, response: ProviderResponse) -> None:
        """Once a year, every facility adjusts to what its payment makes pay, setting by setting.

        Visits' and stays' intensity and drug and test volumes move with the margin of their own
        setting (`payment.respond_in_setting`), so a payment of stays leaves visits' prices and
        volumes alone; moderate-case admission propensity, down-referral willingness and length of
        stay move with how stays are paid (`payment.respond_in_wards`), and so does the share of stays
        coded a group higher (`payment.upcoded_share`). `incentives` holds each
        facility's margins (arrays over facilities).
        """
        self.outpatient_intensity, self.outpatient_volume = payment.respond_in_setting(
            self.outpatient_intensity, self.outpatient_volume, self.tier, incentives.outpatient_margin,
            incentives, prices, response, inpatient=False,
        )  # fmt: skip
        self.inpatient_intensity, self.inpatient_volume = payment.respond_in_setting(
            self.inpatient_intensity, self.inpatient_volume, self.tier, incentives.inpatient_margin,
            incentives, prices, response, inpatient=True,
        )  # fmt: skip
        (
            self.admission_propensity,
            self.down_referral_willingness,
            self.stay_length,
            self.self_paid_share,
        ) = payment.respond_in_wards(
            self.admission_propensity,
            self.down_referral_willingness,
            self.stay_length,
            self.self_paid_share,
            incentives,
            response,
        )
        self.upcoding_share = payment.upcoded_share(
            self.upcoding_share, incentives.per_case_share, incentives.coding_gain, response
        )

    def __len__(self) -> int:
        return int(self.tier.size)

    def arrays(self) -> Facilities:
        """The attributes the day's phases read and write, as the record kernels take (the arrays, not copies)."""
        return Facilities(
            tier=self.tier,
            consortium=self.consortium,
            district=self.district,
            outpatient_capacity=self.outpatient_capacity,
            outpatient_capability=self.outpatient_capability,
            inpatient_capability=self.inpatient_capability,
            inpatient_intensity=self.inpatient_intensity,
            admission_propensity=self.admission_propensity,
            down_referral_willingness=self.down_referral_willingness,
            inpatient_volume=self.inpatient_volume,
            stay_length=self.stay_length,
            self_paid_share=self.self_paid_share,
            backlog=self.backlog,
            expected_wait=self.expected_wait,
            expected_admission_wait=self.expected_admission_wait,
            upcoding_share=self.upcoding_share,
            upcoded=self.upcoded,
        )

    def _add(self, array: np.ndarray, facility: np.ndarray, amount: np.ndarray) -> None:
        array += np.bincount(facility, weights=amount, minlength=len(self))

    def book_claims(
        self,
        facility: np.ndarray,
        tier: np.ndarray,
        components: np.ndarray,
        billed: np.ndarray,
        fund: np.ndarray,
        oop: np.ndarray,
        *,
        basis: np.ndarray,
        bounds: np.ndarray,
        by_tier: np.ndarray,
    ) -> np.ndarray:
        """Book paid claims: revenue by component, by payer and by how each was paid (`basis`).

        When the fund pays less than its share (a capitated visit), the components are scaled so
        that booked revenue is exactly what was paid (`payment._paid_components`). Claims in
        consecutive batches are booked batch after batch, with the same floating-point sums as
        booking each batch in its own call; the booked revenue is also added by tier to the day's
        record (`by_tier`, its `revenue_<component>` rows).

        Args:
            facility: (n,) each claim's facility.
            tier: (n,) the facility's tier.
            components: (n, 4) billed service, drugs, consumables and tests.
            billed: (n,) their bills (`payment.bill_totals`).
            fund: (n,) paid by the fund.
            oop: (n,) paid by the patient.
            basis: (n,) how each claim was paid (`state.PAYMENT_BASES`).
            bounds: Where each batch of claims begins, then the end.
            by_tier: The day's `metrics.DayRecord.by_tier`, added to in place.

        Returns:
            (batches, 3): each batch's sums (as `ndarray.sum` gives them) of fund, out-of-pocket and
            booked amounts.
        """
        return _book_claims(
            facility, tier, components, billed, fund, oop, basis, bounds, self._claims, self._booking, by_tier,
            _REVENUE_ROWS,
        )  # fmt: skip

    def credit_lump_sum(self, facility: np.ndarray, amount: np.ndarray) -> None:
        """Book lump sums paid by the fund (negative: paid back to the fund)."""
        self._add(self.lump_sum, facility, amount)
        self._add(self.paid_by_fund, facility, amount)

    def medical_revenue(self) -> np.ndarray:
        """This year's medical revenue per facility: bills plus lump sums."""
        return self.revenue.sum(axis=1) + self.lump_sum

    def record_day(self, occupied: np.ndarray) -> None:
        """Count a recorded day's occupied beds per facility into the year's bed-days."""
        self.bed_days += occupied
        self.recorded_days += 1

    def occupancy(self) -> np.ndarray:
        """This year's bed occupancy per facility so far: bed-days ÷ (beds × days); 0 without beds or days."""
        available = self.beds * float(self.recorded_days)
        return np.divide(self.bed_days, available, out=np.zeros(len(self)), where=available > 0)

    def clinic_use(self) -> np.ndarray:
        """This year's outpatient visits ÷ (visits a day × days) per facility; 0 without capacity or days."""
        available = self.outpatient_capacity * float(self.recorded_days)
        return np.divide(self.visits, available, out=np.zeros(len(self)), where=available > 0)

    def drug_costs(self, markup: float) -> np.ndarray:
        """This year's cost of the drugs and consumables billed: their revenue less the mark-up in force (of the cost).

        Consumables carry the drugs' mark-up, as they did when the two were one component (药品耗材).
        """
        both = self.revenue[:, _DRUGS] + self.revenue[:, _CONSUMABLES]
        return both / (1.0 + markup)

    def running_costs(self, price_level: float) -> np.ndarray:
        """This year's running costs of each facility's beds and clinic sessions, yuan (0 before they are set).

        They rise with the price level and with the intensity of the care given in each setting: the
        services a hospital adds to a visit or a stay take its staff's time and supplies.
        """
        per_day = (
            self.bed_day_cost * self.beds * self.inpatient_intensity
            + self.clinic_day_cost * self.outpatient_capacity * self.outpatient_intensity
        )
        return np.nan_to_num(per_day) * price_level * float(self.recorded_days)

    def set_running_costs(self, margin: float, markup: float, price_level: float) -> None:
        """Running costs per bed-day and per clinic-capacity-day at which this year's surplus is `margin` of revenue.

        What the revenue leaves after the drugs' cost and the margin is the year's running cost, shared
        between the wards and the clinics as their bills are; a facility keeps these unit costs (at
        the price level and intensity) as its beds and clinics change. Call it before the year's
        response changes intensity.
        """
        running = (1.0 - margin) * self.medical_revenue() - self.drug_costs(markup)
        inpatient = self.billed_by_basis[:, OUTPATIENT_HEAD + 1 :].sum(axis=1)
        billed = inpatient + self.billed_by_basis[:, : OUTPATIENT_HEAD + 1].sum(axis=1)
        ward_share = np.divide(inpatient, billed, out=np.zeros(len(self)), where=billed > 0)
        days = float(self.recorded_days) * price_level
        bed_days = self.beds * self.inpatient_intensity * days
        clinic_days = self.outpatient_capacity * self.outpatient_intensity * days
        self.bed_day_cost = np.divide(running * ward_share, bed_days, out=np.zeros(len(self)), where=bed_days > 0)
        self.clinic_day_cost = np.divide(
            running * (1.0 - ward_share), clinic_days, out=np.zeros(len(self)), where=clinic_days > 0
        )

    def operating_margin(self, markup: float, price_level: float) -> np.ndarray:
        """This year's surplus ÷ medical revenue per facility: revenue less drugs' and running costs (0 without any)."""
        revenue = self.medical_revenue()
        surplus = revenue - self.drug_costs(markup) - self.running_costs(price_level)
        return np.divide(surplus, revenue, out=np.zeros(len(self)), where=revenue > 0)

    def close_year(self) -> None:
        """Start a new ledger year (the model has already recorded and responded to the closing one)."""
        self.last_revenue = self.medical_revenue()
        self._claims[...] = 0.0
        self.lump_sum[...] = 0.0
        self.bed_days[...] = 0.0
        self.upcoded[...] = 0.0
        self.recorded_days = 0


class Facility(Agent):
    """One facility: a Mesa agent viewing row `index` of the model's `FacilityState`.

    Attributes:
        index: Row in the facility arrays.
    """

    def __init__(self, model: CareModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def state(self) -> FacilityState:
        """The model's facility arrays."""
        return self.model.facilities

    @property
    def name(self) -> str:
        """Facility name."""
        return self.state.name[self.index]

    @property
    def tier(self) -> str:
        """Tier name (village, health_centre, secondary, tertiary)."""
        return TIERS[int(self.state.tier[self.index])]

    @property
    def beds(self) -> int:
        """Inpatient beds."""
        return int(self.state.beds[self.index])

    @property
    def occupied_beds(self) -> int:
        """Beds occupied now."""
        return int(self.model.occupied_beds()[self.index])

    @property
    def intensity(self) -> dict[str, float]:
        """Service intensity multiplier on the prices of visits and of stays."""
        s, i = self.state, self.index
        return {"outpatient": float(s.outpatient_intensity[i]), "inpatient": float(s.inpatient_intensity[i])}

    @property
    def revenue(self) -> dict[str, float]:
        """This year's revenue by component, yuan."""
        return dict(zip(COMPONENTS, self.state.revenue[self.index].tolist(), strict=True))

    def __repr__(self) -> str:
        return f"Facility({self.index}, {self.name!r}, {self.tier}, beds={self.beds})"
