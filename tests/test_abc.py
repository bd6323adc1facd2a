"""ABC-SMC calibration (`sim.abc`): its checks, a posterior that reads back, resuming, and a Dask cluster."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

from sim.abc import Distance, particle_seed, run_abc
from sim.calibration import load_calibration
from sim.executors import ExecutorChoice
from sim.posterior import load_posterior

pytest.importorskip("pyabc")

ROOT = Path(__file__).resolve().parents[1]

SPEC = f"""
name = "tiny_abc"
method = "abc-smc"
scenario = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"
set = ["run.scale=0.002", "run.years=1", "run.warmup_days=10"]
seed = 5
population = 4
generations = GENERATIONS

[parameters."choice.cost"]
low = -1.5
high = -0.5

[parameters."levers.family_doctor.management_effect"]
low = 0.0
high = 0.3

[targets.primary_visit_share]
value = 0.52
"""


def spec_file(folder: Path, generations: int, extra: str = "") -> Path:
    path = folder / "abc.toml"
    path.write_text(SPEC.replace("GENERATIONS", str(generations)) + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('method = "abc-smc"', 'method = "mcmc"'), "method = 'mcmc' is invalid: allowed surrogate, abc-smc"),
        (("high = -0.5", "high = 0.5"), "is invalid: input should be less than or equal to 0; allowed: ≥ -50 and ≤ 0"),
        (("population = 4", "population = 2"), "population = 2 is invalid"),
        (("value = 0.52", "value = 0"), "value = 0 cannot be a target"),
        (("population = 4", 'population = 4\nevidence = "fit"'), "evidence = 'fit' needs run.years ≥ 2"),
        (
            ("population = 4", 'population = 4\nevidence = "fitt"'),
            "evidence = 'fitt' is invalid: allowed fit (hold-out is never fitted)",
        ),
        (('method = "abc-smc"', 'evidence = "fit"'), "evidence is a target source of method abc-smc only"),
    ],
)
def test_bad_abc_file_is_one_line_and_exit_2(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = spec_file(tmp_path, 1)
    path.write_text(path.read_text("utf-8").replace(*change), encoding="utf-8")
    result = tiersim_here("calibrate", str(path), "--out", "out", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_distance_and_particle_seeds() -> None:
    distance = Distance((("a", 0.5, 1.0), ("b", 2.0, 4.0)))
    assert distance({"a": 0.55, "b": 2.0}, {}) == pytest.approx(0.1)
    assert distance({"a": 0.5, "b": 2.2}, {}) == pytest.approx(0.2)
    assert distance({"a": math.nan, "b": 2.0}, {}) == math.inf
    values = {"choice.cost": -1.0, "x": 0.25}
    assert particle_seed(1, values) == particle_seed(1, dict(reversed(values.items())))
    assert particle_seed(1, values) != particle_seed(1, {"choice.cost": -1.0, "x": 0.2500001})
    assert 1 <= particle_seed(1, values) < 1 + 2**31


def test_resume_continues_the_stored_generations(tmp_path: Path) -> None:
    first = tiersim_here("calibrate", str(spec_file(tmp_path, 1)), "--out", "out", "--workers", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    one = pd.read_csv(tmp_path / "out" / "generations.csv")
    assert len(one) == 1
    # Asking for two continues from the stored one (here on two local processes) instead of starting over.
    second = tiersim_here("calibrate", str(spec_file(tmp_path, 2)), "--out", "out", "--workers", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    two = pd.read_csv(tmp_path / "out" / "generations.csv")
    assert len(two) == 2
    pd.testing.assert_frame_equal(two.iloc[:1], one)
    assert two.epsilon[1] < two.epsilon[0]  # each generation sets its tolerance from the one before
    posterior = load_posterior(tmp_path / "out" / "posterior.csv")
    assert posterior.keys == ["choice.cost", "levers.family_doctor.management_effect"] and len(posterior) == 4
    assert posterior.provenance["generations"].startswith("2; stopped: 2 generations done")
    assert ((posterior.values[:, 0] >= -1.5) & (posterior.values[:, 0] <= -0.5)).all()
    # Done: run again, it runs nothing and writes the same posterior.
    again = tiersim_here("calibrate", str(spec_file(tmp_path, 2)), "--out", "out", cwd=tmp_path)
    assert again.returncode == 0
    np.testing.assert_array_equal(load_posterior(tmp_path / "out" / "posterior.csv").values, posterior.values)
    # Another calibration's history is never continued.
    other = spec_file(tmp_path, 2).read_text("utf-8").replace("value = 0.52", "value = 0.6")
    (tmp_path / "other.toml").write_text(other, encoding="utf-8")
    refused = tiersim_here("calibrate", "other.toml", "--out", "out", cwd=tmp_path)
    assert refused.returncode == 2 and "holds another calibration" in refused.stderr


@pytest.mark.slow
def test_abc_runs_on_a_dask_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    calibration = load_calibration(spec_file(tmp_path, 1))
    result = run_abc(calibration, tmp_path / "out", ExecutorChoice(dask_local=2))
    assert len(result.generations) == 1 and len(result.particles) == 4
    assert result.generations.simulations[0] >= 4
    assert np.isclose(result.weights.sum(), 1.0)


@pytest.mark.slow
def test_abc_fits_the_evidence_split(tmp_path: Path) -> None:
    text = spec_file(tmp_path, 1).read_text("utf-8")
    text = text.replace('"run.years=1"', '"run.years=2"').replace("population = 4", 'population = 4\nevidence = "fit"')
    (tmp_path / "ev.toml").write_text(text.split("[targets")[0], encoding="utf-8")  # the evidence alone
    result = tiersim_here("calibrate", "ev.toml", "--out", "out", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    posterior = load_posterior(tmp_path / "out" / "posterior.csv")
    assert len(posterior) == 4 and "evidence split: fit of sim/data/evidence.toml" in posterior.provenance["targets"]
    generations = pd.read_csv(tmp_path / "out" / "generations.csv")
    assert len(generations) == 1 and np.isfinite(generations.epsilon[0])


def _stored_generations(out: Path) -> int:
    """Complete generations in a calibration's history (0 before the first)."""
    import pyabc

    if not (out / "abc.db").exists():
        return 0
    try:
        return pyabc.History(f"sqlite:///{out / 'abc.db'}").max_t + 1
    except Exception:  # the history is being created
        return 0


@pytest.mark.slow
def test_killed_calibration_resumes_to_the_uninterrupted_posterior(tmp_path: Path) -> None:
    path = spec_file(tmp_path, 3)
    reference = tiersim("calibrate", str(path), "--out", "reference", "--workers", "1", "--quiet", cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sim.cli", "calibrate", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and _stored_generations(out) < 1:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # mid-way through generation 1
    process.wait()
    assert _stored_generations(out) == 1 and not (out / "posterior.csv").exists()

    done = tiersim("calibrate", str(path), "--out", str(out), "--workers", "1", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # In one process a calibration repeats exactly, so the resumed one is the uninterrupted one.
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "generations.csv").drop(columns="seconds"),
        pd.read_csv(tmp_path / "reference" / "generations.csv").drop(columns="seconds"),
    )
    resumed, uninterrupted = (
        load_posterior(out / "posterior.csv"),
        load_posterior(tmp_path / "reference" / "posterior.csv"),
    )
    np.testing.assert_array_equal(resumed.values, uninterrupted.values)
    np.testing.assert_array_equal(resumed.weights, uninterrupted.weights)
