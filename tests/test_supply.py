"""Hospitals' supply response: beds and clinic sessions that grow with their use (the siphon, 虹吸)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.facilities import capacity_factor

ROOT = Path(__file__).resolve().parents[1]


@cache
def run(bed: float, clinic: float, *extra: str) -> sim.Results:
    """The baseline at 50,000 residents for 3 years with the given responses of beds and clinics."""
    overrides = [
        "run.scale=0.02",
        "run.years=3",
        f"levers.response.bed_response={bed}",
        f"levers.response.clinic_response={clinic}",
        *extra,
    ]
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.toml", overrides))


def yearly(results: sim.Results, column: str) -> np.ndarray:
    return results.annual[column].to_numpy()


def test_capacity_factor_hand_worked():
    use = np.array([0.85, 0.95, 0.75, 1.5, 0.0])
    factor = capacity_factor(use, target=0.85, response=2.0, bound=0.3)
    # exp(2 × (use − 0.85)), its logarithm within ±0.3.
    assert factor == pytest.approx(np.exp([0.0, 0.2, -0.2, 0.3, -0.3]), rel=1e-13)


def test_full_hospitals_add_beds_and_primary_care_follows_the_plan():
    on, off = run(2.0, 0.0), run(0.0, 0.0)
    # Tertiary wards run ≈97% full, above the 85% target: they grow faster than the region's 3%.
    assert yearly(on, "beds_tertiary")[2] > yearly(off, "beds_tertiary")[2] * 1.05
    # Primary care's beds are planned: the same as without the response.
    for tier in ("health_centre", "village"):
        assert (yearly(on, f"beds_{tier}") == yearly(off, f"beds_{tier}")).all()
    assert (yearly(on, "beds_tertiary")[0] == yearly(off, "beds_tertiary")[0]).all()  # year 0: no response yet


def test_hospitals_clinics_growing_with_use_draw_patients_up_the_tiers():
    """The siphon: full hospital clinics that add sessions take visits from primary care."""
    clinics, beds_only, off = run(2.0, 2.0), run(2.0, 0.0), run(0.0, 0.0)
    drop = yearly(clinics, "primary_visit_share")[2] - yearly(off, "primary_visit_share")[2]
    assert -0.05 < drop < -0.01  # −2.7 points here
    assert yearly(clinics, "unmet_episodes")[2] < 0.5 * yearly(off, "unmet_episodes")[2]  # fewer turned away
    # Beds growing with occupancy draw patients too, through the clinic sessions staffed with them
    # (`fill_beds`); without those, patients see beds only through the admission wait and barely move.
    beds = yearly(beds_only, "primary_visit_share")[2] - yearly(off, "primary_visit_share")[2]
    assert -0.03 < beds < -0.005  # −1.2 points here
    unfilled = run(2.0, 0.0, "levers.response.fill_beds=false"), run(0.0, 0.0, "levers.response.fill_beds=false")
    beds = yearly(unfilled[0], "primary_visit_share")[2] - yearly(unfilled[1], "primary_visit_share")[2]
    assert abs(beds) < abs(drop) / 4


CAP = ("levers.scale_cap.enabled=true", "levers.scale_cap.start_year=2")


def test_scale_cap_holds_tertiary_hospitals_to_the_plan():
    """控制规模: capped tertiary hospitals grow only with the plan, so the siphon stops; others still grow."""
    free, capped = run(2.0, 2.0), run(2.0, 2.0, *CAP)
    # The cap acts on the capacity of year 2 onward: year 1 is the same run.
    assert (yearly(capped, "beds_tertiary")[:2] == yearly(free, "beds_tertiary")[:2]).all()
    assert yearly(capped, "beds_tertiary")[2] < yearly(free, "beds_tertiary")[2]
    assert yearly(capped, "beds_secondary")[2] == yearly(free, "beds_secondary")[2]  # tertiary only
    assert yearly(capped, "primary_visit_share")[2] > yearly(free, "primary_visit_share")[2] + 0.002
    # Without the supply response there is no expansion to cap: the lever changes nothing.
    assert (run(0.0, 0.0, *CAP).daily == run(0.0, 0.0).daily).all().all()
