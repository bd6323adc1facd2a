"""Every Chinese clause the code quotes from a policy seed is really in the seed texts.

The seeds live in ../shared/seeds (beside the repository, as in CI); the test skips without them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
CJK = re.compile(r"[\u4e00-\u9fff]")
# A citation: "seed 00N" (optionally with a title in parentheses), a colon, then the clause quoted.
CITE = re.compile(r"[Ss]eeds? 00\d[^:\n]{0,80}:\s*[\"“]?([^\"”;\n]+)")


def _quoted_clauses() -> list[tuple[str, str]]:
    found = []
    for path in [*sorted((ROOT / "sim").rglob("*.py")), *sorted((ROOT / "scenarios").glob("*.toml"))]:
        for match in CITE.finditer(path.read_text(encoding="utf-8")):
            clause = re.match(r"[^A-Za-z]*", match.group(1)).group(0)  # up to any English comment
            if len(CJK.findall(clause)) >= 4:
                found.append((path.name, clause))
    return found


def _normalise(text: str) -> str:
    return re.sub(r"[\s,，。;；:：()（）]", "", text)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="policy seeds not found beside the repository (../shared/seeds)")
def test_quoted_seed_clauses_exist():
    seeds = _normalise("".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))))
    clauses = _quoted_clauses()
    assert len(clauses) > 10
    missing = []
    for where, clause in clauses:
        # "…" marks an elision: each fragment must be in the seeds.
        fragments = [f for f in re.split(r"…+|\.\.\.", _normalise(clause)) if len(CJK.findall(f)) >= 2]
        if not fragments or not all(f in seeds for f in fragments):
            missing.append(f"{where}: {clause}")
    assert not missing, "quotes not found in the seeds:\n" + "\n".join(missing)
