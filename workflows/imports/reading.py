"""Reading import files: formats, headers, the rows a preview holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from slugify import slugify

from .. import sheets
from ..i18n import N_, Msg
from ..models import Channel, ContributionKind
from ..sheets import FileLimits, ImportFileError

FORMATS = ("csv", "xlsx", "decidim")
BATCH = 2000

# Spreadsheet headers, French or English, and what they mean.
HEADERS = {
    "item": "item",
    "element": "item",
    "engagement": "item",
    "question": "item",
    "text": "text",
    "texte": "text",
    "contribution": "text",
    "body": "text",
    "date": "date",
    "channel": "channel",
    "canal": "channel",
    "commune": "commune",
    "code-postal": "commune",
    "code-insee": "commune",
    "email": "email",
    "courriel": "email",
    "e-mail": "email",
    "mail": "email",
    "name": "name",
    "nom": "name",
    "auteur": "name",
    "kind": "kind",
    "type": "kind",
    "title": "title",
    "titre": "title",
}
CHANNELS = {
    "online": Channel.ONLINE,
    "en-ligne": Channel.ONLINE,
    "internet": Channel.ONLINE,
    "workshop": Channel.WORKSHOP,
    "atelier": Channel.WORKSHOP,
    "atelier-citoyen": Channel.WORKSHOP,
    "meeting": Channel.MEETING,
    "reunion": Channel.MEETING,
    "rencontre": Channel.MEETING,
    "rencontre-territoriale": Channel.MEETING,
    "mail": Channel.MAIL,
    "courrier": Channel.MAIL,
    "lettre": Channel.MAIL,
    "import": Channel.IMPORT,
}
KINDS = {
    "commentaire": ContributionKind.COMMENT,
    "question": ContributionKind.QUESTION,
    "proposition": ContributionKind.PROPOSAL,
}


@dataclass
class Row:
    """One row to import, checked; ``parent`` is the source of the row it answers."""

    line: int
    source: str
    values: dict[str, Any]
    item_key: str  # an item id ("id:3") or a new item's source
    email: str | None = None
    name: str | None = None
    parent: str | None = None
    # Its author's identity in the source, for a row without an address (workflows.authors).
    author: str | None = None


@dataclass
class Preview:
    rows_read: int = 0
    rows: list[Row] = field(default_factory=list)
    duplicates: int = 0
    refused: list[tuple[int, Msg]] = field(default_factory=list)
    new_items: dict[str, str] = field(default_factory=dict)  # source → title

    @property
    def rows_to_import(self) -> int:
        return len(self.rows)

    def refuse(self, line: int, reason: Msg) -> None:
        self.refused.append((line, reason))


# -- reading files ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def slug(value: str) -> str:
    """slugify, remembered: a file repeats its items, channels and communes many times."""
    return slugify(value)


def _column(header: str) -> str:
    return HEADERS.get(slug(header), slug(header))


def spreadsheet_records(
    raw: bytes, fmt: str, limits: FileLimits, *, item_given: bool
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows of a spreadsheet with their columns named as this importer names them; a
    file without the columns it needs is refused whole (one message, not one per row)."""
    reader = sheets.xlsx_records if fmt == "xlsx" else sheets.csv_records
    header, records = reader(raw, limits)
    columns = {_column(h) for h in header if h}
    missing = [c for c in ("text", "item") if c not in columns and not (c == "item" and item_given)]
    if missing:
        raise ImportFileError(
            N_(
                "the columns %(missing)s are missing (columns read: %(found)s); the first row "
                "names the columns: item, text …",
                missing=", ".join(f"« {c} »" for c in missing),
                found=", ".join(f"« {h[:40]} »" for h in header[:12] if h) or "—",
            )
        )
    for line, record in records:
        yield line, {_column(k): v for k, v in record.items()}


def read_file(path: str | Path) -> bytes:
    return Path(path).read_bytes()


FORMAT_BY_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}


def guess_format(filename: str, raw: bytes | None = None) -> str:
    """csv, xlsx (its name, or a zip whatever its name), or decidim when a CSV has Decidim's
    columns."""
    fmt = FORMAT_BY_SUFFIX.get(Path(filename).suffix.lower(), "csv")
    if raw is not None and sheets.is_zip(raw):
        return "xlsx"
    if fmt == "csv" and raw is not None:
        try:
            text, _ = sheets.decode(raw[:4096])
        except ImportFileError:
            return fmt  # the preview says why the file does not read
        if re.search(r"commentable_type|endorsements/total_count", text.split("\n", 1)[0]):
            return "decidim"
    return fmt
