"""Every SVG under ``snapshots/`` belongs to a snapshot test that exists. syrupy
reports unused snapshots only in a run without xdist, and the suite runs with it: a
renamed or deleted test would otherwise leave its old SVG behind unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def functions_of(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_snapshot_has_its_test() -> None:
    folders = [f for f in (ROOT / "snapshots").iterdir() if f.is_dir()]
    assert folders
    for folder in folders:
        modules = list((ROOT / "tests").rglob(f"{folder.name}.py"))
        assert len(modules) == 1, f"snapshots/{folder.name}/: no test module of that name"
        tests = functions_of(modules[0])
        for svg in folder.glob("*.svg"):
            name = svg.stem.split("[", 1)[0]  # a parametrized test: name[params].svg
            assert name in tests, f"{svg.relative_to(ROOT)}: no test {name} in {modules[0].name}"
