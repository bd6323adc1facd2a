"""Regenerate the golden tables: every scenario of `scenarios/`, run small, its annual and daily tables.

`tests/test_golden.py` reruns each scenario and requires exactly these tables (tolerance 0). When a
change of results is intended, regenerate them and commit them on their own, saying why:

    python tests/golden/regenerate.py                 # rewrite tests/golden/, print what changed
    python tests/golden/regenerate.py --check         # compare only, write nothing; exit 1 on any difference
    python tests/golden/regenerate.py --out DIR       # the same with DIR instead of tests/golden/

The scenarios run in a child process whose numpy and libm take the same code path on every x86-64
CPU (`pinned_environment`), with the `sim` package this script imported. Each file is written beside
its final name, read back and compared with the run's tables, and only then renamed into place, so
an interrupted or lossy write never replaces a golden table.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import sim

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
# Every lever starts in year 1 or 2, and a year's end settlements act in the next year: four years
# reach a year-2 lever's first settlement. Scale 0.02 (50,000 residents) runs a scenario in ≈1 s.
OVERRIDES = ("run.scale=0.02", "run.years=4")
KEYS = {"annual": "year", "daily": "day"}  # the column naming a table's rows in messages
COMMAND = "python tests/golden/regenerate.py"
RULE = (
    "A change of results is a reviewed commit of its own whose message says why "
    "(which mechanism changed which numbers)."
)

Tables = dict[str, pd.DataFrame]  # table name ("annual", "daily") -> table


def _numpy_cpu() -> tuple[list[str], dict[str, bool]]:
    """numpy's dispatched SIMD targets, and the CPU features it uses."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.26 keeps it in numpy.core
        from numpy.core import _multiarray_umath as umath
    return list(umath.__cpu_dispatch__), dict(umath.__cpu_features__)


def pinned_environment() -> dict[str, str]:
    """Environment variables under which numpy and libm compute the same on every x86-64 CPU.

    numpy picks SIMD loops for the CPU it runs on, and its AVX-512 `exp` differs from libm's in the
    last bit of about one result in twenty; glibc picks FMA variants of `exp`, `log`, ... that differ
    from its generic ones in the last bit of some results. The provider response's `np.exp`
    (`sim.payment.respond_to_payment`) carries such a bit into the next year's bills, so a machine
    with AVX-512, one with AVX2 and FMA only, and one without FMA give three sets of tables
    (tests/golden/README.md). With every target numpy dispatches and glibc's AVX and FMA variants
    switched off, both run their baseline code wherever they run. The compiled kernels need no pin:
    they call no libm function (`sim.accel`), and compiled for a generic x86-64 CPU they give the
    same tables as compiled for the host's.
    """
    return {
        "NPY_DISABLE_CPU_FEATURES": " ".join(_numpy_cpu()[0]),
        "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F",
    }


def child_environment() -> dict[str, str]:
    """This process's environment, pinned, with this process's `sim` first on the path."""
    env = {**os.environ, **pinned_environment()}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(sim.__file__).resolve().parents[1]), env.get("PYTHONPATH")) if p
    )
    return env


def _pinned() -> bool:
    """Whether this process runs pinned; raises if numpy was asked to but did not."""
    if any(os.environ.get(name) != value for name, value in pinned_environment().items()):
        return False
    dispatch, features = _numpy_cpu()
    if any(features.get(target) for target in dispatch):
        raise RuntimeError(f"numpy ignored NPY_DISABLE_CPU_FEATURES={os.environ['NPY_DISABLE_CPU_FEATURES']!r}")
    return True


def scenario_names() -> list[str]:
    """The scenario files' names without `.toml`, sorted."""
    return sorted(path.stem for path in SCENARIOS.glob("*.toml"))


def simulate(name: str) -> Tables:
    """Run one scenario at the golden tables' size; its tables."""
    results = sim.run(sim.load_scenario(SCENARIOS / f"{name}.toml", overrides=list(OVERRIDES)))
    return {"annual": results.annual, "daily": results.daily}


def annual_path(folder: Path, name: str) -> Path:
    """Where a scenario's annual table is kept."""
    return folder / "annual" / f"{name}.csv"


def daily_path(folder: Path) -> Path:
    """Where every scenario's daily table is kept: one file, so that the days the scenarios share
    (before the levers start, and every count the levers leave alone) compress once."""
    return folder / "daily.parquet"


def _write_annual(table: pd.DataFrame, path: Path) -> None:
    # pandas writes a float64 as its shortest repr, which reads back to the same double, and NaN as "".
    table.to_csv(path, index=False, lineterminator="\n")


def _read_annual(path: Path) -> pd.DataFrame:
    """Read an annual CSV: a column of integer literals as int64, any other as float64 ("" is NaN).

    Python's `float` parses each field to the nearest double whatever the pandas version (pandas
    before 3.1 does so only with `float_precision="round_trip"`).
    """
    with path.open(newline="", encoding="utf-8") as file:
        header, *rows = csv.reader(file)
    fields = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return pd.DataFrame({name: _column(values) for name, values in zip(header, fields, strict=True)})


def _column(values: Iterable[str]) -> np.ndarray:
    values = list(values)
    try:
        return np.array([int(value) for value in values], dtype=np.int64)
    except ValueError:
        return np.array([float(value) if value else np.nan for value in values], dtype=np.float64)


def _write_daily(tables: dict[str, Tables], path: Path) -> None:
    frames = [t["daily"].assign(scenario=name) for name, t in tables.items()]
    every = pd.concat(frames, ignore_index=True)
    every = every[["scenario", *every.columns.drop("scenario")]]
    floats = [c for c in every.columns if every[c].dtype == np.float64]
    # Byte-stream split puts each byte of the doubles together (exponents, leading mantissa bytes),
    # which zstd compresses 13% smaller than whole doubles; dictionaries help only the names.
    pq.write_table(
        pa.Table.from_pandas(every, preserve_index=False),
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=["scenario"],
        use_byte_stream_split=floats,
    )


def _read_daily(path: Path) -> dict[str, pd.DataFrame]:
    every = pd.read_parquet(path)
    return {
        str(name): frame.drop(columns="scenario").reset_index(drop=True)
        for name, frame in every.groupby("scenario", sort=True)
    }


def read(folder: Path = GOLDEN) -> dict[str, Tables]:
    """The golden tables kept in `folder`, by scenario (empty when there are none)."""
    tables: dict[str, Tables] = {}
    for path in sorted((folder / "annual").glob("*.csv")):
        tables.setdefault(path.stem, {})["annual"] = _read_annual(path)
    if daily_path(folder).exists():
        for name, daily in _read_daily(daily_path(folder)).items():
            tables.setdefault(name, {})["daily"] = daily
    return dict(sorted(tables.items()))


def write(folder: Path, tables: dict[str, Tables]) -> None:
    """Replace the golden tables in `folder` with `tables` (every scenario's; others are removed).

    Every file is first written to a temporary name and read back; only when all of them read back
    bit for bit are they renamed into place (a rename within a folder is atomic).

    Raises:
        RuntimeError: A table did not read back identical (nothing is replaced).
    """
    (folder / "annual").mkdir(parents=True, exist_ok=True)
    targets = [annual_path(folder, name) for name in tables] + [daily_path(folder)]
    temporary = {target: target.with_name(f".{target.name}.{os.getpid()}.tmp") for target in targets}
    try:
        for name, t in tables.items():
            _write_annual(t["annual"], temporary[annual_path(folder, name)])
        _write_daily(tables, temporary[daily_path(folder)])
        daily = _read_daily(temporary[daily_path(folder)])
        for name, t in tables.items():
            back = {"annual": _read_annual(temporary[annual_path(folder, name)]), "daily": daily.get(name)}
            for table, frame in back.items():
                lost = differences(t[table], frame, KEYS[table]) if frame is not None else ["missing"]
                if lost:
                    raise RuntimeError(f"{name} {table} does not read back identical: " + "; ".join(lost))
        for target, tmp in temporary.items():
            os.replace(tmp, target)
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
    for stale in (folder / "annual").glob("*.csv"):
        if stale.stem not in tables:
            stale.unlink()


def same(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Element-wise equality at tolerance 0: equal values of equal sign (0.0 is not -0.0), or both NaN."""
    if expected.dtype.kind == "f" or got.dtype.kind == "f":
        a, b = expected.astype(np.float64), got.astype(np.float64)
        return ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))
    return np.asarray(expected == got)


def _cell(value: object) -> str:
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def differences(expected: pd.DataFrame, got: pd.DataFrame, key: str, *, columns: int = 3) -> list[str]:
    """How two tables differ, one line per kind of difference; no lines when they are identical.

    Identical means the same columns in the same order, the same dtypes, the same number of rows
    and every value the same (`same`).

    Args:
        expected: The golden table.
        got: The table of this run.
        key: The column naming rows in the lines ("day", "year"); the row number if absent.
        columns: How many differing columns to name before "and N more" (three cells of the first
            differing row are shown).
    """
    lines: list[str] = []
    old, new = list(expected.columns), list(got.columns)
    if old != new:
        gone, added = [c for c in old if c not in new], [c for c in new if c not in old]
        if gone:
            lines.append(f"columns no longer there: {', '.join(gone)}")
        if added:
            lines.append(f"new columns: {', '.join(added)}")
        if not gone and not added:
            moved = next(c for c, d in zip(old, new, strict=True) if c != d)
            lines.append(f"the same columns in another order, first out of place: {moved}")
    common = [c for c in old if c in new]
    retyped = [f"{c} {expected[c].dtype} -> {got[c].dtype}" for c in common if expected[c].dtype != got[c].dtype]
    if retyped:
        lines.append(f"dtypes changed: {', '.join(retyped)}")
    if len(expected) != len(got):
        lines.append(f"{len(expected)} rows expected, got {len(got)}")
    rows = min(len(expected), len(got))
    changed = {}
    for c in common:
        a, b = expected[c].to_numpy()[:rows], got[c].to_numpy()[:rows]
        differ = ~same(a, b)
        if differ.any():
            changed[c] = (a, b, differ)
    if not changed:
        return lines

    def where(row: int) -> str:
        return f"{key} {_cell(expected[key].iat[row])}" if key in expected.columns else f"row {row}"

    named = list(changed)[:columns]
    more = f" and {len(changed) - columns} more" if len(changed) > columns else ""
    lines.append(f"{len(changed)} of {len(common)} columns differ: {', '.join(named)}{more}")
    first = min(int(np.flatnonzero(d)[0]) for _, _, d in changed.values())
    at_first = [c for c, (_, _, d) in changed.items() if d[first]][:3]
    shown = "; ".join(
        f"{c} expected {_cell(changed[c][0][first])}, got {_cell(changed[c][1][first])}" for c in at_first
    )
    lines.append(f"first difference at {where(first)}: {shown}")
    largest = max(changed, key=lambda c: _largest(*changed[c])[0])
    relative, row = _largest(*changed[largest])
    a, b = changed[largest][0][row], changed[largest][1][row]
    lines.append(
        f"largest difference: {largest} at {where(row)}: expected {_cell(a)}, got {_cell(b)} (relative {relative:.3g})"
    )
    return lines


def _largest(expected: np.ndarray, got: np.ndarray, differ: np.ndarray) -> tuple[float, int]:
    """The largest relative difference among the differing cells, and its row."""
    a, b = expected.astype(np.float64), got.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.abs(b - a) / np.maximum(np.abs(a), np.abs(b))
    relative = np.where(a == b, 0.0, relative)  # equal but differing: a zero whose sign changed
    relative = np.where(np.isnan(relative), np.inf, relative)  # NaN against a number, or an infinity
    relative = np.where(differ, relative, -1.0)
    row = int(np.argmax(relative))
    return float(relative[row]), row


def changes(old: dict[str, Tables], new: dict[str, Tables]) -> list[str]:
    """What differs between two sets of golden tables, as lines for a reader; none when identical."""
    lines: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"{name}: scenario removed")
            continue
        if name not in old:
            lines.append(f"{name}: new scenario")
            continue
        for table, key in KEYS.items():
            if table not in old[name]:
                lines.append(f"{name} {table}: new table")
                continue
            found = differences(old[name][table], new[name][table], key, columns=12)
            lines += [f"{name} {table}: {line}" for line in found]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run every scenario, print how its tables differ from the kept ones, and write them (unless --check).

    Returns:
        The exit status: 0, or 1 with --check when anything differs.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN, help="folder of the tables (default: tests/golden)")
    parser.add_argument("--check", action="store_true", help="compare only; write nothing; exit 1 on any difference")
    args = parser.parse_args(argv)
    if not _pinned():
        # numpy and glibc read their variables only when they load: run again in a pinned child.
        child = [sys.executable, str(Path(__file__).resolve()), *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(child, env=child_environment(), check=False).returncode
    start = time.perf_counter()
    tables = {}
    for name in scenario_names():
        tables[name] = simulate(name)
        print(f"ran {name} ({', '.join(OVERRIDES)})", flush=True)
    seconds = time.perf_counter() - start
    found = changes(read(args.out), tables)
    print("\n".join(found) if found else f"no change from the tables in {args.out}")
    print(f"{len(tables)} scenarios in {seconds:.1f} s")
    if args.check:
        return 1 if found else 0
    if found:
        write(args.out, tables)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
