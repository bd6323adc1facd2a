"""An audit of a model's money and beds, kept beside the model's own books and compared with them every day.

`Audit(model)` spies on the two doors money enters facilities' ledgers by — `FacilityState.book_claims`
(claims paid by the fund and patients) and `FacilityState.credit_lump_sum` (capitation, budget
settlements, bonuses) — recording what each call was asked to book, then lets the ledger book it as
usual. Its own sums, kept by its own arithmetic, are then held against the facilities' ledgers, the
fund's ledger and the daily table:

- every claim: components ≥ 0 adding up to the bill; bill = fund + out-of-pocket, except a capitated
  visit (the fund's part is paid per head, so it pays nothing per visit);
- every facility, every day: revenue + lump sums = what the fund and patients paid it, by component
  and by payer, and last year's revenue at each year close;
- the fund: contributions recomputed from the scenario's rules and the residents' schemes; spending
  = claims + lump sums; the balance carried from year to year = income − spending;
- residents' annual accounts: zero at each year start (so the first day's holds at most that day's
  bills), never negative, never above the caps;
- capitation = rate × signed residents, paid to primary care; budget settlements = the surplus kept
  or the overspend borne of each consortium's own spending against its budget (per head: its
  residents' annual fund accounts);
- the case mix per-case prices are set from: each year's completed stays and their bills, by tier;
- beds: occupied today − yesterday = admissions − discharges − transfers up, every day.

It reads the model through public attributes only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.model import CareModel
from sim.parameters.illness import DAYS_PER_YEAR
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS
from sim.state import OUTPATIENT_HEAD, PAYMENT_BASES

PRIMARY = 1
"""Tiers up to this are primary care (village clinics and stations, health centres)."""
EPS = 1e-9
"""Rounding allowed, relative to the amounts compared (and absolute, for amounts near 0)."""


class InvariantError(AssertionError):
    """An invariant of the model does not hold (not an exception raised by the model itself)."""


def require(ok: bool | np.bool_, what: str) -> None:
    """Raise `InvariantError(what)` unless `ok`."""
    if not ok:
        raise InvariantError(what)


def close(actual: np.ndarray | float, expected: np.ndarray | float, what: str, *, scale: float = 1.0) -> None:
    """Assert two money amounts agree to rounding (relative 1e-9 of the larger of them or of `scale`)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    tolerance = 1e-9 * np.maximum(np.maximum(np.abs(actual), np.abs(expected)), scale) + 1e-6
    bad = np.flatnonzero(~(np.abs(actual - expected) <= tolerance))
    if bad.size:
        raise InvariantError(
            f"{what}: {bad.size} differ, e.g. [{bad[0]}] {actual.flat[bad[0]]!r} != {expected.flat[bad[0]]!r}"
        )


@dataclass
class _Books:
    """What the audit saw booked to each facility since its ledger year began."""

    n: int
    fund: np.ndarray = field(init=False)
    oop: np.ndarray = field(init=False)
    lump: np.ndarray = field(init=False)
    components: np.ndarray = field(init=False)
    by_basis: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.fund, self.oop, self.lump = (np.zeros(self.n) for _ in range(3))
        self.components = np.zeros((self.n, len(COMPONENTS)))
        self.by_basis = np.zeros((self.n, len(PAYMENT_BASES)))


class Audit:
    """Independent books of one model; `run()` steps it to the end and checks them against its own.

    Args:
        model: A new model (nothing simulated yet).
    """

    def __init__(self, model: CareModel) -> None:
        self.model = model
        f = model.facilities
        self._book_claims, self._credit_lump_sum = f.book_claims, f.credit_lump_sum
        # Instance attributes shadow the methods: every call is seen, then booked by the ledger as usual.
        f.book_claims, f.credit_lump_sum = self._on_claims, self._on_lump_sum
        self.books = _Books(len(f))
        self.days: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.lump_calls: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.consortium_spending: dict[int, np.ndarray] = {}  # fund claims per consortium, by closed year
        self.fund_balance = 0.0  # at the last year close
        self.checked_days = 0
        self.age0 = model.population.age.copy()  # ages in year 0
        self.case_mix: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # by closed year

    # ---------------------------------------------------------------- spies
    def _on_claims(self, facility, tier, components, billed, fund, oop, *, basis, bounds, by_tier):
        m = self.model
        n = facility.size
        require(
            components.shape == (n, len(COMPONENTS)) and billed.shape == fund.shape == oop.shape == (n,),
            "a claim batch has one bill, fund and out-of-pocket part per claim, and three components each",
        )
        rounding = EPS * np.maximum(billed, 1.0)  # a part of a bill is the bill less others: ±1 ulp of it
        require((components >= -rounding[:, None]).all(), "a bill component is negative")
        close(components.sum(axis=1), billed, "components add up to the bill")
        require((fund >= -rounding).all() and (oop >= -rounding).all(), "a claim's fund or out-of-pocket part < 0")
        paid = fund + oop
        unbalanced = np.abs(paid - billed) > rounding
        if unbalanced.any():
            # Only a capitated visit: primary care, capitation in force, the fund paying nothing per visit.
            require(m.policy.capitation_rate > 0, "bill ≠ fund + out-of-pocket without capitation")
            require(
                (basis[unbalanced] == OUTPATIENT_HEAD).all() and (tier[unbalanced] <= PRIMARY).all(),
                "bill ≠ fund + out-of-pocket for a claim that is not a capitated primary-care visit",
            )
            require(
                (fund[unbalanced] == 0).all() and (oop[unbalanced] <= billed[unbalanced] + rounding[unbalanced]).all(),
                "a capitated visit the fund pays a part of, or the patient pays more than its bill",
            )
        b = self.books
        scale = np.divide(paid, billed, out=np.ones_like(paid), where=billed > 0)
        np.add.at(b.fund, facility, fund)
        np.add.at(b.oop, facility, oop)
        np.add.at(b.components, facility, components * scale[:, None])
        np.add.at(b.by_basis, (facility, basis), paid)
        day = self.days[m.day]
        day["claims"] += n
        day["fund"] += float(fund.sum())
        day["oop"] += float(oop.sum())
        day["billed"] += float(billed.sum())
        return self._book_claims(
            facility, tier, components, billed, fund, oop, basis=basis, bounds=bounds, by_tier=by_tier
        )

    def _on_lump_sum(self, facility: np.ndarray, amount: np.ndarray) -> None:
        np.add.at(self.books.lump, facility, amount)
        self.days[self.model.day]["lump"] += float(amount.sum())
        self.lump_calls[self.model.day].append((facility.copy(), amount.copy()))
        self._credit_lump_sum(facility, amount)

    # ---------------------------------------------------------------- the run
    def run(self) -> pd.DataFrame:
        """Step the model to the end of its scenario's years, checking every day; the daily table."""
        m = self.model
        end = m.scenario.run.years * DAYS_PER_YEAR
        while m.day < end:
            day = m.day
            if day == 0:  # the warm-up's money is forgotten when recording starts
                self.books.clear()
            m.step()
            self._check_day(day)
        daily = m.recorder.daily()
        self._check_daily_table(daily)
        return daily

    def _check_day(self, day: int) -> None:
        m, f, b = self.model, self.model.facilities, self.books
        year, day_of_year = divmod(day, DAYS_PER_YEAR)
        closed = day >= 0 and day_of_year == DAYS_PER_YEAR - 1
        revenue = b.components.sum(axis=1) + b.lump
        if closed:
            close(f.last_revenue, revenue, f"year {year}: last year's revenue per facility")
            require(not f.revenue.any() and not f.lump_sum.any(), "the ledgers start the new year at zero")
            self._check_settlement(day)
            self.case_mix[year] = tuple(a.copy() for a in m.case_mix())
            self.consortium_spending[year] = self._spending_borne(b.fund)
            # The balance carries over; this year's income and spending start again from zero.
            self.fund_balance += self.contributions(year) - float(b.fund.sum() + b.lump.sum())
            close(m.fund.balance, self.fund_balance, f"year {year}: fund balance carried over")
            require(m.fund.income == m.fund.spending == 0.0, "the fund's new year starts at zero")
            b.clear()
        else:
            close(f.revenue, b.components, f"day {day}: revenue by component per facility")
            close(f.revenue.sum(axis=1) + f.lump_sum, revenue, f"day {day}: revenue + lump sums per facility")
            close(f.paid_by_fund, b.fund + b.lump, f"day {day}: paid by the fund per facility")
            close(f.paid_out_of_pocket, b.oop, f"day {day}: paid out of pocket per facility")
            close(f.fund_claims, b.fund, f"day {day}: fund claims per facility")
            close(f.billed_by_basis, b.by_basis, f"day {day}: bills per facility by how they were paid")
            close(f.lump_sum, b.lump, f"day {day}: lump sums per facility")
            if day >= 0:
                spending = float(b.fund.sum() + b.lump.sum())
                close(m.fund.spending, spending, f"day {day}: fund spending this year", scale=spending)
                close(m.fund.income, self.contributions(year), f"day {day}: fund income this year")
                close(m.fund.balance, self.fund_balance + m.fund.income - m.fund.spending, f"day {day}: fund balance")
        if day >= 0 and day_of_year == 0:
            self._check_year_start(day)
        self._check_accounts(day)
        self.checked_days += 1

    def contributions(self, year: int) -> float:
        """A year's fund income from the scenario's contribution rules, by this audit's own arithmetic."""
        m, rules = self.model, self.model.scenario.insurance
        employees = int((m.population.scheme == 0).sum())
        per_head = (
            employees * rules.contribution_employee + (len(m.population) - employees) * rules.contribution_resident
        )
        return per_head * (1 + rules.contribution_growth) ** year

    def _check_year_start(self, day: int) -> None:
        """Residents a year older, and capitation paid to each signed resident's station and health centre."""
        m = self.model
        year = day // DAYS_PER_YEAR
        require(np.array_equal(m.population.age, np.minimum(self.age0 + year, 120)), f"year {year}: ages")
        rate = m.policy.capitation_rate
        if rate > 0:  # the year start pays it before any other lump sum of the day
            facility, amount = self.lump_calls[day][0]
            paid = np.bincount(facility, weights=amount, minlength=len(m.facilities))
            share = m.scenario.levers.capitation.station_share
            home = m.region.cell_candidates[m.population.cell[m.population.signed]]
            expected = np.zeros(len(m.facilities))
            np.add.at(expected, home[:, 0], rate * share)
            np.add.at(expected, home[:, 1], rate * (1 - share))
            close(paid, expected, f"day {day}: capitation per facility", scale=rate)
            require((m.facilities.tier[facility] <= PRIMARY).all(), "capitation goes to primary care")

    def _check_accounts(self, day: int) -> None:
        """Residents' annual accounts: never negative, within the caps, and begun anew at each year start."""
        m = self.model
        accounts = m.annual_accounts()
        rules = m.insurance
        scheme = m.population.scheme
        for name, values in accounts.items():
            require((values >= -EPS).all(), f"day {day}: a resident's {name} is negative")
            require(not values.flags.writeable, f"{name}: residents' accounts are read-only to their readers")
        require(
            (accounts["outpatient_fund_paid"] <= rules.outpatient_cap[scheme] * (1 + EPS) + EPS).all(),
            f"day {day}: a resident's outpatient fund account above the cap",
        )
        require(
            (accounts["inpatient_fund_paid"] <= rules.inpatient_cap[scheme] * (1 + EPS) + EPS).all(),
            f"day {day}: a resident's inpatient fund account above the cap",
        )
        if day >= 0 and day % DAYS_PER_YEAR == 0:
            # Reset at the year start: what they hold now was billed today.
            held = sum(float(v.sum()) for v in accounts.values())
            billed = self.days[day]["billed"]
            require(
                held <= billed * (1 + 1e-9) + 1e-6,
                (
                    f"day {day}: residents' annual accounts hold ¥{held:,.0f} on the year's first day, "
                    f"more than its bills (¥{billed:,.0f}): not reset at the year start"
                ),
            )

    def _spending_borne(self, fund: np.ndarray) -> np.ndarray:
        """The year's fund spending each consortium's budget bears: claims at its members, or per head.

        Per head, the fund's payments for its residents wherever treated, as their annual accounts
        (checked above against the caps and the year start) hold them at the year's close.
        """
        m = self.model
        n = m.region.consortium_lead.size
        if not m.scenario.levers.global_budget.per_head:
            return np.bincount(m.facilities.consortium, weights=fund, minlength=n)
        accounts = m.annual_accounts()
        home = m.cells.consortium[m.population.cell]
        paid = (accounts["outpatient_fund_paid"] + accounts["inpatient_fund_paid"])[home >= 0]
        return np.bincount(home[home >= 0], weights=paid, minlength=n)

    def _check_settlement(self, day: int) -> None:
        """A closing year's budget settlement: each consortium keeps or pays back its share of the gap."""
        m = self.model
        gb = m.scenario.levers.global_budget
        year = day // DAYS_PER_YEAR
        if m.policy.global_budget is None:
            return
        f, b = m.facilities, self.books
        n = m.region.consortium_lead.size
        spending = self._spending_borne(b.fund)
        last = self.consortium_spending.get(year - 1)
        budget = np.full(n, np.nan) if last is None else last * (1 + gb.growth)
        gap = budget - spending
        transfer = np.where(np.isnan(gap), 0.0, np.where(gap >= 0, gb.surplus_kept * gap, gb.overspend_borne * gap))
        payee, amount = self.lump_calls[day][-1]  # the settlement is the day's last lump sum
        paid = np.bincount(f.consortium[payee], weights=amount, minlength=n)
        close(
            paid,
            transfer,
            f"year {year}: budget settlement per consortium",
            scale=float(np.abs(np.nan_to_num(budget)).max(initial=1.0)),
        )

    def _check_daily_table(self, d: pd.DataFrame) -> None:
        """The daily table against the audit's day sums, and the beds' stock and flow."""
        days = [self.days[int(day)] for day in d.day]
        for column, key in (("fund_paid", None), ("oop_paid", "oop")):
            seen = [x["fund"] + x["lump"] if key is None else x[key] for x in days]
            close(d[column].to_numpy(), np.array(seen), f"daily {column}")
        close(d.revenue_booked.to_numpy(), np.array([x["fund"] + x["oop"] + x["lump"] for x in days]), "revenue")
        lump = sum(d[f"revenue_lump_sum_{t}"] for t in TIERS).to_numpy()
        close(lump, np.array([x["lump"] for x in days]), "daily lump sums")
        claims = sum(d[f"visits_{t}"] + d[f"discharges_{t}"] for t in TIERS).to_numpy() + d.transfers_up.to_numpy()
        require(np.array_equal(claims, np.array([x["claims"] for x in days])), "one claim per visit and per stay")
        income = d.groupby("year").fund_income.sum()
        close(income.to_numpy(), np.array([self.contributions(int(y)) for y in income.index]), "yearly income")
        # The case mix that per-case prices are set from: each year's completed stays, by tier.
        inflation = 1 + self.model.scenario.prices.price_inflation
        for year, (bills, counts) in self.case_mix.items():
            days = d[d.year == year]
            close(counts.sum(axis=1), [days[f"discharges_{t}"].sum() for t in TIERS], f"year {year}: stays by tier")
            stay_bills = [days[f"stay_bills_{t}"].sum() for t in TIERS]
            close(bills.sum(axis=1) * inflation**year, stay_bills, f"year {year}: case mix bills by tier")
        occupied = sum(d[f"occupied_beds_{t}"] for t in TIERS).to_numpy()
        admitted = sum(d[f"admissions_{t}"] for t in TIERS).to_numpy()
        left = sum(d[f"discharges_{t}"] for t in TIERS).to_numpy() + d.transfers_up.to_numpy()
        require(np.array_equal(np.diff(occupied), (admitted - left)[1:]), "occupied beds: stock and flow")
