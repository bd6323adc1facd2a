"""The compiled kernels equal their own Python loops bit for bit, on small inputs and on real days.

numba compiles a kernel's Python function; these tests run that function as plain Python on the
same inputs (`kernel.loop`) and compare every result and every array written in place. The
independent oracle of the whole day is the reference engine (`tests/test_engines.py`).
"""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import accel, admission, care, choice, discharge, facilities, insurance, metrics, payment
from sim.arrays import pairwise_sum, stable_order
from sim.model import CareModel
from sim.state import INPATIENT_ITEM, OUTPATIENT_HEAD, Cells, Facilities, Wards

pytestmark = pytest.mark.skipif(not accel.numba_enabled(), reason="numba is not installed")

MAX_PASSES = 4
ROOT = Path(__file__).resolve().parents[1]


def _copy(value):
    """A deep copy of a kernel argument: arrays keep their layout (a strided view stays strided, so the
    compiled kernel runs the specialisation the model runs), records keep their type."""
    if isinstance(value, tuple):
        return type(value)(*map(_copy, value)) if hasattr(value, "_fields") else tuple(map(_copy, value))
    if isinstance(value, np.ndarray):
        if value.ndim == 0 or value.flags.c_contiguous:
            return value.copy()
        strided = np.empty((*value.shape, 2), value.dtype)[..., 0]
        strided[...] = value
        return strided
    return value


def _copied(args: tuple) -> tuple:
    """Kernel arguments with every array copied, those in records (requests, wards) too."""
    return tuple(_copy(arg) for arg in args)


def _both(kernel, *args):
    """Results of the compiled kernel and of its Python loop, each on its own copy of the inputs."""
    copies = [_copied(args) for _ in range(2)]
    return (kernel(*copies[0]), copies[0]), (kernel.loop(*copies[1]), copies[1])


def _facilities(n: int, **given: np.ndarray) -> Facilities:
    """A `Facilities` record of `n` facilities: the fields `given`, the others ones (or zeros where counts)."""
    fields = {name: np.ones(n) for name in Facilities._fields}
    fields.update(inpatient_volume=np.ones((n, 4)), tier=np.zeros(n, np.int64))
    return Facilities(**{**fields, **given})


def _cells(**given: np.ndarray) -> Cells:
    """A `Cells` record with the fields `given`, the others empty."""
    return Cells(**{**{name: np.zeros((0, 0)) for name in Cells._fields}, **given})


def _assert_same(a, b) -> None:
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b, strict=False)
        assert np.array_equal(np.signbit(a), np.signbit(b)) if a.dtype.kind == "f" else True
    else:
        assert a == b


@pytest.mark.parametrize("priority", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_outpatient_passes_equal_loop(priority: bool, seed: int) -> None:
    """Queues, referrals and second choices: tight capacity so patients are turned away and referred on."""
    rng = np.random.default_rng(seed)
    n, k, n_fac = 400, 6, 30
    cand = rng.integers(-1, n_fac, size=(n, k))
    utility = np.where(cand >= 0, rng.normal(size=(n, k)), -np.inf)
    capacity = rng.uniform(0.0, 15.0, n_fac)
    tier = rng.integers(0, 4, n_fac)
    facilities = _facilities(
        n_fac, backlog=rng.uniform(0.0, 5.0, n_fac), outpatient_capacity=capacity,
        outpatient_capability=rng.integers(0, 4, n_fac), tier=tier, consortium=rng.integers(-1, 3, n_fac),
    )  # fmt: skip
    # Follow-ups (a regimen draw) at facilities stocking some regimens; some episodes a tele-consultation resolves.
    n_cells = 12
    cell_candidates = rng.integers(-1, n_fac, size=(n_cells, k))
    cells = _cells(
        candidates=cell_candidates,
        candidate_preference=rng.uniform(0.0, 10.0, (n_cells, k)),
        candidate_tier=tier[np.maximum(cell_candidates, 0)],
    )
    stock = care.Stock(
        np.where(rng.random(n) < 0.5, rng.random(n), -1.0),
        rng.random(n) < 0.3,
        rng.integers(0, n_cells, n),
        rng.uniform(0.3, 1.0, n_fac),
        1,
    )
    (got, gin), (want, win) = _both(
        care.outpatient_passes,
        utility,
        cand,
        rng.integers(0, 4, n),
        rng.integers(0, n_fac, n),
        rng.integers(0, n_fac, n),
        rng.random(n) < 0.7,
        facilities,
        rng.random(n_fac) < 0.5,
        0.5,
        priority,
        MAX_PASSES,
        stock,
        cells,
        np.where(rng.random(n) < 0.6, rng.normal(size=n), -np.inf),  # some episodes may stay home
        rng.gumbel(size=n),
    )
    _assert_same(got, want)
    _assert_same(gin, win)  # the utilities are struck out in the same places
    # Some unmet, several passes, some cared for at home: the test exercises them.
    assert got.unmet > 0 and len(got.pass_ends) > 1 and got.self_care > 0


@pytest.mark.parametrize("reserve", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_admissions_equal_loop(reserve: bool, seed: int) -> None:
    """Qualifiers, the others and those leaving waiting lists: few beds, so all three groups compete."""
    rng = np.random.default_rng(seed)
    m, n_fac, cells, k = 300, 20, 15, 6
    wards = Wards.empty(np.bincount(rng.integers(0, n_fac, 300), minlength=n_fac))
    busy = rng.random(wards.facility.size) < 0.6
    requests = (
        rng.integers(0, n_fac // 2, m),  # the other half of the hospitals has beds for those who leave
        rng.integers(0, 6, m),
        rng.random(m) < 0.3,
        rng.integers(0, 4, m),
        rng.integers(0, cells, m),
    )
    wards.discharge_day[busy] = 7
    wards.qualified[:] = busy & (rng.random(wards.facility.size) < 0.5)
    reserved = rng.integers(0, 4, n_fac) if reserve else np.zeros(n_fac, np.int64)
    released = rng.random(n_fac) < 0.3
    geography = _cells(candidates=rng.integers(-1, n_fac, (cells, k)), travel_hours=rng.uniform(0.1, 3.0, (cells, k)))
    (got, _), (want, _) = _both(
        care.allocate_admissions, *requests, wards, reserved, released, 3.0, geography, rng.integers(-1, 4, n_fac)
    )
    _assert_same(got, want)
    assert set(got.group.tolist()) == {0, 1, 2} and got.unmet > 0 and got.waiting.size > 0  # every branch


@pytest.mark.parametrize("seed", range(5))
def test_outpatient_claim_batches_equal_loop(seed: int) -> None:
    """Several claims of one resident in one batch and across batches use up start-lines and caps alike.

    The first batch's start-line left and fund paid, given as the caller read them, give what reading the
    accounts gives.
    """
    rng = np.random.default_rng(seed)
    n, residents = 300, 40
    paid_start, paid_fund = rng.uniform(0, 300, residents), rng.uniform(0, 2_000, residents)
    resident = rng.integers(0, residents, n)
    scheme, signed = rng.integers(0, 2, residents).astype(np.int8), rng.random(residents) < 0.4
    start_line, ends = np.array([0.0, 500.0]), np.array([50, 50, 180, 260, 300])
    claims = (
        insurance.OutpatientClaims(
            rng.uniform(10, 600, n),
            resident,
            rng.integers(0, 4, n),
            rng.random(n) < 0.5,
            scheme[resident],
            signed[resident],
            rng.random(n) < 0.2,
        ),
        rng.uniform(0.3, 0.9, (2, 4, 2, 2)),
        start_line,
        np.array([3_000.0, 1e12]),
        ends,
    )
    first = resident[: ends[0]]
    given = np.maximum(0.0, start_line[scheme[first]] - paid_start[first])
    results = []
    for first_start_left, first_fund_paid in ((np.zeros(0), np.zeros(0)), (given, paid_fund[first])):
        (got, gin), (want, win) = _both(
            insurance._outpatient_batches, *claims, paid_start, paid_fund, first_start_left, first_fund_paid
        )
        _assert_same(got, want)
        _assert_same(gin, win)  # the residents' running totals
        results.append((got, gin[5:7]))
    _assert_same(results[0], results[1])


@pytest.mark.parametrize("top", [0, 1, 2047, 2048, 3_000_000, 2**40])
def test_stable_order_is_numpy_stable_argsort(top: int) -> None:
    keys = np.random.default_rng(top).integers(0, top + 1, 5_000)
    for n in (5_000, 1024, 1023, 300, 2):  # radix passes, and merge sort below 1,024 keys
        np.testing.assert_array_equal(stable_order(keys[:n]), np.argsort(keys[:n], kind="stable"))
    assert stable_order(keys[:1]).tolist() == [0] and stable_order(keys[:0]).size == 0


@pytest.mark.parametrize("per_claim", [False, True])
def test_split_claims_equal_loop(per_claim: bool) -> None:
    rng = np.random.default_rng(5)
    n = 300
    (got, _), (want, _) = _both(
        insurance._split_claims,
        rng.uniform(10, 9_000, n),
        rng.integers(0, 40, n),
        rng.uniform(0.3, 0.9, n),
        rng.choice([0.0, 300.0], n),
        rng.choice([0.0, 500.0, 1_300.0], n) if per_claim else np.zeros(0),
        rng.choice([5_000.0, 1e12], n),
    )
    _assert_same(got, want)


def test_cost_table_parts_equal_loop() -> None:
    rng = np.random.default_rng(3)
    visit, rate, stay = rng.uniform(0, 900, 200), rng.uniform(0, 1, 200), rng.uniform(0, 500, 120)
    visit[:3], stay[:2] = [0.0, np.inf, np.nan], [np.nan, -0.0]
    keys = rng.integers(0, 200, (64, 6)), rng.integers(0, 120, (64, 6))
    got, want = _both(insurance._cost_table_parts, visit, rate, stay, *keys, np.full((64, 5, 6), -1.0))
    _assert_same(got, want)  # the parts returned and the table written
    assert np.isnan(got[0][0]).any()


def test_table_kernels_equal_loop() -> None:
    rng = np.random.default_rng(7)
    k, n, cells = 6, 500, 50
    residents = 300
    visit, rate, stay = (
        rng.uniform(0, 900, (cells * 32, k)),
        rng.uniform(0, 1, (cells * 32, k)),
        rng.uniform(0, 500, (cells * 32, k)),
    )
    visit[:, 0] = 0.0
    linear = np.array([0.5, 0.4, 0.1, 0.0])  # by severity

    def transform(oop: np.ndarray, severity: np.ndarray) -> np.ndarray:
        return choice.cost_value(oop, linear[severity], 1.06)

    row_severity = np.arange(cells * 32) % 32 // 8
    table = insurance.cost_table_rows(visit, rate, stay, transform, severity=row_severity)
    paid = rng.choice([0.0, 1800.0, 5000.0, 1500.0], residents) + np.where(
        rng.random(residents) < 0.5, rng.uniform(0, 300, residents), 0.0
    )
    inputs = (
        table,
        32,
        rng.integers(0, residents, n),
        rng.integers(0, 4, n),
        rng.integers(0, 2, n).astype(np.int8),
    )
    home_cell, scheme = (
        rng.integers(0, cells, residents).astype(np.int32),
        rng.integers(0, 2, residents).astype(np.int8),
    )
    signed, trust = rng.random(residents) < 0.5, rng.random(residents).astype(np.float32)
    start_line = np.array([1800.0, 0.0])
    fund_paid = rng.uniform(0, 2_000, residents)
    inputs += (insurance.home_codes(home_cell, scheme), signed, trust, start_line, paid, fund_paid)
    (got, _), (want, _) = _both(insurance._expected_costs, *inputs)
    _assert_same(got, want)
    assert 0 < got[1].size < n * k  # some costs are tabulated, some computed
    # Tabulated or computed, each cost is the transform of the out-of-pocket cost itself.
    _, resident, severity, kind, home = inputs[1:6]
    costs = insurance.expected_costs(
        table, 32, transform, resident=resident, severity=severity, kind=kind, home=home, signed=signed,
        trust=trust, start_line=start_line, start_line_paid=paid, fund_paid=fund_paid,
    )  # fmt: skip
    row = home_cell[resident] * 32 + ((severity * 2 + kind) * 2 + scheme[resident]) * 2 + signed[resident]
    start_left = np.maximum(0.0, start_line[scheme[resident]] - paid[resident])[:, None]
    oop = insurance.out_of_pocket(visit[row], rate[row], stay[row], start_left)
    _assert_same(costs.cost, transform(oop, severity[:, None]))
    _assert_same(costs.trust, trust[resident])
    _assert_same(costs.cell, home_cell[resident])
    _assert_same(costs.scheme, scheme[resident])
    _assert_same(costs.signed, signed[resident])
    _assert_same(costs.start_line_left, start_left.ravel())
    _assert_same(costs.fund_paid, fund_paid[resident])
    cell = rng.integers(0, cells, n)
    n_fac = 40
    terms = choice.CandidateTerms(
        rng.normal(size=(cells * 4, k)),
        rng.normal(size=(cells, k)),
        np.where(rng.random((cells * 4, k)) < 0.3, rng.integers(0, n_fac, (cells * 4, k)), -1),  # routes referred on
        rng.random((cells, k)) < 0.5,
        rng.random((cells, k)) < 0.9,
        rng.random((cells, k)) < 0.5,
        rng.normal(size=4),
    )
    (got, _), (want, _) = _both(
        choice._episode_utilities,
        terms,
        cell,
        rng.integers(0, 4, n),
        rng.integers(-1, n_fac, (n, k)),
        rng.normal(size=(n, k)),
        rng.uniform(0, 3, n_fac),
        rng.uniform(0, 9, n_fac),
        rng.uniform(0, 1, n),
        choice.EpisodeTerms(-0.7, -0.3, rng.normal(size=n), rng.uniform(0, 1, n)),
        rng.gumbel(size=(n, k)),
    )
    _assert_same(got, want)


def test_learn_waits_equal_loop() -> None:
    rng = np.random.default_rng(11)
    n = 400
    (got, _), (want, _) = _both(
        care._learn_waits,
        rng.uniform(0, 5, 30),
        rng.integers(0, 30, n),
        rng.integers(0, 9, n).astype(np.float64),
        np.sort(rng.integers(0, 3, n)),
        30.0,
    )
    _assert_same(got, want)


def test_ledger_kernels_equal_loop() -> None:
    """Claims booked to the ledger and the day's revenue by tier; the scratch is left zeros for the next call."""
    rng = np.random.default_rng(3)
    n, n_fac = 700, 25
    bounds = np.array([0, 100, 100, 450, 700])
    components = rng.lognormal(4, 1, (n, 4))
    billed = payment.bill_totals(components)
    fund = billed * rng.random(n) * (rng.random(n) < 0.8)  # some capitated: the fund pays nothing
    (sums, got), (want_sums, want) = _both(
        facilities._book_claims,
        rng.integers(0, n_fac, n),
        rng.integers(0, 4, n),
        components,
        billed,
        fund,
        billed * rng.random(n) * 0.3,
        rng.random(n) < 0.3,
        bounds,
        rng.normal(size=(n_fac, 8)),
        np.zeros((n_fac, 8)),
        rng.normal(size=(len(metrics.BY_TIER_FIELDS), 4)),
        facilities._REVENUE_ROWS,
    )
    _assert_same(sums, want_sums)
    _assert_same(got, want)
    assert not got[9].any()
    (_, got), (_, want) = _both(
        metrics._add_batches,
        rng.integers(0, 4, n),
        rng.normal(size=(n, 4)),
        bounds,
        rng.normal(size=(len(metrics.BY_TIER_FIELDS), 4)),
        facilities._REVENUE_ROWS,
    )
    _assert_same(got, want)


def test_pairwise_sum_is_ndarray_sum() -> None:
    """Kernels add slices as numpy's `.sum()` does: pairwise, bit for bit, at every length (blocks of 128 and 8)."""
    rng = np.random.default_rng(11)
    for n in [*range(20), 127, 128, 129, 255, 256, 1000, 4099, 70_001]:
        values = rng.lognormal(3, 3, (n, 3)) * rng.choice([-1.0, 1.0], (n, 3))
        begin, end = sorted(rng.integers(0, n + 1, 2))
        assert pairwise_sum(values.ravel(), 3 * begin, 3 * end) == values[begin:end].sum()
        assert pairwise_sum(values[:, 1], begin, end) == values[begin:end, 1].sum()  # strided
        assert pairwise_sum(values[:, 0].copy(), 0, n) == values[:, 0].sum()
    assert np.signbit(pairwise_sum(np.zeros(0), 0, 0)) == np.signbit(np.zeros(0).sum())


def test_paid_components_equal_loop() -> None:
    rng = np.random.default_rng(5)
    n = 900
    components = rng.lognormal(4, 1, (n, 4))
    billed = payment.bill_totals(components)
    billed[:10] = 0.0  # nothing billed: booked as billed
    fund = billed * rng.random(n) * (rng.random(n) < 0.8)  # some capitated: the fund pays nothing
    oop = billed * rng.random(n) * 0.3
    bounds = np.array([0, 0, 300, 301, 301, 900])
    (got, _), (want, _) = _both(payment._paid_components, components, billed, fund, oop, bounds)
    _assert_same(got, want)


@pytest.mark.parametrize("name", ["liaocheng_2024", "capitation", "family_doctor"])
def test_outpatient_day_equals_loop(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused day of outpatient care equals its Python loop on real days (priority, capitation, managed pull)."""
    scenario = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", ["run.scale=0.01", "run.warmup_days=5"])
    model = sim.CareModel(scenario)
    days: list[tuple] = []
    kernel = care.outpatient_day

    def capture(*args):
        if model.day % 40 == 0:
            days.append(_copied(args))
        return kernel(*args)

    monkeypatch.setattr(care, "outpatient_day", capture)
    model.run_years(1)
    assert len(days) >= 9
    for args in days:
        (got, gin), (want, win) = _both(kernel, *args)
        _assert_same(got, want)
        _assert_same(gin, win)  # accounts, records and flows updated in place
        assert got.referrals_up > 0 and got.requests.episode.size > 0  # referrals and bed requests happen


@pytest.fixture(scope="module")
def admission_days() -> tuple[list[tuple], list[tuple]]:
    """Each day's arguments of the two admission kernels, as they were, in a small run with reserved beds.

    Reserved beds from year 0, so the warm-up runs without a reserve and year 0 with one; beds are
    short at this scale, so waiting lists grow and patients leave them.
    """
    scenario = sim.load_scenario(
        ROOT / "scenarios" / "reserved_beds.toml", ["run.scale=0.005", "levers.reserved_beds.start_year=0"]
    )
    model = CareModel(scenario)
    calls: tuple[list[tuple], list[tuple]] = ([], [])
    with pytest.MonkeyPatch.context() as patch:
        for name, days in zip(("admit", "_stays"), calls, strict=True):
            kernel = getattr(admission, name)
            patch.setattr(admission, name, lambda *args, k=kernel, d=days: d.append(_copied(args)) or k(*args))
        for _ in range(scenario.run.warmup_days + 40):
            model.step()
    return calls


def test_admission_kernels_equal_loop(admission_days: tuple[list[tuple], list[tuple]]) -> None:
    """Queue, beds, records and learning, then stays begun and reserves kept: compiled and loop alike, day by day."""
    admits, stays = admission_days
    qualified = unmet = transfers = 0
    for args in admits:
        (got, gin), (want, win) = _both(admission.admit, *args)
        _assert_same(got, want)
        _assert_same(gin, win)  # the wards and the day's records
        qualified += int(gin[4].qualified[got.slot].sum())
        unmet += got.unmet
        transfers += args[1].size
    assert qualified > 0 and unmet > 0 and transfers > 0  # every group and the transfers are exercised
    # Requests with nowhere to go (very small scales): some of a busy day's are sent nowhere.
    args = _copied(max(admits, key=lambda a: a[0].size + a[2].size))
    args[0].facility[::3] = -1
    (got, gin), (want, win) = _both(admission.admit, *args)
    _assert_same(got, want)
    _assert_same(gin, win)
    reserves = {bool(args[5].beds.any()) for args in stays}
    assert reserves == {False, True}  # days without reserved beds and with them
    for args in stays:
        (got, gin), (want, win) = _both(admission._stays, *args)
        _assert_same(got, want)
        _assert_same(gin, win)


@pytest.mark.skipif(bool(os.environ.get("NUMBA_CACHE_DIR")), reason="NUMBA_CACHE_DIR chooses the cache folder")
def test_kernel_cache_is_per_version_of_the_source() -> None:
    """Compiled kernels are cached under a digest of the kernel modules, so a changed helper is never stale."""
    import numba

    folder = Path(numba.config.CACHE_DIR)
    assert folder.parent == ROOT / "sim" / "__pycache__" and folder.name.startswith("kernels-")
    assert folder == accel._kernel_cache()  # the same source gives the same folder
    stable_order(np.arange(3))  # compiled (or loaded) and cached there
    assert any(folder.rglob("arrays.stable_order*.nbi"))


def test_discharges_equal_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A month of a small run's discharges with every lever that changes them: per case, per-diem, chain
    start-lines, capitation, down-referral without start-line, upcoding; transfers up and referrals down."""
    levers = ("drg", "per_diem", "capitation", "start_line")
    scenario = sim.load_scenario(
        ROOT / "scenarios" / "capitation.toml",
        [
            "run.scale=0.004",
            *(f"levers.{lever}.{key}" for lever in levers for key in ("enabled=true", "start_year=0")),
            "levers.start_line.cumulative_in_consortium=true",
            "levers.start_line.down_referral_bonus=200",
            "levers.start_line.no_start_line_after_down_referral=true",
        ],
    )
    model = CareModel(scenario)
    while model.day < 0:
        model.step()
    model.facilities.upcoding_share[:] = 0.5  # half the stays paid per case coded a group higher
    days = []
    compiled = discharge.discharges

    def captured(*args):
        days.append(_copied(args))
        return compiled(*args)

    monkeypatch.setattr(discharge, "discharges", captured)
    for _ in range(30):
        model.step()
    stays = transfers = fixed = downs = capitated = 0
    for args in days:
        (got, gin), (want, win) = _both(compiled, *args)
        _assert_same(got, want)
        _assert_same(gin, win)  # freed beds, annual accounts, case mix and the day's records
        stays += got.stays.claims.basis.size
        fixed += int((got.stays.claims.basis != INPATIENT_ITEM).sum())
        transfers += got.transfers.size
        downs += got.down.origin.size
        capitated += int((got.down.visits.basis == OUTPATIENT_HEAD).sum())
    assert min(stays, fixed, transfers, downs, capitated) > 0  # every branch is exercised
    assert model.facilities.upcoded.sum() > 0  # upcoding too


def test_whole_run_identical_as_plain_python(tmp_path: Path) -> None:
    """A run with every kernel and helper as plain Python (`TIERSIM_NUMBA=0`) equals the compiled run bit for bit."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, sim\n"
        "scenario = sim.load_scenario(sys.argv[1], overrides=sys.argv[3:])\n"
        "sim.run(scenario).daily.to_pickle(sys.argv[2])\n"
    )
    overrides = ["run.scale=0.002", "run.years=1", "run.warmup_days=60", "levers.reserved_beds.start_year=0"]
    tables = {}
    for numba_on in ("1", "0"):
        out = tmp_path / f"daily-{numba_on}.pkl"
        env = {**os.environ, "TIERSIM_NUMBA": numba_on, "PYTHONWARNINGS": "ignore::RuntimeWarning"}
        subprocess.run(
            [sys.executable, str(script), str(ROOT / "scenarios" / "reserved_beds.toml"), str(out), *overrides],
            env=env, check=True, cwd=tmp_path,
        )  # fmt: skip
        tables[numba_on] = pd.read_pickle(out)
    pd.testing.assert_frame_equal(tables["1"], tables["0"], check_exact=True)


def test_a_pinned_kernel_gives_the_kernel_s_result_and_refuses_other_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """`accel.Pins`: the overload found at the first call serves the next calls; other argument types are an error."""
    monkeypatch.setenv("TIERSIM_CHECK_PINS", "1")
    pins = accel.Pins()
    rng = np.random.default_rng(2)
    args = (rng.uniform(0, 5, 30), rng.integers(0, 30, 200), rng.uniform(0, 9, 200), np.zeros(200, np.int64), 30.0)
    first = pins(care._learn_waits, *args)
    again = pins(care._learn_waits, *args)
    np.testing.assert_array_equal(first, care._learn_waits(*args))
    np.testing.assert_array_equal(again, first)
    assert len(pins._entries) == 1  # pinned at the first call
    with pytest.raises(accel.PinTypeError, match="argument 2"):
        pins(care._learn_waits, args[0], args[1], args[2].astype(np.float32), *args[3:])
    pins.clear()
    pins(care._learn_waits, args[0], args[1], args[2].astype(np.float32), *args[3:])  # pinned anew
    assert copy.deepcopy(pins)._entries == {} and pickle.loads(pickle.dumps(pins))._entries == {}


def test_pins_hold_when_a_day_has_one_episode() -> None:
    """A day of one episode makes (1, K) arrays, C- and F-contiguous at once: numba's type, and so the pin, is the same.

    (The property tests found this: the pin's check once compared memory flags, not numba's layout.)
    """
    overrides = ["run.years=1", "run.scale=0.004", "run.warmup_days=0", "region.residents=1000"]
    results = sim.run(sim.load_scenario(None, [*overrides, "illness.follow_up_rate=45.25"]))
    assert (results.daily["episodes"] == 1).any()
