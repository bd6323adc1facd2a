"""Population parameters: the schema, units, ranges and sources of `sim.population`'s inputs."""

from __future__ import annotations

from sim.params import StrictModel, param

EMPLOYEE, RESIDENT = 0, 1
"""Insurance schemes: urban employee basic medical insurance (职工医保) and urban-rural resident
basic medical insurance (城乡居民医保)."""

KEY_GROUP_AGE = 65
"""Age from which a resident counts as elderly, a key group for family-doctor signing ([yangjiang-consortia-2017])."""


class PopulationParams(StrictModel):
    """Who the residents are."""

    employee_share_urban_adults: float = param(
        0.55,
        "share",
        "371M employee-insured of 1,334M insured in 2023 (27.8%) [nhsa-bulletin-2023]; "
        "urban/rural split: assumption chosen to reproduce that total",
        "Share of urban adults (18+) in the employee scheme.",
        ge=0,
        le=1,
    )
    employee_share_rural_adults: float = param(
        0.12,
        "share",
        "as employee_share_urban_adults: the total 27.8% [nhsa-bulletin-2023]; urban/rural split: assumption",
        "Share of rural adults (18+) in the employee scheme.",
        ge=0,
        le=1,
    )
    signing_rate_key_groups: float = param(
        0.60,
        "share",
        "Yangjiang plan [yangjiang-consortia-2017] 三(四): 重点人群签约服务覆盖率达到60%以上 (by end 2017)",
        "Family-doctor signing rate of key groups (65+, children under 7, chronic patients).",
        ge=0,
        le=1,
    )
    signing_rate_others: float = param(
        0.20,
        "share",
        "Yangjiang plan [yangjiang-consortia-2017] 三(四): 家庭医生签约服务覆盖率达到30%以上 overall "
        "(with key groups above)",
        "Family-doctor signing rate of everyone else.",
        ge=0,
        le=1,
    )
    trust_mean_urban: float = param(
        0.45,
        "0–1 score",
        "assumption: urban residents bypass primary care more [ckb-tier-choice-2009-2017]",
        "Mean trust in primary care of urban residents.",
        gt=0,
        lt=1,
    )
    trust_mean_rural: float = param(
        0.60, "0–1 score", "assumption", "Mean trust in primary care of rural residents.", gt=0, lt=1
    )
    trust_concentration: float = param(
        6.0, "beta a+b", "assumption", "Concentration of the beta distribution of trust.", gt=0, le=1000
    )
