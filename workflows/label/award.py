"""The mission awards the label to a closed démarche (or withdraws it), audited.

Only a closed démarche is judged: its evaluation is frozen then, so the proposal the mission
sees no longer moves. The level proposed needs no reason; any other — above the proposal,
below it, or none when a level was proposed — needs a public reason, shown with the label.
The award keeps the rules version it was judged by and the proposal it saw; judging the
démarche again (a correction, a withdrawal) uses that same version, whatever the rules in
force become.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, InvalidFields, PermissionDenied
from ..evaluation.compute import evaluate, stored
from ..evaluation.indicators import Evaluation
from ..guards import has_published_synthesis
from ..i18n import N_, Msg
from ..models import Demarche, LabelAward, User
from ..stages import Stage
from ..text import checked_text
from .proposal import Proposal, propose
from .rules import LEVELS, Rules
from .versions import ensure_current, in_force, read

MAX_REASON = 2000
#: What withdraws the label (besides None).
NONE = "none"


def facts(session: Session, d: Demarche) -> dict[str, float]:
    """What the rules read of the record beside the indicators: 1.0 or 0.0 each."""
    return {"synthesis_published": 1.0 if has_published_synthesis(session, d) else 0.0}


def award_of(session: Session, d: Demarche) -> LabelAward | None:
    return session.scalar(select(LabelAward).where(LabelAward.demarche_id == d.id))


def rules_for(session: Session, d: Demarche, found: LabelAward | None = None) -> Rules:
    """The version ``d`` was judged by (its award ``found``, or read), once judged; the rules
    in force before."""
    found = found or award_of(session, d)
    return read(found.rules) if found is not None else in_force(session)


def proposal_for(
    session: Session, d: Demarche, found: Evaluation | None = None, *, as_of: datetime
) -> Proposal:
    """What the rules ``d`` is judged by propose, on its evaluation (``found``, or
    evaluated now)."""
    found = found or evaluate(session, d, as_of=as_of)
    return propose(found, rules_for(session, d), facts(session, d))


def may_award(user: User, d: Demarche, found: Evaluation) -> bool:
    """Whether ``user`` may award the label now: the mission, once the démarche is closed and
    its evaluation ``found`` frozen (what ``award`` checks)."""
    return user.is_mission and d.stage == Stage.CLOSED and found.frozen_at is not None


def _rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def award(
    session: Session,
    demarche: Demarche,
    level: Any,
    reason: Any,
    actor: User,
    as_of: datetime,
) -> LabelAward:
    """Award ``level`` (a level's code; None or ``"none"`` withdraws) to ``demarche``, with
    ``reason`` (public). 403 for anyone but the mission; 409 before the closing (the
    evaluation not frozen); 422 an unknown level, a level other than the proposal without a
    reason, a reason too long — nothing saved then. Audited; the caller commits."""
    if not actor.is_mission:
        raise PermissionDenied(N_("only the mission awards the label"))
    frozen = stored(session, demarche)
    if demarche.stage != Stage.CLOSED or frozen is None:
        raise Conflict(
            N_("the label is awarded once the démarche is closed and its evaluation frozen")
        )
    errors: dict[str, Msg] = {}
    chosen = None if level in (None, "", NONE) else level
    if chosen is not None and chosen not in LEVELS:
        errors["level"] = N_(
            "unknown level “%(value)s”: one of %(levels)s, or none",
            value=str(level)[:40],
            levels=", ".join(LEVELS),
        )
    text = checked_text(reason, MAX_REASON, "reason", errors)
    found = award_of(session, demarche)
    if chosen is None and (found is None or found.level is None) and "level" not in errors:
        errors["level"] = N_("the démarche holds no label to withdraw")
    if errors:
        raise InvalidFields(errors)
    row = found.rules if found is not None else ensure_current(session, actor=actor, as_of=as_of)
    proposal = propose(frozen, read(row), facts(session, demarche))
    if chosen != proposal.level and not text:
        if _rank(chosen) > _rank(proposal.level):
            message = N_("a level above the one the rules propose needs a public reason")
        else:
            message = N_("a level other than the one the rules propose needs a public reason")
        raise InvalidFields({"reason": message})
    if found is None:
        found = LabelAward(demarche_id=demarche.id, rules_version=row.number)
        session.add(found)
    found.level, found.reason = chosen, text
    found.proposed_level, found.proposal = proposal.level, proposal.to_json()
    found.awarded_at, found.awarded_by_id = as_of, actor.id
    audit.record(
        session,
        "label.award" if chosen is not None else "label.withdraw",
        actor=actor,
        as_of=as_of,
        demarche=demarche,
        target=f"label:{demarche.id}",
        level=chosen,
        proposed_level=proposal.level,
        rules_version=row.number,
    )
    session.flush()
    return found


# -- the labels held ----------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A label a démarche holds: closed, awarded, not withdrawn. ``label``: its level's name
    in the rules it was judged by; ``proposal``: what it was judged on (as stored)."""

    demarche: Demarche
    award: LabelAward
    label: str
    proposal: Proposal

    @property
    def level(self) -> str:
        assert self.award.level is not None
        return self.award.level


def _held(award: LabelAward, d: Demarche) -> Held | None:
    if award.level is None or d.stage != Stage.CLOSED:
        return None
    proposal = Proposal.from_json(award.proposal)
    found = proposal.level_check(award.level)
    return Held(d, award, found.label if found else award.level, proposal)


def held(session: Session, *, among: Select | None = None) -> list[Held]:
    """The labels held (of the démarches whose ids ``among`` selects, if given), in one
    query: the highest level first, the latest awarded first within a level."""
    query = (
        select(LabelAward, Demarche)
        .join(Demarche, Demarche.id == LabelAward.demarche_id)
        .where(LabelAward.level.is_not(None), Demarche.stage == Stage.CLOSED)
        .order_by(LabelAward.awarded_at.desc(), LabelAward.id.desc())
    )
    if among is not None:
        query = query.where(LabelAward.demarche_id.in_(among))
    found = [h for award, d in session.execute(query).all() if (h := _held(award, d))]
    return sorted(found, key=lambda h: -_rank(h.level))


def held_by(session: Session, d: Demarche) -> Held | None:
    """The label ``d`` holds, if it holds one."""
    found = award_of(session, d)
    return _held(found, d) if found is not None else None
