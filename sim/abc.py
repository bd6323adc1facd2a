"""Calibration with uncertainty: ABC-SMC (pyabc) over a calibration file's ranges, a posterior ensemble.

A calibration file with ``method = "abc-smc"`` (e.g. ``experiments/calibrate_evidence.toml``) is fitted by
approximate Bayesian computation with sequential Monte Carlo (Toni et al. 2009, J. R. Soc.
Interface 6:187–202; the implementation of pyabc, Schälte et al. 2022, J. Open Source Softw. 7:4304):

- priors: independent uniforms on the file's parameter ranges (`parameters.<key>.low/high`), each
  inside the range the parameter declares (checked before any run);
- simulation: the base scenario with a particle's values (`sim.posterior.apply` sets them), run
  ``replications`` times; each particle's seeds are drawn from `sim.rng`, keyed by its values;
- distance: the root of the calibration loss, the weighted sum of squared relative errors of the
  targets (`sim.calibration.Calibration.loss`), plus, with ``evidence = "fit"``, ``evidence_weight``
  times the mean squared standardized error of that split of the evidence table
  (`sim.evidence.run_evidence` at the calibration's scale and years, the particle's values set in
  every reform design and the counterfactual, ``replications`` ≥ 2 paired runs); a failed run's
  particle is at distance ∞;
- tolerance: pyabc's default, the weighted median of the previous generation's distances;
- stop: after ``generations`` in all, or once the tolerance reaches ``minimum_epsilon`` or a
  generation accepts fewer than ``min_acceptance`` of its simulations.

The runs execute in this process, on local processes (pyabc's `MulticoreEvalParallelSampler`) or
on a Dask cluster (`DaskDistributedSampler`), as `--workers`, `--dask-local` or `--scheduler` say.
pyabc keeps every generation in a SQLite history in the output folder (``abc.db``), committed when
the generation is complete; the same command run again, after a kill or with more ``generations``,
loads it and continues from the last complete generation. Every generation is one `ABCSMC.run`
of a new `ABCSMC` that loads the history, so an uninterrupted calibration and a resumed one take
the same path. pyabc draws its own
proposals from numpy's global generator, seeded here per generation from `sim.rng`, so a
calibration in one process repeats exactly; with parallel samplers which particles are accepted
first depends on timing.

The result, the last generation's particles and weights, is written as a posterior file
(`sim.posterior`: ``posterior.csv`` with its provenance), with ``generations.csv`` (tolerance,
simulations and acceptance of each generation) and ``summary.csv`` (each parameter's prior range
and posterior mean, standard deviation and 5/50/95% quantiles), each atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import rng
from sim.calibration import Calibration
from sim.config import Scenario, ScenarioError, validate, with_values
from sim.executors import ExecutorChoice, dask_client
from sim.posterior import overrides, to_text
from sim.provenance import code_version
from sim.runner import atomic_file
from sim.sweep import run_indicators

DATABASE = "abc.db"
"""pyabc's SQLite history in the output folder."""
FINGERPRINT = "abc.json"
"""What a resumed calibration must match: base, ranges, targets, population, seeds."""
PARTICLE_STREAM = "calibration.particle"
"""The `sim.rng` stream of a particle's seeds."""
PROPOSAL_STREAM = "calibration.proposals"
"""The `sim.rng` stream that seeds pyabc's proposals, generation by generation."""
EVIDENCE = "evidence"
"""The summary statistic of the evidence's mean squared standardized error."""
SEED_SPAN = 2**31
"""A particle's seed offset is below this (seeds stay within `run.seed`'s range)."""


def _pyabc() -> Any:
    """The pyabc module, imported only when an ABC-SMC calibration runs."""
    try:
        import pyabc
    except ImportError:
        raise ScenarioError(
            "pyabc is not installed: pip install 'tiersim[calibration]' to run method = \"abc-smc\""
        ) from None
    logging.getLogger("ABC").setLevel(logging.WARNING)  # its generation log would interleave with the progress bar
    return pyabc


def particle_seed(seed: int, values: dict[str, float]) -> int:
    """Seed of a particle's replication 0: `seed` plus an offset drawn from `sim.rng`, keyed by the values."""
    words = np.array([float(values[k]) for k in sorted(values)], dtype=np.float64).view(np.uint64)
    offset = int(rng.bits(seed, PARTICLE_STREAM, *(int(w) for w in words))) % SEED_SPAN
    return seed + offset


@dataclass(frozen=True)
class Simulator:
    """The model pyabc calls with a particle (picklable, for process pools and Dask workers).

    Attributes:
        base: Base scenario data (the calibration's `set` applied).
        keys: Calibrated keys, in file order.
        integer: Whether each key takes whole numbers.
        indicators: Target indicators.
        seed: Seed of the calibration; each particle's seeds derive from it and its values.
        replications: Runs per particle (their indicators are averaged).
        source: The calibration file, for messages.
        evidence: Split of the evidence table also fitted (None: the targets alone).
        scale: Share of the city the evidence's designs run at.
        years: Simulated years of the evidence's designs.
    """

    base: dict[str, Any]
    keys: tuple[str, ...]
    integer: tuple[bool, ...]
    indicators: tuple[str, ...]
    seed: int
    replications: int
    source: str
    evidence: str | None = None
    scale: float = 1.0
    years: int = 1

    def scenario(self, parameters: dict[str, float]) -> Scenario:
        """The base scenario with a particle's values."""
        values = {
            k: round(float(parameters[k])) if whole else float(parameters[k])
            for k, whole in zip(self.keys, self.integer, strict=True)
        }
        where = f"{self.source}: particle {values}"
        return validate(with_values(self.base, values, where), where)

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        """Mean target indicators over the particle's replications; NaN for a failed particle."""
        try:
            scenario = self.scenario(parameters)
            first = particle_seed(self.seed, {k: float(parameters[k]) for k in self.keys})
            runs = [run_indicators(scenario, first + r) for r in range(self.replications)]
            out = {k: float(np.mean([run[k] for run in runs])) for k in self.indicators}
            if self.evidence is not None:
                out[EVIDENCE] = self._evidence(parameters, first)
        except Exception:  # a particle whose run fails is rejected (distance ∞), the calibration goes on
            return {k: math.nan for k in (*self.indicators, EVIDENCE)}
        return out

    def _evidence(self, parameters: dict[str, float], seed: int) -> float:
        """Mean squared standardized error of the evidence split with the particle's values."""
        from sim.evidence import load_evidence, run_evidence

        values = {k: float(parameters[k]) for k in self.keys}
        result = run_evidence(
            load_evidence(),
            split=str(self.evidence),
            scale=self.scale,
            years=self.years,
            replications=max(2, self.replications),
            seed=seed,
            overrides=overrides(values),
        )
        return result.distance(self.evidence)


@dataclass(frozen=True)
class Distance:
    """Root of the calibration loss: weighted squared relative errors of the targets (∞ if any is missing)."""

    targets: tuple[tuple[str, float, float], ...]
    """(indicator, target value, weight)."""
    evidence_weight: float | None = None
    """Weight of the evidence's mean squared standardized error (None: no evidence)."""

    def __call__(self, simulated: dict[str, float], observed: dict[str, float]) -> float:
        """Distance of simulated from observed summary statistics (pyabc's distance signature)."""
        total = 0.0
        if self.evidence_weight is not None:
            error = float(simulated[EVIDENCE])
            if not math.isfinite(error):
                return math.inf
            total += self.evidence_weight * error
        for indicator, value, weight in self.targets:
            x = float(simulated[indicator])
            if not math.isfinite(x):
                return math.inf
            total += weight * ((x - value) / abs(value)) ** 2
        return math.sqrt(total)


def fingerprint(calibration: Calibration) -> dict[str, Any]:
    """What a stored calibration must match to be continued (not `generations`: asking more continues)."""
    spec = calibration.spec
    return {
        "base": calibration.experiment.base,
        "parameters": {
            k: [float(lo), float(hi)]
            for k, lo, hi in zip(calibration.keys, calibration.low, calibration.high, strict=True)
        },
        "targets": {k: [v, calibration.weights[k]] for k, v in calibration.targets.items()},
        "population": spec.population,
        "replications": spec.replications,
        "seed": _seed(calibration),
        "evidence": [spec.evidence, spec.evidence_weight] if spec.evidence is not None else None,
    }


def _seed(calibration: Calibration) -> int:
    spec = calibration.spec
    return calibration.experiment.seeds[0] if spec.seed is None else spec.seed


@dataclass
class AbcResult:
    """What an ABC-SMC calibration produced.

    Attributes:
        calibration: The calibration.
        particles: The last generation's particles, one row each, one column per key.
        weights: Their importance weights (summing to 1).
        generations: One row per generation: t, epsilon, simulations, particles, acceptance, seconds.
        stopped: Why it stopped (generations done, tolerance reached, acceptance too low).
        command: The command that ran it, for the provenance.
    """

    calibration: Calibration
    particles: pd.DataFrame
    weights: np.ndarray
    generations: pd.DataFrame
    stopped: str
    command: str
    prior_sample: tuple[int, float] = (0, 0.0)
    """Simulations and seconds of pyabc's sample of the prior (before generation 0)."""

    def summary(self) -> pd.DataFrame:
        """Each parameter's prior range and posterior mean, standard deviation and 5/50/95% quantiles."""
        c, w = self.calibration, self.weights
        rows = []
        for key, low, high in zip(c.keys, c.low, c.high, strict=True):
            x = self.particles[key].to_numpy(dtype=float)
            mean = float(np.sum(w * x))
            order = np.argsort(x)
            cumulative = np.cumsum(w[order]) - 0.5 * w[order]  # mid-point rule for weighted quantiles
            q = np.interp([0.05, 0.5, 0.95], cumulative, x[order])
            rows.append(
                {
                    "parameter": key,
                    "prior_low": float(low),
                    "prior_high": float(high),
                    "mean": mean,
                    "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                    "q05": float(q[0]),
                    "median": float(q[1]),
                    "q95": float(q[2]),
                }
            )
        return pd.DataFrame(rows)

    def provenance(self) -> dict[str, str]:
        """The posterior file's comment lines: how, from what and when it was made."""
        c, spec = self.calibration, self.calibration.spec
        run = c.experiment.scenario(0).run
        g = self.generations
        targets = ", ".join(
            f"{k} = {v:g}" + (f" (figure {spec.targets[k].figure})" if spec.targets[k].figure else "")
            for k, v in c.targets.items()
        )
        evidence = (
            f"{spec.evidence} of sim/data/evidence.toml (weight {spec.evidence_weight:g})"
            if spec.evidence is not None
            else "none (published figures of sim/data/published.toml)"
        )
        return {
            "tiersim posterior": f"ABC-SMC calibration ({spec.name or c.experiment.name})",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": self.command,
            "code version": code_version(),
            "method": (
                f"pyabc {metadata.version('pyabc')} ABC-SMC; uniform priors on the calibration file's ranges; "
                "distance = root of the weighted sum of squared relative errors of the targets"
                f"{' plus the weighted evidence error' if spec.evidence is not None else ''}; "
                "tolerance = weighted median of the previous generation's distances"
            ),
            "targets": f"{targets or 'none'}; evidence split: {evidence}",
            "scale": f"{run.scale:g} of the city, {run.years} simulated year(s), {spec.replications} run(s) a particle",
            "population": f"{spec.population} particles a generation",
            "generations": f"{len(g)}; stopped: {self.stopped}",
            "effective sample size": f"{1 / float(np.sum(self.weights**2)):.1f} of {len(self.weights)} (1 / Σ weight²)",
            "epsilon": ", ".join(f"{e:.4g}" for e in g.epsilon),
            "acceptance": ", ".join(f"{a:.3f}" for a in g.acceptance),
            "simulations": (
                f"{int(g.simulations.sum()) + self.prior_sample[0]} ({self.prior_sample[0]} from the prior for the "
                f"first tolerance, then {', '.join(str(int(s)) for s in g.simulations)})"
            ),
            "compute": (
                f"{g.seconds.sum() + self.prior_sample[1]:.0f} s of wall time "
                f"({', '.join(f'{x:.0f}' for x in g.seconds)} s a generation)"
            ),
            "calibration file": c.path.as_posix(),
        }

    def posterior_text(self) -> str:
        """The posterior file (`sim.posterior` format)."""
        keys = self.calibration.keys
        return to_text(keys, self.particles[keys].to_numpy(dtype=float), self.weights, self.provenance())

    def write(self, out: str | Path) -> Path:
        """Write posterior.csv, generations.csv and summary.csv into `out` (each atomically)."""
        out = Path(out)
        for name, text in (
            ("posterior.csv", self.posterior_text()),
            ("generations.csv", self.generations.to_csv(index=False)),
            ("summary.csv", self.summary().to_csv(index=False)),
        ):
            with atomic_file(out / name) as tmp:
                tmp.write_text(text, "utf-8")
        return out


def _sampler(pyabc: Any, choice: ExecutorChoice, client: Any) -> Any:
    """The pyabc sampler for where runs execute: a Dask client, local processes, or this process."""
    if client is not None:
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
    workers = choice.workers or os.cpu_count() or 1
    if workers > 1:
        return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)
    return pyabc.sampler.SingleCoreSampler()


def _populations(history: Any) -> pd.DataFrame:
    """One row per stored population: t, epsilon, simulations, particles, acceptance, seconds.

    t = −1 is pyabc's sample of the prior that the first tolerance comes from; generations start at 0.
    """
    table = history.get_all_populations()
    return pd.DataFrame(
        {
            "t": table.t.astype(int).to_numpy(),
            "epsilon": table.epsilon.astype(float).to_numpy(),
            "simulations": table.samples.astype(int).to_numpy(),
            "particles": table.particles.astype(int).to_numpy(),
            "acceptance": (table.particles / table.samples.clip(lower=1)).astype(float).to_numpy(),
            "seconds": pd.to_numeric(table.wall_time, errors="coerce").astype(float).to_numpy(),
        }
    )


def _generations(history: Any) -> pd.DataFrame:
    """The stored generations (t ≥ 0) of `_populations`."""
    table = _populations(history)
    return table[table.t >= 0].reset_index(drop=True)


def _stop_reason(calibration: Calibration, generations: pd.DataFrame) -> str | None:
    """Why the calibration is complete, or None while it should go on."""
    spec = calibration.spec
    if len(generations) >= spec.generations:
        return f"{spec.generations} generations done"
    if len(generations):
        last = generations.iloc[-1]
        if last.epsilon <= spec.minimum_epsilon:
            return f"tolerance {last.epsilon:.4g} at or below minimum_epsilon = {spec.minimum_epsilon:g}"
        if last.acceptance < spec.min_acceptance:
            return f"acceptance {last.acceptance:.3f} below min_acceptance = {spec.min_acceptance:g}"
    return None


def _check_store(out: Path, content: dict[str, Any]) -> bool:
    """Whether `out` holds this calibration's history (True), nothing yet (False); else a `ScenarioError`."""
    stamp, database = out / FINGERPRINT, out / DATABASE
    if not stamp.exists():
        if database.exists():
            raise ScenarioError(f"{out}: holds {DATABASE} of an unknown calibration; use another --out")
        return False
    try:
        stored = json.loads(stamp.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ScenarioError(f"{out}/{FINGERPRINT}: unreadable; use another --out") from None
    if stored != json.loads(json.dumps(content, default=str)):
        raise ScenarioError(
            f"{out}: holds another calibration (base, ranges, targets, population or seed differ); use another --out"
        )
    return database.exists()


def check_evidence(calibration: Calibration) -> None:
    """Check an evidence target before any run: the table, its split, the settings, every design at each prior end.

    Raises:
        ScenarioError: One line naming the file and the field.
    """
    from sim.evidence import evidence_scenarios, load_evidence

    spec, run = calibration.spec, calibration.experiment.scenario(0).run
    where = f"{calibration.path}: evidence = {spec.evidence!r}"
    if run.years < 2:
        raise ScenarioError(f"{where} needs run.years ≥ 2 (reforms start in year 1); here {run.years}")
    evidence = load_evidence()
    figures = evidence.select(str(spec.evidence))
    for end in (calibration.low, calibration.high):
        evidence_scenarios(evidence, figures, overrides(dict(zip(calibration.keys, map(float, end), strict=True))))


def run_abc(
    calibration: Calibration,
    out: str | Path,
    choice: ExecutorChoice,
    *,
    command: str = "",
    progress: Callable[[int, pd.DataFrame], Any] | None = None,
) -> AbcResult:
    """Run, or continue, an ABC-SMC calibration and return its posterior ensemble.

    Args:
        calibration: A checked calibration file with method = "abc-smc" (`load_calibration`).
        out: Output folder: pyabc's history, the fingerprint, and later the result files.
        choice: Where runs execute (this process, local processes, a Dask cluster).
        command: The command line, recorded in the posterior's provenance.
        progress: Called after every generation with its number (from 1) and the generations so far.

    Raises:
        ScenarioError: If `out` holds another calibration, or pyabc or Dask are missing.
    """
    pyabc = _pyabc()
    spec, seed, run = calibration.spec, _seed(calibration), calibration.experiment.scenario(0).run
    if spec.evidence is not None:
        check_evidence(calibration)
    out = Path(out)
    content = fingerprint(calibration)
    resume = _check_store(out, content)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(out / FINGERPRINT) as tmp:
        tmp.write_text(json.dumps(content, indent=2, default=str, ensure_ascii=False), "utf-8")
    simulator = Simulator(
        base=calibration.experiment.base,
        keys=tuple(calibration.keys),
        integer=tuple(spec.parameters[k].integer for k in calibration.keys),
        indicators=tuple(calibration.targets),
        seed=seed,
        replications=spec.replications,
        source=str(calibration.path),
        evidence=spec.evidence,
        scale=run.scale,
        years=run.years,
    )
    distance = Distance(
        tuple((k, v, calibration.weights[k]) for k, v in calibration.targets.items()),
        spec.evidence_weight if spec.evidence is not None else None,
    )
    prior = pyabc.Distribution(
        **{
            k: pyabc.RV("uniform", float(lo), float(hi - lo))
            for k, lo, hi in zip(calibration.keys, calibration.low, calibration.high, strict=True)
        }
    )
    database = f"sqlite:///{(out / DATABASE).resolve()}"
    uses_dask = choice.scheduler is not None or choice.dask_local is not None
    with dask_client(choice) if uses_dask else nullcontext() as client:

        def smc() -> Any:
            # A new ABCSMC for every generation: pyabc caches the population it sets the tolerance
            # from, so a second `run` of one object would keep the first generation's tolerance.
            sampler = _sampler(pyabc, choice, client)
            return pyabc.ABCSMC(simulator, prior, distance, population_size=spec.population, sampler=sampler)

        history = smc().load(database, 1) if resume else smc().new(database, dict(calibration.targets))
        generations = _generations(history)
        if progress is not None and len(generations):
            progress(len(generations), generations)  # those a resumed calibration finds stored
        while (stopped := _stop_reason(calibration, generations)) is None:
            t = len(generations)
            abc = smc()
            abc.load(database, 1)
            np.random.seed(int(rng.stream_key(seed, f"{PROPOSAL_STREAM}.{t}")) % 2**32)
            history = abc.run(max_nr_populations=1)
            generations = _generations(history)
            if len(generations) == t:  # pyabc stopped without a generation (e.g. the sampler gave up)
                raise ScenarioError(f"{calibration.path}: ABC-SMC generation {t + 1} did not complete")
            if progress is not None:
                progress(len(generations), generations)
        particles, weights = history.get_distribution(m=0, t=history.max_t)
        first = _populations(history).query("t == -1")
    particles = particles.reset_index(drop=True)
    sample = (int(first.simulations.sum()), float(first.seconds.fillna(0).sum()))
    return AbcResult(calibration, particles, np.asarray(weights, dtype=float), generations, stopped, command, sample)
