"""Facilities: state as arrays (the daily hot path) and a `Facility` Mesa agent over each row.

Facilities are few and rich. Their daily state — queue backlog, expected waits, today's revenue —
lives in `FacilityState` arrays so a day's thousands of visits are handled in a few numpy calls;
each facility is also a `Facility(mesa.Agent)` whose properties read and write its row, and whose
`respond()` is the once-a-year provider decision (under fee-for-service: raise intensity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import payment
from sim.care import CareParams
from sim.params import TIERS
from sim.payment import COMPONENTS, PriceParams
from sim.region import Region, RegionParams

if TYPE_CHECKING:
    from sim.model import CareModel


class FacilityState:
    """All facilities' state as arrays, one row per facility.

    Attributes:
        tier, district, consortium: From the region.
        beds: Inpatient beds (fixed; bed slots in the model are built from it).
        outpatient_capacity: Visits seen per day (doctors × visits per doctor-day).
        quality: Perceived quality, 0–1.
        outpatient_capability, inpatient_capability: Highest severity treated / admitted.
        intensity: Service intensity multiplier on prices (1 at the start).
        backlog: Outpatient visits waiting.
        expected_wait, expected_admission_wait: Learned waits in days, what patients expect.
        revenue: (F, 3) this year's revenue by component (service, drugs, tests), yuan.
        paid_by_fund, paid_out_of_pocket: This year's revenue by payer, yuan.
    """

    def __init__(self, region: Region, region_params: RegionParams, care: CareParams) -> None:
        tier = region.facility_tier.astype(np.int64)
        self.tier = tier
        self.district = region.facility_district
        self.consortium = region.facility_consortium
        self.name = region.facility_name
        self.beds = region.facility_beds.copy()
        self.outpatient_capacity = region.facility_doctors * region_params.visits_per_doctor_day.as_array()[tier]
        self.quality = care.quality.as_array()[tier]
        self.outpatient_capability = care.outpatient_capability.as_array()[tier].astype(np.int64)
        # A facility left without beds at a small scale admits nobody: it refers its inpatients up.
        self.inpatient_capability = np.where(
            self.beds > 0, care.inpatient_capability.as_array()[tier].astype(np.int64), -1
        )
        n = tier.size
        self.intensity = np.ones(n)
        self.backlog = np.zeros(n)
        self.expected_wait = np.zeros(n)
        self.expected_admission_wait = np.zeros(n)
        self.revenue = np.zeros((n, len(COMPONENTS)))
        self.paid_by_fund = np.zeros(n)
        self.paid_out_of_pocket = np.zeros(n)

    def __len__(self) -> int:
        return int(self.tier.size)

    def credit(self, facility: np.ndarray, components: np.ndarray, fund: np.ndarray, oop: np.ndarray) -> None:
        """Book bills in facilities' ledgers: revenue by component and by payer."""
        n = len(self)
        for c in range(components.shape[1]):
            self.revenue[:, c] += np.bincount(facility, weights=components[:, c], minlength=n)
        self.paid_by_fund += np.bincount(facility, weights=fund, minlength=n)
        self.paid_out_of_pocket += np.bincount(facility, weights=oop, minlength=n)

    def close_year(self) -> None:
        """Start a new ledger year (the model has already recorded the closing one)."""
        self.revenue[:] = 0.0
        self.paid_by_fund[:] = 0.0
        self.paid_out_of_pocket[:] = 0.0


class Facility(mesa.Agent):
    """One facility: a Mesa agent viewing row `index` of the model's `FacilityState`.

    Attributes:
        index: Row in the facility arrays.
    """

    def __init__(self, model: CareModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def state(self) -> FacilityState:
        """The model's facility arrays."""
        return self.model.facilities

    @property
    def name(self) -> str:
        """Facility name."""
        return self.state.name[self.index]

    @property
    def tier(self) -> str:
        """Tier name (village, health_centre, secondary, tertiary)."""
        return TIERS[int(self.state.tier[self.index])]

    @property
    def beds(self) -> int:
        """Inpatient beds."""
        return int(self.state.beds[self.index])

    @property
    def occupied_beds(self) -> int:
        """Beds occupied now."""
        return int(self.model.occupied_beds()[self.index])

    @property
    def intensity(self) -> float:
        """Service intensity multiplier."""
        return float(self.state.intensity[self.index])

    @property
    def revenue(self) -> dict[str, float]:
        """This year's revenue by component, yuan."""
        return dict(zip(COMPONENTS, self.state.revenue[self.index].tolist(), strict=True))

    def respond(self, prices: PriceParams) -> None:
        """Once a year, adjust service intensity to the payment incentive (fee-for-service: drift up)."""
        s = self.state
        s.intensity[self.index] = payment.fee_for_service_drift(
            s.tier[self.index : self.index + 1], s.intensity[self.index : self.index + 1], prices
        )[0]

    def __repr__(self) -> str:
        return f"Facility({self.index}, {self.name!r}, {self.tier}, beds={self.beds})"
