"""The append-only audit log. Entries name people by id only, never copy personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .i18n import N_
from .models import AuditEntry, Demarche, User


def record(
    session: Session,
    action: str,
    *,
    actor: User | None,
    as_of: datetime,
    demarche: Demarche | None = None,
    target: str = "",
    **data: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=as_of,
        actor_id=actor.id if actor else None,
        action=action,
        demarche_id=demarche.id if demarche else None,
        target=target,
        data=data,
    )
    session.add(entry)
    return entry


# How a démarche's timeline tells each audited action (fields, counts and choices from its data).
ACTION_LABELS = {
    "demarche.create": N_("created the draft"),
    "item.create": N_("added an item to comment"),
    "item.update": N_("changed an item"),
    "item.delete": N_("deleted an item"),
    "event.create": N_("organised an event"),
    "event.update": N_("changed an event"),
    "event.attendance": N_("recorded an event's attendance and minutes"),
    "contribution.hide": N_("hid a contribution"),
    "contribution.reject": N_("did not publish a held contribution"),
    "contribution.restore": N_("restored a contribution"),
    "contribution.publish": N_("published a held contribution"),
    "contribution.report": N_("reported a contribution"),
    "contributions.export": N_("exported the contributions"),
    "item.decide": N_("wrote the department's decision on an item"),
    "mailing.create": N_("wrote a mailing"),
    "mailing.update": N_("changed a mailing"),
    "mailing.test": N_("sent themselves a test of a mailing"),
    "mailing.schedule": N_("scheduled a mailing"),
    "mailing.start": N_("started sending a mailing"),
    "mailing.sent": N_("finished sending a mailing"),
    "mailing.cancel": N_("cancelled a mailing"),
    "synthesis.rebuild": N_("asked for a new version of the synthesis"),
}
