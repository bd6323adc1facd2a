"""Sensitivity indices rank an influential parameter above an inert one; calibration recovers known values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

import sim
from sim.calibration import load_calibration
from sim.sweep import run_indicators

SMALL = '["run.scale=0.003", "run.years=1", "run.warmup_days=10"]'

# choice.tier_constant.tertiary moves patients between tiers; levers.capitation.rate only matters when
# capitation is on, and it is off here: an inert parameter whose true index is exactly zero.
SENSITIVITY = f"""
set = {SMALL}
design = "{{design}}"
samples = {{samples}}
seed = 3

[parameters."choice.tier_constant.tertiary"]
low = 0.0
high = 3.0

[parameters."levers.capitation.rate"]
low = 0
high = 300
"""


@pytest.mark.parametrize(
    ("design", "samples", "strong", "inert"), [("sobol", 8, "ST", "ST"), ("morris", 6, "mu_star", "mu_star")]
)
def test_sensitivity_ranks_the_influential_parameter_first(
    tmp_path: Path, design: str, samples: int, strong: str, inert: str
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(SENSITIVITY.format(design=design, samples=samples), encoding="utf-8")
    result = tiersim(
        "sensitivity", str(path), "--indicator", "primary_visit_share", "--out", "out", "--workers", "2", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv").set_index("parameter")
    assert table.loc["choice.tier_constant.tertiary", strong] > 0.5 * (1 if design == "sobol" else 0.01)
    # Common random numbers: the inert parameter changes nothing, so its effect is exactly zero.
    assert table.loc["levers.capitation.rate", inert] == pytest.approx(0.0, abs=1e-9)
    assert table.index[0] == "choice.tier_constant.tertiary"
    assert "fig-sensitivity-primary_visit_share" in (tmp_path / "out" / "sensitivity.html").read_text("utf-8")


def test_sensitivity_needs_a_sobol_or_morris_design_and_a_known_indicator(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(SENSITIVITY.format(design="latin_hypercube", samples=4), encoding="utf-8")
    wrong = tiersim_here("sensitivity", str(path), "--out", "out", cwd=tmp_path)
    assert wrong.returncode == 2 and "cannot give sensitivity indices; allowed: sobol, morris" in wrong.stderr
    path.write_text(SENSITIVITY.format(design="sobol", samples=4), encoding="utf-8")
    typo = tiersim_here("sensitivity", str(path), "--indicator", "primary_share", "--out", "out", cwd=tmp_path)
    assert typo.returncode == 2 and "did you mean primary_visit_share" in typo.stderr
    odd = tiersim_here("sensitivity", str(path.with_name("x.toml")), cwd=tmp_path)
    assert odd.returncode == 2
    path.write_text(SENSITIVITY.format(design="sobol", samples=6), encoding="utf-8")
    power = tiersim_here("sensitivity", str(path), "--out", "out", cwd=tmp_path)
    assert power.returncode == 2 and "allowed a power of 2" in power.stderr
    assert not (tmp_path / "out").exists()


TRUE = {"choice.tier_constant.tertiary": 1.6, "illness.acute_rate_adult": 5.3}  # the defaults


def test_calibration_recovers_the_parameters_the_data_were_simulated_with(tmp_path: Path) -> None:
    # "Observed" data: simulated with known values and a seed the calibration does not use.
    truth = sim.load_scenario(None, ["run.scale=0.004", "run.years=1", "run.warmup_days=30"])
    observed = run_indicators(truth, seed=101)
    path = tmp_path / "recover.toml"
    path.write_text(
        f"""
set = ["run.scale=0.004", "run.years=1", "run.warmup_days=30"]
samples = 10
rounds = 2
seed = 1

[parameters."choice.tier_constant.tertiary"]
low = 0.5
high = 2.5

[parameters."illness.acute_rate_adult"]
low = 4.0
high = 6.5

[targets.visits_per_capita]
value = {observed["visits_per_capita"]}

[targets.visit_share_tertiary]
value = {observed["visit_share_tertiary"]}
""",
        encoding="utf-8",
    )
    result = tiersim("calibrate", str(path), "--out", "out", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    fitted = sim.load_scenario(tmp_path / "out" / "fitted.toml")
    assert fitted.choice.tier_constant.tertiary == pytest.approx(TRUE["choice.tier_constant.tertiary"], abs=0.2)
    assert fitted.illness.acute_rate_adult == pytest.approx(TRUE["illness.acute_rate_adult"], abs=0.1)
    fit = pd.read_csv(tmp_path / "out" / "fit.csv")
    assert list(fit.target) == ["visits_per_capita", "visit_share_tertiary"]
    assert (fit.relative_error.abs() < 0.02).all()
    assert {"published", "simulated", "error"} <= set(fit.columns)


def test_calibration_file_errors_are_one_line(tmp_path: Path) -> None:
    base = """
samples = 10
[parameters."illness.acute_rate_adult"]
low = 4.0
high = 6.5
"""
    cases = {
        '[targets.visits_per_capita]\nfigure = "no_such_figure"\n': "no_such_figure",
        '[targets.visits_per_capita]\nvalue = 1\nfigure = "visits_per_capita"\n': "give either figure",
        "[targets.visits_per_cap]\nvalue = 5\n": "did you mean visits_per_capita",
        "": r"no targets; add a \[targets.<indicator>\] table",
    }
    for extra, message in cases.items():
        path = tmp_path / "cal.toml"
        path.write_text(base + extra, encoding="utf-8")
        with pytest.raises(sim.ScenarioError, match=message):
            load_calibration(path)
        result = tiersim_here("calibrate", str(path), "--out", "out", cwd=tmp_path)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
