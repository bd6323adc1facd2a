"""A region from files: a planner's county or city as UTF-8 CSV tables (docs/region-format.md).

A region folder holds `region.toml` (the format version), `districts.csv`, `consortia.csv`,
`facilities.csv`, `areas.csv` and optionally `travel_times.csv` and `boundaries.geojson`. Rows are
read in file order: facility i of `facilities.csv` is facility i of the model, area i of
`areas.csv` its cell i. An area's candidates follow the embedded region's rule
(`region.candidate_facilities`): its station, its centre, the two nearest secondary hospitals
(its district's first) and the two nearest tertiary hospitals — nearest by distance, or by travel
time for an area that `travel_times.csv` gives times of; travel times are the embedded rule
(`region.travel_hours`) unless `travel_times.csv` gives them.

`check` lists every problem as one line naming the file, the row, the column and what is allowed;
`read` gives the full-scale `Region` of a folder without problems (else a `RegionError` of those
lines); `write` writes a full-scale region, so that `read(write(build_full(params)))` is the
embedded region itself.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ScenarioError
from sim.parameters.region import HEALTH_CENTRE, SECONDARY, TERTIARY, VILLAGE, ProvinceParams, RegionParams
from sim.params import TIERS
from sim.region import Region, at_scale, build, build_full, candidate_facilities, distances, travel_hours

FORMAT_VERSION = 1
"""Version of the region format this tiersim reads and writes."""

DISTRICT_KINDS = ("district", "county")
"""District kinds: an urban district (区) or a rural county (县, also a county-level city 县级市)."""

AREA_KINDS = ("urban", "rural")
"""Area kinds: urban (a community, 社区; a county seat) or rural (a village, 村)."""

COORDINATES = ("km", "lonlat")
"""Coordinate systems: x and y in km (east, north), or lon and lat in degrees (WGS 84)."""

GRADES = (
    *(f"{level}级{rank}等" for level in "三二一" for rank in "甲乙丙"),
    "三级",
    "二级",
    "一级",
    "未定级",
)
"""Hospital grades (医院等级) a facility's optional `grade` may hold."""

LEVELS = ("provincial",)
"""Facility levels (optional column `level`): a provincial centre (省级医院), which every city's
residents can reach (`region.candidate_facilities`)."""

EARTH_RADIUS_KM = 6371.0088
"""Mean radius of the Earth, for the projection of lon/lat to km."""

AREA_SHARES = ("share_0_14", "share_65_plus", "employee_share")
"""Optional columns of areas.csv: shares of residents aged 0–14 and 65+, share of adults in the employee scheme."""

TOML_KEYS = ("version", "name", "description", "coordinates")
REQUIRED = ("region.toml", "districts.csv", "consortia.csv", "facilities.csv", "areas.csv")
OPTIONAL = ("travel_times.csv", "boundaries.geojson")


class RegionError(ScenarioError):
    """A region folder has problems; the message is one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Bad(Exception):
    """A value is invalid; the argument says what is allowed."""


# ---------------------------------------------------------------------------------------- values


def _text(value: str) -> str:
    if not value:
        raise _Bad("text, not blank")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise _Bad("one of " + ", ".join(options))
        return value

    return parse


def _number(value: str, allowed: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise _Bad(allowed) from None
    if not math.isfinite(x):
        raise _Bad(allowed)
    return x


def _share(value: str) -> float:
    x = _number(value, "a share from 0 to 1, or blank")
    if not 0 <= x <= 1:
        raise _Bad("a share from 0 to 1, or blank")
    return x


def _positive(value: str) -> float:
    x = _number(value, "a number > 0")
    if x <= 0:
        raise _Bad("a number > 0")
    return x


def _at_least_zero(value: str) -> float:
    x = _number(value, "a number ≥ 0 (0 where there is none)")
    if x < 0:
        raise _Bad("a number ≥ 0 (0 where there is none)")
    return x


def _whole(value: str) -> int:
    x = _number(value, "a whole number ≥ 0")
    if x < 0 or not x.is_integer():
        raise _Bad("a whole number ≥ 0")
    return int(x)


def _coordinate(allowed: str, lo: float, hi: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        x = _number(value, allowed)
        if not lo <= x <= hi:
            raise _Bad(allowed)
        return x

    return parse


def _format(x: float) -> str:
    """A float as the shortest text that reads back as the same float (9375.0 as "9375")."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


# ---------------------------------------------------------------------------------------- tables


@dataclass
class _Table:
    """A CSV file as text cells, with the problems found in it."""

    file: str
    frame: pd.DataFrame
    lines: list[int]
    problems: list[str]

    def __len__(self) -> int:
        return len(self.frame)

    def where(self, row: int, column: str) -> str:
        """`file: row r (line l), column c` of a 0-based data row (blank lines are no rows)."""
        return f"{self.file}: row {row + 1} (line {self.lines[row]}), column {column}"

    def bad(self, row: int, column: str, given: str, allowed: str) -> None:
        self.problems.append(f"{self.where(row, column)}: {given!r} is invalid; allowed: {allowed}")

    def column(self, name: str, parse: Callable[[str], Any], *, blank: Any = ...) -> list[Any]:
        """Each row's value of a column parsed (None where invalid; `blank` where empty, if given)."""
        out: list[Any] = []
        for row, value in enumerate(self.frame[name]):
            if value == "" and blank is not ...:
                out.append(blank)
                continue
            try:
                out.append(parse(value))
            except _Bad as allowed:
                self.bad(row, name, value, str(allowed))
                out.append(None)
        return out

    def ids(self) -> dict[str, int]:
        """Each id's first row; a blank or repeated id is a problem."""
        first: dict[str, int] = {}
        for row, value in enumerate(self.frame["id"]):
            if value == "":
                self.bad(row, "id", value, "a unique id, not blank")
            elif value in first:
                self.bad(row, "id", value, f"a unique id (already in row {first[value] + 1})")
            else:
                first[value] = row
        return first

    def reference(self, name: str, targets: dict[str, int], target_file: str, *, optional: bool = False) -> list[int]:
        """Row indices in another file of each row's reference (-1 where blank and optional, or invalid)."""
        allowed = f"an id of {target_file}" + (" or blank" if optional else "")
        out = []
        for row, value in enumerate(self.frame[name]):
            if value == "" and optional:
                out.append(-1)
            elif value in targets:
                out.append(targets[value])
            else:
                self.bad(row, name, value, allowed)
                out.append(-1)
        return out


_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # file: (required columns, optional columns); the location columns are added by the coordinates.
    "districts.csv": (("id", "name", "kind"), ("city",)),
    "consortia.csv": (("id", "name", "lead"), ()),
    "facilities.csv": (
        ("id", "name", "tier", "district", "consortium", "beds", "doctors"),
        ("grade", "level", "general_practitioners"),
    ),
    "areas.csv": (("id", "name", "district", "kind", "residents", "station", "centre"), AREA_SHARES),
    "travel_times.csv": (("area", "facility", "hours"), ()),
}
_LOCATED = ("facilities.csv", "areas.csv")


def _location_columns(coordinates: str) -> tuple[str, str]:
    return ("x", "y") if coordinates == "km" else ("lon", "lat")


def _decode(path: Path, problems: list[str]) -> str | None:
    """A file's text (UTF-8, a byte-order mark allowed), or None with a problem."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        where = f"row {line - 1} (line {line})" if path.suffix == ".csv" and line > 1 else f"line {line}"
        problems.append(
            f"{path.name}: {where}: not UTF-8 text (byte {data[exc.start]:#04x}); allowed: UTF-8 (in Excel: save as "
            "CSV UTF-8)"
        )
        return None


def _read_csv(folder: Path, name: str, coordinates: str, problems: list[str]) -> _Table | None:
    """A CSV file as a table of text cells, or None with its problems (missing, not UTF-8, malformed, empty)."""
    path = folder / name
    if not path.is_file():
        problems.append(f"{name}: file not found in {folder}; a region needs {', '.join(REQUIRED)}")
        return None
    text = _decode(path, problems)
    if text is None:
        return None
    required, optional = _COLUMNS[name]
    if name in _LOCATED:
        required = (*required, *_location_columns(coordinates))
    if not text.strip():
        problems.append(f"{name}: empty file; allowed: a header row ({', '.join(required)}) and rows")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = [c.strip() for c in next(reader)]
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line, or one of only commas (as spreadsheets write)
            if len(cells) != len(header):
                problems.append(
                    f"{name}: row {len(rows) + 1} (line {reader.line_num}): {len(cells)} values; allowed: "
                    f"{len(header)}, one per column of the header (quote a value holding a comma)"
                )
                return None
            rows.append([c.strip() for c in cells])
            lines.append(reader.line_num)
    except csv.Error as exc:
        problems.append(f"{name}: line {reader.line_num}: malformed CSV ({exc}); allowed: comma-separated values")
        return None
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        problems.append(f"{name}: column {', '.join(repeated)} appears twice in the header; allowed: once")
        return None
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    missing = [c for c in required if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in (*required, *optional)]
    allowed = ", ".join((*required, *optional))
    if missing:
        extra = f" (region.toml says coordinates = {coordinates!r})" if set(missing) & {"x", "y", "lon", "lat"} else ""
        problems.append(f"{name}: missing column {', '.join(missing)}{extra}; columns: {allowed}")
        return None
    if unknown:
        problems.append(f"{name}: unknown column {', '.join(unknown)}; allowed: {allowed}")
        return None
    if frame.empty:
        problems.append(f"{name}: no rows; allowed: one row per {name.removesuffix('s.csv').replace('_', ' ')}")
        return None
    return _Table(name, frame, lines, problems)


def _read_toml(folder: Path, problems: list[str]) -> dict[str, Any] | None:
    """`region.toml`'s settings, or None with its problems."""
    path = folder / "region.toml"
    if not path.is_file():
        problems.append(f"region.toml: file not found in {folder}; a region needs {', '.join(REQUIRED)}")
        return None
    text = _decode(path, problems)
    if text is None:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"region.toml: malformed TOML: {exc}")
        return None
    unknown = [k for k in raw if k not in TOML_KEYS]
    if unknown:
        problems.append(f"region.toml: unknown key {', '.join(unknown)}; allowed: {', '.join(TOML_KEYS)}")
    version = raw.get("version")
    if version is None:
        problems.append(f"region.toml: missing key version; allowed: version = {FORMAT_VERSION}")
    elif version != FORMAT_VERSION or isinstance(version, bool):
        problems.append(
            f"region.toml: version = {version!r} is invalid; allowed: {FORMAT_VERSION} (the region format this "
            "tiersim reads)"
        )
    coordinates = raw.setdefault("coordinates", "km")
    if coordinates not in COORDINATES:
        problems.append(
            f"region.toml: coordinates = {coordinates!r} is invalid; allowed: {', '.join(map(repr, COORDINATES))}"
        )
    for key in ("name", "description"):
        if not isinstance(raw.get(key, ""), str):
            problems.append(f"region.toml: {key} = {raw[key]!r} is invalid; allowed: text")
    return raw if not problems else None


# ---------------------------------------------------------------------------------------- reading


@dataclass
class _Parsed:
    """The tables' values, parsed, before the checks across tables."""

    toml: dict[str, Any]
    districts: _Table
    consortia: _Table
    facilities: _Table
    areas: _Table
    travel: _Table | None
    district_ids: dict[str, int]
    consortium_ids: dict[str, int]
    facility_ids: dict[str, int]
    area_ids: dict[str, int]
    values: dict[str, list[Any]]


def _parse(folder: Path, problems: list[str]) -> _Parsed | None:
    """Every file read and every value parsed; None if a file or a value has a problem."""
    toml = _read_toml(folder, problems)
    coordinates = toml["coordinates"] if toml is not None else "km"
    tables = {name: _read_csv(folder, name, coordinates, problems) for name in REQUIRED[1:]}
    travel = None
    if (folder / "travel_times.csv").exists():
        travel = _read_csv(folder, "travel_times.csv", coordinates, problems)
    if toml is None or problems:
        return None
    districts, consortia = tables["districts.csv"], tables["consortia.csv"]
    facilities, areas = tables["facilities.csv"], tables["areas.csv"]
    assert districts is not None and consortia is not None and facilities is not None and areas is not None
    ids = {name: table.ids() for name, table in tables.items() if table is not None}
    district_ids, consortium_ids = ids["districts.csv"], ids["consortia.csv"]
    facility_ids, area_ids = ids["facilities.csv"], ids["areas.csv"]
    cx, cy = _location_columns(coordinates)
    if coordinates == "km":
        px = py = _coordinate("a number (km)", -1e6, 1e6)
    else:
        px, py = _coordinate("a longitude, −180 to 180", -180, 180), _coordinate("a latitude, −90 to 90", -90, 90)
    values = {
        "district_name": districts.column("name", _text),
        "district_kind": districts.column("kind", _choice(DISTRICT_KINDS)),
        "consortium_name": consortia.column("name", _text),
        "consortium_lead": consortia.reference("lead", facility_ids, "facilities.csv"),
        "facility_name": facilities.column("name", _text),
        "facility_tier": facilities.column("tier", _choice(TIERS)),
        "facility_district": facilities.reference("district", district_ids, "districts.csv"),
        "facility_consortium": facilities.reference("consortium", consortium_ids, "consortia.csv", optional=True),
        "facility_x": facilities.column(cx, px),
        "facility_y": facilities.column(cy, py),
        "facility_beds": facilities.column("beds", _whole),
        "facility_doctors": facilities.column("doctors", _positive),
        "area_name": areas.column("name", _text),
        "area_district": areas.reference("district", district_ids, "districts.csv"),
        "area_kind": areas.column("kind", _choice(AREA_KINDS)),
        "area_residents": areas.column("residents", _positive),
        "area_station": areas.reference("station", facility_ids, "facilities.csv"),
        "area_centre": areas.reference("centre", facility_ids, "facilities.csv"),
        "area_x": areas.column(cx, px, blank=math.nan),
        "area_y": areas.column(cy, py, blank=math.nan),
    }
    for row, (x, y) in enumerate(zip(values["area_x"], values["area_y"], strict=True)):
        if x is not None and y is not None and math.isnan(x) != math.isnan(y):
            column = cy if math.isnan(y) else cx
            areas.bad(
                row, column, "", f"a number, as {cx} and {cy} are both given or both blank (blank: at its station)"
            )
    for name in AREA_SHARES:
        values[name] = areas.column(name, _share, blank=math.nan) if name in areas.frame else [math.nan] * len(areas)
    for row, (young, old) in enumerate(zip(values["share_0_14"], values["share_65_plus"], strict=True)):
        if young is not None and old is not None and young + old > 1:
            areas.bad(row, "share_65_plus", areas.frame["share_65_plus"][row], f"at most {1 - young:g}: with "
                      f"share_0_14 = {young:g} the shares of 0–14 and 65+ add up to more than 1")  # fmt: skip
    if "grade" in facilities.frame:
        facilities.column("grade", _choice(GRADES), blank="")
    values["facility_gps"] = [math.nan] * len(facilities)
    if "general_practitioners" in facilities.frame:
        values["facility_gps"] = facilities.column("general_practitioners", _at_least_zero)
        for row, (gps, doctors) in enumerate(zip(values["facility_gps"], values["facility_doctors"], strict=True)):
            if gps is not None and doctors is not None and gps > doctors:
                facilities.bad(row, "general_practitioners", facilities.frame["general_practitioners"][row],
                               f"at most the facility's doctors ({doctors:g})")  # fmt: skip
    level = facilities.column("level", _choice(LEVELS), blank="") if "level" in facilities.frame else []
    values["facility_provincial"] = [x == "provincial" for x in level] or [False] * len(facilities)
    values["district_city"] = (
        districts.column("city", _text, blank="") if "city" in districts.frame else [""] * len(districts)
    )
    if travel is not None:
        values["travel_area"] = travel.reference("area", area_ids, "areas.csv")
        values["travel_facility"] = travel.reference("facility", facility_ids, "facilities.csv")
        values["travel_hours"] = travel.column("hours", _positive)
    if problems:
        return None
    return _Parsed(
        toml, districts, consortia, facilities, areas, travel, district_ids, consortium_ids, facility_ids, area_ids,
        values,
    )  # fmt: skip


def _positions(p: _Parsed) -> tuple[np.ndarray, np.ndarray]:
    """Facility and area positions in km; an area without a location lives at its station."""
    v = p.values
    fx, fy = np.array(v["facility_x"], dtype=np.float64), np.array(v["facility_y"], dtype=np.float64)
    ax, ay = np.array(v["area_x"], dtype=np.float64), np.array(v["area_y"], dtype=np.float64)
    if p.toml["coordinates"] == "lonlat":
        lon0 = np.concatenate([fx, ax[np.isfinite(ax)]]).mean()
        lat0 = np.concatenate([fy, ay[np.isfinite(ay)]]).mean()
        east = EARTH_RADIUS_KM * math.cos(math.radians(lat0))
        fx, ax = np.radians(fx - lon0) * east, np.radians(ax - lon0) * east
        fy, ay = np.radians(fy - lat0) * EARTH_RADIUS_KM, np.radians(ay - lat0) * EARTH_RADIUS_KM
    facility_xy = np.column_stack([fx, fy])
    area_xy = np.column_stack([ax, ay])
    station = np.array(v["area_station"], dtype=np.int64)
    unplaced = ~np.isfinite(area_xy).all(axis=1)
    area_xy[unplaced] = facility_xy[station[unplaced]]
    return facility_xy, area_xy


def _check_links(p: _Parsed, problems: list[str]) -> None:
    """Checks across tables: areas' primary facilities, consortia's leads, the hospitals a region needs."""
    v = p.values
    tier = np.array([TIERS.index(t) for t in v["facility_tier"]])
    consortium = v["facility_consortium"]
    fac = p.facilities.frame
    for row, (station, centre) in enumerate(zip(v["area_station"], v["area_centre"], strict=True)):
        for column, f, want in (("station", station, VILLAGE), ("centre", centre, HEALTH_CENTRE)):
            if tier[f] != want:
                p.areas.bad(
                    row, column, fac["id"][f], f"a facility of tier {TIERS[want]} (this one is {TIERS[tier[f]]})"
                )
    stations = sorted(set(v["area_station"]))
    for f in stations:
        if consortium[f] < 0:
            p.facilities.bad(
                f, "consortium", "", "a consortium id: this village facility is an area's station, and its residents "
                "belong to its consortium",
            )  # fmt: skip
    for row, lead in enumerate(v["consortium_lead"]):
        own = p.consortia.frame["id"][row]
        if consortium[lead] != row:
            actual = p.consortia.frame["id"][consortium[lead]] if consortium[lead] >= 0 else "none"
            allowed = f"a facility of consortium {own} (its consortium is {actual})"
            p.consortia.bad(row, "lead", fac["id"][lead], allowed)
        elif tier[lead] < SECONDARY:
            allowed = f"a secondary or tertiary hospital (it is {TIERS[tier[lead]]})"
            p.consortia.bad(row, "lead", fac["id"][lead], allowed)
    for f in np.flatnonzero(np.array(v["facility_provincial"]) & (tier != TERTIARY)):
        p.facilities.bad(
            int(f), "level", "provincial", f"blank (a provincial centre is tertiary; this is {TIERS[tier[f]]})"
        )
    for t in (SECONDARY, TERTIARY):
        if not (tier == t).any():
            problems.append(
                f"facilities.csv: column tier: no {TIERS[t]} hospital; allowed: a region with at least one secondary "
                "and one tertiary hospital (add those its residents go to outside it)"
            )


def _check_travel(p: _Parsed) -> dict[tuple[int, int], float]:
    """`travel_times.csv` as (area, facility) → hours; a repeated pair is a problem."""
    assert p.travel is not None
    v, seen = p.values, {}
    frame = p.travel.frame
    for row, pair in enumerate(zip(v["travel_area"], v["travel_facility"], strict=True)):
        if pair in seen:
            p.travel.bad(
                row, "facility", frame["facility"][row], f"one row per area and facility (area {frame['area'][row]} "
                f"already has it in row {seen[pair] + 1})",
            )  # fmt: skip
        else:
            seen[pair] = row
    return {pair: v["travel_hours"][row] for pair, row in seen.items()}


def _check_reach(p: _Parsed, candidates: np.ndarray) -> None:
    """Every facility is some area's candidate: one no resident can reach would only stand idle."""
    reached = np.zeros(len(p.facilities), dtype=bool)
    reached[candidates[candidates >= 0]] = True
    for f in np.flatnonzero(~reached):
        p.facilities.bad(
            int(f), "id", p.facilities.frame["id"][f], "a facility some area can reach: an area's station or centre, "
            "or one of an area's two nearest secondary or tertiary hospitals (check its location, tier and district)",
        )  # fmt: skip


def _check_boundaries(folder: Path, district_ids: dict[str, int], problems: list[str]) -> None:
    """`boundaries.geojson`: a FeatureCollection of (Multi)Polygons, each naming a district of districts.csv."""
    path = folder / "boundaries.geojson"
    name = path.name
    text = _decode(path, problems)
    if text is None:
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"{name}: line {exc.lineno}: malformed JSON: {exc.msg}")
        return
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(features, list):
        problems.append(
            f'{name}: not a GeoJSON FeatureCollection; allowed: {{"type": "FeatureCollection", "features": []}}'
        )
        return
    for k, feature in enumerate(features):
        where = f"{name}: feature {k + 1}"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        properties = feature.get("properties") if isinstance(feature, dict) else None
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        if kind not in ("Polygon", "MultiPolygon") or not _rings_ok(geometry.get("coordinates"), kind):
            problems.append(
                f"{where}, geometry: invalid; allowed: a Polygon or MultiPolygon of closed rings of [x, y] numbers"
            )
        district = properties.get("district") if isinstance(properties, dict) else None
        if district not in district_ids:
            problems.append(f"{where}, property district: {district!r} is invalid; allowed: an id of districts.csv")


def _rings_ok(coordinates: Any, kind: str) -> bool:
    """Whether GeoJSON coordinates are polygons of closed rings of at least four finite positions."""
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    if not isinstance(polygons, list) or not polygons:
        return False
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return False
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                return False
            if not all(_position_ok(position) for position in ring):
                return False
    return True


def _position_ok(position: Any) -> bool:
    """Whether a GeoJSON position is a list of at least two finite numbers."""
    return (
        isinstance(position, list)
        and len(position) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in position)
    )


def _region(folder: Path, params: RegionParams) -> tuple[Region | None, list[str]]:
    """The full-scale region of a folder and its problems (None if there are any)."""
    problems: list[str] = []
    p = _parse(folder, problems)
    if p is None:
        return None, problems
    if (folder / "boundaries.geojson").exists():
        _check_boundaries(folder, p.district_ids, problems)
    _check_links(p, problems)
    if problems:
        return None, problems
    v = p.values
    tier = np.array([TIERS.index(t) for t in v["facility_tier"]], dtype=np.int8)
    facility_district = np.array(v["facility_district"], dtype=np.int32)
    facility_xy, area_xy = _positions(p)
    station = np.array(v["area_station"], dtype=np.int64)
    centre = np.array(v["area_centre"], dtype=np.int64)
    cell_district = np.array(v["area_district"], dtype=np.int32)
    urban = np.array([k == "urban" for k in v["area_kind"]], dtype=bool)
    cities = {name: k for k, name in enumerate(dict.fromkeys(v["district_city"]))}
    city = np.array([cities[name] for name in v["district_city"]], dtype=np.int64)
    provincial = np.array(v["facility_provincial"], dtype=bool)
    given = _check_travel(p) if p.travel is not None else {}
    given_area, given_facility = (np.array([pair[k] for pair in given], dtype=np.int64) for k in (0, 1))
    given_hours = np.array(list(given.values()), dtype=np.float64)

    def hours_to(facilities: np.ndarray) -> np.ndarray:
        """(areas, k) hours to (areas, k) facilities (or k for every area): `travel_times.csv`'s, else computed."""
        each = np.broadcast_to(facilities, (len(area_xy), facilities.shape[-1]))
        hours = travel_hours(each, facility_xy, area_xy, urban, cell_district, facility_district, params)
        rows, slots = np.nonzero(each[given_area] == given_facility[:, None])
        hours[given_area[rows], slots] = given_hours[rows]
        return hours

    timed = np.unique(given_area)

    def reach(facilities: np.ndarray) -> np.ndarray:
        """An area's hospitals ranked by travel time where the file gives some of its times, else by distance."""
        out = distances(area_xy, facility_xy, facilities)
        out[timed] = hours_to(facilities)[timed]
        return out

    candidates = candidate_facilities(
        station, centre, cell_district, area_xy, tier, facility_district, facility_xy, city, provincial, reach
    )
    hours = hours_to(candidates)
    _check_reach(p, candidates)
    if problems:
        return None, problems
    region = Region(
        district_id=tuple(p.district_ids),
        district_names=tuple(v["district_name"]),
        district_is_county=np.array([k == "county" for k in v["district_kind"]], dtype=bool),
        district_residents=np.zeros(0),
        facility_id=tuple(p.facility_ids),
        facility_tier=tier,
        facility_district=facility_district,
        facility_consortium=np.array(v["facility_consortium"], dtype=np.int32),
        facility_xy=facility_xy,
        facility_beds=np.array(v["facility_beds"], dtype=np.int64),
        facility_doctors=np.array(v["facility_doctors"], dtype=np.float64),
        facility_gps=np.array(v["facility_gps"], dtype=np.float64),
        facility_name=tuple(v["facility_name"]),
        consortium_id=tuple(p.consortium_ids),
        consortium_lead=np.array(v["consortium_lead"], dtype=np.int64),
        consortium_name=tuple(v["consortium_name"]),
        area_id=tuple(p.area_ids),
        area_name=tuple(v["area_name"]),
        cell_district=cell_district,
        cell_urban=urban,
        cell_xy=area_xy,
        cell_residents=np.array(v["area_residents"], dtype=np.float64),
        cell_weight=np.zeros(0),
        cell_age_shares=np.column_stack([v["share_0_14"], v["share_65_plus"]]).astype(np.float64),
        cell_employee_share=np.array(v["employee_share"], dtype=np.float64),
        cell_candidates=candidates,
        cell_travel_hours=hours,
        district_city=tuple(v["district_city"]),
        facility_provincial=provincial,
        scale=1.0,
        residents=0,
    )
    return at_scale(region, 1.0), []


def _not_a_region(folder: Path) -> str | None:
    """One line if `folder` is no region at all: not a folder, or a folder with none of the region's files."""
    if not folder.is_dir():
        return f"{folder}: not a folder; a region is a folder of {', '.join(REQUIRED)}"
    if not any((folder / name).is_file() for name in REQUIRED):
        return f"{folder}: no region files in it; a region is a folder of {', '.join(REQUIRED)}"
    return None


def check(folder: str | Path, params: RegionParams | None = None) -> tuple[list[str], str]:
    """Every problem of a region folder, one line each, and a one-line summary if there are none.

    Args:
        folder: The region folder.
        params: Region parameters (the speeds of computed travel times); default: the baseline's.

    Returns:
        The problems (empty if none) and the summary (empty if there are problems).
    """
    folder = Path(folder)
    if (problem := _not_a_region(folder)) is not None:
        return [problem], ""
    region, problems = _region(folder, params or RegionParams())
    if region is None:
        return problems, ""
    toml = tomllib.loads((folder / "region.toml").read_text(encoding="utf-8-sig"))
    tiers = np.bincount(region.facility_tier, minlength=len(TIERS))
    summary = (
        f"{folder}: valid region '{toml.get('name', folder.name)}' (format {FORMAT_VERSION}): "
        f"{len(region.district_names)} districts, {region.n_facilities} facilities "
        f"({', '.join(f'{n} {t}' for n, t in zip(tiers, TIERS, strict=True))}), {region.facility_beds.sum():,} beds, "
        f"{len(region.consortium_name)} consortia, {region.n_cells} areas, {region.residents:,} residents"
    )
    return [], summary


def digest(folder: str | Path) -> str:
    """A digest of a region folder's files, so that an edited file is read again."""
    folder = Path(folder)
    h = hashlib.sha256()
    for name in (*REQUIRED, *OPTIONAL):
        path = folder / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.is_file() else b"\0absent")
    return h.hexdigest()


@functools.lru_cache(maxsize=4)
def _read_cached(folder: str, digest: str, params_json: str) -> Region:
    region, problems = _region(Path(folder), RegionParams.model_validate_json(params_json))
    if region is None:
        raise RegionError(problems)
    return region


def read(folder: str | Path, params: RegionParams | None = None) -> Region:
    """The full-scale region of a folder.

    Args:
        folder: The region folder.
        params: Region parameters (the speeds of computed travel times); default: the baseline's.

    Raises:
        RegionError: One line per problem of the folder.
    """
    folder = Path(folder)
    if (problem := _not_a_region(folder)) is not None:
        raise RegionError([problem])
    params = params or RegionParams()
    return _read_cached(str(folder.resolve()), digest(folder), params.model_dump_json())


def load(params: RegionParams, scale: float) -> Region:
    """The scenario's region at a scale: the folder `params.files`, or the embedded city if none."""
    if params.files:
        return at_scale(read(params.files, params), scale)
    return build(params, scale)


# ---------------------------------------------------------------------------------------- writing


def write(region: Region, folder: str | Path, *, name: str, description: str = "") -> None:
    """Write a full-scale region in the region format (coordinates in km).

    Args:
        region: A full-scale region (e.g. `region.build_full(params)`).
        folder: The folder to write into (created; its region files are replaced).
        name: The region's name, for region.toml.
        description: What the region is.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    toml = [f"version = {FORMAT_VERSION}", f"name = {json.dumps(name, ensure_ascii=False)}"]
    if description:
        toml.append(f"description = {json.dumps(description, ensure_ascii=False)}")
    toml.append('coordinates = "km"')
    (folder / "region.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    fid, did, cid = region.facility_id, region.district_id, region.consortium_id
    kind = ("district", "county")
    cities = any(region.district_city)  # optional columns only where given
    _write_csv(
        folder / "districts.csv",
        ("id", "name", "kind", *(("city",) if cities else ())),
        (
            (did[d], region.district_names[d], kind[int(region.district_is_county[d])],
             *((region.district_city[d],) if cities else ()))
            for d in range(len(did))
        ),
    )  # fmt: skip
    levels = bool(region.facility_provincial.any())
    gps = not np.isnan(region.facility_gps).all()
    _write_csv(
        folder / "consortia.csv",
        ("id", "name", "lead"),
        zip(cid, region.consortium_name, (fid[f] for f in region.consortium_lead), strict=True),
    )
    _write_csv(
        folder / "facilities.csv",
        ("id", "name", "tier", "district", "consortium", "x", "y", "beds", "doctors",
         *(("level",) if levels else ()), *(("general_practitioners",) if gps else ())),
        (
            (fid[f], region.facility_name[f], TIERS[region.facility_tier[f]], did[region.facility_district[f]],
             cid[region.facility_consortium[f]] if region.facility_consortium[f] >= 0 else "",
             _format(region.facility_xy[f, 0]), _format(region.facility_xy[f, 1]), str(region.facility_beds[f]),
             _format(region.facility_doctors[f]),
             *(("provincial" if region.facility_provincial[f] else "",) if levels else ()),
             *((_format(region.facility_gps[f]),) if gps else ()))
            for f in range(region.n_facilities)
        ),
    )  # fmt: skip
    cand = region.cell_candidates
    shares = np.column_stack([region.cell_age_shares, region.cell_employee_share])
    given = [k for k in range(len(AREA_SHARES)) if not np.isnan(shares[:, k]).all()]  # optional: only if given
    _write_csv(
        folder / "areas.csv",
        ("id", "name", "district", "kind", "residents", "station", "centre", "x", "y",
         *(AREA_SHARES[k] for k in given)),
        (
            (region.area_id[c], region.area_name[c], did[region.cell_district[c]],
             "urban" if region.cell_urban[c] else "rural", _format(region.cell_residents[c]), fid[cand[c, 0]],
             fid[cand[c, 1]], _format(region.cell_xy[c, 0]), _format(region.cell_xy[c, 1]),
             *("" if np.isnan(shares[c, k]) else _format(shares[c, k]) for k in given))
            for c in range(region.n_cells)
        ),
    )  # fmt: skip


def write_embedded(params: RegionParams, folder: str | Path) -> None:
    """Write the embedded city of `params`, at full scale, as region files (`tiersim region init`)."""
    write(
        build_full(params),
        folder,
        name="tiersim embedded city",
        description=(
            f"The embedded grid city: {params.urban_districts} urban districts and {params.rural_counties} rural "
            f"counties, {params.residents:,} residents (written by tiersim region init)"
        ),
    )


def write_province(province: ProvinceParams, params: RegionParams, folder: str | Path) -> None:
    """Write a province (`sim.province`), at full scale, as region files (`tiersim region init --province`)."""
    from sim.province import build_province, city_residents

    write(
        build_province(province, params),
        folder,
        name="tiersim province",
        description=(
            f"A province of {province.cities} cities side by side, sized as Guizhou's prefectures (2020 census), "
            f"{province.residents:,} residents ({', '.join(f'{r:,}' for r in city_residents(province))}), "
            f"{province.provincial_centres} provincial centres in city 1, the capital (written by tiersim region init "
            "--province)"
        ),
    )


def _write_csv(path: Path, header: tuple[str, ...], rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
