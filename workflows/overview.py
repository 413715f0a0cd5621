"""What an elected official reads first: the démarches they sponsor (DESIGN §1), each with
its stage, what comes next and what it waits for, its next charter deadline, what is late,
and its latest figures — late ones first, then by their next deadline.

A read for the back-office home, which only renders it: a fixed number of queries for the
deadlines and the figures of all the démarches, plus each démarche's guards. ``as_of``
decides what is late (a deadline whose end has passed, whether or not the sweep has marked it
missed yet), which deadline comes next, which events are still to come and what "this week"
means; the counts are those of the record as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, cast, func, select, union_all
from sqlalchemy.orm import Session

from .authors import author
from .clock import local_date
from .guards import MoveContext, unmet_conditions
from .i18n import N_, Msg
from .models import (
    CharterRule,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Demarche,
    Event,
    Registration,
    RegistrationStatus,
    Role,
    User,
)
from .roles import RoleName
from .stages import Stage, find_move

WEEK = timedelta(days=7)
#: Démarches whose life is over: listed after the others.
FINISHED = frozenset({Stage.CLOSED, Stage.REJECTED})

#: The move that carries a démarche forward from each stage, and who or what makes it.
FORWARD: dict[Stage, Stage] = {
    Stage.DRAFT: Stage.SUBMITTED,
    Stage.RETURNED: Stage.SUBMITTED,
    Stage.SUBMITTED: Stage.LAUNCH,
    Stage.LAUNCH: Stage.CONSULTATION,
    Stage.CONSULTATION: Stage.SYNTHESIS,
    Stage.SYNTHESIS: Stage.FEEDBACK,
    Stage.FEEDBACK: Stage.CLOSED,
}
# A guard's message that only repeats the date the "how" already gives.
_NOT_BEFORE = "the consultation opens on %(date)s, not before"


@dataclass(frozen=True)
class NextStep:
    """The stage that comes next, how it is reached, and what it still waits for."""

    stage: Stage
    how: Msg
    waits_for: list[Msg]


@dataclass(frozen=True)
class DeadlineLine:
    """A charter deadline as the official reads it: its last day and what it is. A line of
    questions stands for ``questions`` answer deadlines (the earliest day is given)."""

    due_date: date
    label: str
    deadline_id: int
    questions: int = 0


@dataclass
class Figures:
    published: int = 0  # contributions published
    published_week: int = 0  # … of which contributed in the last 7 days
    participants: int = 0  # people who contributed (published) or registered to an event
    questions: int = 0  # questions published
    answered: int = 0  # … answered
    upcoming_events: int = 0
    registrations: int = 0  # confirmed seats at the upcoming events


@dataclass
class DemarcheOverview:
    demarche_id: int
    title: str
    stage: Stage
    next_step: NextStep | None
    next_deadline: DeadlineLine | None = None
    late: list[DeadlineLine] = field(default_factory=list)
    figures: Figures = field(default_factory=Figures)

    @property
    def finished(self) -> bool:
        return self.stage in FINISHED

    @property
    def stage_label(self) -> Msg:
        return self.stage.label


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass
class OfficialHome:
    demarches: list[DemarcheOverview]
    contacts: list[Contact]  # the mission's members, whom to ask

    @property
    def current(self) -> list[DemarcheOverview]:
        return [o for o in self.demarches if not o.finished]

    @property
    def finished(self) -> list[DemarcheOverview]:
        return [o for o in self.demarches if o.finished]


def official_home(session: Session, user: User, as_of: datetime) -> OfficialHome:
    """The démarches ``user`` sponsors, late ones first, then by their next deadline (those
    without one after), finished ones last; and the mission's members to contact."""
    found = (
        session.scalars(
            select(Demarche)
            .where(Demarche.elected_official_id == user.id)
            .order_by(Demarche.title, Demarche.id)
        )
        .unique()
        .all()
    )
    lines = {
        d.id: DemarcheOverview(d.id, d.title, d.stage, next_step(session, d, as_of)) for d in found
    }
    if lines:
        _deadlines(session, lines, as_of)
        for demarche_id, figures in figures_of(session, list(lines), as_of).items():
            lines[demarche_id].figures = figures
    return OfficialHome(sorted(lines.values(), key=_order), mission_contacts(session))


def _order(o: DemarcheOverview) -> tuple:
    if o.finished:
        return (2, date.max, o.title)
    if o.late:
        return (0, o.late[0].due_date, o.title)
    return (1, o.next_deadline.due_date if o.next_deadline else date.max, o.title)


def next_step(session: Session, d: Demarche, as_of: datetime) -> NextStep | None:
    """The stage after ``d``'s in its life, and what keeps it from moving there now — the
    guards of the move (``workflows.guards``), judged as if the mission gave a comment."""
    target = FORWARD.get(d.stage)
    move = find_move(d.stage, target) if target is not None else None
    if target is None or move is None:
        return None
    unmet = unmet_conditions(d, move, MoveContext(session, as_of, comment="…"))
    if d.stage in (Stage.DRAFT, Stage.RETURNED):
        how = N_("It moves there when the department submits the saisine.")
    elif d.stage == Stage.SUBMITTED:
        how = N_("It moves there when the mission accepts the saisine.")
    elif d.stage == Stage.LAUNCH:
        unmet = [m for m in unmet if m.text != _NOT_BEFORE]
        how = (
            N_(
                "It moves there by itself on %(date)s, once its sheet is ready.",
                date=d.consultation_opens,
            )
            if d.consultation_opens
            else N_("It moves there by itself on its opening date, once that is set.")
        )
    elif d.stage == Stage.CONSULTATION:
        closes = d.consultation_closes
        how = (
            N_(
                "It moves there by itself after the consultation’s last day, %(date)s.",
                date=closes,
            )
            if closes and closes >= local_date(as_of)
            else N_("It moves there by itself within minutes: the consultation’s last day is over.")
        )
    elif d.stage == Stage.SYNTHESIS:
        how = N_("It moves there when the mission starts the feedback to citizens.")
    else:
        how = N_("It moves there when the mission closes the démarche.")
    return NextStep(target, how, unmet)


def _deadlines(session: Session, lines: dict[int, DemarcheOverview], as_of: datetime) -> None:
    """Late deadlines (missed, or ended and not yet swept) and the next one, per démarche;
    a démarche's late questions make one line."""
    rows = session.execute(
        select(
            Deadline.id,
            Deadline.demarche_id,
            Deadline.question_id,
            Deadline.due_date,
            Deadline.due_at,
            Deadline.status,
            CharterRule.label,
        )
        .join(CharterRule, CharterRule.id == Deadline.rule_id)
        .where(
            Deadline.demarche_id.in_(list(lines)),
            Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
        )
        .order_by(Deadline.due_at, Deadline.id)
    ).all()
    late_questions: dict[int, list[DeadlineLine]] = {}
    for row in rows:
        line = lines[row.demarche_id]
        label = row.label
        if row.status == DeadlineStatus.MISSED or row.due_at <= as_of:
            if row.question_id is None:
                line.late.append(DeadlineLine(row.due_date, label, row.id))
            else:
                late_questions.setdefault(row.demarche_id, []).append(
                    DeadlineLine(row.due_date, label, row.id, 1)
                )
        elif line.next_deadline is None:
            line.next_deadline = DeadlineLine(
                row.due_date, label, row.id, 1 if row.question_id else 0
            )
        elif row.question_id and line.next_deadline.questions:
            # Other questions to answer by the same day count with the first.
            first = line.next_deadline
            if row.due_date == first.due_date:
                line.next_deadline = DeadlineLine(
                    first.due_date, first.label, first.deadline_id, first.questions + 1
                )
    for demarche_id, questions in late_questions.items():
        first = questions[0]
        lines[demarche_id].late.append(
            DeadlineLine(first.due_date, first.label, first.deadline_id, len(questions))
        )
        lines[demarche_id].late.sort(key=lambda d: (d.due_date, d.deadline_id))


def figures_of(session: Session, ids: list[int], as_of: datetime) -> dict[int, Figures]:
    """The figures of the démarches ``ids``, in three queries (the home's and the weekly
    digest's one source)."""
    found = {demarche_id: Figures() for demarche_id in ids}
    published = (
        Contribution.status == ContributionStatus.PUBLISHED
    ) & Contribution.demarche_id.in_(ids)
    question = (Contribution.kind == ContributionKind.QUESTION) & Contribution.parent_id.is_(None)
    for demarche_id, total, week, asked, answered in session.execute(
        select(
            Contribution.demarche_id,
            func.count(Contribution.id),
            func.count(Contribution.id).filter(
                Contribution.contributed_at > as_of - WEEK, Contribution.contributed_at <= as_of
            ),
            func.count(Contribution.id).filter(question),
            func.count(Contribution.id).filter(question, Contribution.answered_at.is_not(None)),
        )
        .where(published)
        .group_by(Contribution.demarche_id)
    ):
        figures = found[demarche_id]
        figures.published, figures.published_week = total, week
        figures.questions, figures.answered = asked, answered

    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    for demarche_id, events, seats in session.execute(
        select(
            Event.demarche_id,
            func.count(func.distinct(Event.id)),
            func.count(Registration.id).filter(confirmed),
        )
        .outerjoin(Registration, Registration.event_id == Event.id)
        .where(Event.demarche_id.in_(ids), Event.starts_at > as_of)
        .group_by(Event.demarche_id)
    ):
        figures = found[demarche_id]
        figures.upcoming_events, figures.registrations = events, seats

    # (the démarches' ids bound once per statement, as PostgreSQL takes at most 65,535)
    # (the people who took part: authors as ``workflows.authors`` counts them, registrants)
    people = union_all(
        select(Contribution.demarche_id.label("demarche_id"), author().label("who")).where(
            Contribution.status == ContributionStatus.PUBLISHED, author().is_not(None)
        ),
        select(
            Event.demarche_id.label("demarche_id"),
            cast(Registration.participant_id, String).label("who"),
        )
        .join(Registration, Registration.event_id == Event.id)
        .where(confirmed),
    ).subquery()
    for demarche_id, count in session.execute(
        select(people.c.demarche_id, func.count(func.distinct(people.c.who)))
        .where(people.c.demarche_id.in_(ids))
        .group_by(people.c.demarche_id)
    ):
        found[demarche_id].participants = count
    return found


def mission_contacts(session: Session, limit: int = 5) -> list[Contact]:
    """The mission's active members (not the administrators as such), whom an official asks."""
    users = session.scalars(
        select(User)
        .join(User.roles)
        .where(Role.name == RoleName.MISSION, User.active.is_(True))
        .order_by(User.name, User.id)
        .limit(limit)
    ).unique()
    return [Contact(u.display_name, u.email) for u in users]
