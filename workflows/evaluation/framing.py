"""Framing: were the things a citizen needs to take part public before the consultation
opened? The public page shows them from the launch on: the objectives, the presentation (what
can still change), the sponsoring elected official (who decides), the consultation's dates
(the calendar, made public at ``announced_at``) and the charter's feedback commitment (a rule
of the démarche's charter version that the feedback stops).

Read on the sheet as it stands: objectives, official and opening date can no longer change
once the consultation is open, and the guards demanded the presentation and the dates to open
it. Before the opening, the indicator tells what is public so far.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..i18n import N_
from ..models import Demarche, RuleKind
from ..stages import Stage
from . import display
from .indicators import Dimension, measured, not_computed
from .record import reached_by, stage_moments

CODE = "framing_public_before_opening"
#: The elements, in the order the details list them.
ELEMENTS = ("objectives", "what_can_change", "who_decides", "calendar", "feedback_commitment")


def framing(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    moments = stage_moments(session, d)
    if reached_by(moments, Stage.LAUNCH, as_of) is None:
        missing = N_("the démarche is not public yet: it has not been launched")
        return Dimension("framing", (not_computed(CODE, missing),))
    opened = reached_by(moments, Stage.CONSULTATION, as_of)
    reference = opened or as_of
    version = d.charter_version
    elements = {
        "objectives": bool((d.objectives or "").strip()),
        "what_can_change": bool((d.presentation or "").strip()),
        "who_decides": d.elected_official_id is not None,
        "calendar": bool(
            d.consultation_opens
            and d.consultation_closes
            and d.announced_at is not None
            and d.announced_at <= reference
        ),
        "feedback_commitment": version is not None
        and any(
            r.kind == RuleKind.DEADLINE and r.stop_event == "feedback_sent" for r in version.rules
        ),
    }
    public = sum(elements.values())
    indicator = measured(
        CODE,
        public / len(ELEMENTS),
        display.of(public, len(ELEMENTS)),
        {"elements": len(ELEMENTS), "public": public},
        {"elements": {name: elements[name] for name in ELEMENTS}, "opened": opened is not None},
    )
    return Dimension("framing", (indicator,))
