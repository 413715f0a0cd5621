"""The versions of the label's rules, like the charter's: the shipped rules become version 1
the first time they are needed (an award, an edit); each edit by the mission is checked and
saved as a new version, current from then on (audited); no version ever changes. A démarche
judged once keeps the version it was judged by (``workflows.label.award``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, PermissionDenied
from ..i18n import N_
from ..models import LabelRules, User
from .rules import Rules, default_data, parse, shipped


def current_row(session: Session) -> LabelRules | None:
    return session.scalar(select(LabelRules).where(LabelRules.is_current.is_(True)))


def read(row: LabelRules) -> Rules:
    return parse(row.data, version=row.number)


def in_force(session: Session) -> Rules:
    """The rules in force: the current version, or the shipped rules (version 1 to be)."""
    row = current_row(session)
    return read(row) if row is not None else shipped()


def _next_number(session: Session) -> int:
    return (session.scalar(select(func.max(LabelRules.number))) or 0) + 1


def _add(session: Session, rules: Rules, actor: User | None, as_of: datetime) -> LabelRules:
    number = _next_number(session)
    row = LabelRules(
        number=number,
        note=rules.note,
        data=rules.to_json(),
        created_at=as_of,
        created_by_id=actor.id if actor else None,
        is_current=False,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # another save took the number: the caller rolls back
        raise Conflict(
            N_("someone saved the label's rules meanwhile: read them again, then save")
        ) from exc
    session.execute(
        update(LabelRules)
        .where(LabelRules.id != row.id)
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    row.is_current = True
    session.flush()
    return row


def ensure_current(session: Session, *, actor: User | None, as_of: datetime) -> LabelRules:
    """The current version; the shipped rules saved as version 1 when there is none yet."""
    row = current_row(session)
    if row is not None:
        return row
    row = _add(session, parse(default_data()), actor, as_of)
    audit.record(
        session,
        "label.install_default",
        actor=actor,
        as_of=as_of,
        target=f"label_rules:{row.number}",
    )
    return row


def save(session: Session, actor: User, data: Any, *, as_of: datetime) -> LabelRules:
    """The mission's edit of the rules (their JSON, ``note`` included): checked whole —
    InvalidFields by field, nothing saved — then saved as a new version, in force from now
    on. Démarches already judged keep their version."""
    if not actor.is_mission:
        raise PermissionDenied(N_("the label's rules are the mission's to edit"))
    rules = parse(data)
    ensure_current(session, actor=actor, as_of=as_of)
    row = _add(session, rules, actor, as_of)
    audit.record(
        session, "label.rules", actor=actor, as_of=as_of, target=f"label_rules:{row.number}"
    )
    session.flush()
    return row
