"""Indicators and policy targets: one definition each, used by runs, reports and tests.

The model records one `DayRecord` of raw counts and sums per day (the daily table). Every
indicator is a function of such sums over any period — a year for the annual table, the whole
run for a headline — so the same definition serves every table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from sim.accel import helper, kernel
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS

HOSPITAL_TIERS = ("secondary", "tertiary")
"""Tiers whose revenue counts as hospital medical revenue (公立医院医药总收入, [sanming-six-projects-2021])."""
BED_TIERS = ("health_centre", "secondary", "tertiary")

STRUCTURE_PARTS: dict[str, tuple[str, ...]] = {
    "service": ("service",),
    "drugs_and_consumables": ("drugs", "consumables"),
    "tests": ("tests",),
}
"""The three parts of the 5:3:2 revenue structure, of bill components: drugs and consumables are one part
(药品耗材收入, [sanming-six-projects-2021] 总体目标)."""

TARGETS: dict[str, dict[str, object]] = {
    "primary_visit_share": {
        "value": 0.65,
        "direction": ">=",
        "source": (
            "Yangjiang plan [yangjiang-consortia-2017] 一: 基层医疗卫生机构诊疗量占总诊疗量比例达到65%以上; "
            "Sanming plan [sanming-six-projects-2021] 总体目标: 基层医疗卫生机构诊疗量占比达65%以上; "
            "Liaocheng plan [liaocheng-plan-2024] 二(四): 基层门急诊人次占比达到65%以上"
        ),
    },
    "medical_revenue_growth": {
        "value": 0.09,
        "direction": "<=",
        "source": "Sanming plan [sanming-six-projects-2021] 总体目标: 全市公立医院医药总收入增幅控制在9%以内",
    },
    "revenue_structure": {
        "value": {"service": 0.5, "drugs_and_consumables": 0.3, "tests": 0.2},
        "direction": "~",
        "tolerance": 0.05,
        "source": (
            "Sanming plan [sanming-six-projects-2021] 总体目标: "
            "医疗服务性收入、药品耗材收入和检查化验收入达到5∶3∶2良性结构"
        ),
    },
    "in_county_rate": {
        "value": 0.90,
        "direction": ">=",
        "source": (
            "Yangjiang plan [yangjiang-consortia-2017] 一: 县域内就诊率提高到90%左右; "
            "Liaocheng plan [liaocheng-plan-2024] 二(三): 县域内患者就诊率力争在90%以上"
        ),
    },
    "signing_rate": {
        "value": 0.60,
        "direction": ">=",
        "source": "Liaocheng plan [liaocheng-plan-2024] 五(三): 到2025年…全人群签约率达到60%以上",
    },
    "gps_per_10000": {
        "value": 4.0,
        "direction": ">=",
        "source": "Liaocheng plan [liaocheng-plan-2024] 四(一): 到2025年…每万人口全科医生…达到4人",
    },
}
"""Policy targets with the policy clause each comes from (keys of docs/references.md)."""

DEFINITIONS: dict[str, str] = {
    "visits": "outpatient visits, all tiers (诊疗人次), including referral hops and down-referral follow-ups",
    "admissions": "admissions to a bed, all tiers, including transfers up",
    "visit_share": "visits at a tier ÷ all visits, by tier",
    "admission_share": "admissions at a tier ÷ all admissions, by tier",
    "first_contact_share": "episodes whose first contact is at a tier ÷ all episodes, by tier (首诊)",
    "flow_<from>_to_<to>": "referrals from one tier to another (up: 上转 incl. inpatient transfers; down: 下转)",
    "visits_per_capita": "visits ÷ residents (mean over days)",
    "admissions_per_capita": "admissions ÷ residents",
    "fund_income": "contributions collected by the insurance fund in the year, yuan",
    "fund_spending": "claims and lump sums paid by the fund in the year (net of overspend paid back), yuan",
    "primary_visit_share": "visits at village clinics/stations and health centres ÷ all visits (基层诊疗量占比)",
    "medical_revenue": "revenue of secondary and tertiary hospitals: bills plus lump sums (capitation, budget "
    "settlements, bonuses), yuan (公立医院医药总收入)",
    "medical_revenue_growth": "this year's hospital medical revenue ÷ last year's − 1",
    "revenue_structure": "hospital billed revenue by component: service, drugs, consumables (卫生材料), tests "
    "(shares); the 5:3:2 target counts drugs and consumables together",
    "chronic_admissions": "admissions of residents with hypertension or diabetes",
    "chronic_visits": "visits of residents with hypertension or diabetes (慢性病患者), all tiers; also by tier "
    "(`chronic_visits_<tier>`)",
    "chronic_visit_share": "chronic patients' visits at a tier ÷ all their visits, by tier",
    "transfers_up": "inpatients transferred to a higher tier (上转), part of referrals_up",
    "lead_referral_wait_days": "days from request to bed of patients their consortium's primary care referred to "
    "its lead hospital (signed residents, if reserved beds require it): those reserved beds are for",
    "referred_share_of_hospital_admissions": "referred admissions ÷ all admissions at secondary and tertiary hospitals",
    "referred_visit_share": "visits at a hospital tier by patients referred up to it (上转) by the facility they saw "
    "first ÷ visits at that tier, by hospital tier; `_employee_<tier>` and `_resident_<tier>` by insurance scheme",
    "oop_share": "out-of-pocket payments ÷ all bills of the facilities modelled (not total health expenditure)",
    "fund_balance": "cumulative fund contributions − claims paid since the start of the run, yuan",
    "bed_occupancy": "occupied bed-days ÷ available bed-days, by tier",
    "beds_per_1000": "beds per 1,000 residents (mean over days), by tier",
    "mean_wait_days": "outpatient queue ahead of a patient on arrival, in days of the facility's capacity, by tier",
    "mean_admission_wait_days": "days from admission request to bed, by tier of the admitting facility",
    "in_county_rate": "admissions of rural-county residents in a facility of their own county ÷ all their admissions",
    "signing_rate": "residents signed with a family doctor ÷ residents (mean over days)",
    "referrals_up": "patients sent to a higher tier because a facility could not treat or admit them (上转)",
    "referrals_down": "discharged patients referred to their health centre for follow-up (下转)",
    "unmet_episodes": "episodes turned away everywhere (outpatient) or never given a bed (inpatient)",
    "self_care_episodes": "episodes cared for at home (自我医疗): acute minor or moderate episodes whose outside "
    "option beat every candidate",
    "self_care_share": "self-care episodes ÷ all episodes (acute and follow-up)",
    "cost_per_visit": "outpatient bills ÷ visits, yuan, by tier",
    "cost_per_admission": "inpatient bills of discharged stays ÷ discharges, yuan, by tier",
    "mean_length_of_stay": "bed-days of discharged stays ÷ discharges, by tier",
    "gps_per_10000": "general practitioners (全科医生) per 10,000 residents (means over days)",
    "doctors_per_1000": "doctors employed per 1,000 residents (mean over days), by tier",
    "oop_per_admission": "out-of-pocket payments of discharged stays ÷ discharges, yuan; also by tier "
    "(`oop_per_admission_<tier>`)",
    "case_mix_index": "case-mix index (CMI): mean relative weight of the groups discharged stays are coded in "
    "(a severe stay weighs 1; `payment.group_weights`), all tiers; also by tier (`case_mix_index_<tier>`)",
}
"""What each indicator means; `indicators()` is the one implementation."""

OUTPATIENT_DAY_FIELDS = (
    "first_contacts",
    "visits",
    "visit_bills",
    "visit_wait_days",
    "visit_waits",
    "referred_visits",
    "employee_visits",
    "employee_referred_visits",
    "chronic_visits",
)
"""By-tier fields a day's outpatient care adds to (`care.outpatient_day`), the first of `BY_TIER_FIELDS`."""

BY_TIER_FIELDS = (
    *OUTPATIENT_DAY_FIELDS,
    "admissions",
    "admission_wait_days",
    "referred_admissions",
    "lead_referral_admissions",
    "lead_referral_wait_days",
    "discharges",
    "stay_days",
    "stay_bills",
    "stay_oop",
    "occupied_beds",
    "beds",
    "reserved_beds",
    *(f"revenue_{c}" for c in COMPONENTS),
    "revenue_lump_sum",
    "doctors",
    "case_weights",
)
STOCK_FIELDS = ("signed", "residents", "waiting_start", "waiting_end", "gps")
"""Daily levels rather than flows: a period's value is their mean over days. (Beds and occupied beds
are levels too, but are summed: their sums are bed-days, the terms of bed occupancy.)"""


_BY_TIER_INDEX = {name: i for i, name in enumerate(BY_TIER_FIELDS)}


def by_tier_rows(*names: str) -> np.ndarray:
    """Rows of `DayRecord.by_tier` of the named fields, for kernels that add to a day's record in place."""
    return np.array([_BY_TIER_INDEX[name] for name in names], dtype=np.int64)


@kernel
def _add_batches(
    tier: np.ndarray, weights: np.ndarray, bounds: np.ndarray, by_tier: np.ndarray, rows: np.ndarray
) -> None:
    """Add (n, len(rows)) weights by tier into the `rows` of a day's `by_tier`, each batch's sums first.

    A batch is summed by tier before it is added (the sums a `bincount` per batch gives);
    `add_batches_loop` is the loop for other kernels.
    """
    batch = np.zeros((by_tier.shape[1], rows.size))
    for b in range(bounds.size - 1):
        for i in range(bounds[b], bounds[b + 1]):
            for c in range(rows.size):
                batch[tier[i], c] += weights[i, c]
        for t in range(by_tier.shape[1]):
            for c in range(rows.size):
                by_tier[rows[c], t] += batch[t, c]
                batch[t, c] = 0.0


add_batches_loop = helper(_add_batches.loop)
"""`_add_batches` for kernels that add to a day's record in place (they can only call compiled code)."""


@dataclass
class DayRecord:
    """Raw counts and sums of one day (flows unless listed in STOCK_FIELDS).

    Attributes:
        by_tier: (len(BY_TIER_FIELDS), tiers) by-tier sums, one row per field of BY_TIER_FIELDS.
        flows: (tiers, tiers) referrals from one tier (row) to another (column).
    """

    episodes: int = 0
    treated_outpatient: int = 0
    admission_requests: int = 0
    unmet_outpatient: int = 0
    self_care_episodes: int = 0
    unmet_inpatient: int = 0
    waiting_start: int = 0
    waiting_end: int = 0
    referrals_up: int = 0
    referrals_down: int = 0
    fund_income: float = 0.0
    fund_paid: float = 0.0
    oop_paid: float = 0.0
    revenue_booked: float = 0.0
    transfer_requests: int = 0
    transfers_up: int = 0
    chronic_admissions: int = 0
    capitation_paid: float = 0.0
    budget_settlement: float = 0.0
    chain_start_line_paid: float = 0.0
    county_admissions: int = 0
    county_admissions_in_county: int = 0
    signed: int = 0
    residents: int = 0
    gps: float = 0.0
    assessment_paid: float = 0.0
    by_tier: np.ndarray = field(default_factory=lambda: np.zeros((len(BY_TIER_FIELDS), len(TIERS))))
    flows: np.ndarray = field(default_factory=lambda: np.zeros((len(TIERS), len(TIERS))))

    @classmethod
    def empty(cls) -> DayRecord:
        """A day with nothing yet."""
        return cls()

    def add_flow(self, from_tier: np.ndarray, to_tier: np.ndarray) -> None:
        """Count referrals from one tier to another (up or down): `flow_<from>_to_<to>` columns."""
        n = len(TIERS)
        self.flows += np.bincount(from_tier * n + to_tier, minlength=n * n).reshape(n, n)

    def add_by_tier(self, name: str, tier: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add counts (or weights) by tier to a by-tier field."""
        self.by_tier[_BY_TIER_INDEX[name]] += np.bincount(tier, weights=weights, minlength=len(TIERS))

    def add_tier_totals(self, name: str, totals: np.ndarray) -> None:
        """Add totals already summed by tier (one per tier) to a by-tier field."""
        self.by_tier[_BY_TIER_INDEX[name]] += totals

    def add_by_tier_batches(
        self, names: tuple[str, ...], tier: np.ndarray, weights: np.ndarray, bounds: list[int]
    ) -> None:
        """Add weights by tier to several fields, batch after batch, as `add_by_tier` once per batch would.

        Args:
            names: Fields to add to.
            tier: (n,) tier of each row.
            weights: (n, len(names)) what each row adds to each field.
            bounds: Where each consecutive batch of rows begins, then the end; each batch's sums are
                added in turn, so floating-point sums come out as if added one batch at a time.
        """
        _add_batches(tier, weights, np.asarray(bounds, dtype=np.int64), self.by_tier, by_tier_rows(*names))

    def values(self) -> tuple[float, ...]:
        """The scalar fields, in declaration order."""
        return tuple(getattr(self, name) for name in _SCALAR_FIELDS)


_SCALAR_FIELDS = tuple(f.name for f in fields(DayRecord) if f.name not in ("by_tier", "flows"))
_SCALAR_DTYPES = tuple(np.int64 if isinstance(getattr(DayRecord, name), int) else np.float64 for name in _SCALAR_FIELDS)


class Recorder:
    """Collects the daily records of a run."""

    def __init__(self) -> None:
        self._days: list[tuple[int, int]] = []
        self._scalars: list[tuple[float, ...]] = []
        self._by_tier: list[np.ndarray] = []
        self._flows: list[np.ndarray] = []

    def append(self, day: int, year: int, record: DayRecord) -> None:
        """Keep one day's record."""
        self._days.append((day, year))
        self._scalars.append(record.values())
        self._by_tier.append(record.by_tier.copy())
        self._flows.append(record.flows.copy())

    def daily(self) -> pd.DataFrame:
        """The daily table (one row per simulated day).

        Columns: day, year, the scalar fields, then `<field>_<tier>` for by-tier fields and
        `flow_<from>_to_<to>` for referral flows.
        """
        columns: dict[str, object] = {}
        days = np.array(self._days, dtype=np.int64).reshape(-1, 2)
        columns["day"], columns["year"] = days[:, 0], days[:, 1]
        # Counts and sums are exact in float64; counts go back to whole numbers.
        scalars = np.array(self._scalars, dtype=np.float64).reshape(-1, len(_SCALAR_FIELDS))
        for i, (name, dtype) in enumerate(zip(_SCALAR_FIELDS, _SCALAR_DTYPES, strict=True)):
            columns[name] = scalars[:, i].astype(dtype)
        n = len(TIERS)
        by_tier = np.array(self._by_tier).reshape(-1, len(BY_TIER_FIELDS), n)
        for i, name in enumerate(BY_TIER_FIELDS):
            for j, tier in enumerate(TIERS):
                columns[f"{name}_{tier}"] = by_tier[:, i, j]
        flows = np.array(self._flows).reshape(-1, n, n)
        for a, source in enumerate(TIERS):
            for b, target in enumerate(TIERS):
                columns[f"flow_{source}_to_{target}"] = flows[:, a, b]
        return pd.DataFrame(columns)


def _tier_sum(row: pd.Series | dict, name: str, tiers: tuple[str, ...] = TIERS) -> float:
    return float(sum(row[f"{name}_{t}"] for t in tiers))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def indicators(row: pd.Series | dict) -> dict[str, float]:
    """Every indicator of a period from its aggregated sums (see `aggregate`).

    Args:
        row: Period sums (flows summed, stocks averaged), e.g. one row of `aggregate(daily)`.

    Returns:
        Flat indicator columns; by-tier indicators are `<name>_<tier>`.
    """
    visits = _tier_sum(row, "visits")
    out: dict[str, float] = {
        "visits": visits,
        "admissions": _tier_sum(row, "admissions"),
        "primary_visit_share": _ratio(_tier_sum(row, "visits", TIERS[:2]), visits),
        "visits_per_capita": _ratio(visits, row["residents"]),
        "admissions_per_capita": _ratio(_tier_sum(row, "admissions"), row["residents"]),
        "medical_revenue": sum(_tier_sum(row, f"revenue_{c}", HOSPITAL_TIERS) for c in (*COMPONENTS, "lump_sum")),
        "oop_share": _ratio(row["oop_paid"], row["fund_paid"] + row["oop_paid"]),
        "in_county_rate": _ratio(row["county_admissions_in_county"], row["county_admissions"]),
        "signing_rate": _ratio(row["signed"], row["residents"]),
        "referrals_up": float(row["referrals_up"]),
        "referrals_down": float(row["referrals_down"]),
        "unmet_episodes": float(row["unmet_outpatient"] + row["unmet_inpatient"]),
        "self_care_episodes": float(row["self_care_episodes"]),
        "self_care_share": _ratio(row["self_care_episodes"], row["episodes"]),
        "fund_income": float(row["fund_income"]),
        "fund_spending": float(row["fund_paid"]),
        "oop_per_admission": _ratio(_tier_sum(row, "stay_oop"), _tier_sum(row, "discharges")),
    }
    billed = sum(_tier_sum(row, f"revenue_{c}", HOSPITAL_TIERS) for c in COMPONENTS)
    for c in COMPONENTS:
        out[f"revenue_structure_{c}"] = _ratio(_tier_sum(row, f"revenue_{c}", HOSPITAL_TIERS), billed)
    out["chronic_admissions"] = float(row["chronic_admissions"])
    out["chronic_visits"] = _tier_sum(row, "chronic_visits")
    out["transfers_up"] = float(row["transfers_up"])
    out["lead_referral_wait_days"] = _ratio(
        _tier_sum(row, "lead_referral_wait_days"), _tier_sum(row, "lead_referral_admissions")
    )
    out["referred_share_of_hospital_admissions"] = _ratio(
        _tier_sum(row, "referred_admissions", HOSPITAL_TIERS), _tier_sum(row, "admissions", HOSPITAL_TIERS)
    )
    first = _tier_sum(row, "first_contacts")
    for t in TIERS:
        out[f"visit_share_{t}"] = _ratio(row[f"visits_{t}"], visits)
        out[f"admission_share_{t}"] = _ratio(row[f"admissions_{t}"], out["admissions"])
        out[f"first_contact_share_{t}"] = _ratio(row[f"first_contacts_{t}"], first)
        out[f"chronic_visits_{t}"] = float(row[f"chronic_visits_{t}"])
        out[f"chronic_visit_share_{t}"] = _ratio(row[f"chronic_visits_{t}"], out["chronic_visits"])
        out[f"cost_per_visit_{t}"] = _ratio(row[f"visit_bills_{t}"], row[f"visits_{t}"])
        out[f"cost_per_admission_{t}"] = _ratio(row[f"stay_bills_{t}"], row[f"discharges_{t}"])
        out[f"mean_length_of_stay_{t}"] = _ratio(row[f"stay_days_{t}"], row[f"discharges_{t}"])
        out[f"mean_wait_days_{t}"] = _ratio(row[f"visit_wait_days_{t}"], row[f"visit_waits_{t}"])
        out[f"mean_admission_wait_days_{t}"] = _ratio(row[f"admission_wait_days_{t}"], row[f"admissions_{t}"])
        out[f"doctors_per_1000_{t}"] = _ratio(1000.0 * row[f"doctors_{t}"], row["residents"] * row["days"])
    out["gps_per_10000"] = _ratio(10_000.0 * row["gps"], row["residents"])
    for t in HOSPITAL_TIERS:
        referred, employee = row[f"referred_visits_{t}"], row[f"employee_referred_visits_{t}"]
        out[f"referred_visit_share_{t}"] = _ratio(referred, row[f"visits_{t}"])
        out[f"referred_visit_share_employee_{t}"] = _ratio(employee, row[f"employee_visits_{t}"])
        out[f"referred_visit_share_resident_{t}"] = _ratio(
            referred - employee, row[f"visits_{t}"] - row[f"employee_visits_{t}"]
        )
    for t in BED_TIERS:
        out[f"bed_occupancy_{t}"] = _ratio(row[f"occupied_beds_{t}"], row[f"beds_{t}"])
        out[f"beds_per_1000_{t}"] = _ratio(1000.0 * row[f"beds_{t}"], row["residents"] * row["days"])
        out[f"oop_per_admission_{t}"] = _ratio(row[f"stay_oop_{t}"], row[f"discharges_{t}"])
        out[f"case_mix_index_{t}"] = _ratio(row[f"case_weights_{t}"], row[f"discharges_{t}"])
    out["case_mix_index"] = _ratio(_tier_sum(row, "case_weights"), _tier_sum(row, "discharges"))
    return out


def aggregate(daily: pd.DataFrame, by: str | None = "year") -> pd.DataFrame:
    """Period sums of the daily table: flows summed, stock levels averaged over days, and the days counted.

    Bed occupancy is the ratio of occupied to available bed-days, so both are summed.
    """
    stock = [c for c in daily.columns if c in STOCK_FIELDS]
    flows = [c for c in daily.columns if c not in stock and c not in ("day", "year")]
    if by is None:
        sums = daily[flows].sum().to_frame().T
        sums[stock] = daily[stock].mean().to_numpy()
        sums["days"] = float(len(daily))
        return sums
    grouped = daily.groupby(by, sort=True)
    out = grouped[flows].sum()
    out[stock] = grouped[stock].mean()
    out["days"] = grouped.size().astype(np.float64)
    return out.reset_index()


def annual(daily: pd.DataFrame) -> pd.DataFrame:
    """The annual table: period sums plus every indicator, one row per simulated year.

    Year-on-year indicators (medical revenue growth) are defined from consecutive years; the
    fund balance is cumulative income minus spending.
    """
    sums = aggregate(daily)
    # Rows as dicts of float64, as `iterrows` gives them, without building a Series per row.
    rows = [dict(zip(sums.columns, values, strict=True)) for values in sums.to_numpy(dtype=np.float64)]
    derived = pd.DataFrame([indicators(r) for r in rows])
    # Pass-through indicators (e.g. referrals_up) equal the raw sums already in the table.
    table = pd.concat([sums, derived[[c for c in derived.columns if c not in sums.columns]]], axis=1)
    table["medical_revenue_growth"] = table["medical_revenue"].pct_change()
    table["fund_balance"] = (table["fund_income"] - table["fund_spending"]).cumsum()
    return table


SUMMARY_SCALARS = (
    "primary_visit_share",
    "medical_revenue_growth",
    "oop_share",
    "fund_balance",
    "in_county_rate",
    "signing_rate",
    "referrals_up",
    "referrals_down",
    "unmet_episodes",
    "self_care_episodes",
    "visits_per_capita",
    "admissions_per_capita",
    "medical_revenue",
    "chronic_admissions",
    "transfers_up",
    "lead_referral_wait_days",
    "referred_share_of_hospital_admissions",
    "gps_per_10000",
)
SUMMARY_BY_TIER = {
    "bed_occupancy": BED_TIERS,
    "mean_wait_days": TIERS,
    "mean_admission_wait_days": BED_TIERS,
    "cost_per_visit": TIERS,
    "cost_per_admission": BED_TIERS,
    "mean_length_of_stay": BED_TIERS,
}


def _clean(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def summary(table: pd.DataFrame) -> dict[str, object]:
    """The summary.json content: every headline indicator as yearly lists (by-tier keys as dicts of lists)."""
    out: dict[str, object] = {"years": [int(y) for y in table["year"]]}
    for key in SUMMARY_SCALARS:
        out[key] = [_clean(v) for v in table[key]]
    out["revenue_structure"] = {c: [_clean(v) for v in table[f"revenue_structure_{c}"]] for c in COMPONENTS}
    for key, tiers in SUMMARY_BY_TIER.items():
        out[key] = {t: [_clean(v) for v in table[f"{key}_{t}"]] for t in tiers}
    return out


def structure_shares(row: pd.Series | dict[str, float]) -> dict[str, float]:
    """Shares of the three parts of the 5:3:2 structure (`STRUCTURE_PARTS`) from an annual row's component shares."""
    return {part: sum(row[f"revenue_structure_{c}"] for c in parts) for part, parts in STRUCTURE_PARTS.items()}


def target_checks(table: pd.DataFrame) -> pd.DataFrame:
    """Pass/fail of each policy target per year (revenue structure: each of its three parts within its tolerance)."""
    rows = []
    for _, r in table.iterrows():
        year = int(r["year"])
        for name, spec in TARGETS.items():
            goal = spec["value"]
            if name == "revenue_structure":
                assert isinstance(goal, dict)
                shares = structure_shares(r)
                value = "/".join(f"{shares[part]:.2f}" for part in STRUCTURE_PARTS)
                tolerance = float(spec["tolerance"])  # type: ignore[arg-type]
                ok = all(abs(shares[part] - goal[part]) <= tolerance for part in STRUCTURE_PARTS)
            else:
                value = r[name]
                if not np.isfinite(value):
                    continue
                ok = value >= goal if spec["direction"] == ">=" else value <= goal
            rows.append(
                {
                    "year": year,
                    "calendar_year": r.get("calendar_year", year),
                    "target": name,
                    "goal": goal,
                    "value": value,
                    "met": bool(ok),
                }
            )
    return pd.DataFrame(rows)
