"""A region from files (docs/region-format.md): init writes the embedded city, reading it back gives it
exactly, runs of it reproduce the embedded city's, an edit changes them, and every kind of broken
file gives one line naming the file, row and column, and exit status 2."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

import sim
from sim import population, region, regionfiles
from sim.checkpoint import prefix_key
from sim.parameters.population import EMPLOYEE
from sim.parameters.region import RegionParams

SMALL = RegionParams(residents=200_000, urban_districts=1, rural_counties=2, tertiary_hospitals=2)
"""A small embedded city, for the checks of broken files (its folder is checked in a fraction of a second)."""

RUN = ["run.scale=0.01", "run.years=1"]


def _same(a: region.Region, b: region.Region) -> list[str]:
    """The fields in which two regions differ (arrays: dtype, shape and every value)."""
    differ = []
    for name, x in vars(a).items():
        y = getattr(b, name)
        if isinstance(x, np.ndarray):
            nan = x.dtype.kind == "f"  # NaN marks a value not given (e.g. an area's age shares)
            same = x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=nan)
        else:
            same = x == y
        if not same:
            differ.append(name)
    return differ


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded city written by `tiersim region init` (the command line, as a planner runs it)."""
    folder = tmp_path_factory.mktemp("city") / "r"
    p = tiersim_here("region", "init", str(folder), cwd=folder.parent)
    assert p.returncode == 0, p.stderr
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "r"
    regionfiles.write_embedded(SMALL, folder)
    return folder


def test_init_and_check(city, tmp_path):
    p = tiersim_here("region", "check", str(city), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1 and "valid region" in p.stdout
    assert "1355 facilities" in p.stdout and "2,500,000 residents" in p.stdout
    again = tiersim_here("region", "init", str(city), cwd=tmp_path)  # never over a region
    assert again.returncode == 2 and "already holds region.toml" in again.stderr


@pytest.mark.parametrize("scale", [1.0, 0.3, 0.02, 0.01, 0.002])
def test_files_read_back_as_the_embedded_region(city, scale):
    params = RegionParams(files=str(city))
    assert _same(regionfiles.load(params, scale), region.build(RegionParams(), scale)) == []


def test_region_carries_stable_ids(city):
    r = regionfiles.read(city)
    facilities = pd.read_csv(city / "facilities.csv", dtype=str, keep_default_na=False)
    areas = pd.read_csv(city / "areas.csv", dtype=str, keep_default_na=False)
    assert r.facility_id == tuple(facilities["id"]) and r.area_id == tuple(areas["id"])
    assert r.area_name == tuple(areas["name"])
    assert len(set(r.facility_id)) == r.n_facilities and len(set(r.area_id)) == r.n_cells


def _daily(scenario: sim.Scenario, engine: str = "array") -> pd.DataFrame:
    return sim.run(scenario, engine=engine).daily


def test_run_of_the_files_is_the_embedded_city(city, tmp_path):
    out = tmp_path / "out"
    p = tiersim("run", "--region", str(city), "--scale", "0.01", "--years", "1", "--no-report", "--quiet",
                "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stderr
    from_files = pd.read_parquet(out / "daily.parquet")
    written = tmp_path / "embedded"
    sim.run(sim.load_scenario(overrides=RUN)).write(written)
    embedded = pd.read_parquet(written / "daily.parquet")
    assert len(embedded) == 365 and embedded["visits_village"].sum() > 0
    pd.testing.assert_frame_equal(from_files, embedded, check_exact=True)


def test_scenario_names_a_region_relative_to_itself(city, tmp_path):
    shutil.copytree(city, tmp_path / "county")
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "mine.toml").write_text('region = "../county"\n', encoding="utf-8")
    (tmp_path / "plans" / "table.toml").write_text('[region]\nfiles = "../county"\n', encoding="utf-8")
    for name in ("mine.toml", "table.toml"):
        scenario = sim.load_scenario(tmp_path / "plans" / name)
        assert Path(scenario.region.files).resolve() == (tmp_path / "county").resolve()
    assert sim.load_scenario().region.files == ""
    ok = tiersim_here("validate", "plans/mine.toml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    key = prefix_key(scenario, 1, 1)
    _set("facilities.csv", 1, "beds", "-1")(tmp_path / "county")
    assert prefix_key(scenario, 1, 1) != key  # a kept beginning of a run is not reused for edited files
    bad = tiersim_here("validate", "plans/mine.toml", cwd=tmp_path)
    assert bad.returncode == 2 and "facilities.csv: row 1 (line 2), column beds" in bad.stderr


def test_an_edited_bed_count_changes_the_results(city, tmp_path):
    folder = tmp_path / "edited"
    shutil.copytree(city, folder)
    scenario = sim.load_scenario(overrides=[*RUN, f"region.files={str(folder)!r}"])
    before = _daily(scenario)
    rows = _rows(folder / "facilities.csv")
    tertiary = next(r for r in rows if r["tier"] == "tertiary")
    tertiary["beds"] = str(int(tertiary["beds"]) // 2)
    _write_rows(folder / "facilities.csv", rows)
    after = _daily(scenario)  # the same scenario: the files are read again when they change
    assert regionfiles.read(folder).facility_beds.sum() < regionfiles.read(city).facility_beds.sum()
    assert not before.equals(after)
    assert after["beds_tertiary"].iloc[-1] < before["beds_tertiary"].iloc[-1]


def test_a_hospital_in_no_consortium_is_under_no_budget(small, tmp_path):
    folder = tmp_path / "outside"
    shutil.copytree(small, folder)
    rows = _rows(folder / "facilities.csv")
    leads = {r["lead"] for r in _rows(folder / "consortia.csv")}
    outside = next(r for r in rows if r["tier"] == "secondary" and r["id"] not in leads)
    outside["consortium"] = ""
    _write_rows(folder / "facilities.csv", rows)
    run = ["run.scale=0.05", "run.years=2", "levers.global_budget.enabled=true", "levers.global_budget.start_year=0"]
    model = sim.CareModel(sim.load_scenario(overrides=[*run, f"region.files={str(folder)!r}"]))
    model.run_years(1)  # the year's close settles budgets per consortium: the outside hospital's claims are none's
    for _ in range(100):
        model.step()
    f = model.facilities
    here = f.consortium < 0
    assert here.sum() == 1 and f.fund_claims[here].sum() > 0
    margin = model._margins().volume_margin
    assert margin[here] == 1.0  # its extra cases cost no budget
    assert (margin[~here & (f.tier >= 2)] < 1.0).all()


@pytest.mark.slow
def test_reference_engine_runs_the_files_as_the_embedded_city(city):
    tiny = ["run.scale=0.0004", "run.years=1", "run.warmup_days=10"]
    embedded = _daily(sim.load_scenario(overrides=tiny), engine="reference")
    files = _daily(sim.load_scenario(overrides=[*tiny, f"region.files={str(city)!r}"]), engine="reference")
    pd.testing.assert_frame_equal(embedded, files, check_exact=True)


def test_lonlat_and_given_travel_times(small, tmp_path):
    folder = tmp_path / "lonlat"
    shutil.copytree(small, folder)
    toml = (folder / "region.toml").read_text(encoding="utf-8")
    (folder / "region.toml").write_text(toml.replace('coordinates = "km"', 'coordinates = "lonlat"'), encoding="utf-8")
    for name in ("facilities.csv", "areas.csv"):
        rows = _rows(folder / name)
        for r in rows:  # 1 km ≈ 0.009° of latitude near 30°N
            r["lon"], r["lat"] = str(110 + float(r.pop("x")) / 96.5), str(30 + float(r.pop("y")) / 111.2)
        _write_rows(folder / name, rows)
    km, lonlat = regionfiles.read(small), regionfiles.read(folder)
    # The same map, shifted: positions relative to the first facility agree within the degree rounding above.
    shift = (km.facility_xy - km.facility_xy[0]) - (lonlat.facility_xy - lonlat.facility_xy[0])
    assert np.abs(shift).max() < 0.5
    area = _rows(folder / "areas.csv")[0]
    _write_rows(folder / "travel_times.csv", [{"area": area["id"], "facility": area["centre"], "hours": "2.5"}])
    timed = regionfiles.read(folder)
    assert timed.cell_travel_hours[0, 1] == 2.5 and lonlat.cell_travel_hours[0, 1] != 2.5
    assert np.array_equal(np.delete(timed.cell_travel_hours, 0, axis=0), np.delete(lonlat.cell_travel_hours, 0, axis=0))


def test_given_travel_times_choose_the_nearest_hospitals(small, tmp_path):
    """An area's hospital candidates are the quickest to reach by `travel_times.csv`, not the nearest in km."""
    folder = tmp_path / "timed"
    shutil.copytree(small, folder)
    plain = regionfiles.read(small)
    tier = plain.facility_tier
    others = [f for f in np.flatnonzero(tier == region.SECONDARY) if f not in plain.cell_candidates[0]]
    assert others, "the small city needs a secondary hospital that is not area 0's candidate"
    quick = int(others[-1])
    area = _rows(folder / "areas.csv")[0]["id"]
    _write_rows(folder / "travel_times.csv", [{"area": area, "facility": plain.facility_id[quick], "hours": "0.05"}])
    timed = regionfiles.read(folder)
    # The quick hospital becomes the area's second secondary candidate; its own district's stays first.
    assert timed.cell_candidates[0, 3] == quick and timed.cell_travel_hours[0, 3] == 0.05
    assert timed.cell_candidates[0, 2] == plain.cell_candidates[0, 2]
    assert np.array_equal(timed.cell_candidates[1:], plain.cell_candidates[1:])


def test_general_practitioners_given_are_the_ones_counted(small, tmp_path):
    """`general_practitioners` in facilities.csv: the GPs per 10,000 residents reported are the register's."""
    folder = tmp_path / "gps"
    shutil.copytree(small, folder)
    rows = _rows(folder / "facilities.csv")
    for k, r in enumerate(rows):
        r["general_practitioners"] = "3" if r["tier"] == "health_centre" and k % 2 == 0 else "0"
    _write_rows(folder / "facilities.csv", rows)
    given = regionfiles.read(folder)
    assert np.nansum(given.facility_gps) == 3 * sum(r["general_practitioners"] == "3" for r in rows)
    regionfiles.write(given, tmp_path / "again", name="again")  # written back with the column
    assert np.array_equal(regionfiles.read(tmp_path / "again").facility_gps, given.facility_gps)

    def gps_per_10000(region_folder: Path) -> float:
        s = sim.load_scenario(overrides=[f"region.files={str(region_folder)!r}", "run.scale=0.01", "run.years=1"])
        return float(sim.run(s).annual["gps_per_10000"].iloc[0])

    model_residents = sim.CareModel(
        sim.load_scenario(overrides=[f"region.files={str(folder)!r}", "run.scale=0.01", "run.years=1"])
    ).region.residents
    expected = 10_000 * np.nansum(given.facility_gps) * 0.01 / model_residents
    assert gps_per_10000(folder) == pytest.approx(expected, rel=1e-9)
    assert gps_per_10000(small) != pytest.approx(expected, rel=1e-3)  # without the column: the workforce's rule


def test_areas_age_and_scheme_shares_shape_their_residents(small, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(small, folder)
    rows = _rows(folder / "areas.csv")
    for r in rows:
        r["share_0_14"], r["share_65_plus"], r["employee_share"] = "", "", ""
    rural = next(r for r in rows if r["kind"] == "rural")
    rural.update(share_0_14="0.1", share_65_plus="0.35", employee_share="1")
    _write_rows(folder / "areas.csv", rows)
    params = sim.load_scenario().population
    base = population.build(regionfiles.load(RegionParams(files=str(small)), 0.5), params, 1)
    changed = population.build(regionfiles.load(RegionParams(files=str(folder)), 0.5), params, 1)
    home = _rows(folder / "areas.csv").index(rural)
    here = changed.cell == home
    assert here.sum() > 100 and np.array_equal(base.cell, changed.cell)
    assert abs((changed.age[here] >= 65).mean() - 0.35) < 0.06 and abs((changed.age[here] < 15).mean() - 0.1) < 0.05
    assert (base.age[here] >= 65).mean() < 0.2
    adults = here & (changed.age >= 18)
    assert (changed.scheme[adults] == EMPLOYEE).all() and (base.scheme[adults] == EMPLOYEE).mean() < 0.3
    elsewhere = ~here  # residents of other areas are drawn as before, resident by resident
    assert np.array_equal(base.age[elsewhere], changed.age[elsewhere])
    assert np.array_equal(base.scheme[elsewhere], changed.scheme[elsewhere])


# ------------------------------------------------------------------------------------------ broken files


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _edit(name: str, change: Callable[[list[dict[str, str]]], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        rows = _rows(folder / name)
        change(rows)
        _write_rows(folder / name, rows)

    return apply


def _set(name: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    return _edit(name, lambda rows: rows[row - 1].__setitem__(column, value))


def _write(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(text.encode(encoding))


def _drop_column(rows: list[dict[str, str]]) -> None:
    for r in rows:
        del r["beds"]


def _far_clinic(rows: list[dict[str, str]]) -> None:
    rows.append({**rows[1], "id": "FX1", "name": "山顶村卫生室", "x": "900", "y": "900"})


def _lead_elsewhere(rows: list[dict[str, str]]) -> None:
    rows[0]["lead"] = rows[1]["lead"]


def _station_as_centre(folder: Path) -> None:
    rows = _rows(folder / "areas.csv")
    rows[0]["station"] = rows[0]["centre"]
    _write_rows(folder / "areas.csv", rows)


def _station_without_consortium(folder: Path) -> None:
    station = _rows(folder / "areas.csv")[0]["station"]
    _edit("facilities.csv", lambda rows: next(r for r in rows if r["id"] == station).__setitem__("consortium", ""))(
        folder
    )


def _gbk_names(folder: Path) -> None:
    rows = _rows(folder / "areas.csv")
    rows[2]["name"] = "城关镇东街社区"
    _write_rows(folder / "areas.csv", rows, encoding="gbk")


def _grade(rows: list[dict[str, str]]) -> None:
    for r in rows:
        r["grade"] = ""
    rows[-1]["grade"] = "特等"


def _shares(column: str, value: str, **more: str) -> Callable[[Path], None]:
    def change(rows: list[dict[str, str]]) -> None:
        for r in rows:
            r.update({name: "" for name in ("share_0_14", "share_65_plus", "employee_share")})
        rows[1].update({column: value, **more})

    return _edit("areas.csv", change)


def _gps(row: int, value: str) -> Callable[[Path], None]:
    """Every facility's general practitioners 0, and `value` in `row` (1-based)."""

    def change(rows: list[dict[str, str]]) -> None:
        for r in rows:
            r["general_practitioners"] = "0"
        rows[row - 1]["general_practitioners"] = value

    return _edit("facilities.csv", change)


def _travel(hours: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        area = _rows(folder / "areas.csv")[0]
        _write_rows(folder / "travel_times.csv", [{"area": area["id"], "facility": area["centre"], "hours": hours}])

    return apply


def _travel_twice(folder: Path) -> None:
    area = _rows(folder / "areas.csv")[0]
    row = {"area": area["id"], "facility": area["centre"], "hours": "1"}
    _write_rows(folder / "travel_times.csv", [row, dict(row)])


def _toml(old: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        text = (folder / "region.toml").read_text(encoding="utf-8")
        assert old in text
        (folder / "region.toml").write_text(text.replace(old, new), encoding="utf-8")

    return apply


def _boundaries(district: str) -> Callable[[Path], None]:
    ring = [[0, 0], [40, 0], [40, 40], [0, 40], [0, 0]]
    feature = f'{{"type": "Feature", "properties": {{"district": "{district}"}}, "geometry": ' \
        f'{{"type": "Polygon", "coordinates": [{ring}]}}}}'  # fmt: skip
    return _write("boundaries.geojson", f'{{"type": "FeatureCollection", "features": [{feature}]}}')


def _extra_value(folder: Path) -> None:
    lines = (folder / "districts.csv").read_text(encoding="utf-8").splitlines()
    lines[2] += ",extra"
    (folder / "districts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


BROKEN: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    # kind: (how the small city is broken, what its one line must say)
    "missing column": (_edit("facilities.csv", _drop_column), ("facilities.csv", "missing column beds", "columns:")),
    "unknown tier": (_set("facilities.csv", 3, "tier", "hospital"), ("facilities.csv: row 3 (line 4), column tier",
                                                                     "'hospital'", "one of village, health_centre")),
    "negative beds": (_set("facilities.csv", 1, "beds", "-5"), ("facilities.csv: row 1 (line 2), column beds",
                                                                "a whole number ≥ 0")),
    "beds not whole": (_set("facilities.csv", 1, "beds", "12.5"), ("row 1 (line 2), column beds", "whole number")),
    "duplicate id": (_edit("facilities.csv", lambda rows: rows.append(dict(rows[-1]))),
                     ("facilities.csv: row", "column id", "a unique id (already in row")),
    "facility in no area's reach": (_edit("facilities.csv", _far_clinic),
                                    ("facilities.csv: row", "column id", "'FX1'", "a facility some area can reach")),
    "not UTF-8": (_gbk_names, ("areas.csv: row 3 (line 4)", "not UTF-8", "allowed: UTF-8")),
    "missing file": (lambda folder: (folder / "districts.csv").unlink(), ("districts.csv: file not found",)),
    "non-numeric value": (_set("facilities.csv", 2, "doctors", "many"), ("facilities.csv: row 2 (line 3), column "
                                                                         "doctors", "'many'", "a number > 0")),
    "unknown district": (_set("facilities.csv", 2, "district", "D99"), ("column district", "'D99'",
                                                                        "an id of districts.csv")),
    "unknown consortium": (_set("facilities.csv", 2, "consortium", "C99"), ("column consortium", "'C99'",
                                                                            "an id of consortia.csv or blank")),
    "unknown facility": (_set("areas.csv", 4, "centre", "F9999"), ("areas.csv: row 4 (line 5), column centre",
                                                                   "an id of facilities.csv")),
    "zero residents": (_set("areas.csv", 1, "residents", "0"), ("areas.csv: row 1 (line 2), column residents",
                                                                "a number > 0")),
    "negative residents": (_set("areas.csv", 2, "residents", "-300"), ("areas.csv: row 2 (line 3), column residents",
                                                                       "'-300'")),
    "lead not in its consortium": (_edit("consortia.csv", _lead_elsewhere), ("consortia.csv: row 1 (line 2), column "
                                                                             "lead", "a facility of consortium")),
    "bad version": (_toml("version = 1", "version = 2"), ("region.toml: version = 2 is invalid", "allowed: 1")),
    "malformed region.toml": (_toml("version = 1", "version = "), ("region.toml: malformed TOML",)),
    "unknown coordinates": (_toml('"km"', '"miles"'), ("region.toml: coordinates = 'miles'", "'km', 'lonlat'")),
    "empty file": (_write("consortia.csv", ""), ("consortia.csv: empty file", "a header row")),
    "header only": (_write("districts.csv", "id,name,kind\n"), ("districts.csv: no rows",)),
    "NaN location": (_set("facilities.csv", 5, "x", "nan"), ("facilities.csv: row 5 (line 6), column x", "'nan'",
                                                             "a number (km)")),
    "half a location": (_set("areas.csv", 3, "y", ""), ("areas.csv: row 3 (line 4), column y",
                                                        "both given or both blank")),
    "unknown column": (_edit("facilities.csv", lambda rows: rows[0].__setitem__("bedz", "")),
                       ("facilities.csv: unknown column bedz", "allowed:")),
    "a value too many": (_extra_value, ("districts.csv: row 2 (line 3)", "4 values", "allowed: 3")),
    "unknown area kind": (_set("areas.csv", 1, "kind", "suburban"), ("column kind", "one of urban, rural")),
    "unknown district kind": (_set("districts.csv", 1, "kind", "city"), ("districts.csv: row 1 (line 2), column kind",
                                                                         "one of district, county")),
    "station of the wrong tier": (_station_as_centre, ("areas.csv: row 1 (line 2), column station",
                                                       "a facility of tier village")),
    "station in no consortium": (_station_without_consortium, ("facilities.csv: row", "column consortium",
                                                               "a consortium id")),
    "share out of range": (_shares("employee_share", "1.5"),
                           ("areas.csv: row 2 (line 3), column employee_share", "a share from 0 to 1")),
    "age shares above 1": (_shares("share_0_14", "0.6", share_65_plus="0.5"),
                           ("areas.csv: row 2 (line 3), column share_65_plus", "at most 0.4")),
    "unknown grade": (_edit("facilities.csv", _grade), ("column grade", "'特等'", "三级甲等")),
    "negative general practitioners": (_gps(2, "-1"), ("facilities.csv: row 2 (line 3), column "
                                                        "general_practitioners", "a number ≥ 0")),
    "more general practitioners than doctors": (_gps(2, "1e6"), ("facilities.csv: row 2 (line 3), column "
                                                                 "general_practitioners", "at most the facility's")),
    "blank general practitioners": (_gps(2, ""), ("column general_practitioners", "0 where there is none")),
    "negative travel time": (_travel("-1"), ("travel_times.csv: row 1 (line 2), column hours", "a number > 0")),
    "travel time given twice": (_travel_twice, ("travel_times.csv: row 2 (line 3), column facility",
                                                "one row per area and facility")),
    "boundary of an unknown district": (_boundaries("D42"), ("boundaries.geojson: feature 1, property district",
                                                             "'D42'")),
    "boundaries not JSON": (_write("boundaries.geojson", "{not json"), ("boundaries.geojson: line 1: malformed JSON",)),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_region_gives_one_line_and_exit_2(kind, small, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(small, folder)
    breaks, expected = BROKEN[kind]
    breaks(folder)
    p = tiersim_here("region", "check", str(folder), cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert lines[0].startswith("tiersim: error: ")


def test_the_small_city_is_valid(small, tmp_path):
    """The broken regions above differ from a valid one by their break alone."""
    p = tiersim_here("region", "check", str(small), cwd=tmp_path)
    assert p.returncode == 0 and "valid region" in p.stdout, p.stderr


def test_a_broken_region_is_never_run(small, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(small, folder)
    _set("areas.csv", 1, "residents", "0")(folder)
    _set("facilities.csv", 1, "beds", "-1")(folder)
    out = tmp_path / "out"
    p = tiersim("run", "--region", str(folder), "--scale", "0.01", "--years", "1", "--out", str(out), cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("tiersim: error: ") for line in lines), p.stderr
    assert not out.exists()
    missing = tiersim_here("run", "--region", str(tmp_path / "nowhere"), "--out", str(out), cwd=tmp_path)
    assert missing.returncode == 2 and "not a folder" in missing.stderr and not out.exists()
