"""Residents as arrays, and a `Patient` view of one resident.

Every attribute of resident `i` is drawn from streams keyed by `i` alone (see `rng`), so a
resident's age, conditions and insurance do not change when the population grows or shrinks, and a
scenario and its baseline share the same residents.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np

from sim import data, rng
from sim.accel import kernel
from sim.parameters.population import EMPLOYEE, KEY_GROUP_AGE, RESIDENT, PopulationParams
from sim.region import Region


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
        return self.chronic_of(slice(None))

    def chronic_of(self, residents: np.ndarray | slice) -> np.ndarray:
        """`chronic` of some residents only, without computing it for everyone."""
        return self.hypertension[residents] | self.diabetes[residents]

    @property
    def key_group(self) -> np.ndarray:
        """Key group for family-doctor signing (重点人群): elderly, young children, chronic patients."""
        return (self.age >= KEY_GROUP_AGE) | (self.age < 7) | self.chronic

    def __getitem__(self, index: int) -> Patient:
        if not -len(self) <= index < len(self):
            raise IndexError(f"resident {index} out of range (population of {len(self)})")
        return Patient(self, index % len(self))


def ages_in(age0: np.ndarray, year: int) -> np.ndarray:
    """Residents' ages in simulated year `year` from their ages in year 0, kept within 0–120."""
    return np.clip(age0 + year, 0, 120)


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


@kernel
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


# Trust is a beta quantile stored as float32. scipy's `betaincinv` costs about 1.3 µs a draw, most of the time to
# build a population, so it is interpolated from tables of it instead, and called on a draw only where the
# interpolation cannot guarantee the float32 value `betaincinv` gives: results may not change because of an
# optimisation. If the interpolated x̃ is within δ of scipy's x, and x̃ − δ and x̃ + δ round to the same float32,
# so does x (rounding to nearest is monotone). Only draws near a float32 rounding boundary or in the far tails need
# `betaincinv`: about 90 of 2.5 million residents at the default parameters.

_TRUST_NODES = 2048
"""Intervals of the interpolation table of each half (u ≤ ½, u > ½) of the distribution."""

_TRUST_TAIL = 2.0**-20
"""Draws with u or 1 − u below this (2 per million) get `betaincinv`: the tables stop there."""

_TRUST_SAFETY = 100.0
"""Factor on the largest interpolation error measured in an interval and its neighbours."""

_TRUST_SCIPY_ERROR = 1e-12
"""Relative error allowed for in `betaincinv` itself and the power giving the variable t, on top of the measured
bound (by mpmath, `betaincinv`'s error stays below 1e-14 at shapes from 0.3 to 1000)."""

_TRUST_MIN_SHAPE = 0.25
"""Below this shape parameter (a or b) every draw gets `betaincinv`: the quantile falls steeply to 0 or rises to 1,
the tables would send most draws to `betaincinv` anyway, and scipy's own accuracy is less well known."""

_TRUST_MIN_DRAWS = 20_000
"""Fewer draws get `betaincinv`: the tables cost some 12,000 calls of it."""


def _tail_variables(u: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The interpolation variables of draws `u`: t = u^(1/a) for u ≤ ½ and t = (1 − u)^(1/b) for u > ½.

    The beta quantile goes like u^(1/a) near 0 and like 1 − (1 − u)^(1/b) near 1: steep in u, but smooth in t
    into the tails. Both are computed for every draw (numpy's power is much faster with a scalar exponent than
    with an array of them); 1 − u is exact for u > ½, where it is used.

    Args:
        u: Uniform draws in (0, 1).
        a: First shape parameter of the beta distribution.
        b: Second shape parameter.

    Returns:
        t of the lower half, t of the upper half (each meaningful only in its half).
    """
    return np.power(u, 1.0 / a), np.power(1.0 - u, 1.0 / b)


def _half_table(a: float, b: float) -> tuple[float, float, np.ndarray]:
    """Cubic Hermite interpolation of the quantile x(t) of Beta(a, b), u = t^a, for u from `_TRUST_TAIL` to ½.

    The upper half of Beta(a, b) is the lower half of Beta(b, a), reflected: x = 1 − y.

    Args:
        a: First shape parameter.
        b: Second shape parameter.

    Returns:
        t at the first node, 1 / node spacing, and the coefficients (`_TRUST_NODES`, 4) of the cubic of each
        interval in the fraction w ∈ [0, 1) of the way through it.
    """
    from scipy.special import betaincinv, betaln

    t_lo, t_hi = _TRUST_TAIL ** (1.0 / a), 0.5 ** (1.0 / a)
    h = (t_hi - t_lo) / _TRUST_NODES
    t = t_lo + h * np.arange(_TRUST_NODES + 1)
    x = betaincinv(a, b, t**a)
    # dx/dt = (du/dt) / pdf(x) = a t^(a−1) B(a, b) / (x^(a−1) (1 − x)^(b−1)): by logarithms, as the powers can
    # overflow at large a or b. Times h: the slope in w.
    slope = h * np.exp(np.log(a) + betaln(a, b) + (a - 1) * np.log(t / x) - (b - 1) * np.log1p(-x))
    rise = np.diff(x)
    s0, s1 = slope[:-1], slope[1:]
    return t_lo, 1.0 / h, np.stack([x[:-1], s0, 3 * rise - 2 * s0 - s1, s0 + s1 - 2 * rise], axis=1)


def _interpolate(
    u: np.ndarray, t_lower: np.ndarray, t_upper: np.ndarray, t_lo: np.ndarray, inv_h: np.ndarray, coef: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Interpolated quantiles x̃ of draws `u` (the numpy twin of `_beta_quantile_decide`'s arithmetic).

    Args:
        u: Uniform draws in (0, 1).
        t_lower: `_tail_variables`' t of the lower half.
        t_upper: Its t of the upper half.
        t_lo: t at the first node of each half (2,).
        inv_h: 1 / node spacing of each half (2,).
        coef: Cubic coefficients of each half (2, `_TRUST_NODES`, 4).

    Returns:
        x̃ (float64), whether the draw is inside the tables, its half (0 lower, 1 upper), its interval.
    """
    upper = u > 0.5
    half = upper.astype(np.intp)
    s = (np.where(upper, t_upper, t_lower) - t_lo[half]) * inv_h[half]
    inside = (np.where(upper, 1.0 - u, u) >= _TRUST_TAIL) & (s >= 0) & (s < coef.shape[1])
    k = np.where(inside, s, 0.0).astype(np.intp)
    w = np.where(inside, s - k, 0.0)
    c = coef[half, k]
    return c[:, 0] + w * (c[:, 1] + w * (c[:, 2] + w * c[:, 3])), inside, half, k


@functools.lru_cache(maxsize=8)
def _quantile_tables(a: float, b: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Interpolation tables of the Beta(a, b) quantile, with a bound on the error of each interval (read-only).

    Kept for the next call with the same shapes: `build` draws residents block by block.

    The bound is `_TRUST_SAFETY` times the largest difference to `betaincinv` at two points inside the interval
    and inside each neighbour (two: errors from the slopes at the nodes can vanish at the midpoint). It thus covers
    the error of the interpolation and of the nodes as `betaincinv` gives them.

    Args:
        a: First shape parameter.
        b: Second shape parameter.

    Returns:
        t at the first node (2,), 1 / node spacing (2,), cubic coefficients (2, `_TRUST_NODES`, 4) and error
        bounds (2, `_TRUST_NODES`), of the lower and upper half.
    """
    from scipy.special import betaincinv

    lower, upper = _half_table(a, b), _half_table(b, a)
    t_lo, inv_h = np.array([lower[0], upper[0]]), np.array([lower[1], upper[1]])
    reflected = np.column_stack([1.0 - upper[2][:, 0], -upper[2][:, 1:]])  # x = 1 − y: the cubic of x
    coef = np.stack([lower[2], reflected])
    bound = np.empty((2, _TRUST_NODES))
    at = np.arange(_TRUST_NODES)[:, None] + np.array([0.25, 0.75])
    for half, shape in ((0, a), (1, b)):
        v = ((t_lo[half] + at / inv_h[half]) ** shape).ravel()
        u = v if half == 0 else 1.0 - v
        x = _interpolate(u, *_tail_variables(u, a, b), t_lo, inv_h, coef)[0]
        err = np.abs(x - betaincinv(a, b, u)).reshape(_TRUST_NODES, 2).max(axis=1)  # NaN stays NaN: no fast draws
        bound[half] = _TRUST_SAFETY * np.maximum(err, np.maximum(np.r_[err[1:], err[-1]], np.r_[err[0], err[:-1]]))
    for table in (t_lo, inv_h, coef, bound):
        table.setflags(write=False)
    return t_lo, inv_h, coef, bound


@kernel
def _beta_quantile_decide(
    u: np.ndarray,
    t_lower: np.ndarray,
    t_upper: np.ndarray,
    t_lo: np.ndarray,
    inv_h: np.ndarray,
    coef: np.ndarray,
    bound: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated float32 quantiles of draws `u`, and which of them need `betaincinv`.

    Args:
        u: Uniform draws in (0, 1).
        t_lower: `_tail_variables`' t of the lower half.
        t_upper: Its t of the upper half.
        t_lo: t at the first node of each half (2,).
        inv_h: 1 / node spacing of each half (2,).
        coef: Cubic coefficients of each half (2, nodes, 4).
        bound: Error bound of each interval (2, nodes).

    Returns:
        float32 quantiles (right where not marked) and whether a draw needs `betaincinv`.
    """
    n = coef.shape[1]
    out = np.empty(u.size, dtype=np.float32)
    exact = np.empty(u.size, dtype=np.bool_)
    for i in range(u.size):
        upper = u[i] > 0.5
        half = 1 if upper else 0
        v = 1.0 - u[i] if upper else u[i]
        s = ((t_upper[i] if upper else t_lower[i]) - t_lo[half]) * inv_h[half]
        inside = v >= _TRUST_TAIL and s >= 0 and s < n
        k = int(s) if inside else 0
        w = s - k if inside else 0.0
        x = coef[half, k, 0] + w * (coef[half, k, 1] + w * (coef[half, k, 2] + w * coef[half, k, 3]))
        delta = bound[half, k] + _TRUST_SCIPY_ERROR * x
        lo, hi = x - delta, x + delta
        out[i] = np.float32(x)
        exact[i] = not (inside and lo > 0 and np.float32(lo) == np.float32(hi))
    return out, exact


def _beta_quantile_fast(a: float, b: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated float32 quantiles of Beta(a, b) at draws `u`, and which of them need `betaincinv`."""
    return _beta_quantile_decide(u, *_tail_variables(u, a, b), *_quantile_tables(a, b))


def beta_quantile_f32(a: float, b: float, u: np.ndarray) -> np.ndarray:
    """Quantiles of Beta(a, b) as float32: `scipy.special.betaincinv(a, b, u)` bit for bit, much faster.

    Interpolates tables of `betaincinv` and calls it only on draws where the interpolation, within its error
    bound, could round to another float32 (see the comment above `_TRUST_NODES`); on all draws if they are few
    (the tables would cost more than they save) or a shape parameter is small.

    Args:
        a: First shape parameter (> 0).
        b: Second shape parameter (> 0).
        u: Uniform draws in (0, 1), float64.

    Returns:
        float32 quantiles, one per draw.
    """
    from scipy.special import betaincinv

    if min(a, b) < _TRUST_MIN_SHAPE or u.size < _TRUST_MIN_DRAWS:
        return betaincinv(a, b, u).astype(np.float32)
    out, exact = _beta_quantile_fast(a, b, u)
    out[exact] = betaincinv(a, b, u[exact])
    return out


BUILD_BLOCK = 1 << 18
"""Residents drawn together by `build`: a block's temporary arrays are megabytes, a city's hundreds (fresh
memory is slow: see `arrays.Buffers`)."""


def build(region: Region, params: PopulationParams, seed: int) -> Population:
    """Draw the residents of a region.

    Every draw is keyed by resident, so residents drawn block by block are the same.

    Args:
        region: The built region (gives the number of residents and the cells they live in).
        params: Population parameters.
        seed: Run seed.

    Returns:
        The population.
    """
    n = region.residents
    everyone: dict[str, np.ndarray] = {}
    for first in range(0, max(n, 1), BUILD_BLOCK):
        block = _draw(region, params, seed, np.arange(first, min(first + BUILD_BLOCK, n)))
        for f in fields(Population):
            part = getattr(block, f.name)
            everyone.setdefault(f.name, np.empty(n, part.dtype))[first : first + part.size] = part
    return Population(**everyone)


AGE_GROUPS = (15, 65)
"""First ages of the census's broad age groups after 0–14: 15–64 and 65 or over."""


def age_profiles(cell_shares: np.ndarray, age_lo: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each cell's age profile: the national band shares, or those reweighted to the cell's broad groups.

    A cell that gives its share of residents aged 0–14 and/or 65 or over (`Region.cell_age_shares`,
    NaN where not given) has each band of a broad group (0–14, 15–64, 65+) scaled so that the
    group has the given share; the bands keep their national proportions within the group.

    Args:
        cell_shares: (cells, 2) share aged 0–14 and 65+, NaN where not given.
        age_lo: First age of each national band (the groups' bounds are band bounds).
        share: National share of each band.

    Returns:
        Each cell's profile index, and the band shares of each profile (profile 0: the national ones).
    """
    group = np.searchsorted(np.array(AGE_GROUPS), age_lo, side="right")
    national = np.bincount(group, weights=share, minlength=3)
    profiles = [share]
    index = np.zeros(cell_shares.shape[0], dtype=np.int64)
    given = ~np.isnan(cell_shares).all(axis=1)
    if given.any():
        young = np.where(np.isnan(cell_shares[:, 0]), national[0], cell_shares[:, 0])
        old = np.where(np.isnan(cell_shares[:, 1]), national[2], cell_shares[:, 1])
        pairs, inverse = np.unique(np.column_stack([young, old])[given], axis=0, return_inverse=True)
        index[given] = 1 + inverse.ravel()
        for y, o in pairs:
            wanted = np.array([y, 1.0 - y - o, o])
            profiles.append(share * np.divide(wanted, national, out=np.zeros(3), where=national > 0)[group])
    return index, profiles


def _draw(region: Region, params: PopulationParams, seed: int, ids: np.ndarray) -> Population:
    """The residents `ids` (int64) of a region, drawn as `build` says."""
    cell = _categories(np.cumsum(region.cell_weight), rng.uniform(seed, "pop.cell", ids))
    cell = np.minimum(cell, region.n_cells - 1).astype(np.int32)
    urban = region.cell_urban[cell]

    age_lo, age_hi, share = data.age_structure()
    u_band = rng.uniform(seed, "pop.age_band", ids)
    band = np.empty(ids.size, dtype=np.int64)
    profile, shares = age_profiles(region.cell_age_shares, age_lo, share)
    home_profile = profile[cell]
    for k, profile_shares in enumerate(shares):
        members = home_profile == k
        band[members] = _categories(np.cumsum(profile_shares), u_band[members])
    band = np.minimum(band, share.size - 1)
    width = age_hi[band] - age_lo[band] + 1
    age = (age_lo[band] + np.floor(rng.uniform(seed, "pop.age", ids) * width)).astype(np.int16)

    adult = age >= 18
    p_employee = np.where(urban, params.employee_share_urban_adults, params.employee_share_rural_adults)
    given = region.cell_employee_share[cell]
    p_employee = np.where(np.isnan(given), p_employee, given)
    scheme = np.where(adult & (rng.uniform(seed, "pop.scheme", ids) < p_employee), EMPLOYEE, RESIDENT)

    c_lo, c_hi, p_hyp, p_dia = data.chronic_prevalence()
    hypertension = rng.uniform(seed, "pop.hypertension", ids) < _band_lookup(age, c_lo, c_hi, p_hyp)
    diabetes = rng.uniform(seed, "pop.diabetes", ids) < _band_lookup(age, c_lo, c_hi, p_dia)

    key = (age >= KEY_GROUP_AGE) | (age < 7) | hypertension | diabetes
    p_sign = np.where(key, params.signing_rate_key_groups, params.signing_rate_others)
    signed = rng.uniform(seed, "pop.signed", ids) < p_sign

    # By group, the parameters of the beta distribution of trust are scalars.
    u = rng.uniform_open(seed, "pop.trust", ids)
    trust = np.empty(ids.size, dtype=np.float32)
    concentration = params.trust_concentration
    for group, mean in ((urban, params.trust_mean_urban), (~urban, params.trust_mean_rural)):
        trust[group] = beta_quantile_f32(mean * concentration, (1 - mean) * concentration, u[group])

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
