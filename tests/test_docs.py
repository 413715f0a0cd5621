"""The README and docs/ are checked against the code: every repository path they name in
backticks exists, and the README stays the short operations contract it is meant to be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PREFIXES = (
    "backoffice/",
    "workflows/",
    "workers/",
    "templates/",
    "tests/",
    "bench/",
    "migrations/",
    "docs/",
    ".ci/",
)
MAX_README_LINES = 300
# Inline code spans (fenced blocks are removed first); a span may wrap onto the next line.
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`]+)`")
# Links to files of the repository: [text](path) or [text](path#anchor), not URLs.
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def paths_in(text: str) -> list[str]:
    """The backticked tokens of ``text`` that name a repository path: the first word of each
    span, ``:line`` and ``#anchor`` stripped; globs and placeholders (``*``, ``<``) left out."""
    found = []
    for span in SPAN.findall(FENCE.sub("", text)):
        for token in span.replace(",", " ").split():
            if not token.startswith(PREFIXES) or "*" in token or "<" in token:
                continue
            token = re.sub(r"(:\d+.*|#.*)$", "", token)
            found.append(token)
    return found


def test_paths_in_backticks_are_found_by_the_checker():
    text = "see `workflows/guards.py:12`, `docs/api.md#errors`, `tests/domain/test_*.py` and `x.py`"
    assert paths_in(text) == ["workflows/guards.py", "docs/api.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_backticked_repository_path_exists(doc: Path):
    missing = sorted({p for p in paths_in(doc.read_text()) if not (ROOT / p).exists()})
    assert missing == [], f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_to_a_file_of_the_repository_leads_somewhere(doc: Path):
    targets = [t for t in LINK.findall(doc.read_text()) if "://" not in t]
    missing = sorted({t for t in targets if not (doc.parent / t).exists()})
    assert missing == [], f"{doc.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_docs_folder_is_there():
    assert (ROOT / "docs" / "README.md").exists()
    assert len(DOCS) > 2


def test_the_readme_stays_under_300_lines():
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines < MAX_README_LINES, f"README.md has {lines} lines; move details to docs/"
