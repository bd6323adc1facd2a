"""The presentation layer (`sim.presentation`) sits on top: no other module of `sim` imports it but the command line."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"


def _imported(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (`from sim import x` counts as `sim.x`)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_only_the_command_line_imports_the_presentation_layer():
    below = [p for p in SIM.rglob("*.py") if SIM / "presentation" not in p.parents and p != SIM / "cli.py"]
    assert len(below) > 20
    importers = [
        str(p.relative_to(SIM))
        for p in below
        if any(name == "sim.presentation" or name.startswith("sim.presentation.") for name in _imported(p))
    ]
    assert importers == []
