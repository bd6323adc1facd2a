"""Scenario schema, extends, --set overrides and one-line errors naming the field and range."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.config import ScenarioError, load_scenario, parameter_rows

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_and_shipped_scenarios_validate():
    default = load_scenario()
    assert default.run.years == 5 and 0 < default.run.scale <= 1
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        assert load_scenario(path).name


def test_extends_and_set(tmp_path):
    (tmp_path / "base.toml").write_text('name = "b"\n[run]\nyears = 3\nseed = 9\n')
    (tmp_path / "alt.toml").write_text('extends = "base.toml"\nname = "alt"\n[run]\nyears = 4\n')
    s = load_scenario(tmp_path / "alt.toml", ["insurance.resident.inpatient_rate.tertiary=0.5", "run.seed=3"])
    assert (s.name, s.run.years, s.run.seed) == ("alt", 4, 3)
    assert s.insurance.resident.inpatient_rate.tertiary == 0.5
    assert s.insurance.resident.inpatient_rate.primary == 0.85  # untouched default


def test_extends_loop_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="loops"):
        load_scenario(tmp_path / "a.toml")


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[run]\nyears = 2\n[run\n", "malformed TOML"),
        ("[run]\nyeers = 2\n", "unknown key 'run.yeers'; did you mean 'years'?"),
        ("[care]\ndown_referral_probability = {tertiary = 1.5}\n", "care.down_referral_probability.tertiary = 1.5"),
        ("[region]\nbeds_per_1000 = {secondary = -2}\n", "≥ 0 and ≤ 50 (beds per 1,000 residents)"),
        ("[population]\nsigning_rate_others = 1.2\n", "population.signing_rate_others = 1.2"),
        ('[run]\nscale = "big"\n', "run.scale = 'big'"),
    ],
)
def test_bad_file_one_line_error(tmp_path, text, expect):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert expect in message and "\n" not in message and str(path) in message


def test_share_error_names_range(tmp_path):
    with pytest.raises(ScenarioError, match=r"≥ 0 and ≤ 1 \(share\)"):
        load_scenario(overrides=["population.signing_rate_key_groups=1.5"])


def test_missing_file():
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("no/such/file.toml")


def test_unknown_set_key_lists_allowed():
    with pytest.raises(ScenarioError, match=r"unknown key 'prices\.bogus'.*allowed in prices: .*outpatient_price"):
        load_scenario(overrides=["prices.bogus=1"])
    with pytest.raises(ScenarioError, match=r"expected dotted\.key=value"):
        load_scenario(overrides=["run.years"])


def test_every_parameter_documented():
    rows = parameter_rows()
    assert len(rows) > 80
    for row in rows:
        if row["key"] in ("name", "description"):
            continue
        assert row["unit"] and row["source"] and row["meaning"] and row["range"], row["key"]


def test_scenario_objects_are_validated_on_assignment():
    s = sim.load_scenario()
    with pytest.raises(ValueError):
        s.run.scale = 3.0
