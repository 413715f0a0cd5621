"""Influence: how much of what was said bore on items the department retained.

The published contributions (what the synthesis counts) on the items with a decision, and
among them those on items retained or partly retained. One query, grouped by outcome.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..i18n import N_
from ..models import Contribution, ContributionStatus, DecisionOutcome, Demarche, ItemDecision
from . import display
from .indicators import Dimension, measured, not_computed

CODE = "influence_contributions_retained"
RETAINED = (DecisionOutcome.RETAINED, DecisionOutcome.PARTLY_RETAINED)


def influence(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    per_outcome = {
        (DecisionOutcome(outcome).value if outcome is not None else "undecided"): count
        for outcome, count in session.execute(
            select(ItemDecision.outcome, func.count(Contribution.id))
            .select_from(Contribution)
            .outerjoin(ItemDecision, ItemDecision.item_id == Contribution.item_id)
            .where(
                Contribution.demarche_id == d.id,
                Contribution.status == ContributionStatus.PUBLISHED,
            )
            .group_by(ItemDecision.outcome)
        )
    }
    counted = {
        "contributions": sum(per_outcome.values()),
        **{outcome.value: per_outcome.get(outcome.value, 0) for outcome in DecisionOutcome},
        "undecided": per_outcome.get("undecided", 0),
    }
    on_decided = counted["contributions"] - counted["undecided"]
    counted["on_decided_items"] = on_decided
    if not counted["contributions"]:
        indicator = not_computed(CODE, N_("no published contribution"), counted)
    elif not on_decided:
        indicator = not_computed(CODE, N_("no decision written yet"), counted)
    else:
        retained = sum(counted[outcome.value] for outcome in RETAINED)
        indicator = measured(
            CODE, retained / on_decided, display.share(retained / on_decided), counted
        )
    return Dimension("influence", (indicator,))
