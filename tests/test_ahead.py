"""Next year's episodes drawn on a thread (`sim.ahead`): taken only if drawn from that year's inputs; runs unchanged."""

from __future__ import annotations

import copy
import pickle
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import accel, choice, illness, rng
from sim import model as care_model
from sim.ahead import BlockShocks, YearDraws
from sim.model import CareModel

pytestmark = pytest.mark.skipif(not accel.numba_enabled(), reason="nothing is drawn ahead without compiled kernels")

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = ["run.scale=0.002", "run.warmup_days=30"]


def spy_on_draws(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each `illness.draw_year` call from now on as (the thread that made it, the year drawn)."""
    calls: list[tuple[str, int]] = []
    draw_year = illness.draw_year

    def spy(*args: object, **kwargs: object) -> illness.YearEpisodes:
        calls.append((threading.current_thread().name, args[1]))
        return draw_year(*args, **kwargs)

    monkeypatch.setattr(illness, "draw_year", spy)
    return calls


def spy_on_shocks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread of each `choice.taste_shocks` call from now on."""
    calls: list[str] = []
    taste_shocks = choice.taste_shocks

    def spy(*args: object) -> object:
        calls.append(threading.current_thread().name)
        return taste_shocks(*args)

    monkeypatch.setattr(choice, "taste_shocks", spy)
    return calls


def draw_nothing_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(YearDraws, "draw_ahead", lambda *args: None)
    monkeypatch.setattr(BlockShocks, "draw_ahead", lambda *args: None)


def daily_of(scenario: sim.Scenario, years: int) -> pd.DataFrame:
    model = CareModel(scenario)
    model.run_years(years)
    return model.recorder.daily()


def test_a_run_takes_each_draw_ahead_and_equals_a_run_drawing_nothing_ahead(monkeypatch):
    scenario = sim.load_scenario(overrides=SMALL)
    monkeypatch.setattr(
        care_model, "SHOCK_BLOCK_EPISODES", 1 << 12
    )  # a few days' episodes (shocks are keyed by episode)
    calls, shocks = spy_on_draws(monkeypatch), spy_on_shocks(monkeypatch)
    ahead = daily_of(scenario, 3)
    # The warm-up's year is drawn as the model is made, each later year while the one before runs,
    # and each is taken (a year not taken would be drawn again on the main thread); none beyond the run.
    assert calls == [("tiersim-draw-ahead", year) for year in range(-1, 3)]
    # Of each year's blocks of shocks only the first is drawn when needed.
    assert shocks.count("MainThread") == 4
    assert shocks.count("tiersim-shocks-ahead") > 2 * 4
    draw_nothing_ahead(monkeypatch)
    pd.testing.assert_frame_equal(ahead, daily_of(scenario, 3), check_exact=True)


def test_a_draw_ahead_from_other_inputs_is_drawn_again(monkeypatch):
    # Signing rises in years 1–3 with disease management on: each of those years thins by sign-ups
    # that differ from the year before's, which the draw ahead took.
    scenario = sim.load_scenario(SCENARIOS / "family_doctor.toml", SMALL)
    calls = spy_on_draws(monkeypatch)
    ahead = daily_of(scenario, 5)
    now = [year for thread, year in calls if thread == "MainThread"]
    assert now == [1, 2, 3]
    assert [year for thread, year in calls if thread != "MainThread"] == [-1, 0, 1, 2, 3, 4]
    draw_nothing_ahead(monkeypatch)
    pd.testing.assert_frame_equal(ahead, daily_of(scenario, 5), check_exact=True)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_copied_while_next_year_is_drawn_goes_on_exactly(how):
    scenario = sim.load_scenario(overrides=SMALL)
    model = CareModel(scenario)
    copies: list[CareModel] = []

    class CopyOnDay:
        """Copies the model on day 100 of year 0, with year 1 drawn ahead (or drawing)."""

        def update(self, n: int) -> None:
            if model.day == 100:
                copies.append(copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model)))

    model.run_years(2, CopyOnDay())
    (twin,) = copies
    twin.run_years(2)
    pd.testing.assert_frame_equal(twin.recorder.daily(), model.recorder.daily(), check_exact=True)


def test_shocks_drawn_ahead_for_other_episodes_are_drawn_again():
    key = rng.bits(5, "test.keys", np.arange(1000))
    shocks = BlockShocks()
    shocks.draw_ahead(5, key[:500], 6)
    np.testing.assert_array_equal(shocks.draw(5, key[500:], 6), choice.taste_shocks(5, key[500:], 6))
    shocks.draw_ahead(5, key[:500], 6)
    np.testing.assert_array_equal(shocks.draw(5, key[:500], 6), choice.taste_shocks(5, key[:500], 6))
