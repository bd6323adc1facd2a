"""The HTML report: one self-contained file, every figure present, both languages, robust to NaN."""

from __future__ import annotations

import dataclasses
import html
import string

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

import sim
from sim import report
from sim.metrics import TARGETS


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
    assert len(figs) == 12
    assert page_en.count("Plotly.newPlot(") == len(figs)
    for name, fig in figs.items():
        assert f'id="fig-{name}"' in page_en, name
        assert _title(fig), name
        assert f'aria-label="{html.escape(_title(fig))}"' in page_en, name


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
        assert html.escape(str(spec["source"])) in page_en


def test_chinese_labels(results, page_zh):
    assert '<html lang="zh-CN">' in page_zh
    for fig in report.figures(results, "zh").values():
        assert f'aria-label="{html.escape(_title(fig))}"' in page_zh
    for key in ("fig_primary_share", "sec_targets", "tier_village", "component_drugs", "axis_year", "target_bar"):
        assert report.LABELS["zh"][key] in page_zh, key
    own = _without_bundle(page_zh)
    for key in ("fig_primary_share", "sec_targets", "tier_village", "axis_year", "trace_fund_income"):
        assert report.LABELS["en"][key] not in own, key


def test_label_dictionary_complete():
    en, zh = report.LABELS["en"], report.LABELS["zh"]
    assert set(report.LABELS) == {"en", "zh"}
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
    out = results.write(tmp_path / "run")
    _without_bundle((out / "report.html").read_text("utf-8"))
