"""Hospitals' supply response: beds and clinic sessions that grow with their use (the siphon, 虹吸)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.facilities import capacity_factor, primary_beds_first, standard_beds

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


@cache
def tiny(*extra: str) -> sim.Results:
    """The baseline at 10,000 residents for 3 years: enough for a lever that must change nothing to show it."""
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.toml", ["run.scale=0.004", "run.years=3", *extra]))


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
STANDARD = (
    "levers.bed_standard.enabled=true",
    "levers.bed_standard.standard.health_centre=1.5",
    "levers.bed_standard.build_up_share=0.5",
)


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


def test_primary_beds_first_and_standard_factors_hand_worked():
    tier = np.array([0, 1, 1, 2, 3])
    plan = np.array([0.0, 10.0, 30.0, 103.0, 206.0])
    own = np.array([0.0, 10.0, 30.0, 100.0, 200.0])  # the plan without the year's 3%
    # Hospitals keep their own plan; the 9 beds of their growth go to the centres' 40, shared by their beds.
    factor = primary_beds_first(plan, own, tier)
    assert factor == pytest.approx([1.0, 49 / 40, 49 / 40, 100 / 103, 200 / 206])
    assert (plan * factor).sum() == pytest.approx(plan.sum())
    inf = np.inf
    held = np.array([0.0, 10.0, 30.0, 100.0, 190.0])  # tertiary: its supply response cuts 5% of last year's 200
    factor = standard_beds(
        plan,
        held,
        tier,
        over=np.array([False, False, False, True]),
        ceiling=np.array([inf, inf, 90.0, 150.0]),
        floor=np.array([0.0, 50.0, 0.0, 0.0]),
        build_up=0.5,
    )
    # Centres: 40 planned, floor 50, half the gap → 45. Secondary under its ceiling grows at most to it:
    # 103 → 90. Tertiary over its ceiling: no growth, and its own cut stays (206 → 190).
    assert factor == pytest.approx([1.0, 45 / 40, 45 / 40, 90 / 103, 190 / 206])
    # No standard: no change.
    assert (standard_beds(plan, held, tier, np.zeros(4, bool), np.full(4, inf), np.zeros(4), 0.5) == 1).all()


def test_bed_standard_stops_hospital_tiers_above_it_and_builds_up_health_centres():
    free, held = run(0.0, 0.0), run(0.0, 0.0, *STANDARD)
    for tier in ("secondary", "tertiary"):
        # Both hospital tiers start above the standard (2.8 and 2.6 per 1,000): no growth from year 1.
        assert (yearly(held, f"beds_{tier}") == yearly(held, f"beds_{tier}")[0]).all()
        assert yearly(free, f"beds_per_1000_{tier}")[2] > yearly(held, f"beds_per_1000_{tier}")[2] * 1.05
    # Health centres (1.1 per 1,000) are built up half-way to 1.5 a year: above the plan's 3% growth.
    centres_free, centres_held = (
        yearly(free, "beds_per_1000_health_centre"),
        yearly(held, "beds_per_1000_health_centre"),
    )
    assert centres_held[0] == centres_free[0]  # year 0: the lever has not started
    assert centres_held[2] > centres_free[2] + 0.15
    assert centres_held[2] < 1.5
    # Nor does the hospitals' own supply response grow a tier above its standard.
    responding = run(2.0, 0.0, *STANDARD)
    assert (yearly(responding, "beds_tertiary")[1:] <= yearly(responding, "beds_tertiary")[0]).all()
    assert yearly(run(2.0, 0.0), "beds_tertiary")[2] > yearly(responding, "beds_tertiary")[2]
    # Standards no tier reaches or falls short of change nothing.
    loose = run(
        0.0,
        0.0,
        "levers.bed_standard.enabled=true",
        *(
            f"levers.bed_standard.standard.{t}={v}"
            for t, v in (("health_centre", 0), ("secondary", 50), ("tertiary", 50))
        ),
    )
    assert (loose.daily == free.daily).all().all()


def test_primary_beds_first_moves_the_hospitals_planned_beds_to_health_centres():
    free, first = run(0.0, 0.0), run(0.0, 0.0, "levers.primary_beds_first.enabled=true")
    for tier in ("secondary", "tertiary"):
        assert (yearly(first, f"beds_{tier}") == yearly(first, f"beds_{tier}")[0]).all()  # they keep their beds
        assert yearly(first, f"beds_per_1000_{tier}")[2] < yearly(free, f"beds_per_1000_{tier}")[2]
    centres_free, centres_first = yearly(free, "beds_health_centre"), yearly(first, "beds_health_centre")
    moved = sum(yearly(free, f"beds_{t}")[2] - yearly(first, f"beds_{t}")[2] for t in ("secondary", "tertiary"))
    assert moved > 0
    assert centres_first[2] - centres_free[2] == pytest.approx(moved, abs=2)  # the same beds, rounded by tier
    assert yearly(first, "beds_per_1000_health_centre")[2] > yearly(free, "beds_per_1000_health_centre")[2] * 1.1
    # With no planned growth there is nothing to move.
    flat = ("region.capacity_growth=0",)
    assert (
        (run(0.0, 0.0, *flat, "levers.primary_beds_first.enabled=true").daily == run(0.0, 0.0, *flat).daily).all().all()
    )
