"""Learned trust and reputations (`care.learn_outcomes`), the expansion lever, and the siphon experiment's checks.

The two engines' agreement with learning on is `tests/test_engines.py`'s case "learning+expansion".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import experiment, tiersim_here

import sim
from sim import care
from sim.config import ScenarioError
from sim.model import CareModel
from sim.params import TIERS
from sim.state import Learning

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["run.scale=0.002", "run.warmup_days=20"]
VILLAGE, CENTRE, SECONDARY, TERTIARY = range(len(TIERS))


def _learning(trust: list[float], cells: int = 2, rate: float = 0.1, alpha: float = 0.25) -> Learning:
    reference = np.array([0.9, 0.9, 1.0, 1.0])
    return Learning(
        enabled=True,
        trust=np.array(trust, dtype=np.float32),
        reputation=np.tile(reference, (cells, 1)),
        reference=reference,
        trust_rate=rate,
        reputation_rate=alpha,
        reputation_weight=2.0,
        first_contacts=np.zeros((cells, len(TIERS)), dtype=np.int64),
    )


def test_referred_on_or_turned_away_at_primary_care_loses_trust_and_treated_gains_it():
    learning = _learning([0.5, 0.5, 0.5, 0.5])
    care.learn_outcomes(
        learning,
        np.array([0, 1, 2, 3]),  # residents
        np.array([0, 0, 1, 1]),  # their cells
        np.array([CENTRE, VILLAGE, TERTIARY, VILLAGE]),  # where they went
        np.array([False, True, True, False]),  # resolved there
    )
    # Referred on (0) and turned away (3) lose a tenth of their trust; treated (1) gains a tenth of
    # the gap; a hospital visit (2) leaves trust in primary care as it was.
    assert learning.trust.tolist() == pytest.approx([0.45, 0.55, 0.5, 0.45])
    assert learning.trust.dtype == np.float32
    # Cell 0 saw one of one village visits resolved, none of one centre visit; cell 1 a tertiary
    # success and a village failure; tiers without outcomes keep their reputation.
    assert learning.reputation[0].tolist() == pytest.approx([0.925, 0.675, 1.0, 1.0])
    assert learning.reputation[1].tolist() == pytest.approx([0.675, 0.9, 1.0, 1.0])


def test_a_resident_learns_outcomes_in_order():
    learning = _learning([0.5], rate=0.5)
    care.learn_outcomes(
        learning, np.array([0, 0]), np.array([0, 0]), np.array([VILLAGE, VILLAGE]), np.array([True, False])
    )
    assert learning.trust[0] == pytest.approx(0.375)  # 0.5 → 0.75 → 0.375, not 0.5 → 0.25 → 0.625
    assert learning.reputation[0, VILLAGE] == pytest.approx(0.75 * 0.9 + 0.25 * 0.5)


def test_learning_off_changes_nothing_whatever_its_parameters():
    plain = sim.load_scenario(overrides=[*SMALL, "run.years=1"])
    off = sim.load_scenario(
        overrides=[*SMALL, "run.years=1", "care.learning.trust_rate=0.9", "care.learning.reputation_weight=9"]
    )
    a, b = CareModel(plain), CareModel(off)
    for model in (a, b):
        model.run_years(1)
    pd.testing.assert_frame_equal(a.recorder.daily(), b.recorder.daily(), check_exact=True)
    assert np.array_equal(b.trust, b.population.trust)
    assert np.array_equal(
        b.reputation, np.tile(b.scenario.care.learning.reputation_prior.as_array(), (b.reputation.shape[0], 1))
    )
    assert b.first_contacts_by_cell.sum() > 0  # the per-cell record is kept either way


def test_learning_on_moves_some_residents_trust_and_their_choices():
    overrides = [*SMALL, "run.warmup_days=0"]
    plain = CareModel(sim.load_scenario(overrides=overrides))
    model = CareModel(sim.load_scenario(overrides=[*overrides, "care.learning.enabled=true"]))
    for m in (plain, model):
        m.run_years(1)
    moved = model.trust != model.population.trust
    assert 0 < moved.mean() < 1
    assert not (model.reputation == plain.reputation).all()
    daily = model.recorder.daily()
    assert not daily.equals(plain.recorder.daily())
    # Every first contact is recorded once by home cell and tier (no warm-up here).
    by_tier = [int(daily[f"first_contacts_{tier}"].sum()) for tier in TIERS]
    assert model.first_contacts_by_cell.sum(axis=0).tolist() == by_tier


def test_expansion_adds_beds_to_the_named_hospital_only_from_its_start_year():
    base = sim.load_scenario(overrides=SMALL)
    probe = CareModel(base)
    hospital = int(np.flatnonzero(probe.facilities.tier == TERTIARY)[0])
    grown = sim.load_scenario(
        overrides=[
            *SMALL,
            "levers.expansion.enabled=true",
            f"levers.expansion.facility={hospital}",
            "levers.expansion.beds_share=0.5",
            "levers.expansion.outpatient_share=0.25",
        ]
    )
    a, b = CareModel(base), CareModel(grown)
    for model in (a, b):
        model.run_years(1)
    assert np.array_equal(a.facilities.beds, b.facilities.beds)  # year 0: not yet
    for model in (a, b):
        model.step()  # year 1 starts
    changed = np.flatnonzero(a.facilities.beds != b.facilities.beds)
    assert changed.tolist() == [hospital]
    assert b.facilities.beds[hospital] == a.facilities.beds[hospital] + round(0.5 * a.facilities.beds[hospital])
    assert np.count_nonzero(b.wards.facility == hospital) == b.facilities.beds[hospital]
    capacity_changed = np.flatnonzero(a.facilities.outpatient_capacity != b.facilities.outpatient_capacity)
    assert capacity_changed.tolist() == [hospital]
    assert b.facilities.outpatient_capacity[hospital] == pytest.approx(
        1.25 * a.facilities.outpatient_capacity[hospital]
    )


def test_expansion_of_a_facility_not_of_its_tier_is_refused(tmp_path):
    with pytest.raises(
        ScenarioError,
        match=r"levers\.expansion\.facility = 0 is invalid: allowed −1 \(every tertiary hospital\) or a tertiary",
    ):
        CareModel(sim.load_scenario(overrides=[*SMALL, "levers.expansion.enabled=true", "levers.expansion.facility=0"]))
    p = tiersim_here(
        "run", "--scale", "0.002", "--years", "1", "--set", "levers.expansion.enabled=true",
        "--set", "levers.expansion.facility=0", "--out", str(tmp_path / "no"), cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 2
    assert "levers.expansion.facility = 0 is invalid" in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--scale", "2"], "--scale = 2 is invalid: allowed 0 < scale ≤ 1"),
        (["--replications", "1"], "--replications = 1 is invalid: allowed 2–100"),
        (["--start-year", "4", "--years", "4"], "--start-year = 4 is invalid: allowed 0–3"),
        (["--facility", "0", "--scale", "0.002"], "levers.expansion.facility = 0 is invalid"),
        (["--set", "levers.response.fill_beds=maybe", "--scale", "0.002"], "levers.response.fill_beds = 'maybe'"),
    ],
)
def test_siphon_refuses_bad_input_in_one_line(tmp_path, capsys, args, expect):
    with pytest.raises(SystemExit) as exit_:
        experiment("siphon").main([*args, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expect in err and len(err.strip().splitlines()) == 1, err
