"""Experiments: a base scenario, the parameters to vary, a design — read from TOML, checked up front.

An experiment file names a base scenario, fixed overrides, the parameters to vary (any scenario
key, with a list of values or a range) and the design that turns them into points:

- ``factorial``: every combination of every parameter's values (a range needs ``steps``);
- ``latin_hypercube``: ``samples`` points, one per stratum of every range (scipy.stats.qmc);
- ``sobol``: Saltelli's extension of a scrambled Sobol' sequence, ``samples`` × (k + 2) points
  for k parameters — the design Sobol' indices are estimated from (SALib);
- ``morris``: ``samples`` one-at-a-time trajectories, ``samples`` × (k + 1) points (SALib).

Every point runs ``replications`` times; replication r of every point uses seed ``seed + r``,
so points are compared on the same residents and illnesses (common random numbers).

Example (``experiments/start_line_x_reserved_beds.toml``)::

    name = "start_line_x_reserved_beds"
    scenario = "../scenarios/baseline.toml"
    set = ["run.scale=0.04", "levers.reserved_beds.enabled=true", "levers.start_line.enabled=true"]
    design = "factorial"
    replications = 2

    [parameters."levers.reserved_beds.share"]
    values = [0.0, 0.1, 0.2]

    [parameters."levers.start_line.resident.inpatient_start_line.tertiary"]
    low = 0
    high = 3000
    steps = 4

Every failure — unknown key, empty range, value a parameter does not allow, bad design name — is
a `ScenarioError` with one line naming the file and the field, raised before any run starts:
every point of the design is validated as a scenario first.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator
from scipy.stats import qmc

from sim.config import Scenario, ScenarioError, apply_overrides, describe_error, read_toml, validate, with_values
from sim.params import StrictModel
from sim.posterior import apply

DESIGNS = ("factorial", "latin_hypercube", "sobol", "morris")
MORRIS_LEVELS = 4
"""Grid levels of the Morris design (SALib's default; Morris 1991 recommends an even number)."""

Value = bool | int | float | str


class ParameterRange(StrictModel):
    """The values one parameter takes: a list, or a range [low, high] (with `steps` for factorial)."""

    values: list[Value] | None = Field(None, description="Explicit values (factorial only).")
    low: float | None = Field(None, description="Lower end of the range.")
    high: float | None = Field(None, description="Upper end of the range.")
    steps: int | None = Field(None, ge=2, le=10_000, description="Evenly spaced values from low to high (factorial).")
    integer: bool = Field(False, description="Round sampled values to whole numbers (e.g. counts, days).")

    @model_validator(mode="after")
    def _one_kind(self) -> ParameterRange:
        if self.values is not None:
            if self.low is not None or self.high is not None or self.steps is not None:
                raise ValueError("give either values or low/high, not both")
            if not self.values:
                raise ValueError("empty list of values")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values = [...] or both low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(f"empty range: low = {self.low:g} must be below high = {self.high:g}")
        return self

    def grid(self) -> list[Value]:
        """The factorial values of this parameter."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.steps is None:
            raise ValueError("a range in a factorial design needs steps (the number of values, ≥ 2)")
        return [self._cast(v) for v in np.linspace(self.low, self.high, self.steps)]

    def scale(self, unit: np.ndarray) -> list[Value]:
        """Map points of [0, 1] onto the range."""
        assert self.low is not None and self.high is not None
        return [self._cast(v) for v in self.low + unit * (self.high - self.low)]

    def _cast(self, v: float) -> Value:
        return round(v) if self.integer else float(v)


class ExperimentSpec(StrictModel):
    """The contents of an experiment file."""

    name: str | None = Field(None, description="Name of the experiment (default: the file's stem).")
    description: str = Field("", description="What the experiment asks.")
    scenario: str | None = Field(None, description="Base scenario file, relative to the experiment file.")
    set: list[str] = Field(default_factory=list, description="Fixed `dotted.key=value` overrides of the base.")
    design: str = Field("factorial", description=f"One of {', '.join(DESIGNS)}.")
    samples: int = Field(
        16, ge=1, le=1_000_000, description="Points (latin_hypercube), base samples (sobol), trajectories (morris)."
    )
    replications: int = Field(1, ge=1, le=10_000, description="Runs per point; replication r uses seed + r.")
    seed: int | None = Field(None, ge=0, le=2**62, description="Seed of replication 0 (default: the base's run.seed).")
    parameters: dict[str, ParameterRange] = Field(description="Scenario key → values or range.")

    @field_validator("design")
    @classmethod
    def _known_design(cls, v: str) -> str:
        if v not in DESIGNS:
            raise ValueError(f"unknown design; allowed: {', '.join(DESIGNS)}")
        return v

    @field_validator("parameters")
    @classmethod
    def _some(cls, v: dict[str, ParameterRange]) -> dict[str, ParameterRange]:
        if not v:
            raise ValueError('no parameters to vary; add a [parameters."dotted.key"] table')
        return v


class Experiment:
    """A checked experiment: base scenario data, design points, seeds.

    Attributes:
        name: Experiment name.
        spec: The file's contents.
        source: Where it came from (file name), for messages.
        base: Base scenario data (TOML dict, overrides applied), before the varied values.
        points: One row per design point, one column per varied parameter (dotted key).
        seeds: Seed of each replication.
        parameter_draws: A posterior parameter set per replication, the same at every point
            (`sim.sweep.with_parameter_draws`), or None: the base's own values.
        posterior: Where the parameter sets came from ("" without draws).
    """

    def __init__(
        self, spec: ExperimentSpec, source: str, base: dict[str, Any], points: pd.DataFrame | None = None
    ) -> None:
        """Check an experiment; `points` (columns = the spec's parameters) replaces the spec's design."""
        self.spec = spec
        self.source = source
        self.base = apply_overrides(base, spec.set) if spec.set else base
        self.name = spec.name or Path(source).stem
        base_scenario = validate(self.base, f"{source}: scenario with set")
        first = base_scenario.run.seed if spec.seed is None else spec.seed
        self.seeds = [first + r for r in range(spec.replications)]
        self.points = design_points(spec) if points is None else points.reset_index(drop=True)
        self.parameter_draws: list[dict[str, float]] | None = None
        self.posterior = ""
        self._scenarios = [
            self._validated(i, f"{source}: design point {i} ({self.describe(row)})")
            for i, row in enumerate(self.points.itertuples(index=False))
        ]

    @property
    def parameters(self) -> list[str]:
        """The varied keys, in file order."""
        return list(self.spec.parameters)

    @property
    def runs(self) -> int:
        """Number of runs: points × replications."""
        return len(self.points) * len(self.seeds)

    def describe(self, row: Any) -> str:
        """`key=value, ...` of one design point."""
        return ", ".join(f"{k}={_fmt(v)}" for k, v in zip(self.parameters, row, strict=True))

    def scenario(self, point: int) -> Scenario:
        """The validated scenario of one design point."""
        return self._scenarios[point]

    def run_scenario(self, point: int, replication: int) -> Scenario:
        """The scenario a run executes: the point's, with the replication's posterior parameter set if any."""
        draws = self.parameter_draws
        return apply(self.scenario(point), None if draws is None else draws[replication])

    def _validated(self, point: int, where: str) -> Scenario:
        values = {k: _plain(v) for k, v in self.points.iloc[point].items()}
        return validate(with_values(self.base, values, where), where)

    def jobs(self) -> list[tuple[int, int, int]]:
        """(run_id, point, replication) for every run; run_id = point × replications + replication."""
        reps = len(self.seeds)
        return [(p * reps + r, p, r) for p in range(len(self.points)) for r in range(reps)]

    def fingerprint(self) -> str:
        """What must match for a store to be resumed: base data, design points, seeds (and draws), as JSON."""
        content: dict[str, Any] = {
            "base": self.base,
            "points": self.points.to_dict(orient="list"),
            "seeds": self.seeds,
        }
        if self.parameter_draws is not None:
            content["parameter_draws"] = self.parameter_draws
        return json.dumps(content, sort_keys=True, default=str)


def _plain(v: Any) -> Value:
    """Numpy scalars → Python scalars, so TOML-style validation and JSON see plain values."""
    return v.item() if isinstance(v, np.generic) else v


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def salib_problem(spec: ExperimentSpec) -> dict[str, Any]:
    """The SALib problem dictionary of a design's ranges."""
    bounds = []
    for key, rng in spec.parameters.items():
        if rng.values is not None:
            raise ValueError(f"parameters.{key}: design {spec.design} needs a numeric range low/high, not values")
        bounds.append([rng.low, rng.high])
    return {"num_vars": len(bounds), "names": list(spec.parameters), "bounds": bounds}


def design_points(spec: ExperimentSpec) -> pd.DataFrame:
    """The design's points: one row each, one column per parameter (in file order).

    Raises:
        ScenarioError: If a parameter's values do not suit the design (e.g. a list in a Sobol design).
    """
    keys = list(spec.parameters)
    seed = 0 if spec.seed is None else spec.seed
    try:
        if spec.design == "factorial":
            grids = [spec.parameters[k].grid() for k in keys]
            rows = list(itertools.product(*grids))
        elif spec.design == "latin_hypercube":
            salib_problem(spec)  # checks every parameter has a range
            unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(seed)).random(spec.samples)
            rows = list(zip(*(spec.parameters[k].scale(unit[:, j]) for j, k in enumerate(keys)), strict=True))
        else:
            rows = _salib_rows(spec, seed)
    except ValueError as exc:
        raise ScenarioError(f"{exc}") from None
    return pd.DataFrame(rows, columns=keys)


def _salib_rows(spec: ExperimentSpec, seed: int) -> list[tuple[Value, ...]]:
    from SALib.sample import morris, sobol

    problem = salib_problem(spec)
    if spec.design == "sobol":
        if spec.samples & (spec.samples - 1):
            raise ValueError(f"samples = {spec.samples} is invalid for design sobol: allowed a power of 2 (e.g. 64)")
        unit_free = sobol.sample(problem, spec.samples, calc_second_order=False, seed=seed)
    else:
        if spec.samples < 2:
            raise ValueError(f"samples = {spec.samples} is invalid for design morris: allowed ≥ 2 trajectories")
        unit_free = morris.sample(problem, spec.samples, num_levels=MORRIS_LEVELS, seed=seed)
    ranges = list(spec.parameters.values())
    # Values are used as sampled (integer parameters rounded): the analysis needs the design's X.
    return [tuple(r._cast(v) for r, v in zip(ranges, row, strict=True)) for row in unit_free]


def parse(data: dict[str, Any], source: str, model: type[ExperimentSpec] = ExperimentSpec) -> ExperimentSpec:
    """Validate experiment-file data into `model`, as a one-line `ScenarioError` on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe_error(exc, source, root=model)) from None


def load_experiment(
    path: str | Path, overrides: list[str] | None = None, model: type[ExperimentSpec] = ExperimentSpec
) -> Experiment:
    """Read and check an experiment file: schema, base scenario, every design point.

    Args:
        path: Experiment TOML file.
        overrides: Extra `dotted.key=value` scenario overrides (CLI `--set`), applied after `set`.
        model: The file's schema (a calibration file extends the experiment file's).

    Raises:
        ScenarioError: One line naming the file and field, before any run.
    """
    path = Path(path)
    raw = read_toml(path)
    spec = parse(raw, str(path), model)
    return from_spec(spec, path, overrides)


def from_spec(spec: ExperimentSpec, path: Path, overrides: list[str] | None = None) -> Experiment:
    """The checked experiment of a parsed spec read from `path` (relative scenario paths start there)."""
    if overrides:
        spec = spec.model_copy(update={"set": [*spec.set, *overrides]})
    if spec.scenario is not None and not (path.parent / spec.scenario).is_file():
        raise ScenarioError(f"{path}: scenario = {spec.scenario!r}: file not found (relative to the experiment file)")
    base = read_toml(path.parent / spec.scenario) if spec.scenario is not None else {}
    return Experiment(spec, str(path), base)
