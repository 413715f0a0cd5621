"""The department's decision on each item put to consultation, with its justification.

Decisions are written while the démarche is in its synthesis stage (the mission may also
write them); they gate the feedback stage and feed each participant's feedback message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from . import audit
from .access import may_act_on
from .contributions import to_text
from .errors import Conflict, InvalidFields, PermissionDenied
from .i18n import N_, Msg
from .models import DecisionOutcome, Demarche, Item, ItemDecision, User
from .stages import Stage

MAX_JUSTIFICATION = 10_000
#: Decisions are written once the consultation is closed, until the feedback goes out.
DECISION_STAGES = frozenset({Stage.SYNTHESIS})


def may_decide(user: User, demarche: Demarche) -> bool:
    """Whether ``user`` may write the decisions on ``demarche``'s items now (what ``decide``
    lets through)."""
    return may_act_on(user, demarche) and demarche.stage in DECISION_STAGES


def decide(
    session: Session,
    actor: User,
    item: Item,
    *,
    outcome: object,
    justification: object,
    as_of: datetime,
) -> ItemDecision:
    """Write (or rewrite) the decision on ``item``; audited. The caller commits."""
    if not may_act_on(actor, item.demarche):
        raise PermissionDenied(N_("only the démarche's department or the mission decides"))
    stage = item.demarche.stage
    if stage not in DECISION_STAGES:
        raise Conflict(
            N_(
                "decisions are written at the synthesis stage; the démarche is at “%(stage)s”",
                stage=stage.label,
            )
        )
    errors: dict[str, Msg] = {}
    try:
        clean_outcome = DecisionOutcome(outcome if isinstance(outcome, str) else "")
    except ValueError:
        errors["outcome"] = N_(
            "unknown decision “%(value)s”; expected one of: %(choices)s",
            value=outcome,
            choices=", ".join(DecisionOutcome),
        )
    text = to_text(justification if isinstance(justification, str) else "")
    if not text:
        errors["justification"] = N_("the justification is missing")
    elif len(text) > MAX_JUSTIFICATION:
        errors["justification"] = N_("at most %(max)s characters", max=MAX_JUSTIFICATION)
    if errors:
        raise InvalidFields(errors)
    decision = item.decision
    created = decision is None
    if decision is None:
        decision = ItemDecision(item_id=item.id)
        session.add(decision)
        item.decision = decision
    decision.outcome = clean_outcome
    decision.justification = text
    decision.decided_by = actor
    decision.decided_at = as_of
    audit.record(
        session,
        "item.decide",
        actor=actor,
        as_of=as_of,
        demarche=item.demarche,
        target=f"item:{item.id}",
        outcome=clean_outcome.value,
        created=created,
    )
    session.flush()
    return decision


def missing_decisions(items: list[Item]) -> list[Item]:
    """The items without a justified decision."""
    return [
        item
        for item in items
        if item.decision is None or not (item.decision.justification or "").strip()
    ]
