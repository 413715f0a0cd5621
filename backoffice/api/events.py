"""``/api/v1/demarches/{id}/events`` and ``/api/v1/events/{id}``: a démarche's ateliers and
rencontres, as the back office organises them (the same rules and messages), each naming the
method of the toolbox it uses."""

from __future__ import annotations

from flask import url_for
from marshmallow import fields
from sqlalchemy import select

from workflows import events as domain
from workflows.access import get_readable, get_visible, parse_id
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.i18n import N_
from workflows.methods.planning import event_method
from workflows.models import Event, EventKind

from ..extensions import db
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import NOT_BLANK, OutSchema, StrictSchema, Text, one_of

blp = api_blueprint("api_events", "/api/v1", "Events: ateliers and rencontres territoriales")

EVENT_KINDS = [kind.value for kind in EventKind]
#: What an event holds, as ``workflows.events.event_values`` reads it.
VALUES = (
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "place",
    "territory",
    "capacity",
    "registration_open",
    "minutes",
)


class EventPatch(StrictSchema):
    kind = fields.String(validate=one_of(EVENT_KINDS), metadata={"enum": EVENT_KINDS})
    title = Text(200, metadata=NOT_BLANK)
    starts_at = fields.AwareDateTime(metadata={"description": "With its offset"})
    ends_at = fields.AwareDateTime()
    place = Text(300, metadata=NOT_BLANK)
    territory = fields.String(allow_none=True, metadata={"description": "A canton"})
    capacity = fields.Integer(strict=True, metadata={"minimum": 1})
    registration_open = fields.Boolean()
    minutes = Text(20_000)
    method = fields.String(
        allow_none=True,
        metadata={
            "description": "The toolbox method it uses (a slug); by default its kind's usual "
            "one (atelier-citoyen, rencontre-territoriale)"
        },
    )


class EventIn(EventPatch):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if field_name in ("kind", "title", "starts_at", "ends_at", "place", "capacity"):
            field_obj.required = True


class EventOut(OutSchema):
    id = fields.Integer()
    demarche_id = fields.Integer()
    kind = fields.Function(lambda e: e.kind.value, metadata={"type": "string"})
    title = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    place = fields.String()
    territory = fields.String(allow_none=True)
    capacity = fields.Integer()
    registration_open = fields.Boolean()
    minutes = fields.String()
    method = fields.Function(lambda e: e.method_slug, metadata={"type": "string", "nullable": True})


class EventList(OutSchema):
    items = fields.List(fields.Nested(EventOut))
    total = fields.Integer()


def _out(event: Event) -> Event:
    method = event_method(db.session(), event)
    event.method_slug = method.slug if method else None  # type: ignore[attr-defined]
    return event


def _event(event_id: int) -> Event:
    """The event, if the caller may see its démarche (404 else: its existence stays private)."""
    event = db.session.get(Event, event_id) if parse_id(event_id) else None
    if event is None:
        raise NotFound(N_("no event %(id)s", id=event_id))
    get_visible(db.session(), api_user(), event.demarche_id)
    return event


@blp.route("/demarches/<int:demarche_id>/events")
@blp.response(200, EventList)
@blp.errors(404)
def list_events(demarche_id):
    """The démarche's events, soonest first."""
    d = get_readable(db.session(), api_user(), demarche_id)
    found = db.session.scalars(
        select(Event).where(Event.demarche_id == d.id).order_by(Event.starts_at, Event.id)
    ).all()
    return {"items": [_out(e) for e in found], "total": len(found)}


@blp.route("/demarches/<int:demarche_id>/events", methods=["POST"])
@blp.arguments(EventIn)
@blp.response(201, EventOut)
@blp.errors(400, 403, 404, 409, 422)
def create_event(body, demarche_id):
    """Organise an event (the mission or the démarche's department, from the launch to the
    synthesis)."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    event = domain.create_event(db.session(), api_user(), d, body, as_of=utcnow())
    db.session.commit()
    location = url_for("api_events.get_event", event_id=event.id)
    return _out(event), 201, {"Location": location}


@blp.route("/events/<int:event_id>")
@blp.response(200, EventOut)
@blp.errors(404)
def get_event(event_id):
    """One event."""
    return _out(_event(event_id))


@blp.route("/events/<int:event_id>", methods=["PATCH"])
@blp.arguments(EventPatch, required=False)
@blp.response(200, EventOut)
@blp.errors(400, 403, 404, 422)
def patch_event(body, event_id):
    """Change the fields sent (the others are kept)."""
    event = _event(event_id)
    current = {name: getattr(event, name) for name in VALUES}
    current["kind"] = event.kind.value
    fields_ = {**current, **(body or {})}
    domain.update_event(db.session(), api_user(), event.id, fields_, as_of=utcnow())
    db.session.commit()
    return _out(event)
