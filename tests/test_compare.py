"""Scenario comparison: common random numbers, paired intervals, executors, failures, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

import sim
from sim.comparison import compare, paired_summary

ROOT = Path(__file__).resolve().parents[1]
TINY = ["run.scale=0.02", "run.years=2"]


def scenario(name: str, *extra: str) -> sim.Scenario:
    return sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", [*TINY, *extra])


@pytest.fixture(scope="module")
def pair() -> sim.comparison.Comparison:
    return compare([scenario("baseline"), scenario("start_line_gap")], replications=3)


def test_replications_share_random_streams():
    """The same scenario under another name: every paired difference is exactly zero."""
    c = compare([scenario("baseline"), scenario("baseline", 'name="copy"')], replications=2)
    copy = c.summary[c.summary.scenario == "copy"]
    assert len(copy) > 100
    assert (copy["diff"].fillna(0) == 0).all() and (copy["diff_hi"].fillna(0) == copy["diff_lo"].fillna(0)).all()
    levels = c.summary[c.summary.indicator == "primary_visit_share"]
    assert (levels.hi > levels.lo).all(), "replications differ (different seeds), so levels have width"


def test_paired_summary_statistics():
    runs = pd.DataFrame(
        {
            "scenario": ["a", "a", "a", "b", "b", "b"],
            "replication": [0, 1, 2, 0, 1, 2],
            "seed": [1, 2, 3, 1, 2, 3],
            "year": 0,
            "calendar_year": 2024,
            "x": [1.0, 2.0, 3.0, 2.0, 3.5, 4.0],
        }
    )
    s = paired_summary(runs, "a").set_index("scenario")
    assert s.loc["b", "mean"] == pytest.approx(9.5 / 3) and s.loc["b", "diff"] == pytest.approx(3.5 / 3)
    half = 4.302652729911275 * np.std([1.0, 1.5, 1.0], ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert s.loc["b", "diff_hi"] - s.loc["b", "diff"] == pytest.approx(half)
    assert s.loc["a", "diff"] == 0 and s.loc["b", "n"] == 3


def test_comparison_tables(pair, tmp_path):
    summary = pair.summary
    assert set(summary.scenario) == {"baseline", "start_line_gap"}
    for column in ("scenario", "indicator", "year", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi"):
        assert column in summary.columns
    assert len(pair.runs) == 2 * 3 * 2  # scenarios × replications × years
    gap = summary[(summary.scenario == "start_line_gap") & (summary.indicator == "primary_visit_share")]
    assert (gap.year == 1).any() and gap[gap.year == 1].diff_lo.iloc[0] > 0
    targets = pair.targets
    assert set(targets.target) >= {"primary_visit_share", "medical_revenue_growth", "in_county_rate"}
    out = pair.write(tmp_path / "cmp")
    for name in ("comparison.csv", "runs.parquet", "targets.csv", "failures.csv", "scenarios.json"):
        assert (out / name).is_file()
    assert pd.read_csv(out / "comparison.csv").shape == summary.shape


def test_same_result_whatever_the_workers(pair):
    parallel = compare([scenario("baseline"), scenario("start_line_gap")], replications=3, workers=2)
    pd.testing.assert_frame_equal(parallel.summary, pair.summary, check_exact=True)
    pd.testing.assert_frame_equal(parallel.runs, pair.runs, check_exact=True)


def test_failed_run_is_recorded_and_others_go_on():
    good = scenario("baseline")
    # An object that escaped validation (model_copy does not validate) fails inside the run.
    broken = good.model_copy(
        update={"name": "broken", "prices": good.prices.model_copy(update={"outpatient_price": None})}
    )
    c = compare([good, broken], replications=2)
    assert len(c.failures) == 2 and set(c.failures.scenario) == {"broken"}
    assert c.failures.error.str.len().gt(0).all()
    assert set(c.runs.scenario) == {"baseline"}


def test_compare_cli(tmp_path):
    out = tmp_path / "cmp"
    p = tiersim(
        "compare",
        str(ROOT / "scenarios" / "baseline.toml"),
        str(ROOT / "scenarios" / "sanming.toml"),
        "--replications",
        "2",
        "--scale",
        "0.02",
        "--years",
        "2",
        "--no-report",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert "sanming" in p.stdout and (out / "comparison.csv").is_file()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["missing.toml"], "not found"),
        (["BASE", "--replications", "0"], "--replications = 0"),
        (["BASE", "BASE"], "names must differ"),
        (["BASE", "BIG"], "must share one region"),
        (["BASE", "--workers", "0"], "--workers = 0"),
    ],
)
def test_compare_bad_input_exit_2_before_any_run(tmp_path, args, expect):
    (tmp_path / "big.toml").write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\nname = "big"\n[region]\ntile_km = 50\n'
    )
    names = {"BASE": str(ROOT / "scenarios" / "baseline.toml"), "BIG": str(tmp_path / "big.toml")}
    out = tmp_path / "out"
    p = tiersim_here("compare", *[names.get(a, a) for a in args], "--out", str(out), cwd=tmp_path)
    assert p.returncode == 2 and expect in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()
