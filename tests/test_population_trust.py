"""Trust draws (`population.beta_quantile_f32`) equal scipy's `betaincinv` in float32 bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaincinv

from sim import accel, population, rng
from sim.parameters.population import PopulationParams

DEFAULTS = PopulationParams()


def draws(n: int, seed: int) -> np.ndarray:
    """`n` draws as `build` makes them (`rng.uniform_open`), then extremes and edges in place of some."""
    u = rng.uniform_open(seed, "test.trust", np.arange(n, dtype=np.int64))
    step = 2.0**-53
    near = (np.arange(300) + 0.5) * step  # the smallest draws `uniform_open` gives
    gen = np.random.default_rng(seed)
    tails = 10.0 ** gen.uniform(-16, -1, 2000)
    tail = population._TRUST_TAIL
    edges = np.array([0.5, np.nextafter(0.5, 0), np.nextafter(0.5, 1), tail, 1 - tail, 0.25, 0.75])
    edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, 1)])
    special = np.concatenate([near, 1 - near, tails, 1 - tails, edges])
    u[: special.size] = special
    return gen.permutation(u)


def shapes(mean: float, concentration: float) -> tuple[float, float]:
    return mean * concentration, (1 - mean) * concentration


def check(a: float, b: float, u: np.ndarray) -> None:
    expected = betaincinv(a, b, u).astype(np.float32)
    got = population.beta_quantile_f32(a, b, u)
    assert got.dtype == np.float32
    assert got.tobytes() == expected.tobytes(), f"Beta({a}, {b}): {np.count_nonzero(got != expected)} differ"


@pytest.mark.parametrize("mean", [DEFAULTS.trust_mean_urban, DEFAULTS.trust_mean_rural])
def test_defaults(mean):
    """Half a million draws for each group at the default parameters, nearly all interpolated."""
    a, b = shapes(mean, DEFAULTS.trust_concentration)
    u = draws(500_000, 1)
    check(a, b, u)
    _, exact = population._beta_quantile_fast(a, b, u)
    assert np.count_nonzero(exact) < 5_000  # the planted extremes and a few near float32 rounding boundaries


@pytest.mark.parametrize(
    ("mean", "concentration"),
    [
        (0.5, 0.5),  # both shapes at the smallest interpolated (0.25)
        (0.3, 1.0),
        (0.05, 6.0),
        (0.95, 6.0),
        (0.45, 20.0),
        (0.5, 1000.0),  # largest concentration allowed
        (0.999, 1000.0),  # b = 1: x = u^(1/a) near 1
        (0.0005, 1000.0),  # a = 0.5, b = 999.5
        (0.9995, 1000.0),
        (0.02, 300.0),
    ],
)
def test_across_parameters(mean, concentration):
    a, b = shapes(mean, concentration)
    assert min(a, b) >= population._TRUST_MIN_SHAPE  # these go through the tables
    check(a, b, draws(60_000, 2))


@pytest.mark.parametrize(("mean", "concentration"), [(0.45, 0.1), (0.001, 6.0), (0.999, 100.0)])
def test_small_shapes(mean, concentration):
    """A shape below `_TRUST_MIN_SHAPE`: `betaincinv` on all."""
    a, b = shapes(mean, concentration)
    assert min(a, b) < population._TRUST_MIN_SHAPE
    check(a, b, draws(30_000, 3))


def test_few_draws():
    u = draws(10_000, 4)
    assert u.size < population._TRUST_MIN_DRAWS
    check(*shapes(DEFAULTS.trust_mean_urban, DEFAULTS.trust_concentration), u)


@pytest.mark.skipif(not accel.numba_enabled(), reason="numba not installed or switched off")
def test_kernel_equals_its_python_loop():
    a, b = shapes(DEFAULTS.trust_mean_urban, DEFAULTS.trust_concentration)
    u = draws(100_000, 5)
    args = (u, *population._tail_variables(u, a, b), *population._quantile_tables(a, b))
    compiled = population._beta_quantile_decide(*args)
    twin = population._beta_quantile_decide.loop(*args)
    for c, t in zip(compiled, twin, strict=True):
        assert c.dtype == t.dtype and c.tobytes() == t.tobytes()
