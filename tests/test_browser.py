"""Both HTML reports in a real headless Chromium: every plot is drawn, no JavaScript error, nothing fetched.

Chromium is Debian's (`apt-get install chromium fonts-wqy-microhei`), driven by playwright with
`executable_path` (no browser download). Screenshots go to tests/artifacts/. The tests skip only
when playwright or a chromium binary is missing (TIERSIM_CHROMIUM names another binary), and fail
instead where TIERSIM_REQUIRE_ALL=1 (CI, which installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REQUIRE_ALL

import sim
from sim.comparison import Comparison, compare
from sim.presentation import comparison_report, maps, report

try:
    from playwright.sync_api import BrowserContext, sync_playwright
except ImportError:  # the test extra installs it
    sync_playwright = None

CHROMIUM = next(
    (
        found
        for name in (os.environ.get("TIERSIM_CHROMIUM"), "chromium", "chromium-browser")
        if name and (found := shutil.which(name))
    ),
    None,
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
"""Chromium flags besides --headless and --user-data-dir, which playwright passes itself (headless=True,
and a fresh folder per test module)."""
SMALL = ["run.scale=0.02", "run.years=2"]

if sync_playwright is None:
    MISSING = "playwright is not installed (pip install -e '.[test]')"
elif CHROMIUM is None:
    MISSING = "no chromium binary on PATH (apt-get install chromium fonts-wqy-microhei, or set TIERSIM_CHROMIUM)"
else:
    MISSING = None
REQUIRED = REQUIRE_ALL

pytestmark = pytest.mark.skipif(MISSING is not None and not REQUIRED, reason=str(MISSING))

# What a drawn report holds, per plot div: drawn by plotly (an svg), and its Sankey nodes.
_PLOTS = """() => Array.from(document.querySelectorAll("figure .plotly-graph-div")).map(d => ({
    id: d.id,
    drawn: d.classList.contains("js-plotly-plot") && d.querySelector("svg.main-svg") !== null,
    traces: (d.data || []).length,
    sankey_nodes: d.querySelectorAll(".sankey-node").length,
    points: d.querySelectorAll(".scatterlayer .point").length,
    menus: d.querySelectorAll(".updatemenu-container").length,
    width: d.getBoundingClientRect().width,
}))"""


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(sim.load_scenario(overrides=SMALL))


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    base = sim.load_scenario("scenarios/baseline.toml", SMALL)
    alt = sim.load_scenario("scenarios/start_line_gap.toml", SMALL)
    return compare([base, alt], replications=2)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[BrowserContext]:
    if MISSING is not None:
        pytest.fail(f"TIERSIM_REQUIRE_ALL=1 but {MISSING}")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(60_000)
        yield context
        context.close()


def _render(browser: BrowserContext, page_path: Path, shot: str, plots: int) -> tuple[list[dict], list[str]]:
    """Open a report, wait until `plots` plots are drawn, take a full-page screenshot.

    Returns:
        Each plot div's state, and every JavaScript error, console error or request off the file itself.
    """
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)

    def only_local(route) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"request: {route.request.url}")
            route.abort()

    page.route("**/*", only_local)
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot svg.main-svg').length >= {plots}")
    state = page.evaluate(_PLOTS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / shot, full_page=True)
    page.close()
    return state, problems


def _check(state: list[dict], names: list[str]) -> None:
    assert [p["id"] for p in state] == [f"fig-{n}" for n in names]
    for plot in state:
        assert plot["drawn"], plot
        assert plot["traces"] > 0, plot
        assert plot["width"] > 300, plot


def test_error_detection_works(browser):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_content("<script>console.error('logged'); notDefined();</script>")
    page.close()
    assert any("logged" in p for p in problems)
    assert any("notDefined" in p for p in problems)


def test_run_report_renders(browser, results, tmp_path):
    path = tmp_path / "report.html"
    report.write_report(results, path)
    names = list(report.figures(results))
    state, problems = _render(browser, path, "report_en.png", len(names))
    assert problems == []
    order = [n for _, ids in report._SECTIONS for n in ids]
    _check(state, order)
    assert sorted(order) == sorted(names)
    assert next(p for p in state if p["id"] == "fig-patient-flows")["sankey_nodes"] > 0
    # The maps: a marker for every facility and area, and the menu that picks the colouring indicator.
    maps = {p["id"]: p for p in state if p["id"] in ("fig-facility-map", "fig-area-map")}
    assert maps["fig-facility-map"]["points"] == results.summary["facilities"]
    assert maps["fig-area-map"]["points"] == results.areas["area_id"].nunique()
    assert all(p["menus"] == 1 for p in maps.values())
    assert (ARTIFACTS / "report_en.png").stat().st_size > 10_000


def test_the_example_county_runs_and_its_report_maps_its_facilities(browser, tmp_path):
    """The example real region (scenarios/regions/pingli, a county from its census) runs, and its map shows it."""
    pingli = Path(__file__).resolve().parent.parent / "scenarios" / "regions" / "pingli"
    results = sim.run(sim.load_scenario(overrides=[*SMALL, f"region.files={str(pingli)!r}", "run.scale=0.1"]))
    names = (results.facilities["name"].unique()).tolist()
    assert len(names) == results.summary["facilities"] == 25 and any("平利县中医医院" in n for n in names)
    path = tmp_path / "report.html"
    report.write_report(results, path)
    state, problems = _render(browser, path, "report_pingli.png", len(report.figures(results)))
    assert problems == []
    maps = {p["id"]: p for p in state if p["id"] in ("fig-facility-map", "fig-area-map")}
    assert maps["fig-facility-map"]["points"] == 25 and maps["fig-area-map"]["points"] == 21


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_comparison_report_renders(browser, comparison, tmp_path, lang):
    path = tmp_path / "comparison.html"
    comparison_report.write_comparison_report(comparison, path, lang=lang)
    names = list(comparison_report.comparison_figures(comparison, lang))
    state, problems = _render(browser, path, f"comparison_{lang}.png", len(names))
    assert problems == []
    _check(state, names)
    flows = [p for p in state if p["id"].startswith("fig-flows-")]
    assert len(flows) == len(comparison.scenarios)
    assert all(p["sankey_nodes"] > 0 for p in flows)
    # The maps of the scenario against the baseline, and the table of facilities that gain and lose most.
    facilities = comparison.facilities["facility_id"].nunique()
    assert next(p for p in state if p["id"] == "fig-facility-changes-1")["points"] == facilities
    assert next(p for p in state if p["id"] == "fig-area-changes-1")["points"] > 0
    page = path.read_text(encoding="utf-8")
    assert page.count('<table class="gains">') == len(comparison.scenarios) - 1
    moved = maps.gains_and_losses(comparison.facilities, comparison.baseline, comparison.scenarios[1].name)
    assert len(moved) > 0 and all(f'<td class="scenario">{name}</td>' in page for name in moved["name"])
    assert (ARTIFACTS / f"comparison_{lang}.png").stat().st_size > 10_000
