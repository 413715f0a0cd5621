"""``/api/v1/demarches/{id}/methods/…``: the toolbox tied to one démarche — the methods that fit
it with their reasons, the methods it plans, the method each channel of contributions used
(events name theirs in ``/api/v1/events``). ``GET /api/v1/demarches/{id}`` lists the methods
planned and used."""

from __future__ import annotations

import dataclasses

import marshmallow as ma
from flask_babel import lazy_gettext
from marshmallow import fields

from workflows.access import get_visible
from workflows.clock import local_date, utcnow
from workflows.demarches import MAX_PARTICIPANTS
from workflows.methods import all_methods, planning, suggestions
from workflows.methods.fields import MAX_COST
from workflows.models import Method

from ..extensions import db
from ..i18n import tr
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import MethodRef, OutSchema, StrictSchema, UseOut, one_of

blp = api_blueprint(
    "api_planning",
    "/api/v1/demarches",
    "A démarche's methods: suggestions with their reasons, the plan, the methods used",
)

LEVELS = [level.value for level in suggestions.LADDER]
MAX_WEEKS = 520  # ten years
# This module's own messages (translated like errors.MARSHMALLOW_MESSAGES; the first two are
# the toolbox filters' too).
SIZE_MESSAGE = "a number of participants between 1 and 10000000 expected"
BUDGET_MESSAGE = "an amount in euros between 0 and 100000000 expected"
WEEKS_MESSAGE = "a number of weeks between 0 and 520 expected"
MESSAGES = (lazy_gettext("a number of weeks between 0 and 520 expected"),)


def _range(low: int, high: int, message: str) -> ma.validate.Range:
    return ma.validate.Range(min=low, max=high, error=message)


class SuggestionQuery(StrictSchema):
    """What-ifs: each value given replaces the saisine's own."""

    level = fields.String(validate=one_of(LEVELS), metadata={"enum": LEVELS})
    size = fields.Integer(
        validate=_range(1, MAX_PARTICIPANTS, SIZE_MESSAGE),
        metadata={"description": "Participants expected (else the saisine's)"},
    )
    budget = fields.Integer(
        validate=_range(0, MAX_COST, BUDGET_MESSAGE),
        metadata={"description": "Euros (else the saisine's)"},
    )
    weeks = fields.Integer(
        validate=_range(0, MAX_WEEKS, WEEKS_MESSAGE),
        metadata={
            "minimum": 0,
            "description": "Weeks left before the participation must be over (else counted "
            "from the saisine's `participation_ends_by`)",
        },
    )


class ReasonOut(OutSchema):
    about = fields.String(metadata={"enum": list(suggestions.REASONS)})
    fits = fields.Boolean(metadata={"description": "false: a reason against the method"})
    text = fields.Function(lambda r: tr(r.text), metadata={"type": "string"})


class SuggestionOut(OutSchema):
    slug = fields.Function(lambda s: s.method.slug, metadata={"type": "string"})
    name = fields.Function(lambda s: s.method.name, metadata={"type": "string"})
    fits = fields.Boolean(metadata={"description": "No reason stands against the method"})
    reasons = fields.List(fields.Nested(ReasonOut))


class NeedOut(OutSchema):
    level = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    budget = fields.Integer(allow_none=True)
    weeks = fields.Integer(allow_none=True)
    public = fields.String()


class SuggestionList(OutSchema):
    need = fields.Nested(NeedOut, metadata={"description": "What was weighed"})
    items = fields.List(fields.Nested(SuggestionOut), metadata={"description": "Best first"})
    total = fields.Integer()


class PlanIn(StrictSchema):
    methods = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Method slugs in order; the restitution is added last if missing"},
    )


class PlanOut(OutSchema):
    items = fields.List(fields.Nested(MethodRef))
    total = fields.Integer()


class ChannelMethodIn(StrictSchema):
    method = fields.String(
        required=True, allow_none=True, metadata={"description": "A slug; null: the usual one"}
    )


class UseList(OutSchema):
    items = fields.List(fields.Nested(UseOut))
    total = fields.Integer()


def plan_out(found: list[Method]) -> dict:
    return {"items": found, "total": len(found)}


@blp.route("/<int:demarche_id>/methods/suggestions")
@blp.arguments(SuggestionQuery, location="query")
@blp.response(200, SuggestionList)
@blp.errors(404)
def list_suggestions(args, demarche_id):
    """The toolbox's methods for the démarche, best first, each with the reasons it fits or
    not (from its level, participants expected, budget, calendar and public)."""
    d = get_visible(db.session(), api_user(), demarche_id)
    need = suggestions.need_of(d, local_date(utcnow()))
    need = dataclasses.replace(need, **args)
    found = suggestions.suggest(all_methods(db.session()), need)
    return {"need": need, "items": found, "total": len(found)}


@blp.route("/<int:demarche_id>/methods/planned", methods=["PUT"])
@blp.arguments(PlanIn)
@blp.response(200, PlanOut)
@blp.errors(400, 403, 404, 409, 422)
def put_plan(body, demarche_id):
    """Set the methods the démarche plans, in order (the department while it writes its saisine
    and prepares the launch, the mission until the closing)."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    found = planning.plan(db.session(), api_user(), d, body["methods"], as_of=utcnow())
    db.session.commit()
    return plan_out(found)


@blp.route("/<int:demarche_id>/methods/channels/<channel>", methods=["PUT"])
@blp.arguments(ChannelMethodIn)
@blp.response(200, UseList)
@blp.errors(400, 403, 404, 422)
def put_channel_method(body, demarche_id, channel):
    """Name the method a channel of contributions used (`online`, `mail`, `import`); null
    goes back to the channel's usual method. Answers the démarche's methods used."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    planning.name_channel_method(
        db.session(), api_user(), d, channel, body["method"], as_of=utcnow()
    )
    db.session.commit()
    uses = planning.used(db.session(), d)
    return {"items": uses, "total": len(uses)}
