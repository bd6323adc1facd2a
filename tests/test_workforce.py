"""Doctors (`sim.workforce`): quality stays its tier's by default; sending down, pay and migration move it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import tiersim_here

import sim
from sim import workforce
from sim.model import CareModel
from sim.parameters.workforce import WorkforceParams
from sim.rules import staffed_capability, staffed_quality

SMALL = ["run.scale=0.01", "run.warmup_days=30"]
# Two consortia: 0 led by facility 2 (a county hospital) with a village and a health centre below it;
# 1 led by facility 5 (tertiary) with a county hospital below it.
TIER = np.array([0, 1, 2, 2, 1, 3])
DISTRICT = np.array([0, 0, 0, 0, 1, 1])
CONSORTIUM = np.array([0, 0, 0, 1, 1, 1])
LEAD = np.array([2, 5])
DOCTORS = np.array([2.0, 4.0, 10.0, 6.0, 3.0, 20.0])


def _staff(params: WorkforceParams | None = None) -> workforce.Staff:
    unknown = np.full(DOCTORS.size, np.nan)  # no register of GPs: the workforce's rule
    return workforce.build(DOCTORS, TIER, params or WorkforceParams(), residents=10_000, gps=unknown)


def _years(staff: workforce.Staff, params: WorkforceParams, ratio: float, years: int) -> workforce.Staff:
    for _ in range(years):
        staff = workforce.advance(staff, params, tier=TIER, district=DISTRICT, ratio=ratio, residents=10_000)
    return staff


def test_the_build_gives_each_facility_its_tiers_skill_and_gps_at_health_centres():
    staff = _staff()
    assert staff.skill.tolist() == WorkforceParams().skill.as_array()[TIER].tolist()
    # 3.99 GPs per 10,000 of 10,000 residents, spread over the two health centres by their doctors (4 : 3).
    assert staff.gps == pytest.approx([0, 3.99 * 4 / 7, 0, 0, 3.99 * 3 / 7, 0])


def test_sending_down_mixes_the_leads_doctors_into_its_lower_members():
    staff = workforce.rotate(_staff(), 0.1, tier=TIER, consortium=CONSORTIUM, lead=LEAD)
    # Lead 2 sends 1 doctor-year, split 2 : 4 between the village and the health centre, at skill 0.70.
    village = (2 * 0.25 + (1 / 3) * 0.70) / (2 + 1 / 3)
    centre = (4 * 0.45 + (2 / 3) * 0.70) / (4 + 2 / 3)
    # Lead 5 sends 2 doctor-years at 1.0, split 6 : 3 between county hospital 3 and health centre 4.
    county = (6 * 0.70 + (4 / 3) * 1.0) / (6 + 4 / 3)
    centre_4 = (3 * 0.45 + (2 / 3) * 1.0) / (3 + 2 / 3)
    assert staff.effective_skill == pytest.approx([village, centre, 0.70, county, centre_4, 1.0])
    assert workforce.rotate(_staff(), 0.0, tier=TIER, consortium=CONSORTIUM, lead=LEAD).effective_skill.tolist() == (
        _staff().skill.tolist()
    )


def test_quality_moves_with_skill_and_not_at_all_when_skill_is_unchanged():
    quality = np.array([0.25, 0.45, 0.7])
    skill = np.array([0.25, 0.45, 0.7])
    assert staffed_quality(quality, skill, skill.copy(), 1.0).tolist() == quality.tolist()
    assert staffed_quality(quality, skill, skill + 0.1, 0.5) == pytest.approx([0.30, 0.50, 0.75])
    assert staffed_quality(quality, skill, skill + 0.5, 1.0)[2] == 1.0


def test_capability_moves_one_severity_at_the_neighbouring_tiers_skill():
    tier_skill = WorkforceParams().skill.as_array()
    tier = np.array([0, 0, 1, 1, 1, 3])
    base = np.array([0, 0, 1, 1, 1, 3])
    skill = np.array([0.44, 0.45, 0.46, 0.70, 0.25, 1.0])
    assert staffed_capability(base, tier, skill, tier_skill).tolist() == [0, 1, 1, 2, 0, 3]


def test_migration_for_pay_lowers_primary_skill_and_sanming_or_primary_pay_narrows_it():
    params = WorkforceParams()
    today = workforce.pay_ratio(params, salary_reform=0.0, primary_pay_gap_closed=0.0)
    sanming = workforce.pay_ratio(params, salary_reform=0.7, primary_pay_gap_closed=0.0)
    parity = workforce.pay_ratio(params, salary_reform=0.0, primary_pay_gap_closed=1.0)
    assert (today, sanming, parity) == (1.5, 1.25, 1.0)
    wide = workforce.pay_ratio(params.model_copy(update={"hospital_pay_ratio": 2.0}), 0.0, 0.0)
    drifts = {ratio: _years(_staff(), params, ratio, 5).skill[[0, 1]] for ratio in (today, sanming, parity)}
    built = _staff().skill[[0, 1]]
    assert np.all(drifts[today] < drifts[sanming]) and np.all(drifts[sanming] < built)
    assert drifts[parity] == pytest.approx(built)  # nobody leaves for pay: graduates keep the tier's skill
    # The loss is the premium of those who leave times their share, less what graduates restore.
    assert 0.01 < built[1] - drifts[today][1] < 0.05
    # Hospitals count the doctors who came up and keep their skill; primary care refills its posts.
    staff = _years(_staff(), params, wide, 1)
    assert staff.doctors[[2, 3]].sum() > DOCTORS[[2, 3]].sum()
    assert staff.doctors[[0, 1]] == pytest.approx(DOCTORS[[0, 1]])
    assert staff.skill[[2, 3, 5]].tolist() == [0.70, 0.70, 1.0]


def test_quality_and_capability_stay_the_tiers_by_default():
    scenario = sim.load_scenario(overrides=SMALL)
    model = CareModel(scenario)
    model.run_years(2)
    f, care = model.facilities, scenario.care
    assert f.quality.tolist() == care.quality.as_array()[f.tier].tolist()
    assert f.outpatient_capability.tolist() == care.outpatient_capability.as_array()[f.tier].tolist()
    annual = sim.metrics.annual(model.recorder.daily())
    assert annual.gps_per_10000.tolist() == pytest.approx([3.99, 3.99])
    assert annual.doctors_per_1000_secondary.tolist() == pytest.approx([0.85, 0.85])


def _primary(scenario: sim.Scenario) -> tuple[float, float]:
    model = CareModel(scenario)
    model.run_years(1)
    f = model.facilities
    share = sim.metrics.annual(model.recorder.daily()).primary_visit_share.iloc[0]
    return float(f.quality[f.tier == 1].mean()), float(share)


def test_sending_down_raises_primary_quality_and_share_beside_a_control():
    on = ["workforce.enabled=true", "run.years=1"]
    lever = [
        "levers.sending_down.enabled=true",
        "levers.sending_down.start_year=0",
        "levers.sending_down.rotated_share=0.2",
    ]
    control = _primary(sim.load_scenario(overrides=[*SMALL, *on]))
    sent = _primary(sim.load_scenario(overrides=[*SMALL, *on, *lever]))
    # Without the lever, the first year is the build's; with it, the leads' doctors lift health centres.
    assert control[0] == pytest.approx(0.45)
    assert 0.01 < sent[0] - control[0] < 0.1
    assert 0.002 < sent[1] - control[1] < 0.05
    # The lever without the workforce module does nothing.
    assert _primary(sim.load_scenario(overrides=[*SMALL, "run.years=1", *lever])) == pytest.approx(control, abs=0)


@pytest.mark.parametrize(
    ("key", "value", "expect"),
    [
        ("workforce.retirement_rate", "0.9", "≤ 0.2"),
        ("workforce.hospital_pay_ratio", "1", "> 1"),
        ("levers.sending_down.rotated_share", "-0.1", "≥ 0"),
        ("levers.primary_pay.gap_closed", "2", "≤ 1"),
    ],
)
def test_bad_workforce_values_exit_2_with_one_line(tmp_path: Path, key: str, value: str, expect: str):
    out = tmp_path / "out"
    p = tiersim_here("run", "--set", f"{key}={value}", "--out", str(out), cwd=tmp_path)
    assert p.returncode == 2 and not out.exists()
    assert key in p.stderr and expect in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
