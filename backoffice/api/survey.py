"""``/api/v1/demarches/{id}/survey``: the participants' survey of a démarche — its aggregates
(hidden below the minimum of answers for anyone but staff; never the free texts) — and
``…/survey/answers``: a paper answer typed by the mission (the same checks and French
messages as the questionnaire)."""

from __future__ import annotations

from marshmallow import fields

from workflows import survey
from workflows.access import get_readable, get_visible
from workflows.clock import utcnow
from workflows.roles import STAFF_ROLES

from ..extensions import db
from ..i18n import tr
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import OutSchema, StrictSchema, Text, text_out

blp = api_blueprint(
    "api_survey",
    "/api/v1/demarches",
    "The participants' survey: its aggregates, and the paper answers the mission types in",
)

CODES = [s.code for s in survey.STATEMENTS]
AGE_BANDS = [value for value, _ in survey.AGE_BANDS]
FIRST_TIME = [value for value, _ in survey.FIRST_TIME]


class StatementOut(OutSchema):
    code = fields.String(metadata={"enum": CODES})
    statement = fields.Function(lambda s: tr(s.text), metadata={"type": "string"})
    distribution = fields.Function(
        lambda s: s.to_json()["distribution"],
        metadata={
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": 'Answers per score, "1" (strongly disagree) to "5" (strongly agree)',
        },
    )
    answered = fields.Integer()
    mean = fields.Float(allow_none=True)
    agreeing = fields.Float(
        allow_none=True, metadata={"description": "Share of answers 4 or 5 (0 to 1)"}
    )


class SurveyOut(OutSchema):
    demarche_id = fields.Integer()
    sent = fields.Boolean(metadata={"description": "The survey's mailing was sent"})
    invitations = fields.Integer(metadata={"description": "Participants invited by email"})
    answers = fields.Integer(metadata={"description": "Answers, online and paper"})
    online = fields.Integer()
    paper = fields.Integer()
    minimum = fields.Integer(metadata={"description": "Answers needed to publish the results"})
    published = fields.Boolean(metadata={"description": "At least `minimum` answers"})
    missing = text_out(
        lambda r: tr(r.missing) if r.missing else None,
        description="Why the results are not published: « trop peu de réponses pour publier »",
    )
    response_rate = fields.Float(
        allow_none=True,
        metadata={"description": "Online answers ÷ invitations; null when hidden or none sent"},
    )
    statements = fields.List(
        fields.Nested(StatementOut),
        metadata={"description": "Empty below the minimum (staff: shown, `published` false)"},
    )
    first_time = fields.Dict(keys=fields.String(), values=fields.Integer())
    age_bands = fields.Dict(keys=fields.String(), values=fields.Integer())


PaperAnswerIn = StrictSchema.from_dict(
    {
        **{
            s.code: fields.Integer(
                metadata={
                    "minimum": 1,
                    "maximum": 5,
                    "description": f"Required: « {s.text.text} », 1 (strongly disagree) to 5",
                }
            )
            for s in survey.STATEMENTS
        },
        "comment": Text(survey.questions.MAX_COMMENT),
        "first_time": fields.String(metadata={"enum": [*FIRST_TIME, ""]}),
        "age_band": fields.String(metadata={"enum": [*AGE_BANDS, ""]}),
    },
    name="PaperAnswerIn",
)


class PaperAnswerDone(OutSchema):
    answers = fields.Integer(metadata={"description": "The démarche's answers now"})


@blp.route("/<int:demarche_id>/survey")
@blp.response(200, SurveyOut)
@blp.errors(404)
def get_survey(demarche_id):
    """The survey's aggregates: answers, invitations, the response rate, each statement's
    distribution, mean and share agreeing. Below ``minimum`` answers the aggregates are hidden
    (« trop peu de réponses pour publier ») — staff see them, ``published`` false. The free
    texts are never given. Staff: the démarches they see; anyone else: a public démarche."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    return survey.results(db.session(), d, reveal=user.has_any_role(*STAFF_ROLES))


@blp.route("/<int:demarche_id>/survey/answers", methods=["POST"])
@blp.arguments(PaperAnswerIn)
@blp.response(201, PaperAnswerDone)
@blp.errors(400, 403, 404, 409, 422)
def post_paper_answer(body, demarche_id):
    """A paper answer, typed by the mission (a launched démarche): each statement's score
    from 1 to 5, required; ``comment``, ``first_time`` and ``age_band`` optional. **422** a
    score missing or out of range (French, by field), nothing written. Stored apart like the
    online answers (no person, no time)."""
    d = get_visible(db.session(), api_user(), demarche_id)
    survey.add_paper_answer(db.session(), api_user(), d, body, as_of=utcnow())
    db.session.commit()
    return {"answers": survey.answer_count(db.session(), d)}
