"""The repo explains itself: every ``docs/…md#anchor`` the code, tests, benches and
README cite exists, and nothing points to notes outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"docs/([a-z_]+\.md)(?:#([a-z0-9_-]+))?")
SOURCES = [
    *sorted((ROOT / "mqchat").rglob("*.py")),
    *sorted((ROOT / "tests").rglob("*.py")),
    *sorted((ROOT / "bench").rglob("*.py")),
    ROOT / "README.md",
    ROOT / "bench" / "README.md",
]


def anchors(doc: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    found = set()
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return found


def citations() -> list[tuple[str, str, str | None]]:
    cited = []
    for path in SOURCES:
        for match in CITED.finditer(path.read_text()):
            cited.append((str(path.relative_to(ROOT)), match.group(1), match.group(2)))
    return cited


def test_the_code_cites_the_docs() -> None:
    assert len(citations()) >= 10


@pytest.mark.parametrize(("source", "doc", "anchor"), citations())
def test_every_cited_doc_and_heading_exists(source: str, doc: str, anchor: str | None) -> None:
    path = ROOT / "docs" / doc
    assert path.is_file(), f"{source} cites docs/{doc}, which does not exist"
    if anchor is not None:
        assert anchor in anchors(path), f"{source} cites docs/{doc}#{anchor}: no such heading"


def test_nothing_cites_notes_outside_the_repo() -> None:
    outside = ("DESIGN" + ".md", "FACTS" + ".md")  # spelt so, this file is no offender
    offenders = [
        str(path.relative_to(ROOT))
        for path in SOURCES
        if any(name in path.read_text() for name in outside)
    ]
    assert offenders == []
