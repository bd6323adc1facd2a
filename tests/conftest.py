"""Shared fixtures: small runs reused across tests (a run at scale 0.02 takes about a second a year).

With `TIERSIM_REQUIRE_ALL=1` (set by `.ci/run`) a test that would skip — no browser, no policy
seeds beside the repository, numba or a test tool missing — fails instead, so nothing is left
unchecked without anyone noticing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

import sim
from sim import accel
from sim.model import CareModel

REQUIRE_ALL = os.environ.get("TIERSIM_REQUIRE_ALL") == "1"

# Command-line tests start `python -m sim.cli` in other folders: they must run this checkout's code,
# not whichever copy of the package happens to be installed.
ROOT = Path(__file__).resolve().parents[1]
# Every call of a pinned kernel checks its arguments' types (`sim.accel.Pins`), here and in subprocesses.
os.environ["TIERSIM_CHECK_PINS"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Under `TIERSIM_REQUIRE_ALL=1`, a skipped test is reported as failed, with the reason it skipped."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where every test must run (TIERSIM_REQUIRE_ALL=1): {reason}"


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile (or load) every kernel once, before the first test: a tiny run with every lever on.

    Parallel test workers take turns (a lock beside the kernel cache), so one compiles and the
    others load what it cached, instead of each compiling the same kernels at once.
    """
    if not accel.numba_enabled():
        return
    import fcntl

    import numba

    folder = Path(numba.config.CACHE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    levers = ("reserved_beds", "start_line", "global_budget", "capitation", "per_diem", "drg", "family_doctor")
    overrides = ["run.scale=0.002", "run.years=1", *(f"levers.{name}.enabled=true" for name in levers)]
    overrides += [f"levers.{name}.start_year=0" for name in levers]
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        sim.run(sim.load_scenario(overrides=overrides))


SMALL = ["run.scale=0.02", "run.years=2"]


@pytest.fixture(scope="session")
def small_scenario() -> sim.Scenario:
    return sim.load_scenario(overrides=SMALL)


@pytest.fixture(scope="session")
def small_results(small_scenario: sim.Scenario) -> sim.Results:
    return sim.run(small_scenario)


@pytest.fixture(scope="session")
def plausibility_results() -> sim.Results:
    """A larger baseline for the plausibility checks against published figures (one tertiary hospital, 125k)."""
    return sim.run(sim.load_scenario(overrides=["run.scale=0.05", "run.years=2"]))


@pytest.fixture()
def small_model(small_scenario: sim.Scenario) -> CareModel:
    return CareModel(small_scenario)


def experiment(name: str) -> types.ModuleType:
    """The script experiments/<name>.py as a module (registered in `sys.modules`: its dataclasses look it up there)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def tiersim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would (`python -m sim.cli ...`), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def tiersim_here(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line run in this process, as `tiersim` would be from `cwd`: for bad-input checks,
    where starting a new interpreter is not the point (it costs two seconds a call)."""
    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    before, sigterm = Path.cwd(), signal.getsignal(signal.SIGTERM)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's own errors exit
                code = exc.code
    finally:
        os.chdir(before)
        signal.signal(signal.SIGTERM, sigterm)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
