"""Hospitals that fill their beds (Roemer's law): the siphon (虹吸) of a tertiary hospital that adds beds alone."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import experiment

import sim
from sim.facilities import filled_propensity, spare_beds
from sim.model import CareModel
from sim.params import TIERS

ROOT = Path(__file__).resolve().parents[1]
HOSPITAL = 1354
"""Tertiary hospital 5, the one with the largest catchment (facility indices do not depend on the scale)."""
COMMON = ["run.scale=0.02", "run.years=3", "care.learning.enabled=true"]
BEDS_ONLY = [
    "levers.expansion.enabled=true",
    f"levers.expansion.facility={HOSPITAL}",
    "levers.expansion.beds_share=0.2",
    "levers.expansion.outpatient_share=0",
]


@cache
def catchment_primary_share(fill: bool, expansion: bool) -> np.ndarray:
    """(years,) primary share of the first contacts of the hospital's catchment, seed 1."""
    siphon = experiment("siphon")
    overrides = [*COMMON, f"levers.response.fill_beds={str(fill).lower()}", *(BEDS_ONLY if expansion else [])]
    scenario = sim.load_scenario(overrides=overrides)
    area = siphon.catchment(CareModel(scenario), HOSPITAL)
    return siphon.one_run(scenario, 1, area, 3)["catchment_primary_share"].to_numpy()


def test_spare_beds_hand_worked():
    occupancy = np.array([0.85, 0.5, 0.97, 0.0, 0.8])
    # ln(0.85 / occupancy) where occupancy is below the target and above 0.
    assert spare_beds(occupancy, 0.85) == pytest.approx([0.0, np.log(1.7), 0.0, 0.0, np.log(0.85 / 0.8)], rel=1e-13)


def test_the_catchment_is_the_largest():
    model = CareModel(sim.load_scenario(overrides=COMMON))
    assert experiment("siphon").largest_catchment(model) == HOSPITAL
    assert model.facilities.tier[HOSPITAL] == TIERS.index("tertiary")


def test_beds_alone_draw_the_catchment_from_primary_care_when_hospitals_fill_them():
    """虹吸: clinics staffed with the new beds draw first contacts up the year after; without it, beds alone do not."""
    on = catchment_primary_share(True, True) - catchment_primary_share(True, False)
    off = catchment_primary_share(False, True) - catchment_primary_share(False, False)
    assert on[0] == off[0] == 0.0  # year 0: before the expansion
    # Year 1: the beds are there, the clinics that follow them not yet.
    assert abs(on[1]) < 0.002 and abs(off[1]) < 0.002
    assert -0.03 < on[2] < -0.005  # −1.5 points here
    assert abs(off[2]) < 0.002  # the control: beds enter choice only through the admission wait


def test_hospitals_with_spare_beds_admit_more_moderate_cases():
    """Roemer's law in the wards: emptier hospitals admit more moderate cases; full ones and primary care do not."""
    models = {}
    for fill in (True, False):
        overrides = ["run.scale=0.02", "run.years=1", f"levers.response.fill_beds={str(fill).lower()}"]
        models[fill] = model = CareModel(sim.load_scenario(overrides=overrides))
        model.run_years(1)
    f = models[True].facilities
    raised = f.admission_propensity > 1.0
    # The baseline's secondary hospitals include some at a third of their beds: those fill.
    assert raised.any()
    assert (f.tier[raised] >= TIERS.index("secondary")).all()
    np.testing.assert_array_equal(models[False].facilities.admission_propensity, 1.0)


def test_filling_spare_beds_pays_only_as_far_as_an_extra_case_does():
    propensity = np.array([1.0, 1.0, 1.0, 1.2, 1.4])
    spare = np.array([0.5, 0.5, 0.5, 0.0, 1.0])
    margin = np.array([1.0, 0.5, 0.0, 1.0, 1.0])
    filled = filled_propensity(propensity, spare, margin, 0.4)
    # Fee-for-service or per case; half of an extra case's bill kept; none kept; no spare beds; the bound.
    assert filled == pytest.approx([np.exp(0.2), np.exp(0.1), 1.0, 1.2, 1.5], rel=1e-15)


@cache
def _propensity(budget: bool, fill: bool) -> np.ndarray:
    """Admission propensities after two years, a budget taking back all of an extra case's fund share from year 1."""
    overrides = [
        "run.scale=0.02",
        "run.years=2",
        f"levers.response.fill_beds={str(fill).lower()}",
        "levers.response.fill_admission_elasticity=0.2",  # small: the 1.5 bound must not bind
    ]
    if budget:
        overrides += [
            "levers.global_budget.enabled=true",
            "levers.global_budget.start_year=1",
            "levers.global_budget.surplus_kept=1",
            "levers.global_budget.overspend_borne=1",
        ]
    model = CareModel(sim.load_scenario(overrides=overrides))
    model.run_years(2)
    return model.facilities.admission_propensity.copy()


def test_a_budget_that_takes_back_an_extra_case_stops_hospitals_filling_their_beds():
    """Under the budget the beds' pull on admissions weakens against fee-for-service; with filling off (the control)
    the budget's own admission restraint is all that differs."""
    ffs_on, budget_on = _propensity(False, True), _propensity(True, True)
    ffs_off, budget_off = _propensity(False, False), _propensity(True, False)
    filled = (ffs_on > ffs_off) & (ffs_on < 1.5)  # hospitals that filled beds, below the bound
    assert filled.sum() >= 3, filled.sum()
    with_fill = np.log(budget_on / ffs_on)[filled]
    without = np.log(budget_off / ffs_off)[filled]
    assert (without < 0).all()  # the budget's admission restraint, the same with or without filling
    # and less filling at the year-1 close, when the budget took back the fund's share of an extra case
    assert (with_fill - without).mean() < -0.01, (with_fill - without, np.log(ffs_on[filled]))
