"""Case mix and upcoding under per-case payment (DRG/DIP): the case-mix index and the coding response.

A hospital paid per case codes a growing share of its stays one severity group higher than their
true severity (`rules.coded_severity`, `payment.upcoded_share`), so that coding raises its case-mix
index by `coding_creep` a year (`payment.coding_gain`); the coded group sets the price paid
and the case-mix index (`case_mix_index_<tier>`), never the care. Each run is paired with a control
of the same seed without the coding response.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from audit import Audit

import sim
from sim import payment, rules
from sim.levers import ProviderResponse
from sim.model import CareModel
from sim.params import SEVERITIES

SMALL = ["run.scale=0.002", "run.warmup_days=30"]
DRG = ["run.years=4", "levers.drg.enabled=true", "levers.drg.start_year=1", "levers.response.max_upcoding_share=0.5"]
CARE_COLUMNS = ("admissions", "discharges", "stay_days", "occupied_beds", "beds", "transfers_up", "referrals_down")
"""Daily columns of the care given (by tier, or as they are): coding must leave every one of them alone."""
HOSPITALS = ("secondary", "tertiary")


def _care(daily: pd.DataFrame) -> pd.DataFrame:
    return daily.filter(regex=f"^({'|'.join(CARE_COLUMNS)})(_|$)")


@pytest.fixture(scope="module")
def drg_pair() -> tuple[Audit, sim.Results]:
    """A DRG run with upcoding, its books audited every day, and its control without the coding response."""
    upcoding = Audit(CareModel(sim.load_scenario(None, [*SMALL, *DRG, "levers.response.coding_creep=0.5"])))
    upcoding.daily = upcoding.run()
    control = sim.run(sim.load_scenario(None, [*SMALL, *DRG, "levers.response.coding_creep=0"]))
    return upcoding, control


def test_a_stay_is_coded_one_group_higher_below_the_share_and_never_above_the_top() -> None:
    top = len(SEVERITIES) - 1
    assert rules.coded_severity(1, 0.3, 0.29) == 2
    assert rules.coded_severity(1, 0.3, 0.3) == 1  # the draw must fall below the share
    assert rules.coded_severity(2, 0.0, 0.0) == 2  # no share, no upcoding
    assert rules.coded_severity(top, 1.0, 0.0) == top


def test_the_upcoded_share_grows_by_the_creep_over_the_gain_with_per_case_payment_up_to_its_bound() -> None:
    response = ProviderResponse(coding_creep=0.02, max_upcoding_share=0.3)
    gain = np.array([0.4, 0.4, 0.4, 0.1, 0.0])
    per_case = np.array([0.0, 0.5, 1.0, 1.0, 1.0])
    share = payment.upcoded_share(np.zeros(5), per_case, gain, response)
    assert share == pytest.approx([0.0, 0.025, 0.05, 0.2, 0.0], rel=1e-15)  # nothing to code higher: no share
    share = payment.upcoded_share(share, per_case, gain, response)
    assert share == pytest.approx([0.0, 0.05, 0.1, 0.3, 0.0], rel=1e-15)  # the fourth reaches the bound
    assert payment.upcoded_share(share, np.zeros(5), gain, response).tolist() == share.tolist()  # it does not shrink


def test_coding_gain_is_the_relative_case_mix_rise_of_coding_every_stay_a_group_higher() -> None:
    weights = np.array([0.42, 0.68, 1.0, 1.56])
    counts = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0], [10.0, 0.0, 10.0, 0.0]])
    gain = payment.coding_gain(counts, weights)
    # None; moderate → severe; the top group cannot go higher; minor → moderate and severe → complex.
    assert gain == pytest.approx([0.0, 0.32 / 0.68, 0.0, (0.26 + 0.56) / 1.42], rel=1e-12)


def test_group_weights_are_relative_expected_bills_of_the_severities() -> None:
    weights = payment.group_weights(np.array([0.6, 0.8, 1.0, 1.3]), np.array([0.7, 0.85, 1.0, 1.2]), reference=2)
    assert weights == pytest.approx([0.42, 0.68, 1.0, 1.56], rel=1e-12)
    # A severe stay that costs nothing (a price factor of 0, in range) leaves no scale: all weigh 1, no inf.
    free_severe = payment.group_weights(np.array([0.6, 0.8, 0.0, 1.3]), np.array([0.7, 0.85, 1.0, 1.2]), reference=2)
    assert free_severe.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert payment.coding_gain(np.array([[3.0, 2.0, 1.0, 1.0]]), free_severe).tolist() == [0.0]


def test_per_case_bills_at_true_prices_remove_only_what_upcoding_added() -> None:
    billed = np.array([[10.0, 0.0, 5.0, 100.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    true = payment.true_group_bills(billed, np.array([20.0, 0.0]))
    assert true.tolist() == [[10.0, 0.0, 5.0, 80.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]]
    assert billed[0, 3] == 100.0  # a new array


def test_case_mix_index_is_near_one_at_hospitals_and_the_coding_response_needs_per_case_payment() -> None:
    """Without per-case payment nothing is coded higher: the coding response changes nothing, and the CMI of
    hospitals is that of the severity mix (a severe stay weighs 1)."""
    per_diem = ["run.years=2", "levers.per_diem.enabled=true", "levers.per_diem.start_year=0"]
    off = sim.run(sim.load_scenario(None, [*SMALL, *per_diem]))
    on = sim.run(sim.load_scenario(None, [*SMALL, *per_diem, "levers.response.coding_creep=1"]))
    pd.testing.assert_frame_equal(on.daily, off.daily, check_exact=True)
    for t in HOSPITALS:
        assert (0.75 < off.annual[f"case_mix_index_{t}"]).all() and (off.annual[f"case_mix_index_{t}"] < 1.25).all()
    # Health centres admit moderate cases only here (0.68 = a moderate stay's weight).
    assert off.annual.case_mix_index_health_centre.iloc[0] == pytest.approx(0.68, rel=1e-12)


def test_upcoding_raises_the_case_mix_index_and_the_payment_per_case(drg_pair) -> None:
    upcoding, control = drg_pair
    up, base = sim.metrics.annual(upcoding.daily), control.annual
    # Years 0 and 1 are the same runs: the share is first raised at the close of the first year paid per case.
    same = control.daily[upcoding.daily.columns]
    pd.testing.assert_frame_equal(upcoding.daily[upcoding.daily.year < 2], same[same.year < 2], check_exact=True)
    for t in HOSPITALS:
        assert up[f"case_mix_index_{t}"].iloc[2] > base[f"case_mix_index_{t}"].iloc[2] + 0.05
        assert up[f"cost_per_admission_{t}"].iloc[2] > base[f"cost_per_admission_{t}"].iloc[2] * 1.03
    assert upcoding.model.facilities.upcoding_share.max() == pytest.approx(0.5)  # the bound


def test_coding_changes_money_only(drg_pair) -> None:
    """Length of stay, admissions, beds and their use are exactly the control's: coding is paid, not given."""
    upcoding, control = drg_pair
    assert upcoding.daily.stay_bills_tertiary.sum() > control.daily.stay_bills_tertiary.sum()
    pd.testing.assert_frame_equal(_care(upcoding.daily), _care(control.daily), check_exact=True)
    up, base = sim.metrics.annual(upcoding.daily), control.annual
    for t in HOSPITALS:
        assert up[f"mean_length_of_stay_{t}"].tolist() == base[f"mean_length_of_stay_{t}"].tolist()
    assert upcoding.checked_days == 30 + 4 * 365  # and the books balanced every day


def test_coding_raises_the_case_mix_index_by_the_creep_each_year_not_to_its_bound_at_once(drg_pair) -> None:
    """At 10% a year (bound 0.5, never reached here) the case-mix index rises about 10% over the control's in the
    second year paid per case and 20% in the third: a steady pace, as Medicare's case-mix index crept."""
    _, control = drg_pair
    creep = sim.run(sim.load_scenario(None, [*SMALL, *DRG, "levers.response.coding_creep=0.1"]))
    for t in HOSPITALS:
        ratio = creep.annual[f"case_mix_index_{t}"] / control.annual[f"case_mix_index_{t}"]
        assert ratio.iloc[1] == 1.0  # nothing is coded higher before the first close paid per case
        assert 1.05 < ratio.iloc[2] < 1.15
        assert 1.5 < (ratio.iloc[3] - 1.0) / (ratio.iloc[2] - 1.0) < 2.5
