"""Patients' choice parameters: the schema, units, ranges and sources of `sim.choice`'s inputs."""

from __future__ import annotations

from sim.parameters.illness import SEVERITIES
from sim.params import StrictModel, by_tier, param, table_field

_DCE = (
    "willingness to pay ≈¥100 (¥102.84) for travel under 30 minutes for a minor illness [jia-2020-ncd-dce]; "
    "cost coefficient −0.168 and travel ≤1 h 1.285 [yu-2021-hypertension-dce]"
)


QualityWeight = by_tier(
    "QualityWeight",
    (2.0, 2.5, 3.0, 3.5),
    "utility per unit of quality",
    "assumption: rising mildly with severity; the rural DCE [liu-2019-rural-dce] finds quality moves choice a "
    "lot for minor illness and hardly for severe — here capability, not quality, steers severe cases",
    "Weight of facility quality, by severity of the episode",
    ge=0,
    le=50,
    keys=SEVERITIES,
)

CostLinearWeight = by_tier(
    "CostLinearWeight",
    (0.5, 0.5, 0.0, 0.0),
    "multiple of oop/¥100 added to ln(1 + oop/¥100)",
    "minor: willingness to pay ¥102.84 for travel under 30 minutes for a minor illness [jia-2020-ncd-dce] — with the "
    "travel weight (−2 per hour) and cost weight (−1), ¥102.84 more than a ¥60 visit weighs 1.0 when the linear part "
    "is 0.5 (the logarithm alone gives 0.5); moderate: as minor (assumption); severe and complex: 0, fitted to the "
    "admission shares by level [nhc-services-2019-10] (0.1 moved a sixth of tertiary admissions to secondary "
    "hospitals; the rural DCE [liu-2019-rural-dce] finds severe cases' choice hardly moved by facility attributes); "
    "sensitivity range 0–1",
    "Weight of the linear part of the cost term, by severity of the episode: 0 is the pure logarithm; larger values "
    "keep the yuan gaps between levels and routes from vanishing in the logarithm",
    ge=0,
    le=10,
    keys=SEVERITIES,
)

SELF_CARE_SEVERITIES = SEVERITIES[:2]
"""Severities of the acute episodes that may be cared for at home (minor, moderate)."""

TierConstant = by_tier(
    "TierConstant",
    (-0.1, -0.4, 0.0, 1.6),
    "utility",
    "fitted to the visit and admission shares by level [nhc-services-2019-10] (2019: visits primary 52%, "
    "secondary and other hospitals 21%, tertiary 23%; admissions health centres 16%, tertiary 38%) by "
    "experiments/calibrate_baseline.toml; secondary is the reference (0). Health centre: the shares alone do "
    "not identify it (above ≈0.5 every health centre fills its clinics, with 2.3-day waits at 1.0, and every "
    "value fits alike); −0.4 is the best of −0.6, −0.4 and 1.0 on the evidence table's fit-split levels and "
    "leaves health centres at ≈87% of capacity",
    "Alternative-specific constant of each tier (habit, prestige)",
    ge=-50,
    le=50,
)


SelfCareUtility = by_tier(
    "SelfCareUtility",
    (0.0, -1.0),
    "utility",
    "minor: fitted with the acute rate and the severity shares (experiments/fit_self_care.py) so that the "
    "baseline's share of episodes cared for at home is ≈28% (first year, scale 0.05: 28.0%), the middle of the "
    "share of two-week illnesses the patients treated themselves in the 2008 National Health Services Survey, "
    "25.3% (rural) to 31.0% (urban) [li-2012-self-treatment] — sensitivity range 0 to 0.5 (≈0.11 of share per "
    "unit); moderate: 1 below minor, assumption — the survey's self-treatment falls with severity "
    "[li-2012-self-treatment], by how much is not given; sensitivity range 0 to 2 below minor",
    "Utility of staying home (self-care, 自我医疗) for an acute episode, by severity; severe and complex episodes "
    "always seek care",
    ge=-50,
    le=50,
    keys=SELF_CARE_SEVERITIES,
)


class ChoiceParams(StrictModel):
    """Coefficients of the facility-choice model."""

    cost: float = param(
        -1.0,
        "utility per unit of ln(1 + oop/¥100)",
        _DCE,
        "Weight of the expected out-of-pocket payment.",
        ge=-50,
        le=0,
    )
    travel: float = param(
        -2.0,
        "utility per hour",
        _DCE + "; ¥100 ≈ 30 min gives −2 per hour",
        "Weight of travel time.",
        ge=-50,
        le=0,
    )
    quality: QualityWeight = table_field(QualityWeight)
    wait: float = param(
        -0.5,
        "utility per day",
        "assumption",
        "Weight of the expected wait (learned from recent days).",
        ge=-50,
        le=0,
    )
    cost_linear: CostLinearWeight = table_field(CostLinearWeight)
    income_growth: float = param(
        0.06,
        "per year",
        "assumption: near the growth of residents' per-capita disposable income in 2019–2023 (national "
        "statistical communiqués; figure not verified here); sensitivity range 0.02–0.09",
        "Yearly growth of the income patients weigh out-of-pocket payments against.",
        ge=-0.5,
        le=0.5,
    )
    referral_step: float = param(
        0.0,
        "utility",
        "fitted with the tier constants to the visit and admission shares by level [nhc-services-2019-10] "
        "(experiments/calibrate_baseline.toml; at the edge of its range −3 to 0: the referred route's extra "
        "travel, wait and visit cost, counted apart, are enough); sensitivity range −3 to 0",
        "Utility of a route on which the first facility refers the patient on (上转), besides the second "
        "visit's travel, wait and cost.",
        ge=-50,
        le=0,
    )
    trust: float = param(
        2.0,
        "utility per unit trust",
        "assumption",
        "Weight of trust in primary care at primary facilities.",
        ge=0,
        le=50,
    )
    signed: float = param(
        0.8,
        "utility",
        "Yangjiang plan [yangjiang-consortia-2017] 三(四): 通过签约服务,鼓励和引导居民在医联体内到基层首诊; "
        "size: assumption",
        "Pull of a signed resident's own consortium's primary facilities.",
        ge=0,
        le=50,
    )
    tier_constant: TierConstant = table_field(TierConstant)
    self_care: bool = param(
        True,
        "switch",
        "two-week illnesses untreated by a doctor in the National Health Services Survey [li-2012-self-treatment]",
        "Acute minor and moderate episodes weigh staying home (self-care) against their candidates; off: every "
        "episode seeks care.",
    )
    self_care_utility: SelfCareUtility = table_field(SelfCareUtility)
