"""Calibration: find parameter values whose simulated indicators match published statistics.

The method is simulation-based and batch-parallel (surrogate-assisted search), so every batch runs
through the sweep machinery on local processes or a Dask cluster and every batch is resumable:

1. Round 0 runs a Latin hypercube of ``samples`` points over the parameters' ranges, each point
   ``replications`` times with common random numbers (the same seeds at every point, so the
   objective is smooth in the parameters rather than noisy).
2. A quadratic response surface is fitted to each target indicator over the round's points
   (least squares), and the weighted squared relative error of the surfaces is minimised within
   the round's box (scipy.optimize, L-BFGS-B from the best points).
3. Each following round halves the box around that optimum and runs a new Latin hypercube of
   ``samples`` points plus the optimum itself; step 2 is repeated on the points inside the box.
4. The final optimum is run once more and reported: the fitted scenario (TOML, extends the base)
   and the fit table — target, published value, simulated mean with its 95% interval, error.

Targets name an indicator (any stored by a sweep, e.g. ``visits_per_capita`` or its mean over the
years ``primary_visit_share_mean``) and either a figure of ``sim/data/published.toml`` or a value.

A calibration file with ``method = "abc-smc"`` is run instead by likelihood-free inference
(`sim.abc`): the same ranges are uniform priors, the same targets and loss the distance, and the
result is a posterior ensemble of parameter sets rather than one optimum.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator
from scipy import optimize
from scipy.stats import qmc

from sim import data
from sim.config import ScenarioError, parse_override, toml_value, validate, with_values
from sim.experiment import Experiment, ExperimentSpec, load_experiment
from sim.params import StrictModel
from sim.runner import atomic_file
from sim.sweep import STATUS_OK, check_indicator, point_summary, sweep

SHRINK = 0.5
"""Each round's box is this share of the previous one's width (per parameter)."""
METHODS = ("surrogate", "abc-smc")
"""`method` of a calibration file: the surrogate search here, or ABC-SMC (`sim.abc`)."""


class Target(StrictModel):
    """One calibration target: an indicator and the value it should reach."""

    figure: str | None = Field(None, description="Key of a figure in sim/data/published.toml.")
    value: float | None = Field(None, description="The value itself (instead of a figure).")
    weight: float = Field(1.0, gt=0, le=1e6, description="Weight of the squared relative error.")

    @model_validator(mode="after")
    def _one_source(self) -> Target:
        if (self.figure is None) == (self.value is None):
            raise ValueError("give either figure (a key of sim/data/published.toml) or value")
        if self.value is not None and self.value == 0:
            raise ValueError("value = 0 cannot be a target of a relative error")
        return self


class CalibrationSpec(ExperimentSpec):
    """A calibration file: an experiment (base, ranges, samples, replications) plus targets and rounds."""

    method: str = Field("surrogate", description=f"One of {', '.join(METHODS)}.")
    design: str = Field("latin_hypercube", description="Round 0's design: latin_hypercube.")
    rounds: int = Field(3, ge=1, le=20, description="Search rounds after round 0's design.")
    targets: dict[str, Target] = Field(default_factory=dict, description="Indicator → target.")
    population: int = Field(50, ge=4, le=100_000, description="abc-smc: particles per generation.")
    generations: int = Field(4, ge=1, le=100, description="abc-smc: generations (a rerun asking more continues).")
    minimum_epsilon: float = Field(
        0.0, ge=0, le=1e6, description="abc-smc: stop once the tolerance (root of the loss) is at or below this."
    )
    min_acceptance: float = Field(
        0.0, ge=0, le=1, description="abc-smc: stop after a generation that accepts fewer of its simulations."
    )
    evidence: str | None = Field(
        None,
        description="abc-smc: also fit the fit split of sim/data/evidence.toml (`sim.evidence`); the hold-out "
        "figures are never fitted.",
    )
    evidence_weight: float = Field(
        1.0, gt=0, le=1e6, description="abc-smc: weight of the evidence's mean squared standardized error."
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, v: str) -> str:
        if v not in METHODS:
            raise ValueError(f"allowed {', '.join(METHODS)}")
        return v

    @model_validator(mode="after")
    def _calibration(self) -> CalibrationSpec:
        if self.design != "latin_hypercube":
            raise ValueError("a calibration's design must be latin_hypercube")
        if not self.targets and (self.method != "abc-smc" or self.evidence is None):
            raise ValueError("no targets; add a [targets.<indicator>] table")
        if self.evidence not in (None, "fit"):
            raise ValueError(f"evidence = {self.evidence!r} is invalid: allowed fit (hold-out is never fitted)")
        if self.evidence is not None and self.method != "abc-smc":
            raise ValueError("evidence is a target source of method abc-smc only")
        for key, rng in self.parameters.items():
            if rng.values is not None:
                raise ValueError(f"parameter {key}: calibration needs a range low/high, not values")
        if self.method == "abc-smc":
            return self
        needed = _terms(len(self.parameters))
        if self.samples < needed + 2:
            raise ValueError(
                f"samples = {self.samples} is too few for {len(self.parameters)} parameter(s): allowed ≥ {needed + 2}"
            )
        return self


def _terms(k: int) -> int:
    """Coefficients of a full quadratic in k variables."""
    return (k + 1) * (k + 2) // 2


def _features(x: np.ndarray) -> np.ndarray:
    """Quadratic features of points in [0, 1]^k: 1, x_i, x_i x_j (i ≤ j)."""
    cols = [np.ones(len(x)), *x.T]
    cols += [x[:, i] * x[:, j] for i, j in itertools.combinations_with_replacement(range(x.shape[1]), 2)]
    return np.column_stack(cols)


def target_values(spec: CalibrationSpec) -> dict[str, float]:
    """Indicator → target value (published figures looked up in sim/data)."""
    out = {}
    for indicator, target in spec.targets.items():
        if target.figure is not None:
            try:
                value = data.figure(target.figure).value
            except KeyError as exc:
                raise ScenarioError(f"targets.{indicator}.figure: {exc.args[0]}") from None
            if not isinstance(value, int | float):
                raise ScenarioError(f"targets.{indicator}.figure = {target.figure!r}: not a single number")
            out[indicator] = float(value)
        else:
            assert target.value is not None
            out[indicator] = float(target.value)
    return out


class Calibration:
    """A checked calibration: the experiment, its targets, and the search.

    Attributes:
        experiment: Base scenario, parameter ranges, samples, replications, seeds.
        spec: The calibration file's contents.
        targets: Indicator → target value.
        weights: Indicator → weight.
    """

    def __init__(self, experiment: Experiment, path: Path) -> None:
        self.experiment = experiment
        self.path = path
        self.spec: CalibrationSpec = experiment.spec  # type: ignore[assignment]
        self.targets = target_values(self.spec)
        self.weights = {k: t.weight for k, t in self.spec.targets.items()}
        years = experiment.scenario(0).run.years
        for indicator in self.targets:
            check_indicator(indicator, years, flag=f"{path}: targets.{indicator}:")
        self.keys = experiment.parameters
        self.low = np.array([self.spec.parameters[k].low for k in self.keys], dtype=float)
        self.high = np.array([self.spec.parameters[k].high for k in self.keys], dtype=float)

    @property
    def total_runs(self) -> int:
        """Runs of the whole search: round 0, later rounds (one more point each), and the optimum."""
        points = self.spec.samples * (self.spec.rounds + 1) + self.spec.rounds + 1
        return points * len(self.experiment.seeds)

    def loss(self, simulated: dict[str, np.ndarray]) -> np.ndarray:
        """Weighted sum of squared relative errors of simulated indicator arrays."""
        return sum(self.weights[k] * ((simulated[k] - v) / abs(v)) ** 2 for k, v in self.targets.items())  # type: ignore[return-value]

    def _round(self, index: int, points: np.ndarray) -> Experiment:
        frame = pd.DataFrame(points, columns=self.keys)
        for key in self.keys:
            if self.spec.parameters[key].integer:
                frame[key] = frame[key].round().astype(int)
        spec = self.spec.model_copy(update={"name": f"{self.experiment.name}-round-{index}", "set": []})
        return Experiment(spec, self.experiment.source, self.experiment.base, points=frame)

    def run(
        self,
        out: str | Path,
        *,
        workers: int = 1,
        executor: Executor | None = None,
        progress: Callable[[str, int], Any] | None = None,
    ) -> CalibrationResult:
        """Run every round (resuming stored ones) and the check of the optimum.

        Args:
            out: Folder of the rounds' stores and the outputs.
            workers: Local processes when no executor is given.
            executor: Any `concurrent.futures.Executor` (e.g. a Dask client's).
            progress: Called as progress(stage, n) with the number of newly finished runs (see `total_runs`).

        Returns:
            The evaluated points, the optimum and its fit table.
        """
        out = Path(out)
        k = len(self.keys)
        low, high = self.low.copy(), self.high.copy()
        evaluated: list[pd.DataFrame] = []
        seed = 0 if self.spec.seed is None else self.spec.seed
        best = None
        for index in range(self.spec.rounds + 1):
            unit = qmc.LatinHypercube(d=k, seed=np.random.default_rng([seed, index])).random(self.spec.samples)
            points = low + unit * (high - low)
            if best is not None:
                points = np.vstack([best, points])
            table = self._evaluate(
                self._round(index, points),
                out / "rounds" / f"round-{index}",
                workers,
                executor,
                progress,
                f"round {index}/{self.spec.rounds}",
            )
            table.insert(0, "round", index)
            evaluated.append(table)
            inside = table[
                np.all(
                    (table[self.keys].to_numpy() >= low - 1e-12) & (table[self.keys].to_numpy() <= high + 1e-12), axis=1
                )
            ]
            best = self._surrogate_optimum(inside, low, high)
            width = (high - low) * SHRINK
            low = np.clip(best - width / 2, self.low, self.high - width)
            high = low + width
        assert best is not None
        final = self._evaluate(
            self._round(self.spec.rounds + 1, best[None, :]),
            out / "rounds" / "optimum",
            workers,
            executor,
            progress,
            "optimum",
        )
        return CalibrationResult(self, pd.concat(evaluated, ignore_index=True), final)

    def _evaluate(
        self,
        experiment: Experiment,
        folder: Path,
        workers: int,
        executor: Executor | None,
        progress: Callable[[str, int], Any] | None,
        stage: str,
    ) -> pd.DataFrame:
        """Run a batch of points; one row per point with the target indicators' means and the loss."""

        def tick(n: int) -> None:
            if progress is not None:
                progress(stage, n)

        runs = sweep(experiment, folder, workers=workers, executor=executor, progress=tick)
        failed = runs[runs.status != STATUS_OK]
        if len(failed) == len(runs):
            raise ScenarioError(f"{self.path}: every run of {stage} failed; first error: {failed.error.iloc[0]}")
        table = point_summary(runs, experiment, list(self.targets))
        table["loss"] = self.loss({k: table[k].to_numpy(dtype=float) for k in self.targets})
        return table

    def _surrogate_optimum(self, table: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Minimise the loss of quadratic surfaces fitted to each target over the box [low, high]."""
        table = table[np.isfinite(table["loss"])]
        span = self.high - self.low
        x = (table[self.keys].to_numpy(dtype=float) - self.low) / span
        design = _features(x)
        coefs = {k: np.linalg.lstsq(design, table[k].to_numpy(dtype=float), rcond=None)[0] for k in self.targets}

        def surrogate_loss(u: np.ndarray) -> float:
            f = _features(u[None, :])
            return float(self.loss({k: f @ c for k, c in coefs.items()})[0])

        bounds = list(zip((low - self.low) / span, (high - self.low) / span, strict=True))
        starts = x[np.argsort(table["loss"].to_numpy())[:5]]
        results = [
            optimize.minimize(surrogate_loss, np.clip(s, *np.array(bounds).T), bounds=bounds, method="L-BFGS-B")
            for s in starts
        ]
        found = min(results, key=lambda r: r.fun).x
        # Never worse than the best point actually run: the surface is only an approximation.
        observed = x[int(np.argmin(table["loss"].to_numpy()))]
        choice = found if surrogate_loss(found) <= surrogate_loss(observed) else observed
        return self.low + choice * span


class CalibrationResult:
    """What a calibration found.

    Attributes:
        calibration: The calibration.
        evaluated: Every point run in the search: round, point, parameters, target means, loss.
        optimum: The final point's row (parameters, target means with intervals, loss).
    """

    def __init__(self, calibration: Calibration, evaluated: pd.DataFrame, optimum: pd.DataFrame) -> None:
        self.calibration = calibration
        self.evaluated = evaluated
        self.optimum = optimum

    @property
    def fitted(self) -> dict[str, float | int]:
        """Fitted value of each parameter."""
        row = self.optimum.iloc[0]
        return {
            k: (int(row[k]) if self.calibration.spec.parameters[k].integer else float(row[k]))
            for k in self.calibration.keys
        }

    def fit_table(self) -> pd.DataFrame:
        """Target, figure, published, simulated (mean, lo, hi), error, relative error, weight."""
        c, row = self.calibration, self.optimum.iloc[0]
        rows = []
        for indicator, published in c.targets.items():
            spec = c.spec.targets[indicator]
            simulated = float(row[indicator])
            rows.append(
                {
                    "target": indicator,
                    "figure": spec.figure or "",
                    "published": published,
                    "simulated": simulated,
                    "simulated_lo": float(row[f"{indicator}_lo"]),
                    "simulated_hi": float(row[f"{indicator}_hi"]),
                    "error": simulated - published,
                    "relative_error": (simulated - published) / abs(published),
                    "weight": spec.weight,
                }
            )
        return pd.DataFrame(rows)

    def scenario_toml(self, folder: Path) -> str:
        """The fitted scenario: extends the base scenario file, with the base's `set` and the fitted values.

        Run settings (`run.*`) of the calibration's `set` are left out: they were chosen for the search.
        """
        c = self.calibration
        spec = c.spec
        lines = [
            f"# Fitted by `tiersim calibrate {c.path}`: {', '.join(f'{k} = {v:.6g}' for k, v in self.fitted.items())}.",
            f"# Loss (weighted squared relative error) {float(self.optimum['loss'].iloc[0]):.4g}; fit table: fit.csv.",
        ]
        if spec.scenario is not None:
            base = (c.path.parent / spec.scenario).resolve()
            lines.append(f'extends = "{Path(os.path.relpath(base, folder.resolve())).as_posix()}"')
        lines.append(f'name = "{c.experiment.name}-fitted"')
        values: dict[str, Any] = {}
        for text in spec.set:
            parts, value = parse_override(text)
            if parts[0] != "run":
                values[".".join(parts)] = value
        values.update(self.fitted)
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
        return "\n".join(lines) + "\n"

    def write(self, out: str | Path) -> Path:
        """Write fitted.toml, fit.csv and search.csv into `out`, beside the rounds' stores (each atomically)."""
        out = Path(out)
        for name, text in (
            ("fitted.toml", self.scenario_toml(out)),
            ("fit.csv", self.fit_table().to_csv(index=False)),
            ("search.csv", self.evaluated.to_csv(index=False)),
        ):
            with atomic_file(out / name) as tmp:
                tmp.write_text(text, "utf-8")
        return out


def load_calibration(path: str | Path, overrides: list[str] | None = None) -> Calibration:
    """Read and check a calibration file (schema, base scenario, ranges, targets) before any run."""
    path = Path(path)
    experiment = load_experiment(path, overrides, model=CalibrationSpec)
    calibration = Calibration(experiment, path)
    corners = np.array(list(itertools.product(*zip(calibration.low, calibration.high, strict=True))))
    for corner in corners[:1024]:  # every corner of the box, up to 10 parameters
        where = f"{path}: parameters at {dict(zip(calibration.keys, corner, strict=True))}"
        validate(with_values(experiment.base, dict(zip(calibration.keys, corner.tolist(), strict=True)), where), where)
    for key, low, high in zip(calibration.keys, calibration.low, calibration.high, strict=True):
        for end, value in (("low", low), ("high", high)):  # each end of each range, however many parameters
            where = f"{path}: parameters.{key}.{end}"
            validate(with_values(experiment.base, {key: float(value)}, where), where)
    return calibration
