"""The record: deadlines kept and missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, contains_eager

from ..clock import local_date
from ..i18n import N_, Msg
from ..models import (
    CharterRule,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Demarche,
    Department,
    StageTransition,
)
from ..stages import PUBLIC_STAGES, Stage

# -- the record -------------------------------------------------------------------------------


def record_of(session: Session, d: Demarche) -> list[Deadline]:
    """The démarche's own deadlines (not its questions'), in their order."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.demarche_id == d.id, Deadline.question_id.is_(None))
            .order_by(Deadline.started_at, Deadline.id)
        )
    )


@dataclass(frozen=True)
class Submission:
    """One submission of a saisine to the mission: the first, or one after a return."""

    number: int
    at: datetime

    @property
    def label(self) -> Msg:
        if self.number == 1:
            return N_("first submission, on %(date)s", date=local_date(self.at))
        return N_(
            "submission no. %(number)s, on %(date)s", number=self.number, date=local_date(self.at)
        )


def submissions_of(session: Session, d: Demarche) -> dict[int, Submission]:
    """For each deadline that a submission started (acknowledgement, review: one set per
    submission, keyed ``…:r<move id>`` by ``event``), which submission it belongs to — only
    once the saisine was submitted more than once (returned, then submitted again)."""
    moves = session.scalars(
        select(StageTransition)
        .where(StageTransition.demarche_id == d.id, StageTransition.to_stage == Stage.SUBMITTED)
        .order_by(StageTransition.id)
    ).all()
    if len(moves) < 2:
        return {}
    rounds = {f":r{m.id}": Submission(n, m.at) for n, m in enumerate(moves, start=1)}
    found = {}
    for deadline in record_of(session, d):
        if deadline.rule.start_event != "submitted":
            continue
        suffix = deadline.key[deadline.key.rfind(":r") :] if ":r" in deadline.key else ""
        if suffix in rounds:
            found[deadline.id] = rounds[suffix]
    return found


#: Met before the end of its last day.
IN_TIME = and_(Deadline.met_at.is_not(None), Deadline.met_at < Deadline.due_at)


@dataclass
class Tally:
    """Deadlines counted by how they stand."""

    total: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    waived: int = 0
    pending: int = 0

    def add(self, status: DeadlineStatus, in_time: bool, count: int) -> None:
        self.total += count
        if status == DeadlineStatus.MET:
            if in_time:
                self.on_time += count
            else:
                self.late += count
        elif status == DeadlineStatus.MISSED:
            self.missed += count
        elif status == DeadlineStatus.WAIVED:
            self.waived += count
        else:
            self.pending += count

    @property
    def share(self) -> float | None:
        """The share of the settled deadlines met on time (waived ones aside)."""
        settled = self.on_time + self.late + self.missed
        return self.on_time / settled if settled else None


@dataclass
class QuestionsRecord(Tally):
    """How a démarche's questions were answered, for its record."""

    due: date | None = None  # the nearest last day among those still waiting

    @property
    def asked(self) -> int:
        return self.total


def questions_record(session: Session, d: Demarche) -> QuestionsRecord:
    """One query: the answer deadlines of the démarche's questions, counted by outcome."""
    record = QuestionsRecord()
    for status, in_time, count, due in session.execute(
        select(Deadline.status, IN_TIME, func.count(), func.min(Deadline.due_date))
        .where(Deadline.demarche_id == d.id, Deadline.question_id.is_not(None))
        .group_by(Deadline.status, IN_TIME)
    ):
        record.add(status, in_time, count)
        if status == DeadlineStatus.PENDING:
            record.due = due
    return record


@dataclass
class KeptLine(Tally):
    label: str = ""
    department: str = ""  # the démarche's department, or "" when the mission is responsible


def kept(session: Session, *, since: date, until: date) -> list[KeptLine]:
    """Per rule and responsible — the démarche's department, or the mission — the deadlines
    of the public démarches whose last day is in [since, until], and how they were kept."""
    who = case(
        (CharterRule.responsible == "department", func.coalesce(Department.name, "")),
        else_="",
    )
    rows = session.execute(
        select(
            CharterRule.code,
            func.min(CharterRule.label),
            who,
            Deadline.status,
            IN_TIME,
            func.count(),
        )
        .join(CharterRule, CharterRule.id == Deadline.rule_id)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .outerjoin(Department, Department.id == Demarche.department_id)
        .where(
            Deadline.due_date >= since,
            Deadline.due_date <= until,
            Demarche.stage.in_(PUBLIC_STAGES),
        )
        .group_by(CharterRule.code, who, Deadline.status, IN_TIME)
    ).all()
    lines: dict[tuple[str, str], KeptLine] = {}
    for code, label, department, status, in_time, count in rows:
        line = lines.setdefault((code, department), KeptLine(label=label, department=department))
        line.add(status, in_time, count)
    return sorted(lines.values(), key=lambda line: (line.label, line.department))


def overdue_or_due(
    session: Session, *, as_of: datetime, within: timedelta, visible: Any = None, limit: int = 50
) -> dict[str, list[Deadline]]:
    """For the dashboard: pending deadlines ending within ``within``, and the missed ones,
    of the démarches ``visible`` (a where clause on Demarche) selects."""
    base = (
        select(Deadline)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .options(contains_eager(Deadline.demarche))
    )
    if visible is not None:
        base = base.where(visible)
    soon = session.scalars(
        base.where(Deadline.status == DeadlineStatus.PENDING, Deadline.due_at <= as_of + within)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    ).all()
    missed = session.scalars(
        base.where(Deadline.status == DeadlineStatus.MISSED)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    ).all()
    return {"soon": list(soon), "missed": list(missed)}


def unanswered_questions(
    session: Session, *, visible: Any = None, limit: int = 50
) -> list[Contribution]:
    """Published questions (not replies) without an answer, oldest first."""
    query = (
        select(Contribution)
        .join(Demarche, Demarche.id == Contribution.demarche_id)
        .options(contains_eager(Contribution.demarche))
        .where(
            Contribution.kind == ContributionKind.QUESTION,
            Contribution.status == ContributionStatus.PUBLISHED,
            Contribution.parent_id.is_(None),
            Contribution.answered_at.is_(None),
        )
        .order_by(Contribution.contributed_at, Contribution.id)
        .limit(limit)
    )
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))
