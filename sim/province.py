"""A province: several cities (prefectures, 市/州) side by side, with provincial centres in the capital.

The default is Guizhou: 9 prefectures and 38.6 million residents in the 2020 census
[guizhou-census-2020-2], the province whose plan asks of every prefecture
[guizhou-city-groups-2024] 三(一): "相关市(州)均明确建设方案". Each city is laid out by the embedded
city's rules (`region.city`), its size from the province's residents shared as among Guizhou's 9
prefectures (`GUIZHOU_PREFECTURES`, the capital first): the
urban core holds `urban_core_share` of its residents in districts of about
`residents_per_district`, the rest live in counties of about `residents_per_county`, and it has
round(residents / `residents_per_tertiary`) tertiary hospitals — none in a small city.

Layout (deterministic): every city sits in the middle of a square box as wide as the widest city;
the boxes form the smallest odd square grid, the capital in the middle box and the other cities
ring by ring around it (nearest ring first, by angle within a ring), as the embedded city's
counties surround its core. The `provincial_centres` provincial tertiary centres (省级医院) stand
in the middle of the capital's urban core, in no consortium, each sized as a tertiary hospital
serving `residents_per_tertiary` residents.

Cross-city referral: the region files name each district's city and mark the provincial centres,
and an area's two tertiary candidates are then its city's nearest tertiary hospital and the
nearest provincial centre (`region.candidate_facilities`): a severe case from any city can reach a
provincial centre, and one from a city without a tertiary hospital is referred to one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.parameters.region import GUIZHOU_PREFECTURES, TERTIARY, ProvinceParams, RegionParams
from sim.region import Region, at_scale, candidate_facilities, city, core_origin, grid_points, travel_hours


def city_residents(province: ProvinceParams) -> np.ndarray:
    """Residents of each city: the province's shared as among Guizhou's prefectures (whole, adding up)."""
    weights = np.array([GUIZHOU_PREFECTURES[k % len(GUIZHOU_PREFECTURES)][1] for k in range(province.cities)])
    exact = weights / weights.sum() * province.residents
    whole = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[: province.residents - int(whole.sum())]] += 1
    return whole


def city_params(province: ProvinceParams, base: RegionParams, residents: int) -> tuple[RegionParams, int]:
    """The region parameters of a city of `residents`, and its tertiary hospitals.

    Args:
        province: Province parameters.
        base: Region parameters every city shares (densities, speeds, shares).
        residents: The city's residents.

    Returns:
        The city's parameters and its number of tertiary hospitals (0 or more).
    """
    core = residents * base.urban_core_share
    districts = min(6, max(1, round(core / province.residents_per_district)))
    counties = min(24, max(1, round((residents - core) / province.residents_per_county)))
    params = base.model_copy(update={"residents": residents, "urban_districts": districts, "rural_counties": counties})
    return params, round(residents / province.residents_per_tertiary)


def _box_order(n: int) -> list[tuple[int, int]]:
    """(row, column) of `n` boxes on the smallest odd square grid: the middle first, then ring by ring."""
    side = max(1, math.ceil(math.sqrt(n)))
    side += 1 - side % 2
    mid = side // 2
    boxes = sorted(
        ((r, c) for r in range(side) for c in range(side)),
        key=lambda rc: (max(abs(rc[0] - mid), abs(rc[1] - mid)), math.atan2(rc[0] - mid, rc[1] - mid)),
    )
    return boxes[:n]


def build_province(province: ProvinceParams, base: RegionParams) -> Region:
    """The province at full scale (what `tiersim region init --province` writes).

    Args:
        province: Province parameters (cities, residents, provincial centres, sizes).
        base: Region parameters every city is laid out with.

    Returns:
        The province, scale 1: districts, facilities, consortia and areas of city 1 (the capital),
        city 2, …, then the provincial centres; names prefixed with the city's.
    """
    cities = []
    for residents in city_residents(province):
        params, n_tertiary = city_params(province, base, int(residents))
        cities.append((params, city(params, n_tertiary)))
    box = max(float(r.facility_xy.max()) for _, r in cities)  # a city's map spans 0 … its width
    names = [f"City {k + 1}" for k in range(len(cities))]
    parts = []
    for k, ((params, r), (row, col)) in enumerate(zip(cities, _box_order(len(cities)), strict=True)):
        width = float(r.facility_xy.max())
        offset = np.array([col * box + (box - width) / 2, row * box + (box - width) / 2])
        parts.append((names[k], params, r, offset))
    return _join(parts, province, base)


def _join(
    parts: list[tuple[str, RegionParams, Region, np.ndarray]], province: ProvinceParams, base: RegionParams
) -> Region:
    """One region of the cities, moved by their offsets, with the provincial centres added in the capital."""
    f_off = np.cumsum([0] + [r.n_facilities for _, _, r, _ in parts])
    d_off = np.cumsum([0] + [len(r.district_names) for _, _, r, _ in parts])
    c_off = np.cumsum([0] + [len(r.consortium_name) for _, _, r, _ in parts])

    def cat(get: Callable[[int, Region], np.ndarray]) -> np.ndarray:
        return np.concatenate([get(k, r) for k, (_, _, r, _) in enumerate(parts)])

    tier = cat(lambda k, r: r.facility_tier)
    fdistrict = cat(lambda k, r: r.facility_district + d_off[k])
    consortium = cat(lambda k, r: np.where(r.facility_consortium >= 0, r.facility_consortium + c_off[k], -1))
    xy = cat(lambda k, r: r.facility_xy + parts[k][3])
    beds = cat(lambda k, r: r.facility_beds)
    doctors = cat(lambda k, r: r.facility_doctors)
    fname = [f"{name} {n}" for name, _, r, _ in parts for n in r.facility_name]

    # The provincial centres: on a grid over the middle half of the capital's core tile, each in the
    # urban district whose strip it stands in.
    capital_name, capital, _, origin = parts[0]
    core, tile = core_origin(capital), capital.tile_km
    n = province.provincial_centres
    spots = np.array(grid_points(n, core + tile / 4, core + tile / 4, tile / 2, tile / 2))
    strip = tile / capital.urban_districts
    centre_district = np.minimum(((spots[:, 0] - core) // strip).astype(np.int64), capital.urban_districts - 1)
    density = base.beds_per_1000.as_array()[TERTIARY], base.doctors_per_1000.as_array()[TERTIARY]
    served = province.residents_per_tertiary
    tier = np.append(tier, np.full(n, TERTIARY))
    fdistrict = np.append(fdistrict, centre_district)  # the capital's districts are numbered first
    consortium = np.append(consortium, np.full(n, -1))
    xy = np.vstack([xy, spots + origin])
    beds = np.append(beds, np.full(n, round(served * density[0] / 1000)))
    doctors = np.append(doctors, np.full(n, served * density[1] / 1000))
    fname += [f"{capital_name} provincial centre {p + 1}" for p in range(n)]
    provincial = np.arange(tier.size) >= f_off[-1]

    cell_district = cat(lambda k, r: r.cell_district + d_off[k])
    cell_xy = cat(lambda k, r: r.cell_xy + parts[k][3])
    cell_urban = cat(lambda k, r: r.cell_urban)
    station = cat(lambda k, r: r.cell_candidates[:, 0] + f_off[k])
    centre = cat(lambda k, r: r.cell_candidates[:, 1] + f_off[k])
    district_city = np.concatenate([np.full(len(r.district_names), k) for k, (_, _, r, _) in enumerate(parts)])
    candidates = candidate_facilities(
        station, centre, cell_district, cell_xy, tier, fdistrict, xy, district_city, provincial
    )
    n_districts, n_cells = int(d_off[-1]), int(cell_district.size)
    full = Region(
        district_id=tuple(f"D{d + 1:03d}" for d in range(n_districts)),
        district_names=tuple(f"{name} {n}" for name, _, r, _ in parts for n in r.district_names),
        district_is_county=cat(lambda k, r: r.district_is_county),
        district_residents=np.zeros(0),  # set by `at_scale`
        facility_id=tuple(f"F{f + 1:05d}" for f in range(tier.size)),
        facility_tier=tier.astype(np.int8),
        facility_district=fdistrict.astype(np.int32),
        facility_consortium=consortium.astype(np.int32),
        facility_xy=xy,
        facility_beds=beds.astype(np.int64),
        facility_doctors=doctors.astype(np.float64),
        facility_gps=np.full(tier.size, np.nan),  # generated: the workforce's rule
        facility_name=tuple(fname),
        consortium_id=tuple(f"C{c + 1:03d}" for c in range(int(c_off[-1]))),
        consortium_lead=cat(lambda k, r: r.consortium_lead + f_off[k]),
        consortium_name=tuple(f"{name} {n}" for name, _, r, _ in parts for n in r.consortium_name),
        area_id=tuple(f"A{c + 1:05d}" for c in range(n_cells)),
        area_name=tuple(f"{name} {n}" for name, _, r, _ in parts for n in r.area_name),
        cell_district=cell_district.astype(np.int32),
        cell_urban=cell_urban,
        cell_xy=cell_xy,
        cell_residents=cat(lambda k, r: r.cell_residents),
        cell_weight=np.zeros(0),  # set by `at_scale`
        cell_age_shares=cat(lambda k, r: r.cell_age_shares),
        cell_employee_share=cat(lambda k, r: r.cell_employee_share),
        cell_candidates=candidates,
        cell_travel_hours=travel_hours(candidates, xy, cell_xy, cell_urban, cell_district, fdistrict, base),
        district_city=tuple(name for name, _, r, _ in parts for _ in r.district_names),
        facility_provincial=provincial,
        scale=1.0,
        residents=0,  # set by `at_scale`
    )
    return at_scale(full, 1.0)
