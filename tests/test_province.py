"""The province (`tiersim region init --province`, `sim.province`): its folder is a valid region, it runs,
and a city without a tertiary hospital sends its severe cases to the provincial centres."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiersim_here

import sim
from sim import regionfiles
from sim.parameters.region import TERTIARY, ProvinceParams, RegionParams
from sim.province import build_province, city_residents
from sim.state import FREE_BED

SMALL = ["--cities", "3", "--residents", "1000000"]
"""A small province (three cities, a million residents): written and checked in seconds."""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("province") / "p"
    p = tiersim_here("region", "init", "--province", str(folder), *SMALL, cwd=folder.parent)
    assert p.returncode == 0, p.stderr
    assert "1,000,000 residents" in p.stdout
    return folder


def test_init_writes_a_valid_province(small):
    p = tiersim_here("region", "check", str(small), cwd=small.parent)
    assert p.returncode == 0, p.stderr
    districts, facilities = _rows(small / "districts.csv"), _rows(small / "facilities.csv")
    assert {d["city"] for d in districts} == {"City 1", "City 2", "City 3"}
    provincial = [f for f in facilities if f["level"] == "provincial"]
    assert len(provincial) == ProvinceParams().provincial_centres
    assert all(f["tier"] == "tertiary" and f["consortium"] == "" for f in provincial)
    region = regionfiles.read(small)
    assert region.residents == 1_000_000 and region.facility_provincial.sum() == len(provincial)
    # Every area of every city has a provincial centre among its candidates: cross-city referral.
    assert region.facility_provincial[region.cell_candidates[:, 4:]].any(axis=1).all()


def test_city_sizes_follow_guizhou_and_add_up():
    residents = city_residents(ProvinceParams())
    assert residents.sum() == 38_562_148 and residents.size == 9
    assert residents[0] == 5_987_018  # the capital, 贵阳市, first: the default is the census itself
    assert city_residents(ProvinceParams(cities=12, residents=10_000_001)).sum() == 10_000_001


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--province", "--cities", "0"], "cities"),
        (["--province", "--residents", "5"], "residents"),
        (["--cities", "3"], "--province"),
    ],
)
def test_bad_province_options_are_one_line(tmp_path, args, field):
    p = tiersim_here("region", "init", str(tmp_path / "p"), *args, cwd=tmp_path)
    assert p.returncode == 2 and field in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_a_provincial_centre_is_tertiary(small, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    rows = _rows(folder / "facilities.csv")
    row = next(k for k, r in enumerate(rows) if r["tier"] == "secondary")
    rows[row]["level"] = "provincial"
    with (folder / "facilities.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    problems, _ = regionfiles.check(folder)
    assert problems == [
        f"facilities.csv: row {row + 1} (line {row + 2}), column level: 'provincial' is invalid; allowed: blank (a "
        "provincial centre is tertiary; this is secondary)"
    ]


def test_a_small_province_runs_a_year(small):
    model = sim.CareModel(sim.load_scenario(overrides=["run.scale=0.02", f"region.files={str(small)!r}"]))
    model.run_years(1)
    pop, region = model.population, model.region
    assert len(pop) == 20_000
    cities = np.array(region.district_city)[pop.district]
    assert set(cities) == {"City 1", "City 2", "City 3"}
    assert model.occupied_beds()[region.facility_provincial].sum() > 0  # the provincial centres treat patients


def _severe_at_provincial(folder: Path, days: int) -> dict[str, tuple[float, int]]:
    """Per city: the share of its residents' complex-case (severity 3) bed-days at provincial centres, and the bed-days.

    The centres are those `folder` marks, or, for a folder that marks none, those of `PROVINCE`.
    """
    model = sim.CareModel(sim.load_scenario(overrides=["run.scale=0.05", f"region.files={str(folder)!r}"]))
    region, pop = model.region, model.population
    provincial = build_province(PROVINCE, RegionParams()).facility_provincial
    city = np.array(region.district_city)[pop.district]
    at_centre, total = {c: 0 for c in set(city)}, {c: 0 for c in set(city)}
    for _ in range(days):
        model.step()
        w = model.wards
        busy = (w.discharge_day != FREE_BED) & (w.severity == 3)
        for c in total:
            here = busy & (city[np.where(busy, w.resident, 0)] == c)
            total[c] += int(here.sum())
            at_centre[c] += int((here & provincial[w.facility]).sum())
    return {c: (at_centre[c] / max(total[c], 1), total[c]) for c in total}


PROVINCE = ProvinceParams(cities=3, residents=1_500_000, residents_per_tertiary=1_050_000, provincial_centres=2)
"""Three cities of about 0.5 million; a tertiary hospital per 1.05 million rounds to one in City 2 (531k) and
none in the capital (461k) and City 3 (508k), whose nearest tertiary hospital is City 2's."""


def test_severe_cases_of_a_city_without_tertiary_go_to_the_provincial_centres(tmp_path):
    region = build_province(PROVINCE, RegionParams())
    own = (region.facility_tier == TERTIARY) & ~region.facility_provincial
    assert [region.district_city[d] for d in region.facility_district[own]] == ["City 2"]
    regionfiles.write(region, tmp_path / "province", name="province")
    # The control: the same files without the provincial centres marked (no `level` column): the
    # embedded rule, the two nearest tertiary hospitals wherever they are.
    (tmp_path / "unmarked").mkdir()
    for f in (tmp_path / "province").iterdir():
        (tmp_path / "unmarked" / f.name).write_bytes(f.read_bytes())
    rows = _rows(tmp_path / "unmarked" / "facilities.csv")
    with (tmp_path / "unmarked" / "facilities.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(
            f, fieldnames=[c for c in rows[0] if c != "level"], extrasaction="ignore", lineterminator="\n"
        )
        out.writeheader()
        out.writerows(rows)
    marked = _severe_at_provincial(tmp_path / "province", 150)
    unmarked = _severe_at_provincial(tmp_path / "unmarked", 150)
    assert min(n for _, n in (*marked.values(), *unmarked.values())) > 50  # enough complex-case bed-days to compare
    assert marked["City 3"][0] > 0.9  # no tertiary hospital at home: the provincial centres take its complex cases
    assert unmarked["City 3"][0] < 0.5  # the control: without the rule, most go to City 2's nearer hospital
    assert marked["City 2"][0] < 0.3  # a city with its own tertiary hospital keeps them


@pytest.mark.slow
def test_reference_engine_runs_the_province_alike(small):
    tiny = ["run.scale=0.004", "run.years=1", "run.warmup_days=10", f"region.files={str(small)!r}"]
    array = sim.run(sim.load_scenario(overrides=tiny)).daily
    reference = sim.run(sim.load_scenario(overrides=tiny), engine="reference").daily
    pd.testing.assert_frame_equal(array, reference, check_exact=True)
