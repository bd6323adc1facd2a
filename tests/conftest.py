"""Shared fixtures: small runs reused across tests (a run at scale 0.02 takes about a second a year)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.model import CareModel

SMALL = ["run.scale=0.02", "run.years=2"]


@pytest.fixture(scope="session")
def small_scenario() -> sim.Scenario:
    return sim.load_scenario(overrides=SMALL)


@pytest.fixture(scope="session")
def small_results(small_scenario: sim.Scenario) -> sim.Results:
    return sim.run(small_scenario)


@pytest.fixture(scope="session")
def plausibility_results() -> sim.Results:
    """A larger baseline for the plausibility checks against DOMAIN.md (one tertiary hospital, 125k residents)."""
    return sim.run(sim.load_scenario(overrides=["run.scale=0.05", "run.years=2"]))


@pytest.fixture()
def small_model(small_scenario: sim.Scenario) -> CareModel:
    return CareModel(small_scenario)


def tiersim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would (`python -m sim.cli ...`), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
