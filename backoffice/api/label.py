"""``/api/v1/demarches/{id}/label`` and ``/api/v1/label/rules``: the charter's label — the
mission awards a closed démarche a level (another than the proposal with a public reason),
and anyone reads the rules in force (``workflows.label``). The shapes of the proposal and the
award are also ``GET …/evaluation``'s ``proposed_label`` and ``label``."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from workflows import label
from workflows.access import get_visible
from workflows.clock import utcnow
from workflows.errors import PermissionDenied
from workflows.i18n import N_
from workflows.models import Demarche, LabelAward

from ..extensions import db
from ..i18n import tr
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import OutSchema, StrictSchema, Text, one_of, text_out

blp = api_blueprint(
    "api_label",
    "/api/v1",
    "The charter's label: the rules in force, the mission's award",
)

LEVELS = list(label.LEVELS)
STATUSES = [label.MET, label.NOT_MET, label.NOT_COMPUTED]


class CriterionOut(OutSchema):
    indicator = fields.String(metadata={"description": "An indicator's code, or a fact's"})
    measure = fields.String(metadata={"enum": list(label.MEASURES)})
    comparison = fields.String(metadata={"enum": list(label.COMPARISONS)})
    threshold = fields.Float()
    label = fields.String(metadata={"description": "In French, as the mission wrote it"})


class CheckOut(CriterionOut):
    level = fields.String(
        allow_none=True, metadata={"enum": [*LEVELS, None], "description": "null: a gate"}
    )
    value = fields.Float(allow_none=True, metadata={"description": "null: not computed"})
    met = fields.Boolean()
    status = fields.String(metadata={"enum": STATUSES})


class LevelSummaryOut(OutSchema):
    code = fields.String(metadata={"enum": LEVELS})
    label = fields.String()
    met = fields.Boolean(metadata={"description": "Its criteria all hold (the gates aside)"})


class ProposalOut(OutSchema):
    level = fields.String(
        allow_none=True,
        metadata={"enum": [*LEVELS, None], "description": "The level proposed; null: none"},
    )
    label = text_out(lambda p: p.label, description="e.g. « ★★ Démarche de qualité »")
    rules_version = fields.Integer()
    gates_met = fields.Boolean()
    criteria = fields.List(
        fields.Nested(CheckOut),
        metadata={"description": "The gates (level null), then each level's criteria"},
    )
    levels = fields.List(fields.Nested(LevelSummaryOut))


class AwardOut(OutSchema):
    level = fields.String(
        allow_none=True,
        metadata={"enum": [*LEVELS, None], "description": "null: withdrawn"},
    )
    label = text_out(lambda a: a.label)
    reason = fields.String(metadata={"description": "Public"})
    awarded_at = fields.DateTime()
    rules_version = fields.Integer(metadata={"description": "The version it was judged by"})
    proposed_level = fields.String(
        allow_none=True,
        metadata={"enum": [*LEVELS, None], "description": "What the rules proposed then"},
    )


class LevelOut(OutSchema):
    code = fields.String(metadata={"enum": LEVELS})
    label = fields.String()
    criteria = fields.List(fields.Nested(CriterionOut))


class RulesOut(OutSchema):
    version = fields.Integer()
    note = fields.String()
    gates = fields.List(fields.Nested(CriterionOut))
    levels = fields.List(fields.Nested(LevelOut))
    indicators = fields.Function(
        lambda r: {code: tr(name) for code, name in label.known_codes().items()},
        metadata={
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Every code a criterion may name, with its French name",
        },
    )


class LabelIn(StrictSchema):
    level = fields.String(
        required=True,
        allow_none=True,
        validate=one_of([*LEVELS, label.NONE]),
        metadata={"enum": [*LEVELS, label.NONE, None], "description": "none or null: withdraw"},
    )
    reason = Text(
        label.MAX_REASON,
        load_default="",
        allow_none=True,
        metadata={"description": "Public; required for any level other than the proposal"},
    )


class Shown:
    """What ProposalOut dumps: the proposal, its criteria in one list."""

    def __init__(self, proposal: label.Proposal) -> None:
        self.level, self.label = proposal.level, proposal.label
        self.rules_version, self.gates_met = proposal.rules_version, proposal.gates_met
        rows = [{**g.to_json(), "level": None, "met": g.met} for g in proposal.gates]
        for lv in proposal.levels:
            rows += [{**c.to_json(), "level": lv.code, "met": c.met} for c in lv.checks]
        self.criteria: list[dict[str, Any]] = [{"measure": "value", **row} for row in rows]
        self.levels = [
            {"code": lv.code, "label": lv.label, "met": lv.met} for lv in proposal.levels
        ]


class Award:
    """What AwardOut dumps: the row and its level's label in the rules it was judged by."""

    def __init__(self, row: LabelAward, rules: label.Rules) -> None:
        self.level, self.reason, self.awarded_at = row.level, row.reason, row.awarded_at
        self.rules_version, self.proposed_level = row.rules_version, row.proposed_level
        self.label = rules.label_of(row.level)


def award_shown(d: Demarche) -> Award | None:
    """The démarche's award as the API shows it; None when never judged."""
    found = label.award_of(db.session(), d)
    return Award(found, label.rules_for(db.session(), d, found)) if found is not None else None


@blp.route("/demarches/<int:demarche_id>/label", methods=["PUT"])
@blp.arguments(LabelIn)
@blp.response(200, AwardOut)
@blp.errors(400, 403, 404, 409, 422)
def put_label(body, demarche_id):
    """Mission only: award the closed démarche ``level`` (``none`` or null withdraws it),
    with a public ``reason`` — required for any level other than the one the rules propose
    (``GET …/evaluation``'s ``proposed_label``). **409** before the closing; **422** a level
    other than the proposal without a reason (French), nothing saved."""
    if not api_user().is_mission:
        raise PermissionDenied(N_("only the mission awards the label"))
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    label.award(db.session(), d, body["level"], body.get("reason"), api_user(), utcnow())
    db.session.commit()
    return award_shown(d)


@blp.route("/label/rules")
@blp.response(200, RulesOut)
@blp.errors()
def get_rules():
    """The label's rules in force, any token: the gates every level needs, and each level's
    criteria (indicator, comparison, threshold, French label)."""
    return label.in_force(db.session())
