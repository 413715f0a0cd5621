"""``/api/v1/trainings``: the mission's training sessions (the same rules and French messages
as the back office: audited, attendees among the department agents and the elected officials)
and which departments have trained agents (``workflows.training``). Mission only."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext
from marshmallow import fields

from workflows import training
from workflows.clock import end_of_local_day, local_date, utcnow
from workflows.errors import PermissionDenied
from workflows.i18n import N_
from workflows.models import User
from workflows.roles import RoleName

from ..extensions import db
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import OutSchema, StrictSchema, Text, one_of, text_out

blp = api_blueprint(
    "api_training",
    "/api/v1/trainings",
    "Training sessions of agents and elected officials, and the departments' trained agents",
)

FORMATS = list(training.FORMATS)
# This module's own messages (translated like errors.MARSHMALLOW_MESSAGES).
MESSAGES = (lazy_gettext("a date between 2000 and 2100 expected"),)
ATTENDEE = {
    "oneOf": [
        {"type": "integer", "description": "An account's id"},
        {"type": "string", "description": "An account's email address"},
    ]
}


def _mission() -> None:
    if not api_user().is_mission:
        raise PermissionDenied(N_("training sessions are the mission's to record"))


class TrainingQuery(StrictSchema):
    upcoming = fields.Boolean(
        load_default=False,
        metadata={"description": "Only the sessions of today and after, soonest first"},
    )


class Attendees(fields.List):
    """A list of accounts whose bad items are one message on the field (the error shape maps
    a field to a list of messages, not to a message per item)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError:
            raise ma.ValidationError(["Invalid value."]) from None


class TrainingPatch(StrictSchema):
    date = fields.Date(metadata={"description": "The day of the session (ISO date)"})
    theme = Text(training.MAX_THEME, blank=False)
    place = Text(training.MAX_PLACE, allow_none=True)
    format = fields.String(
        allow_none=True,
        validate=one_of(FORMATS),
        metadata={"enum": [*FORMATS, None], "description": "null: not said"},
    )
    notes = Text(training.MAX_NOTES, allow_none=True)
    attendees = Attendees(
        fields.Raw(metadata=ATTENDEE),
        metadata={
            "description": "Department agents and elected officials, by id or email address "
            "(all of them: the list replaces the one recorded)",
            "maxItems": training.MAX_ATTENDEES,
        },
    )


class TrainingIn(TrainingPatch):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if field_name in ("date", "theme"):
            field_obj.required = True


def _role(user: User) -> str | None:
    if user.has_any_role(RoleName.DEPARTMENT):
        return RoleName.DEPARTMENT.value
    if user.has_any_role(RoleName.ELECTED):
        return RoleName.ELECTED.value
    return None


class AttendeeOut(OutSchema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")
    email = fields.String()
    department = text_out(lambda u: u.department.name if u.department else None)
    role = fields.Function(
        _role,
        metadata={
            "type": "string",
            "nullable": True,
            "enum": ["department", "elected", None],
            "description": "Agent or elected official (null: no longer either)",
        },
    )


class TrainingOut(OutSchema):
    id = fields.Integer()
    date = fields.Date()
    theme = fields.String()
    place = fields.String()
    format = fields.Function(
        lambda s: s.format.value if s.format else None,
        metadata={"type": "string", "nullable": True, "enum": [*FORMATS, None]},
    )
    notes = fields.String()
    attendees = fields.List(fields.Nested(AttendeeOut))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TrainingList(OutSchema):
    items = fields.List(fields.Nested(TrainingOut))
    total = fields.Integer()


class StatusQuery(StrictSchema):
    as_of = fields.Date(
        validate=ma.validate.Range(
            min=date(training.MIN_YEAR, 1, 1),
            max=date(training.MAX_YEAR, 12, 31),
            error="a date between 2000 and 2100 expected",
        ),
        metadata={"description": "The day to judge on (ISO date, 2000 to 2100; default today)"},
    )


class TrainedOut(OutSchema):
    id = fields.Integer(attribute="user.id")
    name = fields.String(attribute="user.display_name")
    email = fields.String(attribute="user.email")
    last_session = fields.Date(metadata={"description": "Their latest session within the validity"})


class DepartmentTrainingOut(OutSchema):
    department = fields.String(attribute="department.name")
    agents = fields.Integer(metadata={"description": "Its active agents"})
    has_trained = fields.Boolean()
    trained = fields.List(fields.Nested(TrainedOut))


class DepartmentsTraining(OutSchema):
    as_of = fields.Date()
    valid_years = fields.Integer(
        metadata={"description": "A session trains its attendees for this many years"}
    )
    items = fields.List(fields.Nested(DepartmentTrainingOut))
    untrained = fields.List(
        fields.String(), metadata={"description": "The departments with no trained agent"}
    )


@blp.route("")
@blp.arguments(TrainingQuery, location="query")
@blp.response(200, TrainingList)
@blp.errors(403)
def list_trainings(args):
    """The training sessions, the latest first (``upcoming``: those to come, soonest first)."""
    _mission()
    upcoming_on = local_date(utcnow()) if args["upcoming"] else None
    found = training.all_sessions(db.session(), upcoming_on=upcoming_on)
    return {"items": found, "total": len(found)}


@blp.route("", methods=["POST"])
@blp.arguments(TrainingIn)
@blp.response(201, TrainingOut)
@blp.errors(400, 403, 422)
def create_training(body):
    """The mission records a session (held, or to come with those who signed up)."""
    _mission()
    made = training.create_session(db.session(), api_user(), body, as_of=utcnow())
    db.session.commit()
    return made, 201, {"Location": url_for("api_training.get_training", training_id=made.id)}


@blp.route("/<int:training_id>")
@blp.response(200, TrainingOut)
@blp.errors(403, 404)
def get_training(training_id):
    """One session with its attendees."""
    _mission()
    return training.get_session(db.session(), training_id)


@blp.route("/<int:training_id>", methods=["PATCH"])
@blp.arguments(TrainingPatch, required=False)
@blp.response(200, TrainingOut)
@blp.errors(400, 403, 404, 422)
def update_training(body, training_id):
    """The mission changes the fields sent (``attendees`` replaces the list)."""
    _mission()
    found = training.get_session(db.session(), training_id)
    training.update_session(db.session(), api_user(), found, dict(body or {}), as_of=utcnow())
    db.session.commit()
    return found


@blp.route("/<int:training_id>", methods=["DELETE"])
@blp.response(204)
@blp.errors(403, 404)
def delete_training(training_id):
    """The mission deletes a session recorded by mistake."""
    _mission()
    found = training.get_session(db.session(), training_id)
    training.delete_session(db.session(), api_user(), found, as_of=utcnow())
    db.session.commit()


@blp.route("/departments")
@blp.arguments(StatusQuery, location="query")
@blp.response(200, DepartmentsTraining)
@blp.errors(403)
def departments(args):
    """Every department with agents, with its trained agents on ``as_of`` (default today),
    and those with none."""
    _mission()
    as_of = end_of_local_day(args["as_of"]) if "as_of" in args else utcnow()
    status = training.departments_status(db.session(), as_of=as_of)
    return {
        "as_of": local_date(as_of),
        "valid_years": training.VALID_YEARS,
        "items": status,
        "untrained": [row.department.name for row in status if not row.has_trained],
    }
