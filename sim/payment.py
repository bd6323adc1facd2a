"""Prices and provider payment.

Every bill is split into service (医疗服务), drugs (药品), consumables (卫生材料) and tests (检查化验);
drugs and consumables together (药品耗材) are the "3" of the 5:3:2 revenue structure of
[sanming-six-projects-2021]. The baseline pays
providers fee-for-service (按项目付费): the facility's revenue is its bills, paid by the fund and the
patient. Under fee-for-service hospitals raise service intensity a little every year
(`intensity_drift`) — more tests, more drugs, longer or costlier stays — which is what makes their
revenue outgrow the 9% cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.accel import kernel
from sim.arrays import pairwise_sum
from sim.levers import ProviderResponse
from sim.parameters.illness import FOLLOW_UP
from sim.parameters.prices import (
    PriceParams,
)
from sim.state import INPATIENT_CASE, INPATIENT_DAY, INPATIENT_ITEM, OUTPATIENT_HEAD, OUTPATIENT_ITEM


def outpatient_bill(
    tier: np.ndarray,
    intensity: np.ndarray,
    severity: np.ndarray,
    kind: np.ndarray,
    year: int,
    params: PriceParams,
) -> np.ndarray:
    """Total bill of outpatient visits (yuan)."""
    base = params.outpatient_price.as_array()[tier] * params.outpatient_severity_factor.as_array()[severity]
    base = np.where(kind == FOLLOW_UP, base * params.follow_up_factor, base)
    return base * intensity * (1.0 + params.price_inflation) ** year


def inpatient_bill(
    tier: np.ndarray,
    intensity: np.ndarray,
    severity: np.ndarray,
    days: np.ndarray,
    year: int,
    params: PriceParams,
) -> np.ndarray:
    """Total bill of inpatient stays (yuan)."""
    return stay_bills(
        params.inpatient_price_per_day.as_array(),
        params.inpatient_severity_factor.as_array(),
        tier,
        severity,
        days,
        intensity,
        (1.0 + params.price_inflation) ** year,
    )


def stay_bills(
    price_per_day: np.ndarray,
    severity_factor: np.ndarray,
    tier: np.ndarray,
    severity: np.ndarray,
    days: np.ndarray,
    intensity: np.ndarray,
    inflation: float,
) -> np.ndarray:
    """`inpatient_bill` from the price tables (by tier, by severity) and the year's inflation factor."""
    return price_per_day[tier] * severity_factor[severity] * days * intensity * inflation


def split_components(total: np.ndarray, tier: np.ndarray, inpatient: bool, params: PriceParams) -> np.ndarray:
    """(n, 4) service, drugs, consumables and tests parts of bills; `bill_totals` of the parts is the total exactly."""
    return split_by_shares(total, tier, *params.shares(inpatient))


def split_by_shares(
    total: np.ndarray, tier: np.ndarray, drug_share: np.ndarray, consumables_share: np.ndarray, test_share: np.ndarray
) -> np.ndarray:
    """`split_components` from the drug, consumables and test shares by tier.

    Drugs and consumables are split from their sum (药品耗材, the "3" of the 5:3:2 structure), so that
    service is what the bill leaves after that sum and tests, and drugs + consumables give it back
    exactly where drugs are at least half of it (Sterbenz: the subtraction is exact).
    """
    both = total * (drug_share + consumables_share)[tier]
    d = total * drug_share[tier]
    t = total * test_share[tier]
    return np.stack([total - both - t, d, both - d, t], axis=1)


def bill_totals(components: np.ndarray) -> np.ndarray:
    """(n,) bills from their (n, 4) components: service + (drugs + consumables) + tests, in that order.

    Drugs and consumables are added first, as the one part they were before they were split, so a
    bill is the same double it was (`rules.visit_bill` is the same sum for one bill in a kernel).
    """
    return components[:, 0] + (components[:, 1] + components[:, 2]) + components[:, 3]


def price_index(inpatient: bool, params: PriceParams, multiplier: np.ndarray) -> np.ndarray:
    """(tiers,) bill multiplier by tier after component price changes, at the baseline mix.

    What a patient expects a bill to become under, e.g., Sanming's prices (drugs and tests down,
    service up): each tier's baseline shares weighted by the component price changes.
    """
    tiers = np.arange(len(params.outpatient_price.as_array()))
    return bill_totals(split_components(np.ones(tiers.size), tiers, inpatient, params) * multiplier[None, :])


def priced_components(
    total: np.ndarray,
    tier: np.ndarray,
    inpatient: bool,
    params: PriceParams,
    multiplier: np.ndarray,
    volume: np.ndarray | None = None,
) -> np.ndarray:
    """(n, 4) bill components after price changes and the facility's drug, consumables and test volumes.

    Args:
        total: Bills at baseline prices and volumes.
        tier: Tier of each billing facility.
        inpatient: Inpatient (True) or outpatient bills.
        params: Price parameters (the baseline mix).
        multiplier: Price change of each component (e.g. Sanming's: service up, drugs and tests down).
        volume: (n, 4) volume of each component relative to the baseline mix (provider response).
    """
    parts = split_components(total, tier, inpatient, params)
    if volume is not None:
        parts = parts * volume
    return parts * multiplier[None, :]


@kernel
def _paid_components(
    components: np.ndarray, billed: np.ndarray, fund: np.ndarray, oop: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What claims book to their facilities, and each batch's totals (`FacilityState.book_claims`).

    When the fund pays less than its share (a capitated visit), the components are scaled so that
    booked revenue is exactly what was paid. Drugs and consumables are scaled as their sum, then split
    as billed, and the batch totals add each claim's service, drugs and consumables, and tests: the
    sums of the three parts of the 5:3:2 structure (`bill_totals`).

    Args:
        components: (n, 4) billed service, drugs, consumables and tests.
        billed: (n,) their bills (`bill_totals`).
        fund: (n,) paid by the fund.
        oop: (n,) paid by the patient.
        bounds: Where each batch of claims begins, then the end.

    Returns:
        (n, 4) booked components, and per batch the sums (as `ndarray.sum` gives them) of fund,
        out-of-pocket and booked amounts.
    """
    n, m = components.shape
    booked = np.empty((n, m))
    parts = np.empty(n * 3)
    for i in range(n):
        paid = fund[i] + oop[i]
        scale = paid / billed[i] if billed[i] > 0 else 1.0
        both = (components[i, 1] + components[i, 2]) * scale
        booked[i, 0] = components[i, 0] * scale
        booked[i, 1] = components[i, 1] * scale
        booked[i, 2] = both - booked[i, 1]
        booked[i, 3] = components[i, 3] * scale
        parts[3 * i], parts[3 * i + 1], parts[3 * i + 2] = booked[i, 0], both, booked[i, 3]
    sums = np.zeros((bounds.size - 1, 3))
    for batch in range(bounds.size - 1):
        begin, end = bounds[batch], bounds[batch + 1]
        sums[batch, 0] = pairwise_sum(fund, begin, end)
        sums[batch, 1] = pairwise_sum(oop, begin, end)
        sums[batch, 2] = pairwise_sum(parts, begin * 3, end * 3)
    return booked, sums


@dataclass(frozen=True)
class Incentives:
    """What facilities' payments made pay at the margin over a year: per facility (arrays) or for all alike.

    Attributes:
        outpatient_margin: Share of an extra yuan of services in a visit a facility keeps (1 under
            fee-for-service).
        inpatient_margin: The same in a stay.
        volume_margin: Share of an extra case's bill it keeps (less than 1 under a global budget).
        per_case_share: Share of its stays' bills paid per case (DRG/DIP).
        per_day_share: Share of its stays' bills paid per day (per diem).
        salary_reform: Share of the volume incentive removed by salary reform (Sanming).
        markup_removed: Drug price cut that removed the mark-up (药品零差率), 0 if none.
        referral_bonus: Down-referral bonus relative to a facility's mean stay bill.
        coding_gain: Rise of a facility's case-mix index per unit of upcoded share (`coding_gain`).
        admission_margin: Share of a moderate case's bill a facility keeps by admitting it rather than
            declining it (`admission_margin`); None: the volume margin.
    """

    outpatient_margin: np.ndarray | float = 1.0
    inpatient_margin: np.ndarray | float = 1.0
    volume_margin: np.ndarray | float = 1.0
    per_case_share: np.ndarray | float = 0.0
    per_day_share: np.ndarray | float = 0.0
    salary_reform: float = 0.0
    markup_removed: float = 0.0
    referral_bonus: np.ndarray | float = 0.0
    coding_gain: np.ndarray | float = 0.0
    admission_margin: np.ndarray | float | None = None


def respond_in_setting(
    intensity: np.ndarray,
    mix: np.ndarray,
    tier: np.ndarray,
    margin: np.ndarray | float,
    incentives: Incentives,
    prices: PriceParams,
    response: ProviderResponse,
    inpatient: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One year's response of the services billed in one setting (visits or stays) to that setting's margin.

    Drugs, consumables and tests are what a fixed payment makes a cost: their volumes fall with
    (1 − margin). A removed drug mark-up makes drugs unprofitable: their volume falls too, and the
    hospital makes up part of the drug revenue it lost with more consumables and tests
    (`substitution_ceiling`), rising at the pace drugs fall.

    Args:
        intensity: Service intensity multipliers of the setting.
        mix: (F, 4) its volumes of service, drugs, consumables and tests relative to the baseline mix.
        tier: Facility tiers.
        margin: Share of an extra yuan of the setting's services a facility keeps (`margins`).
        incentives: The year's other incentives (salary reform, mark-up removed).
        prices: Price parameters (the fee-for-service drift and the bill mix by tier).
        response: Response parameters.
        inpatient: The setting is stays (True) or visits.

    Returns:
        (intensity, mix) after the year.
    """
    drift = prices.intensity_drift.as_array()[tier]
    log_change = np.log1p(drift) * margin * (1.0 - incentives.salary_reform) - response.restraint * (1.0 - margin)
    cut = np.broadcast_to(response.mix_response * (1.0 - margin), tier.shape)
    markup_pace = response.mix_response * incentives.markup_removed / 0.15
    mix = mix.copy()
    mix[:, 1] *= np.exp(-(cut + markup_pace))
    mix[:, 1] = np.clip(mix[:, 1], 0.5, 1.0)
    mix[:, 2:] *= np.exp(-cut)[:, None]
    ceiling = np.ones(tier.size)
    if incentives.markup_removed > 0:
        mix[:, 2:] *= np.exp(markup_pace)
        ceiling = substitution_ceiling(mix[:, 1], tier, incentives.markup_removed, prices, response, inpatient)
    mix[:, 2:] = np.clip(mix[:, 2:], 0.5, ceiling[:, None])
    return intensity * np.exp(log_change), mix


def substitution_ceiling(
    drug_volume: np.ndarray,
    tier: np.ndarray,
    markup_removed: float,
    prices: PriceParams,
    response: ProviderResponse,
    inpatient: bool,
) -> np.ndarray:
    """(F,) most volume of consumables and tests, relative to the baseline mix, after a drug mark-up is removed.

    The drug revenue lost, as a share of a baseline bill, is d·(1 − (1 − r)·v): the price cut r
    and the fall of the drug volume v. Consumables and tests, shares k and t of the bill, rise by a
    common factor 1 + u that makes up `markup_substitution` of it:
    u = markup_substitution · d·(1 − (1 − r)·v) ÷ (k + t).

    Args:
        drug_volume: (F,) this year's drug volume relative to the baseline mix.
        tier: Facility tiers.
        markup_removed: Drug price cut that removed the mark-up (> 0).
        prices: Price parameters (the bill mix by tier).
        response: Response parameters (`markup_substitution`).
        inpatient: The setting is stays (True) or visits.
    """
    drugs, consumables, tests = (share[tier] for share in prices.shares(inpatient))
    lost = drugs * (1.0 - (1.0 - markup_removed) * drug_volume)
    room = consumables + tests
    return 1.0 + np.divide(response.markup_substitution * lost, room, out=np.zeros(tier.size), where=room > 0)


def respond_in_wards(
    propensity: np.ndarray,
    willingness: np.ndarray,
    stay_length: np.ndarray,
    self_paid_share: np.ndarray,
    incentives: Incentives,
    response: ProviderResponse,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One year's response of admissions, down-referrals, lengths of stay and self-paid items to how stays are paid.

    A global budget makes an extra case cost the facility part of its bill (volume margin v < 1):
    fewer moderate cases are admitted (they move with the admission margin: v, unless a per-head
    budget also counts what a case let go costs it, `admission_margin`), more patients are referred
    down, and more of a stay's bill goes to items outside the benefit list, which the patient pays
    and the budget does not bear.
    Paid per case, a day more in bed earns nothing: stays shorten. Paid per day, a day more earns its
    rate, and the last days of a stay, which need the fewest services, earn the most: stays lengthen.

    Args:
        propensity: Moderate-case admission propensities (1 = baseline).
        willingness: Down-referral willingness multipliers (1 = baseline).
        stay_length: Multipliers on the mean length of stay (1 = baseline).
        self_paid_share: Shares of stays' bills outside the benefit list (0 = baseline).
        incentives: What the payment made pay at the margin.
        response: Response parameters.

    Returns:
        (propensity, willingness, stay_length, self_paid_share) after the year.
    """
    v = incentives.volume_margin
    admit = v if incentives.admission_margin is None else incentives.admission_margin
    propensity = np.clip(propensity * np.exp(response.admission_response * (admit - 1.0)), 0.5, 1.5)
    with np.errstate(over="ignore"):  # a bonus worth many stays overflows to inf, which the bound takes to 5
        willingness = np.clip(
            willingness * np.exp(response.down_referral_response * (1.0 - v + incentives.referral_bonus)), 1.0, 5.0
        )
    log_change = (
        response.per_day_stay_response * incentives.per_day_share
        - response.per_case_stay_response * incentives.per_case_share
    )
    shifted = np.clip(self_paid_share + response.cost_shift_response * (1.0 - v), 0.0, response.max_self_paid_share)
    return propensity, willingness, np.clip(stay_length * np.exp(log_change), 0.5, 1.5), shifted


def transfer_probability(
    by_tier: np.ndarray, per_head_member: np.ndarray, retention_response: float, surplus_kept: float
) -> np.ndarray:
    """(F,) probability that a stay below the top severity ends in a transfer up, per facility.

    A hospital whose transfers up leave its consortium's per-head budget (its residents' care
    elsewhere is paid from it) keeps 1 − `retention_response` × `surplus_kept` of them: each one
    would cost the budget a stay at a higher tier's prices, of which the consortium bears
    `surplus_kept` while under budget.

    Args:
        by_tier: (F,) the tier's transfer probability at each facility.
        per_head_member: (F,) hospitals whose transfers up leave a per-head budget.
        retention_response: Share kept per unit of the share of an extra yuan borne.
        surplus_kept: Share of an under-spend the consortium keeps.
    """
    return by_tier * np.where(per_head_member, 1.0 - retention_response * surplus_kept, 1.0)


def let_go_claim_ratio(
    case_bills: np.ndarray,
    case_counts: np.ndarray,
    fund_claims: np.ndarray,
    billed: np.ndarray,
    tier: np.ndarray,
    admits_moderate: np.ndarray,
) -> np.ndarray:
    """(tiers,) the fund's expected claim for a moderate stay at the next tier up ÷ a moderate stay's bill at each tier.

    What a moderate case a hospital lets go costs the fund if the patient is admitted higher up
    (`care.ward_above`), per yuan of the bill the hospital would have earned: the mean bill of the
    moderate stays completed this year at the lowest higher tier that admits them × that tier's fund
    share of its bills, ÷ the mean bill of moderate stays at the tier. 0 where a tier has no tier
    above it that admits moderate cases, or either tier completed no moderate stay.

    Args:
        case_bills: (tiers, severities) this year's bills of completed stays.
        case_counts: (tiers, severities) those stays.
        fund_claims: (F,) this year's fund claims per facility.
        billed: (F,) this year's bills per facility.
        tier: (F,) each facility's tier.
        admits_moderate: (tiers,) the tier admits moderate cases.
    """
    n = case_bills.shape[0]
    moderate = 1
    mean_bill = np.divide(
        case_bills[:, moderate], case_counts[:, moderate], out=np.zeros(n), where=case_counts[:, moderate] > 0
    )
    fund, bills = (np.bincount(tier, weights=x, minlength=n) for x in (fund_claims, billed))
    fund_share = np.divide(fund, bills, out=np.zeros(n), where=bills > 0)
    ratio = np.zeros(n)
    for t in range(n):
        above = [u for u in range(t + 1, n) if admits_moderate[u]]
        if above and mean_bill[t] > 0:
            ratio[t] = fund_share[above[0]] * mean_bill[above[0]] / mean_bill[t]
    return ratio


def admission_margin(
    volume_margin: np.ndarray, clawback: np.ndarray, seek_share: float, let_go_ratio: np.ndarray
) -> np.ndarray:
    """Share of a moderate case's bill a facility on a per-head budget keeps by admitting it rather than letting it go.

    Admitting earns its bill and costs the budget `clawback` of the fund's claim: the volume margin v.
    Declining saves that claim, but with probability `seek_share` the patient is admitted at the
    next tier up (`care.ward_above`), where the budget, paying for its residents wherever treated,
    still bears `clawback` of the fund's claim (`let_go_claim_ratio` per yuan of the bill here).
    Keeping the case is worth that too: v + clawback × seek_share × ratio, above 1 when a stay let go
    costs the budget more than one kept. As in v, the facility weighs the budget's share of claims
    against its own bill only, not the bill another member would earn.

    Args:
        volume_margin: (F,) each facility's volume margin v.
        clawback: (F,) share of an extra yuan of its residents' fund claims its consortium bears (0:
            no per-head budget).
        seek_share: Probability a declined patient asks for a bed higher up (`CareParams.declined_seek_bed`).
        let_go_ratio: (F,) `let_go_claim_ratio` of its tier.
    """
    return volume_margin + clawback * seek_share * let_go_ratio


def budget_transfer(
    budget: np.ndarray, spending: np.ndarray, surplus_kept: float, overspend_borne: float
) -> np.ndarray:
    """Year-end settlement of global budgets (总额付费), per consortium, paid by the fund.

    Under budget the consortium is paid `surplus_kept` of the surplus (结余留用); over budget it pays
    back `overspend_borne` of the overspend (合理超支分担) and the fund bears the rest.

    Returns:
        Fund → consortium transfer (negative: consortium → fund), yuan.
    """
    gap = budget - spending
    return np.where(gap >= 0, surplus_kept * gap, overspend_borne * gap)


def share_transfer(
    transfer: np.ndarray, consortium: np.ndarray, is_lead: np.ndarray, revenue: np.ndarray, lead_share: float
) -> np.ndarray:
    """Split each consortium's transfer: `lead_share` to the lead, the rest to members by revenue.

    Returns:
        Per facility amount; per consortium they add up to its transfer exactly.
    """
    n = transfer.size
    member = (consortium >= 0) & ~is_lead
    member_revenue = np.bincount(consortium[member], weights=np.maximum(revenue[member], 0.0), minlength=n)
    has_members = member_revenue > 0
    lead_part = np.where(has_members, lead_share, 1.0) * transfer
    out = np.zeros(consortium.size)
    leads = np.flatnonzero(is_lead)
    out[leads] = lead_part[consortium[leads]]
    c = consortium[member]
    out[member] = np.divide(
        (transfer - lead_part)[c] * np.maximum(revenue[member], 0.0),
        member_revenue[c],
        out=np.zeros(c.size),
        where=member_revenue[c] > 0,
    )
    return out


def capitation_payments(
    rate: float, station_share: float, station: np.ndarray, centre: np.ndarray, n_facilities: int
) -> np.ndarray:
    """A year's capitation (按人头) per facility: `rate` per signed resident, split between their two primary levels.

    Args:
        rate: Yuan per signed resident per year.
        station_share: Share paid to the resident's village clinic or community station; the rest to
            their health centre.
        station: Each signed resident's village clinic or station.
        centre: Each signed resident's health centre.
        n_facilities: Facilities in the region.

    Returns:
        Yuan per facility; they add up to `rate` × signed residents.
    """
    return rate * (
        station_share * np.bincount(station, minlength=n_facilities)
        + (1 - station_share) * np.bincount(centre, minlength=n_facilities)
    )


def capped_intensity(
    intensity: np.ndarray, revenue: np.ndarray, last_revenue: np.ndarray, hospital: np.ndarray, cap: float
) -> np.ndarray:
    """Service intensity after the revenue-growth cap (医药总收入增幅控制): hospitals over it cut back to it.

    A hospital whose medical revenue grew more than `cap` this year scales its intensity by
    (1 + cap) / (1 + growth), which would have kept this year's revenue at the cap.

    Args:
        intensity: Service intensity per facility.
        revenue: This year's medical revenue per facility.
        last_revenue: Last year's (NaN or 0: no growth rate, no cap).
        hospital: Facilities the cap applies to.
        cap: Most yearly growth allowed.

    Returns:
        Intensity per facility (a new array).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = revenue / last_revenue - 1.0
    over = hospital & np.isfinite(growth) & (growth > cap)
    capped = intensity.copy()
    capped[over] *= (1.0 + cap) / (1.0 + growth[over])
    return capped


def sinking_quality(
    quality: np.ndarray,
    invest: np.ndarray,
    consortium: np.ndarray,
    member: np.ndarray,
    revenue: np.ndarray,
    quality_per_investment: float,
) -> np.ndarray:
    """Quality of primary members after their lead invests in them (资源下沉), capped at 1.

    Each member of a consortium gains `quality_per_investment` × the consortium's investment ÷
    its members' revenue this year (no revenue: no gain).

    Args:
        quality: Quality per facility.
        invest: Yuan invested per consortium.
        consortium: Consortium of each facility.
        member: Facilities that receive the investment (primary members of a consortium).
        revenue: This year's medical revenue per facility.
        quality_per_investment: Quality per unit of investment ÷ member revenue.

    Returns:
        Quality per facility (a new array).
    """
    member_revenue = np.bincount(consortium[member], weights=revenue[member], minlength=invest.size)
    gain = quality_per_investment * np.divide(
        invest, member_revenue, out=np.zeros_like(invest), where=member_revenue > 0
    )
    raised = quality.copy()
    raised[member] = np.minimum(1.0, quality[member] + gain[consortium[member]])
    return raised


def group_prices(case_bills: np.ndarray, case_counts: np.ndarray, factor: float) -> np.ndarray:
    """Per-case prices (DRG/DIP, 按病组付费) by (tier, severity), in year-0 yuan.

    Each group's price is last year's mean bill of its completed stays × `factor`; a group with no
    stay last year takes the mean of the other groups' means (0 if no group had one).

    Args:
        case_bills: (tiers, severities) last year's bills of completed stays, in year-0 yuan.
        case_counts: (tiers, severities) those stays.
        factor: Price relative to last year's mean bill.
    """
    mean = case_bills / np.maximum(case_counts, 1)
    fallback = mean[case_counts > 0].mean() if (case_counts > 0).any() else 0.0
    return np.where(case_counts > 0, mean, fallback) * factor


def assessment(
    visits: np.ndarray,
    fund_claims: np.ndarray,
    primary: np.ndarray,
    consortium: np.ndarray,
    withheld_share: float,
    target_primary_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A year's assessment of consortia on their primary-care share of visits (绩效考核), with money attached.

    A consortium's score is min(1, primary visits ÷ visits at its members ÷ target). The fund held back
    `withheld_share` of each member's claims and keeps (1 − score) of it: the member pays that back.
    Below the target, one more visit at primary care instead of a hospital raises the score by
    1 ÷ (target × visits) and is worth withheld × claims ÷ (target × visits) to the consortium.

    Args:
        visits: This year's visits per facility.
        fund_claims: This year's fund claims per facility.
        primary: Which facilities are primary care.
        consortium: Consortium of each facility (−1: none, not assessed).
        withheld_share: Share of claims held back.
        target_primary_share: Primary share of visits at which the score is full.

    Returns:
        (per facility amount the fund pays, ≤ 0; per hospital yuan a visit it moves to primary care is
        worth to its consortium).
    """
    member = consortium >= 0
    n = int(consortium.max(initial=-1)) + 1
    c = np.maximum(consortium, 0)
    all_visits = np.bincount(consortium[member], weights=visits[member], minlength=n)
    primary_visits = np.bincount(consortium[member], weights=np.where(primary, visits, 0.0)[member], minlength=n)
    claims = np.bincount(consortium[member], weights=fund_claims[member], minlength=n)
    share = np.divide(primary_visits, all_visits, out=np.ones(n), where=all_visits > 0)
    score = np.minimum(1.0, share / target_primary_share)
    paid = np.where(member, -withheld_share * fund_claims * (1.0 - score[c]), 0.0)
    worth = np.divide(withheld_share * claims, target_primary_share * all_visits, out=np.zeros(n), where=all_visits > 0)
    return paid, np.where(member & ~primary & (score[c] < 1.0), worth[c], 0.0)


def bonus_per_stay_bill(
    bonus: float | np.ndarray, case_bills: np.ndarray, case_counts: np.ndarray, tier: np.ndarray
) -> np.ndarray:
    """A down-referral bonus relative to the mean bill of a stay completed this year at each facility's tier.

    What a bonus is worth against the care a hospital gives up by referring a patient down (0 where
    no stay ended at the tier).

    Args:
        bonus: Yuan per down-referral (for all, or per facility).
        case_bills: (tiers, severities) this year's bills of completed stays.
        case_counts: (tiers, severities) those stays.
        tier: Each facility's tier.
    """
    mean_stay_bill = case_bills.sum(axis=1) / np.maximum(case_counts.sum(axis=1), 1)
    return np.divide(bonus, mean_stay_bill[tier], out=np.zeros(tier.size), where=mean_stay_bill[tier] > 0)


def budget_clawback(
    budget: np.ndarray, spending: np.ndarray, surplus_kept: float, overspend_borne: float
) -> np.ndarray:
    """Share of an extra yuan of fund claims each consortium bears at the margin under its global budget.

    Under budget, an extra yuan spent is a yuan of surplus not kept (`surplus_kept`); over it, a
    share of an overspend paid back (`overspend_borne`); no budget (NaN): none.
    """
    return np.where(np.isfinite(budget), np.where(spending <= budget, surplus_kept, overspend_borne), 0.0)


def margins(billed_by_basis: np.ndarray, fund_claims: np.ndarray, clawback: np.ndarray) -> Incentives:
    """What payment leaves each facility at the margin, setting by setting.

    An item billed fee-for-service earns its bill; care paid a fixed amount (per head, per case, per
    day) earns nothing more for more services. So a setting's margin m is the share of its bills
    paid item by item (1 without bills): a payment of stays leaves the margin of visits alone. A
    global budget takes back `clawback` of each extra yuan the fund pays: the volume margin v = 1 −
    fund share of all bills × clawback, which scales both margins.

    Args:
        billed_by_basis: (F, 5) this year's bills per facility by how they were paid (`state.PAYMENT_BASES`).
        fund_claims: This year's claims paid by the fund, per facility.
        clawback: Per facility, its consortium's `budget_clawback` (0 without a budget).

    Returns:
        The margins (outpatient, inpatient, volume) and the shares of stays' bills paid per case and
        per day; the other incentives at their defaults.
    """
    b = billed_by_basis.T
    billed = b.sum(axis=0)
    fund_share = np.divide(fund_claims, billed, out=np.zeros(billed.size), where=billed > 0)
    volume = 1.0 - fund_share * clawback
    outpatient = b[OUTPATIENT_ITEM] + b[OUTPATIENT_HEAD]
    inpatient = b[INPATIENT_ITEM] + b[INPATIENT_CASE] + b[INPATIENT_DAY]

    def share(part: np.ndarray, whole: np.ndarray, none: float) -> np.ndarray:
        return np.divide(part, whole, out=np.full(whole.size, none), where=whole > 0)

    return Incentives(
        outpatient_margin=share(b[OUTPATIENT_ITEM], outpatient, 1.0) * volume,
        inpatient_margin=share(b[INPATIENT_ITEM], inpatient, 1.0) * volume,
        volume_margin=volume,
        per_case_share=share(b[INPATIENT_CASE], inpatient, 0.0),
        per_day_share=share(b[INPATIENT_DAY], inpatient, 0.0),
    )


def group_weights(severity_price_factor: np.ndarray, severity_stay_factor: np.ndarray, reference: int) -> np.ndarray:
    """(severities,) relative weights of the per-case groups, for the case-mix index (CMI).

    A group's weight is its expected bill at baseline prices relative to that of the `reference`
    severity at the same tier: the per-day price factor × the length-of-stay factor (a tier's price
    per day and mean stay cancel). Fixed for the run, as a DRG scheme's published weights are within
    the years an evaluation compares. Where the reference group's expected bill is 0 (a price or stay
    factor of 0) there is no scale to weigh by: every group weighs 1, and coding a stay higher gains nothing.
    """
    cost = severity_price_factor * severity_stay_factor
    if cost[reference] <= 0:
        return np.ones_like(cost)
    return cost / cost[reference]


def coding_gain(case_counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(tiers,) relative rise of each tier's case-mix index per unit of upcoded share, at its severity mix.

    A stay coded one group higher adds the next group's weight less its own (the top group cannot be
    coded higher); over a tier's stays that is Σ n·(w[s+1] − w[s]) ÷ Σ n·w[s]. 0 where no stay
    ended at the tier.

    Args:
        case_counts: (tiers, severities) stays completed this year, by true severity.
        weights: (severities,) group weights (`group_weights`).
    """
    step = np.append(np.diff(weights), 0.0)
    added, cmi = case_counts @ step, case_counts @ weights
    return np.divide(added, cmi, out=np.zeros(cmi.size), where=cmi > 0)


def upcoded_share(
    share: np.ndarray,
    per_case_share: np.ndarray | float,
    gain: np.ndarray | float,
    response: ProviderResponse,
) -> np.ndarray:
    """One year's growth of the share of stays each facility codes one group higher (upcoding, DRG creep).

    Coding raises a facility's case-mix index by `coding_creep` × the share of its stays' bills paid
    per case each year: its upcoded share grows by that ÷ `gain`, the rise of its case-mix index per
    unit of share, up to `max_upcoding_share`; it does not shrink (coding habits and software stay).
    Where no stay can be coded higher (`gain` 0) it stays.

    Args:
        share: (F,) upcoded share of stays paid per case.
        per_case_share: Share of each facility's stays' bills paid per case (at their true groups' prices).
        gain: Each facility's `coding_gain` (its tier's).
        response: Response parameters.
    """
    step = np.divide(response.coding_creep * per_case_share, gain, out=np.zeros(np.shape(share)), where=gain > 0)
    return np.maximum(share, np.minimum(share + step, response.max_upcoding_share))


def true_group_bills(billed_by_basis: np.ndarray, upcoded: np.ndarray) -> np.ndarray:
    """(F, 5) bills by payment basis with the per-case bills at their true groups' prices.

    Upcoding raises what a hospital is paid per case, not how it is paid: the shares of its stays'
    bills paid per case and per day that its stay response reads (`margins`) are those of the care
    it gave.

    Args:
        billed_by_basis: (F, 5) this year's bills by how they were paid.
        upcoded: (F,) what upcoding added to its per-case bills this year.
    """
    out = billed_by_basis.copy()
    out[:, INPATIENT_CASE] -= upcoded
    return out
