"""Importing contributions from spreadsheets (CSV, XLSX) and Decidim open-data exports.

Reading and checking come first and write nothing (``preview``); then ``apply`` writes what
the preview accepted, in batches. Every row carries its identity in its source (a hash of a
spreadsheet row, a Decidim id), so importing the same file twice adds nothing, and a bad row
is refused with its line number and a French reason without losing the good ones. Rows are
checked with the same helpers as ``contributions.contribute`` (text, kind, channel, commune,
author) and inserted in bulk, which is what makes a 100,000-row file take seconds.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from slugify import slugify
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from . import audit, sheets
from .clock import PARIS, utcnow
from .contributions import (
    MAX_BODY,
    MAX_TITLE,
    RECORDING_STAGES,
    commune_fields,
    parse_kind,
)
from .errors import Conflict, DomainError, InvalidFields, PermissionDenied
from .i18n import N_, Msg
from .items import lock_items, next_position
from .models import (
    Channel,
    Contribution,
    ContributionImport,
    ContributionKind,
    ContributionStatus,
    Demarche,
    ImportStatus,
    Item,
    Participant,
    User,
)
from .participants import clean_name, normalize_email
from .sheets import FileLimits, ImportFileError
from .sql import database_unavailable
from .text import to_text

log = logging.getLogger(__name__)

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


_WHOLE = re.compile(r"[0-9]{1,9}")


def _whole(value: Any) -> int | None:
    """A whole number written in ASCII digits, else None — not ``str.isdigit()``, which
    admits "²" or "١" that ``int()`` refuses."""
    text = str(value if value is not None else "").strip()
    return int(text) if _WHOLE.fullmatch(text) else None


@lru_cache(maxsize=4096)
def _slug(value: str) -> str:
    """slugify, remembered: a file repeats its items, channels and communes many times."""
    return slugify(value)


def _column(header: str) -> str:
    return HEADERS.get(_slug(header), _slug(header))


def _spreadsheet_records(
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


# -- checking values --------------------------------------------------------------------


def _plausible(moment: datetime) -> datetime:
    """A contribution's date: between 1900 and 2100 (and storable in UTC)."""
    if not 1900 <= moment.year <= 2100:
        raise InvalidFields(
            {"date": N_("a date between %(first)s and %(last)s expected", first=1900, last=2100)}
        )
    return moment


def _parse_date(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return _plausible(value if value.tzinfo else value.replace(tzinfo=PARIS))
    if isinstance(value, date):
        return _plausible(datetime.combine(value, time(12), tzinfo=PARIS))
    text = str(value).strip()
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=PARIS))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidFields({"date": N_("unreadable date “%(value)s”", value=text)}) from None
    return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=PARIS))


def _channel(value: Any, default: Channel) -> Channel:
    if value in (None, ""):
        return default
    channel = CHANNELS.get(_slug(str(value)))
    if channel is None:
        raise InvalidFields({"channel": N_("unknown channel “%(value)s”", value=value)})
    return channel


def _kind(value: Any) -> ContributionKind:
    if value in (None, ""):
        return ContributionKind.COMMENT
    return KINDS.get(_slug(str(value))) or parse_kind(str(value).strip().lower())


def _common(values: dict[str, Any], record: dict[str, Any], default_channel: Channel) -> None:
    """Text, date, channel, commune: checked as ``contribute`` checks them."""
    body = to_text(str(record.get("text") or ""))
    if not body:
        raise InvalidFields({"text": N_("the text is empty")})
    if len(body) > MAX_BODY:
        raise InvalidFields({"text": N_("at most %(max)s characters", max=MAX_BODY)})
    values["body"] = body
    values["contributed_at"] = _parse_date(record.get("date"))
    values["channel"] = _channel(record.get("channel"), default_channel)
    values["commune_insee"], values["canton_code"] = commune_fields(record.get("commune"))


def _reason(exc: InvalidFields) -> Msg:
    return next(iter(exc.errors.values()))


def _depth(value: Any) -> int:
    return _whole(value) or 0


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p or "") for p in parts).encode()).hexdigest()[:40]


# -- preview ----------------------------------------------------------------------------


class Importer:
    """Reads one file for one démarche into a Preview, then applies it."""

    def __init__(
        self,
        session: Session,
        demarche: Demarche,
        fmt: str,
        item_id: int | None = None,
        *,
        limits: FileLimits | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ImportFileError(N_("unknown format “%(value)s”: csv, xlsx or decidim", value=fmt))
        self.session, self.demarche, self.fmt = session, demarche, fmt
        self.limits = limits or FileLimits()
        # One object per distinct text: a row repeated 100,000 times costs one text, not
        # 100,000 (a small workbook can say the same long text in every row).
        self._texts: dict[str, str] = {}
        self.items = session.scalars(select(Item).where(Item.demarche_id == demarche.id)).all()
        self.forced_item = None
        if item_id is not None:
            self.forced_item = next((i for i in self.items if i.id == item_id), None)
            if self.forced_item is None:
                raise InvalidFields({"item_id": N_("no item %(id)s in this démarche", id=item_id)})

    # Items of a spreadsheet row: the title (any case or accents) or the position.
    def _sheet_item(self, value: Any) -> str:
        if self.forced_item is not None:
            return f"id:{self.forced_item.id}"
        text = str(value or "").strip()
        if text.endswith(".0") and _WHOLE.fullmatch(text[:-2]):
            text = text[:-2]
        by_title = {_slug(i.title): i for i in self.items}
        if _slug(text) in by_title:
            return f"id:{by_title[_slug(text)].id}"
        if (position := _whole(text)) is not None:
            by_position = [i for i in self.items if i.position == position]
            if len(by_position) == 1:
                return f"id:{by_position[0].id}"
        raise InvalidFields(
            {"item": N_("unknown item “%(value)s”: give its title or its position", value=text)}
        )

    def preview(self, raw: bytes) -> Preview:
        result = Preview()
        if self.fmt == "decidim":
            rows = self._decidim(raw, result)
        else:
            rows = self._sheet(raw, result)
        seen: set[str] = set()
        candidates = []
        for row in rows:
            if row.source in seen:
                result.duplicates += 1
                continue
            seen.add(row.source)
            candidates.append(row)
        existing = self._existing_sources([r.source for r in candidates])
        for row in candidates:
            if row.source in existing:
                result.duplicates += 1
            else:
                result.rows.append(row)
        # An answer whose parent is neither imported now nor already there is refused — and so
        # are the answers to it, down the thread (until nothing more is refused).
        kept = result.rows
        while True:
            known = existing | {r.source for r in kept}
            orphans = [r for r in kept if r.parent is not None and r.parent not in known]
            if not orphans:
                break
            for row in orphans:
                result.refuse(row.line, N_("answers a contribution that is not in the file"))
            gone = {id(r) for r in orphans}
            kept = [r for r in kept if id(r) not in gone]
        result.refused.sort(key=lambda refusal: refusal[0])
        result.rows = kept
        used = {r.item_key for r in kept}
        result.new_items = {k: v for k, v in result.new_items.items() if k in used}
        return result

    def _existing_sources(self, sources: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(sources), 1000):
            chunk = sources[start : start + 1000]
            found.update(
                self.session.scalars(
                    select(Contribution.source).where(
                        Contribution.demarche_id == self.demarche.id, Contribution.source.in_(chunk)
                    )
                )
            )
        return found

    def _author(self, row: Row, record: dict[str, Any]) -> None:
        email = str(record.get("email") or "").strip()
        row.email = normalize_email(email) if email else None
        row.name = clean_name(str(record.get("name") or "")) if record.get("name") else None

    def _sheet(self, raw: bytes, result: Preview) -> Iterator[Row]:
        occurrences: Counter[str] = Counter()
        records = _spreadsheet_records(
            raw, self.fmt, self.limits, item_given=self.forced_item is not None
        )
        for line, record in records:
            if not any(str(v or "").strip() for v in record.values()):
                continue
            result.rows_read += 1
            self._count(result.rows_read)
            try:
                values: dict[str, Any] = {
                    "kind": _kind(record.get("kind")),
                    "title": to_text(str(record.get("title") or ""), single_line=True)[:MAX_TITLE]
                    or None,
                }
                item_key = self._sheet_item(record.get("item"))
                self._common(values, record, Channel.IMPORT)
                row = Row(line, "", values, item_key)
                self._author(row, record)
            except InvalidFields as exc:
                result.refuse(line, _reason(exc))
                continue
            # The row's identity: what was said, where and when — and how many times the same
            # words came before in this file (three identical sticky notes are three
            # contributions). Never the author's address: it must not outlive an erasure.
            said = _digest(
                item_key,
                values["body"],
                values["contributed_at"],
                values["channel"],
                values["commune_insee"],
            )
            occurrences[said] += 1
            row.source = f"sheet:{said}:{occurrences[said]}"
            yield row

    def _count(self, rows: int) -> None:
        if rows > self.limits.rows:
            raise ImportFileError(
                N_(
                    "the file has more than %(max)s rows: split it into several files",
                    max=self.limits.rows,
                )
            )

    def _common(self, values: dict[str, Any], record: dict[str, Any], channel: Channel) -> None:
        _common(values, record, channel)
        values["body"] = self._texts.setdefault(values["body"], values["body"])

    def _decidim(self, raw: bytes, result: Preview) -> Iterator[Row]:
        columns, reader = sheets.csv_records(raw, self.limits)
        header = set(columns)
        if not (
            {"body", "commentable_id", "commentable_type"} <= header
            or {"id", "title", "body"} <= header
        ):
            raise ImportFileError(N_("not a Decidim export of comments or proposals"))
        records = []
        for number, record in reader:
            records.append((number, record))
            self._count(len(records))
        if {"body", "commentable_id", "commentable_type"} <= header:
            yield from self._decidim_comments(records, result)
        else:
            yield from self._decidim_proposals(records, result)

    def _decidim_item(self, url: str, label: str, result: Preview) -> str:
        if self.forced_item is not None:
            return f"id:{self.forced_item.id}"
        for item in self.items:
            if item.source == url:
                return f"id:{item.id}"
        result.new_items.setdefault(url, label)
        return url

    def _decidim_comments(self, records, result: Preview) -> Iterator[Row]:
        # Parents before their answers: Decidim exports them by id, answers may come first.
        records.sort(key=lambda r: (_depth(r[1].get("depth")), r[0]))
        for line, record in records:
            result.rows_read += 1
            try:
                url = (record.get("root_commentable_url") or "").strip()
                if not url:
                    raise InvalidFields({"item": N_("no commentable in this row")})
                number = url.rstrip("/").rsplit("/", 1)[-1]
                item_key = self._decidim_item(url, f"Decidim — {number}", result)
                values: dict[str, Any] = {"kind": ContributionKind.COMMENT, "title": None}
                self._common(
                    values,
                    {"text": record.get("body"), "date": record.get("created_at")},
                    Channel.IMPORT,
                )
                alignment = int(record.get("alignment") or 0)
                values["alignment"] = alignment if alignment in (-1, 0, 1) else None
                row = Row(line, f"decidim:comment:{record['id']}", values, item_key)
                row.name = clean_name(record.get("author/name") or None)
                if record.get("commentable_type", "").endswith("Comment"):
                    row.parent = f"decidim:comment:{record['commentable_id']}"
            except (InvalidFields, ValueError, KeyError) as exc:
                reason = _reason(exc) if isinstance(exc, InvalidFields) else N_("unreadable row")
                result.refuse(line, reason)
                continue
            yield row

    def _decidim_proposals(self, records, result: Preview) -> Iterator[Row]:
        key = self._decidim_item("decidim:proposals", "Propositions (Decidim)", result)
        for line, record in records:
            result.rows_read += 1
            try:
                values: dict[str, Any] = {
                    "kind": ContributionKind.PROPOSAL,
                    "title": to_text(record.get("title"), single_line=True)[:MAX_TITLE] or None,
                }
                self._common(
                    values,
                    {"text": record.get("body"), "date": record.get("published_at")},
                    Channel.IMPORT,
                )
                endorsements = record.get("endorsements/total_count") or ""
                values["endorsements"] = _whole(endorsements)
                yield Row(line, f"decidim:proposal:{record['id']}", values, key)
            except (InvalidFields, KeyError) as exc:
                reason = _reason(exc) if isinstance(exc, InvalidFields) else N_("unreadable row")
                result.refuse(line, reason)

    # -- writing ----------------------------------------------------------------------

    def apply(
        self,
        preview: Preview,
        *,
        actor: User | None,
        as_of: datetime,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Write the preview's rows (commits after each batch); returns how many."""
        if self.demarche.stage not in RECORDING_STAGES:
            raise Conflict(
                N_(
                    "contributions are imported during the consultation and its "
                    "synthesis; the démarche is at stage “%(stage)s”",
                    stage=self.demarche.stage.label,
                )
            )
        item_ids = {f"id:{i.id}": i.id for i in self.items}
        if preview.new_items:
            lock_items(self.session, self.demarche)
        position = next_position(self.session, self.demarche) - 1
        for source, title in preview.new_items.items():
            position += 1
            item = Item(
                demarche_id=self.demarche.id,
                title=title[:MAX_TITLE],
                text=source,
                position=position,
                source=source,
                created_at=as_of,
            )
            self.session.add(item)
            self.session.flush()
            item_ids[source] = item.id
        authors = self._participants(preview.rows, as_of)
        done = 0
        # Parents before answers, level by level: each level's parents already have ids.
        for wave in _levels(preview.rows):
            for start in range(0, len(wave), BATCH):
                batch = wave[start : start + BATCH]
                parents = self._ids_of({r.parent for r in batch if r.parent})
                self.session.execute(
                    bulk_insert(Contribution),
                    [
                        {
                            "demarche_id": self.demarche.id,
                            "item_id": item_ids[row.item_key],
                            "parent_id": parents.get(row.parent) if row.parent else None,
                            "participant_id": authors.get((row.email, row.name)),
                            "kind": row.values["kind"],
                            "channel": row.values["channel"],
                            "title": row.values.get("title"),
                            "body": row.values["body"],
                            "commune_insee": row.values["commune_insee"],
                            "canton_code": row.values["canton_code"],
                            "alignment": row.values.get("alignment"),
                            "endorsements": row.values.get("endorsements"),
                            "status": ContributionStatus.PUBLISHED,
                            "moderation_reason": "",
                            "contributed_at": row.values["contributed_at"] or as_of,
                            "created_at": as_of,
                            "source": row.source,
                        }
                        for row in batch
                    ],
                )
                done += len(batch)
                self.session.commit()
                if on_batch:
                    on_batch(done)
        audit.record(
            self.session,
            "contributions.import",
            actor=actor,
            as_of=as_of,
            demarche=self.demarche,
            format=self.fmt,
            imported=done,
            duplicates=preview.duplicates,
            refused=len(preview.refused),
        )
        self.session.commit()
        return done

    def _ids_of(self, sources: set[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        listed = list(sources)
        for start in range(0, len(listed), 1000):
            ids.update(
                self.session.execute(
                    select(Contribution.source, Contribution.id).where(
                        Contribution.demarche_id == self.demarche.id,
                        Contribution.source.in_(listed[start : start + 1000]),
                    )
                ).all()
            )
        return ids

    def _participants(self, rows: Iterable[Row], as_of: datetime) -> dict[tuple, int]:
        """Participant ids by (email, name): one per address, existing ones reused. A name
        without an address (a Decidim pseudonym) is not kept: it could not receive the
        feedback, and would be personal data without a purpose."""
        emails = {r.email for r in rows if r.email}
        known: dict[str, int] = {}
        listed = list(emails)
        for start in range(0, len(listed), 1000):
            known.update(
                self.session.execute(
                    select(Participant.email, Participant.id).where(
                        Participant.email.in_(listed[start : start + 1000])
                    )
                ).all()
            )
        missing = [e for e in emails if e not in known]
        names = {r.email: r.name for r in rows if r.email}
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            self.session.execute(
                bulk_insert(Participant),
                [
                    {
                        "email": e,
                        "name": names.get(e),
                        "created_at": as_of,
                        "consent_feedback": True,
                        "consent_territory_news": False,
                    }
                    for e in chunk
                ],
            )
        if missing:
            known.update(
                self.session.execute(
                    select(Participant.email, Participant.id).where(Participant.email.in_(missing))
                ).all()
            )
        return {(r.email, r.name): known[r.email] for r in rows if r.email}


def bulk_insert(model: type) -> Any:
    """An ORM bulk INSERT that keeps NULL columns, so that SQLAlchemy sends each batch as one
    executemany instead of splitting it by which columns happen to be empty."""
    return insert(model).execution_options(render_nulls=True)


def _levels(rows: list[Row]) -> list[list[Row]]:
    """Rows grouped by their depth in the threads of the file (roots first)."""
    by_source = {r.source: r for r in rows}
    depth: dict[str, int] = {}

    def level(row: Row) -> int:
        if row.source not in depth:
            parent = by_source.get(row.parent) if row.parent else None
            depth[row.source] = 0 if parent is None else level(parent) + 1
        return depth[row.source]

    waves: dict[int, list[Row]] = {}
    for row in rows:
        waves.setdefault(level(row), []).append(row)
    return [waves[k] for k in sorted(waves)]


def read_file(path: str | Path) -> bytes:
    return Path(path).read_bytes()


_FORMAT_BY_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}


def guess_format(filename: str, raw: bytes | None = None) -> str:
    """csv, xlsx (its name, or a zip whatever its name), or decidim when a CSV has Decidim's
    columns."""
    fmt = _FORMAT_BY_SUFFIX.get(Path(filename).suffix.lower(), "csv")
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


# -- the import as a record: upload, preview, run -------------------------------------------


def refused_report(preview: Preview) -> list[dict[str, Any]]:
    return [
        {"line": line, "reason": reason.text, "params": reason.params}
        for line, reason in preview.refused
    ]


def start_import(
    session: Session,
    demarche: Demarche,
    *,
    actor: User | None,
    filename: str,
    raw: bytes,
    fmt: str | None,
    item_id: int | None,
    directory: Path,
    as_of: datetime,
    limits: FileLimits | None = None,
    preview_now: bool = True,
) -> ContributionImport:
    """Check the file and record its preview, keeping the file for the import; nothing is
    imported yet (flushes). A refused file is not kept.

    ``preview_now`` False (a large file): only what is quick and takes no memory is checked
    now — a workbook's zip, a text's encoding — and the import waits, "previewing", for a
    worker to read it (``preview_import``)."""
    from .access import acts_for_department

    if actor is not None and not (actor.is_mission or acts_for_department(actor, demarche)):
        raise PermissionDenied(N_("only the mission or the démarche's department imports"))
    fmt = fmt or guess_format(filename, raw)
    importer = Importer(session, demarche, fmt, item_id=item_id, limits=limits)
    if preview_now:
        preview = importer.preview(raw)
    else:
        if fmt == "xlsx":
            sheets.check_workbook(raw, importer.limits)
        else:
            sheets.decode(raw)
        preview = None
    digest = hashlib.sha256(raw).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    suffix = Path(filename).suffix.lower()
    path = directory / f"{uuid.uuid4().hex}{suffix if suffix in _FORMAT_BY_SUFFIX else ''}"
    path.write_bytes(raw)
    try:
        return _record(
            session, demarche, actor, filename, path, digest, fmt, item_id, preview, as_of
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _record(
    session: Session,
    demarche: Demarche,
    actor: User | None,
    filename: str,
    path: Path,
    digest: str,
    fmt: str,
    item_id: int | None,
    preview: Preview | None,
    as_of: datetime,
) -> ContributionImport:
    record = ContributionImport(
        demarche_id=demarche.id,
        format=fmt,
        filename=_printable(Path(filename.replace("\\", "/")).name)[:255] or "?",
        path=str(path),
        digest=digest,
        status=ImportStatus.PREVIEWING,
        refused=[],
        options={"item_id": item_id},
        created_by_id=actor.id if actor else None,
        created_at=as_of,
        updated_at=None,  # set by the worker that takes it
    )
    if preview is not None:
        _previewed(record, preview)
        record.updated_at = as_of
    session.add(record)
    session.flush()
    return record


def _previewed(record: ContributionImport, preview: Preview) -> None:
    record.status = ImportStatus.PREVIEWED
    record.rows_read, record.rows_to_import = preview.rows_read, preview.rows_to_import
    record.duplicates, record.refused = preview.duplicates, refused_report(preview)


def _fail(session: Session, record: ContributionImport, reason: Msg, at: datetime) -> None:
    """The import ends failed, its file deleted; ``reason`` is kept for the status page."""
    Path(record.path).unlink(missing_ok=True)
    record.status = ImportStatus.FAILED
    record.error = str(reason)[:2000]
    record.options = {**(record.options or {}), "error": _stored(reason)}
    record.finished_at = record.updated_at = at


def _stored(message: Msg) -> dict[str, Any]:
    """A message as JSON (its parameters may be messages: a stage's label)."""
    return {
        "text": message.text,
        "params": {
            key: _stored(value)
            if isinstance(value, Msg)
            else value
            if isinstance(value, str | int | float | bool | None)
            else str(value)
            for key, value in message.params.items()
        },
    }


def _message(stored: dict[str, Any]) -> Msg:
    return Msg(
        stored["text"],
        {
            key: _message(value) if isinstance(value, dict) else value
            for key, value in (stored.get("params") or {}).items()
        },
    )


def failure(record: ContributionImport) -> Msg | None:
    """Why the import failed, as a message to translate (None: not known that way)."""
    error = (record.options or {}).get("error")
    return _message(error) if error else None


PREVIEW_LOST = N_(
    "the preview did not finish (its worker stopped, perhaps for lack of memory): upload the "
    "file again, or split it"
)
TOO_BIG = N_(
    "the file is too large to be read within the memory allowed to a preview: split it into "
    "several files"
)


def preview_import(
    session: Session,
    import_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    limits: FileLimits | None = None,
) -> ContributionImport | None:
    """Read a kept file into its preview (a worker does it for large files): "previewing"
    becomes "previewed", or "failed" with the file-level reason and the file deleted. None
    if another worker took it. A worker that dies reading it (out of memory) leaves it to
    ``sweep_imports``, which fails it rather than handing it to the next worker."""
    start = now()
    taken = session.execute(
        update(ContributionImport)
        .where(
            ContributionImport.id == import_id,
            ContributionImport.status == ImportStatus.PREVIEWING,
            ContributionImport.updated_at.is_(None),
        )
        .values(updated_at=start)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if taken.rowcount != 1:
        return None
    record = session.get(ContributionImport, import_id, populate_existing=True)
    try:
        importer = Importer(
            session,
            record.demarche,
            record.format,
            item_id=record.options.get("item_id"),
            limits=limits,
        )
        preview = importer.preview(read_file(record.path))
    except Exception as exc:  # noqa: BLE001 - a preview ends, whatever went wrong
        if database_unavailable(exc):
            raise  # not the file's fault; the sweep ends it (PREVIEW_LOST)
        exc.__traceback__ = None  # what the preview's frames held goes with them
        session.rollback()
        record = session.get(ContributionImport, import_id, populate_existing=True)
        if isinstance(exc, DomainError):
            reason = exc.messages[0]
        elif isinstance(exc, MemoryError):
            reason = TOO_BIG
        else:
            log.error("preview of import %s failed: %s", import_id, type(exc).__name__)
            reason = N_("the file could not be read (%(error)s)", error=type(exc).__name__)
        _fail(session, record, reason, now())
    else:
        _previewed(record, preview)
        record.updated_at = now()
    session.commit()
    return record


#: A run that has not moved for this long belongs to a worker that died: it is taken again.
STALE_RUN = timedelta(minutes=10)
#: A queued import that no worker took (the broker lost the task) is handed out again.
STALE_QUEUE = timedelta(minutes=2)
#: Files previewed but never imported are deleted after this (they may hold personal data).
PREVIEW_KEPT = timedelta(days=1)


def _move(
    session: Session, import_id: int, allowed: Any, to: ImportStatus, as_of: datetime
) -> bool:
    """Compare-and-set the import's status (of two clicks or two workers, one wins)."""
    result = session.execute(
        update(ContributionImport)
        .where(ContributionImport.id == import_id, allowed)
        .values(status=to, updated_at=as_of)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def queue_import(session: Session, import_id: int, *, as_of: datetime) -> bool:
    """Previewed → queued, for a worker; False if it was already on its way."""
    return _move(
        session,
        import_id,
        ContributionImport.status == ImportStatus.PREVIEWED,
        ImportStatus.QUEUED,
        as_of,
    )


def _printable(name: str) -> str:
    """A file name as a person gave it, without control characters (NUL included)."""
    return "".join(c for c in name if c.isprintable())


def run_import(
    session: Session,
    import_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    limits: FileLimits | None = None,
) -> ContributionImport | None:
    """Import a previewed (or queued, or abandoned) file; None if another run has it.

    Commits batch by batch and records its progress; safe to run twice (what is already
    there is a duplicate). Whatever happens, the run ends done or failed — never stuck —
    and the file is deleted: it may hold personal data.
    """
    start = now()
    claimable = or_(
        ContributionImport.status.in_((ImportStatus.PREVIEWED, ImportStatus.QUEUED)),
        (ContributionImport.status == ImportStatus.RUNNING)
        & (ContributionImport.updated_at < start - STALE_RUN),
    )
    if not _move(session, import_id, claimable, ImportStatus.RUNNING, start):
        return None
    record = session.get(ContributionImport, import_id, populate_existing=True)
    try:
        importer = Importer(
            session,
            record.demarche,
            record.format,
            item_id=record.options.get("item_id"),
            limits=limits,
        )
        preview = importer.preview(read_file(record.path))
        record.rows_to_import, record.duplicates = preview.rows_to_import, preview.duplicates
        record.refused = refused_report(preview)
        record.rows_done = 0
        session.commit()

        def progress(done: int) -> None:
            record.rows_done, record.updated_at = done, now()
            session.commit()

        actor = session.get(User, record.created_by_id) if record.created_by_id else None
        record.imported = importer.apply(preview, actor=actor, as_of=start, on_batch=progress)
        record.status = ImportStatus.DONE
    except Exception as exc:  # noqa: BLE001 - a run must end, whatever went wrong
        if database_unavailable(exc):
            raise  # a restart, not the file's fault: the sweep resumes the run (and its file)
        log.exception("import %s failed", import_id)
        session.rollback()
        record = session.get(ContributionImport, import_id, populate_existing=True)
        record.status = ImportStatus.FAILED
        record.error = (
            str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        )[:2000]
        if isinstance(exc, DomainError) and exc.messages:  # shown translated
            record.options = {**record.options, "error": _stored(exc.messages[0])}
    record.finished_at = record.updated_at = now()
    Path(record.path).unlink(missing_ok=True)
    session.commit()
    return record


def sweep_imports(session: Session, *, as_of: datetime) -> list[int]:
    """Imports to hand to a worker again (a lost task, a dead worker), and previews nobody
    ran, whose files are deleted. Returns the ids to (re)run."""
    stale = session.scalars(
        select(ContributionImport.id).where(
            or_(
                (ContributionImport.status == ImportStatus.QUEUED)
                & (ContributionImport.updated_at < as_of - STALE_QUEUE),
                (ContributionImport.status == ImportStatus.RUNNING)
                & (ContributionImport.updated_at < as_of - STALE_RUN),
            )
        )
    ).all()
    for record in session.scalars(
        select(ContributionImport).where(
            ContributionImport.status == ImportStatus.PREVIEWED,
            ContributionImport.created_at < as_of - PREVIEW_KEPT,
        )
    ):
        Path(record.path).unlink(missing_ok=True)
        record.status = ImportStatus.FAILED
        record.error = "preview not imported within a day: file deleted"
        record.finished_at = record.updated_at = as_of
    # A preview taken by a worker that never finished it: the worker died reading the file
    # (out of memory?). Not handed out again — the next worker would die the same way.
    for record in session.scalars(
        select(ContributionImport).where(
            ContributionImport.status == ImportStatus.PREVIEWING,
            ContributionImport.updated_at < as_of - STALE_RUN,
        )
    ):
        _fail(session, record, PREVIEW_LOST, as_of)
    session.commit()
    return list(stale)


def lost_previews(session: Session, *, as_of: datetime) -> list[int]:
    """Large files waiting for a preview that no worker took (a lost task): to hand out."""
    return list(
        session.scalars(
            select(ContributionImport.id).where(
                ContributionImport.status == ImportStatus.PREVIEWING,
                ContributionImport.updated_at.is_(None),
                ContributionImport.created_at < as_of - STALE_QUEUE,
            )
        )
    )


def forget_files_of(session: Session, email: str, name: str | None = None) -> int:
    """An erasure: delete the import files not yet run that name the person (by ``email``),
    and take their address and name out of every import's file name and refused rows;
    returns how many files were deleted."""
    needle = email.lower().encode()
    names = {email.lower()} | ({name.lower()} if name and len(name.strip()) >= 4 else set())
    deleted = 0
    for record in session.scalars(select(ContributionImport)):
        path = Path(record.path)
        if (
            record.status in (ImportStatus.PREVIEWING, ImportStatus.PREVIEWED, ImportStatus.QUEUED)
            and path.exists()
            and needle in path.read_bytes().lower()
        ):
            path.unlink()
            record.status = ImportStatus.FAILED
            record.error = "file deleted: it named a person who erased their account"
            deleted += 1
        if any(n in record.filename.lower() for n in names):
            record.filename = f"import-{record.id}{Path(record.filename).suffix.lower()[:10]}"

        def scrub(value: Any) -> Any:
            return "…" if any(n in str(value).lower() for n in names) else value

        if any(n in str(record.refused).lower() for n in names):
            record.refused = [
                {**row, "params": {k: scrub(v) for k, v in (row.get("params") or {}).items()}}
                for row in record.refused
            ]
    return deleted
