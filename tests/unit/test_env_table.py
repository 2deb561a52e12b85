"""The ``MQCHAT_*`` table is the one place the names live: the README documents
exactly its rows, no other module spells a name, and nothing writes the environment.
The README's list of binding ids is the TUI's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mqchat.cli.bindings import known_bindings
from mqchat.config.env import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n### ", start + 1)
    return README[start:end]


def table_rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows.append([cells[0].strip("`"), cells[1].strip("`"), cells[2]])
    return rows


def test_the_readme_lists_every_variable_of_the_table_and_no_other() -> None:
    rows = table_rows(readme_section("Environment variables"))
    assert rows == [[v.name, v.sets, v.description] for v in ENV_VARS]
    mentioned = set(re.findall(r"MQCHAT_[A-Z_]+", README))
    assert mentioned <= {v.name for v in ENV_VARS}, "the README names a variable mqchat ignores"


def test_the_readme_lists_every_binding_id_with_its_default_keys() -> None:
    rows = table_rows(readme_section("Key bindings: `[keys]`"))
    assert rows == [[b.id, b.keys, b.description] for b in known_bindings().values()]


def _code_strings(tree: ast.AST) -> list[str]:
    """Every string constant of a module but its docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_only_the_table_spells_a_variable_name_and_nothing_writes_the_environment() -> None:
    spelled = set()
    writes = []
    for path in sorted((ROOT / "mqchat").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if any("MQCHAT_" in s for s in _code_strings(ast.parse(text))):
            spelled.add(path.relative_to(ROOT).as_posix())
        pattern = r"os\.environ\[|os\.environ\.(update|pop|setdefault|clear)|os\.(putenv|unsetenv)"
        if re.search(pattern, text):
            writes.append(path.relative_to(ROOT).as_posix())
    assert spelled == {"mqchat/config/env.py"}
    assert writes == []
