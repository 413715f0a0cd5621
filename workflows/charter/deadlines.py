"""Deadlines: made and settled by events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..clock import PARIS, local_date
from ..errors import Conflict, InvalidFields, NotFound, PermissionDenied
from ..i18n import N_
from ..models import Contribution, Deadline, DeadlineStatus, Demarche, RuleKind, User
from ..stages import add_months
from .versions import EVENTS, MAX_REASON

# -- deadlines: made and settled by events -----------------------------------------------------


def paris_midnight(day: date) -> datetime:
    """The instant ``day`` begins in Europe/Paris, as UTC (23:00 or 22:00 the day before)."""
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)


def due_of(start: datetime, duration: int, unit: str) -> tuple[date, datetime]:
    """The last day of a clock started at ``start`` (day granularity, Europe/Paris: "within
    30 days" of the 1st ends on the 31st at midnight) and the instant it ends, as UTC."""
    first = local_date(start)
    last = add_months(first, duration) if unit == "months" else first + timedelta(days=duration)
    return last, paris_midnight(last + timedelta(days=1))


def event(
    session: Session,
    d: Demarche,
    name: str,
    *,
    at: datetime,
    question: Contribution | None = None,
    round_: int | None = None,
) -> list[Deadline]:
    """``name`` happened for ``d`` (or its ``question``): settle the deadlines it stops (late
    or not), start those it starts. Idempotent: a deadline is made once per key."""
    assert name in EVENTS, name
    version = d.charter_version
    if version is None:
        return []
    stopping = [
        r.code for r in version.rules if r.kind == RuleKind.DEADLINE and r.stop_event == name
    ]
    if stopping:
        session.execute(
            update(Deadline)
            .where(
                Deadline.demarche_id == d.id,
                Deadline.rule_code.in_(stopping),
                Deadline.question_id == question.id
                if question is not None
                else Deadline.question_id.is_(None),
                Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
            )
            .values(status=DeadlineStatus.MET, met_at=at)
            .execution_options(synchronize_session=False)
        )
    made = []
    for rule in version.rules:
        if rule.kind != RuleKind.DEADLINE or rule.start_event != name:
            continue
        key = f"{rule.code}:d{d.id}"
        if question is not None:
            key += f":q{question.id}"
        if round_ is not None:
            key += f":r{round_}"
        due_date, due_at = due_of(at, rule.duration, rule.unit)
        deadline = Deadline(
            key=key,
            rule_id=rule.id,
            rule_code=rule.code,
            demarche_id=d.id,
            question_id=question.id if question is not None else None,
            started_at=at,
            due_date=due_date,
            due_at=due_at,
            status=DeadlineStatus.PENDING,
        )
        try:
            with session.begin_nested():
                session.add(deadline)
        except IntegrityError:
            continue  # started already (a task run twice)
        made.append(deadline)
    return made


def settle_by_key(session: Session, key_prefix: str, *, at: datetime) -> None:
    """Settle the pending deadline whose key is ``key_prefix`` (the receipt's own)."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.key == key_prefix,
            Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
        )
        .values(status=DeadlineStatus.MET, met_at=at)
        .execution_options(synchronize_session=False)
    )


def waive(
    session: Session, actor: User, deadline: Deadline, *, reason: object, as_of: datetime
) -> Deadline:
    """The mission lifts a deadline, with a reason (public on the démarche's record)."""
    if not actor.is_mission:
        raise PermissionDenied(N_("only the mission waives a deadline"))
    text = str(reason or "").strip() if isinstance(reason, str | type(None)) else ""
    if not text:
        raise InvalidFields({"reason": N_("the reason is required")})
    if len(text) > MAX_REASON:
        raise InvalidFields({"reason": N_("at most %(max)s characters", max=MAX_REASON)})
    if deadline.status not in (DeadlineStatus.PENDING, DeadlineStatus.MISSED):
        raise Conflict(N_("this deadline is already “%(status)s”", status=deadline.status.label))
    deadline.status = DeadlineStatus.WAIVED
    deadline.waived_at, deadline.waived_by, deadline.waive_reason = as_of, actor, text
    audit.record(
        session,
        "deadline.waive",
        actor=actor,
        as_of=as_of,
        demarche=deadline.demarche,
        target=f"deadline:{deadline.id}",
        rule=deadline.rule_code,
    )
    session.flush()
    return deadline


def question_hidden(
    session: Session, question: Contribution, actor: User, *, reason: str, as_of: datetime
) -> None:
    """A question the moderation hides can no longer be answered: its clock is waived, with
    the moderation's (public) reason, so that nobody is reminded or alerted about it."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.question_id == question.id,
            Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
        )
        .values(
            status=DeadlineStatus.WAIVED,
            waived_at=as_of,
            waived_by_id=actor.id,
            waive_reason=reason,
        )
        .execution_options(synchronize_session="fetch")
    )


def question_restored(
    session: Session, question: Contribution, *, hidden_at: datetime | None
) -> None:
    """Restoring a hidden question restarts the clock its hiding waived (same due date: a
    sweep marks it missed if that has passed)."""
    if hidden_at is None:
        return
    session.execute(
        update(Deadline)
        .where(
            Deadline.question_id == question.id,
            Deadline.status == DeadlineStatus.WAIVED,
            Deadline.waived_at == hidden_at,
        )
        .values(status=DeadlineStatus.PENDING, waived_at=None, waived_by_id=None, waive_reason="")
        .execution_options(synchronize_session="fetch")
    )


def get_deadline(session: Session, deadline_id: object) -> Deadline:
    found = (
        session.get(Deadline, deadline_id)
        if isinstance(deadline_id, int) and 0 < deadline_id < 2**31
        else None
    )
    if found is None:
        raise NotFound(N_("no deadline %(id)s", id=deadline_id))
    return found


def deadline_of_question(session: Session, question: Contribution) -> Deadline | None:
    return session.scalar(
        select(Deadline).where(Deadline.question_id == question.id).order_by(Deadline.id.desc())
    )


def deadlines_of(session: Session, d: Demarche) -> list[Deadline]:
    """Every deadline of the démarche, its questions' included, soonest end first."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.demarche_id == d.id)
            .order_by(Deadline.due_at, Deadline.id)
        )
    )


def next_deadline(session: Session, d: Demarche) -> Deadline | None:
    """The démarche's own next pending deadline (not a question's)."""
    return session.scalar(
        select(Deadline)
        .where(
            Deadline.demarche_id == d.id,
            Deadline.question_id.is_(None),
            Deadline.status == DeadlineStatus.PENDING,
        )
        .order_by(Deadline.due_at)
        .limit(1)
    )
