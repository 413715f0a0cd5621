"""The feedback mailing of a démarche."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Audience, Demarche, Mailing, MailingKind, MailingStatus
from .editing import create_mailing, schedule
from .sending import counts
from .templates import default_feedback

# -- the feedback of a démarche ----------------------------------------------------------------


def _feedback_mailing(session: Session, demarche: Demarche) -> Mailing | None:
    return session.scalar(
        select(Mailing)
        .where(
            Mailing.demarche_id == demarche.id,
            Mailing.kind == MailingKind.FEEDBACK,
            Mailing.audience == Audience.CONTRIBUTORS,
            Mailing.status != MailingStatus.CANCELLED,
        )
        .order_by(Mailing.id.desc())
        .limit(1)
    )


def send_feedback(session: Session, demarche: Demarche, *, as_of: datetime) -> Mailing:
    """On entering the feedback stage: send the feedback mailing to the contributors — the
    draft the mission prepared, else one made from the default template. Idempotent."""
    mailing = _feedback_mailing(session, demarche)
    if mailing is not None and mailing.status != MailingStatus.DRAFT:
        return mailing
    if mailing is None:
        subject, body = default_feedback()
        mailing = create_mailing(
            session,
            None,
            {
                "kind": MailingKind.FEEDBACK.value,
                "audience": Audience.CONTRIBUTORS.value,
                "demarche_id": demarche.id,
                "subject": subject,
                "body": body,
            },
            as_of=as_of,
        )
    return schedule(session, None, mailing, at=None, as_of=as_of)


def feedback_progress(session: Session, demarche: Demarche) -> int | None:
    """None when no feedback mailing went out; else how many of its messages are left."""
    mailing = _feedback_mailing(session, demarche)
    if mailing is None or mailing.status == MailingStatus.DRAFT:
        return None
    if mailing.status == MailingStatus.SENT:
        return 0
    left = counts(session, mailing.id)["to_send"]
    return max(left, 1)
