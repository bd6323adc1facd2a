"""Region parameters: the schema, units, ranges and sources of `sim.region`'s inputs."""

from __future__ import annotations

from sim.params import StrictModel, by_tier, param, table_field

VILLAGE, HEALTH_CENTRE, SECONDARY, TERTIARY = range(4)
CANDIDATES = 6
"""Candidate facilities per cell: own village clinic/station, own health centre, two nearest
secondary hospitals (own district's first), two nearest tertiary hospitals."""


BedsPer1000 = by_tier(
    "BedsPer1000",
    (0.0, 1.1, 2.8, 2.6),
    "beds per 1,000 residents",
    "7.23 beds/1,000 in 2023 [nhc-bulletin-2023], some in specialist/other institutions; split calibrated to "
    "occupancy ≈50% health centres (42.6% community centres 2022 Q1 [nhc-services-2022-q1], unverified), "
    "≈80% secondary, ≈90% tertiary (public hospitals 86% [nhc-bulletin-2023])",
    "Inpatient beds by tier",
    ge=0.0,
    le=50.0,
)

DoctorsPer1000 = by_tier(
    "DoctorsPer1000",
    (0.55, 0.6, 0.85, 0.9),
    "doctors per 1,000 residents",
    "3.40 licensed doctors/1,000 in 2023 [nhc-bulletin-2023], village doctors included; split: assumption",
    "Doctors seeing outpatients, by tier",
    ge=0.0,
    le=20.0,
)

VisitsPerDoctorDay = by_tier(
    "VisitsPerDoctorDay",
    (12.0, 8.0, 6.0, 4.5),
    "visits per doctor-day",
    "assumption, calibrated so tertiary clinics run at capacity (waits ≈1–1.4 days) and village clinics have "
    "≈1.5×, health centres ≈1.2× the baseline demand",
    "Outpatient visits a doctor can see per day",
    ge=0.1,
    le=200.0,
)


class RegionParams(StrictModel):
    """Size and layout of the embedded default region, or the folder of a region in files."""

    files: str = param(
        "",
        "folder",
        "setting: empty for the embedded city; a planner's region in files (docs/region-format.md)",
        "Folder of a region in files (relative to the scenario file naming it); empty: the embedded city. A region "
        "in files uses of the parameters below only the speeds and access time (for the travel times it does not "
        "give), the visits per doctor-day and the capacity growth.",
    )
    residents: int = param(
        2_500_000,
        "residents",
        "assumption: a prefecture-level city (地级市) of about 2.5 million",
        "Residents of the full-scale region (before --scale).",
        ge=1_000,
        le=50_000_000,
    )
    urban_districts: int = param(2, "districts", "assumption", "Districts (区) of the urban core.", ge=1, le=6)
    rural_counties: int = param(
        8, "counties", "assumption: ~10 counties/districts in all", "Rural counties (县).", ge=1, le=24
    )
    urban_core_share: float = param(
        0.36,
        "share",
        "assumption: typical prefecture city, core districts about a third",
        "Share of residents living in the urban core districts.",
        ge=0.05,
        le=0.95,
    )
    county_seat_share: float = param(
        0.30,
        "share",
        "assumption",
        "Share of a county's residents living in its county seat (urban).",
        ge=0.0,
        le=0.9,
    )
    tile_km: float = param(
        40.0,
        "km",
        "assumption: a county of ≈1,600 km²",
        "Side of the square tile a county (or the urban core) occupies.",
        ge=5,
        le=200,
    )
    residents_per_village: float = param(
        1_000,
        "residents",
        "~580k village clinics [nhc-bulletin-2023] for ~490M rural residents [nbs-communique-2022]",
        "Rural residents per village clinic (村卫生室).",
        ge=100,
        le=20_000,
    )
    residents_per_station: float = param(
        10_000,
        "residents",
        "assumption: one station per community (社区)",
        "Urban residents per community health station (社区卫生服务站).",
        ge=1_000,
        le=100_000,
    )
    residents_per_township: float = param(
        25_000,
        "residents",
        "~34k township centres [nhc-bulletin-2023] for ~490M rural residents [nbs-communique-2022] (rounded)",
        "Rural residents per township health centre (乡镇卫生院).",
        ge=2_000,
        le=200_000,
    )
    residents_per_community_centre: float = param(
        60_000,
        "residents",
        "assumption: one centre per street (街道)",
        "Urban residents per community health centre (社区卫生服务中心).",
        ge=5_000,
        le=500_000,
    )
    tertiary_hospitals: int = param(
        5,
        "hospitals",
        "3,855 tertiary hospitals in 2023 (attributed to [nhc-bulletin-2023], not found in a reproduction) for "
        "1.41 bn residents (≈1 per 365k)",
        "Tertiary hospitals (三级医院) in the urban core.",
        ge=1,
        le=50,
    )
    secondary_per_district: int = param(
        2,
        "hospitals",
        "assumption: county people's hospital + county TCM hospital",
        "Secondary (county/district) hospitals per district or county.",
        ge=1,
        le=10,
    )
    beds_per_1000: BedsPer1000 = table_field(BedsPer1000)
    doctors_per_1000: DoctorsPer1000 = table_field(DoctorsPer1000)
    visits_per_doctor_day: VisitsPerDoctorDay = table_field(VisitsPerDoctorDay)
    capacity_growth: float = param(
        0.03,
        "per year",
        "beds per 1,000 6.30 (2019) [nhc-bulletin-2019] → 7.23 (2023) [nhc-bulletin-2023], doctors 2.77 → 3.40 "
        "(≈3.5–5%/yr)",
        "Yearly growth of every facility's beds and outpatient capacity.",
        ge=-0.5,
        le=0.5,
    )
    urban_speed_kmh: float = param(20.0, "km/h", "assumption", "Travel speed in urban areas.", ge=1, le=120)
    rural_speed_kmh: float = param(35.0, "km/h", "assumption", "Travel speed in rural areas.", ge=1, le=120)
    access_minutes: float = param(
        10.0, "minutes", "assumption", "Fixed time to reach and enter any facility.", ge=0, le=240
    )


GUIZHOU_PREFECTURES: tuple[tuple[str, int], ...] = (
    ("贵阳市", 5_987_018),
    ("毕节市", 6_899_636),
    ("遵义市", 6_606_675),
    ("黔东南州", 3_758_622),
    ("黔南州", 3_494_385),
    ("铜仁市", 3_298_468),
    ("六盘水市", 3_031_602),
    ("黔西南州", 3_015_112),
    ("安顺市", 2_470_630),
)
"""Residents of Guizhou's 9 prefectures (市/州) on 1 November 2020 [guizhou-census-2020-2], the
capital (贵阳市) first: a province's city k has the share of the k-th (cycled beyond 9)."""


class ProvinceParams(StrictModel):
    """Size of the province `tiersim region init --province` writes (`sim.province`)."""

    cities: int = param(
        9,
        "cities",
        "Guizhou's 9 prefectures (市/州) [guizhou-census-2020-2]",
        "Cities (prefectures, 市/州).",
        ge=1,
        le=30,
    )
    residents: int = param(
        38_562_148,
        "residents",
        "Guizhou's 9 prefectures together, 2020 census [guizhou-census-2020-2]",
        "Residents of the province, shared among the cities in proportion to Guizhou's prefectures.",
        ge=10_000,
        le=60_000_000,
    )
    provincial_centres: int = param(
        4,
        "hospitals",
        "assumption (sensitivity range 2–8): a province's few provincial-level general and university hospitals",
        "Provincial tertiary centres (省级医院) in the capital, which every city's residents can reach.",
        ge=1,
        le=20,
    )
    residents_per_tertiary: float = param(
        500_000,
        "residents",
        "assumption (range 250,000–1,000,000): the embedded city's 5 tertiary hospitals for 2.5 million",
        "Residents per city tertiary hospital (rounded per city: a small city has none); also the size of a "
        "provincial centre (its beds and doctors are the tertiary densities × these residents).",
        ge=50_000,
        le=10_000_000,
    )
    residents_per_county: float = param(
        300_000,
        "residents",
        "assumption (range 150,000–600,000): rural residents per county",
        "Residents outside the urban core per rural county (县), rounded per city (1–24 counties).",
        ge=20_000,
        le=5_000_000,
    )
    residents_per_district: float = param(
        450_000,
        "residents",
        "assumption (range 200,000–900,000): the embedded city's core, 0.9 million in 2 districts",
        "Residents of the urban core per urban district (区), rounded per city (1–6 districts).",
        ge=20_000,
        le=5_000_000,
    )
