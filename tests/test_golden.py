"""Every scenario's annual and daily tables equal the committed golden tables bit for bit (tests/golden/).

The scenarios run in one child process pinned to numpy's and libm's baseline code
(`golden.regenerate.pinned_environment`), so the comparison holds on any x86-64 CPU.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from golden import regenerate as golden

SCENARIOS = golden.scenario_names()


def _run(folder: Path, *options: str) -> dict[str, golden.Tables]:
    """Every scenario's tables, written by the regenerate script into `folder` and read back."""
    script = Path(golden.__file__).resolve()
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(folder), *options],
        env=golden.child_environment(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode:
        pytest.fail(f"{golden.COMMAND} {' '.join(options)} failed:\n{done.stdout}{done.stderr}", pytrace=False)
    return golden.read(folder)


@pytest.fixture(scope="module")
def committed() -> dict[str, golden.Tables]:
    return golden.read()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, golden.Tables]:
    return _run(tmp_path_factory.mktemp("golden"))


def _check(name: str, committed: dict[str, golden.Tables], got: dict[str, golden.Tables], engine: str) -> None:
    """Fail with one message naming what differs, and how a deliberate change of results is recorded."""
    problems = []
    for table, key in golden.KEYS.items():
        where = golden.annual_path(golden.GOLDEN, name) if table == "annual" else golden.daily_path(golden.GOLDEN)
        found = (
            golden.differences(committed[name][table], got[name][table], key)
            if table in committed.get(name, {})
            else ["no golden table for this scenario"]
        )
        if found:
            lines = "\n".join(f"  {line}" for line in found)
            problems.append(f"scenario {name!r}, {table} table ({where.relative_to(golden.ROOT)}):\n{lines}")
    if problems:
        pytest.fail(
            f"This run ({engine}) differs from the golden tables.\n"
            + "\n".join(problems)
            + f"\nIf the change is intended, regenerate them with `{golden.COMMAND}` (it prints what changed)."
            + f" {golden.RULE}",
            pytrace=False,
        )


def test_golden_tables_cover_the_scenarios(committed):
    assert list(committed) == SCENARIOS, f"scenarios and golden tables disagree: regenerate with `{golden.COMMAND}`"
    incomplete = [name for name, tables in committed.items() if list(tables) != list(golden.KEYS)]
    assert not incomplete, f"golden tables incomplete for {incomplete}: regenerate with `{golden.COMMAND}`"


def test_differences_at_tolerance_zero():
    table = pd.DataFrame({"day": [0, 1, 2], "paid": [1.0, np.nan, 0.0], "visits": [3, 4, 5]})
    assert golden.differences(table, table.copy(), "day") == []
    one_ulp = table.assign(paid=[np.nextafter(1.0, 2.0), np.nan, 0.0])
    assert (
        golden.differences(table, one_ulp, "day")[1]
        == "first difference at day 0: paid expected 1.0, got 1.0000000000000002"
    )
    assert golden.differences(table, table.assign(paid=[1.0, np.nan, -0.0]), "day")
    assert golden.differences(table, table.assign(paid=[1.0, 2.0, 0.0]), "day")
    assert golden.differences(table, table[["day", "visits", "paid"]], "day") == [
        "the same columns in another order, first out of place: paid"
    ]
    assert golden.differences(table, table.astype({"visits": np.float64}), "day") == [
        "dtypes changed: visits int64 -> float64"
    ]
    assert golden.differences(table, table.iloc[:2], "day") == ["3 rows expected, got 2"]


def test_tables_read_back_bit_for_bit(tmp_path):
    annual = pd.DataFrame(
        {"year": [0, 1], "big": [2**62, -1], "x": [0.1 + 0.2, np.nan], "y": [-0.0, 5e-324], "z": [3.0, np.inf]}
    )
    tables = {"a": {"annual": annual, "daily": annual.rename(columns={"year": "day"})}}
    golden.write(tmp_path, tables)
    back = golden.read(tmp_path)
    assert all(golden.differences(tables["a"][t], back["a"][t], k) == [] for t, k in golden.KEYS.items())


@pytest.mark.parametrize("name", SCENARIOS)
def test_golden(name, committed, compiled):
    _check(name, committed, compiled, "compiled kernels")
