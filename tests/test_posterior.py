"""Posterior ensembles: the file's checks (one line, exit 2), weighted keyed draws, and parameter draws
in `compare` and `sweep` — replication i takes draw i, the same in every scenario and at every point."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim_here

from sim.config import ScenarioError, load_scenario
from sim.posterior import apply, load_posterior, parse, to_text

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
TINY = ["--scale", "0.002", "--years", "1", "--set", "run.warmup_days=10", "--quiet", "--no-report"]

# Two parameter sets far apart in a parameter whose effect is plain (acute episodes a year): which
# set a run took shows in its visits per resident.
RATES = "# made for: tests\nillness.acute_rate_adult,choice.cost,weight\n3.0,-1.0,0.5\n5.5,-1.2,0.5\n"


def write(folder: Path, text: str, name: str = "posterior.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("choice.cost,weight\n-1.0,0.5\n-0.5,0.5\n", None),
        ("choice.costs,weight\n-1.0,1\n", "row 1: unknown key 'choice.costs'; did you mean 'cost'?"),
        ("choice.cost,weight\n-1.0,0.5\n2.0,0.5\n", "row 2: choice.cost = 2.0 is invalid"),
        ("choice.cost,weight\n-1.0,0.5\nabc,0.5\n", "row 2: choice.cost = 'abc' is invalid: not a number"),
        ("choice.cost,weight\n-1.0,1.5\n-0.5,-0.5\n", "row 2: weight = -0.5 is invalid: allowed > 0"),
        ("choice.cost,weight\n-1.0,0.5\n-0.5,0.4\n", "weight column sums to 0.9; allowed 1"),
        ("choice.cost\n-1.0\n", "no 'weight' column"),
        ("choice.cost,weight\n", "no parameter sets"),
        ("choice.cost,weight\n-1.0\n", "row 1: 1 fields where the header has 2"),
        ("run.scale,weight\n0.5,1\n", "column 'run.scale': run settings are not parameters"),
        ("choice.cost,weight\nnan,1\n", "row 1: choice.cost = 'nan' is invalid: allowed a finite number"),
    ],
)
def test_posterior_file_checks(text: str, message: str | None) -> None:
    if message is None:
        posterior = parse(text, "p.csv")
        assert posterior.keys == ["choice.cost"] and len(posterior) == 2
        return
    with pytest.raises(ScenarioError) as err:
        parse(text, "p.csv")
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("p.csv")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--parameter-draws", "2", "--posterior", "bad.csv"], "bad.csv: row 2: choice.cost = 2.0 is invalid"),
        (["--parameter-draws", "2", "--posterior", "missing.csv"], "--posterior missing.csv: file not found"),
        (["--posterior", "good.csv"], "--posterior good.csv: given without --parameter-draws N"),
        (["--parameter-draws", "0", "--posterior", "good.csv"], "--parameter-draws = 0 is invalid: allowed ≥ 1"),
        (
            ["--parameter-draws", "3", "--replications", "2", "--posterior", "good.csv"],
            "--parameter-draws = 3 is invalid: allowed the number of replications (2)",
        ),
    ],
)
def test_compare_rejects_bad_draws_with_one_line_before_any_run(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path, "choice.cost,weight\n-1.0,0.5\n2.0,0.5\n", "bad.csv")
    write(tmp_path, RATES, "good.csv")
    result = tiersim_here("compare", BASELINE, *TINY, "--out", "out", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_rejects_a_bad_posterior_and_a_varied_key(tmp_path: Path) -> None:
    write(tmp_path, "choice.cost,weight\n-1.0,0.7\n-0.5,0.7\n", "bad.csv")
    write(tmp_path, RATES, "good.csv")
    (tmp_path / "exp.toml").write_text(
        'set = ["run.scale=0.002", "run.years=1"]\n[parameters."choice.cost"]\nvalues = [-1.0]\n', encoding="utf-8"
    )
    bad = tiersim_here("sweep", "exp.toml", "--parameter-draws", "2", "--posterior", "bad.csv", cwd=tmp_path)
    assert bad.returncode == 2 and "bad.csv: weight column sums to 1.4; allowed 1" in bad.stderr, bad.stderr
    both = tiersim_here("sweep", "exp.toml", "--parameter-draws", "2", "--posterior", "good.csv", cwd=tmp_path)
    assert both.returncode == 2 and "the posterior sets choice.cost, which the experiment varies" in both.stderr
    assert bad.stderr.count("\n") == both.stderr.count("\n") == 1
    assert not (tmp_path / "results").exists()


def test_draws_are_keyed_by_seed_and_follow_the_weights() -> None:
    posterior = parse("choice.cost,weight\n-1.0,0.7\n-0.8,0.2\n-0.6,0.1\n", "p.csv")
    draws = posterior.draws(4000, seed=11)
    assert draws == posterior.draws(4000, seed=11)  # deterministic
    assert draws[5:10] == posterior.draws(5, seed=16)  # draw i depends only on the seed of replication i
    assert posterior.draws(50, seed=11) != posterior.draws(50, seed=12)
    counts = Counter(d["choice.cost"] for d in draws)
    shares = np.array([counts[-1.0], counts[-0.8], counts[-0.6]]) / 4000
    np.testing.assert_allclose(shares, [0.7, 0.2, 0.1], atol=0.025)


def test_written_posterior_reads_back_with_its_provenance(tmp_path: Path) -> None:
    values = np.array([[-1.25, 0.1], [-0.75, 0.2]])
    text = to_text(["choice.cost", "levers.family_doctor.management_effect"], values, np.array([3.0, 1.0]), {"a": "b"})
    posterior = load_posterior(write(tmp_path, text))
    np.testing.assert_array_equal(posterior.values, values)
    np.testing.assert_allclose(posterior.weights, [0.75, 0.25])
    assert posterior.provenance == {"a": "b"}


def test_shipped_posterior_is_valid_and_every_draw_applies_to_every_scenario() -> None:
    posterior = load_posterior()
    # At least twice the sets of a default `--parameter-draws 8`, and fitted to the evidence's fit split.
    assert (
        len(posterior) >= 16
        and "evidence split: fit" in posterior.provenance["targets"]
        and {"choice.cost", "levers.family_doctor.management_effect"} <= set(posterior.keys)
    )
    assert {"date", "command", "targets", "scale", "generations", "acceptance"} <= set(posterior.provenance)
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        scenario = load_scenario(path)
        for values in posterior.draws(2, seed=1):
            changed = apply(scenario, values)
            assert changed.choice.cost == values["choice.cost"]


def test_compare_takes_draw_i_in_replication_i_of_every_scenario(tmp_path: Path) -> None:
    write(tmp_path, RATES)
    twin = tmp_path / "twin.toml"
    twin.write_text(f'extends = "{BASELINE}"\nname = "twin"\n', encoding="utf-8")
    result = tiersim_here(
        "compare", BASELINE, str(twin), *TINY[:-2], "--seed", "3", "--parameter-draws", "4", "--posterior",
        "posterior.csv", "--out", "out", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert "Parameter uncertainty" in report and "parameter set i of 4 drawn from" in report
    assert "intervals include parameter uncertainty" in result.stdout and "(4 draws)" in result.stdout
    stored = json.loads((tmp_path / "out" / "scenarios.json").read_text("utf-8"))
    draws = stored["parameter_draws"]
    assert stored["seeds"] == [3, 4, 5, 6] and stored["posterior"] == "posterior.csv"
    assert draws == load_posterior(tmp_path / "posterior.csv").draws(4, seed=3)
    rates = [d["illness.acute_rate_adult"] for d in draws]
    assert set(rates) == {3.0, 5.5}  # these seeds take both sets
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    base = runs[runs.scenario == "baseline"].set_index("replication").visits_per_capita
    other = runs[runs.scenario == "twin"].set_index("replication").visits_per_capita
    # The same set in both scenarios: the twin's replication i equals the baseline's exactly...
    pd.testing.assert_series_equal(base, other, check_names=False)
    # ...and each replication shows the set it took: more acute episodes, more visits.
    low = [base[r] for r in range(4) if rates[r] == 3.0]
    high = [base[r] for r in range(4) if rates[r] == 5.5]
    assert max(low) + 0.3 < min(high)
    summary = pd.read_csv(tmp_path / "out" / "comparison.csv")
    row = summary[(summary.scenario == "twin") & (summary.indicator == "visits_per_capita")].iloc[0]
    assert row["diff"] == row.diff_lo == row.diff_hi == 0 and row.hi - row.lo > 0.3


def test_sweep_takes_draw_i_in_replication_i_at_every_point(tmp_path: Path) -> None:
    write(tmp_path, RATES)
    (tmp_path / "exp.toml").write_text(
        'set = ["run.scale=0.002", "run.years=1", "run.warmup_days=10"]\nseed = 3\nreplications = 1\n'
        '[parameters."choice.travel"]\nvalues = [-2.0, -1.0]\n',
        encoding="utf-8",
    )
    args = ("sweep", "exp.toml", "--parameter-draws", "4", "--posterior", "posterior.csv", "--workers", "1")
    result = tiersim_here(*args, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = pd.read_parquet(tmp_path / "results" / "sweep-exp" / "runs.parquet")
    assert len(runs) == 8 and runs.seed.tolist() == [3, 4, 5, 6] * 2  # 4 replications a point, not 1
    rates = [d["illness.acute_rate_adult"] for d in load_posterior(tmp_path / "posterior.csv").draws(4, seed=3)]
    # Acute episodes are drawn before any choice: the same seed and set give the same episodes at both points.
    episodes = runs.pivot(index="replication", columns="point", values="episodes")
    assert (episodes[0] == episodes[1]).all()
    order = np.argsort(episodes[0].to_numpy())
    assert sorted(rates) == [rates[i] for i in order]
    again = tiersim_here(*args, cwd=tmp_path)  # resumes: nothing left to run
    assert again.returncode == 0 and "8 runs" in again.stdout
    assert "replication i takes posterior parameter set i of posterior.csv" in again.stdout
    page = (tmp_path / "results" / "sweep-exp" / "sweep.html").read_text("utf-8")
    assert "the intervals include parameter uncertainty" in page
