"""The command line as a user meets it: run writes its files; bad input exits 2 with one line."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest
from conftest import tiersim, tiersim_here

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_run_writes_results(tmp_path):
    out = tmp_path / "res"
    p = tiersim(
        "run",
        str(ROOT / "scenarios" / "baseline.toml"),
        "--scale",
        "0.01",
        "--years",
        "2",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    for name in ("summary.json", "annual.csv", "daily.parquet", "report.html", "scenario.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "primary_visit_share",
        "medical_revenue_growth",
        "revenue_structure",
        "oop_share",
        "fund_balance",
        "bed_occupancy",
        "mean_wait_days",
        "in_county_rate",
        "signing_rate",
        "referrals_up",
        "referrals_down",
        "unmet_episodes",
        "cost_per_visit",
        "cost_per_admission",
        "mean_length_of_stay",
    ):
        assert key in summary, key
    assert len(summary["primary_visit_share"]) == 2
    assert "primary-care share of visits" in p.stdout
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".")], "temporary folders left behind"


def test_validate(tmp_path):
    p = tiersim("validate", str(ROOT / "scenarios" / "baseline.toml"), cwd=tmp_path)
    assert p.returncode == 0 and "valid" in p.stdout


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["run", "missing.toml"], "not found"),
        (["run", "--set", "run.scale=1.5"], "run.scale = 1.5"),
        (["run", "--set", "nope.x=1"], "unknown key 'nope'"),
        (["run", "--scale", "0"], "run.scale = 0.0"),
        (["run", "--years", "x"], "invalid int value"),
        (["run", "--set", "care.quality.tertiary=2"], "≤ 1"),
        (["run", "--set", "levers.bed_standard.standard.tertiary=-1"], "levers.bed_standard.standard.tertiary"),
        (["run", "--set", "levers.bed_standard.build_up_share=1.5"], "levers.bed_standard.build_up_share"),
        (["run", "--set", "levers.primary_beds_first.enabled=maybe"], "levers.primary_beds_first.enabled"),
        (["run", "--set", "levers.upgrade.min_beds=0"], "levers.upgrade.min_beds"),
        (["run", "--set", "levers.response.surplus_response=-1"], "levers.response.surplus_response"),
        (["run", "--set", "prices.drug_markup=2"], "prices.drug_markup"),
        (["validate", "bad.toml"], "malformed TOML"),
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path, args, expect):
    (tmp_path / "bad.toml").write_text("[run\n")
    out = tmp_path / "out"
    p = tiersim_here(*args, "--out", str(out), cwd=tmp_path) if args[0] == "run" else tiersim_here(*args, cwd=tmp_path)
    assert p.returncode == 2
    assert expect in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "results").exists()


def test_failed_run_leaves_previous_results_intact(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "summary.json").write_text('{"old": true}')
    p = tiersim_here("run", "--set", "run.years=0", "--out", str(out), cwd=tmp_path)
    assert p.returncode == 2
    assert json.loads((out / "summary.json").read_text()) == {"old": True}


def test_params_lists_everything(tmp_path):
    p = tiersim("params", "--markdown", cwd=tmp_path)
    assert p.returncode == 0
    assert "| `insurance.resident.inpatient_start_line.tertiary` | 1000 | yuan per admission |" in p.stdout


# ------------------------------------------------------------------------------ paths, checked first
EXPERIMENTS = ROOT / "experiments"
SCENARIOS = ROOT / "scenarios"
INPUTS = {
    "run": [str(SCENARIOS / "baseline.toml")],
    "compare": [str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "start_line_gap.toml")],
    "sweep": [str(EXPERIMENTS / "start_line_x_reserved_beds.toml"), "--workers", "1"],
    "sensitivity": [str(EXPERIMENTS / "sobol_primary_share.toml"), "--workers", "1"],
    "calibrate": [str(EXPERIMENTS / "calibrate_baseline.toml"), "--workers", "1"],
}
"""Each command that writes, with valid inputs from the repository (cheap to load, slow to run)."""
BAD_OUT = {
    "a file": ("earlier/summary.json", "exists and is not a folder"),
    "under a file": ("earlier/summary.json/new", "earlier/summary.json is a file"),
    "under /proc": ("/proc/tiersim-nowhere/new", "cannot write in /proc"),
    "the folder itself": (".", "names no folder of its own"),
}
"""Kinds of `--out` no command can write: (path, relative to the working folder; the reason given)."""


@pytest.fixture()
def nothing_runs(monkeypatch) -> list[str]:
    """Spies on what starts a simulation or serves the dashboard: a call fails the test."""
    import sim.calibration
    import sim.comparison
    import sim.presentation.app.server
    import sim.runner
    import sim.sweep

    started: list[str] = []

    def spy(name: str):
        def called(*args, **kwargs):
            started.append(name)
            raise AssertionError(f"{name} started before the bad path was refused")

        return called

    for module, name in (
        (sim.runner, "run"),
        (sim.comparison, "compare"),
        (sim.sweep, "sweep"),
        (sim.calibration, "sweep"),
        (sim.presentation.app.server, "serve"),
    ):
        monkeypatch.setattr(module, name, spy(f"{module.__name__}.{name}"))
    yield started
    assert started == []


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("tiersim: error: "), captured.err
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("kind", BAD_OUT)
@pytest.mark.parametrize("command", INPUTS)
def test_bad_out_is_refused_before_any_work(tmp_path, monkeypatch, capsys, nothing_runs, command, kind):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "summary.json").write_text('{"earlier": true}')
    (tmp_path / "earlier" / "annual.csv").write_text("year\n0\n")
    before, listing = _files(tmp_path), sorted(tmp_path.rglob("*"))
    out, reason = BAD_OUT[kind]
    assert main([command, *INPUTS[command], "--out", out]) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"tiersim: error: --out {out}: {reason}"), err
    assert err.rstrip().endswith("give a folder that can be written"), err
    assert _files(tmp_path) == before and sorted(tmp_path.rglob("*")) == listing


@pytest.mark.parametrize("kind", ["missing", "a folder", "not UTF-8"])
@pytest.mark.parametrize("command", [*INPUTS, "validate", "app"])
def test_bad_input_file_is_one_line(tmp_path, monkeypatch, capsys, nothing_runs, command, kind):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.toml").mkdir()
    (tmp_path / "latin1.toml").write_bytes('name = "séjour"\n'.encode("latin-1"))
    given = {"missing": "missing.toml", "a folder": "folder.toml", "not UTF-8": "latin1.toml"}[kind]
    reason = {"missing": "file not found", "a folder": "is a folder", "not UTF-8": "not UTF-8 text (byte 0xe9"}[kind]
    rest = INPUTS.get(command, [""])[1:]  # compare's second scenario, the research commands' --workers
    assert main([command, given, *rest]) == 2
    assert _one_error_line(capsys).startswith(f"tiersim: error: {given}: {reason}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.toml", "latin1.toml"]


@pytest.mark.parametrize("command", ["run", "compare"])
def test_results_never_replace_a_folder_of_other_files(tmp_path, monkeypatch, capsys, nothing_runs, command):
    """`run` and `compare` replace their folder whole: one that is not results of theirs is refused."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.md").write_text("mine")
    assert main([command, *INPUTS[command], "--out", "thesis"]) == 2
    assert "a folder of other files" in _one_error_line(capsys)
    assert _files(tmp_path / "thesis") == {"chapter1.md": b"mine"}


def test_bad_out_as_the_user_meets_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    p = tiersim("run", "--out", "notes.txt/run1", cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == "tiersim: error: --out notes.txt/run1: notes.txt is a file; give a folder that can be written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _main_with_disk_full_after(monkeypatch, module: object, name: str, argv: list[str]) -> int:
    """`main(argv)`, where files can no longer grow once `module.name` (spied, not replaced) returns.

    RLIMIT_FSIZE = 0 fails every write of a byte with EFBIG (Python ignores SIGXFSZ), as a full disk
    fails it with ENOSPC. The limit is lifted as soon as `main` returns: pytest's own output may be
    a file.
    """
    original = resource.getrlimit(resource.RLIMIT_FSIZE)
    real = getattr(module, name)

    def then_full(*args, **kwargs):
        value = real(*args, **kwargs)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, original[1]))
        return value

    monkeypatch.setattr(module, name, then_full)
    try:
        return main(argv)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, original)


def test_run_whose_write_fails_late_keeps_earlier_results(tmp_path, monkeypatch, capsys):
    import sim.runner

    monkeypatch.chdir(tmp_path)
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "summary.json").write_text('{"earlier": true}')
    before = _files(tmp_path)
    tiny = ["--scale", "0.003", "--years", "1", "--set", "run.warmup_days=10", "--no-report", "--quiet"]
    assert _main_with_disk_full_after(monkeypatch, sim.runner, "run", ["run", *tiny, "--out", "res"]) == 1
    err = _one_error_line(capsys)
    assert err.startswith("tiersim: error: cannot write res: File too large; no results written"), err
    assert _files(tmp_path) == before and [p.name for p in tmp_path.iterdir()] == ["res"]


def test_sweep_whose_write_fails_late_keeps_its_store(tmp_path, monkeypatch, capsys):
    import sim.sweep

    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.toml").write_text(
        'set = ["run.scale=0.003", "run.years=1", "run.warmup_days=10"]\ndesign = "factorial"\n'
        '[parameters."choice.tier_constant.tertiary"]\nvalues = [1.0]\n'
    )
    assert main(["sweep", "exp.toml", "--out", "store", "--workers", "1", "--quiet"]) == 0
    before = _files(tmp_path)
    # The store is complete, so the sweep runs nothing and the command goes on to write its summary.
    again = ["sweep", "exp.toml", "--out", "store", "--workers", "1", "--quiet"]
    assert _main_with_disk_full_after(monkeypatch, sim.sweep, "sweep", again) == 1
    err = _one_error_line(capsys)
    assert err.startswith("tiersim: error: cannot write store/summary.csv: File too large; finished runs are stored")
    assert _files(tmp_path) == before
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == sorted(
        ["experiment.json", "runs.parquet", "summary.csv", "sweep.html"]
    )


@pytest.mark.parametrize(
    "command",
    ["", "run", "compare", "sweep", "sensitivity", "calibrate", "evidence", "validate", "app", "params"],
)
def test_every_help_page_prints(tmp_path, command):
    p = tiersim_here(*([command] if command else []), "--help", cwd=tmp_path)
    assert p.returncode == 0 and "usage: tiersim" in p.stdout, p.stderr
