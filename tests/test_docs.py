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


# Relative paths that climb out of the repository, as links, backticked paths or bare words.
CLIMB = re.compile(r"(?<![\w/.])((?:\.\./)+[\w./-]*)")


def outside_references(doc: Path) -> list[str]:
    found = []
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        for path in CLIMB.findall(line):
            if not (doc.parent / path).resolve().is_relative_to(ROOT):
                found.append(f"line {number}: {path}")
    return found


def test_a_climbing_path_is_found():
    fake = ROOT / "docs" / "x.md"
    assert CLIMB.findall("brief: `../shared/DESIGN.md`, see [a](../README.md)") == [
        "../shared/DESIGN.md",
        "../README.md",
    ]
    assert (fake.parent / "../README.md").resolve().is_relative_to(ROOT)
    assert not (ROOT / "../shared/DESIGN.md").resolve().is_relative_to(ROOT)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_line_refers_outside_the_repository(doc: Path):
    assert outside_references(doc) == [], f"{doc.relative_to(ROOT)} points outside the repository"


def table_after(text: str, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the Markdown table whose header line starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def test_the_guards_table_is_the_code():
    """docs/architecture.md: one row per move of ``MOVES``, its roles, and the guards of
    ``GUARDS`` for its target (``comment`` when the move needs one), in their order."""
    from workflows.guards import GUARDS
    from workflows.roles import RoleName
    from workflows.stages import MOVES

    rows = table_after((ROOT / "docs" / "architecture.md").read_text(), "| move | who | guards")
    documented = {}
    for move, who, guards, _ in rows:
        source, target = (part.strip() for part in move.split("→"))
        roles = {RoleName.MISSION, RoleName.ADMIN} if "mission" in who else set()
        roles |= {RoleName.DEPARTMENT} if "department" in who else set()
        documented[(source, target)] = (
            roles,
            SPAN.findall(guards) + re.findall(r"\bcomment\b", guards),
        )
    in_code = {
        (m.source.value, m.target.value): (
            set(m.roles),
            [g.__name__ for g in GUARDS.get(m.target, ())]
            + (["comment"] if m.needs_comment else []),
        )
        for m in MOVES
    }
    assert documented == in_code


API_ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/api/\S+?)(?:\?\S*)?$")


def test_the_api_table_lists_every_route_of_the_openapi_document(client):
    """docs/api.md's table, in one piece, names each route of the OpenAPI document once."""
    document = client.get("/api/v1/openapi.json").get_json()
    in_code = sorted(
        (method.upper(), re.sub(r"\{\w+\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )
    text = (ROOT / "docs" / "api.md").read_text()
    rows = table_after(text, "| route | does |")
    documented = sorted(
        (m.group(1), re.sub(r"\{\w+\}", "{}", m.group(2)))
        for row in rows
        for span in SPAN.findall(row[0])
        if (m := API_ROUTE.match(span))
    )
    assert documented == in_code
    assert text.count("| route |") == 1, "one API table"
    readme = (ROOT / "README.md").read_text()
    assert "| route |" not in readme and "docs/api.md" in readme
