"""Care supply and referral parameters: the schema, units, ranges and sources of `sim.care`'s inputs."""

from __future__ import annotations

from pydantic import Field

from sim.parameters.learning import LearningParams
from sim.params import StrictModel, by_tier, param, table_field

OutpatientCapability = by_tier(
    "OutpatientCapability",
    (0, 1, 2, 3),
    "highest severity (0 minor … 3 complex)",
    "functional positioning (功能定位): villages treat common minor illness, health centres common "
    "and moderate, county hospitals most severe cases, tertiary all; Sanming plan [sanming-six-projects-2021] "
    "主要任务(四): 一般病在市县解决、日常疾病在基层解决",
    "Highest severity treated as an outpatient",
    ge=0,
    le=3,
)

InpatientCapability = by_tier(
    "InpatientCapability",
    (-1, 1, 2, 3),
    "highest severity admitted (−1 none)",
    "functional positioning, as for outpatients [sanming-six-projects-2021]; health centres admit "
    "moderate cases: assumption",
    "Highest severity a tier admits",
    ge=-1,
    le=3,
)

Quality = by_tier(
    "Quality",
    (0.25, 0.45, 0.70, 1.0),
    "0–1 score",
    "assumption: perceived quality rises with tier",
    "Perceived quality of each tier",
    ge=0,
    le=1,
)

DownReferralProbability = by_tier(
    "DownReferralProbability",
    (0.0, 0.0, 0.05, 0.08),
    "probability",
    "Yangjiang plan [yangjiang-consortia-2017] 三(三): 基层医疗机构要重点畅通诊断明确、病情稳定患者和术后康复期患者的"
    "下转通道; rates: assumption (secondary 5%, tertiary 8%)",
    "Probability a discharged patient is referred down (下转) to their health centre for follow-up",
    ge=0,
    le=1,
)


TransferProbability = by_tier(
    "TransferProbability",
    (0.0, 0.06, 0.04, 0.0),
    "probability",
    "Yangjiang plan [yangjiang-consortia-2017] 三(三): 医联体内上转的患者 (inpatients referred up); rates: "
    "assumption (health centres 6%, secondary 4%)",
    "Probability an admitted patient needs a higher tier and is transferred up (上转) after two days",
    ge=0,
    le=1,
)


FormularyBreadth = by_tier(
    "FormularyBreadth",
    (0.6, 0.8, 1.0, 1.0),
    "share of chronic regimens stocked",
    "assumption anchored on [su-2017-antihypertensives]: of 3,362 primary sites 8.1% stocked no "
    "antihypertensive and 33.8% all four routinely used classes, village clinics least; Yangjiang plan "
    "[yangjiang-consortia-2017] 四(三): 慢性非传染性疾病的药品衔接工作,保障基层医疗卫生机构的药品供应; "
    "sensitivity range 0.4–0.9 (village), 0.6–1.0 (health centre), 0.9–1.0 (hospitals)",
    "Share of chronic patients' regimens a facility stocks; a follow-up whose regimen is not stocked is referred up",
    ge=0,
    le=1,
)


class CareParams(StrictModel):
    """Capability, quality and queueing rules."""

    outpatient_capability: OutpatientCapability = table_field(OutpatientCapability)
    inpatient_capability: InpatientCapability = table_field(InpatientCapability)
    quality: Quality = table_field(Quality)
    max_queue_days: float = param(
        2.0,
        "days of capacity",
        "assumption",
        "Outpatient backlog beyond which a facility turns patients away.",
        ge=0,
        le=60,
    )
    admission_wait_tolerance_days: int = param(
        5, "days", "assumption", "Days a patient waits for a bed before going elsewhere.", ge=0, le=365
    )
    down_referral_probability: DownReferralProbability = table_field(DownReferralProbability)
    transfer_probability: TransferProbability = table_field(TransferProbability)
    formulary_breadth: FormularyBreadth = table_field(FormularyBreadth)
    declined_seek_bed: float = param(
        0.5,
        "probability",
        "assumption: no estimate was found of how many patients a hospital declines to admit under a budget "
        "(推诿) then ask for a bed elsewhere; clinicians report hospitals under global-budget cost control "
        "accepting fewer critically ill patients and patients visiting hospitals more often "
        "[yan-2019-global-budget-survey] (no share); sensitivity range 0.2–0.8",
        "Probability that a moderate case a hospital declines to admit out of budget restraint (the part of the "
        "admission probability its propensity < 1 removes) asks for a bed at the next tier up instead of being "
        "treated as an outpatient.",
        ge=0,
        le=1,
    )
    wait_memory_days: float = param(
        30.0, "days", "assumption", "Horizon over which patients learn a facility's expected wait.", ge=1, le=3650
    )
    learning: LearningParams = Field(default_factory=LearningParams, description=LearningParams.__doc__)
