"""Published statistics tiersim calibrates against, each with its source, and their loaders.

The data live next to this module:

- ``published.toml``: one table per national figure (visit shares, bed occupancy, costs,
  insurance funds, policy targets, ...) with ``value``, ``unit``, ``year``, ``source`` and ``note``.
- ``age_structure.csv``: China's 2020 census age structure in 5-year bands.
- ``chronic_prevalence.csv``: prevalence of hypertension and diabetes by age band.

Comment lines (starting with ``#``) at the top of each CSV give its sources and caveats.

Example:
    >>> from sim.data import figure
    >>> figure("primary_visit_share").value
    0.522
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import tomllib
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["Figure", "age_structure", "chronic_prevalence", "figure", "published"]

_METADATA_FIELDS = ("unit", "year", "source", "note")


@dataclass(frozen=True)
class Figure:
    """One published figure with its provenance.

    Attributes:
        name: Key of the figure in ``published.toml`` (e.g. ``"primary_visit_share"``).
        value: The number, or a mapping of component name to number for composite figures
            (e.g. ``{"service": 0.5, "drugs": 0.3, "tests": 0.2}`` for the revenue structure).
        unit: Unit of ``value`` (e.g. ``"share"``, ``"yuan"``, ``"days"``).
        year: Year or period the figure refers to (e.g. ``"2023"``, ``"2019 Jan-Oct"``,
            ``"target"``).
        source: Short citation, ending in the key of a docs/references.md entry (e.g. `[nhc-bulletin-2023]`).
        note: How the value was derived, or caveats; empty if none.
    """

    name: str
    value: float | dict[str, float]
    unit: str
    year: str
    source: str
    note: str


def _read_text(filename: str) -> str:
    """Read one data file shipped with this package.

    Args:
        filename: Name of the file in the ``sim/data`` directory.

    Returns:
        The file's text, decoded as UTF-8.
    """
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


def _as_number(name: str, key: str, raw: object) -> float:
    """Check that a TOML value is a number and return it as a float.

    Args:
        name: Figure name, for the error message.
        key: Field name, for the error message.
        raw: The value read from TOML.

    Returns:
        ``raw`` as a float.

    Raises:
        ValueError: If ``raw`` is not an int or a float.
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"published.toml: [{name}] {key} must be a number, got {raw!r}")
    return float(raw)


def _parse_figure(name: str, table: dict[str, object]) -> Figure:
    """Turn one TOML table into a `Figure`.

    A table holds either ``value`` (a number, or an inline table of numbers) or, for composite
    figures such as the revenue structure, one numeric field per component.

    Args:
        name: The table's key.
        table: The table's fields.

    Returns:
        The parsed figure.

    Raises:
        ValueError: If a metadata field is missing or a value is not numeric.
    """
    missing = [key for key in _METADATA_FIELDS if key not in table]
    if missing:
        raise ValueError(f"published.toml: [{name}] is missing {', '.join(missing)}")

    value: float | dict[str, float]
    if "value" in table:
        raw = table["value"]
        if isinstance(raw, dict):
            value = {str(k): _as_number(name, f"value.{k}", v) for k, v in raw.items()}
        else:
            value = _as_number(name, "value", raw)
    else:
        components = {k: v for k, v in table.items() if k not in _METADATA_FIELDS}
        if not components:
            raise ValueError(f"published.toml: [{name}] has no value")
        value = {k: _as_number(name, k, v) for k, v in components.items()}

    return Figure(
        name=name,
        value=value,
        unit=str(table["unit"]),
        year=str(table["year"]),
        source=str(table["source"]),
        note=str(table["note"]),
    )


@functools.cache
def published() -> dict[str, Figure]:
    """Load every figure in ``published.toml``.

    The result is cached; treat it as read-only.

    Returns:
        Mapping of figure name to `Figure`, in file order.

    Raises:
        ValueError: If a table lacks a field or holds a non-numeric value.
    """
    data = tomllib.loads(_read_text("published.toml"))
    figures: dict[str, Figure] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"published.toml: top-level key {name!r} is not a table")
        figures[name] = _parse_figure(name, table)
    return figures


def figure(name: str) -> Figure:
    """Return one published figure by name.

    Args:
        name: Key of the figure in ``published.toml``, e.g. ``"beds_per_1000"``.

    Returns:
        The figure.

    Raises:
        KeyError: If there is no such figure; the message lists similar names.
    """
    figures = published()
    try:
        return figures[name]
    except KeyError:
        names = list(figures)
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        close += [n for n in names if name and name in n and n not in close][: 5 - len(close)]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise KeyError(f"no published figure named {name!r}.{hint} ({len(names)} figures in published.toml)") from None


@functools.cache
def _read_csv(filename: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Read a data CSV, skipping ``#`` comment lines.

    Args:
        filename: Name of the file in the ``sim/data`` directory.

    Returns:
        The header and the data rows, as strings.

    Raises:
        ValueError: If the file has no header or a row has the wrong number of fields.
    """
    text = _read_text(filename)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    rows = [tuple(cell.strip() for cell in row) for row in reader]
    if not rows:
        raise ValueError(f"{filename}: no header")
    header, body = rows[0], rows[1:]
    for i, row in enumerate(body, start=1):
        if len(row) != len(header):
            msg = f"{filename}: data row {i} has {len(row)} fields, expected {len(header)}"
            raise ValueError(msg)
    return header, tuple(body)


def _columns(filename: str, expected: tuple[str, ...]) -> list[list[str]]:
    """Return the columns of a data CSV after checking its header.

    Args:
        filename: Name of the file in the ``sim/data`` directory.
        expected: The exact header the file must have.

    Returns:
        One list of strings per column, in ``expected`` order.

    Raises:
        ValueError: If the header differs from ``expected``.
    """
    header, body = _read_csv(filename)
    if header != expected:
        raise ValueError(f"{filename}: header {list(header)}, expected {list(expected)}")
    return [[row[j] for row in body] for j in range(len(expected))]


def _check_bands(filename: str, age_lo: np.ndarray, age_hi: np.ndarray) -> None:
    """Check that age bands start at 0, are contiguous and non-empty.

    Args:
        filename: Name of the file, for the error message.
        age_lo: Lower bounds (inclusive).
        age_hi: Upper bounds (inclusive).

    Raises:
        ValueError: If the bands do not tile the ages from 0 upwards.
    """
    if age_lo.size == 0 or age_lo[0] != 0:
        raise ValueError(f"{filename}: age bands must start at 0")
    if np.any(age_hi < age_lo) or np.any(age_lo[1:] != age_hi[:-1] + 1):
        raise ValueError(f"{filename}: age bands must be contiguous and non-empty")


def age_structure() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return China's 2020 census age structure in 5-year bands.

    Bands are 0-4, 5-9, ..., 80-84 and the open band 85-100; bounds are inclusive.

    Returns:
        ``(age_lo, age_hi, share)``: int64 lower and upper bounds and float64 shares of residents,
        normalised to sum to exactly 1. Fresh arrays on every call.

    Raises:
        ValueError: If the file is malformed.
    """
    filename = "age_structure.csv"
    lo, hi, share = _columns(filename, ("age_lo", "age_hi", "share"))
    age_lo = np.array(lo, dtype=np.int64)
    age_hi = np.array(hi, dtype=np.int64)
    shares = np.array(share, dtype=np.float64)
    _check_bands(filename, age_lo, age_hi)
    if np.any(shares < 0) or shares.sum() <= 0:
        raise ValueError(f"{filename}: shares must be non-negative with a positive sum")
    return age_lo, age_hi, shares / shares.sum()


def chronic_prevalence() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the prevalence of hypertension and diabetes by age band.

    Bands are 0-17 (zero for both), 18-24, 25-34, ..., 65-74 and the open band 75-100; bounds
    are inclusive.

    Returns:
        ``(age_lo, age_hi, hypertension, diabetes)``: int64 bounds and float64 shares of residents
        in each band with the condition. Fresh arrays on every call.

    Raises:
        ValueError: If the file is malformed or a share lies outside [0, 1].
    """
    filename = "chronic_prevalence.csv"
    lo, hi, htn, dm = _columns(filename, ("age_lo", "age_hi", "hypertension", "diabetes"))
    age_lo = np.array(lo, dtype=np.int64)
    age_hi = np.array(hi, dtype=np.int64)
    hypertension = np.array(htn, dtype=np.float64)
    diabetes = np.array(dm, dtype=np.float64)
    _check_bands(filename, age_lo, age_hi)
    for label, values in (("hypertension", hypertension), ("diabetes", diabetes)):
        if np.any((values < 0) | (values > 1)):
            raise ValueError(f"{filename}: {label} shares must lie in [0, 1]")
    return age_lo, age_hi, hypertension, diabetes
