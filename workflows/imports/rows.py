"""Checking values and previewing rows; inserting them in bulk."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import audit, sheets
from ..addresses import normalize_email
from ..authors import source_author
from ..clock import PARIS
from ..contributions import MAX_BODY, MAX_TITLE, RECORDING_STAGES, commune_fields, parse_kind
from ..errors import Conflict, InvalidFields
from ..i18n import N_, Msg
from ..items import lock_items, next_position
from ..models import (
    Channel,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Demarche,
    Item,
    Participant,
    User,
)
from ..participants import clean_name
from ..sheets import FileLimits, ImportFileError
from ..text import to_text
from .reading import BATCH, CHANNELS, FORMATS, KINDS, Preview, Row, slug, spreadsheet_records

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
    channel = CHANNELS.get(slug(str(value)))
    if channel is None:
        raise InvalidFields({"channel": N_("unknown channel “%(value)s”", value=value)})
    return channel


def _kind(value: Any) -> ContributionKind:
    if value in (None, ""):
        return ContributionKind.COMMENT
    return KINDS.get(slug(str(value))) or parse_kind(str(value).strip().lower())


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


_WHOLE = re.compile(r"[0-9]{1,9}")


def _whole(value: Any) -> int | None:
    """A whole number written in ASCII digits, else None — not ``str.isdigit()``, which
    admits "²" or "١" that ``int()`` refuses."""
    text = str(value if value is not None else "").strip()
    return int(text) if _WHOLE.fullmatch(text) else None


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
        self._file = ""  # the digest of the file previewed (set by ``preview``)
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
        by_title = {slug(i.title): i for i in self.items}
        if slug(text) in by_title:
            return f"id:{by_title[slug(text)].id}"
        if (position := _whole(text)) is not None:
            by_position = [i for i in self.items if i.position == position]
            if len(by_position) == 1:
                return f"id:{by_position[0].id}"
        raise InvalidFields(
            {"item": N_("unknown item “%(value)s”: give its title or its position", value=text)}
        )

    def preview(self, raw: bytes) -> Preview:
        result = Preview()
        # Authors named without an address are told apart within this file only.
        self._file = hashlib.sha256(raw).hexdigest()
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
        if row.email is None:
            row.author = source_author(None, row.name, self._file)

    def _sheet(self, raw: bytes, result: Preview) -> Iterator[Row]:
        occurrences: Counter[str] = Counter()
        records = spreadsheet_records(
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
                row.author = source_author(record.get("author/id"), row.name, self._file)
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
                row = Row(line, f"decidim:proposal:{record['id']}", values, key)
                name = clean_name(record.get("author/name") or None)
                row.author = source_author(record.get("author/id"), name, self._file)
                yield row
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
                            "author_key": None if row.email else row.author,
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
            found = self.session.execute(
                select(Contribution.source, Contribution.id).where(
                    Contribution.demarche_id == self.demarche.id,
                    Contribution.source.in_(listed[start : start + 1000]),
                )
            )
            # (a nullable column, but only the sources asked for come back)
            ids.update((source, id_) for source, id_ in found if source is not None)
        return ids

    def _participants(self, rows: Iterable[Row], as_of: datetime) -> dict[tuple, int]:
        """Participant ids by (email, name): one per address, existing ones reused. A name
        without an address (a Decidim pseudonym) is not kept: it could not receive the
        feedback, and would be personal data without a purpose."""
        emails = {r.email for r in rows if r.email}
        known: dict[str, int] = {}
        listed = list(emails)
        for start in range(0, len(listed), 1000):
            known.update(self._participant_ids(listed[start : start + 1000]))
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
            known.update(self._participant_ids(missing))
        return {(r.email, r.name): known[r.email] for r in rows if r.email}

    def _participant_ids(self, emails: list[str]) -> dict[str, int]:
        found = self.session.execute(
            select(Participant.email, Participant.id).where(Participant.email.in_(emails))
        )
        # (a nullable column, but only the addresses asked for come back)
        return {email: id_ for email, id_ in found if email is not None}


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
