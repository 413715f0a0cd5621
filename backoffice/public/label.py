"""The charter's label, public: ``/label`` lists the labelled démarches (their level, the
mission's reason, the rules version they were judged by) and the label's rules in force; a
démarche's page shows its own label with the criteria it was judged on (``label_of``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from sqlalchemy import select

from workflows import label
from workflows.label import Proposal
from workflows.models import Demarche, LabelAward, LabelRules
from workflows.stages import Stage

from ..extensions import db
from . import bp
from .cache import cached


@dataclass(frozen=True)
class Shown:
    """A label as the public reads it."""

    demarche: Demarche
    level: str
    label: str
    reason: str
    awarded_at: datetime
    rules_version: int
    proposal: Proposal

    @property
    def rank(self) -> int:
        return label.LEVELS.index(self.level) if self.level in label.LEVELS else -1


def _shown(award: LabelAward, d: Demarche) -> Shown | None:
    if award.level is None or d.stage != Stage.CLOSED:
        return None
    proposal = Proposal.from_json(award.proposal)
    name = next((lv.label for lv in proposal.levels if lv.code == award.level), award.level)
    return Shown(
        d,
        award.level,
        name,
        award.reason,
        award.awarded_at,
        award.rules_version,
        proposal,
    )


def label_of(d: Demarche) -> Shown | None:
    """The label ``d`` holds (closed, awarded, not withdrawn), else None."""
    found = label.award_of(db.session(), d)
    return _shown(found, d) if found is not None else None


@bp.route("/label")
@cached(lambda: ("any",))
def label_page():
    session = db.session()
    rows = session.execute(
        select(LabelAward, Demarche)
        .join(Demarche, Demarche.id == LabelAward.demarche_id)
        .where(LabelAward.level.is_not(None), Demarche.stage == Stage.CLOSED)
        .order_by(LabelAward.awarded_at.desc(), LabelAward.id.desc())
    ).all()
    shown = [s for award, d in rows if (s := _shown(award, d)) is not None]
    shown.sort(key=lambda s: -s.rank)  # the highest level first, the latest first within
    row = session.scalar(select(LabelRules).where(LabelRules.is_current.is_(True)))
    return render_template(
        "public/label.html",
        labelled=shown,
        rules=label.in_force(session),
        since=row.created_at if row is not None else None,
        levels=label.LEVELS,
    )
