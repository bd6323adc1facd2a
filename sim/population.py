"""Residents as arrays, and a `Patient` view of one resident.

Every attribute of resident `i` is drawn from streams keyed by `i` alone (see `rng`), so a
resident's age, conditions and insurance do not change when the population grows or shrinks, and a
scenario and its baseline share the same residents.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim import data, rng
from sim.accel import kernel
from sim.params import StrictModel, param
from sim.region import Region

EMPLOYEE, RESIDENT = 0, 1
"""Insurance schemes: urban employee basic medical insurance (职工医保) and urban-rural resident
basic medical insurance (城乡居民医保)."""

KEY_GROUP_AGE = 65
"""Age from which a resident counts as elderly, a key group for family-doctor signing (seed 002)."""


class PopulationParams(StrictModel):
    """Who the residents are."""

    employee_share_urban_adults: float = param(
        0.55,
        "share",
        "NHSA 2023 bulletin: 371M employee-insured of 1,334M insured (27.8%); "
        "urban/rural split: assumption chosen to reproduce that total",
        "Share of urban adults (18+) in the employee scheme.",
        ge=0,
        le=1,
    )
    employee_share_rural_adults: float = param(
        0.12, "share", "as above", "Share of rural adults (18+) in the employee scheme.", ge=0, le=1
    )
    signing_rate_key_groups: float = param(
        0.60,
        "share",
        "seed 002: 重点人群签约服务覆盖率达到60%以上 (by end 2017)",
        "Family-doctor signing rate of key groups (65+, children under 7, chronic patients).",
        ge=0,
        le=1,
    )
    signing_rate_others: float = param(
        0.20,
        "share",
        "seed 002: 家庭医生签约服务覆盖率达到30%以上 overall (with key groups above)",
        "Family-doctor signing rate of everyone else.",
        ge=0,
        le=1,
    )
    trust_mean_urban: float = param(
        0.45,
        "0–1 score",
        "assumption (urban residents bypass primary care more, CKB 2009–17)",
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


@dataclass
class Population:
    """All residents as arrays (one element per resident).

    Attributes:
        cell: Home cell (catchment of a village clinic or community station).
        district: Home district or county.
        urban: Lives in the urban core or a county seat.
        age: Age in whole years at the start of the run (ages advance each simulated year).
        scheme: EMPLOYEE or RESIDENT insurance scheme.
        hypertension: Has diagnosed hypertension.
        diabetes: Has diagnosed diabetes.
        signed: Signed with a family doctor (家庭医生签约).
        trust: Trust in primary care, 0–1.
    """

    cell: np.ndarray
    district: np.ndarray
    urban: np.ndarray
    age: np.ndarray
    scheme: np.ndarray
    hypertension: np.ndarray
    diabetes: np.ndarray
    signed: np.ndarray
    trust: np.ndarray

    def __len__(self) -> int:
        return int(self.cell.size)

    @property
    def chronic(self) -> np.ndarray:
        """Has hypertension or diabetes (慢性病)."""
        return self.hypertension | self.diabetes

    @property
    def key_group(self) -> np.ndarray:
        """Key group for family-doctor signing (重点人群): elderly, young children, chronic patients."""
        return (self.age >= KEY_GROUP_AGE) | (self.age < 7) | self.chronic

    def __getitem__(self, index: int) -> Patient:
        if not -len(self) <= index < len(self):
            raise IndexError(f"resident {index} out of range (population of {len(self)})")
        return Patient(self, index % len(self))


class Patient:
    """A view of one resident: reads and writes go to the population's arrays.

    Example:
        >>> p = population[42]
        >>> p.age, p.signed
        >>> p.signed = True          # writes population.signed[42]
    """

    __slots__ = ("_population", "index")

    def __init__(self, population: Population, index: int) -> None:
        object.__setattr__(self, "_population", population)
        object.__setattr__(self, "index", index)

    def __getattr__(self, name: str) -> object:
        population = object.__getattribute__(self, "_population")
        if name in _FIELDS or name in ("chronic", "key_group"):
            value = getattr(population, name)[self.index]
            return value.item() if hasattr(value, "item") else value
        raise AttributeError(f"Patient has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        if name not in _FIELDS:
            raise AttributeError(f"Patient has no settable attribute {name!r}")
        getattr(self._population, name)[self.index] = value

    def __repr__(self) -> str:
        attrs = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"Patient(index={self.index}, {attrs})"


_FIELDS = tuple(f.name for f in fields(Population))


def _band_lookup(age: np.ndarray, lo: np.ndarray, hi: np.ndarray, values: np.ndarray) -> np.ndarray:
    # By a table of every age: far fewer ages than residents.
    ages = np.arange(age.max() + 1)
    band = np.clip(np.searchsorted(hi, ages, side="left"), 0, lo.size - 1)
    return values[band][age]


def _categories_numpy(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.searchsorted(cumulative, u, side="right")


@kernel(_categories_numpy)
def _categories(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """`np.searchsorted(cumulative, u, side="right")` of uniform draws `u` in [0, 1).

    A guide table gives, for each of m equal slices of [0, 1), how many cumulative shares lie at or
    below its start; a draw's search starts at the guide of the slice before its own (whose start
    is below the draw however `u * m` rounds) and walks up.
    """
    m = 4 * cumulative.size
    guide = np.empty(m + 1, dtype=np.int64)
    i = 0
    for j in range(m + 1):
        while i < cumulative.size and cumulative[i] <= j / m:
            i += 1
        guide[j] = i
    out = np.empty(u.size, dtype=np.int64)
    for k in range(u.size):
        i = guide[min(max(int(u[k] * m) - 1, 0), m)]
        while i < cumulative.size and cumulative[i] <= u[k]:
            i += 1
        out[k] = i
    return out


def build(region: Region, params: PopulationParams, seed: int) -> Population:
    """Draw the residents of a region.

    Args:
        region: The built region (gives the number of residents and the cells they live in).
        params: Population parameters.
        seed: Run seed.

    Returns:
        The population.
    """
    ids = np.arange(region.residents, dtype=np.int64)
    cell = _categories(np.cumsum(region.cell_weight), rng.uniform(seed, "pop.cell", ids))
    cell = np.minimum(cell, region.n_cells - 1).astype(np.int32)
    urban = region.cell_urban[cell]

    age_lo, age_hi, share = data.age_structure()
    band = np.minimum(_categories(np.cumsum(share), rng.uniform(seed, "pop.age_band", ids)), share.size - 1)
    width = age_hi[band] - age_lo[band] + 1
    age = (age_lo[band] + np.floor(rng.uniform(seed, "pop.age", ids) * width)).astype(np.int16)

    adult = age >= 18
    p_employee = np.where(urban, params.employee_share_urban_adults, params.employee_share_rural_adults)
    scheme = np.where(adult & (rng.uniform(seed, "pop.scheme", ids) < p_employee), EMPLOYEE, RESIDENT)

    c_lo, c_hi, p_hyp, p_dia = data.chronic_prevalence()
    hypertension = rng.uniform(seed, "pop.hypertension", ids) < _band_lookup(age, c_lo, c_hi, p_hyp)
    diabetes = rng.uniform(seed, "pop.diabetes", ids) < _band_lookup(age, c_lo, c_hi, p_dia)

    key = (age >= KEY_GROUP_AGE) | (age < 7) | hypertension | diabetes
    p_sign = np.where(key, params.signing_rate_key_groups, params.signing_rate_others)
    signed = rng.uniform(seed, "pop.signed", ids) < p_sign

    from scipy.special import betaincinv

    # The inverse beta CDF is most of the time to build a population (about 1.3 µs a resident, and
    # no cheaper way gives the same float32 values); by group, its parameters are scalars.
    u = rng.uniform_open(seed, "pop.trust", ids)
    trust = np.empty(ids.size, dtype=np.float32)
    for group, mean in ((urban, params.trust_mean_urban), (~urban, params.trust_mean_rural)):
        trust[group] = betaincinv(mean * params.trust_concentration, (1 - mean) * params.trust_concentration, u[group])

    return Population(
        cell=cell,
        district=region.cell_district[cell],
        urban=urban,
        age=age,
        scheme=scheme.astype(np.int8),
        hypertension=hypertension,
        diabetes=diabetes,
        signed=signed,
        trust=trust,
    )
