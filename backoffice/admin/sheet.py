"""What a démarche's sheet shows: the blocks that make sense at its stage (from the domain's
stage rules), the mission's reason when the saisine came back, the charter's deadlines told
by submission, the timeline, and a refused form with its message inside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_security import current_user
from sqlalchemy import func, select

from workflows import charter, decisions, timeline
from workflows import demarches as domain
from workflows.clock import utcnow
from workflows.contributions import RECORDING_STAGES, may_record_collected
from workflows.errors import DomainError, InvalidFields
from workflows.events import EVENT_STAGES, may_organise_events
from workflows.items import ITEM_STAGES, item_counts, may_prepare_items
from workflows.methods import planning
from workflows.models import (
    AuditEntry,
    Contribution,
    DecisionOutcome,
    Demarche,
    Mailing,
)
from workflows.stages import PUBLIC_STAGES, SAISINE_STAGES, Stage, reached
from workflows.transitions import last_return, move_options

from ..extensions import db
from ..i18n import tr
from ..outgoing.mailer import display_subject


@dataclass
class Refusal:
    """A form of the sheet the domain refused: what was typed, and the messages — by field
    when the domain names one, else for the whole form. ``form`` names the form: a move's
    target stage, or ``decision-<item id>``."""

    form: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        form: str,
        exc: DomainError,
        values: dict[str, str],
        fields: set[str],
        aliases: dict[str, str] | None = None,
    ) -> Refusal:
        """``aliases`` maps the domain's field names to the form's."""
        errors = exc.errors if isinstance(exc, InvalidFields) else {}
        by_field: dict[str, str] = {}
        shown = []
        for name, message in errors.items():
            name = (aliases or {}).get(name, name)
            if name in fields:
                by_field[name] = tr(message)
                shown.append(message)
        general = [tr(message) for message in exc.messages if message not in shown]
        return cls(form, values, by_field, general)

    def first_invalid(self) -> str | None:
        """The field to focus: the first in error, else none (the message then)."""
        return next(iter(self.errors), None)


@dataclass(frozen=True)
class Blocks:
    """Which parts of the sheet make sense at the démarche's stage, each decided by the
    domain's rule for what it shows (a stage where it can be done, or something done)."""

    demarche: bool  # dates and presentation: once accepted, or if already given
    items: bool
    item_hint: bool  # « no item yet: the consultation cannot open without one »
    events: bool
    contributions: bool
    imports: bool
    export: bool
    public_page: bool
    decisions: bool
    synthesis: bool
    mailings: bool

    @property
    def consultation(self) -> bool:
        return self.items or self.events or self.contributions


def blocks_of(model: Demarche, counts: dict[Any, int], mailings: list) -> Blocks:
    stage = model.stage
    contributions = sum(counts.values())
    return Blocks(
        demarche=stage not in SAISINE_STAGES
        or bool(model.consultation_opens or model.consultation_closes or model.presentation),
        items=stage in ITEM_STAGES or bool(model.items),
        item_hint=stage in ITEM_STAGES and not model.items,
        events=stage in EVENT_STAGES or bool(model.events),
        contributions=stage in RECORDING_STAGES or contributions > 0,
        imports=may_record_collected(current_user, model),
        export=contributions > 0,
        public_page=stage in PUBLIC_STAGES,
        decisions=bool(model.items)
        and (stage in decisions.DECISION_STAGES or any(i.decision for i in model.items)),
        synthesis=reached(stage, Stage.SYNTHESIS),
        mailings=current_user.is_mission and (stage in PUBLIC_STAGES or bool(mailings)),
    )


def sheet_context(model: Demarche, refusal: Refusal | None = None) -> dict[str, Any]:
    """What ``admin/demarche/details.html`` needs (the « Évaluation » section's part:
    ``backoffice.admin.evaluation``)."""
    session = db.session()
    as_of = utcnow()
    counts = dict(
        session.execute(
            select(Contribution.status, func.count())
            .where(Contribution.demarche_id == model.id)
            .group_by(Contribution.status)
        ).all()
    )
    mailings = (
        [
            (m, display_subject(m))
            for m in session.scalars(
                select(Mailing).where(Mailing.demarche_id == model.id).order_by(Mailing.id.desc())
            )
        ]
        if current_user.is_mission
        else []
    )
    return {
        "model": model,
        "blocks": blocks_of(model, counts, mailings),
        "returned": last_return(model),
        "contribution_counts": counts,
        "item_counts": item_counts(session, model),
        "may_add_items": may_prepare_items(current_user, model),
        "may_add_events": may_organise_events(current_user, model),
        "may_decide": decisions.may_decide(current_user, model),
        "outcomes": list(DecisionOutcome),
        "mailings": mailings,
        "options": move_options(session, model, current_user, as_of),
        "timeline": _timeline(model),
        "record": charter.record_of(session, model),
        "submissions": charter.submissions_of(session, model),
        "answers": charter.questions_record(session, model),
        "editable": bool(domain.editable_fields(current_user, model)),
        "refusal": refusal,
        "methods": {
            "planned": planning.planned(session, model),
            "used": planning.used(session, model),
            "may_plan": planning.may_plan(current_user, model),
            "edit_url": url_for("saisine.step", demarche_id=model.id, key="methods")
            if model.stage in (Stage.DRAFT, Stage.RETURNED)
            else url_for("demarche.methods_view", id=model.id),
        },
    }


def _timeline(model: Demarche) -> list[dict]:
    """Transitions and audited actions of the démarche, oldest first."""
    entries: list[dict[str, Any]] = [
        {
            "at": t.at,
            "actor": t.actor,
            "kind": "transition",
            "from": t.from_stage,
            "to": t.to_stage,
            "comment": t.comment,
            "source": t.source,
        }
        for t in model.transitions
    ]
    audits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.demarche_id == model.id).order_by(AuditEntry.id)
    )
    entries += [
        {"at": a.at, "actor": a.actor, "kind": a.action, "summary": timeline.describe(a)}
        for a in audits
    ]
    return sorted(entries, key=lambda e: e["at"])
