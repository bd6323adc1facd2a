"""Pure functions: claims, queues, beds, referrals, region layout, illness rates."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import care, illness, region
from sim.arrays import rank_within
from sim.insurance import split_claims


def test_claim_start_line_then_rate_then_cap():
    fund, oop, used = split_claims(
        bill=np.array([100.0, 1000.0, 5000.0]),
        resident=np.array([0, 1, 2]),
        rate=np.array([0.5, 0.5, 0.8]),
        start_line_left=np.array([200.0, 200.0, 0.0]),
        per_claim_start_line=np.zeros(3),
        cap_left=np.array([1e9, 1e9, 1000.0]),
    )
    assert np.allclose(used, [100, 200, 0])
    assert np.allclose(fund, [0, 400, 1000])
    assert np.allclose(fund + oop, [100, 1000, 5000])


def test_claims_of_one_resident_settle_in_order():
    """A batch gives the same split as the claims one at a time."""
    bills = np.array([150.0, 80.0, 300.0, 40.0])
    rate = np.array([0.6, 0.6, 0.4, 0.6])
    fund, oop, used = split_claims(bills, np.zeros(4, int), rate, np.full(4, 200.0), np.zeros(4), np.full(4, 100.0))
    start_left, cap_left = 200.0, 100.0
    for k in range(4):
        f1, o1, u1 = split_claims(
            bills[k : k + 1],
            np.zeros(1, int),
            rate[k : k + 1],
            np.array([start_left]),
            np.zeros(1),
            np.array([cap_left]),
        )
        assert np.isclose(f1[0], fund[k]) and np.isclose(o1[0], oop[k]) and np.isclose(u1[0], used[k])
        start_left -= u1[0]
        cap_left -= f1[0]
    assert np.isclose(fund.sum(), 100.0)  # the cap binds


def test_per_admission_start_line():
    fund, oop, _ = split_claims(
        np.array([3000.0]), np.array([0]), np.array([0.75]), np.zeros(1), np.array([500.0]), np.array([1e9])
    )
    assert np.isclose(fund[0], 0.75 * 2500) and np.isclose(oop[0], 500 + 0.25 * 2500)


def test_rank_within_groups():
    assert rank_within(np.array([2, 0, 2, 1, 0, 2])).tolist() == [0, 0, 1, 0, 1, 2]


def test_outpatient_queue_turns_away_beyond_limit():
    facility = np.zeros(10, dtype=np.int64)
    accepted, wait, queued = care.queue_outpatients(facility, np.array([0.0]), np.array([4.0]), 1.0)
    assert accepted.sum() == 8  # capacity 4 a day, up to one day of backlog
    assert wait[:4].max() < 1.0 and wait[4:8].min() >= 1.0
    assert care.end_of_day_backlog(queued, np.array([4.0]))[0] == 4.0


def test_queue_capacity_used_once_per_day():
    """Several passes in one day share one day's capacity: the second pass queues behind the first."""
    capacity = np.array([3.0])
    accepted1, _, queued = care.queue_outpatients(np.zeros(3, np.int64), np.array([0.0]), capacity, 2.0)
    accepted2, wait2, queued = care.queue_outpatients(np.zeros(3, np.int64), queued, capacity, 2.0)
    assert accepted1.all() and accepted2.all() and wait2.min() >= 1.0
    assert care.end_of_day_backlog(queued, capacity)[0] == 3.0


def test_beds_allocated_only_when_free():
    slot_facility = np.array([0, 0, 0, 1, 1])
    free = np.array([1, 2, 4])  # facility 0 has 2 free, facility 1 has 1
    req = np.array([0, 1, 0, 0, 1])
    slot = care.allocate_beds(req, free, slot_facility)
    assert slot.tolist() == [1, 4, 2, -1, -1]
    given = slot[slot >= 0]
    assert len(set(given.tolist())) == given.size and (slot_facility[given] == req[slot >= 0]).all()


def test_region_scales_residents_and_capacity_not_the_map():
    params = sim.load_scenario().region
    small, large = region.build(params, 0.02), region.build(params, 0.2)
    assert large.residents == 10 * small.residents
    assert large.n_facilities == small.n_facilities
    assert np.array_equal(large.cell_candidates, small.cell_candidates)
    assert np.allclose(large.cell_weight, small.cell_weight, rtol=1e-12)
    assert np.isclose(large.facility_doctors.sum(), 10 * small.facility_doctors.sum())
    expected = sum(params.beds_per_1000.as_array())
    for r in (small, large):
        beds_per_1000 = r.facility_beds.sum() / r.residents * 1000
        assert abs(beds_per_1000 - expected) < 0.1
        assert (r.cell_candidates[:, 0] >= 0).all() and (r.cell_candidates[:, 4] >= 0).all()
        assert set(np.unique(r.facility_tier[r.cell_candidates[:, 0]])) == {region.VILLAGE}
        assert set(np.unique(r.facility_tier[r.consortium_lead])) <= {region.SECONDARY, region.TERTIARY}
        assert (r.facility_consortium >= 0).all()
        assert np.isclose(r.cell_weight.sum(), 1.0)


def test_apportion_is_exact_and_proportional():
    shares = region.apportion(np.array([1.0, 1.0, 2.0, 0.0]), 7)
    assert shares.sum() == 7 and shares[3] == 0 and shares[2] >= shares[0]
    assert region.apportion(np.zeros(3), 5).sum() == 0


def test_referral_goes_to_capable_facility(small_model):
    m = small_model
    cap = m.facilities.outpatient_capability
    for s in range(4):
        target = m.cells.referral_outpatient[:, s]
        assert (target >= 0).all() and (cap[target] >= s).all()


def test_illness_rates_rise_with_age_and_chronic():
    params = sim.load_scenario().illness
    rate = illness.acute_rate(np.array([30, 70, 30]), np.array([False, False, True]), params)
    assert rate[1] > rate[0] and rate[2] > rate[0]
    shares = illness.severity_shares(np.array([30, 80]), params)
    assert np.allclose(shares.sum(axis=1), 1) and shares[1, 0] < shares[0, 0]


def test_length_of_stay_positive_and_by_tier():
    params = sim.load_scenario().illness
    key = np.arange(20000, dtype=np.uint64)
    tiers = np.full(key.size, 3)
    stays = illness.length_of_stay(1, key, tiers, np.full(key.size, 2), np.ones(key.size), params)
    assert stays.min() >= 1
    assert abs(stays.mean() - params.length_of_stay.tertiary) < 0.5


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_inpatient_capability_covers_outpatient_referrals(tier):
    params = sim.load_scenario().care
    assert params.inpatient_capability.as_array()[tier] <= params.outpatient_capability.as_array()[tier]
