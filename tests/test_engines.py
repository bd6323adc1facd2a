"""The two engines agree: the per-agent reference engine is the oracle of the array engine.

`sim.reference.reference_model` makes every decision of steps 2–4 of a day (discharge, seeking care,
admission) one patient at a time, with the pure functions of `choice`, `care`, `illness` and
`insurance` on one-patient arrays and the same keyed random streams, in the array engine's order
(docs/ODD.md, "Reference engine"). So the comparison is exact, tolerance 0, for every column of the
daily table — counts and money — and hence of the annual one, and of the facility and area tables:

- counts are exact because each patient makes the same decision from the same state;
- money is exact because the sums are made in the same order: the fund settles a batch of claims
  (one care pass, the day's discharges, the day's down-referral follow-ups) with one call of
  `insurance.split_claims`, as the array engine does — a resident's several claims in a batch use
  up the start-line and cap through the batch's running sums, whose rounding depends on the other
  claims of the batch, so settling claim by claim would differ in the last bits (≈1e-16 relative);
  a place in an outpatient queue is the facility's backlog plus the integer count of arrivals ahead
  in the pass, folded into the backlog at the end of the pass, as the array engine does (adding
  1.0 per arrival would round differently once the backlog has a fractional part).

Each scenario runs 2,500 residents (run.scale=0.001) for 2 years, levers from year 1, with a 30-day
warm-up, and checks that its levers did something, so agreement is not vacuous.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiersim, tiersim_here

import sim
from sim import cli, runner
from sim.config import ScenarioError
from sim.model import CareModel, Phase, every_day
from sim.reference import MAX_RESIDENTS, Patient, reference_model

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["run.scale=0.001", "run.years=2", "run.warmup_days=30"]


def _total(prefix: str) -> Callable[[pd.DataFrame], bool]:
    """Some day has a non-zero value in a column starting with `prefix`."""
    return lambda daily: bool(daily.filter(regex=f"^{prefix}").abs().to_numpy().sum() > 0)


def _grew(column: Callable[[pd.DataFrame], pd.Series]) -> Callable[[pd.DataFrame], bool]:
    """The daily mean of a quantity is higher in year 1 (levers on) than in year 0."""
    return lambda daily: bool(column(daily[daily.year == 1]).mean() > column(daily[daily.year == 0]).mean())


def _fell(column: Callable[[pd.DataFrame], pd.Series]) -> Callable[[pd.DataFrame], bool]:
    """The daily mean of a quantity is lower in year 1 (levers on) than in year 0."""
    return lambda daily: bool(column(daily[daily.year == 1]).mean() < column(daily[daily.year == 0]).mean())


def _fewer_than_with(column: str, file: str, overrides: list[str], year: int) -> Callable[[pd.DataFrame], bool]:
    """`year` has less of `column` than the array engine's run of `file` with `overrides` added (a control)."""

    def check(daily: pd.DataFrame) -> bool:
        control = sim.load_scenario(ROOT / "scenarios" / file, overrides=[*SMALL, *overrides])
        other = sim.run(control, engine="array").daily
        return bool(daily[daily.year == year][column].sum() < other[other.year == year][column].sum())

    return check


def _visits_fewer_than_with(file: str, overrides: list[str]) -> Callable[[pd.DataFrame], bool]:
    """Fewer visits in all than the array engine's run of `file` with `overrides` added (a control)."""

    def check(daily: pd.DataFrame) -> bool:
        control = sim.load_scenario(ROOT / "scenarios" / file, overrides=[*SMALL, *overrides])
        other = sim.run(control, engine="array").daily
        return bool(daily.filter(regex="^visits_").to_numpy().sum() < other.filter(regex="^visits_").to_numpy().sum())

    return check


def _service_share(daily: pd.DataFrame) -> pd.Series:
    revenue = daily.filter(regex="^revenue_(service|drugs|consumables|tests)_").sum(axis=1)
    return daily.filter(regex="^revenue_service_").sum(axis=1) / revenue


def _more_consumables_in_year_2_than_with(file: str, overrides: list[str]) -> Callable[[pd.DataFrame], bool]:
    """Year 2 bills more consumables than the array engine's run of `file` with `overrides` added (a control)."""

    def check(daily: pd.DataFrame) -> bool:
        control = sim.load_scenario(ROOT / "scenarios" / file, overrides=[*SMALL, *ZERO_MARKUP, *overrides])
        other = sim.run(control, engine="array").daily
        consumables = "^revenue_consumables_"
        return bool(
            daily[daily.year == 2].filter(regex=consumables).to_numpy().sum()
            > other[other.year == 2].filter(regex=consumables).to_numpy().sum()
        )

    return check


ZERO_MARKUP = [
    "run.years=3",
    "levers.sanming.price_change.service=0.1",
    "levers.sanming.price_change.consumables=0",
    "levers.sanming.price_change.tests=0",
    "levers.sanming.salary_reform=0",
    "levers.sanming.enforce_revenue_cap=false",
]
"""The Sanming lever as the drug zero mark-up alone (as `sim/data/evidence/zero_markup.toml`)."""


CASES = {
    # No lever; transfers up, waiting lists, leaving them and unmet need all occur at this size.
    "baseline": ("baseline.toml", [], _total("transfers_up")),
    # Priority in outpatient queues; half of lead hospitals' beds reserved, so some are (8 beds at 5,000
    # residents; at 2,500 only one would be).
    "reserved_beds": (
        "reserved_beds.toml",
        ["run.scale=0.002", "levers.reserved_beds.share=0.5"],
        _total("reserved_beds_"),
    ),
    # Cumulative start-lines, down-referral bonus (a lump sum) and waiver, with per-case (DRG) and
    # per-diem payment of stays; a third year, in which lengths of stay respond to how stays were paid.
    "cumulative_start_line+drg+per_diem": (
        "cumulative_start_line.toml",
        [
            "run.years=3",
            "levers.drg.enabled=true",
            "levers.drg.start_year=1",
            "levers.per_diem.enabled=true",
            "levers.per_diem.start_year=1",
        ],
        _total("revenue_lump_sum_"),
    ),
    # Per-case payment from year 1; from year 2 hospitals code a share of stays a group higher (upcoding).
    "drg+upcoding": (
        "baseline.toml",
        [
            "run.years=3",
            "levers.drg.enabled=true",
            "levers.drg.start_year=1",
            "levers.response.coding_creep=0.2",
            "levers.response.max_upcoding_share=0.5",
        ],
        lambda daily: bool(
            (daily.case_weights_tertiary / daily.discharges_tertiary)[daily.year == 2].mean()
            > (daily.case_weights_tertiary / daily.discharges_tertiary)[daily.year == 1].mean()
        ),
    ),
    # Self-care (自我医疗): moderate episodes stay home more often than by default, under outpatient
    # rates raised from year 1; fewer visits than with every episode seeking care (the control).
    "self_care": (
        "rate_rise.toml",
        ["choice.self_care_utility.moderate=1"],
        _visits_fewer_than_with("rate_rise.toml", ["choice.self_care=false"]),
    ),
    # Signing rises; disease management thins episodes and pulls follow-ups to the family doctor.
    "family_doctor": ("family_doctor.toml", [], _grew(lambda d: d.signed)),
    # Budget settlement at the end of year 1, resource sinking into primary quality.
    "global_budget": ("global_budget.toml", [], _total("budget_settlement")),
    # Per-head budgets: county hospitals keep some transfers up; settlement on residents' payments anywhere.
    "per_head_budget": ("per_head_budget.toml", [], _total("budget_settlement")),
    # Restraint from year 2 (strong, so it acts at this size): every moderate case declined asks for a
    # bed at the next tier up instead of being treated as an outpatient (control: none does).
    "global_budget+declined_seek_bed": (
        "global_budget.toml",
        ["run.years=3", "levers.response.admission_response=5", "care.declined_seek_bed=1"],
        _fewer_than_with(
            "treated_outpatient",
            "global_budget.toml",
            ["run.years=3", "levers.response.admission_response=5", "care.declined_seek_bed=0"],
            year=2,
        ),
    ),
    # County lead hospitals treat complex cases from year 1: referral targets and routes are rebuilt, and
    # tertiary hospitals admit fewer than without the lever (complex cases three times as common as by
    # default, so that some are admitted at this size).
    "county_specialties": (
        "county_specialties.toml",
        ["illness.severity_complex=0.008"],
        _fewer_than_with(
            "admissions_tertiary",
            "county_specialties.toml",
            ["illness.severity_complex=0.008", "levers.county_specialties.enabled=false"],
            year=1,
        ),
    ),
    # Consortia assessed from year 1; the money's pull on down-referrals acts from year 2.
    "assessment": ("assessment.toml", ["run.years=3"], _total("assessment_paid")),
    # Price changes toward 5:3:2, salary reform, the revenue cap.
    "sanming": ("sanming.toml", [], _grew(_service_share)),
    # The drug zero mark-up alone: consumables and tests make up part of the drug revenue lost (substitution).
    "zero_markup": (
        "sanming.toml",
        ZERO_MARKUP,
        _more_consumables_in_year_2_than_with("sanming.toml", ["levers.response.markup_substitution=0"]),
    ),
    # Formularies narrower than the baseline's, then a unified drug list, long prescriptions, recognised
    # test results and tele-consultation (more of each than the scenario's, so each acts at this size).
    "medicines": (
        "medicines.toml",
        [
            "care.formulary_breadth.village=0.4",
            "care.formulary_breadth.health_centre=0.6",
            "levers.long_prescription.visits_avoided=0.5",
            "levers.test_recognition.tests_avoided=0.8",
            "levers.teleconsultation.resolved_share=0.5",
        ],
        _fell(lambda d: d.referrals_up),
    ),
    # Reserved beds, gatekeeping rate cuts, cumulative start-lines, capitation, budgets (from year 1 here).
    "liaocheng_2024": ("liaocheng_2024.toml", ["levers.global_budget.start_year=1"], _total("capitation_paid")),
    # Trust and reputations learned from outcomes (from the warm-up on); tertiary hospitals add beds in
    # year 1; hospitals grow beds and clinics with their use from year 1, and fill their beds (clinics
    # follow the beds added, emptier wards admit more moderate cases).
    "learning+expansion+supply": (
        "baseline.toml",
        [
            "care.learning.enabled=true",
            "levers.expansion.enabled=true",
            "levers.expansion.beds_share=0.5",
            "levers.response.bed_response=2",
            "levers.response.clinic_response=2",
            "levers.response.fill_beds=true",
        ],
        _grew(lambda d: d.beds_tertiary),
    ),
    # Bed planning from year 1: the hospitals' planned growth moved to health centres (ten times the
    # default growth, so whole beds move at this size), hospital tiers held to their standards whatever
    # their own response asks, health centres built up toward a standard above them.
    "bed_standard+primary_beds_first": (
        "primary_beds_first.toml",
        [
            "region.capacity_growth=0.3",
            "levers.bed_standard.enabled=true",
            "levers.bed_standard.standard.health_centre=5",
            "levers.response.bed_response=2",
        ],
        lambda daily: _grew(lambda d: d.beds_health_centre)(daily) and not _grew(lambda d: d.beds_tertiary)(daily),
    ),
    # Hospitals' beds grow from their surplus and occupancy, not the plan (running costs set at year 0's
    # close); from year 1 the urban secondary hospitals, of tertiary size, are graded tertiary: prices,
    # capability and referral routes follow.
    "hospital_investment": ("hospital_investment.toml", [], _grew(lambda d: d.beds_tertiary)),
    # Doctors' flows from year 1, sending down from year 0 (villages reach a health centre's
    # capability, so referral routes are rebuilt), Sanming and primary pay narrowing the pay gap.
    "workforce": (
        "workforce.toml",
        ["levers.sending_down.start_year=0", "levers.sending_down.rotated_share=0.3"],
        _grew(lambda d: d.gps),
    ),
}


# Mechanisms all of whose code is the year start or close both engines share: their agreement is
# checked in the slow suite (`pytest -m slow`), to keep the default suite's time.
SHARED_CODE_ONLY = (
    "workforce",
    "bed_standard+primary_beds_first",
    "assessment",
    "hospital_investment",
    "zero_markup",
)


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c in SHARED_CODE_ONLY else c for c in CASES]
)
def test_engines_identical(case):
    file, overrides, exercised = CASES[case]
    scenario = sim.load_scenario(ROOT / "scenarios" / file, overrides=[*SMALL, *overrides])
    array = sim.run(scenario, engine="array")
    reference = sim.run(scenario, engine="reference")
    assert exercised(array.daily), f"{case}: the scenario's levers did nothing at this size"
    pd.testing.assert_frame_equal(reference.daily, array.daily, check_exact=True)
    pd.testing.assert_frame_equal(reference.annual, array.annual, check_exact=True)
    assert reference.summary == array.summary
    pd.testing.assert_frame_equal(reference.facilities, array.facilities, check_exact=True)
    pd.testing.assert_frame_equal(reference.areas, array.areas, check_exact=True)


def test_one_patient_agent_per_resident():
    model = reference_model(sim.load_scenario(overrides=["run.scale=0.0004"]))
    patients = list(model.agents_by_type[Patient])
    assert len(patients) == len(model.population)
    assert [p.index for p in patients] == list(range(len(model.population)))
    assert all(p.model is model for p in patients)
    assert patients[7].cell == model.population.cell[7]


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine = 'fast' is invalid"):
        sim.run(sim.load_scenario(overrides=["run.scale=0.0004"]), engine="fast")
    assert cli.ENGINE_NAMES == tuple(runner.ENGINES)


def test_reference_engine_refuses_large_populations():
    scale = (MAX_RESIDENTS + 1) / sim.load_scenario().region.residents
    with pytest.raises(ScenarioError, match="more than its limit of 200,000"):
        reference_model(sim.load_scenario(overrides=[f"run.scale={scale}"]))


def test_cli_engine_flag(tmp_path):
    out = tmp_path / "ref"
    args = ["--engine", "reference", "--scale", "0.0004", "--years", "1", "--no-report", "--quiet"]
    p = tiersim("run", *args, "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    array = sim.run(sim.load_scenario(overrides=["run.scale=0.0004", "run.years=1"]))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "daily.parquet"), array.daily, check_exact=True)

    for args, expect in (
        (["--engine", "fast"], "invalid choice: 'fast'"),
        (["--engine", "reference", "--scale", "0.2"], "500,000 residents is more than its limit"),
    ):
        p = tiersim_here("run", *args, "--out", str(tmp_path / "no"), cwd=tmp_path)
        assert p.returncode == 2
        assert expect in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("engine", ["array", "reference"])
def test_a_finished_run_frees_its_model(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's model (and its arrays) is gone when `sim.run` returns, not kept for a later run.

    Mesa 3.3 keeps every model that made an agent in a class-level dictionary, and a model refers
    to itself, so only the cyclic garbage collector could free it; a sweep worker kept hundreds.
    """
    made: list[weakref.ref] = []
    model_class = runner.ENGINES[engine]

    def make(scenario: sim.Scenario, *, seed: int | None = None) -> runner.CareModel:
        model = model_class(scenario, seed=seed)
        made.append(weakref.ref(model))
        return model

    monkeypatch.setitem(runner.ENGINES, engine, make)
    sim.run(sim.load_scenario(overrides=["run.scale=0.0004", "run.warmup_days=0"]), years=1, engine=engine)
    assert len(made) == 1 and made[0]() is None


def test_the_day_is_a_list_of_phases_and_the_reference_swaps_only_the_decisions():
    names = ["end of warm-up", "year start", "discharge", "seek care", "admit", "year close", "record"]
    scenario = sim.load_scenario(overrides=["run.scale=0.0004"])
    array, reference = CareModel(scenario).phases, reference_model(scenario).phases
    assert [p.name for p in array] == [p.name for p in reference] == names
    swapped = {a.name for a, r in zip(array, reference, strict=True) if a.run is not r.run}
    assert swapped == {"discharge", "seek care", "admit"}
    assert all(a.when is r.when for a, r in zip(array, reference, strict=True))
    assert "CareModel._discharge" in str(array[2]) and "every day" in str(array[2])


def test_an_inserted_phase_runs_each_day_in_its_place_and_changes_nothing_else():
    scenario = sim.load_scenario(overrides=["run.scale=0.002", "run.warmup_days=10"])
    plain, watched = CareModel(scenario), CareModel(scenario)
    seen: list[tuple[int, int]] = []  # (day, admission requests waiting to be admitted)
    watched.insert_phase(Phase("watch", lambda m: seen.append((m.day, m.requests.size)), every_day), before="admit")
    assert [p.name for p in watched.phases].index("watch") == 4
    for model in (plain, watched):
        model.run_years(1)
    assert [day for day, _ in seen] == list(range(-10, 365))
    assert sum(requests for _, requests in seen) > 0  # it ran between seek care and admit
    pd.testing.assert_frame_equal(plain.recorder.daily(), watched.recorder.daily(), check_exact=True)
    with pytest.raises(KeyError, match="no phase named 'admission'; the day's phases are end of warm-up"):
        watched.insert_phase(Phase("late", lambda m: None, every_day), before="admission")
