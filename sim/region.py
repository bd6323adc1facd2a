"""The embedded default region: a prefecture-level city laid out on a grid (网格化).

An urban core of districts (区) sits in the middle tile of a grid of 40 km tiles; rural counties
(县) fill the tiles around it. Each county has a county seat (urban), townships with a health
centre (乡镇卫生院) and villages with a clinic (村卫生室); the urban core and county seats have
community health centres (社区卫生服务中心) and community stations (社区卫生服务站). Secondary
(county/district) hospitals sit in each district and tertiary hospitals in the urban core.

Consortia (医联体/医共体): each county is one county medical community (县域医共体) led by its
first county hospital; each tertiary hospital leads a city medical group (城市医疗集团) of the
urban facilities nearest to it, the grid layout of [guizhou-city-groups-2024] 三(一):
"完成紧密型城市医疗集团网格化布局".

Residents live in *cells*: the catchment of one village clinic or community station. A cell has a
fixed list of `CANDIDATES` facilities a resident may choose among, with travel times.

The region is built at full scale; `at_scale` shrinks it for `--scale F`, for this region and for
one read from files (`sim.regionfiles`) alike: residents are multiplied by F and so is every
facility's capacity (beds, doctors); the map — which facilities exist, where, and who is near
what — is the full region's at every scale, so choices and referral paths do not change with the
scale. Beds are whole: each tier's total is shared among its facilities by largest remainders, so
at small scales some health centres have no bed (and refer their inpatients up).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from sim.parameters.region import (
    CANDIDATES,
    HEALTH_CENTRE,
    SECONDARY,
    TERTIARY,
    VILLAGE,
    RegionParams,
)
from sim.params import TIERS


@dataclass(frozen=True)
class Region:
    """A built region: districts, facilities, consortia and cells, all as arrays.

    Rows are in file order for a region read from files (`sim.regionfiles`); the ids are the files'
    ids, stable labels of rows for results.

    Attributes:
        district_id: Id of each district/county.
        district_names: Name of each district/county.
        district_is_county: True for rural counties (县), False for urban districts (区).
        district_residents: Residents living in each district, at the built scale.
        facility_id: Id of each facility.
        facility_tier: Tier index (0 village … 3 tertiary) per facility.
        facility_district: District each facility lies in.
        facility_consortium: Consortium (医联体/医共体) each facility belongs to, -1 for none.
        facility_xy: Facility position (km).
        facility_beds: Inpatient beds per facility, at the built scale.
        facility_doctors: Outpatient doctors per facility, at the built scale (fractional).
        facility_gps: General practitioners (全科医生) among each facility's doctors, at the built
            scale; all NaN where not given (the workforce's rule spreads them over health centres).
        facility_name: Human-readable facility name.
        consortium_id: Id of each consortium.
        consortium_lead: Facility index of each consortium's lead hospital.
        consortium_name: Consortium names.
        area_id: Id of each cell's residential area (a village, a community).
        area_name: Name of each cell's area.
        cell_district: District of each cell.
        cell_urban: Whether a cell is urban (core district or county seat).
        cell_xy: Where each cell's residents live (km): trips to its candidates start there.
        cell_residents: Residents of each cell at full scale (not multiplied by the scale).
        cell_weight: Share of the region's residents living in each cell.
        cell_age_shares: (cells, 2) share of each cell's residents aged 0–14 and 65 or over; NaN:
            the national age structure's (`data.age_structure`).
        cell_employee_share: Share of each cell's adults in the employee scheme; NaN: the
            population parameters' urban or rural share.
        cell_candidates: (cells, CANDIDATES) facility indices; -1 where absent.
        cell_travel_hours: (cells, CANDIDATES) travel time to each candidate.
        district_city: City (prefecture, 市/州) of each district; all blank in a region of one city.
        facility_provincial: True for a provincial centre (省级医院, a tertiary hospital the whole
            province refers to; `candidate_facilities`).
        scale: Scale factor the region was built at.
        residents: Residents to simulate.
    """

    district_id: tuple[str, ...]
    district_names: tuple[str, ...]
    district_is_county: np.ndarray
    district_residents: np.ndarray
    facility_id: tuple[str, ...]
    facility_tier: np.ndarray
    facility_district: np.ndarray
    facility_consortium: np.ndarray
    facility_xy: np.ndarray
    facility_beds: np.ndarray
    facility_doctors: np.ndarray
    facility_gps: np.ndarray
    facility_name: tuple[str, ...]
    consortium_id: tuple[str, ...]
    consortium_lead: np.ndarray
    consortium_name: tuple[str, ...]
    area_id: tuple[str, ...]
    area_name: tuple[str, ...]
    cell_district: np.ndarray
    cell_urban: np.ndarray
    cell_xy: np.ndarray
    cell_residents: np.ndarray
    cell_weight: np.ndarray
    cell_age_shares: np.ndarray
    cell_employee_share: np.ndarray
    cell_candidates: np.ndarray
    cell_travel_hours: np.ndarray
    district_city: tuple[str, ...]
    facility_provincial: np.ndarray
    scale: float
    residents: int

    @property
    def n_facilities(self) -> int:
        """Number of facilities."""
        return int(self.facility_tier.size)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.cell_weight.size)


class _Builder:
    """Accumulates facilities and cells while the layout is walked."""

    def __init__(self) -> None:
        self.tier: list[int] = []
        self.district: list[int] = []
        self.xy: list[tuple[float, float]] = []
        self.name: list[str] = []
        self.served: list[float] = []
        self.cell_station: list[int] = []
        self.cell_centre: list[int] = []
        self.cell_district: list[int] = []
        self.cell_urban: list[bool] = []
        self.cell_residents: list[float] = []
        self.cell_name: list[str] = []

    def facility(self, tier: int, district: int, xy: tuple[float, float], name: str, served: float) -> int:
        self.tier.append(tier)
        self.district.append(district)
        self.xy.append(xy)
        self.name.append(name)
        self.served.append(served)
        return len(self.tier) - 1

    def cell(self, station: int, centre: int, district: int, urban: bool, residents: float, name: str) -> None:
        self.cell_name.append(name)
        self.cell_station.append(station)
        self.cell_centre.append(centre)
        self.cell_district.append(district)
        self.cell_urban.append(urban)
        self.cell_residents.append(residents)


def grid_points(n: int, x0: float, y0: float, width: float, height: float) -> list[tuple[float, float]]:
    """`n` points spread on a near-square grid over a rectangle (deterministic layout)."""
    cols = max(1, math.ceil(math.sqrt(n * width / max(height, 1e-9))))
    rows = max(1, math.ceil(n / cols))
    points = []
    for k in range(n):
        r, c = divmod(k, cols)
        points.append((x0 + (c + 0.5) * width / cols, y0 + (r + 0.5) * height / rows))
    return points


def _count(full: float) -> int:
    return max(1, round(full))


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to `weights` that add up to `total` (largest remainders)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    exact = weights / weights.sum() * total
    whole = np.floor(exact).astype(np.int64)
    short = total - int(whole.sum())
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:short]] += 1
    return whole


def _primary_area(
    b: _Builder,
    district: int,
    label: str,
    residents_full: float,
    per_centre: float,
    per_station: float,
    box: tuple[float, float, float, float],
    urban: bool,
) -> None:
    """Lay out health centres, each with its stations or village clinics and their cells (full scale)."""
    x0, y0, w, h = box
    n_centres = _count(residents_full / per_centre)
    centre_points = grid_points(n_centres, x0, y0, w, h)
    n_stations = max(n_centres, _count(residents_full / per_station))
    centre_kind = "community centre" if urban else "township centre"
    station_kind = "station" if urban else "village clinic"
    area_kind = "community" if urban else "village"
    for c, (cx, cy) in enumerate(centre_points):
        share = residents_full / n_centres
        centre = b.facility(HEALTH_CENTRE, district, (cx, cy), f"{label} {centre_kind} {c + 1}", share)
        k_here = n_stations // n_centres + (1 if c < n_stations % n_centres else 0)
        sub_w, sub_h = w / math.ceil(math.sqrt(n_centres)), h / math.ceil(math.sqrt(n_centres))
        for s, (sx, sy) in enumerate(grid_points(k_here, cx - sub_w / 2, cy - sub_h / 2, sub_w, sub_h)):
            station = b.facility(VILLAGE, district, (sx, sy), f"{label} {station_kind} {c + 1}.{s + 1}", share / k_here)
            b.cell(station, centre, district, urban, share / k_here, f"{label} {area_kind} {c + 1}.{s + 1}")


@dataclass(frozen=True)
class _Grid:
    """The grid of tiles the region is laid out on.

    Attributes:
        tile: Side of a tile (km).
        middle: Row and column of the middle tile, which holds the urban core.
        strip: Width of each urban district's vertical strip of the middle tile (km).
        county_tiles: (row, column) of each county's tile, nearest ring first.
    """

    tile: float
    middle: int
    strip: float
    county_tiles: tuple[tuple[int, int], ...]


@dataclass
class _Districts:
    """Districts and counties in the order they are laid out (urban districts first)."""

    names: list[str] = field(default_factory=list)
    is_county: list[bool] = field(default_factory=list)
    residents_full: list[float] = field(default_factory=list)
    centre: list[tuple[float, float]] = field(default_factory=list)

    def add(self, name: str, is_county: bool, residents_full: float, centre: tuple[float, float]) -> int:
        """Adds a district and returns its index."""
        self.names.append(name)
        self.is_county.append(is_county)
        self.residents_full.append(residents_full)
        self.centre.append(centre)
        return len(self.names) - 1


def _grid(params: RegionParams) -> _Grid:
    """The smallest odd square grid with a middle tile for the core and a tile for every county.

    Args:
        params: Region parameters.

    Returns:
        The grid, with the county tiles ordered ring by ring and by angle within a ring, so that
        counties fill the tiles nearest the core first.
    """
    n_tiles_side = max(3, math.ceil(math.sqrt(params.rural_counties + 1)))
    if n_tiles_side % 2 == 0:
        n_tiles_side += 1
    mid = n_tiles_side // 2
    ring = sorted(
        ((r, c) for r in range(n_tiles_side) for c in range(n_tiles_side) if (r, c) != (mid, mid)),
        key=lambda rc: (max(abs(rc[0] - mid), abs(rc[1] - mid)), math.atan2(rc[0] - mid, rc[1] - mid)),
    )[: params.rural_counties]
    return _Grid(
        tile=params.tile_km, middle=mid, strip=params.tile_km / params.urban_districts, county_tiles=tuple(ring)
    )


def core_origin(params: RegionParams) -> float:
    """The coordinate (km, both x and y) of the lower-left corner of the urban core's tile (the middle tile)."""
    grid = _grid(params)
    return grid.middle * grid.tile


def _lay_out_urban_core(b: _Builder, districts: _Districts, grid: _Grid, params: RegionParams) -> None:
    """Lays out the urban districts, each a vertical strip of the middle tile, with their primary care.

    Args:
        b: Builder the facilities and cells are added to.
        districts: Districts laid out so far; the urban districts are added.
        grid: Grid of tiles.
        params: Region parameters.
    """
    tile, mid, strip = grid.tile, grid.middle, grid.strip
    core_full = params.residents * params.urban_core_share
    for d in range(params.urban_districts):
        centre = (mid * tile + (d + 0.5) * strip, (mid + 0.5) * tile)
        districts.add(f"District {d + 1}", False, core_full / params.urban_districts, centre)
        _primary_area(
            b,
            d,
            districts.names[-1],
            core_full / params.urban_districts,
            params.residents_per_community_centre,
            params.residents_per_station,
            (mid * tile + d * strip, mid * tile, strip, tile),
            True,
        )


def _lay_out_counties(b: _Builder, districts: _Districts, grid: _Grid, params: RegionParams) -> None:
    """Lays out the rural counties, one a tile: an urban county seat in the middle, townships around it.

    Args:
        b: Builder the facilities and cells are added to.
        districts: Districts laid out so far; the counties are added after the urban districts.
        grid: Grid of tiles.
        params: Region parameters.
    """
    tile = grid.tile
    county_full = params.residents * (1 - params.urban_core_share) / params.rural_counties
    seat_full = county_full * params.county_seat_share
    seat_side = tile * 0.2
    for k, (r, c) in enumerate(grid.county_tiles):
        d = districts.add(f"County {k + 1}", True, county_full, ((c + 0.5) * tile, (r + 0.5) * tile))
        x0, y0 = c * tile, r * tile
        if seat_full > 0:
            _primary_area(
                b,
                d,
                f"{districts.names[-1]} seat",
                seat_full,
                params.residents_per_community_centre,
                params.residents_per_station,
                (x0 + 0.4 * tile, y0 + 0.4 * tile, seat_side, seat_side),
                True,
            )
        _primary_area(
            b,
            d,
            districts.names[-1],
            county_full - seat_full,
            params.residents_per_township,
            params.residents_per_village,
            (x0, y0, tile, tile),
            False,
        )


def _lay_out_hospitals(b: _Builder, districts: _Districts, grid: _Grid, params: RegionParams, n_tertiary: int) -> None:
    """Lays out the secondary hospitals of every district and the tertiary hospitals spread over the core.

    Args:
        b: Builder the hospitals are added to.
        districts: All districts and counties.
        grid: Grid of tiles.
        params: Region parameters.
        n_tertiary: Tertiary hospitals (none: the city's residents use another city's).
    """
    for d, (cx, cy) in enumerate(districts.centre):
        for s in range(params.secondary_per_district):
            offset = 1.5 * s
            b.facility(
                SECONDARY,
                d,
                (cx + offset, cy + offset),
                f"{districts.names[d]} hospital {s + 1}",
                districts.residents_full[d] / params.secondary_per_district,
            )
    core_x0 = grid.middle * grid.tile
    for t, (tx, ty) in enumerate(grid_points(n_tertiary, core_x0, core_x0, grid.tile, grid.tile)):
        # A tertiary hospital belongs to the urban district whose strip it stands in.
        d = min(int((tx - core_x0) // grid.strip), params.urban_districts - 1)
        b.facility(TERTIARY, d, (tx, ty), f"Tertiary hospital {t + 1}", params.residents / n_tertiary)


def _beds_and_doctors(tier: np.ndarray, served: np.ndarray, params: RegionParams) -> tuple[np.ndarray, np.ndarray]:
    """Beds and doctors of each facility from its tier's density per 1000 residents served.

    Args:
        tier: Tier index of each facility.
        served: Residents each facility serves, at full scale.
        params: Region parameters.

    Returns:
        Whole beds per facility, each tier's rounded total shared by largest remainders, and
        fractional doctors per facility.
    """
    beds_density = params.beds_per_1000.as_array()
    doctors_density = params.doctors_per_1000.as_array()
    return _whole_beds(tier, served * beds_density[tier] / 1000), served * doctors_density[tier] / 1000


def _whole_beds(tier: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Whole beds from fractional ones: each tier's rounded total shared by largest remainders."""
    beds = np.zeros(tier.size, dtype=np.int64)
    for t in range(len(TIERS)):
        members = tier == t
        beds[members] = apportion(exact[members], round(exact[members].sum()))
    return beds


def build(params: RegionParams, scale: float) -> Region:
    """Build the default region at a scale.

    Args:
        params: Region parameters.
        scale: Fraction of the full-scale residents to simulate (0 < scale ≤ 1).

    Returns:
        The built region.
    """
    return at_scale(build_full(params), scale)


def build_full(params: RegionParams) -> Region:
    """Build the default region at full scale (what `tiersim region init` writes).

    Args:
        params: Region parameters.

    Returns:
        The built region, scale 1.
    """
    return city(params, params.tertiary_hospitals)


def city(params: RegionParams, n_tertiary: int) -> Region:
    """A city laid out by the embedded region's rules with a given number of tertiary hospitals.

    Args:
        params: Region parameters (`tertiary_hospitals` is not read).
        n_tertiary: Tertiary hospitals in the urban core; 0 for a city without any (a province's
            city whose residents use the provincial centres, `sim.province`).

    Returns:
        The city at full scale, scale 1, with ids numbered from 1 in layout order.
    """
    b = _Builder()
    grid = _grid(params)
    districts = _Districts()
    # Facilities are numbered in the order they are laid out: primary care first, then hospitals.
    _lay_out_urban_core(b, districts, grid, params)
    _lay_out_counties(b, districts, grid, params)
    _lay_out_hospitals(b, districts, grid, params, n_tertiary)

    tier = np.array(b.tier, dtype=np.int8)
    fdistrict = np.array(b.district, dtype=np.int32)
    xy = np.array(b.xy, dtype=np.float64)
    beds, doctors = _beds_and_doctors(tier, np.array(b.served, dtype=np.float64), params)
    consortium, lead, consortium_names = _consortia(tier, fdistrict, xy, params.urban_districts, districts.names)

    cell_station = np.array(b.cell_station, dtype=np.int64)
    cell_centre = np.array(b.cell_centre, dtype=np.int64)
    cell_district = np.array(b.cell_district, dtype=np.int32)
    cell_urban = np.array(b.cell_urban, dtype=bool)
    cell_xy = xy[cell_station]
    candidates = candidate_facilities(cell_station, cell_centre, cell_district, cell_xy, tier, fdistrict, xy)
    full = Region(
        district_id=tuple(f"D{d + 1:02d}" for d in range(len(districts.names))),
        district_names=tuple(districts.names),
        district_is_county=np.array(districts.is_county, dtype=bool),
        district_residents=np.zeros(0),  # set by `at_scale`
        facility_id=tuple(f"F{f + 1:04d}" for f in range(tier.size)),
        facility_tier=tier,
        facility_district=fdistrict,
        facility_consortium=consortium,
        facility_xy=xy,
        facility_beds=beds,
        facility_doctors=doctors,
        facility_gps=np.full(tier.size, np.nan),
        facility_name=tuple(b.name),
        consortium_id=tuple(f"C{c + 1:02d}" for c in range(lead.size)),
        consortium_lead=lead,
        consortium_name=tuple(consortium_names),
        area_id=tuple(f"A{c + 1:04d}" for c in range(cell_station.size)),
        area_name=tuple(b.cell_name),
        cell_district=cell_district,
        cell_urban=cell_urban,
        cell_xy=cell_xy,
        cell_residents=np.array(b.cell_residents, dtype=np.float64),
        cell_weight=np.zeros(0),  # set by `at_scale`
        cell_age_shares=np.full((cell_station.size, 2), np.nan),
        cell_employee_share=np.full(cell_station.size, np.nan),
        cell_candidates=candidates,
        cell_travel_hours=travel_hours(candidates, xy, cell_xy, cell_urban, cell_district, fdistrict, params),
        district_city=("",) * len(districts.names),
        facility_provincial=np.zeros(tier.size, dtype=bool),
        scale=1.0,
        residents=0,  # set by `at_scale`
    )
    return at_scale(full, 1.0)


def at_scale(full: Region, scale: float) -> Region:
    """A full-scale region (the embedded one or one read from files) with a share of its residents.

    Residents, beds, doctors and general practitioners shrink by `scale`; each tier's beds stay whole (its rounded total
    shared by largest remainders). The map, the candidates and each cell's share of residents do
    not change.

    Args:
        full: A region with full-scale beds, doctors and cell residents (its `scale` is ignored).
        scale: Fraction of the residents to simulate (0 < scale ≤ 1).

    Returns:
        The region at `scale`.
    """
    total = full.cell_residents.sum()
    return replace(
        full,
        district_residents=np.bincount(
            full.cell_district, weights=full.cell_residents * scale, minlength=len(full.district_names)
        ),
        facility_beds=_whole_beds(full.facility_tier, full.facility_beds * scale),
        facility_doctors=full.facility_doctors * scale,
        facility_gps=full.facility_gps * scale,
        cell_weight=full.cell_residents / total,
        scale=scale,
        residents=max(1, round(total * scale)),
    )


def _consortia(
    tier: np.ndarray, district: np.ndarray, xy: np.ndarray, urban_districts: int, names: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """County medical communities led by county hospital 1; city groups led by tertiary hospitals.

    A city without tertiary hospitals has a city medical group per urban district, led by its
    hospital 1, as a county's community is.
    """
    consortium = np.full(tier.size, -1, dtype=np.int32)
    leads: list[int] = []
    labels: list[str] = []
    tertiary = np.flatnonzero(tier == TERTIARY)
    for t in tertiary:
        consortium[t] = len(leads)
        leads.append(int(t))
        labels.append(f"City medical group {len(leads)}")
    urban = np.flatnonzero((district < urban_districts) & (tier < TERTIARY))
    if urban.size and tertiary.size:
        dist = np.linalg.norm(xy[urban, None, :] - xy[None, tertiary, :], axis=2)
        consortium[urban] = consortium[tertiary[np.argmin(dist, axis=1)]]
    first = urban_districts if tertiary.size else 0
    for d in range(first, len(names)):
        members = np.flatnonzero(district == d)
        hospitals = members[tier[members] == SECONDARY]
        consortium[members] = len(leads)
        leads.append(int(hospitals[0]))
        labels.append(f"{names[d]} medical {'community' if d >= urban_districts else 'group'}")
    return consortium, np.array(leads, dtype=np.int64), labels


def candidate_facilities(
    station: np.ndarray,
    centre: np.ndarray,
    cell_district: np.ndarray,
    pos: np.ndarray,
    tier: np.ndarray,
    district: np.ndarray,
    xy: np.ndarray,
    city: np.ndarray | None = None,
    provincial: np.ndarray | None = None,
    reach: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The CANDIDATES facilities of each cell; -1 marks a slot with no facility (e.g. one tertiary).

    Args:
        station: Each cell's village clinic or community station.
        centre: Each cell's health centre.
        cell_district: Each cell's district.
        pos: Where each cell's residents live (km).
        tier: Tier of each facility.
        district: District of each facility.
        xy: Position of each facility (km).
        city: City of each district (any integer labels); None: one city.
        provincial: Whether each facility is a provincial centre; None: none is.
        reach: How far each cell is from each of some facilities: called with their indices, returns
            (cells, facilities); None: the straight-line distance. "Nearest" below is by it.

    Returns:
        (cells, CANDIDATES) facility indices: station, centre, the nearest secondary hospital of
        the cell's district (or the nearest one if it has none) and the next nearest, the two
        nearest tertiary hospitals — or, in a region with provincial centres, the tertiary
        hospitals of `_tertiary_with_provincial`.
    """
    if reach is None:
        reach = partial(distances, pos, xy)
    out = np.full((station.size, CANDIDATES), -1, dtype=np.int64)
    out[:, 0] = station
    out[:, 1] = centre
    for slot, t in ((2, SECONDARY), (4, TERTIARY)):
        pool = np.flatnonzero(tier == t)
        if pool.size == 0:
            continue
        dist = reach(pool)
        if t == SECONDARY:
            # Own district's hospital comes first: that is the hospital of the resident's consortium.
            first = np.argmin(dist + np.where(district[pool][None, :] == cell_district[:, None], 0.0, 1e6), axis=1)
            out[:, slot] = pool[first]
            dist[np.arange(station.size), first] = np.inf
            second = np.argmin(dist, axis=1)
            out[:, slot + 1] = np.where(np.isfinite(dist.min(axis=1)), pool[second], -1)
        elif provincial is not None and provincial.any():
            cities = city if city is not None else np.zeros(int(district.max()) + 1, dtype=np.int64)
            own = (cities[district[pool]][None, :] == cities[cell_district][:, None]) & ~provincial[pool][None, :]
            out[:, slot:] = _tertiary_with_provincial(dist, pool, own, provincial[pool])
        else:
            order = np.argsort(dist, axis=1, kind="stable")
            out[:, slot] = pool[order[:, 0]]
            if pool.size > 1:
                out[:, slot + 1] = pool[order[:, 1]]
    return out


def distances(pos: np.ndarray, xy: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(cells, len(pool)) straight-line distances (km) from each cell to the facilities `pool`."""
    return np.linalg.norm(pos[:, None, :] - xy[None, pool, :], axis=2)


def _tertiary_with_provincial(
    dist: np.ndarray, pool: np.ndarray, own: np.ndarray, provincial: np.ndarray
) -> np.ndarray:
    """The two tertiary candidates of each cell in a region with provincial centres (a province).

    The first is the nearest tertiary hospital of the cell's own city (a provincial centre is no
    city's), or the nearest provincial centre if its city has none; the second the nearest
    provincial centre other than the first, or the next nearest of its own city if there is none.
    A severe case of any city can so reach a provincial centre, and is referred to one (the
    preferred candidate able to treat it, `care.referral_targets`) where its city has no tertiary
    hospital, not to a neighbouring city's.

    Args:
        dist: (cells, tertiary hospitals) distances.
        pool: Facility index of each tertiary hospital.
        own: (cells, tertiary hospitals) whether the hospital is a city hospital of the cell's city.
        provincial: Whether each tertiary hospital is a provincial centre.

    Returns:
        (cells, 2) facility indices, -1 where there is none.
    """
    rows = np.arange(dist.shape[0])
    first_score = np.where(own, dist, np.where(provincial[None, :], dist + 1e6, np.inf))
    first = np.argmin(first_score, axis=1)
    second_score = np.where(provincial[None, :], dist, np.where(own, dist + 1e6, np.inf))
    second_score[rows, first] = np.inf
    second = np.argmin(second_score, axis=1)
    return np.column_stack(
        [
            np.where(np.isfinite(first_score[rows, first]), pool[first], -1),
            np.where(np.isfinite(second_score[rows, second]), pool[second], -1),
        ]
    )


def travel_hours(
    candidates: np.ndarray,
    xy: np.ndarray,
    origin: np.ndarray,
    urban: np.ndarray,
    cell_district: np.ndarray,
    facility_district: np.ndarray,
    params: RegionParams,
) -> np.ndarray:
    """Door-to-door hours: road distance (1.3 × straight line) at the trip's speed plus access time.

    Trips inside an urban area run at the urban speed; trips in the countryside and between
    districts (e.g. a county seat to the city) at the rural road speed.

    Args:
        candidates: (cells, CANDIDATES) facility indices, -1 for none.
        xy: Position of each facility (km).
        origin: Where each cell's residents live (km).
        urban: Whether each cell is urban.
        cell_district: Each cell's district.
        facility_district: Each facility's district.
        params: Region parameters (the speeds and the access time).

    Returns:
        (cells, CANDIDATES) hours, infinite where there is no candidate.
    """
    safe = np.maximum(candidates, 0)
    km = 1.3 * np.linalg.norm(xy[safe] - origin[:, None, :], axis=2)
    local_urban = urban[:, None] & (facility_district[safe] == cell_district[:, None])
    speed = np.where(local_urban, params.urban_speed_kmh, params.rural_speed_kmh)
    hours = km / speed + params.access_minutes / 60.0
    return np.where(candidates >= 0, hours, np.inf)
