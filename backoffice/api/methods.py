"""``/api/v1/methods``: the toolbox's methods — read by anyone with a token (the same filters as
the public page ``/boite-a-outils``), written by the mission (as in the back office: audited,
retired rather than deleted once a démarche plans or used them)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext
from marshmallow import fields

from workflows import methods
from workflows.clock import utcnow
from workflows.methods import fields as method_fields
from workflows.methods.catalogue import MAX_QUERY, WHOLE_NUMBERS, Filters

from ..extensions import db
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import NOT_BLANK, MaxLength, OutSchema, StrictSchema, one_of

blp = api_blueprint(
    "api_methods",
    "/api/v1/methods",
    "The toolbox: participation methods, their fit and cost (the mission edits them)",
)

LEVELS = list(method_fields.LEVELS)
FORMATS = list(method_fields.FORMATS)
RECRUITMENTS = list(method_fields.RECRUITMENTS)

# This module's own messages (translated like errors.MARSHMALLOW_MESSAGES); those of the
# whole-number filters are written from the domain's bounds by ``_whole_number``.
MESSAGES = (
    lazy_gettext("a number of participants between 1 and 10000000 expected"),
    lazy_gettext("an amount in euros between 0 and 100000000 expected"),
    lazy_gettext("a number of days between 1 and 3650 expected"),
    lazy_gettext("at most 200 characters expected"),
)

#: The whole-number filters (their bounds: the domain's ``WHOLE_NUMBERS``): what the number
#: is, as its message says, and its description.
WHOLE_NUMBER_TEXTS = {
    "size": ("a number of participants", "Participants expected: within the method's group size"),
    "max_cost": ("an amount in euros", "Euros: the method's lowest cost is not above it"),
    "duration": ("a number of days", "Days: the method takes no longer"),
}


def _whole_number(name: str) -> fields.Integer:
    bounds = WHOLE_NUMBERS[name]
    what, description = WHOLE_NUMBER_TEXTS[name]
    message = f"{what} between {bounds.low} and {bounds.high} expected"
    return fields.Integer(
        validate=ma.validate.Range(min=bounds.low, max=bounds.high, error=message),
        metadata={"description": description},
    )


class MethodQuery(StrictSchema):
    level = fields.String(
        validate=one_of(LEVELS),
        metadata={"enum": LEVELS, "description": "Methods serving this participation level"},
    )
    format = fields.String(
        validate=one_of(FORMATS),
        metadata={"enum": FORMATS, "description": "A hybrid method matches either format"},
    )
    size = _whole_number("size")
    max_cost = _whole_number("max_cost")
    duration = _whole_number("duration")
    q = fields.String(
        validate=ma.validate.Length(max=MAX_QUERY, error="at most 200 characters expected"),
        metadata={"description": "Words, all found in its texts (case and accents ignored)"},
    )
    include_retired = fields.Boolean(
        load_default=False, metadata={"description": "Also the methods the mission retired"}
    )


class Choices(fields.List):
    """A list of values, whose bad items are one message on the field (the error shape maps a
    field to a list of messages, not to a message per item)."""

    def __init__(self, values: list[str]) -> None:
        super().__init__(fields.String(metadata={"enum": values}), metadata={"minItems": 1})

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError:
            raise ma.ValidationError(["Invalid value."]) from None


def _text(most: int, **kwargs) -> fields.String:
    return fields.String(validate=MaxLength(most), **kwargs)


class MethodPatch(StrictSchema):
    """The values of a method (every one optional in a PATCH; the 2019 ratings taken from
    consultation.gouv.fr are read-only)."""

    slug = fields.String(
        metadata={"pattern": method_fields.SLUG.pattern, "maxLength": method_fields.MAX_SLUG}
    )
    name = _text(method_fields.MAX_NAME, metadata=NOT_BLANK)
    levels = Choices(LEVELS)
    size_min = fields.Integer(metadata={"minimum": 1})
    size_max = fields.Integer(allow_none=True, metadata={"description": "null: no upper limit"})
    format = fields.String(metadata={"enum": FORMATS})
    recruitment = Choices(RECRUITMENTS)
    preparation_weeks = fields.Integer(metadata={"minimum": 0})
    duration_days = fields.Integer(metadata={"minimum": 1})
    cost_min = fields.Integer(metadata={"minimum": 0, "description": "Euros, VAT included"})
    cost_max = fields.Integer(metadata={"minimum": 0})
    cost_year = fields.Integer(metadata={"description": "The year of the cost figures"})
    retired = fields.Boolean(metadata={"description": "Hidden from the toolbox's list"})
    summary = _text(method_fields.MAX_TEXT)
    objectives = _text(method_fields.MAX_TEXT)
    duration = _text(method_fields.MAX_TEXT)
    cost_note = _text(method_fields.MAX_TEXT)
    skills = _text(method_fields.MAX_TEXT)
    when_to_use = _text(method_fields.MAX_TEXT)
    when_to_avoid = _text(method_fields.MAX_TEXT)
    strengths = _text(method_fields.MAX_TEXT)
    limits = _text(method_fields.MAX_TEXT)
    produces = _text(method_fields.MAX_TEXT)
    accessibility = _text(method_fields.MAX_TEXT)
    sources = _text(method_fields.MAX_TEXT)
    licence = _text(method_fields.MAX_TEXT)


#: What a new method must have (the other texts may be empty; ``size_max`` may be null).
REQUIRED = frozenset(
    {
        "slug",
        "name",
        "summary",
        "levels",
        "format",
        "recruitment",
        "size_min",
        "preparation_weeks",
        "duration_days",
        "cost_min",
        "cost_max",
        "cost_year",
    }
)


class MethodIn(MethodPatch):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if field_name in REQUIRED:
            field_obj.required = True


class MethodOut(OutSchema):
    slug = fields.String()
    name = fields.String()
    levels = fields.List(fields.String(metadata={"enum": LEVELS}))
    size_min = fields.Integer()
    size_max = fields.Integer(allow_none=True, metadata={"description": "null: no upper limit"})
    format = fields.Function(
        lambda m: getattr(m.format, "value", m.format), metadata={"type": "string", "enum": FORMATS}
    )
    recruitment = fields.List(fields.String(metadata={"enum": RECRUITMENTS}))
    preparation_weeks = fields.Integer()
    duration_days = fields.Integer()
    cost_min = fields.Integer()
    cost_max = fields.Integer()
    cost_year = fields.Integer()
    ratings = fields.Dict(keys=fields.String(), values=fields.String())
    retired = fields.Boolean()
    shipped = fields.Boolean(metadata={"description": "Loaded from the catalogue file"})
    edited_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Last changed by the mission"}
    )
    summary = fields.String()
    objectives = fields.String()
    duration = fields.String()
    cost_note = fields.String()
    skills = fields.String()
    when_to_use = fields.String()
    when_to_avoid = fields.String()
    strengths = fields.String()
    limits = fields.String()
    produces = fields.String()
    accessibility = fields.String()
    sources = fields.String()
    licence = fields.String()


class MethodList(OutSchema):
    items = fields.List(fields.Nested(MethodOut))
    total = fields.Integer()


@blp.route("")
@blp.arguments(MethodQuery, location="query")
@blp.response(200, MethodList)
@blp.errors()
def list_methods(args):
    """The methods passing the filters, by name (retired ones only with ``include_retired``)."""
    found = methods.search(db.session(), Filters(**args))
    return {"items": found, "total": len(found)}


@blp.route("/<slug>")
@blp.response(200, MethodOut)
@blp.errors(404)
def get_method(slug):
    """One method, retired or not."""
    return methods.get_method(db.session(), slug)


@blp.route("", methods=["POST"])
@blp.arguments(MethodIn)
@blp.response(201, MethodOut)
@blp.errors(400, 403, 422)
def create_method(body):
    """The mission adds a method (a load of the catalogue file never touches it)."""
    retired = body.pop("retired", False)
    now = utcnow()
    values = {name: None for name in method_fields.COLUMNS} | body
    method = methods.create_method(db.session(), api_user(), values, as_of=now)
    methods.set_retired(db.session(), api_user(), method, retired, as_of=now)
    db.session.commit()
    return method


@blp.route("/<slug>", methods=["PATCH"])
@blp.arguments(MethodPatch, required=False)
@blp.response(200, MethodOut)
@blp.errors(400, 403, 404, 422)
def update_method(body, slug):
    """The mission changes a method (the fields sent), retires it or brings it back."""
    method = methods.get_method(db.session(), slug)
    body = dict(body or {})
    retired = body.pop("retired", None)
    now = utcnow()
    methods.update_method(db.session(), api_user(), method, body, as_of=now)
    if retired is not None:
        methods.set_retired(db.session(), api_user(), method, retired, as_of=now)
    db.session.commit()
    return method


@blp.route("/<slug>", methods=["DELETE"])
@blp.response(204)
@blp.errors(403, 404, 409)
def delete_method(slug):
    """The mission deletes a method no démarche plans nor used (409 otherwise: retire it)."""
    method = methods.get_method(db.session(), slug)
    methods.delete_method(db.session(), api_user(), method, as_of=utcnow())
    db.session.commit()
