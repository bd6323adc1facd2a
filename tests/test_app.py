"""The planner dashboard: controls from the schema, scenarios from control values, runs, and the page in Chromium.

The browser test starts `tiersim app` in a subprocess on a free port, drives it with playwright in
Debian's Chromium (blocking every request that leaves this machine), and writes screenshots to
tests/artifacts/. Like tests/test_browser.py it skips without a browser unless TIERSIM_REQUIRE_ALL=1.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import REQUIRE_ALL, tiersim, tiersim_here
from test_browser import ARTIFACTS, CHROMIUM, FLAGS, MISSING, sync_playwright
from werkzeug.serving import make_server

import sim
from sim.config import ScenarioError
from sim.levers import Levers
from sim.presentation.app import controls as ctl
from sim.presentation.app import jobs
from sim.presentation.app.jobs import Job, RunQueue
from sim.presentation.app.server import _baseline, create_app
from sim.presentation.labels import labels

ROOT = Path(__file__).resolve().parent.parent
TINY = {"name": "tiny", "run": {"scale": 0.005, "years": 2, "warmup_days": 10}}
"""About a second per simulated year."""


def _by_key(scenario: sim.Scenario | None = None) -> dict[str, ctl.Control]:
    return {c.key: c for c in ctl.controls(scenario)}


def test_controls_come_from_the_schema():
    controls = _by_key()
    assert [s.key for s in ctl.sections()] == ["run", *Levers.model_fields]
    share = controls["levers.reserved_beds.share"]
    assert (share.kind, share.minimum, share.maximum, share.unit, share.value) == ("share", 0, 1, "share of beds", 0.1)
    assert controls["levers.reserved_beds.enabled"].kind == "switch"
    days = controls["levers.reserved_beds.release_after_days"]
    assert (days.kind, days.range_text(), days.step) == ("integer", "0–365", 1)
    scale = controls["run.scale"]
    assert scale.open_minimum and scale.range_text() == "> 0 and ≤ 1"
    # Per-level start-lines: the lever's table starts from the scheme's own rules.
    tertiary = controls["levers.start_line.resident.inpatient_start_line.tertiary"]
    assert tertiary.value == sim.Scenario().insurance.resident.inpatient_start_line.tertiary
    assert tertiary.unit == "yuan per admission"
    assert controls["levers.family_doctor.target.all"].value == 0.6
    assert {"run.scale", "run.years", "run.seed", "name"} <= set(controls)


def test_every_control_has_chinese_labels_and_units():
    for c in ctl.controls():
        assert not re.search(r"[A-Za-z]{3}", c.label("zh").replace("DRG/DIP", "")), c.key
        assert f"unit.{c.unit}" in labels("zh") or c.unit == "", c.unit
    assert all(s.title("zh") != s.key for s in ctl.sections())


def test_apply_changes_only_what_differs_and_saves_a_valid_toml(tmp_path):
    values = {c.key: c.value for c in ctl.controls()}
    values["levers.reserved_beds.enabled"] = True
    values["levers.start_line.resident.inpatient_start_line.tertiary"] = 2500.0
    values["run.scale"] = 0.005
    data, scenario = ctl.apply({}, values)
    assert data == {
        "levers": {
            "reserved_beds": {"enabled": True},
            "start_line": {"resident": {"inpatient_start_line": {"tertiary": 2500.0}}},
        },
        "run": {"scale": 0.005},
    }
    path = tmp_path / "saved.toml"
    path.write_text(ctl.to_toml(data), encoding="utf-8")
    assert sim.load_scenario(path) == scenario
    assert tiersim("validate", str(path), cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("levers.reserved_beds.release_after_days", -3, "≥ 0 and ≤ 365 (days)"),
        ("levers.reserved_beds.share", 1.5, "≤ 1"),
        ("run.scale", None, "is empty; allowed: > 0 and ≤ 1 (share of full scale)"),
        ("run.years", 2.5, "run.years"),
    ],
)
def test_invalid_values_give_one_line(key, value, expected):
    with pytest.raises(ScenarioError) as err:
        ctl.apply({}, {key: value})
    message = str(err.value)
    assert "\n" not in message and key in message and expected in message


def test_uploaded_text_resolves_extends_and_rejects_bad_files(tmp_path):
    text = (ROOT / "scenarios" / "reserved_beds.toml").read_text(encoding="utf-8")
    data = ctl.read_text(text, "reserved_beds.toml", [tmp_path, ROOT / "scenarios"])
    assert sim.config.validate(data, "x").levers.reserved_beds.enabled
    with pytest.raises(ScenarioError, match="no such file"):
        ctl.read_text(text, "reserved_beds.toml", [tmp_path])
    with pytest.raises(ScenarioError, match="malformed TOML"):
        ctl.read_text("[run\n", "broken.toml", [])


def test_job_streams_years_pairs_replications_and_cancels():
    scenario = sim.config.validate({**TINY, "levers": {"reserved_beds": {"enabled": True, "start_year": 0}}}, "t")
    job = Job([_baseline(scenario, "en"), scenario], 2).start()
    job.wait(120)
    assert job.progress().state == "done" and job.progress().done == 1.0
    snap = job.snapshot()
    runs = snap.comparison.runs
    assert sorted(set(zip(runs.scenario, runs.replication, runs.year, strict=True))) == sorted(
        (s, r, y) for s in ("baseline", "tiny") for r in (0, 1) for y in (0, 1)
    )
    assert set(snap.comparison.targets["scenario"]) == {"baseline", "tiny"}
    assert snap.districts["tiny"]["occupancy"].between(0, 1).all()
    assert len(snap.boxes) == 10
    for table in (snap.comparison.facilities, snap.comparison.areas):  # every finished run's, each year
        assert set(zip(table.scenario, table.replication, table.year, strict=True)) == set(
            zip(runs.scenario, runs.replication, runs.year, strict=True)
        )

    stopped = Job([_baseline(scenario, "en"), scenario], 2).start()
    stopped.cancel()
    stopped.wait(60)
    assert stopped.progress().state == "cancelled"


def test_run_queue_runs_jobs_one_at_a_time_in_order_and_cancels_a_waiting_one():
    scenario = sim.config.validate(TINY, "t")
    queue = RunQueue(1)
    first, second, third = (queue.submit(Job([_baseline(scenario, "en"), scenario], 1)) for _ in range(3))
    assert first.progress().state == "running"
    assert [(j.progress().state, j.progress().ahead) for j in (second, third)] == [("queued", 1), ("queued", 2)]
    third.cancel()
    assert third.progress().state == "cancelled" and not third.running and third.snapshot().comparison is None
    assert second.progress().ahead == 1
    first.wait(120)
    second.wait(120)
    assert first.progress().state == second.progress().state == "done"
    assert second._started >= first._ended  # the second began only when the first had ended
    assert third.progress().state == "cancelled" and third._days == 0  # never ran
    with pytest.raises(ValueError, match="slots = 0"):
        RunQueue(0)


def _failing_once(monkeypatch) -> list[str]:
    """The dashboard's next model fails to build, as a run that meets a bug or runs out of memory would;
    the models after it are the real ones. Returns the failures raised so far."""
    real = jobs.CareModel
    raised: list[str] = []

    def model(*args, **kwargs):
        if not raised:
            raised.append("raised")
            raise RuntimeError("injected failure:\n  a message of two lines")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "CareModel", model)
    return raised


def test_a_failing_job_ends_failed_with_one_line_and_the_next_job_runs(monkeypatch):
    scenario = sim.config.validate(TINY, "t")
    _failing_once(monkeypatch)
    failed = Job([_baseline(scenario, "en"), scenario], 1).start()
    failed.wait(60)
    assert failed.progress().state == "failed" and not failed.running
    assert failed.progress().error == "RuntimeError: injected failure: a message of two lines"
    assert failed.snapshot().comparison is None
    again = Job([_baseline(scenario, "en"), scenario], 1).start()
    again.wait(120)
    assert again.progress().state == "done"


def test_app_builds_in_both_languages():
    for lang in ("en", "zh"):
        assert create_app(TINY, lang=lang).layout is not None
    with pytest.raises(ScenarioError):
        create_app({"run": {"scale": 2}})


def test_the_page_runs_the_region_it_is_given():
    """`tiersim app --region FOLDER`: the page's baseline and scenario both simulate the region's files."""
    pingli = ROOT / "scenarios" / "regions" / "pingli"
    base = {**TINY, "run": {**TINY["run"], "scale": 0.05, "years": 1}, "region": {"files": str(pingli)}}
    scenario = sim.config.validate(base, "t")
    job = Job([_baseline(scenario, "en"), scenario], 1).start()
    job.wait(120)
    assert job.progress().state == "done"
    facilities = job.snapshot().comparison.facilities
    register = pd.read_csv(pingli / "facilities.csv", encoding="utf-8")
    assert set(facilities["facility_id"]) == set(register["id"])
    assert set(facilities["scenario"]) == {"baseline", "tiny"}


def test_cli_app_rejects_bad_input_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[levers.reserved_beds]\nshare = 2\n", encoding="utf-8")
    for args in (
        (str(bad),),
        ("--lang", "fr"),
        ("--port", "0"),
        (str(tmp_path / "missing.toml"),),
        ("--max-runs", "0"),
        ("--host", "no.such.host.invalid"),
        ("--region", str(tmp_path / "nowhere")),
    ):
        done = tiersim_here("app", *args, cwd=tmp_path)
        assert done.returncode == 2, done
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("tiersim: error:"), done.stderr


# ------------------------------------------------------------------------------------------ browser
REQUIRED = REQUIRE_ALL
browser_only = pytest.mark.skipif(MISSING is not None and not REQUIRED, reason=str(MISSING))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """`tiersim app` on a tiny scenario, in a subprocess, until the module's tests end."""
    folder = tmp_path_factory.mktemp("app")
    scenario = folder / "tiny.toml"
    scenario.write_text(ctl.to_toml(TINY), encoding="utf-8")
    port = _free_port()
    log = (folder / "app.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", str(scenario), "--port", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the app did not start: {(folder / 'app.log').read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _control(page, key: str):
    return page.locator(f'[data-key="{key}"] input').first


@browser_only
def test_dashboard_runs_compares_and_saves(app_url, tmp_path):
    if MISSING is not None:
        pytest.fail(f"TIERSIM_REQUIRE_ALL=1 but {MISSING}")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)

        def only_local(route) -> None:
            if route.request.url.startswith((app_url, "data:", "blob:")):
                route.continue_()
            else:
                problems.append(f"request: {route.request.url}")
                route.abort()

        page.route("**/*", only_local)
        page.goto(app_url)
        page.wait_for_selector("#run")
        assert "0–365" in page.inner_text('[data-key="levers.reserved_beds.release_after_days"]')

        # An invalid setting: a readable one-line message, and the page goes on working.
        days = _control(page, "levers.reserved_beds.release_after_days")
        days.fill("-3")
        days.press("Enter")
        page.click("#run")
        page.wait_for_selector("#message.error")
        message = page.inner_text("#message")
        assert "release_after_days" in message and "≥ 0 and ≤ 365" in message and "Traceback" not in message
        page.screenshot(path=ARTIFACTS / "app_invalid.png")
        days.fill("3")
        days.press("Enter")

        # Change a lever and run: the years stream in, then the targets table and the comparison.
        _control(page, "levers.reserved_beds.enabled").check()
        start = _control(page, "levers.reserved_beds.start_year")
        start.fill("0")
        start.press("Enter")
        page.click("#run")
        page.wait_for_selector("#message.ok")
        page.wait_for_selector("#kpis table")
        page.wait_for_selector("#cmp-targets table")
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('Finished')")
        page.wait_for_function("document.querySelectorAll('#cmp-targets tbody tr').length >= 10")
        page.wait_for_timeout(1500)  # the last redraw after "Finished"
        kpis = page.inner_text("#kpis")
        assert "Primary-care share of visits" in kpis and "%" in kpis
        assert "2025" in page.inner_text("#cmp-targets")
        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(d => d.data && d.data.length)"
            ".map(d => d.parentElement.id || d.id)"
        )
        assert len(drawn) >= 7, drawn
        # The maps of facilities and areas against the baseline: every place drawn, offline.
        for name, places in (("facility-changes", 1355), ("area-changes", 1258)):
            points = page.evaluate(f"() => document.querySelectorAll('#fig-{name} .scatterlayer .point').length")
            assert points == places, name
        page.screenshot(path=ARTIFACTS / "app_run.png", full_page=True)
        page.locator(".layout").screenshot(path=ARTIFACTS / "app_top.png")

        # Save: the downloaded TOML validates and holds the lever.
        with page.expect_download() as download:
            page.click("#save")
        saved = tmp_path / "saved.toml"
        download.value.save_as(saved)
        assert tiersim("validate", str(saved), cwd=tmp_path).returncode == 0
        data = tomllib.loads(saved.read_text(encoding="utf-8"))
        assert data["levers"]["reserved_beds"] == {"enabled": True, "start_year": 0}
        assert sim.load_scenario(saved).run.scale == 0.005
        browser.close()
    assert problems == []


@browser_only
def test_dashboard_shows_a_failed_run_and_the_next_run_works(monkeypatch, tmp_path):
    """A run that fails shows its error as one line in the page; Run then works again.

    The failure is injected in the server's own process (its first model fails to build), so the
    app is served in this process on a thread, not by `tiersim app` in a subprocess as above: no
    valid setting makes a run fail, and the app must have no hook that tests could reach from outside.
    """
    if MISSING is not None:
        pytest.fail(f"TIERSIM_REQUIRE_ALL=1 but {MISSING}")
    raised = _failing_once(monkeypatch)
    server = make_server("127.0.0.1", _free_port(), create_app(TINY).server, threaded=True)
    threading.Thread(target=server.serve_forever, name="test-app", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.goto(url)
            replications = page.locator("#replications")
            replications.fill("1")
            replications.press("Enter")

            page.click("#run")
            page.wait_for_selector("#message.error")
            message = page.inner_text("#message")
            assert message == "The run failed: RuntimeError: injected failure: a message of two lines", message
            assert page.inner_text("#status").startswith("Failed after")
            page.wait_for_function("!document.querySelector('#run').disabled")
            assert raised == ["raised"]
            page.screenshot(path=ARTIFACTS / "app_failed.png")

            page.click("#run")
            page.wait_for_selector("#message.ok")
            page.wait_for_function("document.querySelector('#status').innerText.startsWith('Finished')")
            page.wait_for_selector("#kpis table")
            assert "Primary-care share of visits" in page.inner_text("#kpis")
            browser.close()
    finally:
        server.shutdown()
    assert problems == []


@browser_only
def test_two_users_share_the_app_each_with_their_own_run_in_turn(app_url):
    """Two pages (two users) run at once: the second waits its turn, neither cancels the other's run."""
    if MISSING is not None:
        pytest.fail(f"TIERSIM_REQUIRE_ALL=1 but {MISSING}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(2)]
        for page in pages:
            page.set_default_timeout(180_000)
            page.goto(app_url)
            page.wait_for_selector("#run")
            replications = page.locator("#replications")
            replications.fill("1")
            replications.press("Enter")
        first, second = pages
        first.click("#run")
        first.wait_for_function("document.querySelector('#status').innerText.startsWith('Running')")
        second.click("#run")
        second.wait_for_function("document.querySelector('#status').innerText.startsWith('Waiting: 1 run')")
        second.screenshot(path=ARTIFACTS / "app_queued.png")
        for page in pages:
            page.wait_for_function("document.querySelector('#status').innerText.startsWith('Finished')")
            page.wait_for_selector("#kpis table")
        browser.close()
