"""The state records: fields declared once (type and initial value) and handled field by field."""

from __future__ import annotations

import numpy as np

from sim.state import FREE_BED, Requests, Wards, columns


def test_new_wards_hold_each_field_s_declared_initial_value() -> None:
    wards = Wards.empty(np.array([2, 0, 3]))
    assert wards.facility.tolist() == [0, 0, 2, 2, 2]
    for name, column in columns(Wards).items():
        field = getattr(wards, name)
        assert field.dtype == np.dtype(column.dtype) and field.size == 5
        if name != "facility":
            assert np.all(field == column.fill), name
    assert np.all(wards.discharge_day == FREE_BED) and wards.free_slots().tolist() == [0, 1, 2, 3, 4]


def test_resized_wards_keep_every_field_of_every_patient() -> None:
    wards = Wards.empty(np.array([3, 2]))
    for name in Wards._fields:
        if name != "facility":
            getattr(wards, name)[:] = np.arange(5).astype(getattr(wards, name).dtype) + 1
    wards.discharge_day[[0, 3]] = FREE_BED  # slot 0 of facility 0 and slot 0 of facility 1 are free
    grown = wards.resized(np.array([2, 4]))
    assert grown.occupied(2).tolist() == [2, 1]
    # Facility 0's stays (slots 1 and 2) move to its front; facility 1's (slot 4) to the front of its range.
    for name in Wards._fields:
        if name not in ("facility",):
            field = getattr(grown, name)
            want = getattr(wards, name)[[1, 2, 4]]
            assert field[[0, 1, 2]].tolist() == want.tolist(), name
    assert grown.free_slots().tolist() == [3, 4, 5]


def test_requests_are_made_joined_and_taken_field_by_field() -> None:
    made = Requests.new(2, resident=np.array([7, 8]), facility=np.array([1, 2]))
    assert made.size == 2 and made.chain_consortium.tolist() == [-1, -1] and made.chain_paid.tolist() == [0.0, 0.0]
    for name, column in columns(Requests).items():
        assert getattr(made, name).dtype == np.dtype(column.dtype), name
    joined = Requests.concat_all([Requests.empty(), made, made.take(np.array([1]))])
    assert joined.size == 3 and joined.resident.tolist() == [7, 8, 8] and joined.facility.tolist() == [1, 2, 2]
    assert Requests.concat_all([]).size == 0 and Requests.empty().key.dtype == np.uint64
