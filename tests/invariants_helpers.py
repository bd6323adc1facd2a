"""Invariants every run must keep, as functions other tests can call on any run.

- `check_invariants(results)` checks a run's daily and annual tables (money, beds, episodes,
  waiting list, fund balance, shares);
- `run_checked(scenario)` runs a scenario as `sim.run` does under the audit of `tests/audit.py`
  (the model's ledgers against books kept beside them, every day: where a bug leaves no trace in
  the tables), then `check_invariants` on its results.

A broken invariant raises `InvariantError` naming it and the first day (or year) it fails, so a
caller can tell it from an exception raised by the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from audit import Audit, InvariantError

import sim
from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS
from sim.runner import collect

MONEY_RTOL = 1e-9
"""Relative tolerance of money identities: sums of the same claims added in different orders."""

MONEY_ATOL = 1e-6
"""Absolute tolerance in yuan: a day's lump sums that cancel (a consortium's settlement shared between
its lead and members) are added per facility and per tier in different orders, and the daily table
keeps only their net sum, so no relative tolerance can be fair to a net of ≈1e-14 yuan."""

REVENUE_PARTS = (*COMPONENTS, "lump_sum")
"""What a facility books as revenue: bills by component, and lump sums (capitation, budget settlements, bonuses)."""


Amounts = np.ndarray | pd.Series | float
"""Money: per day, per facility, or one sum."""


def _require(ok: np.ndarray | pd.Series | bool, what: str, labels: pd.Series | None = None) -> None:
    """Raise `InvariantError` naming `what` and, for an array, the first row (label) where it fails."""
    ok = np.asarray(ok, dtype=bool)
    if ok.all():
        return
    if ok.ndim == 0 or labels is None:
        raise InvariantError(what)
    row = int(np.flatnonzero(~ok)[0])
    raise InvariantError(f"{what}: first broken at {labels.name} {labels.iloc[row]} (row {row})")


def money_close(a: Amounts, b: Amounts, *magnitudes: Amounts) -> np.ndarray:
    """Where two sums of money agree to `MONEY_RTOL` of the magnitudes they were added from (or `MONEY_ATOL`).

    The magnitudes (absolute values of the terms) make the tolerance fair when terms cancel, e.g. a
    consortium paying an overspend back on the day its claims are paid.
    """
    scale = np.abs(np.asarray(a, dtype=np.float64)) + np.abs(np.asarray(b, dtype=np.float64))
    for m in magnitudes:
        scale = scale + np.abs(np.asarray(m, dtype=np.float64))
    gap = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return gap <= np.maximum(MONEY_RTOL * scale, MONEY_ATOL)


def _tier_sum(table: pd.DataFrame, name: str) -> pd.Series:
    return sum((table[f"{name}_{t}"] for t in TIERS), start=pd.Series(0.0, index=table.index))


def share_columns(annual: pd.DataFrame) -> list[str]:
    """Annual indicators that are shares (a part ÷ its whole), so in [0, 1] or NaN (an empty whole).

    By name, as `sim.metrics` names them: `*_share`, `*_share_<tier>`, `revenue_structure_*`,
    `bed_occupancy_*` and the rates `in_county_rate`, `signing_rate`.
    """

    def without_tier(column: str) -> str:
        return next((column.removesuffix(f"_{t}") for t in TIERS if column.endswith(f"_{t}")), column)

    return [
        c
        for c in annual.columns
        if without_tier(c).endswith("_share")
        or c.startswith(("revenue_structure_", "bed_occupancy_"))
        or c in ("in_county_rate", "signing_rate")
    ]


def check_invariants(results: sim.Results) -> None:
    """Check every table invariant of a run; raise `InvariantError` at the first broken one."""
    d, a = results.daily, results.annual
    day = d["day"]
    years = results.scenario.run.years
    _require(len(d) == years * DAYS_PER_YEAR, f"one row per day: {len(d)} rows for {years} years")
    _require(np.array_equal(day.to_numpy(), np.arange(len(d))), "days are numbered 0, 1, 2, … without gaps")

    numbers = d.select_dtypes("number")
    _require(np.isfinite(numbers.to_numpy(dtype=np.float64)).all(axis=1), "no NaN or inf in the daily table", day)
    counts = d.select_dtypes("integer")
    _require((counts.to_numpy() >= 0).all(axis=1), "counts are not negative", day)

    lump_sums = _tier_sum(d, "revenue_lump_sum")
    _require(
        money_close(d["fund_paid"] + d["oop_paid"], d["revenue_booked"], lump_sums),
        "money conserved: fund_paid + oop_paid == revenue_booked",
        day,
    )
    for c in COMPONENTS:  # a bill's parts: only lump sums may be negative (money paid back)
        for t in TIERS:
            column = d[f"revenue_{c}_{t}"]
            _require(column >= -MONEY_RTOL * d["revenue_booked"].abs(), f"revenue_{c}_{t} is not negative", day)
    by_part = sum(_tier_sum(d, f"revenue_{p}") for p in REVENUE_PARTS)
    _require(
        money_close(by_part, d["revenue_booked"], lump_sums),
        "revenue by component and tier (service, drugs, consumables, tests, lump sums) adds up to revenue_booked",
        day,
    )

    for t in TIERS:
        _require(d[f"occupied_beds_{t}"] <= d[f"beds_{t}"], f"occupied_beds_{t} <= beds_{t}", day)
        _require(d[f"reserved_beds_{t}"] <= d[f"beds_{t}"], f"reserved_beds_{t} <= beds_{t}", day)

    _require(
        d["episodes"]
        == d["treated_outpatient"] + d["admission_requests"] + d["unmet_outpatient"] + d["self_care_episodes"],
        "every episode treated, requesting a bed, unmet or cared for at home: episodes == treated_outpatient + "
        "admission_requests + unmet_outpatient + self_care_episodes",
        day,
    )
    _require(d["transfer_requests"] == d["transfers_up"], "each transfer up is one more bed request", day)
    admitted = _tier_sum(d, "admissions")
    _require(
        d["waiting_start"] + d["admission_requests"] + d["transfer_requests"]
        == admitted + d["unmet_inpatient"] + d["waiting_end"],
        "waiting list balance: waiting_start + admission_requests + transfer_requests == admissions + "
        "unmet_inpatient + waiting_end",
        day,
    )
    _require(
        d["waiting_start"].iloc[1:].to_numpy() == d["waiting_end"].iloc[:-1].to_numpy(),
        "waiting list continuity: waiting_start today == waiting_end yesterday",
        day.iloc[1:],
    )

    income = d.groupby("year")["fund_income"].sum().cumsum()
    spending = d.groupby("year")["fund_paid"].sum().cumsum()
    magnitude = d["fund_paid"].abs().groupby(d["year"]).sum().cumsum() + income.abs()
    _require(
        money_close(a["fund_balance"].to_numpy(), (income - spending).to_numpy(), magnitude.to_numpy()),
        "fund balance == cumulative income − spending",
        a["year"],
    )
    money = ["fund_income", "fund_spending", "fund_balance", "medical_revenue", "oop_paid", "revenue_booked"]
    _require(
        np.isfinite(a[money].to_numpy()).all(axis=1), f"no NaN or inf in the annual money columns {money}", a["year"]
    )
    for column in share_columns(a):
        # Within rounding: a bill whose drug and test shares make the whole has a service part of ±1e-16.
        inside = a[column].between(-MONEY_RTOL, 1 + MONEY_RTOL)
        _require(a[column].isna() | inside, f"share {column} in [0, 1] (or NaN: nothing to share)", a["year"])


def run_checked(scenario: sim.Scenario) -> sim.Results:
    """Run `scenario` as `sim.run` does, audited every day (`audit.Audit`), then check the tables."""
    model = CareModel(scenario)
    Audit(model).run()
    results = collect(model)
    check_invariants(results)
    return results
