"""The yearly report's documents — its PDF and its spreadsheet — made by a worker and kept,
one row per year (``ReportDocument``), with the figures they show.

A year's documents are known by the digest of their figures (the date of the data left out).
The current year is live: its figures move with the record, so the periodic sweep (and a
visitor asking for a document) asks the workers to make them again when the digest changed —
*stale* documents. A past year's documents are kept as made: the sweep makes them once after
the year is over, then leaves them; they are made again only when asked
(``flask --app wsgi evaluation report YEAR``). The worker's task, run as often as anyone
likes, makes them only when they are missing or stale (or asked to), one worker at a time
(``claim``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..after_commit import RENDER_REPORT, after_commit
from ..clock import local_date
from ..models import ReportDocument
from ..sql import execute_dml
from .yearly import YearlyReport

#: A claim this old and not made belongs to a worker that died: taken again.
STALE_CLAIM = timedelta(minutes=15)
#: Raised when the documents' layout changes: every year's documents are made again.
LAYOUT = 1


def digest_of(report: YearlyReport) -> str:
    """The digest of what the report's documents show (the date of the data left out)."""
    content = json.dumps([LAYOUT, report.content()], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def request_render(session: Session, year: int) -> None:
    """After the commit, ask the workers for the documents of ``year``."""
    after_commit(session, RENDER_REPORT, year)


def kept(session: Session, year: int) -> ReportDocument | None:
    """The documents of ``year`` as last made (None: never made; ``pdf`` and ``xlsx`` are
    loaded when read)."""
    return session.scalar(
        select(ReportDocument).where(
            ReportDocument.year == year, ReportDocument.made_at.is_not(None)
        )
    )


def kept_report(session: Session, year: int) -> YearlyReport | None:
    """The figures a past year's documents were made from (None: none made)."""
    row = kept(session, year)
    return YearlyReport.from_json(row.data) if row is not None and row.data else None


def _being_made(row: ReportDocument) -> bool:
    return row.made_at is None or row.started_at > row.made_at


def wanted(session: Session, report: YearlyReport, *, as_of: datetime) -> bool:
    """Whether the documents of ``report``'s year should be made: none made, or the year is
    live (current, or over but not made since) and its figures changed."""
    row = kept(session, report.year)
    if row is None:
        return True
    over = report.year < local_date(as_of).year
    if over and row.data_as_of is not None and local_date(row.data_as_of).year > report.year:
        return False  # a past year's documents, made after its end: kept
    return row.digest != digest_of(report)


def claim(
    session: Session, year: int, digest: str, *, as_of: datetime, force: bool = False
) -> ReportDocument | None:
    """The row of ``year`` to make, taken by the caller (who commits, makes the documents,
    then ``keep``s them) — or None: they are made with this digest already (unless
    ``force``), or another worker is making them (claimed less than ``STALE_CLAIM`` ago)."""
    row = session.scalar(select(ReportDocument).where(ReportDocument.year == year))
    if row is None:
        row = ReportDocument(year=year, digest="", started_at=as_of)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another worker claimed it meanwhile
            return None
        return row
    if _being_made(row):
        if row.started_at > as_of - STALE_CLAIM:
            return None
    elif row.digest == digest and not force:
        return None
    # Taken by one worker only (compare and set).
    taken = execute_dml(
        session,
        update(ReportDocument)
        .where(ReportDocument.id == row.id, ReportDocument.started_at == row.started_at)
        .values(started_at=as_of)
        .execution_options(synchronize_session=False),
    )
    if taken.rowcount != 1:
        return None
    session.refresh(row)
    return row


def keep(
    session: Session,
    row: ReportDocument,
    report: YearlyReport,
    *,
    pdf: bytes,
    xlsx: bytes,
    pages: int,
    as_of: datetime,
) -> None:
    """Store the documents made from ``report`` (and the figures they show)."""
    row.digest, row.data, row.data_as_of = digest_of(report), report.to_json(), report.as_of
    row.pdf, row.xlsx, row.pages = pdf, xlsx, pages
    row.made_at = max(as_of, row.started_at)
    session.flush()
