"""The command line as a user meets it: run writes its files; bad input exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import tiersim

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
        (["validate", "bad.toml"], "malformed TOML"),
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path, args, expect):
    (tmp_path / "bad.toml").write_text("[run\n")
    out = tmp_path / "out"
    p = tiersim(*args, "--out", str(out), cwd=tmp_path) if args[0] == "run" else tiersim(*args, cwd=tmp_path)
    assert p.returncode == 2
    assert expect in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "results").exists()


def test_failed_run_leaves_previous_results_intact(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "summary.json").write_text('{"old": true}')
    p = tiersim("run", "--set", "run.years=0", "--out", str(out), cwd=tmp_path)
    assert p.returncode == 2
    assert json.loads((out / "summary.json").read_text()) == {"old": True}


def test_params_lists_everything(tmp_path):
    p = tiersim("params", "--markdown", cwd=tmp_path)
    assert p.returncode == 0
    assert "| `insurance.resident.inpatient_start_line.tertiary` | 1000 | yuan per admission |" in p.stdout
