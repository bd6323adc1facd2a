"""Results by place: a year's table of every facility and of every residential area (cell).

The by-tier daily record (`metrics.DayRecord`) says how much care each tier gave; these tables say
where. A facility's money and visits are its ledgers (`FacilityState`), kept at the year's close;
what no ledger holds is added up here through the year, in place, by the phases that see it happen
(`state.DayTotals.by_facility` and `by_cell`, rows `FACILITY_SUMS` and `CELL_SUMS`): outpatient
waits, admissions and their waits, referrals sent and received, bed-days; and by the patient's home
cell, visits by tier, bills and out-of-pocket payments, admissions and county residents' admissions
in their own county. A residential area is a cell of the region: the catchment of one village clinic
or community station, placed at it on the map.

`facility_labels` and `area_labels` name the rows (ids and names): the one place to change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.accel import kernel
from sim.params import TIERS
from sim.region import Region
from sim.state import OUTPATIENT_HEAD

if TYPE_CHECKING:
    from sim.facilities import FacilityState

FACILITY_SUMS = (
    "visit_wait_days",
    "visit_waits",
    "admissions",
    "admission_wait_days",
    "referrals_out",
    "referrals_in",
    "bed_days",
)
"""Rows of `DayTotals.by_facility`: this year's sums by facility that no ledger holds."""
VISIT_WAIT_DAYS, VISIT_WAITS, ADMISSIONS, ADMISSION_WAIT_DAYS, REFERRALS_OUT, REFERRALS_IN, BED_DAYS = range(
    len(FACILITY_SUMS)
)

CELL_SUMS = (
    *(f"visits_{t}" for t in TIERS),
    "bills",
    "out_of_pocket",
    "admissions",
    "county_admissions",
    "county_admissions_in_county",
)
"""Rows of `DayTotals.by_cell`: this year's sums by the patient's home cell (visits by tier first)."""
CELL_VISITS = 0
CELL_BILLS, CELL_OOP, CELL_ADMISSIONS, CELL_COUNTY_ADMISSIONS, CELL_IN_COUNTY = range(len(TIERS), len(CELL_SUMS))

_LEDGERS = ("lump_sum", "fund_claims", "paid_out_of_pocket", "visits")
"""`FacilityState` ledgers a facility's row reports besides its revenue by component."""


def facility_labels(region: Region) -> pd.DataFrame:
    """Each facility's id and name (as in the region's `facilities.csv`), the first columns of the facility table."""
    return pd.DataFrame({"facility_id": list(region.facility_id), "name": list(region.facility_name)})


def area_labels(region: Region) -> pd.DataFrame:
    """Each area's id and name (as in the region's `areas.csv`), the first columns of the area table."""
    return pd.DataFrame({"area_id": list(region.area_id), "name": list(region.area_name)})


@kernel
def book_cells(
    cell: np.ndarray, tier: np.ndarray, bill: np.ndarray, oop: np.ndarray, basis: np.ndarray, by_cell: np.ndarray
) -> None:
    """Add paid claims to their patients' home cells, in claim order: visits by tier, bills, out-of-pocket.

    Args:
        cell: (n,) home cell of each claim's patient.
        tier: (n,) tier of the facility billing it.
        bill: (n,) the bill.
        oop: (n,) what the patient paid.
        basis: (n,) how it was paid (`state.PAYMENT_BASES`): a visit is paid item by item or per head.
        by_cell: `DayTotals.by_cell`, added to in place.
    """
    for i in range(cell.size):
        c = cell[i]
        if basis[i] <= OUTPATIENT_HEAD:
            by_cell[CELL_VISITS + tier[i], c] += 1.0
        by_cell[CELL_BILLS, c] += bill[i]
        by_cell[CELL_OOP, c] += oop[i]


class Places:
    """This year's sums by facility and by home cell, and the tables of the years closed.

    Args:
        region: The region (its facilities and cells).
        components: Revenue components of the facilities' ledgers (`parameters.prices.COMPONENTS`).

    Attributes:
        by_facility: (len(FACILITY_SUMS), facilities) this year's sums, added to in place by the phases.
        by_cell: (len(CELL_SUMS), cells) this year's sums by home cell, added to in place by the phases.
    """

    def __init__(self, region: Region, components: tuple[str, ...]) -> None:
        self.components = components
        self.by_facility = np.zeros((len(FACILITY_SUMS), region.n_facilities))
        self.by_cell = np.zeros((len(CELL_SUMS), region.n_cells))
        self._first_contacts = np.zeros((region.n_cells, len(TIERS)), dtype=np.int64)
        self._ledgers: dict[str, np.ndarray] = {}
        self._facility_years: list[dict[str, np.ndarray]] = []
        self._area_years: list[dict[str, np.ndarray]] = []

    def restart(self, first_contacts: np.ndarray) -> None:
        """Recording starts (the end of the warm-up): the sums so far are forgotten.

        Args:
            first_contacts: (cells, tiers) first contacts by home cell since the model began.
        """
        self.by_facility[...] = 0.0
        self.by_cell[...] = 0.0
        self._first_contacts = first_contacts.copy()

    def keep_ledgers(self, facilities: FacilityState) -> None:
        """The facilities' closing ledgers of the year, kept before they are zeroed for the next."""
        self._ledgers = {f"revenue_{c}": facilities.revenue[:, i].copy() for i, c in enumerate(self.components)}
        self._ledgers.update({name: getattr(facilities, name).copy() for name in _LEDGERS})

    def add_referrals(self, origin: np.ndarray, target: np.ndarray) -> None:
        """Count referrals from facilities `origin` to facilities `target`, one pair at a time."""
        np.add.at(self.by_facility[REFERRALS_OUT], origin, 1.0)
        np.add.at(self.by_facility[REFERRALS_IN], target, 1.0)

    def close_year(
        self, year: int, days: int, beds: np.ndarray, first_contacts: np.ndarray, residents: np.ndarray
    ) -> None:
        """Tabulate the year that ends today (after its last day is recorded) and start the next.

        Args:
            year: The year.
            days: Its recorded days.
            beds: (facilities,) beds in the year.
            first_contacts: (cells, tiers) first contacts by home cell since the model began.
            residents: (cells,) residents of each cell.
        """
        sums = dict(zip(FACILITY_SUMS, self.by_facility.copy(), strict=True))
        year_of = {"year": np.int64(year), "days": np.int64(days), "beds": beds.copy()}
        self._facility_years.append({**year_of, **sums, **self._ledgers})
        contacts = first_contacts - self._first_contacts
        area = dict(zip(CELL_SUMS, self.by_cell.copy(), strict=True))
        area.update({f"first_contacts_{t}": contacts[:, i] for i, t in enumerate(TIERS)})
        self._area_years.append({"year": np.int64(year), "residents": residents.copy(), **area})
        self._first_contacts = first_contacts.copy()
        self.by_facility[...] = 0.0
        self.by_cell[...] = 0.0

    def facility_table(self, region: Region, start_year: int) -> pd.DataFrame:
        """One row per facility and year closed; the columns are documented in docs/outputs.md."""
        static = facility_labels(region).assign(
            tier=[TIERS[t] for t in region.facility_tier],
            district=[region.district_names[d] for d in region.facility_district],
            consortium=[region.consortium_name[c] if c >= 0 else "" for c in region.facility_consortium],
            x_km=region.facility_xy[:, 0],
            y_km=region.facility_xy[:, 1],
        )
        frames = []
        for y in self._facility_years:
            revenue = sum(y[f"revenue_{c}"] for c in self.components)
            frame = static.assign(
                year=y["year"],
                calendar_year=y["year"] + start_year,
                beds=y["beds"],
                visits=_count(y["visits"]),
                mean_visit_wait_days=_ratio(y["visit_wait_days"], y["visit_waits"]),
                admissions=_count(y["admissions"]),
                mean_admission_wait_days=_ratio(y["admission_wait_days"], y["admissions"]),
                bed_days=_count(y["bed_days"]),
                occupancy=_ratio(y["bed_days"], y["beds"] * float(y["days"])),
                **{f"revenue_{c}": y[f"revenue_{c}"] for c in self.components},
                revenue_lump_sum=y["lump_sum"],
                medical_revenue=revenue + y["lump_sum"],
                fund_claims=y["fund_claims"],
                out_of_pocket=y["paid_out_of_pocket"],
                referrals_in=_count(y["referrals_in"]),
                referrals_out=_count(y["referrals_out"]),
            )
            frames.append(frame)
        return _concat(frames, static)

    def area_table(self, region: Region, start_year: int) -> pd.DataFrame:
        """One row per residential area (cell) and year closed; the columns are documented in docs/outputs.md."""
        station = region.cell_candidates[:, 0]
        static = area_labels(region).assign(
            district=[region.district_names[d] for d in region.cell_district],
            county=region.district_is_county[region.cell_district],
            urban=region.cell_urban,
            x_km=region.facility_xy[station, 0],
            y_km=region.facility_xy[station, 1],
        )
        frames = []
        for y in self._area_years:
            visits = sum(y[f"visits_{t}"] for t in TIERS)
            frame = static.assign(
                year=y["year"],
                calendar_year=y["year"] + start_year,
                residents=y["residents"],
                **{f"first_contacts_{t}": _count(y[f"first_contacts_{t}"]) for t in TIERS},
                **{f"visits_{t}": _count(y[f"visits_{t}"]) for t in TIERS},
                primary_visit_share=_ratio(y["visits_village"] + y["visits_health_centre"], visits),
                bills=y["bills"],
                out_of_pocket=y["out_of_pocket"],
                oop_share=_ratio(y["out_of_pocket"], y["bills"]),
                admissions=_count(y["admissions"]),
                county_admissions=_count(y["county_admissions"]),
                county_admissions_in_county=_count(y["county_admissions_in_county"]),
                in_county_rate=_ratio(y["county_admissions_in_county"], y["county_admissions"]),
            )
            frames.append(frame)
        return _concat(frames, static)


def _count(sums: np.ndarray) -> np.ndarray:
    """A count kept as float64 sums (exact below 2**53), as whole numbers."""
    return np.asarray(sums).astype(np.int64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The ratio num ÷ den, NaN where den is 0 (no visits, no beds: the indicator is undefined, not 0)."""
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=np.asarray(den) > 0)
    return out


def _concat(frames: list[pd.DataFrame], static: pd.DataFrame) -> pd.DataFrame:
    """The years one after another (no year closed: the static columns and no row)."""
    return pd.concat(frames, ignore_index=True) if frames else static.iloc[:0].copy()
