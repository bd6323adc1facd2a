"""Posterior ensembles: weighted parameter sets from a calibration, and draws from them for replications.

A posterior file is a CSV: one row per parameter set (an ABC-SMC particle), one column per
calibrated scenario key (dotted, as `--set` takes it, e.g. ``choice.cost``) and a column
``weight`` (the particle's importance weight; the weights are positive and sum to 1). Comment
lines at the top, ``# key: value``, give its provenance (date, command, targets, scale,
generations, acceptance rates), as the other data files of `sim.data` give their sources. The
shipped ensemble is ``sim/data/posterior.csv`` (`tiersim calibrate
experiments/calibrate_evidence.toml` writes it).

Every value is checked as a scenario value (unknown key, value outside the parameter's allowed
range) and the weights as weights, with a one-line `ScenarioError` naming the row and the field.

Parameter uncertainty enters a comparison or a sweep through draws: the run with seed k takes
the parameter set `Posterior.draw(k)`, chosen with probability equal to its weight by a draw of
`sim.rng` keyed by k. Replication i of every scenario runs with seed ``seed + i``, so it takes
the same parameter set in every scenario: paired differences keep their common random numbers
and share the parameter set, while each scenario's levels spread over the posterior.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sim import rng
from sim.config import Scenario, ScenarioError, not_utf8, validate, with_values

WEIGHT = "weight"
"""The column of the particles' importance weights."""
WEIGHT_TOLERANCE = 1e-6
"""How far the weights' sum may be from 1 (they are written with 17 significant digits)."""
STREAM = "posterior.draw"
"""The `sim.rng` stream that picks a run's parameter set."""
SHIPPED = "posterior.csv"
"""File name of the shipped ensemble in `sim.data`."""


@dataclass(frozen=True)
class Posterior:
    """A checked posterior ensemble.

    Attributes:
        source: Where it was read from (a file name, or the shipped ensemble's).
        keys: The calibrated scenario keys, in file order.
        values: One row per parameter set, one value per key.
        weights: Importance weight of each parameter set (positive, summing to 1).
        provenance: The `# key: value` comment lines at the file's top.
    """

    source: str
    keys: list[str]
    values: np.ndarray
    weights: np.ndarray
    provenance: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.weights)

    def index(self, seed: int) -> int:
        """Row of the parameter set of the run with `seed`: chosen with probability its weight, keyed by the seed."""
        u = float(rng.uniform(seed, STREAM, 0))
        cumulative = np.cumsum(self.weights)
        # The last cumulative sum may fall a rounding error short of 1: never step past the last row.
        return min(int(np.searchsorted(cumulative, u * cumulative[-1], side="right")), len(self) - 1)

    def draw(self, seed: int) -> dict[str, float]:
        """The parameter set (key → value) of the run with `seed`."""
        row = self.values[self.index(seed)]
        return {k: float(v) for k, v in zip(self.keys, row, strict=True)}

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """The parameter sets of n replications whose seeds are seed, seed + 1, …, seed + n − 1."""
        return [self.draw(seed + i) for i in range(n)]

    def describe(self) -> str:
        """One line: how many sets of which keys, from where."""
        return f"{len(self)} parameter sets of {', '.join(self.keys)} ({self.source})"


def overrides(values: dict[str, float]) -> list[str]:
    """A parameter set as `--set`-style `key=value` strings."""
    return [f"{k}={v!r}" for k, v in values.items()]


def apply(scenario: Scenario, values: dict[str, float] | None) -> Scenario:
    """The scenario with a parameter set's values in place of its own (None: the scenario unchanged).

    The one rule by which a comparison, a sweep and a calibration put a parameter set into a run.
    """
    if not values:
        return scenario
    where = f"scenario '{scenario.name}' with a posterior parameter set"
    return validate(with_values(scenario.model_dump(mode="json"), values, where), where)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{where} = {text!r} is invalid: not a number") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{where} = {text!r} is invalid: allowed a finite number")
    return value


def parse(text: str, source: str) -> Posterior:
    """Check a posterior file's text (see the module docstring) into a `Posterior`.

    Raises:
        ScenarioError: One line naming the file, the row (1 = the first parameter set) and the field.
    """
    lines = text.splitlines()
    provenance: dict[str, str] = {}
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        key, _, value = lines[start][1:].partition(":")
        if key.strip():
            provenance[key.strip()] = value.strip()
        start += 1
    rows = list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ScenarioError(f"{source}: no header row; expected scenario keys and a '{WEIGHT}' column")
    header = [cell.strip() for cell in rows[0]]
    if WEIGHT not in header:
        raise ScenarioError(f"{source}: no '{WEIGHT}' column (columns: {', '.join(header)})")
    keys = [h for h in header if h != WEIGHT]
    if not keys:
        raise ScenarioError(f"{source}: no parameter columns beside '{WEIGHT}'")
    for key in header:
        if header.count(key) > 1:
            raise ScenarioError(f"{source}: column '{key}' appears twice")
        if key.split(".")[0] == "run":
            raise ScenarioError(f"{source}: column '{key}': run settings are not parameters; allowed model keys")
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if not body:
        raise ScenarioError(f"{source}: no parameter sets (rows) under the header")
    values = np.empty((len(body), len(keys)))
    weights = np.empty(len(body))
    for i, cells in enumerate(body):
        where = f"{source}: row {i + 1}"
        if len(cells) != len(header):
            raise ScenarioError(f"{where}: {len(cells)} fields where the header has {len(header)}")
        record = dict(zip(header, (c.strip() for c in cells), strict=True))
        weights[i] = _number(record[WEIGHT], f"{where}: {WEIGHT}")
        if weights[i] <= 0:
            raise ScenarioError(f"{where}: {WEIGHT} = {record[WEIGHT]} is invalid: allowed > 0")
        numbers: dict[str, Any] = {k: _number(record[k], f"{where}: {k}") for k in keys}
        validate(with_values({}, numbers, where), where)
        values[i] = [float(numbers[k]) for k in keys]
    total = float(weights.sum())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ScenarioError(f"{source}: {WEIGHT} column sums to {total:.9g}; allowed 1 (± {WEIGHT_TOLERANCE:g})")
    return Posterior(source, keys, values, weights, provenance)


def load_posterior(path: str | Path | None = None) -> Posterior:
    """Read and check a posterior file (None: the ensemble shipped in `sim.data`).

    Raises:
        ScenarioError: One line for a missing, unreadable or invalid file (see `parse`).
    """
    if path is None:
        resource = resources.files("sim.data").joinpath(SHIPPED)
        if not resource.is_file():
            raise ScenarioError(f"{posterior_name(None)}: no shipped posterior; give --posterior FILE")
        return parse(resource.read_text(encoding="utf-8"), posterior_name(None))
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"--posterior {path}: is a folder; give a posterior CSV file")
    if not path.is_file():
        raise ScenarioError(f"--posterior {path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(str(path), exc) from None
    except OSError as exc:
        raise ScenarioError(f"--posterior {path}: cannot read file: {exc.strerror or exc}") from None
    return parse(text, str(path))


def to_text(keys: Sequence[str], values: np.ndarray, weights: np.ndarray, provenance: dict[str, str]) -> str:
    """A posterior file's text: provenance comment lines, header, one row per set (weights normalised)."""
    weights = np.asarray(weights, dtype=float) / float(np.sum(weights))
    out = io.StringIO()
    for key, value in provenance.items():
        out.write(f"# {key}: {' '.join(str(value).split())}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*keys, WEIGHT])
    for row, weight in zip(np.asarray(values, dtype=float), weights, strict=True):
        writer.writerow([*(repr(float(v)) for v in row), repr(float(weight))])
    return out.getvalue()


def posterior_name(path: str | Path | None) -> str:
    """How a report names the posterior of `--posterior` (None: the shipped ensemble)."""
    return f"sim/data/{SHIPPED}" if path is None else str(path)


def parameter_draws(
    count: int | None, path: str | Path | None, replications: int, seed: int
) -> list[dict[str, float]] | None:
    """The `--parameter-draws` rule of `compare` and `sweep`: one parameter set per replication, or None.

    Args:
        count: `--parameter-draws N` (None: no parameter uncertainty; the scenarios' own values).
        path: `--posterior FILE` (None: the shipped ensemble).
        replications: Replications of every scenario or point; must equal `count`.
        seed: Seed of replication 0; replication i takes `Posterior.draw(seed + i)`.

    Raises:
        ScenarioError: A bad count, a count that is not the number of replications, or a bad file.
    """
    if count is None:
        if path is not None:
            raise ScenarioError(f"--posterior {path}: given without --parameter-draws N")
        return None
    if count < 1:
        raise ScenarioError(f"--parameter-draws = {count} is invalid: allowed ≥ 1")
    if count != replications:
        raise ScenarioError(
            f"--parameter-draws = {count} is invalid: allowed the number of replications ({replications}); "
            "replication i takes draw i"
        )
    return load_posterior(path).draws(count, seed)
