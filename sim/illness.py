"""Episodes of illness: who falls ill, when, how severely, and whether they need a bed.

Each resident's episodes of a year are a Poisson process drawn from the resident's own keyed
stream (exponential gaps, `rng.exponential` keyed by year, resident and event number), so cost
grows with episodes, not residents × days, and a policy never reshuffles who falls ill. A policy
that lowers a rate (e.g. chronic-disease management) thins the same candidate events with a keyed
acceptance draw instead of redrawing them, so the episodes it keeps are the baseline's.

Two streams:
- acute episodes for everyone, at a rate by age group, higher for chronic patients;
- chronic follow-up visits (慢病随访) for residents with hypertension or diabetes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.params import StrictModel, by_tier, param, table_field

ACUTE, FOLLOW_UP = 0, 1
SEVERITIES = ("minor", "moderate", "severe", "complex")
DAYS_PER_YEAR = 365


AdmissionProbability = by_tier(
    "AdmissionProbability",
    (0.0, 0.07, 0.35, 0.85),
    "probability",
    "calibrated to DOMAIN.md: admissions ≈0.18–0.21 per capita (2022–23)",
    "Probability that an acute episode needs admission, by severity",
    ge=0.0,
    le=1.0,
    keys=SEVERITIES,
)

LengthOfStay = by_tier(
    "LengthOfStay",
    (0.0, 7.7, 8.9, 9.2),
    "days",
    "calibrated so simulated stays are ≈ township 6.5, secondary 8.6, tertiary 9.2 days (yearbook, approx.; "
    "DOMAIN.md: hospitals 8.8 days in 2023)",
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
        3.6,
        "episodes per resident-year",
        "calibrated to DOMAIN.md: ≈6.0–6.8 visits per capita (2022–23)",
        "Acute episodes of a 15–59-year-old without chronic disease.",
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
        "NBPHS: quarterly follow-up of managed hypertension/diabetes",
        "Chronic follow-up visits of a resident with hypertension or diabetes.",
        ge=0,
        le=52,
    )
    utilisation_growth: float = param(
        0.025,
        "per year",
        "DOMAIN.md: visits 8.72 bn (2019) → 9.55 bn (2023), ≈2.3%/yr",
        "Yearly growth of acute and follow-up rates (ageing, rising use).",
        ge=-0.5,
        le=0.5,
    )
    severity_moderate: float = param(
        0.20,
        "share of acute episodes",
        "assumption",
        "Share of adults' acute episodes that are moderate.",
        ge=0,
        le=1,
    )
    severity_severe: float = param(
        0.06, "share", "assumption", "Share of adults' acute episodes that are severe.", ge=0, le=1
    )
    severity_complex: float = param(
        0.004, "share", "assumption", "Share of adults' acute episodes that are complex.", ge=0, le=1
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


@dataclass
class Episodes:
    """A batch of episodes (struct of arrays), sorted by day.

    Attributes:
        resident: Who is ill.
        day: Day of the year the episode starts (0–364).
        kind: ACUTE or FOLLOW_UP.
        severity: 0 minor … 3 complex.
        admission_draw: Keyed uniform draw: the episode needs a bed when it is below the admission
            probability of its severity (times the treating facility's admission propensity).
        key: 64-bit key of the episode; every later draw about it is keyed by this.
    """

    resident: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    severity: np.ndarray
    admission_draw: np.ndarray
    key: np.ndarray

    def __len__(self) -> int:
        return int(self.resident.size)

    def take(self, index: np.ndarray | slice) -> Episodes:
        """A sub-batch."""
        return Episodes(
            self.resident[index],
            self.day[index],
            self.kind[index],
            self.severity[index],
            self.admission_draw[index],
            self.key[index],
        )


def acute_rate(age: np.ndarray, chronic: np.ndarray, params: IllnessParams) -> np.ndarray:
    """Acute episodes per resident-year before growth."""
    factor = np.where(age < 15, params.child_rate_factor, np.where(age >= 60, params.elderly_rate_factor, 1.0))
    return params.acute_rate_adult * factor * np.where(chronic, params.chronic_rate_factor, 1.0)


def severity_shares(age: np.ndarray, params: IllnessParams) -> np.ndarray:
    """(n, 4) probabilities of each severity for an acute episode."""
    upper = np.array([params.severity_moderate, params.severity_severe, params.severity_complex])
    by_group = np.minimum(np.stack([upper, upper * params.elderly_severity_factor]), 1.0 / 3.0)
    by_group = np.concatenate([1.0 - by_group.sum(axis=1, keepdims=True), by_group], axis=1)
    return by_group[(age >= 60).astype(np.int64)]


def poisson_events(
    seed: int, stream: str, year: int, residents: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event days of a yearly Poisson process per resident, from keyed exponential gaps.

    Args:
        seed: Run seed.
        stream: Stream name.
        year: Simulated year (0-based); a key of every draw.
        residents: Resident ids.
        rate: Events per year of each resident.

    Returns:
        (resident, day, event number) of every event, unsorted.
    """
    t = np.zeros(residents.size)
    active = np.flatnonzero(rate > 0)
    hashed = rng.bits(seed, stream, year, residents)  # each event number continues from these
    out_r, out_d, out_k = [], [], []
    k = 0
    while active.size:
        t[active] += rng.exponential_after(hashed[active], k) / rate[active] * DAYS_PER_YEAR
        active = active[t[active] < DAYS_PER_YEAR]
        out_r.append(residents[active])
        out_d.append(t[active].astype(np.int16))
        out_k.append(np.full(active.size, k, dtype=np.int16))
        k += 1
    return np.concatenate(out_r), np.concatenate(out_d), np.concatenate(out_k)


def draw_year(
    seed: int,
    year: int,
    age: np.ndarray,
    chronic: np.ndarray,
    params: IllnessParams,
    keep: np.ndarray | None = None,
) -> Episodes:
    """All episodes of one simulated year, sorted by day.

    Args:
        seed: Run seed.
        year: Simulated year (0-based).
        age: Age of every resident this year.
        chronic: Chronic status of every resident.
        params: Illness parameters.
        keep: Optional per-resident acceptance probability (≤1) of acute episodes, e.g. the
            effect of chronic-disease management; the thinning draw is keyed, so the episodes a
            scenario keeps are a subset of the baseline's.

    Returns:
        The year's episodes.
    """
    ids = np.arange(age.size, dtype=np.int64)
    growth = (1.0 + params.utilisation_growth) ** max(year, 0)
    r_a, d_a, k_a = poisson_events(seed, "illness.acute", year, ids, acute_rate(age, chronic, params) * growth)
    if keep is not None:
        accepted = rng.uniform(seed, "illness.keep", year, r_a, k_a) < keep[r_a]
        r_a, d_a, k_a = r_a[accepted], d_a[accepted], k_a[accepted]
    chronic_ids = ids[chronic]
    r_f, d_f, k_f = poisson_events(
        seed, "illness.follow_up", year, chronic_ids, np.full(chronic_ids.size, params.follow_up_rate * growth)
    )

    key_a = rng.bits(seed, "illness.key.acute", year, r_a, k_a)
    del k_a
    # Severity: how many cumulative shares (by age, far fewer ages than episodes) the draw reaches.
    thresholds = np.cumsum(severity_shares(np.arange(age.max() + 1), params), axis=1)
    u = rng.uniform(seed, "illness.severity", key_a)
    age_a = age[r_a]
    reached = np.zeros(r_a.size, dtype=np.int8)
    for column in thresholds.T:
        reached += u >= column[age_a]
    severity = np.minimum(reached, 3)
    del u, age_a, reached
    admission_draw = rng.uniform(seed, "illness.admission", key_a)

    key = np.concatenate([key_a, rng.bits(seed, "illness.key.follow_up", year, r_f, k_f)])
    del key_a, k_f
    day = np.concatenate([d_a, d_f])
    # By day, then in the random order of the episode keys: the order patients arrive in a day.
    order = np.argsort((day.astype(np.uint64) << np.uint64(55)) | (key >> np.uint64(9)))
    return Episodes(
        resident=np.concatenate([r_a, r_f]).take(order),
        day=day.take(order),
        kind=np.concatenate([np.full(r_a.size, ACUTE, np.int8), np.full(r_f.size, FOLLOW_UP, np.int8)]).take(order),
        severity=np.concatenate([severity, np.zeros(r_f.size, np.int8)]).take(order),
        admission_draw=np.concatenate([admission_draw, np.ones(r_f.size)]).take(order),
        key=key.take(order),
    )


def needs_admission(
    draw: np.ndarray, severity: np.ndarray, propensity: np.ndarray, params: IllnessParams
) -> np.ndarray:
    """Whether episodes need a bed, given the treating facilities' admission propensity (1 = baseline).

    The propensity (a provider response) moves only moderate cases: whether a severe or complex
    case needs a bed is not the provider's call.
    """
    discretion = np.where(severity == 1, propensity, 1.0)
    return draw < params.admission_probability.as_array()[severity] * discretion


def length_of_stay(
    seed: int, key: np.ndarray, tier: np.ndarray, severity: np.ndarray, params: IllnessParams
) -> np.ndarray:
    """Whole days in bed (≥1): lognormal around the tier's mean, keyed by episode."""
    mean = params.length_of_stay.as_array()[tier] * params.severity_stay_factor.as_array()[severity]
    sigma = params.stay_dispersion
    z = rng.normal(seed, "illness.stay", key)
    days = np.exp(np.log(np.maximum(mean, 1e-9)) - sigma**2 / 2 + sigma * z)
    return np.maximum(1, np.rint(days)).astype(np.int32)
