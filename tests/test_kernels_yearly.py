"""The compiled kernels of the yearly draws (`rng`, `illness`, `population`) equal their Python loops bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

import sim
from sim import accel, illness, population, region, rng
from sim.arrays import Buffers

pytestmark = pytest.mark.skipif(not accel.numba_enabled(), reason="numba not installed or switched off")


def both(f: Callable[..., Any], *args: Any) -> tuple[Any, Any]:
    """`f(*args)` with compiled kernels, then with kernels as Python loops (on copies: kernels write in place)."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    compiled = f(*args)
    with accel.python_loops():
        loops = f(*copies)
    return compiled, loops


def assert_identical(a: Any, b: Any) -> None:
    """Equal values and types, arrays bit for bit (dtypes and shapes too), through tuples and dataclasses.

    A count is a Python `int` from compiled code and a numpy integer from a Python loop: equal by value.
    """
    if isinstance(a, int | np.integer) and isinstance(b, int | np.integer):
        assert int(a) == int(b)
        return
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b) and a.tobytes() == b.tobytes()  # bytes: also −0.0 and NaNs
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_identical(x, y)
    elif hasattr(a, "__dataclass_fields__"):
        for f in fields(a):
            assert_identical(getattr(a, f.name), getattr(b, f.name))
    else:
        assert a == b


@pytest.fixture(
    scope="module", params=[0.002, pytest.param(0.04, marks=pytest.mark.slow)]
)  # a city district: slow as Python
def built(request: pytest.FixtureRequest) -> tuple[sim.Scenario, region.Region]:
    scenario = sim.load_scenario(overrides=[f"run.scale={request.param}"])
    return scenario, region.build(scenario.region, request.param)


@pytest.mark.parametrize("seed", [1, 20240])
def test_population(built, seed):
    scenario, reg = built
    assert_identical(*both(population.build, reg, scenario.population, seed))


@pytest.mark.parametrize("seed", [1, 7])
@pytest.mark.parametrize("year", [-1, 0, 3])
def test_draw_year(built, seed, year):
    scenario, reg = built
    pop = population.build(reg, scenario.population, seed)
    age = pop.age + max(year, 0)
    keep = np.where(pop.signed & pop.chronic, 0.7, 1.0)
    for thinning in (None, keep):
        year_episodes, twin = both(illness.draw_year, seed, year, age, pop.chronic, scenario.illness, thinning)
        assert_identical(year_episodes, twin)
        assert len(year_episodes) > 0
        episodes = year_episodes.days(0, illness.DAYS_PER_YEAR)
        # Distinct, increasing arrival words: the unique order by them, which `np.argsort` gave before.
        assert np.all(np.diff(illness._arrival(episodes.day, episodes.key)) > 0)


def test_draw_year_from_a_day_and_into_buffers(built):
    """Episodes from `first_day` on are the whole year's from that day; reused buffers change nothing."""
    scenario, reg = built
    pop = population.build(reg, scenario.population, 3)
    whole = illness.draw_year(3, -1, pop.age, pop.chronic, scenario.illness).days(0, illness.DAYS_PER_YEAR)
    late = whole.day >= 275
    buffers = Buffers()
    illness.draw_year(3, 0, pop.age, pop.chronic, scenario.illness, buffers=buffers)  # fills the buffers
    tail = illness.draw_year(3, -1, pop.age, pop.chronic, scenario.illness, first_day=275, buffers=buffers)
    assert tail.start[275] == 0
    tail = tail.days(0, illness.DAYS_PER_YEAR)
    assert 0 < len(tail) < len(whole)
    for f in fields(whole):
        assert_identical(getattr(tail, f.name).copy(), getattr(whole, f.name)[late])


def test_poisson_events():
    gen = np.random.default_rng(3)
    residents = np.sort(gen.choice(10**6, 5000, replace=False))
    rate = gen.uniform(0, 20, residents.size)
    rate[gen.random(residents.size) < 0.1] = 0.0
    for year in (-1, 2):
        assert_identical(*both(illness.poisson_events, 5, "s", year, residents, rate))
    events = illness.poisson_events(5, "s", 0, residents[:0], rate[:0])
    assert [e.size for e in events] == [0, 0, 0]
    for seed in range(4):  # more events than expected: the event arrays grow
        assert_identical(*both(illness.poisson_events, seed, "s", 0, residents[:3], np.full(3, 40.0)))


def test_admission_draws():
    """Acute episodes' admission draws are keyed uniforms in [0, 1); follow-up visits' are 1 (never a bed)."""
    gen = np.random.default_rng(2)
    key = gen.integers(0, 2**63, 1000, dtype=np.int64).view(np.uint64)
    kind = gen.integers(0, 2, key.size).astype(np.int8)
    compiled, twin = both(illness._admission_draws, rng.stream_key(3, "illness.admission"), key, kind)
    assert_identical(compiled, twin)
    acute = kind == illness.ACUTE
    assert np.all(compiled[~acute] == 1.0) and np.all((compiled[acute] >= 0) & (compiled[acute] < 1))


def test_thin(built):
    """Thinning a shared year (`sim.draws`) in one pass: the kept episodes, their rows and day starts."""
    scenario, reg = built
    pop = population.build(reg, scenario.population, 5)
    year = illness.draw_unthinned_year(5, 2, pop.age, pop.chronic, scenario.illness)
    assert year is not None
    keep = np.random.default_rng(1).random(len(pop))
    compiled, twin = both(lambda: illness.thin(year, keep, Buffers()))
    assert_identical(compiled, twin)
    assert 0 < len(compiled[0]) < len(year.episodes)


@pytest.mark.parametrize("block", [1, 7, 1000])
def test_poisson_events_by_block(block):
    """Residents drawn in blocks have the same events: in the one-block order once sorted by event number."""
    gen = np.random.default_rng(4)
    residents = np.sort(gen.choice(10**6, 5000, replace=False)).astype(np.int32)
    rate = gen.uniform(0, 20, residents.size)
    rate[gen.random(residents.size) < 0.1] = 0.0
    whole = illness.poisson_events(5, "s", 1, residents, rate, block=residents.size)
    for blocked in both(lambda: illness.poisson_events(5, "s", 1, residents, rate, Buffers(), block=block)):
        assert_identical(illness._by_event_number(blocked), whole)
        assert not np.all(np.diff(blocked[2]) >= 0)  # not the one-block order


def _tied_days(gen: np.random.Generator, n_a: int, n_f: int) -> tuple[illness._Batch, np.ndarray, np.ndarray]:
    """Episodes on few days whose keys often agree in their leading 55 bits (ties) or entirely.

    Returns:
        The episodes in their first order, then `_by_day`'s day starts and packed residents.
    """
    pool = gen.integers(0, 2**63, 40, dtype=np.int64).view(np.uint64)
    n = n_a + n_f
    key = gen.choice(pool, n) ^ gen.integers(0, 2, n, dtype=np.uint64) << np.uint64(gen.integers(0, 12))
    kind = np.repeat(np.array([illness.ACUTE, illness.FOLLOW_UP], np.int8), [n_a, n_f])
    severity = np.where(kind == illness.ACUTE, gen.integers(0, 4, n), 0).astype(np.int8)
    batch = (gen.integers(0, 500, n).astype(np.int32), gen.integers(0, 3, n).astype(np.int16), kind, severity, key)
    packed = np.where(
        kind == illness.FOLLOW_UP, ~batch[0], batch[0] | severity.astype(np.int32) << illness.RESIDENT_BITS
    )
    start = np.concatenate([[0], np.cumsum(np.bincount(batch[1], minlength=illness.DAYS_PER_YEAR))])
    return batch, start, packed[np.argsort(batch[1], kind="stable")]


@pytest.mark.parametrize("n", [(0, 0), (1, 0), (0, 5), (300, 40)])
def test_sort_with_ties(n):
    """Ties in the arrival words: the sort within days is stable and counts them."""
    batch, start, packed = _tied_days(np.random.default_rng(sum(n)), *n)
    size = sum(n)

    def sort() -> tuple[list[np.ndarray], int]:
        out = [np.empty(size, t) for t in (np.int32, np.int8, np.int8, np.uint64)]
        out[0][:], out[3][:] = packed, batch[4][np.argsort(batch[1], kind="stable")]
        return out, illness._sort_days(start, *out)

    compiled, twin = both(sort)
    assert_identical(compiled, twin)
    arrival = illness._arrival(batch[1], batch[4])
    assert compiled[1] == np.count_nonzero(np.diff(np.sort(arrival)) == 0)
    assert compiled[1] > 0 or size < 300
    order = np.argsort(arrival, kind="stable")
    resident, _, kind, severity, key = (field.take(order) for field in batch)
    assert_identical(compiled[0], [resident, kind, severity, key])


def test_by_arrival_with_ties(monkeypatch):
    """Repeated candidate events give equal keys: the episodes are numpy's quicksort of `_batch`, as always."""
    gen = np.random.default_rng(5)
    age = gen.integers(0, 90, 40).astype(np.int16)
    draws = illness._draws(2, 1, age, illness.IllnessParams(), gen.uniform(0.5, 1.0, age.size), Buffers())

    def candidates(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            gen.integers(0, age.size, n).astype(np.int32),
            gen.integers(0, 4, n).astype(np.int16),
            gen.integers(0, 3, n).astype(np.int16),
        )

    acute, follow_up = candidates(400), candidates(60)
    fallbacks = []
    quicksorted = illness._quicksorted
    monkeypatch.setattr(illness, "_quicksorted", lambda *args: fallbacks.append(1) or quicksorted(*args))
    batch = illness._batch(illness._by_event_number(acute), illness._by_event_number(follow_up), draws, 1)
    start = np.concatenate([[0], np.cumsum(np.bincount(batch[1], minlength=illness.DAYS_PER_YEAR))])
    expected = illness.YearEpisodes(*quicksorted(batch), start, rng.stream_key(2, "illness.admission"))
    for episodes in both(lambda: illness._by_arrival(acute, follow_up, draws, 1, 2, Buffers())):
        assert_identical(episodes, expected)
    assert len(fallbacks) == 2 and 0 < len(expected) < 460


def test_categories():
    cumulative = np.cumsum([0.0, 0.25, 0.25, 0.0, 0.125, 0.3])  # repeated shares; ends below 1
    u = np.concatenate([[0.0, 0.25, 0.5, 0.625, 0.925, 0.95, 1 - 2**-53], np.random.default_rng(0).random(1000)])
    compiled, twin = both(population._categories, cumulative, u)
    assert_identical(compiled, twin)
    assert_identical(compiled, np.searchsorted(cumulative, u, side="right"))


@pytest.mark.parametrize(
    "keys",
    [
        (3,),
        (-1, np.arange(50), np.arange(50, dtype=np.int16) % 7),
        (np.arange(20, dtype=np.uint64) * np.uint64(2**60),),
        (np.arange(7)[:, None], np.arange(5)[None, :]),
        (np.arange(7)[:, None], 3),
        (2, np.arange(12).reshape(4, 3), np.arange(12, dtype=np.uint8).reshape(4, 3)),
        (np.arange(10)[::2] > 4, np.arange(5, dtype=np.int8) - 2),
        (5, np.zeros(0, np.int64)),
    ],
)
def test_rng(keys):
    for draw in (rng.bits, rng.uniform, rng.uniform_open, rng.exponential, rng.gumbel):
        assert_identical(*both(draw, 11, "s", *keys))
    words = rng.bits(11, "s", 1, np.arange(30))
    for after in (rng.bits_after, rng.uniform_after, rng.uniform_open_after, rng.exponential_after):
        assert_identical(*both(after, words, np.arange(30) % 4))
        assert_identical(*both(after, rng.stream_key(11, "s"), np.arange(30)))


def test_rng_column_against_row_equals_flat_keys():
    """Keys as a column against a row (episodes × candidate slots) draw what the same keys spelled out flat draw."""
    key = np.arange(40, dtype=np.uint64) * np.uint64(2**58) + np.uint64(3)
    flat = rng.gumbel(11, "s", np.repeat(key, 6), np.tile(np.arange(6), 40)).reshape(40, 6)
    for draw in both(rng.gumbel, 11, "s", key[:, None], np.arange(6)[None, :]):
        assert_identical(draw, flat)
