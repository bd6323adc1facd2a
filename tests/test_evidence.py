"""The evidence yardstick: the table is sourced and its split frozen, measures and scores are right,
`tiersim evidence` runs and writes its page, and a bad table is one line with exit status 2."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

from sim.evidence import (
    EFFECT_FACTOR,
    ERROR_CAP,
    LEVEL_TOLERANCE,
    Figure,
    _measure,
    _scored,
    load_evidence,
    run_evidence,
)

SHIPPED = Path(__file__).resolve().parents[1] / "sim" / "data" / "evidence.toml"

HOLDOUT = {
    "admission_share_health_centre_2023",
    "admissions_per_capita_2018",
    "bed_occupancy_health_centre_urban_2010",
    "bed_occupancy_hospitals_2023",
    "cost_per_admission_tertiary_2019_jan_sep",
    "cost_per_visit_tertiary_2019_jan_sep",
    "county_consortium_township_inpatients_funan_2019",
    "dip_guangzhou_points_per_case_lai2022",
    "drg_beijing_oop_per_admission_jian2015",
    "drg_los_zhang2025",
    "drug_share_outpatient_hospitals_2021",
    "family_doctor_chc_share_htn_zhang2024",
    "family_doctor_primary_visits_feng2025",
    "fund_income_2023_pooled",
    "fund_spending_2023_pooled",
    "fund_surplus_2023_pooled",
    "gatekeeping_hospital_visits_xu2020",
    "global_budget_total_spending_per_admission_2017",
    "insurance_integration_outpatient_visits_han2025",
    "mean_length_of_stay_health_centre_urban_2010",
    "mean_length_of_stay_hospitals_2023",
    "oop_share_2021",
    "primary_visit_share_2014",
    "primary_visit_share_2021",
    "sanming_cost_per_visit_fu2017",
    "sanming_los_meng2019",
    "signing_rate_2016_pilot_cities",
    "visit_share_health_centre_2018",
    "visit_share_tertiary_2015",
    "visit_share_village_2023",
    "visits_per_capita_2018",
    "visits_per_capita_2023",
    "zmdp_drug_cost_per_visit_zhang2020",
    "zmdp_drug_share_outpatient_zang2019",
}
"""The hold-out figures, fixed before any fitting: a figure may not move between fit and hold-out."""


def test_the_table_is_sourced_and_large_enough():
    ev = load_evidence()
    figures = list(ev.figures.values())
    assert len(figures) >= 30
    effects = [f for f in ev.select() if f.kind == "effect"]
    assert len(effects) >= 12 and len({f.reform for f in effects}) >= 8
    for f in figures:
        assert f.authors and f.title and f.venue and f.url and f.place and f.period and f.design, f.id
        assert f.kind == "level" or f.effect_definition, f.id


def test_the_split_is_frozen():
    assert {k for k, f in load_evidence().figures.items() if f.split == "holdout"} == HOLDOUT


def _figure(kind: str, value: float, interval: tuple[float, float] | None = None, measure: str = "relative") -> Figure:
    text = dict.fromkeys(
        ("unit", "place", "period", "design", "reform", "effect_definition", "authors", "title", "venue", "doi"), "x"
    )
    model = {"indicator": "visits_per_capita", "measure": "level" if kind == "level" else measure}
    if kind == "effect":
        model["scenario"] = "drg"
    return Figure(
        id="f", kind=kind, indicator="i", value=value, interval=interval, url="u", confidence="c", split="fit",
        year=2020, model=model, **text,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "simulated", "interval", "direction", "within"),
    [
        (-0.10, -0.06, None, True, True),  # within a factor 2
        (-0.10, -0.04, None, True, False),  # right sign, too small
        (-0.10, -0.21, None, True, False),  # right sign, too large
        (-0.10, 0.05, None, False, False),  # wrong sign
        (-0.10, -0.04, (-0.12, -0.042), True, True),  # too small, but the intervals overlap
    ],
)
def test_effect_scores(value, simulated, interval, direction, within):
    lo, hi = simulated - 0.004, simulated + 0.004
    d, w, error = _scored(_figure("effect", value, interval), simulated, lo, hi)
    assert (d, w) == (direction, within)
    assert (abs(error) <= 1) == (1 / EFFECT_FACTOR <= simulated / value <= EFFECT_FACTOR)
    assert (error == -ERROR_CAP) == (not direction)


def test_effect_error_never_rewards_a_wrong_sign():
    """The error grows as the simulated effect shrinks toward zero and is largest at zero or beyond it."""
    simulated = [-0.2, -0.1, -0.05, -0.01, -0.001, 0.0, 0.001, 0.05]
    errors = [abs(_scored(_figure("effect", -0.1), s, s - 1e-4, s + 1e-4)[2]) for s in simulated]
    assert errors[1] == 0.0 and errors == sorted(errors[:2], reverse=True) + sorted(errors[2:])
    assert errors[-3:] == [ERROR_CAP] * 3


def test_level_scores():
    _, inside, e1 = _scored(_figure("level", 6.0), 6.0 * (1 + LEVEL_TOLERANCE) - 0.01, 7.4, 7.5)
    _, outside, e2 = _scored(_figure("level", 6.0), 6.0 * (1 + LEVEL_TOLERANCE) + 0.01, 7.5, 7.6)
    assert inside and not outside and e1 < 1 < e2


def _runs(values: dict[int, list[float]]) -> pd.DataFrame:
    """A runs table of one scenario: replication × year → visits_per_capita."""
    return pd.DataFrame(
        [{"replication": r, "year": y, "visits_per_capita": v} for y, vs in values.items() for r, v in enumerate(vs)]
    )


def test_measures_take_the_reform_years_replication_by_replication():
    base = _runs({0: [5.0, 6.0], 1: [5.0, 6.0], 2: [5.0, 6.0]})
    reform = _runs({0: [5.0, 6.0], 1: [5.5, 6.0], 2: [6.0, 6.6]})
    rel = _measure(_figure("effect", 0.1, measure="relative"), reform, base, start=1)
    np.testing.assert_allclose(rel, [11.5 / 10 - 1, 12.6 / 12 - 1])
    diff = _measure(_figure("effect", 0.1, measure="difference"), reform, base, start=1)
    np.testing.assert_allclose(diff, [0.75, 0.3])
    trend = _measure(_figure("effect", 0.1, measure="trend_per_month"), reform, base, start=1)
    np.testing.assert_allclose(trend, [1.0 / 24, 0.6 / 24])
    level = _measure(_figure("level", 5.0), None, base, start=1)
    np.testing.assert_allclose(level, [5.0, 6.0])


@pytest.fixture(scope="module")
def small_table(tmp_path_factory) -> Path:
    """Two figures of the shipped table (a DRG effect and a level), as a table of their own."""
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    keep = ("drg_beijing_cost_per_admission_jian2015", "visits_per_capita_2021")
    lines = []
    for key in keep:
        lines.append(f"[{key}]")
        for field, value in raw[key].items():
            if field == "model":
                value = "{ " + ", ".join(f'{k} = "{v}"' for k, v in value.items()) + " }"
            elif isinstance(value, str):
                value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{field} = {value}")
    path = tmp_path_factory.mktemp("evidence") / "small.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_per_case_payment_lowers_the_cost_per_admission_in_the_yardstick(small_table):
    result = run_evidence(load_evidence(small_table), scale=0.01, years=2, replications=2)
    row = result.table.set_index("id").loc["drg_beijing_cost_per_admission_jian2015"]
    assert row.simulated < 0 and row.direction_ok
    level = result.table.set_index("id").loc["visits_per_capita_2021"]
    assert 3 < level.simulated < 10 and level.direction_ok is None
    assert np.isfinite(result.distance()) and result.distance("holdout") != result.distance("holdout")  # no hold-out


def test_the_command_writes_the_table_and_the_page(small_table, tmp_path):
    out = tmp_path / "ev"
    p = tiersim(
        "evidence", "--evidence", str(small_table), "--scale", "0.01", "--years", "2", "--replications", "2",
        "--workers", "1", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "fit      effects: direction" in p.stdout
    table = pd.read_csv(out / "evidence.csv")
    assert list(table.id) == ["drg_beijing_cost_per_admission_jian2015", "visits_per_capita_2021"]
    page = (out / "evidence.html").read_text(encoding="utf-8")
    assert "drg_beijing_cost_per_admission_jian2015" in page and "fig-effects" in page


def test_parameter_draws_widen_the_intervals_and_are_recorded(small_table, tmp_path):
    # The same seeds with and without posterior draws: the draws add parameter uncertainty.
    common = ("evidence", "--evidence", str(small_table), "--scale", "0.01", "--years", "2", "--workers", "1")
    plain = tiersim_here(*common, "--replications", "3", "--out", str(tmp_path / "plain"), cwd=tmp_path)
    drawn = tiersim_here(*common, "--parameter-draws", "3", "--out", str(tmp_path / "drawn"), cwd=tmp_path)
    assert plain.returncode == 0 and drawn.returncode == 0, drawn.stderr
    width = {}
    for name in ("plain", "drawn"):
        row = pd.read_csv(tmp_path / name / "evidence.csv").set_index("id").loc["visits_per_capita_2021"]
        width[name] = row.simulated_hi - row.simulated_lo
    assert width["drawn"] > 2 * width["plain"]  # 2.6× with the shipped posterior
    settings = (tmp_path / "drawn" / "settings.json").read_text(encoding="utf-8")
    assert "3 draws of sim/data/posterior.csv" in settings
    assert "posterior parameter set i" in (tmp_path / "drawn" / "evidence.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('split = "fit"', 'split = "train"'), "[drg_beijing_cost_per_admission_jian2015] split:"),
        (('indicator = "cost_per_admission_tertiary"', 'indicator = "cost_per_bed"'), "'cost_per_bed' is not"),
        (('scenario = "drg"', 'scenario = "drgs"'), "no design 'drgs.toml'"),
        (('measure = "relative"', 'measure = "level"'), "an effect's model mapping"),
        (("value = -0.062", 'value = "low"'), "value:"),
        (("[visits_per_capita_2021]", "[visits_per_capita_2021"), "not valid TOML"),
    ],
)
def test_a_bad_table_is_one_line_and_exit_2(small_table, tmp_path, edit, message):
    bad = tmp_path / "bad.toml"
    text = small_table.read_text(encoding="utf-8")
    assert edit[0] in text
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    p = tiersim_here("evidence", "--evidence", str(bad), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--replications", "1"), "--replications = 1 is invalid"),
        (("--years", "1"), "--years = 1 is invalid"),
        (("--scale", "2"), "run.scale"),
        (("--evidence", "missing.toml"), "evidence file missing.toml"),
        (("--parameter-draws", "3", "--replications", "4"), "--parameter-draws = 3 is invalid"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, flags, message):
    p = tiersim_here("evidence", *flags, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (tmp_path / "o").exists()
