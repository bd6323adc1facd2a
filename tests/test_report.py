"""The HTML reports of a run and of a comparison: one self-contained file each, every figure present, both
languages, robust to NaN and to failed runs."""

from __future__ import annotations

import dataclasses
import string

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

import sim
from sim.comparison import Comparison, compare, paired_summary
from sim.metrics import TARGETS
from sim.presentation import comparison_report, report
from sim.presentation.labels import LANGUAGES, labels, read


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(sim.load_scenario(overrides=["run.scale=0.02", "run.years=2"]))


@pytest.fixture(scope="module")
def page_en(results, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    report.write_report(results, path)
    return path.read_text("utf-8")


@pytest.fixture(scope="module")
def page_zh(results, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report_zh") / "nested" / "report.html"
    report.write_report(results, path, lang="zh")
    return path.read_text("utf-8")


def _title(fig) -> str:
    return fig.layout.title.text


def _without_bundle(page: str) -> str:
    """The page with its one inlined copy of plotly.js removed (which holds URLs and English words of its own)."""
    parts = page.split(get_plotlyjs())
    assert len(parts) == 2, f"plotly.js embedded {len(parts) - 1} times"
    return "".join(parts)


def test_single_self_contained_file(results, page_en):
    assert page_en.startswith("<!DOCTYPE html>")
    assert page_en.rstrip().endswith("</html>")
    assert 'src="http' not in page_en
    own = _without_bundle(page_en).lower()
    # The (now empty) plotly.js script in the head, and one script per figure.
    assert own.count("<script") == own.count("</script>") == 1 + len(report.figures(results))
    for external in ("src=", "<link", "@import", "url(", "http:", "https:", "cdn."):
        assert external not in own, external


def test_every_figure_has_its_div_and_title(results, page_en):
    figs = report.figures(results)
    assert len(figs) == 15
    assert page_en.count("Plotly.newPlot(") == len(figs)
    for name, fig in figs.items():
        assert f'id="fig-{name}"' in page_en, name
        assert _title(fig), name
        assert f'aria-label="{escape(_title(fig))}"' in page_en, name


def test_header_and_tables(results, page_en):
    first, last = results.annual["calendar_year"].iloc[[0, -1]]
    assert f"<h1>{results.scenario.name}</h1>" in page_en
    assert f"{results.summary['residents']:,}" in page_en
    assert f"{first}–{last} (2 years)" in page_en
    for section in ("headline", "targets", "visits", "revenue", "beds", "waits", "money", "costs", "flows"):
        assert f'<section id="{section}">' in page_en
        assert f'href="#{section}"' in page_en
    targets = results.targets
    assert page_en.count('class="met"') + page_en.count('class="unmet"') >= len(targets)
    assert page_en.count(" ✓</td>") + page_en.count(" ✗</td>") == len(targets)
    for spec in TARGETS.values():
        assert escape(str(spec["source"])) in page_en


def test_chinese_labels(results, page_zh):
    assert '<html lang="zh-CN">' in page_zh
    for fig in report.figures(results, "zh").values():
        assert f'aria-label="{escape(_title(fig))}"' in page_zh
    for key in ("ind_primary_visit_share", "sec_targets", "tier_village", "component_drugs", "axis_year", "target"):
        assert labels("zh")[key] in page_zh, key
    own = _without_bundle(page_zh)
    for key in ("ind_primary_visit_share", "sec_targets", "tier_village", "axis_year", "trace_fund_income"):
        assert labels("en")[key] not in own, key


def test_label_dictionary_complete():
    en, zh = labels("en"), labels("zh")
    assert LANGUAGES == ("en", "zh")
    assert en.keys() == zh.keys()
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(d[key]) if f} for d in (en, zh)]
        assert fields[0] == fields[1], key
    for name in TARGETS:
        assert f"ind_{name}" in en


def test_unknown_language_raises(results, tmp_path):
    path = tmp_path / "report.html"
    with pytest.raises(ValueError, match=r"'fr'.*en, zh"):
        report.write_report(results, path, lang="fr")
    assert not path.exists()
    with pytest.raises(ValueError, match="unknown report language"):
        report.primary_share_figure(results.annual, "de")


def test_targets_come_from_metrics(results, tmp_path, monkeypatch):
    monkeypatch.setitem(TARGETS["primary_visit_share"], "value", 0.7)
    path = tmp_path / "report.html"
    report.write_report(results, path)
    page = path.read_text("utf-8")
    assert "Target ≥ 70%" in page
    assert "Target ≥ 65%" not in page


def test_nan_values_do_not_crash(results, tmp_path):
    annual = results.annual.copy()
    numeric = [c for c in annual.columns if c not in ("year", "calendar_year")]
    annual.loc[annual.index[0], numeric] = np.nan
    annual["fund_balance"] = np.nan
    annual["cost_per_admission_tertiary"] = np.nan
    broken = dataclasses.replace(results, annual=annual)
    path = tmp_path / "report.html"
    report.write_report(broken, path, lang="zh")
    page = path.read_text("utf-8")
    assert page.count("Plotly.newPlot(") == len(report.figures(broken, "zh"))
    assert "—" in page
    assert "NaN" not in _without_bundle(page)


def test_one_year_run(results, tmp_path):
    one = dataclasses.replace(results, annual=results.annual.iloc[:1].copy())
    path = tmp_path / "report.html"
    report.write_report(one, path)
    assert path.stat().st_size > len(get_plotlyjs())


def test_results_write_includes_report(results, tmp_path):
    out = report.write_run(results, tmp_path / "run")
    _without_bundle((out / "report.html").read_text("utf-8"))


def test_patient_flows_sankey(results):
    fig = report.patient_flows_figure(results.annual)
    sankey = fig.data[0]
    assert sankey.type == "sankey"
    last = results.annual.iloc[-1]
    flows = {c: last[c] for c in results.annual.columns if c.startswith("flow_") and last[c] > 0}
    assert sorted(sankey.link.value) == sorted(flows.values())
    kinds = " ".join(sankey.link.customdata)
    assert "Referral up" in kinds and "Referral down" in kinds
    assert any(f"{last['first_contacts_village']:,.0f} first contacts" in label for label in sankey.node.label)


# ------------------------------------------------------------------------------------ comparison
SMALL = ["run.scale=0.02", "run.years=2"]


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    base = sim.load_scenario("scenarios/baseline.toml", SMALL)
    alt = sim.load_scenario("scenarios/start_line_gap.toml", SMALL)
    return compare([base, alt], replications=3)


@pytest.fixture(scope="module")
def cmp_en(comparison, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("compare") / "report.html"
    comparison_report.write_comparison_report(comparison, path)
    return path.read_text("utf-8")


@pytest.fixture(scope="module")
def cmp_zh(comparison, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("compare_zh") / "nested" / "report.html"
    comparison_report.write_comparison_report(comparison, path, lang="zh")
    return path.read_text("utf-8")


def _write_comparison(comparison: Comparison, tmp_path, lang: str = "en") -> str:
    path = tmp_path / f"report-{lang}.html"
    comparison_report.write_comparison_report(comparison, path, lang=lang)
    return path.read_text("utf-8")


def _with_runs(comparison: Comparison, runs) -> Comparison:
    """The comparison with other runs, its summary recomputed."""
    runs = runs.reset_index(drop=True)
    summary = paired_summary(runs, comparison.baseline) if len(runs) else runs.iloc[:0]
    return dataclasses.replace(comparison, runs=runs, summary=summary)


def _changes(page: str) -> str:
    """The text summary's list of changes."""
    return page.split('<ul class="changes">', 1)[1].split("</ul>", 1)[0]


def test_comparison_self_contained(comparison, cmp_en):
    assert cmp_en.startswith("<!DOCTYPE html>")
    assert cmp_en.rstrip().endswith("</html>")
    own = _without_bundle(cmp_en).lower()
    assert own.count("<script") == own.count("</script>") == 1 + len(comparison_report.comparison_figures(comparison))
    for external in ("src=", "<link", "@import", "url(", "http:", "https:", "cdn."):
        assert external not in own, external


def test_comparison_every_figure(comparison, cmp_en):
    figs = comparison_report.comparison_figures(comparison)
    flows = [f"flows-{i}" for i in range(len(comparison.scenarios))]
    places = [f"{kind}-changes-{i}" for i in range(1, len(comparison.scenarios)) for kind in ("facility", "area")]
    assert list(figs) == ["series", "differences", *flows, "revenue-structure", "beds", "waits", "money", *places]
    assert cmp_en.count("Plotly.newPlot(") == len(figs)
    for name, fig in figs.items():
        assert f'id="fig-{name}"' in cmp_en, name
        assert f'aria-label="{escape(_title(fig))}"' in cmp_en, name
    for i, scenario in enumerate(comparison.scenarios):
        sankey = figs[f"flows-{i}"]
        assert sankey.data[0].type == "sankey"
        assert scenario.name in _title(sankey)
    for section in ("summary", "targets", "series", "differences", "patient_flows", "revenue", "beds_waits", "money"):
        assert f'<section id="{section}">' in cmp_en
        assert f'href="#{section}"' in cmp_en
    assert '<section id="failures">' not in cmp_en


def test_comparison_figures_show_intervals_and_targets(comparison):
    figs = comparison_report.comparison_figures(comparison)
    bands = [t for t in figs["series"].data if t.fill == "toself"]
    assert len(bands) >= len(comparison.scenarios)
    target_lines = {round(s.y0, 6) for s in figs["series"].layout.shapes}
    for name, spec in TARGETS.items():
        if not isinstance(spec["value"], dict):
            assert round(float(spec["value"]), 6) in target_lines, name
    diffs = [t for t in figs["differences"].data if t.error_x.array is not None]
    assert diffs and all(t.name != comparison.baseline for t in diffs)
    for key in ("beds", "waits", "money"):
        assert all(t.error_y.arrayminus is not None for t in figs[key].data), key
    structure = figs["revenue-structure"]
    assert list(structure.data[0].x) == [s.name for s in comparison.scenarios] + ["Target"]


def test_comparison_header(comparison, cmp_en):
    assert "<h1>Scenario comparison</h1>" in cmp_en
    assert "baseline (baseline), start_line_gap" in cmp_en
    assert f"<dt>Replications</dt><dd>{len(comparison.seeds)}</dd>" in cmp_en
    assert f"{comparison.seeds[0]}–{comparison.seeds[-1]}" in cmp_en
    assert "<dt>Scale</dt><dd>0.02</dd>" in cmp_en
    years = sorted(comparison.runs["calendar_year"].unique())
    assert f"{years[0]}–{years[-1]} (2 years)" in cmp_en
    for scenario in comparison.scenarios:
        assert escape(scenario.description.strip()) in cmp_en


def test_comparison_targets_table(comparison, cmp_en):
    targets = comparison.targets
    assert cmp_en.count(" ✓</td>") + cmp_en.count(" ✗</td>") == len(targets)
    for name, spec in TARGETS.items():
        assert escape(str(spec["source"])) in cmp_en
        assert labels("en")[f"ind_{name}"] in cmp_en


def test_comparison_targets_come_from_metrics(comparison, tmp_path, monkeypatch):
    monkeypatch.setitem(TARGETS["primary_visit_share"], "value", 0.7)
    goal = {"service": 0.4, "drugs_and_consumables": 0.35, "tests": 0.25}
    monkeypatch.setitem(TARGETS["revenue_structure"], "value", goal)
    page = _write_comparison(comparison, tmp_path)
    assert "≥ 70%" in page and "≥ 65%" not in page
    assert "≈ 40 : 35 : 25" in page and "50 : 30 : 20" not in page


def test_summary_text_mentions_scenarios(comparison, cmp_en):
    changes = _changes(cmp_en)
    assert changes.count("<li>") == len(comparison.scenarios) - 1
    assert "<b>start_line_gap</b>, by" in changes
    year = int(comparison.runs["calendar_year"].max())
    assert f"in {year}" in cmp_en.split('<ul class="changes">')[0]


def test_summary_states_only_intervals_that_exclude_zero(comparison, tmp_path):
    summary = comparison.summary.copy()
    last = summary["year"] == summary["year"].max()
    alt = summary["scenario"] == "start_line_gap"
    values = {
        "primary_visit_share": (0.012, 0.009, 0.015),  # excludes 0: stated
        "oop_share": (0.01, -0.01, 0.03),  # crosses 0: not stated
        "referrals_up": (-120.0, -150.0, -90.0),  # excludes 0, a decrease
    }
    for indicator, (diff, lo, hi) in values.items():
        rows = last & alt & (summary["indicator"] == indicator)
        summary.loc[rows, ["diff", "diff_lo", "diff_hi"]] = (diff, lo, hi)
    changes = _changes(_write_comparison(dataclasses.replace(comparison, summary=summary), tmp_path))
    assert "raises the primary-care share of visits by 1.2 pp [0.9, 1.5]" in changes
    assert "decreases referrals up by 120 [90, 150]" in changes
    assert "out-of-pocket share" not in changes


def test_comparison_chinese_labels(comparison, cmp_zh):
    assert '<html lang="zh-CN">' in cmp_zh
    for fig in comparison_report.comparison_figures(comparison, "zh").values():
        assert f'aria-label="{escape(_title(fig))}"' in cmp_zh
    for key in ("cmp_heading", "sec_summary", "sec_patient_flows", "flow_up", "flow_down", "tier_village"):
        assert labels("zh")[key] in cmp_zh, key
    assert "（至" in _changes(cmp_zh)
    own = _without_bundle(cmp_zh)
    for key in ("cmp_heading", "sec_summary", "fig_cmp_series", "flow_up", "caption_series", "meta_replications"):
        assert labels("en")[key] not in own, key


def test_comparison_nan_values_do_not_crash(comparison, tmp_path):
    runs = comparison.runs.copy()
    numeric = [c for c in runs.columns if c not in ("scenario", "replication", "seed", "year", "calendar_year")]
    runs.loc[runs["year"] == 0, numeric] = np.nan
    runs["fund_balance"] = np.nan
    runs["bed_occupancy_tertiary"] = np.nan
    runs.loc[runs["scenario"] == "start_line_gap", "flow_village_to_health_centre"] = np.nan
    broken = _with_runs(comparison, runs)
    page = _write_comparison(broken, tmp_path, lang="zh")
    assert page.count("Plotly.newPlot(") == len(comparison_report.comparison_figures(broken, "zh"))
    assert "—" in page
    assert "NaN" not in _without_bundle(page)


def test_comparison_with_failures(comparison, tmp_path):
    runs = comparison.runs[comparison.runs["scenario"] == comparison.baseline]
    failures = pd.DataFrame(
        [
            {"scenario": "start_line_gap", "replication": r, "seed": s, "error": "RuntimeError: <boom>"}
            for r, s in enumerate(comparison.seeds)
        ]
    )
    failed = dataclasses.replace(_with_runs(comparison, runs), failures=failures)
    page = _write_comparison(failed, tmp_path)
    assert '<section id="failures">' in page and 'href="#failures"' in page
    assert page.count("RuntimeError: &lt;boom&gt;") == len(comparison.seeds)
    assert f"<dt>Failed runs</dt><dd>{len(comparison.seeds)}</dd>" in page
    assert "<b>start_line_gap</b>: no finished run." in page
    assert list(comparison_report.comparison_figures(failed)).count("flows-0") == 1
    assert "flows-1" not in comparison_report.comparison_figures(failed)


def test_comparison_all_runs_failed(comparison, tmp_path):
    failures = pd.DataFrame([{"scenario": "baseline", "replication": 0, "seed": 1, "error": "ValueError: x"}])
    empty = dataclasses.replace(_with_runs(comparison, comparison.runs.iloc[:0]), failures=failures)
    assert comparison_report.comparison_figures(empty) == {}
    page = _write_comparison(empty, tmp_path)
    assert "Plotly.newPlot(" not in page
    assert "ValueError: x" in page


def test_comparison_one_replication(comparison, tmp_path):
    one = _with_runs(comparison, comparison.runs[comparison.runs["replication"] == 0])
    changes = _changes(_write_comparison(one, tmp_path))
    assert "one replication only" in changes


def test_comparison_baseline_only(comparison, tmp_path):
    alone = dataclasses.replace(
        _with_runs(comparison, comparison.runs[comparison.runs["scenario"] == comparison.baseline]),
        scenarios=comparison.scenarios[:1],
    )
    page = _write_comparison(alone, tmp_path)
    assert "Only the baseline was run" in page
    assert "Only the baseline: no differences to show." in page


def test_comparison_unknown_language_raises(comparison, tmp_path):
    path = tmp_path / "report.html"
    with pytest.raises(ValueError, match=r"'fr'.*en, zh"):
        comparison_report.write_comparison_report(comparison, path, lang="fr")
    assert not path.exists()


def test_comparison_write_includes_report(comparison, tmp_path):
    out = comparison_report.write_comparison(comparison, tmp_path / "compare", lang="zh")
    _without_bundle((out / "report.html").read_text("utf-8"))


def test_labels_file_needs_both_languages_for_every_label():
    assert dict(read('[field.seed]\nen = "Seed"\nzh = "随机种子"\n')["zh"]) == {"field.seed": "随机种子"}
    for bad in ('x.en = "a"', 'x.en = "a"\nx.zh = "b"\nx.fr = "c"', "x.en = 1\nx.zh = 2", 'x = "a"'):
        with pytest.raises(ValueError, match=r"labels\.toml: x "):
            read(bad)
