"""Event reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..charter import rule_for
from ..clock import PARIS
from ..models import Audience, CharterRule, Demarche, Event, Mailing, MailingKind
from .editing import create_mailing, schedule
from .templates import default_text

# -- event reminders ---------------------------------------------------------------------------

#: Registrants are reminded this long before their event (DESIGN §3), unless the charter
#: version of the démarche says otherwise (its rule ``remind_registrants``).
REMINDER_BEFORE = timedelta(days=2)


def reminder_before(demarche: Demarche) -> timedelta:
    rule = rule_for(demarche, "remind_registrants")
    if rule is None:
        return REMINDER_BEFORE
    return timedelta(days=rule.duration * (30 if rule.unit == "months" else 1))


def _longest_reminder(session: Session) -> timedelta:
    longest = session.scalar(
        select(func.max(CharterRule.duration)).where(
            CharterRule.code == "remind_registrants", CharterRule.unit == "days"
        )
    )
    return max(REMINDER_BEFORE, timedelta(days=longest or 0))


def reminder_key(event: Event) -> str:
    """One reminder per event and date: a moved event gets a new one, the old one is void."""
    return f"reminder:event:{event.id}:{event.starts_at.astimezone(PARIS).isoformat()}"


def schedule_reminders(session: Session, *, as_of: datetime) -> list[int]:
    """Make and schedule the reminder of every event starting within the charter's delay
    (two days by default), once per event and date (the unique key decides between two
    sweeps running together)."""
    made = []
    subject, body = default_text(MailingKind.REMINDER)
    for event in session.scalars(
        select(Event)
        .where(Event.starts_at > as_of, Event.starts_at <= as_of + _longest_reminder(session))
        .order_by(Event.starts_at)
    ):
        if event.starts_at > as_of + reminder_before(event.demarche):
            continue
        key = reminder_key(event)
        if session.scalar(select(Mailing.id).where(Mailing.key == key)) is not None:
            continue
        try:
            with session.begin_nested():
                mailing = create_mailing(
                    session,
                    None,
                    {
                        "kind": MailingKind.REMINDER.value,
                        "audience": Audience.REGISTRANTS.value,
                        "demarche_id": event.demarche_id,
                        "event_id": event.id,
                        "subject": subject,
                        "body": body,
                    },
                    as_of=as_of,
                )
                mailing.key = key
                session.flush()
        except IntegrityError:
            continue  # another sweep made it meanwhile
        schedule(session, None, mailing, at=None, as_of=as_of)
        made.append(mailing.id)
    session.commit()
    return made
