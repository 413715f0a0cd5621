"""The sweep: reminders and missed deadlines, each once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from ..after_commit import DELIVER_OUTBOX, after_commit_each
from ..clock import PARIS
from ..models import (
    CharterRule,
    Deadline,
    DeadlineNotice,
    DeadlineStatus,
    Demarche,
    OutboxMessage,
    Role,
    User,
)
from ..roles import RoleName
from ..sql import insert_rows_ignoring_duplicates
from .versions import MAX_REMINDER_DAYS

# -- the sweep ----------------------------------------------------------------------------------

REMINDER = "deadline_reminder"
MISSED = "deadline_missed"


@dataclass
class ScanReport:
    reminded: int = 0  # reminders sent (one per deadline and offset)
    missed: int = 0  # deadlines newly missed
    messages: int = 0  # outbox rows written
    lines: list[str] = field(default_factory=list)


def reminder_moment(due_date: date, offset: int) -> datetime:
    """J-``offset``: 00:00 Paris, ``offset`` days before the deadline's last day (J-1 is the
    day before it, J-0 its own morning)."""
    return datetime.combine(due_date - timedelta(days=offset), time.min, tzinfo=PARIS)


def scan(session: Session, *, as_of: datetime) -> ScanReport:
    """Send the reminders that came due, mark the missed deadlines and alert about them —
    each notice once (a unique row per deadline, kind and offset decides between sweeps run
    together). The number of queries does not depend on the number of démarches."""
    report = ScanReport()
    # 1. Reminders: pending deadlines whose reminders may have come, with what is needed —
    # only those ending within the longest reminder offset of any rule (a handful of rows).
    longest = max(
        (max(r, default=0) for r in session.scalars(select(CharterRule.reminders))),
        default=0,
    )
    rows = session.execute(
        select(
            Deadline.id,
            Deadline.due_date,
            Deadline.due_at,
            Deadline.demarche_id,
            Deadline.question_id,
            CharterRule.reminders,
            CharterRule.responsible,
            Demarche.department_id,
        )
        .join(CharterRule, CharterRule.id == Deadline.rule_id)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .where(
            Deadline.status == DeadlineStatus.PENDING,
            Deadline.due_at > as_of,
            Deadline.due_at <= as_of + timedelta(days=min(longest, MAX_REMINDER_DAYS) + 1),
        )
        .order_by(Deadline.id)
    ).all()
    due: list[tuple[Any, int]] = []
    for row in rows:
        passed = [o for o in row.reminders if reminder_moment(row.due_date, o) <= as_of]
        if passed:
            # Only the latest reminder goes (a sweep that was down skips the stale ones).
            due.append((row, min(passed)))
    notices = _claim_notices(session, [(row.id, "remind", offset) for row, offset in due], as_of)
    reminded = [(row, offset) for row, offset in due if (row.id, "remind", offset) in notices]
    # The earlier offsets of a deadline reminded now are settled as well (never sent late).
    _claim_notices(
        session,
        [(row.id, "remind", o) for row, offset in reminded for o in row.reminders if o > offset],
        as_of,
    )
    report.reminded = len(reminded)

    # 2. Missed: pending deadlines whose last day is over.
    missed_ids = list(
        session.scalars(
            update(Deadline)
            .where(
                # Rows taken in id order, those another sweep holds skipped (PostgreSQL; the
                # lock clause is left out on SQLite, which serialises writers): no deadlock.
                Deadline.id.in_(
                    select(Deadline.id)
                    .where(Deadline.status == DeadlineStatus.PENDING, Deadline.due_at <= as_of)
                    .order_by(Deadline.id)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                ),
                Deadline.status == DeadlineStatus.PENDING,
            )
            .values(status=DeadlineStatus.MISSED, missed_at=Deadline.due_at)
            .returning(Deadline.id)
            .execution_options(synchronize_session=False)
        )
    )
    alerts: Sequence[Row] = []
    if missed_ids:
        claimed = _claim_notices(session, [(i, "missed", 0) for i in missed_ids], as_of)
        alerts = session.execute(
            select(
                Deadline.id,
                Deadline.demarche_id,
                Deadline.question_id,
                CharterRule.alert,
                Demarche.department_id,
                Demarche.elected_official_id,
            )
            .join(CharterRule, CharterRule.id == Deadline.rule_id)
            .join(Demarche, Demarche.id == Deadline.demarche_id)
            .where(Deadline.id.in_([i for i, _, _ in claimed]))
        ).all()
    report.missed = len(missed_ids)

    # 3. Who gets what: a fixed number of queries for every recipient at once.
    departments = {row.department_id for row, _ in reminded if row.responsible == "department"}
    departments |= {a.department_id for a in alerts if "department" in a.alert}
    agents = _agents_by_department(session, departments)
    roles = _staff(session)
    messages = []
    for row, offset in reminded:
        # A department without an active agent: the mission is reminded in its place.
        users = (
            agents.get(row.department_id) if row.responsible == "department" else None
        ) or roles[RoleName.MISSION]
        messages += [
            _message(f"deadline:{row.id}:remind:{offset}:{uid}", REMINDER, uid, row, as_of, offset)
            for uid in users
        ]
    for alert in alerts:
        alerted: set[int] = set()
        for who in alert.alert:
            if who == "elected" and alert.elected_official_id:
                alerted.add(alert.elected_official_id)
            elif who == "department":
                alerted.update(agents.get(alert.department_id, []))
            elif who in ("mission", "admin"):
                alerted.update(roles[RoleName.MISSION if who == "mission" else RoleName.ADMIN])
        messages += [
            _message(f"deadline:{alert.id}:missed:{uid}", MISSED, uid, alert, as_of, 0)
            for uid in sorted(alerted)
        ]
    if messages:
        table = OutboxMessage.__table__
        written = [
            row.id
            for row in insert_rows_ignoring_duplicates(
                session, table, ["key"], messages, [table.c.id]
            )
        ]
        after_commit_each(session, DELIVER_OUTBOX, written)
        report.messages = len(written)
    session.commit()
    report.lines = [
        f"{report.reminded} reminders, {report.missed} deadlines missed, "
        f"{report.messages} emails to send"
    ]
    return report


def _claim_notices(
    session: Session, wanted: list[tuple[int, str, int]], as_of: datetime
) -> set[tuple[int, str, int]]:
    """Insert the notices; returns those this call inserted (not another sweep's)."""
    if not wanted:
        return set()
    table = DeadlineNotice.__table__
    inserted = insert_rows_ignoring_duplicates(
        session,
        table,
        ["deadline_id", "kind", "offset"],
        [{"deadline_id": i, "kind": k, "offset": o, "sent_at": as_of} for i, k, o in wanted],
        [table.c.deadline_id, table.c.kind, table.c.offset],
    )
    return {tuple(row) for row in inserted}


def _agents_by_department(session: Session, departments: set[int | None]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    departments.discard(None)
    if not departments:
        return found
    for user_id, department_id in session.execute(
        select(User.id, User.department_id)
        .join(User.roles)
        .where(
            User.department_id.in_(departments),
            User.active.is_(True),
            Role.name == RoleName.DEPARTMENT,
        )
        .order_by(User.id)
    ):
        assert department_id is not None  # only the departments asked for
        found.setdefault(department_id, []).append(user_id)
    return found


def _staff(session: Session) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {RoleName.MISSION: [], RoleName.ADMIN: []}
    for user_id, role in session.execute(
        select(User.id, Role.name)
        .join(User.roles)
        .where(Role.name.in_(list(found)), User.active.is_(True))
        .order_by(User.id)
    ):
        found[role].append(user_id)
    return found


def _message(key: str, template: str, user_id: int, row: Any, as_of: datetime, offset: int) -> dict:
    return {
        "key": key,
        "template": template,
        "recipient_id": user_id,
        "participant_id": None,
        "demarche_id": row.demarche_id,
        "context": {"deadline_id": row.id, "offset": offset},
        "status": "pending",
        "attempts": 0,
        "error": "",
        "subject": "",
        "created_at": as_of,
        "next_attempt_at": as_of,
    }
