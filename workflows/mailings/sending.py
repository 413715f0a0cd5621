"""Starting a mailing, delivering its chunks, the sweep and the counts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from .. import audit, charter
from ..clock import utcnow
from ..errors import InvalidFields
from ..models import Audience, Delivery, DeliveryStatus, Mailing, MailingKind, MailingStatus
from ..retry import FIRST_RETRY
from ..sql import execute_dml
from .audiences import recipients
from .delivery import DELIVERIES, ChunkReport, Opener, claim, release, send_chunk
from .letters import Composer
from .policy import ACTIVE, CHUNK, CHUNK_TIME, MIN_CHUNK, RECORD_BATCH, STALE, SURVEY_STAGES
from .survey import send_survey


def start(session: Session, mailing_id: int, *, as_of: datetime) -> int:
    """Write one delivery row per address (skipped ones with their reason) and set the
    mailing sending. Safe to run twice, or alongside a cancel: the mailing's row is taken
    (locked) first, so a cancel waits for the rows and then cancels them. Returns rows
    written."""
    first_time = execute_dml(
        session,
        update(Mailing)
        .where(
            Mailing.id == mailing_id,
            Mailing.status == MailingStatus.SCHEDULED,
            Mailing.scheduled_at <= as_of,
        )
        .values(status=MailingStatus.SENDING, started_at=as_of, updated_at=as_of)
        .execution_options(synchronize_session=False),
    ).rowcount
    again = (
        first_time
        or execute_dml(
            session,
            update(Mailing)
            .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING)
            .values(updated_at=as_of)
            .execution_options(synchronize_session=False),
        ).rowcount
    )
    if not again:  # not due yet, cancelled, or sent
        session.rollback()
        return 0
    mailing = session.get(Mailing, mailing_id, populate_existing=True)
    assert mailing is not None  # its row was just updated; mailings are never deleted
    existing = set(
        session.scalars(select(Delivery.address).where(Delivery.mailing_id == mailing.id))
    )
    rows = []
    for recipient in recipients(session, mailing):
        if recipient.address in existing:
            continue
        existing.add(recipient.address)
        rows.append(
            {
                "mailing_id": mailing.id,
                "address": recipient.address,
                "participant_id": recipient.participant_id,
                "user_id": recipient.user_id,
                "status": DeliveryStatus.SKIPPED if recipient.skip else DeliveryStatus.PENDING,
                "skip_reason": recipient.skip,
                "attempts": 0,
                "error": "",
                "subject": "",
                "next_attempt_at": as_of,
            }
        )
    for first in range(0, len(rows), 5000):
        session.execute(insert(DELIVERIES), rows[first : first + 5000])
    if first_time:
        audit.record(
            session,
            "mailing.start",
            actor=None,
            as_of=as_of,
            demarche=mailing.demarche,
            target=f"mailing:{mailing.id}",
            deliveries=len(rows),
        )
    session.commit()
    finish_if_done(session, mailing.id, as_of=as_of)
    return len(rows)


def finish_if_done(session: Session, mailing_id: int, *, as_of: datetime) -> bool:
    """Sending → sent once no row is left to send."""
    left = (
        select(Delivery.id)
        .where(Delivery.mailing_id == mailing_id, Delivery.status.in_(ACTIVE))
        .exists()
    )
    done = execute_dml(
        session,
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING, ~left)
        .values(status=MailingStatus.SENT, finished_at=as_of, updated_at=as_of)
        .execution_options(synchronize_session=False),
    ).rowcount
    if done:
        mailing = session.get(Mailing, mailing_id)
        assert mailing is not None  # its row was just updated; mailings are never deleted
        if mailing.kind == MailingKind.FEEDBACK and mailing.audience == Audience.CONTRIBUTORS:
            charter.event(session, mailing.demarche, "feedback_sent", at=as_of)
            if mailing.demarche.stage in SURVEY_STAGES:  # the survey follows the feedback
                send_survey(session, mailing.demarche, as_of=as_of)
        audit.record(
            session,
            "mailing.sent",
            actor=None,
            as_of=as_of,
            demarche=mailing.demarche,
            target=f"mailing:{mailing_id}",
            **counts(session, mailing_id),
        )
    session.commit()
    return bool(done)


def has_due_rows(session: Session, mailing_id: int, as_of: datetime) -> bool:
    return (
        session.scalar(
            select(Delivery.id)
            .where(
                Delivery.mailing_id == mailing_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= as_of,
            )
            .limit(1)
        )
        is not None
    )


def deliver_chunk(
    session: Session,
    mailing_id: int,
    opener: Opener,
    make_composer: Callable[[Mailing], Composer],
    *,
    size: int = CHUNK,
    throttle: Callable[[], None] | None = None,
    now: Callable[[], datetime] = utcnow,
    retry_after: timedelta = FIRST_RETRY,
    batch: int = RECORD_BATCH,
    parallel: int = 1,
) -> tuple[ChunkReport | None, bool]:
    """One worker's turn on a mailing: claim a chunk (``chunk_size``), send it for at most
    ``CHUNK_TIME`` from now, finish the mailing if it is done. Returns the chunk's report
    (None: nothing to claim) and whether rows are still due (the caller then hands the
    mailing on)."""
    until = now() + CHUNK_TIME
    token = claim(
        session, mailing_id, size=chunk_size(session, mailing_id, size, parallel), as_of=now()
    )
    report = None
    if token is not None:
        mailing = session.get(Mailing, mailing_id)
        assert mailing is not None  # one of its deliveries was claimed; never deleted
        try:
            composer = make_composer(mailing)
        except InvalidFields as exc:
            release(session, token, now(), str(exc)[:500], retry_after)
            raise
        report = send_chunk(
            session,
            token,
            opener,
            composer,
            now=now,
            throttle=throttle,
            retry_after=retry_after,
            batch=batch,
            until=until,
        )
    finish_if_done(session, mailing_id, as_of=now())
    more = (
        report is not None and not report.unreachable and has_due_rows(session, mailing_id, now())
    )
    return report, more


def chunk_size(session: Session, mailing_id: int, most: int, parallel: int) -> int:
    """How many rows a chunk claims: ``most``, or less for a mailing too small to give each of
    its ``parallel`` chunks that many (a mailing of 800 still goes over four connections),
    never under MIN_CHUNK."""
    if parallel <= 1 or most <= MIN_CHUNK:
        return most
    rows = session.scalar(select(func.count()).where(Delivery.mailing_id == mailing_id)) or 0
    return min(most, max(MIN_CHUNK, math.ceil(rows / parallel)))


def chunks_wanted(session: Session, mailing_id: int, parallel: int, as_of: datetime) -> int:
    """How many more chunk tasks a mailing with due rows should get (at most ``parallel``
    chunks of one mailing are in flight, so that its rate holds)."""
    if not has_due_rows(session, mailing_id, as_of):
        return 0
    busy = session.scalar(
        select(func.count(func.distinct(Delivery.chunk))).where(
            Delivery.mailing_id == mailing_id,
            Delivery.status.in_((DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)),
        )
    )
    return max(parallel - (busy or 0), 0)


@dataclass
class SweepReport:
    started: list[int] = field(default_factory=list)
    uncertain: int = 0
    released: int = 0
    to_send: list[int] = field(default_factory=list)


def sweep(session: Session, *, as_of: datetime) -> SweepReport:
    """Start the scheduled mailings that are due, settle what dead workers left (the rows in
    flight: uncertain; the rest of their chunk: back to send), finish the mailings that are
    done, and list those with rows due (a worker should take a chunk of each)."""
    report = SweepReport()
    for mailing_id in session.scalars(
        select(Mailing.id).where(
            Mailing.status == MailingStatus.SCHEDULED, Mailing.scheduled_at <= as_of
        )
    ).all():
        start(session, mailing_id, as_of=as_of)
        report.started.append(mailing_id)
    # Claimed and in-flight rows belong to mailings being sent, or cancelled meanwhile (a
    # message in flight is not cancelled): the index on (mailing, status) finds them, and
    # the sweep stays cheap every 15 seconds however many deliveries the years add.
    live = select(Mailing.id).where(
        Mailing.status.in_((MailingStatus.SENDING, MailingStatus.CANCELLED))
    )
    stale = and_(Delivery.mailing_id.in_(live), Delivery.claimed_at < as_of - STALE)
    report.uncertain = execute_dml(
        session,
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, stale)
        .values(
            status=DeliveryStatus.UNCERTAIN,
            chunk=None,
            error="in flight when its worker stopped: maybe sent, never sent again",
        )
        .execution_options(synchronize_session=False),
    ).rowcount
    report.released = execute_dml(
        session,
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.CLAIMED, stale)
        .values(status=DeliveryStatus.PENDING, chunk=None)
        .execution_options(synchronize_session=False),
    ).rowcount
    session.commit()
    for mailing_id in session.scalars(
        select(Mailing.id).where(Mailing.status == MailingStatus.SENDING)
    ).all():
        if not finish_if_done(session, mailing_id, as_of=as_of) and has_due_rows(
            session, mailing_id, as_of
        ):
            report.to_send.append(mailing_id)
    return report


def counts(session: Session, mailing_id: int) -> dict[str, int]:
    """The live counts of the API and the back office."""
    rows = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.mailing_id == mailing_id)
            .group_by(Delivery.status)
        ).all()
    )
    get = lambda *statuses: sum(rows.get(s, 0) for s in statuses)  # noqa: E731
    return {
        "to_send": get(*ACTIVE),
        "sent": get(DeliveryStatus.SENT),
        "refused": get(DeliveryStatus.REFUSED),
        "failed": get(DeliveryStatus.FAILED),
        "skipped": get(DeliveryStatus.SKIPPED),
        "uncertain": get(DeliveryStatus.UNCERTAIN),
        "cancelled": get(DeliveryStatus.CANCELLED),
    }


def skip_reasons(session: Session, mailing_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Delivery.skip_reason, func.count())
            .where(Delivery.mailing_id == mailing_id, Delivery.status == DeliveryStatus.SKIPPED)
            .group_by(Delivery.skip_reason)
        ).all()
    )
