"""The stage table of a démarche (DESIGN §2): stages, allowed moves and the roles per move.

The table is data: ``MOVES`` lists every allowed move with the roles that may make it. The
conditions to enter a stage (the guards) read the record, so they live above the models, in
``workflows.guards``. ``workflows.transitions.transition`` is the only function that applies
a move.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date

from .i18n import N_, Msg
from .roles import MISSION_ROLES, RoleName


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
#: Stages whose démarches (and their published contributions) the public sees.
PUBLIC_STAGES = frozenset(
    {Stage.LAUNCH, Stage.CONSULTATION, Stage.SYNTHESIS, Stage.FEEDBACK, Stage.CLOSED}
)


def reached(stage: Stage, milestone: Stage) -> bool:
    """Whether an accepted démarche at ``stage`` is at ``milestone`` of its life or past it."""
    return stage in LIFE and milestone in LIFE and LIFE.index(stage) >= LIFE.index(milestone)


def next_stage(stage: Stage) -> Stage | None:
    """The stage that normally follows ``stage`` in an accepted démarche's life."""
    if stage in LIFE and stage != Stage.CLOSED:
        return LIFE[LIFE.index(stage) + 1]
    return None


class ParticipationLevel(enum.StrEnum):
    """The rungs of the participation ladder (DESIGN §6), lowest first: a démarche's level,
    and the levels a method of the toolbox serves."""

    INFORMATION = "information"
    CONSULTATION = "consultation"
    CONCERTATION = "concertation"
    CO_CONSTRUCTION = "co-construction"
    CODECISION = "codecision"

    @property
    def label(self) -> Msg:
        return PARTICIPATION_LABELS[self]


PARTICIPATION_LABELS = {
    ParticipationLevel.INFORMATION: N_("Information"),
    ParticipationLevel.CONSULTATION: N_("Consultation"),
    ParticipationLevel.CONCERTATION: N_("Concertation"),
    ParticipationLevel.CO_CONSTRUCTION: N_("Co-construction"),
    ParticipationLevel.CODECISION: N_("Co-decision"),
}


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


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
