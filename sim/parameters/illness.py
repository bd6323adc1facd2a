"""Illness parameters: the schema, units, ranges and sources of `sim.illness`'s inputs."""

from __future__ import annotations

from sim.params import SEVERITIES, StrictModel, by_tier, param, table_field

__all__ = ["ACUTE", "DAYS_PER_YEAR", "FOLLOW_UP", "SEVERITIES"]

ACUTE, FOLLOW_UP = 0, 1
DAYS_PER_YEAR = 365


AdmissionProbability = by_tier(
    "AdmissionProbability",
    (0.0, 0.07, 0.35, 0.85),
    "probability",
    "calibrated to admissions ≈0.18–0.21 per capita in 2022–23 [nhc-bulletin-2022] [nhc-bulletin-2023]",
    "Probability that an acute episode needs admission, by severity",
    ge=0.0,
    le=1.0,
    keys=SEVERITIES,
)

LengthOfStay = by_tier(
    "LengthOfStay",
    (0.0, 7.7, 8.9, 9.2),
    "days",
    "calibrated so simulated stays are ≈ township 6.5, secondary 8.6, tertiary 9.2 days (by-level targets: "
    "assumption, recalled from the China Health Statistics Yearbook, table not identified); hospitals 8.8 days "
    "in 2023 [nhc-bulletin-2023]",
    "Mean length of stay of a severe case, by tier of the admitting facility (severity factors scale it)",
    ge=0.0,
    le=100.0,
)

SeverityStayFactor = by_tier(
    "SeverityStayFactor",
    (0.7, 0.85, 1.0, 1.2),
    "×",
    "assumption",
    "Length-of-stay multiplier by severity",
    ge=0.1,
    le=10.0,
    keys=SEVERITIES,
)


class IllnessParams(StrictModel):
    """Incidence, severity and need for admission."""

    acute_rate_adult: float = param(
        5.3,
        "episodes per resident-year",
        "calibrated to ≈6.0–6.8 visits per capita in 2022–23 [nhc-bulletin-2022] [nhc-bulletin-2023] (3.6 when "
        "every episode sought care; raised with the self-care utility so visits per capita stay ≈6.4 at scale "
        "0.05, experiments/fit_self_care.py)",
        "Acute episodes of illness of a 15–59-year-old without chronic disease, whether or not they seek care.",
        ge=0,
        le=50,
    )
    child_rate_factor: float = param(
        1.6, "×", "assumption: children under 15 visit more", "Acute rate multiplier, ages 0–14.", ge=0, le=10
    )
    elderly_rate_factor: float = param(
        1.7, "×", "assumption: 60+ visit more", "Acute rate multiplier, ages 60+.", ge=0, le=10
    )
    chronic_rate_factor: float = param(
        1.3,
        "×",
        "assumption: exacerbations and comorbidity",
        "Acute rate multiplier for chronic patients.",
        ge=0,
        le=10,
    )
    follow_up_rate: float = param(
        4.0,
        "visits per chronic patient-year",
        "basic public health service specification [nbphs-2017]: quarterly follow-up of managed hypertension and "
        "diabetes (clause recalled, not located in a copy)",
        "Chronic follow-up visits of a resident with hypertension or diabetes.",
        ge=0,
        le=52,
    )
    utilisation_growth: float = param(
        0.018,
        "per year",
        "visits 8.72 bn in 2019 [nhc-bulletin-2019] → 9.55 bn in 2023 [nhc-bulletin-2023], ≈2.3%/yr; the 2.5%/yr "
        "the rates grew by before ill residents could stay home, less the 0.7 points a year that rising incomes "
        "now bring through fewer staying home (baseline, scale 0.05: visits per capita +3.5%/yr at 2.5%, +2.85% "
        "without self-care); sensitivity range 0.01–0.03",
        "Yearly growth of acute and follow-up rates (ageing, rising use).",
        ge=-0.5,
        le=0.5,
    )
    severity_moderate: float = param(
        0.21,
        "share of acute episodes",
        "assumption: 0.20 of 3.6 episodes a year when every episode sought care; set with the acute rate and the "
        "self-care utilities so that admissions per capita stay where they were (scale 0.05: 0.222 → 0.225, "
        "experiments/fit_self_care.py)",
        "Share of adults' acute episodes that are moderate.",
        ge=0,
        le=1,
    )
    severity_severe: float = param(
        0.041,
        "share",
        "assumption: 0.06 of 3.6 episodes a year when every episode sought care, scaled to 5.3 episodes of illness "
        "(severe episodes always seek care)",
        "Share of adults' acute episodes that are severe.",
        ge=0,
        le=1,
    )
    severity_complex: float = param(
        0.0027,
        "share",
        "assumption: 0.004 of 3.6 episodes a year when every episode sought care, scaled to 5.3 episodes of "
        "illness (complex episodes always seek care)",
        "Share of adults' acute episodes that are complex.",
        ge=0,
        le=1,
    )
    elderly_severity_factor: float = param(
        1.6, "×", "assumption", "Multiplier of non-minor shares for residents 60+.", ge=0, le=5
    )
    admission_probability: AdmissionProbability = table_field(AdmissionProbability)
    length_of_stay: LengthOfStay = table_field(LengthOfStay)
    severity_stay_factor: SeverityStayFactor = table_field(SeverityStayFactor)
    stay_dispersion: float = param(
        0.5,
        "sd of log days",
        "assumption",
        "Spread of length of stay around its mean (lognormal).",
        ge=0,
        le=3,
    )
