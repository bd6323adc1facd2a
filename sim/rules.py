"""Business rules, each written once as a scalar function.

Compiled for the kernels and called as they are by the model and the reference agents; numpy arrays
go through the same operations element-wise.
"""

from __future__ import annotations

import numpy as np

from sim.accel import helper
from sim.params import SEVERITIES

PRIMARY_TOP_TIER = 1
"""Village clinics (tier 0) and community or township health centres (tier 1) are primary care (基层)."""


@helper
def is_primary(tier: int | np.ndarray) -> bool | np.ndarray:
    """Whether a facility of this tier gives primary care (基层医疗卫生机构)."""
    return tier <= PRIMARY_TOP_TIER


@helper
def is_capitated(signed: bool, tier: int, facility_consortium: int, home_consortium: int) -> bool:
    """Whether capitation (按人头) already pays the fund's part of a visit, which is then not paid again.

    The fund pays a signed resident's own consortium's primary care per head; for a visit elsewhere,
    or by an unsigned resident, it pays per visit. Element-wise on arrays.
    """
    return signed & is_primary(tier) & (facility_consortium == home_consortium)


@helper
def visit_row(facility: int | np.ndarray, severity: int | np.ndarray, kind: int | np.ndarray) -> int | np.ndarray:
    """Row of a visit in the year's visit tables, ordered by facility, then severity, then kind (acute, follow-up)."""
    return (facility * len(SEVERITIES) + severity) * 2 + kind
