"""The 2013→2023 backtest (`experiments/backtest.py`): it runs, its page shows model and published series, its
timeline's levers are in force in the right calendar years, and bad flags stop it with one line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import experiment

ROOT = Path(__file__).resolve().parents[1]
backtest = experiment("backtest")


def test_backtest_writes_model_and_published_series(tmp_path, capsys):
    out = tmp_path / "bt"
    assert backtest.main(["--scale", "0.002", "--replications", "2", "--workers", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "backtest.csv", keep_default_na=False)
    share = table[table.panel == "primary_visit_share"]
    model = share[(share.source == "model") & (share.scenario == "backtest_2013")]
    assert sorted(model.calendar_year.astype(int)) == list(range(2013, 2024))
    assert (
        (model.lo.astype(float) <= model.value.astype(float)) & (model.value.astype(float) <= model.hi.astype(float))
    ).all()
    assert set(share[share.source == "model"].scenario) == {"backtest_2013", "no_reform_2013"}
    published = share[share.source == "published"]
    assert {2013: 0.59, 2015: 0.564}.items() <= dict(zip(published.calendar_year, published.value, strict=True)).items()
    assert published.citation.str.len().min() > 20
    covid = table.calendar_year.isin([2020, 2021, 2022])
    assert (table.comparable.astype(str) == (~covid).astype(str)).all()
    page = (out / "backtest.html").read_text(encoding="utf-8")
    for text in ("model primary_visit_share (reforms)", "published primary_visit_share", "COVID-19: not comparable"):
        assert text in page
    assert "missing mechanism" in page and "[drg-dip-plan-2021]" in page
    assert "primary_visit_share" in capsys.readouterr().out  # the trend table


def test_the_timeline_levers_start_in_their_calendar_years():
    counterfactual, scenario = backtest.scenarios(0.002, 1)
    assert scenario.run.start_year == backtest.FIRST_YEAR and scenario.run.years == 11
    for reform in backtest.TIMELINE:
        if reform.lever:
            assert reform.lever not in backtest.active_levers(scenario.levers, reform.year - 1), reform
            assert reform.lever in backtest.active_levers(scenario.levers, reform.year), reform
            assert reform.lever in backtest.active_levers(scenario.levers, backtest.LAST_YEAR), reform
    assert backtest.active_levers(scenario.levers, 2013) == []
    assert backtest.active_levers(scenario.levers, 2021) == ["family_doctor", "sanming", "reserved_beds", "start_line"]
    assert "drg" in backtest.active_levers(scenario.levers, 2022)
    assert all(backtest.active_levers(counterfactual.levers, y) == [] for y in range(2013, 2024))
    # Everything but the levers is the same 2013 region, with the same providers (hospitals invest).
    assert counterfactual.levers.response == scenario.levers.response
    assert counterfactual.levers.response.invest_from_surplus
    assert counterfactual.model_dump(exclude={"levers", "name", "description"}) == scenario.model_dump(
        exclude={"levers", "name", "description"}
    )


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--scale", "0"], "--scale"),
        (["--scale", "1.5"], "--scale"),
        (["--scale", "big"], "--scale"),
        (["--replications", "0"], "--replications"),
        (["--workers", "0"], "--workers"),
        (["--out", "."], "--out"),
        (["--unknown"], "--unknown"),
    ],
)
def test_bad_flags_stop_with_one_line_and_status_2(flags, named, capsys):
    with pytest.raises(SystemExit) as stop:
        backtest.main(flags)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and named in err and "Traceback" not in err
