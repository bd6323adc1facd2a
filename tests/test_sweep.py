"""Sweeps: one row per run, common random numbers, resuming after a real kill, Dask = local, errors."""

from __future__ import annotations

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

import sim
import sim.sweep
from sim.executors import ExecutorChoice, open_executor
from sim.experiment import load_experiment
from sim.store import RunStore
from sim.sweep import STATUS_FAILED, STATUS_OK, sweep

TINY = (
    '["run.scale=0.003", "run.years=1", "run.warmup_days=10", "levers.start_line.enabled=true", '
    '"levers.start_line.start_year=0"]'
)


def experiment_file(folder: Path, body: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(f"set = {TINY}\n{body}", encoding="utf-8")
    return path


GRID = """
design = "factorial"
replications = 2
seed = 7

[parameters."choice.tier_constant.tertiary"]
values = [-0.5, 0.5, 1.5]

[parameters."levers.start_line.resident.inpatient_start_line.tertiary"]
low = 1000
high = 3000
steps = 2
"""


def grid_with(tertiary_values: str) -> str:
    """`GRID` with other values of the tertiary constant (a TOML list)."""
    return GRID.replace("[-0.5, 0.5, 1.5]", tertiary_values)


def test_sweep_stores_one_row_per_run_with_common_random_numbers(tmp_path: Path) -> None:
    experiment = load_experiment(experiment_file(tmp_path, GRID))
    runs = sweep(experiment, tmp_path / "out")
    assert len(runs) == experiment.runs == 12
    assert runs.run_id.tolist() == list(range(12))
    assert (runs.status == STATUS_OK).all()
    assert runs.seed.tolist() == [7, 8] * 6
    # Each run carries its point's values (factorial order: the first parameter varies slowest).
    expected = experiment.points.iloc[runs.point].reset_index(drop=True)
    pd.testing.assert_frame_equal(runs[experiment.parameters], expected, check_dtype=False)
    assert runs["levers.start_line.resident.inpatient_start_line.tertiary"].tolist()[:4] == [1000, 1000, 3000, 3000]
    # Same seed → same residents and illnesses at every point; different seeds → different illnesses.
    per_seed = runs.groupby("seed").episodes.nunique()
    assert (per_seed == 1).all()
    assert runs[runs.seed == 7].episodes.iloc[0] != runs[runs.seed == 8].episodes.iloc[0]
    # The tertiary constant moves patients to tertiary care, monotonically.
    means = runs.groupby("choice.tier_constant.tertiary").visit_share_tertiary.mean()
    assert means.is_monotonic_increasing and means.iloc[-1] > means.iloc[0] + 0.01
    # Stored means of yearly values: one simulated year, so mean = final value.
    np.testing.assert_array_equal(runs.primary_visit_share, runs.primary_visit_share_mean)
    assert (tmp_path / "out" / "runs.parquet").is_file() and not (tmp_path / "out" / "runs").exists()


def test_sweep_run_again_runs_nothing_and_changes_nothing(tmp_path: Path) -> None:
    experiment = load_experiment(experiment_file(tmp_path, grid_with("[1.0]")))
    first = sweep(experiment, tmp_path / "out")
    seen: list[int] = []
    again = sweep(experiment, tmp_path / "out", progress=seen.append)
    assert seen == [experiment.runs]  # all already stored: reported at once, none run
    pd.testing.assert_frame_equal(first, again)
    assert len(RunStore(tmp_path / "out").timings()) == experiment.runs


def test_killed_sweep_resumes_to_the_uninterrupted_store(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, GRID)
    experiment = load_experiment(path)
    reference = sweep(experiment, tmp_path / "reference")

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "runs").glob("run-*.parquet"))) < 3:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its worker processes, mid-run
    process.wait()
    stored = RunStore(out).done()
    assert 3 <= len(stored) < experiment.runs, "the sweep must be interrupted part-way"
    assert not (out / "runs.parquet").exists()

    done = tiersim("sweep", str(path), "--out", str(out), "--workers", "2", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    resumed = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
    # Runs finished before the kill were not run again.
    timings = RunStore(out).timings()
    assert sorted(timings.run_id) == list(range(experiment.runs))


def test_dask_local_cluster_gives_the_local_processes_results(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    experiment = load_experiment(experiment_file(tmp_path, GRID.replace("replications = 2", "replications = 1")))
    with open_executor(ExecutorChoice(workers=2)) as pool:
        local = sweep(experiment, tmp_path / "local", executor=pool)
    with open_executor(ExecutorChoice(dask_local=2)) as dask:
        assert type(dask).__module__.startswith("distributed")
        clustered = sweep(experiment, tmp_path / "dask", executor=dask)
    pd.testing.assert_frame_equal(clustered, local, check_exact=True)


def test_a_failing_run_is_stored_with_its_error_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = sim.sweep.run

    def run_failing_at_one_point(scenario, seed, **options):
        if scenario.choice.tier_constant.tertiary == 1.5 and seed == 8:
            raise FloatingPointError("injected failure")
        return real_run(scenario, seed=seed, **options)

    monkeypatch.setattr(sim.sweep, "run", run_failing_at_one_point)
    experiment = load_experiment(experiment_file(tmp_path, GRID))
    runs = sweep(experiment, tmp_path / "out")
    failed = runs[runs.status == STATUS_FAILED]
    assert len(runs) == 12 and len(failed) == 2
    assert failed.error.str.contains("FloatingPointError: injected failure").all()
    assert failed.primary_visit_share.isna().all() and runs[runs.status == STATUS_OK].primary_visit_share.notna().all()
    monkeypatch.setattr(sim.sweep, "run", real_run)
    retried = sweep(experiment, tmp_path / "out", retry_failed=True)
    assert (retried.status == STATUS_OK).all() and len(retried) == 12


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GRID.replace('"choice.tier_constant.tertiary"', '"choice.tier_constant.tertairy"'), "unknown key"),
        (grid_with("[]"), "empty list of values"),
        (GRID.replace("low = 1000", "low = 3000"), "empty range"),
        (GRID.replace('design = "factorial"', 'design = "grid"'), "unknown design; allowed: factorial"),
        (grid_with("[0.5, 99]"), "allowed: ≥ -50 and ≤ 50"),
        (GRID.replace("steps = 2\n", ""), "needs steps"),
        (GRID + '\n[parameters."choice.cost"]\nvalues = [1.0]\n', "choice.cost = 1.0 is invalid"),
        (GRID.replace('design = "factorial"', 'design = "sobol"'), "needs a numeric range low/high"),
    ],
)
def test_bad_experiment_files_fail_before_any_run(tmp_path: Path, body: str, message: str) -> None:
    path = experiment_file(tmp_path, body)
    result = tiersim_here("sweep", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_executor_flags_and_unreachable_scheduler_fail_before_any_run(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, GRID)
    both = tiersim_here("sweep", str(path), "--workers", "2", "--dask-local", "2", "--out", "o", cwd=tmp_path)
    assert both.returncode == 2 and "--workers and --dask-local" in both.stderr
    zero = tiersim_here("sweep", str(path), "--workers", "0", "--out", "o", cwd=tmp_path)
    assert zero.returncode == 2 and "--workers = 0 is invalid: allowed ≥ 1" in zero.stderr
    started = time.monotonic()
    gone = tiersim_here("sweep", str(path), "--scheduler", "tcp://127.0.0.1:9", "--out", "o", cwd=tmp_path)
    assert gone.returncode == 2 and "cannot reach the Dask scheduler" in gone.stderr, gone.stderr
    assert len(gone.stderr.strip().splitlines()) == 1 and time.monotonic() - started < 60
    assert not (tmp_path / "o").exists()


def test_a_store_of_another_experiment_is_not_overwritten(tmp_path: Path) -> None:
    first = experiment_file(tmp_path, grid_with("[1.0]"), "a.toml")
    assert tiersim("sweep", str(first), "--out", "store", "--quiet", "--workers", "1", cwd=tmp_path).returncode == 0
    before = (tmp_path / "store" / "runs.parquet").read_bytes()
    other = experiment_file(tmp_path, grid_with("[2.0]"), "b.toml")
    result = tiersim_here("sweep", str(other), "--out", "store", cwd=tmp_path)
    assert result.returncode == 2 and "holds runs of a different experiment" in result.stderr
    assert (tmp_path / "store" / "runs.parquet").read_bytes() == before


def test_sweep_command_writes_store_summary_and_page(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    result = tiersim("sweep", str(path), "--out", "out", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "6 points × 1 replications = 6 runs (factorial) on 2 local processes" in result.stdout
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"experiment.json", "runs.parquet", "summary.csv", "sweep.html"}
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6 and (summary.runs == 1).all()
    page = (out / "sweep.html").read_text("utf-8")
    assert all(f'id="fig-{name}"' in page for name in ("primary_visit_share", "oop_share", "in_county_rate"))
    assert "<script src=" not in page  # plotly.js inlined: opens offline


def test_a_store_made_by_other_code_is_not_resumed(tmp_path: Path) -> None:
    experiment = load_experiment(experiment_file(tmp_path, grid_with("[1.0]")))
    sweep(experiment, tmp_path / "out")
    manifest = tmp_path / "out" / "experiment.json"
    manifest.write_text(manifest.read_text("utf-8").replace('"code_version": "', '"code_version": "older '), "utf-8")
    with pytest.raises(sim.ScenarioError, match="resuming would mix two models' results"):
        sweep(experiment, tmp_path / "out")


def test_year_on_year_indicators_need_two_years(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(
        f'set = {TINY}\ndesign = "sobol"\nsamples = 4\n[parameters."choice.cost"]\nlow = -2\nhigh = -0.5\n'
        '[parameters."choice.travel"]\nlow = -3\nhigh = -1\n',
        encoding="utf-8",
    )
    result = tiersim("sensitivity", str(path), "--indicator", "medical_revenue_growth_mean", "--out", "o", cwd=tmp_path)
    assert result.returncode == 2 and "allowed only with run.years ≥ 2 (here 1)" in result.stderr
    assert not (tmp_path / "o").exists()
