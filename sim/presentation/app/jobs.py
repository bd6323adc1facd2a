"""Runs behind the dashboard: a scenario and its baseline, paired replications, year by year, cancellable.

A `Job` runs in a background thread of the app's process, so the page keeps answering while it
runs. Jobs are submitted to a `RunQueue`, which runs a set number at once (one by default: a
simulation takes a core and up to a few GiB) and starts the others in the order they came, so users
sharing one app do not overload the machine. Replication i of every scenario uses seed `seed + i`
(common random numbers, as in `sim.compare`), and each model advances one year at a time, so each
finished year is published at once: a snapshot then holds every finished (scenario, replication,
year) as a `Comparison`. Cancelling stops within a simulated day; the finished years stay.

With parameter draws (`sim.posterior.parameter_draws`), replication i of every scenario also takes
posterior parameter set i (put in by `sim.posterior.apply`, as `sim.compare` does), so the level
intervals include parameter uncertainty and each paired difference shares its set.

District figures come from the first replication: bed-days by district are summed day by day, and
each facility's medical revenue is read when its year closes.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.comparison import Comparison, check_comparable, indicator_columns, keyed, paired_summary
from sim.config import Scenario, ScenarioError
from sim.model import CareModel
from sim.posterior import apply
from sim.presentation.app.figures import district_boxes
from sim.runner import collect, failure_text

DAYS_PER_YEAR = 365
_PRIMARY_TIERS = (0, 1)
"""Village clinics/stations and health centres (基层)."""


class Cancelled(Exception):
    """Raised inside the run when the user cancels."""


@dataclass
class Progress:
    """How far a job is (cheap to take: the page asks for it several times a second).

    Attributes:
        state: "queued", "running", "done", "cancelled" or "failed".
        error: The failure, as one line ("" unless failed).
        done: Share of all simulated days finished, 0–1.
        scenario: Name of the scenario running now.
        replication: Replication running now (1-based).
        calendar_year: Calendar year running now.
        seconds: Time since the job started.
        version: Counts published years and the end; a page redraws only when it changes.
        ahead: Jobs that start before this one (0 unless queued).
    """

    state: str
    error: str
    done: float
    scenario: str
    replication: int
    calendar_year: int
    seconds: float
    version: int
    ahead: int = 0


@dataclass
class Snapshot:
    """What a job has finished so far.

    Attributes:
        version: `Progress.version` when taken.
        comparison: Every finished (scenario, replication, year), baseline first; None before the first year.
        districts: Per scenario, one row per (year, district) of the first replication: calendar_year,
            district, occupancy, primary_revenue_share.
        boxes: The districts' tiles on the map (`district_boxes`); None before the first model is built.
    """

    version: int
    comparison: Comparison | None
    districts: dict[str, pd.DataFrame] = field(default_factory=dict)
    boxes: pd.DataFrame | None = None


class _Days:
    """The progress object a model calls once per simulated day: counts, cancels, sums bed-days by district."""

    def __init__(self, job: Job, model: CareModel, track: bool) -> None:
        self.job, self.model, self.track = job, model, track
        n = len(model.region.district_names)
        self.occupied = np.zeros(n)
        self.beds = np.zeros(n)

    def update(self, n: int) -> None:
        """Called after every simulated day (warm-up included)."""
        self.job._days += n
        if self.job._cancel.is_set():
            raise Cancelled
        if self.track and self.model.day > 0:  # day - 1 was just simulated; the warm-up is not recorded
            f = self.model.facilities
            self.occupied += np.bincount(f.district, weights=self.model.occupied_beds(), minlength=self.occupied.size)
            self.beds += np.bincount(f.district, weights=f.beds, minlength=self.beds.size)

    def close_year(self) -> pd.DataFrame:
        """The finished year's rows by district; the day sums start again."""
        model, f = self.model, self.model.facilities
        revenue = np.nan_to_num(f.last_revenue)  # each facility's medical revenue of the year just closed
        primary = np.isin(f.tier, _PRIMARY_TIERS)
        n = self.beds.size
        total = np.bincount(f.district, weights=revenue, minlength=n)
        primary_revenue = np.bincount(f.district[primary], weights=revenue[primary], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows = pd.DataFrame(
                {
                    "calendar_year": model.scenario.run.start_year + (model.day - 1) // DAYS_PER_YEAR,
                    "district": np.arange(n),
                    "occupancy": np.where(self.beds > 0, self.occupied / self.beds, np.nan),
                    "primary_revenue_share": np.where(total > 0, primary_revenue / total, np.nan),
                }
            )
        self.occupied[:] = 0.0
        self.beds[:] = 0.0
        return rows


class Job:
    """Paired replications of scenarios (baseline first), year by year, in a background thread.

    Args:
        scenarios: Validated scenarios, baseline first; they must share region and run settings.
        replications: Replications of each.
        parameter_draws: One posterior parameter set per replication (`sim.posterior.parameter_draws`):
            replication i of every scenario runs with set i. None: the scenarios' own values.
        posterior: Where the parameter sets came from, for the page.

    Attributes:
        parameter_draws: The parameter set of each replication, or None (as given).
        posterior: Where they came from ("" without draws).
        runs: The scenario each replication runs, per replication, baseline first: the scenarios with
            that replication's parameter set put in.

    Raises:
        ScenarioError: When the scenarios cannot be compared, the draws are not one per replication,
            or a scenario cannot take a parameter set (before anything runs).
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        replications: int,
        *,
        parameter_draws: Sequence[dict[str, float]] | None = None,
        posterior: str = "",
    ) -> None:
        check_comparable(scenarios, replications)
        if parameter_draws is not None and len(parameter_draws) != replications:
            raise ScenarioError(
                f"{len(parameter_draws)} parameter draws for {replications} replications: allowed one each"
            )
        self.scenarios = list(scenarios)
        self.parameter_draws = None if parameter_draws is None else [dict(d) for d in parameter_draws]
        self.posterior = posterior if parameter_draws is not None else ""
        # Built before anything runs, so a parameter set a scenario cannot take stops the job up front.
        self.runs = [
            [apply(s, None if self.parameter_draws is None else self.parameter_draws[r]) for s in scenarios]
            for r in range(replications)
        ]
        self.years = scenarios[0].run.years
        first = scenarios[0].run.seed
        self.seeds = [first + r for r in range(replications)]
        run = scenarios[0].run
        self.total_days = len(scenarios) * replications * (run.warmup_days + DAYS_PER_YEAR * self.years)
        self._days = 0
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._annual: dict[tuple[str, int], pd.DataFrame] = {}
        self._places: dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._daily: dict[str, pd.DataFrame] = {}
        self._districts: dict[str, list[pd.DataFrame]] = {s.name: [] for s in scenarios}
        self._now = (scenarios[0].name, 1, run.start_year)
        self._state, self._error, self._version = "queued", "", 0
        self._started = time.monotonic()
        self._ended: float | None = None
        self._boxes: pd.DataFrame | None = None
        self._queue: RunQueue | None = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._work, name="tiersim-job", daemon=True)

    def start(self) -> Job:
        """Start the runs in the background now, outside any queue; returns the job."""
        with self._lock:
            self._state, self._started = "running", time.monotonic()
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop at the end of the day being simulated (a queued job never starts); finished years are kept."""
        self._cancel.set()
        if self._queue is not None and self._queue.withdraw(self):
            self._end("cancelled")

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the job has ended (or `timeout` seconds)."""
        self._finished.wait(timeout)

    @property
    def running(self) -> bool:
        """Whether the job is queued or running."""
        return not self._finished.is_set()

    def _end(self, state: str) -> None:
        with self._lock:
            self._state, self._ended = state, time.monotonic()
            self._version += 1
        self._finished.set()
        if self._queue is not None:
            self._queue.ended(self)

    def _work(self) -> None:
        try:
            for r, seed in enumerate(self.seeds):
                models = [CareModel(s, seed=seed) for s in self.runs[r]]
                self._boxes = district_boxes(models[0].region)
                days = [_Days(self, m, track=r == 0) for m in models]
                for _ in range(self.years):
                    for scenario, model, counter in zip(self.scenarios, models, days, strict=True):
                        year = self.scenarios[0].run.start_year + max(model.day, 0) // DAYS_PER_YEAR
                        self._now = (scenario.name, r + 1, year)
                        model.run_years(1, counter)
                        self._publish(scenario.name, r, model, counter)
                # Mesa models refer to themselves, so only the cyclic collector frees them (see `sim.run`):
                # free this replication's before the next one's are built.
                del models, days
                gc.collect()
            state = "done"
        except Cancelled:
            state = "cancelled"
        except Exception as exc:  # shown in the page as one line; the app goes on
            state, self._error = "failed", failure_text(exc)
        self._end(state)

    def _publish(self, name: str, replication: int, model: CareModel, counter: _Days) -> None:
        results = collect(model)
        districts = counter.close_year() if counter.track else None
        with self._lock:
            self._annual[(name, replication)] = results.annual
            self._places[(name, replication)] = (results.facilities, results.areas)
            if replication == 0:
                self._daily[name] = results.daily
                assert districts is not None
                self._districts[name].append(districts)
            self._version += 1

    def progress(self) -> Progress:
        """How far the job is."""
        with self._lock:
            state, error, version, ended = self._state, self._error, self._version, self._ended
        scenario, replication, calendar_year = self._now
        return Progress(
            state=state,
            error=error,
            done=min(1.0, self._days / self.total_days) if self.total_days else 1.0,
            scenario=scenario,
            replication=replication,
            calendar_year=calendar_year,
            seconds=(ended or time.monotonic()) - self._started if state != "queued" else 0.0,
            version=version,
            ahead=self._queue.ahead(self) if self._queue is not None and state == "queued" else 0,
        )

    def snapshot(self) -> Snapshot:
        """What has finished so far, as a comparison against the baseline."""
        with self._lock:
            annual = dict(self._annual)
            places = dict(self._places)
            daily = dict(self._daily)
            districts = {k: pd.concat(v, ignore_index=True) for k, v in self._districts.items() if v}
            version = self._version
        return Snapshot(
            version=version, comparison=self._comparison(annual, daily, places), districts=districts, boxes=self._boxes
        )

    def _comparison(
        self,
        annual: dict[tuple[str, int], pd.DataFrame],
        daily: dict[str, pd.DataFrame],
        places: dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame]],
    ) -> Comparison | None:
        """The finished years as a `Comparison` (paired differences where both members of a pair finished)."""
        if not annual:
            return None
        frames, facilities, areas = [], [], []
        for s in self.scenarios:
            for r, seed in enumerate(self.seeds):
                table = annual.get((s.name, r))
                if table is None:
                    continue
                facilities.append(keyed(places[(s.name, r)][0], s.name, r, seed))
                areas.append(keyed(places[(s.name, r)][1], s.name, r, seed))
                rows = table[["year", "calendar_year", *indicator_columns(table)]].copy()
                rows.insert(0, "scenario", s.name)
                rows.insert(1, "replication", r)
                rows.insert(2, "seed", seed)
                frames.append(rows)
        runs = pd.concat(frames, ignore_index=True)
        return Comparison(
            scenarios=self.scenarios,
            seeds=self.seeds,
            runs=runs,
            summary=paired_summary(runs, self.scenarios[0].name),
            failures=pd.DataFrame(columns=["scenario", "replication", "seed", "error"]),
            daily=daily,
            parameter_draws=self.parameter_draws,
            posterior=self.posterior,
            facilities=pd.concat(facilities, ignore_index=True),
            areas=pd.concat(areas, ignore_index=True),
        )


class RunQueue:
    """Runs submitted jobs, at most `slots` at once, the others in the order they came (first in, first out).

    Args:
        slots: Jobs that may run at the same time (each takes a core while it runs).

    Raises:
        ValueError: If `slots` is below 1.
    """

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots = {slots}: allowed 1 or more")
        self.slots = slots
        self._lock = threading.Lock()
        self._waiting: list[Job] = []
        self._running: set[Job] = set()

    def submit(self, job: Job) -> Job:
        """Queue a job (it starts at once when a slot is free); returns the job."""
        job._queue = self
        with self._lock:
            self._waiting.append(job)
        self._start_next()
        return job

    def ahead(self, job: Job) -> int:
        """Jobs that start before a queued `job`: those running and those queued before it."""
        with self._lock:
            return len(self._running) + self._waiting.index(job) if job in self._waiting else 0

    def withdraw(self, job: Job) -> bool:
        """Take a job out of the queue before it starts; False if it has started (or was never queued)."""
        with self._lock:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
            return True

    def ended(self, job: Job) -> None:
        """Called by a job when it ends: its slot goes to the next job in the queue."""
        with self._lock:
            self._running.discard(job)
        self._start_next()

    def _start_next(self) -> None:
        with self._lock:
            starting = []
            while self._waiting and len(self._running) < self.slots:
                job = self._waiting.pop(0)
                self._running.add(job)
                starting.append(job)
        for job in starting:
            job.start()
