"""The one function that moves a démarche from one stage to another.

Back office, API, CLI and scheduled tasks all call ``transition``: it checks the actor's
rights and the guards, changes the stage only if nobody else did meanwhile, writes the
append-only audit row and the notifications' outbox rows; the move to the closed stage
freezes the démarche's evaluation (``workflows.evaluation.freeze``). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import charter, evaluation, mailings, notifications
from .access import acts_for_department, get_visible
from .demarches import announce
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied, TransitionRefused
from .guards import MoveContext, unmet_conditions
from .i18n import N_, Msg
from .models import Demarche, StageTransition, User
from .roles import MISSION_ROLES, RoleName
from .sql import execute_dml
from .stages import MOVES, Move, Stage, find_move, moves_from
from .syntheses.requests import request_build

SOURCES = ("backoffice", "api", "task", "cli")
_MOVERS = frozenset().union(*(m.roles for m in MOVES))


MAX_COMMENT = 5000


def parse_stage(value: str | Stage, field: str = "to") -> Stage:
    try:
        return Stage(value)
    except ValueError:
        raise InvalidFields(
            {
                field: N_(
                    "unknown stage “%(value)s”; expected one of: %(stages)s",
                    value=value,
                    stages=", ".join(Stage),
                )
            }
        ) from None


def transition(
    session: Session,
    demarche_id: int,
    to: str | Stage,
    *,
    actor: User | None,
    as_of: datetime,
    comment: str = "",
    source: str = "backoffice",
    expected_from: str | Stage | None = None,
) -> StageTransition:
    """Move the démarche to stage ``to``; ``actor`` None means the system (a scheduled task).

    Raises PermissionDenied (403), NotFound (404), TransitionRefused or Conflict (409),
    InvalidFields (422) and changes nothing then.
    """
    assert source in SOURCES, source
    target = parse_stage(to)
    seen = parse_stage(expected_from, "from") if expected_from is not None else None
    comment = clean_comment(comment)
    if actor is not None and not actor.has_any_role(*_MOVERS):
        raise PermissionDenied(N_("your role does not allow changing the stage of a démarche"))
    d = _load(session, demarche_id, actor)
    if seen is not None and d.stage != seen:
        raise Conflict(changed_meanwhile(d.stage))
    move = find_move(d.stage, target)
    if move is None:
        raise TransitionRefused(
            N_(
                "a démarche at stage “%(source)s” cannot move to “%(target)s”",
                source=d.stage.label,
                target=target.label,
            )
        )
    if actor is not None and not may_make(actor, move, d):
        raise PermissionDenied(N_("your role does not allow this change of stage"))
    unmet = unmet_conditions(d, move, MoveContext(session, as_of, comment))
    if unmet:
        raise TransitionRefused(*unmet)

    # Compare-and-set: of two users racing, the second changes nothing and gets a conflict.
    result = execute_dml(
        session,
        update(Demarche)
        .where(Demarche.id == d.id, Demarche.stage == d.stage)
        .values(stage=target, updated_at=as_of)
        .execution_options(synchronize_session=False),
    )
    if result.rowcount != 1:
        current = session.scalar(select(Demarche.stage).where(Demarche.id == d.id))
        raise Conflict(changed_meanwhile(current))
    row = StageTransition(
        demarche_id=d.id,
        from_stage=d.stage,
        to_stage=target,
        actor_id=actor.id if actor else None,
        source=source,
        comment=comment,
        at=as_of,
    )
    session.add(row)
    set_committed_value(d, "stage", target)
    set_committed_value(d, "updated_at", as_of)
    session.flush()
    notifications.on_transition(session, d, row)
    _charter_events(session, d, row, as_of)
    if target == Stage.FEEDBACK:
        mailings.send_feedback(session, d, as_of=as_of)
    elif target == Stage.CLOSED:
        # The evaluation, as the record stands at the closing, kept (once).
        evaluation.freeze(session, d, as_of=as_of, actor=actor)
    return row


def _charter_events(session: Session, d: Demarche, row: StageTransition, as_of: datetime) -> None:
    """The charter's clocks that this move starts or stops (DESIGN §3)."""
    if row.to_stage == Stage.SUBMITTED:
        # One acknowledgement and one review per submission (a returned saisine comes back).
        charter.event(session, d, "submitted", at=as_of, round_=row.id)
    if row.from_stage == Stage.SUBMITTED:
        charter.event(session, d, "reviewed", at=as_of)
    if row.to_stage == Stage.LAUNCH:
        announce(d, as_of)
    elif row.to_stage == Stage.CONSULTATION:
        charter.event(session, d, "consultation_opened", at=as_of)
    elif row.to_stage == Stage.SYNTHESIS:
        charter.event(session, d, "consultation_closed", at=as_of)
        session.flush()
        request_build(session, d.id, row.id)


def last_return(d: Demarche) -> StageTransition | None:
    """The move that returned the saisine to its department, with the mission's reason, while
    it is returned (the department changes what the reason asks, then submits it again)."""
    if d.stage != Stage.RETURNED:
        return None
    return next((t for t in reversed(d.transitions) if t.to_stage == Stage.RETURNED), None)


def clean_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidFields({"comment": N_("at most %(max)s characters", max=MAX_COMMENT)})
    if "\x00" in comment:
        raise InvalidFields({"comment": N_("invalid character in the text")})
    return comment


def may_make(actor: User, move: Move, d: Demarche) -> bool:
    """The mission makes any move; an agent only those open to agents, for their own department."""
    if actor.is_mission:
        return bool(move.roles & MISSION_ROLES)
    return RoleName.DEPARTMENT in move.roles and acts_for_department(actor, d)


def changed_meanwhile(stage: Stage | None) -> Msg:
    if stage is None:
        return N_("the démarche no longer exists")
    return N_(
        "the démarche changed meanwhile: it is now at stage “%(stage)s”; reload the page",
        stage=Stage(stage).label,
    )


def _load(session: Session, demarche_id: int, actor: User | None) -> Demarche:
    if actor is not None:
        return get_visible(session, actor, demarche_id, lock=True)
    query = select(Demarche).where(Demarche.id == demarche_id).with_for_update(of=Demarche)
    d = session.scalars(query.execution_options(populate_existing=True)).unique().one_or_none()
    if d is None:
        raise NotFound(N_("no démarche %(id)s", id=demarche_id))
    return d


@dataclass(frozen=True)
class MoveOption:
    """A move the actor's role may make from the current stage, with what blocks it now."""

    move: Move
    unmet: list[Msg]
    comment_required: bool

    @property
    def possible(self) -> bool:
        return not self.unmet


def move_options(session: Session, d: Demarche, actor: User, as_of: datetime) -> list[MoveOption]:
    """For the back office: the moves ``actor`` may make now, each with its unmet guards.

    Guards are judged as if a comment were given (the form asks for one); whether the
    comment is required (a refusal, an early closing) is told apart.
    """
    options = []
    for move in moves_from(d.stage):
        if not may_make(actor, move, d):
            continue
        with_comment = unmet_conditions(d, move, MoveContext(session, as_of, comment="…"))
        without = unmet_conditions(d, move, MoveContext(session, as_of, comment=""))
        options.append(MoveOption(move, with_comment, len(without) > len(with_comment)))
    return options
