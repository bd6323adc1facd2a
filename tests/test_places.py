"""The facility and area tables (`sim.places`) add up to the by-tier tables of the same run.

A facility's visits, admissions, bed-days and revenue summed over a tier are the tier's totals of
annual.csv; an area's first contacts, visits, admissions and out-of-pocket payments summed over the
region are the region's; no facility fills more bed-days than it has, nor admits more patients than
the bed-days they fill. The two engines' tables are identical (tests/test_engines.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS
from sim.presentation import maps


@pytest.fixture(scope="module")
def results() -> sim.Results:
    # Transfers up, down-referrals and county admissions all occur at this size.
    scenario = sim.load_scenario(overrides=["run.scale=0.01", "run.years=2", "run.warmup_days=60"])
    return sim.run(scenario)


def _by_tier(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """(years, tiers) sums of a facility column."""
    return table.pivot_table(index="year", columns="tier", values=column, aggfunc="sum").reindex(columns=list(TIERS))


def _annual(results: sim.Results, field: str) -> np.ndarray:
    return results.annual[[f"{field}_{t}" for t in TIERS]].to_numpy()


@pytest.mark.parametrize(
    ("column", "field"),
    [("visits", "visits"), ("admissions", "admissions"), ("bed_days", "occupied_beds")],
)
def test_facility_counts_sum_to_the_tier_totals(results, column, field):
    got = _by_tier(results.facilities, column).fillna(0).to_numpy()
    np.testing.assert_array_equal(got, _annual(results, field))
    assert got.sum() > 0


def test_facility_revenue_sums_to_the_tier_revenue(results):
    f = results.facilities
    for part in (*COMPONENTS, "lump_sum"):
        np.testing.assert_allclose(
            _by_tier(f, f"revenue_{part}").to_numpy(), _annual(results, f"revenue_{part}"), rtol=1e-12, atol=1e-6
        )
    billed = sum(f[f"revenue_{c}"] for c in COMPONENTS)
    np.testing.assert_allclose(f.medical_revenue, billed + f.revenue_lump_sum, rtol=1e-12)
    # Every yuan billed is paid by the fund or the patient (no lump sum in the baseline).
    np.testing.assert_allclose(f.fund_claims + f.out_of_pocket, billed, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(
        f.groupby("year").out_of_pocket.sum().to_numpy(), results.annual.oop_paid.to_numpy(), rtol=1e-12
    )


def test_facility_waits_are_the_tiers_waits(results):
    f = results.facilities
    admitted = f.mean_admission_wait_days.fillna(0) * f.admissions
    np.testing.assert_allclose(
        _by_tier(f.assign(w=admitted), "w").fillna(0).to_numpy(), _annual(results, "admission_wait_days"), atol=1e-6
    )
    assert (f.mean_visit_wait_days.dropna() >= 0).all()
    assert f.mean_visit_wait_days.notna().sum() > 0


def test_beds_hold_the_admissions_and_bed_days(results):
    f = results.facilities
    assert (f.bed_days <= f.beds * 365).all()
    assert (f.admissions <= f.bed_days).all()  # a patient admitted today is in bed at today's record
    assert f.occupancy.dropna().between(0, 1).all()
    assert f.loc[f.beds == 0, "occupancy"].isna().all()


def test_referrals_sent_are_referrals_received_and_the_flows(results):
    f, annual = results.facilities, results.annual
    flows = annual.filter(regex="^flow_").sum(axis=1).to_numpy()
    np.testing.assert_array_equal(f.groupby("year").referrals_out.sum().to_numpy(), flows)
    np.testing.assert_array_equal(f.groupby("year").referrals_in.sum().to_numpy(), flows)
    sent = _by_tier(f, "referrals_out").fillna(0).to_numpy()
    from_tier = np.stack([annual.filter(regex=f"^flow_{t}_to_").sum(axis=1).to_numpy() for t in TIERS], axis=1)
    np.testing.assert_array_equal(sent, from_tier)


def test_area_first_contacts_and_visits_sum_to_the_regions(results):
    a, annual = results.areas, results.annual
    for field in ("first_contacts", "visits"):
        got = a.groupby("year")[[f"{field}_{t}" for t in TIERS]].sum().to_numpy()
        np.testing.assert_array_equal(got, _annual(results, field))
        assert got.sum() > 0
    sums = a.groupby("year")[["admissions", "county_admissions", "county_admissions_in_county"]].sum()
    np.testing.assert_array_equal(sums.admissions, annual.admissions)
    np.testing.assert_array_equal(sums.county_admissions, annual.county_admissions)
    np.testing.assert_array_equal(sums.county_admissions_in_county, annual.county_admissions_in_county)
    assert sums.county_admissions.sum() > 0
    np.testing.assert_allclose(a.groupby("year").out_of_pocket.sum(), annual.oop_paid, rtol=1e-12)
    assert (a.groupby("year").residents.sum() == results.summary["residents"]).all()


def test_area_indicators(results):
    a = results.areas
    visits = a[[f"visits_{t}" for t in TIERS]].sum(axis=1)
    seen = visits > 0
    np.testing.assert_allclose(
        a.primary_visit_share[seen], (a.visits_village + a.visits_health_centre)[seen] / visits[seen]
    )
    assert a.primary_visit_share[~seen].isna().all()
    assert a.loc[~a.county, "in_county_rate"].isna().all()  # only county residents' admissions count
    assert a.loc[a.county, "in_county_rate"].dropna().between(0, 1).all()
    assert a.oop_share.dropna().between(0, 1).all()


def test_the_tables_name_every_facility_and_area_each_year(results):
    f, a = results.facilities, results.areas
    region = sim.CareModel(results.scenario).region
    assert len(f) == 2 * region.n_facilities and len(a) == 2 * region.n_cells
    assert f.groupby("year").facility_id.apply(lambda ids: list(ids) == list(region.facility_id)).all()
    assert list(f.name[: region.n_facilities]) == list(region.facility_name)
    assert set(f.tier) == set(TIERS)
    assert list(f.calendar_year.unique()) == list(results.annual.calendar_year)


def test_run_writes_the_tables(results, tmp_path):
    results.write(tmp_path / "out")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "facilities.parquet"), results.facilities)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "areas.parquet"), results.areas)


def test_compare_keeps_every_replications_tables_and_ranks_the_changes(tmp_path):
    small = ["run.scale=0.01", "run.years=1", "run.warmup_days=60"]
    base = sim.load_scenario("scenarios/baseline.toml", small)
    alt = sim.load_scenario("scenarios/start_line_gap.toml", [*small, "levers.start_line.start_year=0"])
    comparison = sim.compare([base, alt], replications=2)
    f = comparison.facilities
    assert list(f.columns[:3]) == ["scenario", "replication", "seed"]
    assert f.groupby(["scenario", "replication"]).size().tolist() == [f.facility_id.nunique()] * 4
    comparison.write(tmp_path / "cmp")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cmp" / "facilities.parquet"), f)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cmp" / "areas.parquet"), comparison.areas)

    moved = maps.gains_and_losses(f, "baseline", "start_line_gap", n=5)
    means = f.groupby(["scenario", "name"]).visits.mean()
    change = means["start_line_gap"] - means["baseline"]
    np.testing.assert_allclose(moved.visits, change[moved.name].to_numpy())
    gains, losses = moved[moved.visits > 0], moved[moved.visits < 0]
    assert len(gains) == 5 and len(losses) == 5
    assert gains.visits.iloc[0] == change.max() and losses.visits.iloc[-1] == change.min()
    assert moved.visits.is_monotonic_decreasing
