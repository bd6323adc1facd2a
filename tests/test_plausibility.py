"""The baseline is plausible against the published figures of sim/data/published.toml (docs/references.md)."""

from __future__ import annotations

from sim.data import figure


def _first_year(results):
    return results.annual.iloc[0]


def test_primary_share_near_national(plausibility_results):
    a = _first_year(plausibility_results)
    published = figure("primary_visit_share").value
    assert abs(a["primary_visit_share"] - published) < 0.06
    assert abs(a["visit_share_tertiary"] - figure("tertiary_visit_share").value) < 0.06


def test_utilisation_per_capita(plausibility_results):
    a = _first_year(plausibility_results)
    assert 5.0 < a["visits_per_capita"] < 7.5  # 6.0 (2022) – 6.8 (2023)
    assert 0.15 < a["admissions_per_capita"] < 0.25  # 0.175 (2022) – 0.214 (2023)


def test_tertiary_beds_much_fuller_than_primary(plausibility_results):
    a = _first_year(plausibility_results)
    assert a["bed_occupancy_tertiary"] > a["bed_occupancy_health_centre"] + 0.2
    assert 0.75 < a["bed_occupancy_tertiary"] <= 1.0
    assert 0.3 < a["bed_occupancy_health_centre"] < 0.7  # community centres 42.6% (2022 Q1)


def test_costs_rise_with_tier(plausibility_results):
    a = _first_year(plausibility_results)
    visits = [a[f"cost_per_visit_{t}"] for t in ("village", "health_centre", "secondary", "tertiary")]
    stays = [a[f"cost_per_admission_{t}"] for t in ("health_centre", "secondary", "tertiary")]
    assert visits == sorted(visits) and stays == sorted(stays)
    assert abs(a["cost_per_visit_tertiary"] / figure("cost_per_visit_tertiary").value - 1) < 0.2
    assert abs(a["cost_per_visit_secondary"] / figure("cost_per_visit_secondary").value - 1) < 0.2
    assert abs(a["cost_per_admission_tertiary"] / figure("cost_per_admission_tertiary").value - 1) < 0.2
    assert abs(a["cost_per_admission_secondary"] / figure("cost_per_admission_secondary").value - 1) < 0.2


def test_length_of_stay_by_tier(plausibility_results):
    a = _first_year(plausibility_results)
    assert 4 < a["mean_length_of_stay_health_centre"] < a["mean_length_of_stay_secondary"]
    assert a["mean_length_of_stay_secondary"] < a["mean_length_of_stay_tertiary"] < 11
    hospitals = figure("mean_length_of_stay_hospitals").value  # 8.8 days (2023)
    assert abs(a["mean_length_of_stay_secondary"] - hospitals) < 1.5


def test_out_of_pocket_share(plausibility_results):
    # Ours is the share of facility bills paid out of pocket; the published 27% is of total
    # health expenditure (which includes government and non-facility spending), so ours is higher.
    a = _first_year(plausibility_results)
    assert figure("oop_share_total_health_expenditure").value < a["oop_share"] < 0.55


def test_baseline_revenue_grows_above_cap(plausibility_results):
    growth = plausibility_results.annual["medical_revenue_growth"].iloc[1]
    assert growth > 0.09, "under fee-for-service, baseline hospital revenue outgrows Sanming's 9% cap"


def test_admissions_by_level(plausibility_results):
    a = _first_year(plausibility_results)
    total = a["admissions"]
    assert 0.08 < a["admissions_health_centre"] / total < 0.25  # township + community ≈ 15–18%
    assert 0.3 < a["admissions_tertiary"] / total < 0.5  # tertiary ≈ 38%
