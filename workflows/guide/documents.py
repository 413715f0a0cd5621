"""The guide's PDF editions, made by a worker and kept (``GuideDocument``).

An edition is known by the digest of what it was made from. Whatever changes what the guide
shows — a method edited, retired, deleted or loaded, a charter version published — asks the
workers for an edition after its commit (``request_render``); the worker's task, run as often
as anyone likes, makes one only when no edition has the current digest (``claim``), and the
periodic sweep runs the same task, so a lost request or a shipped text changed by a release
is caught up. ``/guide.pdf`` serves the latest edition made.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..after_commit import RENDER_GUIDE, after_commit
from ..models import GuideDocument
from ..sql import execute_dml

#: An edition claimed this long ago and not made belongs to a worker that died: taken again.
STALE = timedelta(minutes=15)
#: How many editions are kept (the older ones are deleted when a new one is made).
KEEP = 5


def request_render(session: Session) -> None:
    """After the commit of a change the guide shows, ask the workers for a new edition."""
    after_commit(session, RENDER_GUIDE)


def latest(session: Session) -> GuideDocument | None:
    """The last edition made (its PDF is loaded when read: ``pdf`` is deferred)."""
    return session.scalar(
        select(GuideDocument)
        .where(GuideDocument.made_at.is_not(None))
        .order_by(GuideDocument.made_at.desc(), GuideDocument.id.desc())
        .limit(1)
    )


def edition(session: Session, digest: str) -> GuideDocument | None:
    return session.scalar(select(GuideDocument).where(GuideDocument.digest == digest))


def claim(
    session: Session,
    digest: str,
    *,
    as_of: datetime,
    charter_number: int | None,
    methods: int,
) -> GuideDocument | None:
    """The edition ``digest`` to make, taken by the caller (who commits, makes the PDF, then
    ``keep``s it) — or None: it is made already, or another worker is making it (claimed less
    than ``STALE`` ago)."""
    found = edition(session, digest)
    if found is None:
        document = GuideDocument(
            digest=digest, charter_number=charter_number, methods=methods, started_at=as_of
        )
        try:
            with session.begin_nested():
                session.add(document)
        except IntegrityError:  # another worker claimed it meanwhile
            return None
        return document
    if found.made_at is not None or found.started_at > as_of - STALE:
        return None
    # A claim left by a dead worker: taken over, by one worker only (compare and set).
    taken = execute_dml(
        session,
        update(GuideDocument)
        .where(
            GuideDocument.id == found.id,
            GuideDocument.started_at == found.started_at,
            GuideDocument.made_at.is_(None),
        )
        .values(started_at=as_of)
        .execution_options(synchronize_session=False),
    )
    if taken.rowcount != 1:
        return None
    session.refresh(found)
    return found


def keep(
    session: Session, document: GuideDocument, pdf: bytes, *, pages: int, as_of: datetime
) -> None:
    """Store the edition's PDF; editions older than the last ``KEEP`` go."""
    document.pdf, document.pages, document.made_at = pdf, pages, as_of
    session.flush()
    made = session.scalars(
        select(GuideDocument.id)
        .where(GuideDocument.made_at.is_not(None))
        .order_by(GuideDocument.made_at.desc(), GuideDocument.id.desc())
        .offset(KEEP)
    ).all()
    for old in made:
        session.delete(session.get(GuideDocument, old))
    session.flush()
