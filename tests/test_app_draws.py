"""The dashboard with parameter uncertainty: posterior draws paired across scenarios, the switch, the notes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash

import sim
from sim.config import ScenarioError, validate
from sim.model import CareModel
from sim.posterior import parameter_draws, posterior_name
from sim.presentation.app import jobs
from sim.presentation.app.jobs import Job
from sim.presentation.app.server import _baseline, _intervals_note, create_app
from sim.presentation.labels import labels

TINY = {"name": "tiny", "run": {"scale": 0.005, "years": 1, "warmup_days": 10}}
"""About a second per simulated year."""
KEY = "levers.family_doctor.management_effect"
"""A key of the shipped posterior whose sets 0 and 1 (seeds 1 and 2) differ."""
SHIPPED = posterior_name(None)


def _value(scenario: sim.Scenario, key: str) -> Any:
    node: Any = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _built_models(monkeypatch: pytest.MonkeyPatch) -> list[CareModel]:
    """Every model the dashboard's jobs build from now on (the real models, recorded)."""
    real, built = jobs.CareModel, []

    def model(*args: Any, **kwargs: Any) -> CareModel:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(jobs, "CareModel", model)
    return built


def test_job_with_draws_gives_replication_i_of_every_scenario_set_i(monkeypatch):
    scenario = validate(dict(TINY), "t")
    draws = parameter_draws(2, None, 2, scenario.run.seed)
    assert draws is not None and draws[0][KEY] != draws[1][KEY]
    built = _built_models(monkeypatch)
    job = Job([_baseline(scenario, "en"), scenario], 2, parameter_draws=draws, posterior=SHIPPED).start()
    job.wait(120)
    assert job.progress().state == "done"

    # Replication by replication, baseline first: both scenarios of replication r run with set r.
    assert [(m.scenario.name, m.seed) for m in built] == [("baseline", 1), ("tiny", 1), ("baseline", 2), ("tiny", 2)]
    for model in built:
        for key, value in draws[model.seed - scenario.run.seed].items():
            assert _value(model.scenario, key) == pytest.approx(value), (model.scenario.name, key)
    assert _value(built[0].scenario, KEY) == _value(built[1].scenario, KEY) != _value(built[2].scenario, KEY)
    assert _value(scenario, KEY) not in {_value(m.scenario, KEY) for m in built}

    comparison = job.snapshot().comparison
    assert comparison.parameter_draws == draws and comparison.posterior == SHIPPED
    assert sorted(set(zip(comparison.runs.scenario, comparison.runs.replication, strict=True))) == [
        ("baseline", 0),
        ("baseline", 1),
        ("tiny", 0),
        ("tiny", 1),
    ]
    note = _intervals_note(comparison, "zh")
    assert "参数不确定性" in note and "2 组参数" in note and SHIPPED in note


def test_job_refuses_draws_that_are_not_one_per_replication():
    scenario = validate(dict(TINY), "t")
    draws = parameter_draws(3, None, 3, scenario.run.seed)
    with pytest.raises(ScenarioError, match=r"^3 parameter draws for 2 replications: allowed one each$"):
        Job([_baseline(scenario, "en"), scenario], 2, parameter_draws=draws)


def _callback(app: Dash, trigger: str) -> Callable[..., Any]:
    """The function of the app's callback that the input `trigger` (an element's id) fires."""
    (found,) = (c for c in app.callback_map.values() if any(i["id"] == trigger for i in c["inputs"]))
    return found["callback"].__wrapped__


def _run_on_page(app: Dash, replications: int, switch: list[str]) -> tuple[str, Any, str]:
    """Press Run with the page's controls as they start, poll until the job ends, redraw.

    Returns the Run message, the indicators' children and the note under the side-by-side figures.
    """
    message, kind, _, _ = _callback(app, "run")(1, [], [], TINY, replications, switch, "page")
    assert kind == "msg ok", message
    poll = _callback(app, "poll")
    deadline = time.monotonic() + 120
    while not poll(0, -1, "page")[3]:  # the poll switches itself off when the job has ended
        assert time.monotonic() < deadline
        time.sleep(0.2)
    kpis, side_note, *_ = _callback(app, "seen")(0, "occupancy", "page")
    return message, kpis, side_note


def test_the_switch_runs_posterior_draws_and_the_page_says_so():
    lab = labels("en")
    app = create_app(TINY)
    message, kpis, side_note = _run_on_page(app, 2, ["on"])
    assert "posterior parameter set i" in message and SHIPPED in message
    expected = lab["meta_parameter_draws_value"].format(n=2, posterior=SHIPPED)
    assert side_note == f"{lab['meta_parameter_draws']}: {expected}."
    assert kpis[1].children == side_note

    message, kpis, side_note = _run_on_page(app, 1, [])
    assert "posterior" not in message
    assert side_note == lab["app_intervals_noise"] and "run-to-run noise only" in side_note
