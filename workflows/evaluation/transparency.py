"""Transparency: were the citizens' questions answered, and within the charter's deadline?

Questions: the published ones that open a thread (not replies). On time: the answer deadlines
of the démarche's questions met before their end, among those due — met, or past their last
day — a waived one (a question hidden by the moderation) aside. Two queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..charter.record import IN_TIME
from ..i18n import N_
from ..models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Demarche,
)
from . import display
from .indicators import Dimension, Indicator, measured, not_computed


def transparency(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    return Dimension("transparency", (_answered(session, d), _on_time(session, d, as_of)))


def _answered(session: Session, d: Demarche) -> Indicator:
    code = "transparency_questions_answered"
    asked, answered = session.execute(
        select(func.count(Contribution.id), func.count(Contribution.answered_at)).where(
            Contribution.demarche_id == d.id,
            Contribution.kind == ContributionKind.QUESTION,
            Contribution.status == ContributionStatus.PUBLISHED,
            Contribution.parent_id.is_(None),
        )
    ).one()
    counted = {"questions": asked, "answered": answered}
    if not asked:
        return not_computed(code, N_("no question asked"), counted)
    return measured(code, answered / asked, display.share(answered / asked), counted)


def _on_time(session: Session, d: Demarche, as_of: datetime) -> Indicator:
    code = "transparency_questions_answered_on_time"
    due = or_(Deadline.status == DeadlineStatus.MET, Deadline.due_at <= as_of)
    rows = session.execute(
        select(Deadline.status, IN_TIME, func.count())
        .where(
            Deadline.demarche_id == d.id,
            Deadline.question_id.is_not(None),
            Deadline.status != DeadlineStatus.WAIVED,
            due,
        )
        .group_by(Deadline.status, IN_TIME)
    ).all()
    total = sum(count for _, _, count in rows)
    on_time = sum(
        count for status, in_time, count in rows if status == DeadlineStatus.MET and in_time
    )
    counted = {"deadlines_due": total, "answered_on_time": on_time}
    if not total:
        return not_computed(code, N_("no answer deadline is due yet"), counted)
    return measured(code, on_time / total, display.share(on_time / total), counted)
