"""``/api/v1/guide``: the methodological guide as data — the same content as the public page
``/guide`` (stages with their roles and checklists, the ladder, the charter in force, the
templates), its messages in French, and the latest edition of its PDF."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from workflows.clock import utcnow
from workflows.guide import Guide, build_guide
from workflows.stages import ParticipationLevel, Stage

from ..extensions import db
from ..i18n import tr
from ..outgoing import guide as outgoing
from ..outgoing.links import url
from .blueprints import api_blueprint
from .schemas import OutSchema

blp = api_blueprint(
    "api_guide",
    "/api/v1/guide",
    "The methodological guide, generated from the stages, the charter in force and the templates",
)

STAGES = [s.value for s in Stage]
LEVELS = [level.value for level in ParticipationLevel]


class FactOut(OutSchema):
    name = fields.String()
    value = fields.String()


class RuleOut(OutSchema):
    code = fields.String()
    label = fields.String()
    kind = fields.String(metadata={"enum": ["deadline", "validation", "reminder"]})
    kind_label = fields.String()
    facts = fields.List(fields.Nested(FactOut))
    stage = fields.String(
        allow_none=True, metadata={"description": "Where a deadline's clock starts"}
    )


class CharterOut(OutSchema):
    number = fields.Integer(
        allow_none=True, metadata={"description": "The version in force (null: none)"}
    )
    note = fields.String()
    published_at = fields.AwareDateTime(allow_none=True)
    rules = fields.List(fields.Nested(RuleOut))


class ExitOut(OutSchema):
    target = fields.String(metadata={"enum": STAGES})
    label = fields.String()
    by = fields.List(fields.String(), metadata={"description": "The roles that may make it"})
    checklist = fields.List(fields.String(), metadata={"description": "What must be true"})


class StageOut(OutSchema):
    stage = fields.String(metadata={"enum": STAGES})
    label = fields.String()
    summary = fields.String()
    department = fields.String(metadata={"description": "What the department does"})
    mission = fields.String(metadata={"description": "What the mission does"})
    elected = fields.String(metadata={"description": "What the elected official does"})
    exits = fields.List(fields.Nested(ExitOut), metadata={"description": "None: a final stage"})
    deadlines = fields.List(
        fields.String(), metadata={"description": "Codes of the charter's deadlines starting"}
    )


class LadderMethod(OutSchema):
    """A method on a rung of the ladder (retired ones are left out)."""

    slug = fields.String()
    name = fields.String()


class RungOut(OutSchema):
    level = fields.String(metadata={"enum": LEVELS})
    label = fields.String()
    text = fields.String()
    methods = fields.List(fields.Nested(LadderMethod))


class FieldOut(OutSchema):
    token = fields.String(metadata={"description": "As written in the text, in brackets"})
    help = fields.String()


class TemplateOut(OutSchema):
    key = fields.String(metadata={"enum": ["invitation", "feedback", "synthesis_introduction"]})
    title = fields.String()
    use = fields.String()
    to = fields.List(fields.String())
    subject = fields.String()
    text = fields.String()
    source = fields.String(metadata={"description": "The file of the project it comes from"})
    # ``fields`` in the answer (a schema's own ``fields`` attribute is marshmallow's).
    bracketed = fields.List(fields.Nested(FieldOut), data_key="fields", attribute="fields")


class EditionOut(OutSchema):
    url = fields.String()
    made_at = fields.AwareDateTime()
    pages = fields.Integer()


class GuideOut(OutSchema):
    as_of = fields.AwareDateTime()
    stages = fields.List(fields.Nested(StageOut))
    ladder = fields.List(fields.Nested(RungOut))
    charter = fields.Nested(CharterOut)
    templates = fields.List(fields.Nested(TemplateOut))
    pdf = fields.Nested(
        EditionOut,
        allow_none=True,
        metadata={"description": "The latest edition of the PDF (null: none made yet)"},
    )


def rendered(guide: Guide) -> dict[str, Any]:
    """The guide with its messages in French."""
    return {
        "as_of": guide.as_of,
        "stages": [
            {
                "stage": s.stage.value,
                "label": tr(s.label),
                "summary": s.summary,
                "department": s.department,
                "mission": s.mission,
                "elected": s.elected,
                "exits": [
                    {
                        "target": e.target.value,
                        "label": tr(e.label),
                        "by": [tr(m) for m in e.by],
                        "checklist": [tr(m) for m in e.checklist],
                    }
                    for e in s.exits
                ],
                "deadlines": [r.code for r in s.deadlines],
            }
            for s in guide.stages
        ],
        "ladder": [
            {
                "level": r.level.value,
                "label": tr(r.label),
                "text": r.text,
                "methods": [{"slug": slug, "name": name} for slug, name in r.methods],
            }
            for r in guide.ladder
        ],
        "charter": {
            "number": guide.charter.number,
            "note": guide.charter.note,
            "published_at": guide.charter.published_at,
            "rules": [
                {
                    "code": r.code,
                    "label": r.label,
                    "kind": r.kind,
                    "kind_label": tr(r.kind_label),
                    "facts": [{"name": tr(n), "value": tr(v)} for n, v in r.facts],
                    "stage": r.stage.value if r.stage else None,
                }
                for r in guide.charter.rules
            ],
        },
        "templates": [
            {
                "key": t.key,
                "title": tr(t.title),
                "use": tr(t.use),
                "to": [tr(m) for m in t.to],
                "subject": t.subject,
                "text": t.text,
                "fields": [{"token": token, "help": tr(h)} for token, h in t.fields],
                "source": t.source,
            }
            for t in guide.templates
        ],
    }


@blp.route("")
@blp.response(200, GuideOut)
@blp.errors()
def get_guide():
    """The guide as it stands now (any token); the toolbox's methods are at
    ``/api/v1/methods``."""
    session = db.session()
    edition = outgoing.latest(session)
    return {
        **rendered(build_guide(session, as_of=utcnow())),
        "pdf": {
            "url": url("public.guide_pdf"),
            "made_at": edition.made_at,
            "pages": edition.pages,
        }
        if edition is not None
        else None,
    }
