"""Every citation resolves to an entry of docs/references.md, and every quoted policy clause is in its text.

A source is cited by its key in square brackets (`[nhc-bulletin-2023]`); a parameter with no source
says `assumption: …` or, for a run control, `setting: …`. A policy clause is cited as
`[key] section: 中文条款`; the policy texts live in ../shared/seeds (beside the repository, as in CI),
and the clause check skips without them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim.data
from sim.config import parameter_rows
from sim.metrics import TARGETS

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"
SEEDS = ROOT.parent / "shared" / "seeds"

KEY = re.compile(r"\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d{4}(?:-[a-z0-9]+)*)\]")
"""A citation key: lower-case words joined by hyphens, with a year (`[liaocheng-plan-2024]`)."""
ENTRY = re.compile(r"^- \*\*\[([^\]]+)\]\*\*", re.MULTILINE)
CJK = re.compile(r"[\u4e00-\u9fff]")
CLAUSE = re.compile(r"\[([a-z0-9-]+)\]([^:\[\]\n\"]{0,24}):\s*[\"“]?([^\"”;|\n]+)")
"""`[key] section: clause` — the clause runs to the end of the quotation, a semicolon or a table cell."""

CITING_FILES = [
    *sorted((ROOT / "sim").rglob("*.py")),
    *sorted((ROOT / "sim" / "data").glob("*.toml")),
    *sorted((ROOT / "sim" / "data").glob("*.csv")),
    *sorted((ROOT / "scenarios").glob("*.toml")),
    *sorted((ROOT / "experiments").glob("*.*")),
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "README.md",
]
NOT_CITATIONS = re.compile(r"DOMAIN\.md|DESIGN\.md|\bissues? [0-9]|\bseeds? 0[0-9]{2}|seeds/0|/work/|\b00[0-4]:[0-9]+")
"""What a citation must not be: a file users cannot open, an issue number, a seed file's number or line."""


def _entries() -> dict[str, str]:
    text = REFERENCES.read_text(encoding="utf-8")
    starts = list(ENTRY.finditer(text))
    keys = [m.group(1) for m in starts]
    assert len(keys) == len(set(keys)), "duplicate keys in docs/references.md"
    out = {}
    for m, after in zip(starts, [*starts[1:], None], strict=True):
        out[m.group(1)] = text[m.start() : after.start() if after else text.find("\n## ", m.end())]
    return out


ENTRIES = _entries()


def _policy_keys() -> set[str]:
    text = REFERENCES.read_text(encoding="utf-8")
    section = text[text.index("## Policy documents") : text.index("\n## ", text.index("## Policy documents") + 1)]
    return set(ENTRY.findall(section))


def _unknown(text: str) -> list[str]:
    return [k for k in KEY.findall(text) if k not in ENTRIES]


def _check_source(where: str, source: str) -> list[str]:
    """Problems of one source string: unknown keys, or neither a key nor an assumption/setting."""
    problems = [f"{where}: unknown reference [{k}]" for k in _unknown(source)]
    if not KEY.search(source) and not re.match(r"(assumption|setting)\b", source):
        problems.append(f"{where}: cites no reference and is not an assumption or setting: {source!r}")
    return problems


def test_references_are_well_formed():
    assert len(ENTRIES) >= 30
    for key, entry in ENTRIES.items():
        assert KEY.fullmatch(f"[{key}]"), f"key {key!r} is not of the form words-YYYY"
        assert len(entry) > 60, f"[{key}] has no citation"
    assert {"nhc-bulletin-2023", "liaocheng-plan-2024", "yangjiang-consortia-2017"} <= set(ENTRIES)
    assert _policy_keys() == {
        "guizhou-city-groups-2024",
        "sanming-six-projects-2021",
        "yangjiang-consortia-2017",
        "liaocheng-plan-2024",
        "chongqing-prevention-2020",
    }


def test_every_parameter_source_resolves():
    problems = []
    rows = [r for r in parameter_rows() if r["key"] not in ("name", "description")]
    assert len(rows) > 80
    for row in rows:
        problems += _check_source(row["key"], row["source"])
    assert not problems, "\n".join(problems)


def test_every_published_figure_and_target_cites_a_reference():
    problems = []
    for name, figure in sim.data.published().items():
        problems += _check_source(f"published.toml [{name}]", figure.source)
        problems += [f"published.toml [{name}] note: unknown [{k}]" for k in _unknown(figure.note)]
    for name, spec in TARGETS.items():
        problems += _check_source(f"metrics.TARGETS[{name}]", str(spec["source"]))
        assert KEY.search(str(spec["source"])), f"target {name} must cite its policy text"
    assert not problems, "\n".join(problems)


def test_every_key_cited_in_code_data_and_docs_resolves():
    unknown = []
    for path in CITING_FILES:
        for key in _unknown(path.read_text(encoding="utf-8")):
            unknown.append(f"{path.relative_to(ROOT)}: [{key}]")
    assert not unknown, "keys without an entry in docs/references.md:\n" + "\n".join(unknown)


def test_every_entry_is_cited_somewhere():
    cited = {k for path in CITING_FILES if path != REFERENCES for k in KEY.findall(path.read_text(encoding="utf-8"))}
    cited |= {k for r in parameter_rows() for k in KEY.findall(r["source"])}
    assert not set(ENTRIES) - cited, f"entries nothing cites: {sorted(set(ENTRIES) - cited)}"


def test_no_citation_points_where_users_cannot_look():
    found = []
    for path in CITING_FILES:
        if path == REFERENCES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NOT_CITATIONS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not found, "cite docs/references.md keys instead:\n" + "\n".join(found)


def test_the_checks_catch_a_bad_key():
    assert _check_source("x", "NHC statistical bulletin 2023 [nhc-bulletin-2032]") == [
        "x: unknown reference [nhc-bulletin-2032]"
    ]
    assert _check_source("x", "NHC statistical bulletin 2023")
    assert not _check_source("x", "assumption: about ten average stays")
    assert _unknown("see [no-such-source-1999] and [nhc-bulletin-2019]") == ["no-such-source-1999"]


def _normalise(text: str) -> str:
    return re.sub(r"[\s,，。;；:：()（）、“”\"]", "", text)


def _quoted_clauses() -> list[tuple[str, str, str]]:
    found = []
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in CITING_FILES]
    texts += [(f"param {r['key']}", r["source"]) for r in parameter_rows()]
    texts += [(f"target {n}", str(s["source"])) for n, s in TARGETS.items()]
    for where, text in texts:
        for match in CLAUSE.finditer(text):
            # The clause ends where an English comment begins: a Latin letter, a backtick or " (".
            key, clause = match.group(1), re.match(r"[^A-Za-z`]*", match.group(3)).group(0).split(" (")[0]
            if key in _policy_keys() and len(CJK.findall(clause)) >= 4:
                found.append((where, key, clause))
    return found


@pytest.mark.skipif(not SEEDS.is_dir(), reason="policy texts not found beside the repository (../shared/seeds)")
def test_quoted_policy_clauses_are_in_the_text_they_cite():
    seeds = {p.name: _normalise(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))}
    text_of = {}
    for key in _policy_keys():
        title = re.search(r"《(.+?)》", ENTRIES[key]).group(1)
        holding = [name for name, text in seeds.items() if _normalise(title) in text]
        assert len(holding) == 1, f"[{key}]: the title 《{title}》 is in {holding}, not in exactly one policy text"
        text_of[key] = seeds[holding[0]]
    # A clause is checked against the text its key names, not against all of them.
    assert _normalise("预留一定数量的住院床位") in text_of["liaocheng-plan-2024"]
    assert _normalise("预留一定数量的住院床位") not in text_of["sanming-six-projects-2021"]
    clauses = _quoted_clauses()
    assert len(clauses) > 30
    missing = []
    for where, key, clause in clauses:
        # "…" marks an elision: each fragment must be in the text, in order or not.
        fragments = [f for f in re.split(r"…+|\.\.\.", _normalise(clause)) if len(CJK.findall(f)) >= 2]
        if not fragments or not all(f in text_of[key] for f in fragments):
            missing.append(f"{where}: [{key}] {clause}")
    assert not missing, "quotes not found in the text they cite:\n" + "\n".join(missing)
