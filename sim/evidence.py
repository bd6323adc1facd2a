"""The evidence yardstick: published figures the model is held against, and its score on them.

`sim/data/evidence.toml` holds published figures with full citations: *levels* (national
statistics) and *effects* of reforms from evaluations with a counterfactual (difference-in-
differences, interrupted time series). A figure the model can reproduce carries a `model` mapping:

- `indicator`: an arithmetic expression over the model's indicators (`sim.metrics`), e.g.
  ``visits * (visit_share_secondary + visit_share_tertiary)`` for hospital outpatient visits;
- `measure`: how the expression becomes the published number —
  ``level`` (its value in the counterfactual, the embedded region's baseline),
  ``relative`` (reform ÷ counterfactual − 1), ``difference`` (reform − counterfactual) or
  ``trend_per_month`` (the change of the difference per month since the reform started, for
  interrupted-time-series slope changes);
- `scenario` (effects): the reform's design, a scenario file of `sim/data/evidence/`.

`run_evidence` runs every design needed against the counterfactual with common random numbers
(`sim.comparison.compare`), takes each measure replication by replication over the reform's years
and scores it: an effect is *consistent in direction* when its sign is the published one and
*within size* when it lies within a factor `EFFECT_FACTOR` of the published value (or its
interval overlaps the published interval); a level is within size when it lies within
`LEVEL_TOLERANCE` of the published value (or its interval overlaps). Every figure is tagged *fit* or
*hold-out* in the data file; the split was fixed before any fitting and must not move.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from sim import metrics
from sim.comparison import compare, mean_interval
from sim.config import Scenario, ScenarioError, load_scenario
from sim.params import StrictModel
from sim.runner import atomic_file

EFFECT_FACTOR = 2.0
"""An effect is within size when simulated ÷ published lies in [1/EFFECT_FACTOR, EFFECT_FACTOR]."""
LEVEL_TOLERANCE = 0.25
"""A level is within size when it lies within this share of the published value."""
ERROR_CAP = 5.0
"""Standardized errors are capped here (an effect a factor 2⁵ = 32 too small counts as that), so that
an indicator the model does not move at all weighs like a large miss, not an infinite one."""
SPLITS = ("fit", "holdout")
MEASURES = ("level", "relative", "difference", "trend_per_month")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION = re.compile(r"^[A-Za-z0-9_\s.+\-*/()]+$")


def _indicator_names() -> frozenset[str]:
    """Every indicator a comparison keeps (`sim.metrics.indicators` of any period, by name)."""
    row: defaultdict[str, float] = defaultdict(lambda: 1.0)
    return frozenset(metrics.indicators(row)) | {"medical_revenue_growth", "fund_balance"}


class ModelMapping(StrictModel):
    """How the model reproduces a figure: an expression of its indicators, a measure, a design."""

    indicator: str = Field(description="Arithmetic expression over the model's indicators.")
    measure: Literal["level", "relative", "difference", "trend_per_month"]
    scenario: str | None = Field(None, description="Reform design: a file stem of sim/data/evidence/ (effects).")

    @field_validator("indicator")
    @classmethod
    def _known_indicators(cls, value: str) -> str:
        if not _EXPRESSION.match(value):
            raise ValueError("use indicator names, numbers, + - * / and parentheses only")
        unknown = sorted(set(_NAME.findall(value)) - _indicator_names())
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not an indicator of the model (see `sim.metrics.DEFINITIONS`)")
        return value


class Figure(StrictModel):
    """One published figure with its citation, its place in the fit/hold-out split and its model mapping."""

    id: str
    kind: Literal["level", "effect"]
    indicator: str = Field(description="What the figure measures, in the model's terms where it has them.")
    value: float
    interval: tuple[float, float] | None = None
    interval_note: str = ""
    unit: str
    place: str
    period: str
    design: str
    reform: str
    effect_definition: str
    authors: str
    title: str
    venue: str
    year: int = Field(ge=1900, le=2100)
    doi: str
    url: str
    confidence: str
    split: Literal["fit", "holdout"]
    model: ModelMapping | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Figure:
        if self.interval is not None and not self.interval[0] <= self.interval[1]:
            raise ValueError(f"interval {list(self.interval)} must be [low, high] with low ≤ high")
        if self.model is None:
            return self
        if self.kind == "level" and (self.model.measure != "level" or self.model.scenario is not None):
            raise ValueError("a level's model mapping has measure = 'level' and no scenario")
        if self.kind == "effect" and (self.model.measure == "level" or self.model.scenario is None):
            raise ValueError("an effect's model mapping names a scenario and a measure other than 'level'")
        if self.kind == "effect" and self.value == 0:
            raise ValueError("an effect of 0 has no direction to score")
        return self


@dataclass(frozen=True)
class Evidence:
    """The evidence table: figures by id, and the reform designs their effects name.

    Attributes:
        figures: Every figure, by id, in file order.
        designs: Reform designs by name (file stem), as scenario files.
        source: Where the table was read from.
    """

    figures: dict[str, Figure]
    designs: dict[str, Path]
    source: str

    def select(self, split: str = "all") -> list[Figure]:
        """The figures of one split ('fit', 'holdout' or 'all') that the model maps."""
        return [f for f in self.figures.values() if f.model is not None and split in ("all", f.split)]

    def levels(self, indicator: str | None = None) -> list[Figure]:
        """Published levels (national series), optionally of one indicator."""
        return [f for f in self.figures.values() if f.kind == "level" and indicator in (None, f.indicator)]


def _designs_folder() -> Path:
    return Path(str(resources.files("sim.data") / "evidence"))


def load_evidence(path: str | Path | None = None, designs: str | Path | None = None) -> Evidence:
    """Read and check an evidence table.

    Args:
        path: The TOML file (default: the table shipped in `sim/data/evidence.toml`).
        designs: Folder of the reform designs its effects name (default: `sim/data/evidence/`).

    Returns:
        The table.

    Raises:
        ScenarioError: One line naming the file, the figure and the field that is wrong.
    """
    file = Path(path) if path is not None else Path(str(resources.files("sim.data") / "evidence.toml"))
    folder = Path(designs) if designs is not None else _designs_folder()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"evidence file {file}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"evidence file {file}: not valid TOML ({exc})") from None
    figures: dict[str, Figure] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict):
            raise ScenarioError(f"evidence file {file}: '{key}' must be a table of one figure")
        try:
            figures[key] = Figure(id=key, **entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or "figure"
            raise ScenarioError(f"evidence file {file}: [{key}] {field}: {error['msg']}") from None
    if not figures:
        raise ScenarioError(f"evidence file {file}: holds no figure")
    names = {f.model.scenario for f in figures.values() if f.model is not None and f.model.scenario}
    found = {name: folder / f"{name}.toml" for name in sorted(names)}
    for name, design in found.items():
        if not design.is_file():
            users = next(k for k, f in figures.items() if f.model is not None and f.model.scenario == name)
            raise ScenarioError(f"evidence file {file}: [{users}] model.scenario: no design '{name}.toml' in {folder}")
    return Evidence(figures=figures, designs=found, source=str(file))


def _start_year(scenario: Scenario) -> int:
    """The first simulated year a lever of the scenario acts in (the reform's start)."""
    starts = [lever.start_year for lever in scenario.levers.__dict__.values() if getattr(lever, "enabled", False)]
    if not starts:
        raise ScenarioError(f"evidence design '{scenario.name}': switches no lever on, so it has no effect to measure")
    return min(starts)


def _measure(figure: Figure, reform: pd.DataFrame | None, counterfactual: pd.DataFrame, start: int) -> np.ndarray:
    """The figure's simulated value in every replication (rows: replication × year of one scenario each)."""
    assert figure.model is not None
    expression = figure.model.indicator
    base = counterfactual.assign(value=counterfactual.eval(expression, engine="python")).pivot(
        index="replication", columns="year", values="value"
    )
    if figure.model.measure == "level":
        return base.mean(axis=1).to_numpy()
    assert reform is not None
    scen = reform.assign(value=reform.eval(expression, engine="python")).pivot(
        index="replication", columns="year", values="value"
    )
    scen, base = scen.align(base, join="inner")
    after = [y for y in base.columns if y >= start]
    if figure.model.measure == "relative":
        return (scen[after].mean(axis=1) / base[after].mean(axis=1) - 1.0).to_numpy()
    difference = scen - base
    if figure.model.measure == "difference":
        return difference[after].mean(axis=1).to_numpy()
    # trend_per_month: change of the difference from the year before the reform to the last year.
    last = max(after)
    return ((difference[last] - difference[start - 1]) / (12.0 * (last - start + 1))).to_numpy()


def _scored(figure: Figure, mean: float, lo: float, hi: float) -> tuple[bool | None, bool | None, float]:
    """(direction consistent, within size, standardized error) of one simulated figure."""
    if not np.isfinite(mean):
        return None, None, float("nan")
    published = figure.value
    overlap = figure.interval is not None and lo <= figure.interval[1] and hi >= figure.interval[0]
    half = 0.0 if figure.interval is None else (figure.interval[1] - figure.interval[0]) / 2
    if figure.kind == "level":
        scale = max(LEVEL_TOLERANCE * abs(published), half)
        error = float(np.clip((mean - published) / scale, -ERROR_CAP, ERROR_CAP))
        return None, bool(abs(mean - published) <= LEVEL_TOLERANCE * abs(published) or overlap), error
    direction = bool(np.sign(mean) == np.sign(published))
    ratio = mean / published
    within = bool((1 / EFFECT_FACTOR <= ratio <= EFFECT_FACTOR) or overlap)
    # The error is measured on the log of the ratio where the signs agree (a factor 2 is one unit).
    # An effect of the wrong sign, or none, is the largest miss: scored as less wrong than a small
    # effect of the right sign, it would reward a mechanism for leaving an indicator alone.
    error = np.log(ratio) / np.log(EFFECT_FACTOR) if ratio > 0 else -ERROR_CAP
    return direction, within, float(np.clip(error, -ERROR_CAP, ERROR_CAP))


@dataclass
class EvidenceResult:
    """The model held against the evidence table.

    Attributes:
        table: One row per figure the model maps: id, kind, reform, split, indicator, measure,
            unit, published, published_lo, published_hi, simulated, simulated_lo, simulated_hi,
            direction_ok, size_ok, error (standardized: 1 = at the tolerance).
        settings: How it was run (scale, years, replications, seed, overrides).
        failures: Runs that failed (scenario, replication, seed, error).
    """

    table: pd.DataFrame
    settings: dict[str, Any]
    failures: pd.DataFrame

    def score(self) -> pd.DataFrame:
        """Counts by split and kind: figures scored, consistent in direction, within size."""
        rows = []
        scored = self.table[self.table.size_ok.notna()]
        for split in (*SPLITS, "all"):
            part = scored if split == "all" else scored[scored.split == split]
            for kind in ("effect", "level"):
                sub = part[part.kind == kind]
                rows.append(
                    {
                        "split": split,
                        "kind": kind,
                        "scored": len(sub),
                        "direction_ok": int(sub.direction_ok.sum()) if kind == "effect" else None,
                        "size_ok": int(sub.size_ok.sum()),
                    }
                )
        return pd.DataFrame(rows)

    def distance(self, split: str | None = None) -> float:
        """Mean squared standardized error over the scored figures (of one split, or all); lower is closer."""
        rows = self.table if split is None else self.table[self.table.split == split]
        errors = rows.error.to_numpy(dtype=float)
        errors = errors[np.isfinite(errors)]
        return float(np.mean(errors**2)) if errors.size else float("nan")

    def headline(self) -> str:
        """One line per split: effects consistent in direction and within size, levels within size."""
        s = self.score()
        lines = []
        for split in SPLITS:
            e = s[(s.split == split) & (s.kind == "effect")].iloc[0]
            lv = s[(s.split == split) & (s.kind == "level")].iloc[0]
            lines.append(
                f"{split:<8} effects: direction {int(e.direction_ok)}/{e.scored}, size {e.size_ok}/{e.scored}; "
                f"levels: size {lv.size_ok}/{lv.scored}"
            )
        return "\n".join(lines)

    def write(self, out: Path) -> None:
        """Write evidence.csv, score.csv and settings.json into `out` (each atomically)."""
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("evidence.csv", self.table), ("score.csv", self.score())):
            with atomic_file(out / name) as tmp:
                frame.to_csv(tmp, index=False)
        with atomic_file(out / "settings.json") as tmp:
            tmp.write_text(json.dumps(self.settings, indent=2, ensure_ascii=False), encoding="utf-8")
        if len(self.failures):
            with atomic_file(out / "failures.csv") as tmp:
                self.failures.to_csv(tmp, index=False)


def evidence_scenarios(evidence: Evidence, figures: Sequence[Figure], overrides: Sequence[str] = ()) -> list[Scenario]:
    """The counterfactual (the embedded baseline) and every reform design the figures need, with `overrides`.

    Raises:
        ScenarioError: A design or an override is invalid (one line).
    """
    names = sorted({f.model.scenario for f in figures if f.model is not None and f.model.scenario})
    counterfactual = load_scenario(None, [*overrides, "name=counterfactual"])
    designs = [load_scenario(evidence.designs[name], list(overrides)) for name in names]
    for design in designs:
        _start_year(design)
    return [counterfactual, *designs]


def _check_settings(split: str, years: int, replications: int) -> None:
    """Fail before any run on a setting out of range (one-line `ScenarioError`)."""
    if split not in (*SPLITS, "all"):
        raise ScenarioError(f"--split = {split!r} is invalid: allowed fit, holdout or all")
    if years < 2:
        raise ScenarioError(f"--years = {years} is invalid: allowed ≥ 2 (reforms start in year 1)")
    if replications < 2:
        raise ScenarioError(f"--replications = {replications} is invalid: allowed ≥ 2 (intervals need two)")


def planned_runs(
    evidence: Evidence,
    *,
    split: str,
    scale: float,
    years: int,
    replications: int,
    seed: int,
    overrides: Sequence[str] = (),
) -> tuple[list[Figure], list[Scenario]]:
    """The figures a run of the evidence scores and the scenarios it runs, every setting checked.

    Returns:
        The mapped figures of `split`, and the counterfactual followed by the designs they need,
        each with `overrides` and the run settings.

    Raises:
        ScenarioError: A setting, a design or an override is invalid (one line), before any run.
    """
    _check_settings(split, years, replications)
    figures = evidence.select(split)
    settings = [*overrides, f"run.scale={scale!r}", f"run.years={years}", f"run.seed={seed}"]
    return figures, evidence_scenarios(evidence, figures, settings)


def run_evidence(
    evidence: Evidence,
    *,
    split: str = "all",
    scale: float = 0.1,
    years: int = 3,
    replications: int = 4,
    seed: int = 1,
    workers: int = 1,
    executor: Executor | None = None,
    overrides: Sequence[str] = (),
    progress: Callable[[int], Any] | None = None,
    parameter_draws: Sequence[dict[str, float]] | None = None,
    posterior: str = "",
) -> EvidenceResult:
    """Run every reform design against the counterfactual and hold the results against the table.

    Args:
        evidence: The table (`load_evidence`).
        split: Figures to score: 'fit', 'holdout' or 'all'.
        scale: Share of the embedded city simulated (0 < scale ≤ 1).
        years: Simulated years; reforms start in year 1, so ≥ 2.
        replications: Paired replications of every design and the counterfactual.
        seed: Seed of replication 0 (replication i uses seed + i in every design).
        workers: Local processes. Ignored when `executor` is given.
        executor: Any `concurrent.futures.Executor` (e.g. a Dask client's).
        overrides: `--set` style overrides applied to every design and the counterfactual (e.g.
            behavioural parameters under calibration).
        progress: Called with 1 after every finished run.
        parameter_draws: One posterior parameter set per replication (`sim.posterior.parameter_draws`):
            replication i of every design and the counterfactual takes set i, so the intervals
            hold parameter uncertainty as well as run noise.
        posterior: The posterior's name, for the settings.

    Returns:
        The scored table.

    Raises:
        ScenarioError: A setting is out of range or a design is invalid (one line), before any run.
    """
    figures, scenarios = planned_runs(
        evidence, split=split, scale=scale, years=years, replications=replications, seed=seed, overrides=overrides
    )
    comparison = compare(
        scenarios,
        replications=replications,
        seed=seed,
        workers=workers,
        executor=executor,
        progress=progress,
        parameter_draws=parameter_draws,
        posterior=posterior,
    )
    runs = comparison.runs
    counterfactual = runs[runs.scenario == "counterfactual"]
    starts = {s.name: _start_year(s) for s in scenarios[1:]}
    rows = []
    for figure in figures:
        assert figure.model is not None
        design = figure.model.scenario
        reform = runs[runs.scenario == design] if design else None
        values = _measure(figure, reform, counterfactual, starts.get(design or "", 1))
        mean, lo, hi = mean_interval(values)
        direction, within, error = _scored(figure, mean, lo, hi)
        published_lo, published_hi = figure.interval if figure.interval is not None else (np.nan, np.nan)
        rows.append(
            {
                "id": figure.id,
                "kind": figure.kind,
                "reform": figure.reform,
                "split": figure.split,
                "indicator": figure.model.indicator,
                "measure": figure.model.measure,
                "design": design or "counterfactual",
                "unit": figure.unit,
                "published": figure.value,
                "published_lo": published_lo,
                "published_hi": published_hi,
                "simulated": mean,
                "simulated_lo": lo,
                "simulated_hi": hi,
                "direction_ok": direction,
                "size_ok": within,
                "error": error,
                "citation": f"{figure.authors} ({figure.year}). {figure.title}. {figure.venue}",
                "place": figure.place,
                "period": figure.period,
            }
        )
    settings = {
        "evidence": evidence.source,
        "split": split,
        "scale": scale,
        "years": years,
        "replications": replications,
        "seed": seed,
        "overrides": list(overrides),
        "parameter_draws": f"{len(parameter_draws)} draws of {posterior}" if parameter_draws is not None else None,
        "effect_factor": EFFECT_FACTOR,
        "level_tolerance": LEVEL_TOLERANCE,
    }
    return EvidenceResult(table=pd.DataFrame(rows), settings=settings, failures=comparison.failures)
