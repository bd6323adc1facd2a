"""Self-care, the outside option of the choice (自我医疗): who stays home, and what prices do to visits."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import choice
from sim.model import CareModel
from sim.parameters.choice import ChoiceParams
from sim.parameters.illness import ACUTE, DAYS_PER_YEAR

SMALL = ["run.scale=0.005", "run.years=1", "run.warmup_days=20"]
RATES_UP = [
    f"insurance.{scheme}.outpatient_rate.{level}={rate}"
    for scheme, rates in (("resident", (0.65, 0.55, 0.45)), ("employee", (1.0, 0.8, 0.8)))
    for level, rate in zip(("primary", "secondary", "tertiary"), rates, strict=True)
]
"""Every outpatient rate 10 points above its default (resident 0.55/0.45/0.35, employee 0.90/0.70/0.70)."""


def _year(overrides: list[str]) -> dict[str, float]:
    """Visits per capita, episodes, self-care and first contacts (episodes that visit) of one small year."""
    results = sim.run(sim.load_scenario(overrides=[*SMALL, *overrides]))
    daily = results.daily
    return {
        "visits_per_capita": float(results.annual.iloc[0]["visits_per_capita"]),
        "episodes": int(daily["episodes"].sum()),
        "self_care_episodes": int(daily["self_care_episodes"].sum()),
        "first_contacts": int(daily.filter(regex="^first_contacts_").to_numpy().sum()),
    }


def test_outside_utility_only_for_minor_and_moderate_and_off_when_switched_off():
    params = ChoiceParams()
    outside = choice.outside_utility(params, 4)
    assert np.isfinite(outside[:2]).all() and np.isneginf(outside[2:]).all()
    assert np.isneginf(choice.outside_utility(params.model_copy(update={"self_care": False}), 4)).all()


@pytest.mark.parametrize("self_care", [True, False])
def test_higher_outpatient_rates_raise_visits_through_self_care(self_care: bool):
    """Same seed: cheaper visits bring ill residents who stayed home (control: without the option, none more visit)."""
    switch = [f"choice.self_care={str(self_care).lower()}"]
    base, cheaper = _year(switch), _year([*switch, *RATES_UP])
    assert base["episodes"] == cheaper["episodes"]  # the same illnesses (common random numbers)
    for run in (base, cheaper):  # an episode visits or stays home
        assert run["first_contacts"] + run["self_care_episodes"] == run["episodes"]
    if self_care:
        assert cheaper["self_care_episodes"] < base["self_care_episodes"]
        assert cheaper["visits_per_capita"] > base["visits_per_capita"] * 1.01
    else:
        assert base["self_care_episodes"] == cheaper["self_care_episodes"] == 0
        # Every episode visits either way; cheaper hospitals only move patients from routes referred
        # on (two visits) to the hospital directly, so visits per capita do not rise.
        assert cheaper["visits_per_capita"] <= base["visits_per_capita"]


def test_only_acute_minor_and_moderate_episodes_stay_home():
    """With staying home far better than any candidate, exactly the acute minor and moderate episodes stay home."""
    overrides = ["choice.self_care_utility.minor=50", "choice.self_care_utility.moderate=50"]
    model = CareModel(sim.load_scenario(overrides=[*SMALL, "run.warmup_days=0", *overrides]))
    eligible, stayed = [], []

    def seek_care_counting(m: CareModel) -> None:
        episodes, _ = m._todays(m.day % DAYS_PER_YEAR)
        eligible.append(int(((episodes.kind == ACUTE) & (episodes.severity <= 1)).sum()))
        CareModel._seek_care_today(m)
        stayed.append(m.today.self_care_episodes)

    model.replace_phase("seek care", seek_care_counting)
    model.run_years(1)
    assert stayed == eligible and sum(stayed) > 0


def test_self_care_reproducible():
    """Same seed, same self-care day by day; another seed, other draws."""
    runs = [sim.run(sim.load_scenario(overrides=[*SMALL, f"run.seed={seed}"])).daily for seed in (3, 3, 4)]
    assert runs[0]["self_care_episodes"].sum() > 0
    assert runs[0]["self_care_episodes"].equals(runs[1]["self_care_episodes"])
    assert not runs[0]["self_care_episodes"].equals(runs[2]["self_care_episodes"])
