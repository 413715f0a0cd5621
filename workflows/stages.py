"""The stage machine of a démarche (DESIGN §2): stages, allowed moves, roles and guards.

The table is data: ``MOVES`` lists every allowed move with the roles that may make it;
``GUARDS`` lists, per target stage, the conditions to enter it. Each guard returns the
messages of what is missing, so that a refusal can say everything at once, in French.
``workflows.transitions.transition`` is the only function that applies a move.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from .clock import local_date
from .i18n import N_, Msg
from .roles import MISSION_ROLES, RoleName

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .models.demarches import Demarche


class Stage(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    REJECTED = "rejected"
    LAUNCH = "launch"
    CONSULTATION = "consultation"
    SYNTHESIS = "synthesis"
    FEEDBACK = "feedback"
    CLOSED = "closed"

    @property
    def label(self) -> Msg:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.DRAFT: N_("Draft"),
    Stage.SUBMITTED: N_("Submitted"),
    Stage.RETURNED: N_("Returned to the department"),
    Stage.REJECTED: N_("Rejected"),
    Stage.LAUNCH: N_("Launch"),
    Stage.CONSULTATION: N_("Consultation"),
    Stage.SYNTHESIS: N_("Synthesis"),
    Stage.FEEDBACK: N_("Feedback to citizens"),
    Stage.CLOSED: N_("Closed"),
}

#: The stages of the saisine, before the mission accepts the démarche.
SAISINE_STAGES = frozenset({Stage.DRAFT, Stage.SUBMITTED, Stage.RETURNED})
#: The order in which an accepted démarche lives (for calendars and timelines).
LIFE = (Stage.LAUNCH, Stage.CONSULTATION, Stage.SYNTHESIS, Stage.FEEDBACK, Stage.CLOSED)


def next_stage(stage: Stage) -> Stage | None:
    """The stage that normally follows ``stage`` in an accepted démarche's life."""
    if stage in LIFE and stage != Stage.CLOSED:
        return LIFE[LIFE.index(stage) + 1]
    return None


class ParticipationLevel(enum.StrEnum):
    INFORMATION = "information"
    CONSULTATION = "consultation"
    CONCERTATION = "concertation"
    CO_CONSTRUCTION = "co-construction"

    @property
    def label(self) -> Msg:
        return PARTICIPATION_LABELS[self]


PARTICIPATION_LABELS = {
    ParticipationLevel.INFORMATION: N_("Information"),
    ParticipationLevel.CONSULTATION: N_("Consultation"),
    ParticipationLevel.CONCERTATION: N_("Concertation"),
    ParticipationLevel.CO_CONSTRUCTION: N_("Co-construction"),
}

UNIT_LABELS = {"days": N_("days"), "months": N_("months")}

MISSION = MISSION_ROLES
SUBMITTERS = MISSION_ROLES | {RoleName.DEPARTMENT}


@dataclass(frozen=True)
class Move:
    source: Stage
    target: Stage
    roles: frozenset[str]
    label: Msg
    needs_comment: bool = False


MOVES: tuple[Move, ...] = (
    Move(Stage.DRAFT, Stage.SUBMITTED, SUBMITTERS, N_("Submit the saisine")),
    Move(Stage.RETURNED, Stage.SUBMITTED, SUBMITTERS, N_("Submit the saisine again")),
    Move(Stage.SUBMITTED, Stage.LAUNCH, MISSION, N_("Accept the saisine")),
    Move(Stage.SUBMITTED, Stage.RETURNED, MISSION, N_("Return to the department"), True),
    Move(Stage.SUBMITTED, Stage.REJECTED, MISSION, N_("Reject the saisine"), True),
    Move(Stage.LAUNCH, Stage.CONSULTATION, MISSION, N_("Open the consultation")),
    Move(Stage.CONSULTATION, Stage.SYNTHESIS, MISSION, N_("Close the consultation")),
    Move(Stage.SYNTHESIS, Stage.FEEDBACK, MISSION, N_("Start the feedback to citizens")),
    Move(Stage.FEEDBACK, Stage.CLOSED, MISSION, N_("Close the démarche")),
)

_MOVES = {(m.source, m.target): m for m in MOVES}


def find_move(source: Stage, target: Stage) -> Move | None:
    return _MOVES.get((source, target))


def moves_from(stage: Stage) -> list[Move]:
    return [m for m in MOVES if m.source == stage]


@dataclass(frozen=True)
class MoveContext:
    """What a guard may look at besides the démarche itself."""

    session: Session
    as_of: datetime
    comment: str


Guard = Callable[["Demarche", MoveContext], Iterable[Msg]]

# Fields a saisine needs before the mission can review it, with the message when missing.
SAISINE_REQUIRED = (
    ("title", N_("title missing")),
    ("department_id", N_("department missing")),
    ("objectives", N_("objectives missing")),
    ("public", N_("public concerned missing")),
    ("territory", N_("territory missing")),
    ("desired_calendar", N_("desired calendar missing")),
    ("participation_level", N_("participation level missing")),
    ("elected_official_id", N_("sponsoring elected official missing")),
)


def saisine_complete(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    for attr, missing in SAISINE_REQUIRED:
        value = getattr(d, attr)
        if value is None or (isinstance(value, str) and not value.strip()):
            yield missing


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _rule(d: Demarche, code: str):
    from .charter import rule_for

    return rule_for(d, code)


def _add(day: date, amount: int, unit: str) -> date:
    return add_months(day, amount) if unit == "months" else day + timedelta(days=amount)


def consultation_dates(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    opens, closes = d.consultation_opens, d.consultation_closes
    if opens is None or closes is None:
        yield N_("consultation dates missing")
        return
    if closes <= opens:
        yield N_("the consultation must close after it opens")
        return
    rule = _rule(d, "consultation_length")
    if rule is not None:
        # Both days count: a consultation from the 1st to the 21st lasts 21 days.
        length = (closes - opens).days + 1
        shortest = (_add(opens, rule.duration, rule.unit) - opens).days
        if length < shortest:
            yield N_(
                "rule “%(rule)s”: the consultation must last at least %(days)s days "
                "(it lasts %(actual)s)",
                rule=rule.label,
                days=shortest,
                actual=length,
            )
        if rule.maximum is not None and closes > _add(opens, rule.maximum, rule.maximum_unit):
            yield N_(
                "rule “%(rule)s”: the consultation may last at most %(amount)s %(unit)s",
                rule=rule.label,
                amount=rule.maximum,
                unit=UNIT_LABELS.get(rule.maximum_unit, rule.maximum_unit),
            )
    today = local_date(ctx.as_of)
    if opens > today:
        yield N_("the consultation opens on %(date)s, not before", date=opens)
    if closes < today:
        yield N_("the closing date %(date)s has already passed", date=closes)


def public_notice_given(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    rule = _rule(d, "public_notice")
    if rule is None or not rule.duration or d.consultation_opens is None:
        return
    announced = d.announced_at
    latest = d.consultation_opens - timedelta(days=rule.duration)
    if announced is None or local_date(announced) > latest:
        yield N_(
            "rule “%(rule)s”: the opening date must be public %(days)s days before it "
            "(by %(date)s; it was announced on %(announced)s)",
            rule=rule.label,
            days=rule.duration,
            date=latest,
            announced=local_date(announced) if announced else "—",
        )


def presentation_written(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not (d.presentation or "").strip():
        yield N_("public presentation missing")


def closing_passed_or_reason(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    closes = d.consultation_closes
    if closes is not None and local_date(ctx.as_of) > closes:
        return
    if not ctx.comment.strip():
        yield N_(
            "the consultation is open until %(date)s: give the reason for closing it early",
            date=closes,
        )


def items_prepared(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not d.items:
        yield N_("no item to comment: prepare at least one")


def synthesis_published(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    from .models import Synthesis, SynthesisStatus

    published = d.id is not None and ctx.session.scalar(
        select(Synthesis.id)
        .where(Synthesis.demarche_id == d.id, Synthesis.status == SynthesisStatus.PUBLISHED)
        .limit(1)
    )
    if not published:
        yield N_("the synthesis is not published")


def decisions_written(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    from .decisions import missing_decisions

    if not d.items:
        yield N_("no item: the department has nothing to decide")
    for item in missing_decisions(d.items):
        yield N_("the department's decision on “%(item)s” is missing", item=item.title)


def feedback_sent(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    from .mailings import feedback_progress

    progress = feedback_progress(ctx.session, d)
    if progress is None:
        yield N_("no feedback mailing was sent")
    elif progress:
        yield N_("the feedback mailing is still sending (%(left)s messages left)", left=progress)


GUARDS: dict[Stage, tuple[Guard, ...]] = {
    Stage.SUBMITTED: (saisine_complete,),
    Stage.CONSULTATION: (
        consultation_dates,
        public_notice_given,
        presentation_written,
        items_prepared,
    ),
    Stage.SYNTHESIS: (closing_passed_or_reason,),
    Stage.FEEDBACK: (synthesis_published, decisions_written),
    Stage.CLOSED: (feedback_sent,),
}


def unmet_conditions(d: Demarche, move: Move, ctx: MoveContext) -> list[Msg]:
    """Everything that keeps ``d`` from making ``move`` now (empty when it may)."""
    unmet: list[Msg] = []
    if move.needs_comment and not ctx.comment.strip():
        unmet.append(N_("a comment is required for this decision"))
    for guard in GUARDS.get(move.target, ()):
        unmet.extend(guard(d, ctx))
    return unmet
