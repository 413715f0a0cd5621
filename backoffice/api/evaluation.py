"""``/api/v1/demarches/{id}/evaluation`` and ``…/self-assessment``: the evaluation of a démarche
(live until its closing, frozen then) and the department's self-assessment with the mission's
review — the same domain functions and messages as the démarche's sheet."""

from __future__ import annotations

from marshmallow import fields

from workflows import evaluation, label
from workflows.access import get_readable, get_visible
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.evaluation.self_assessment import (
    MAX_COMMENT,
    MAX_NOTES,
    QUESTIONS,
    REVIEW_DECISIONS,
)
from workflows.i18n import N_
from workflows.models import Demarche, SelfAssessment, SelfAssessmentStatus
from workflows.roles import STAFF_ROLES
from workflows.stages import Stage

from ..extensions import db
from ..i18n import tr
from .auth import api_user
from .blueprints import api_blueprint
from .label import AwardOut, ProposalOut, Shown, award_shown
from .schemas import OutSchema, StrictSchema, Text, text_out

blp = api_blueprint(
    "api_evaluation",
    "/api/v1/demarches",
    "A démarche's evaluation (indicators, scores, formulas) and its self-assessment",
)

STATUSES = [status.value for status in SelfAssessmentStatus]


class IndicatorOut(OutSchema):
    code = fields.String(metadata={"enum": list(evaluation.CODES)})
    dimension = fields.String(metadata={"enum": list(evaluation.DIMENSION_LABELS)})
    label = fields.Function(lambda i: tr(i.label), metadata={"type": "string"})
    value = fields.Float(
        allow_none=True,
        metadata={"description": "A share (0 to 1), a rate, days or a count; null: not computed"},
    )
    display = text_out(
        lambda i: tr(i.display) if i.display else None,
        description="The value in French words, e.g. « 87 % », « 12,4 pour 1 000 habitants »",
    )
    score = fields.Integer(
        allow_none=True, metadata={"minimum": 1, "maximum": 5, "description": "null: no value"}
    )
    formula = fields.Function(lambda i: tr(i.formula), metadata={"type": "string"})
    counted = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": 'The rows it counted, e.g. {"deadlines": 12, "due": 10}'},
    )
    missing = text_out(
        lambda i: tr(i.missing) if i.missing else None,
        description="Why it could not be computed (French), e.g. « aucune question posée »",
    )
    details = fields.Dict(
        metadata={"description": "What it shows beyond a number (per canton, the elements…)"}
    )


class DimensionOut(OutSchema):
    code = fields.String(metadata={"enum": list(evaluation.DIMENSION_LABELS)})
    label = fields.Function(lambda d: tr(d.label), metadata={"type": "string"})
    score = fields.Float(
        allow_none=True,
        metadata={"description": "The mean of its computed indicators' scores; null: none is"},
    )
    indicators = fields.Function(
        lambda d: [i.code for i in d.indicators],
        metadata={"type": "array", "items": {"type": "string"}},
    )


class SelfAssessmentOut(OutSchema):
    status = fields.String(metadata={"enum": STATUSES})
    status_label = fields.Function(lambda s: tr(s.status.label), metadata={"type": "string"})
    answers = fields.Dict(keys=fields.String(), values=fields.String())
    comments = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.String()
    submitted_at = fields.DateTime()
    submitted_by = text_out(lambda s: s.submitted_by.display_name if s.submitted_by else None)
    reviewed_at = fields.DateTime(allow_none=True)
    reviewed_by = text_out(lambda s: s.reviewed_by.display_name if s.reviewed_by else None)
    review_comment = fields.String()


class EvaluationOut(OutSchema):
    demarche_id = fields.Integer()
    as_of = fields.DateTime(metadata={"description": "The date of the data it was computed from"})
    frozen_at = fields.DateTime(
        allow_none=True, metadata={"description": "When it was frozen (the closing); null: live"}
    )
    scores_version = fields.Integer()
    dimensions = fields.List(fields.Nested(DimensionOut))
    indicators = fields.List(fields.Nested(IndicatorOut))
    proposed_label = fields.Nested(
        ProposalOut,
        metadata={
            "description": "What the label's rules propose: those the démarche was judged by "
            "once judged, else the rules in force"
        },
    )
    label = fields.Nested(
        AwardOut,
        allow_none=True,
        metadata={"description": "The label the mission awarded; null: never judged"},
    )
    self_assessment = fields.Nested(
        SelfAssessmentOut,
        allow_none=True,
        metadata={"description": "Staff only (null for a citizen, or while not filled)"},
    )


_CHOICES = {q.code: list(q.values) for q in QUESTIONS}
SelfAssessmentIn = StrictSchema.from_dict(
    {
        **{
            code: fields.String(
                metadata={"enum": choices, "description": "Required: one of the choices"}
            )
            for code, choices in _CHOICES.items()
        },
        **{f"{code}_comment": Text(MAX_COMMENT) for code in _CHOICES},
        "notes": Text(MAX_NOTES),
    },
    name="SelfAssessmentIn",
)


class ReviewIn(StrictSchema):
    decision = fields.String(required=True, metadata={"enum": list(REVIEW_DECISIONS)})
    comment = Text(
        MAX_COMMENT,
        load_default="",
        metadata={"description": "Required to ask the department to complete it"},
    )


class _Answer:
    """What EvaluationOut dumps: the evaluation and the self-assessment beside it."""

    def __init__(
        self,
        found: evaluation.Evaluation,
        self_assessment: SelfAssessment | None,
        d: Demarche,
    ):
        self.self_assessment = self_assessment
        self.proposed_label = Shown(label.proposal_for(db.session(), d, found, as_of=utcnow()))
        self.label = award_shown(d)
        for name in ("demarche_id", "as_of", "frozen_at", "scores_version", "dimensions"):
            setattr(self, name, getattr(found, name))
        self.indicators = found.indicators


@blp.route("/<int:demarche_id>/evaluation")
@blp.response(200, EvaluationOut)
@blp.errors(404)
def get_evaluation(demarche_id):
    """The démarche's evaluation: computed from its record now, or as frozen at its closing
    (``frozen_at``). Staff: the démarches they see, with the self-assessment; anyone else:
    a closed démarche's evaluation, without it."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    staff = user.has_any_role(*STAFF_ROLES)
    if not staff and d.stage != Stage.CLOSED:
        raise NotFound(N_("the evaluation of a démarche is public once it is closed"))
    found = evaluation.evaluate(db.session(), d, as_of=utcnow())
    mine = evaluation.self_assessment_of(db.session(), d) if staff else None
    return _Answer(found, mine, d)


@blp.route("/<int:demarche_id>/self-assessment", methods=["PUT"])
@blp.arguments(SelfAssessmentIn)
@blp.response(200, SelfAssessmentOut)
@blp.errors(400, 403, 404, 409, 422)
def put_self_assessment(body, demarche_id):
    """Fill (or fill again) the self-assessment: the démarche's department or the mission,
    once it is launched; it then awaits the mission's review. **422** an answer missing or
    unknown (French, by field), nothing saved."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    done = evaluation.submit(
        db.session(),
        api_user(),
        d,
        answers={code: body.get(code) for code in _CHOICES},
        comments={code: body.get(f"{code}_comment") for code in _CHOICES},
        notes=body.get("notes", ""),
        as_of=utcnow(),
    )
    db.session.commit()
    return done


@blp.route("/<int:demarche_id>/self-assessment/review", methods=["POST"])
@blp.arguments(ReviewIn)
@blp.response(200, SelfAssessmentOut)
@blp.errors(400, 403, 404, 409, 422)
def review_self_assessment(body, demarche_id):
    """The mission accepts the self-assessment (``accept``, a comment if it wishes) or asks
    the department to complete it (``complete``, the comment saying what). **409** when none
    awaits a review."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    done = evaluation.review(
        db.session(),
        api_user(),
        d,
        decision=body["decision"],
        comment=body["comment"],
        as_of=utcnow(),
    )
    db.session.commit()
    return done
