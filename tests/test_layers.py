"""The package's layers: each imports only those below it, and no module imports itself in a circle.

The layers are the import-linter contract in `pyproject.toml` (command line, presentation,
workflows, reference engine, engine, base); imports inside functions count, imports for type
checking only do not.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while (other := stack.pop()) != module:
                group.append(other)
            if group:
                found.append(sorted([module, *group]))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_each_layer_imports_only_the_layers_below(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_no_import_cycle():
    graph = grimp.build_graph("sim", exclude_type_checking_imports=True, cache_dir=None)
    assert len(graph.modules) > 40
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_planted_cycle():
    graph = grimp.build_graph("sim", exclude_type_checking_imports=True, cache_dir=None)
    graph.add_import(importer="sim.rng", imported="sim.model")  # the base importing the engine
    cycle = next(group for group in _cycles(graph) if "sim.rng" in group)
    assert {"sim.rng", "sim.model"} <= set(cycle)
