"""Workforce parameters: the schema, units, ranges and sources of `sim.workforce`'s inputs.

Doctors are counted per facility at the build (`region.doctors_per_1000`); these parameters give
their mean skill, the GPs among primary care's doctors, and the yearly flows: retirement, hiring of
new graduates, GP training, migration up the tiers for pay.
"""

from __future__ import annotations

from sim.params import StrictModel, by_tier, param, table_field

Skill = by_tier(
    "Skill",
    (0.25, 0.45, 0.70, 1.0),
    "0–1 skill index",
    "assumption: on the scale of `care.quality`, so a tier's doctors at the build are as skilled as its "
    "quality says; the order follows the higher qualifications of hospitals' doctors, who move up the tiers "
    "[meng-2009-mobility]; range ±0.1 around each value",
    "Mean clinical skill of a tier's doctors at the build",
    ge=0,
    le=1,
)


class WorkforceParams(StrictModel):
    """Doctors per facility, their skill and the yearly flows that change them (off by default)."""

    enabled: bool = param(
        False,
        "on/off",
        "setting: off in the baseline, where quality and capability stay their tier's",
        "Run the yearly workforce flows; off, doctors, GPs and skill stay as built.",
    )
    skill: Skill = table_field(Skill)
    gps_per_10000: float = param(
        3.99,
        "GPs per 10,000 residents",
        "3.99 GPs per 10,000 residents in 2023 [nhc-bulletin-2023]; counted at health centres: assumption",
        "General practitioners (全科医生) at the build, spread over health centres by their doctors.",
        ge=0,
        le=50,
    )
    retirement_rate: float = param(
        0.029,
        "share of doctors a year",
        "assumption: a career of about 35 years (1/35); range 0.02–0.04",
        "Share of each facility's doctors retiring each year; hiring of graduates replaces them.",
        ge=0,
        le=0.2,
    )
    migration_rate: float = param(
        0.05,
        "share of primary doctors a year",
        "assumption anchored on [meng-2009-mobility]: 8.1% of township and 8.9% of community health centres' "
        "workers left in 2005, most to higher-level facilities, for low pay first; range 0.02–0.08",
        "Share of primary care's doctors moving up to a county hospital each year at today's pay gap.",
        ge=0,
        le=0.5,
    )
    migrant_skill_premium: float = param(
        0.1,
        "skill index",
        "assumption: those who leave are the better qualified [meng-2009-mobility]; range 0–0.2",
        "How much more skilled than their facility's mean the doctors moving up are.",
        ge=0,
        le=0.5,
    )
    hospital_pay_ratio: float = param(
        1.5,
        "hospital ÷ primary pay",
        "assumption: the Liaocheng plan [liaocheng-plan-2024] 六(四) asks primary pay to reach county hospitals' "
        "(逐步达到县级医院同职级人员水平), so it is below it today; range 1.2–2.0",
        "Pay of a hospital doctor relative to a primary doctor of the same grade today.",
        gt=1,
        le=5,
    )
    sanming_gap_narrowing: float = param(
        0.5,
        "share of the pay gap",
        "Sanming plan [sanming-six-projects-2021] 主要任务(二): 公立医疗机构薪酬制度 (annual salaries set by "
        "government, not by revenue); size: assumption, range 0.2–0.8",
        "Share of the hospital–primary pay gap closed while Sanming's salary reform is in force.",
        ge=0,
        le=1,
    )
    gp_training_per_10000: float = param(
        0.35,
        "GPs per 10,000 residents a year",
        "GPs per 10,000 rose from 2.61 (2019) [nhc-bulletin-2019] to 3.99 (2023) [nhc-bulletin-2023], ≈0.35 a "
        "year net of losses; taken as gross training (5+3, 3+2, conversion): assumption, range 0.2–0.6",
        "GPs trained or converted each year, placed at health centres by their doctors.",
        ge=0,
        le=5,
    )
    quality_per_skill: float = param(
        1.0,
        "quality per unit of skill",
        "assumption: quality moves one for one with the skill index (both on the tiers' scale); range 0.5–1",
        "Change of a facility's quality per unit change of its doctors' mean skill.",
        ge=0,
        le=5,
    )
