"""Ateliers citoyens and rencontres territoriales: registrations with a waiting list.

Registering and cancelling lock the event's row, so that two people taking the last seat at
once cannot both get it; a cancellation (or a larger room) promotes the waiting list in order.
Each registration's emails go through the outbox, keyed so that none is sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, outbox
from .contributions import may_record_for_channels
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .models import (
    Demarche,
    Event,
    EventKind,
    Participant,
    Registration,
    RegistrationStatus,
    User,
)
from .stages import Stage
from .territory import canonical_territory
from .text import to_text

#: Events are organised from the launch until the synthesis.
EVENT_STAGES = frozenset({Stage.LAUNCH, Stage.CONSULTATION, Stage.SYNTHESIS})
MAX_CAPACITY = 100_000

CONFIRMED = "registration_confirmed"
WAITING = "registration_waiting"
PROMOTED = "registration_promoted"
CANCELLED = "registration_cancelled"
LINK = "registration_link"


def _lock(session: Session, event_id: int) -> Event:
    event = session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if event is None:
        raise NotFound(N_("no event %(id)s", id=event_id))
    return event


def event_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated fields of an event (422 otherwise)."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    try:
        values["kind"] = EventKind(fields.get("kind"))
    except ValueError:
        errors["kind"] = N_("a citizen workshop or a territorial meeting")
    values["title"] = to_text(fields.get("title") or "", single_line=True)[:200]
    if not values["title"]:
        errors["title"] = N_("title missing")
    values["place"] = to_text(fields.get("place") or "", single_line=True)[:300]
    if not values["place"]:
        errors["place"] = N_("place missing")
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        errors["starts_at"] = N_("date and time expected")
    if not isinstance(ends, datetime) or ends.tzinfo is None:
        errors["ends_at"] = N_("date and time expected")
    elif isinstance(starts, datetime) and ends <= starts:
        errors["ends_at"] = N_("the event must end after it starts")
    values["starts_at"], values["ends_at"] = starts, ends
    capacity = fields.get("capacity")
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not (1 <= capacity <= MAX_CAPACITY)
    ):
        errors["capacity"] = N_("a number of seats between 1 and %(max)s", max=MAX_CAPACITY)
    values["capacity"] = capacity
    territory = fields.get("territory")
    values["territory"] = canonical_territory(territory) if territory else None
    if territory and values["territory"] is None:
        errors["territory"] = N_("unknown territory “%(value)s”", value=territory)
    values["registration_open"] = bool(fields.get("registration_open", True))
    values["minutes"] = to_text(fields.get("minutes") or "")
    if errors:
        raise InvalidFields(errors)
    return values


def create_event(
    session: Session, actor: User, demarche: Demarche, fields: dict[str, Any], *, as_of: datetime
) -> Event:
    if not may_record_for_channels(actor, demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department organises events"))
    if demarche.stage not in EVENT_STAGES:
        raise Conflict(
            N_(
                "events are organised from the launch to the synthesis; the démarche "
                "is at stage “%(stage)s”",
                stage=demarche.stage.label,
            )
        )
    event = Event(
        demarche_id=demarche.id, created_at=as_of, updated_at=as_of, **event_values(fields)
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        "event.create",
        actor=actor,
        as_of=as_of,
        demarche=demarche,
        target=f"event:{event.id}",
    )
    return event


def update_event(
    session: Session, actor: User, event_id: int, fields: dict[str, Any], *, as_of: datetime
) -> Event:
    event = _lock(session, event_id)
    if not may_record_for_channels(actor, event.demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department organises events"))
    for name, value in event_values(fields).items():
        setattr(event, name, value)
    event.updated_at = as_of
    audit.record(
        session,
        "event.update",
        actor=actor,
        as_of=as_of,
        demarche=event.demarche,
        target=f"event:{event.id}",
    )
    fill_from_waiting_list(session, event, as_of=as_of)  # a larger room takes the waiting list
    session.flush()
    return event


def confirmed_count(session: Session, event: Event) -> int:
    return (
        session.scalar(
            select(func.count(Registration.id)).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        or 0
    )


def seats_left(session: Session, event: Event) -> int:
    return max(event.capacity - confirmed_count(session, event), 0)


def register(
    session: Session, event_id: int, participant: Participant, *, as_of: datetime
) -> Registration:
    """Register ``participant``: a seat if one is left, else the waiting list. Registering
    again while registered changes nothing and returns the same registration."""
    event = _lock(session, event_id)
    if not event.registration_open or event.starts_at <= as_of:
        raise Conflict(N_("registrations for this event are closed"))
    if event.demarche.stage not in EVENT_STAGES:
        raise Conflict(N_("registrations for this event are closed"))
    live = live_registration(session, event.id, participant)
    if live is not None:
        return live
    seat = confirmed_count(session, event) < event.capacity
    registration = Registration(
        event_id=event.id,
        participant_id=participant.id,
        created_at=as_of,
        status=RegistrationStatus.CONFIRMED if seat else RegistrationStatus.WAITING,
    )
    session.add(registration)
    session.flush()
    _tell(session, registration, CONFIRMED if seat else WAITING, as_of)
    return registration


def live_registration(
    session: Session, event_id: int, participant: Participant
) -> Registration | None:
    return session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.participant_id == participant.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )


def resend_link(session: Session, registration: Registration, *, as_of: datetime) -> None:
    """Email the registration's own link again (to its owner's address, never to the web)."""
    participant = registration.participant
    if participant is not None and participant.email is not None:
        outbox.enqueue(
            session,
            key=f"registration:{registration.id}:{LINK}:{as_of.timestamp()}",
            template=LINK,
            recipient=participant,
            demarche=registration.event.demarche,
            context={"registration_id": registration.id},
            as_of=as_of,
        )


def cancel_registration(
    session: Session, registration: Registration, *, as_of: datetime, force: bool = False
) -> Registration | None:
    """Cancel (idempotent); returns the registration promoted from the waiting list, if any.

    Once the event has started nothing is cancelled (attendance belongs to the minutes),
    unless ``force`` (an account being erased).
    """
    event = _lock(session, registration.event_id)
    session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        return None
    if not force and event.starts_at <= as_of:
        raise Conflict(N_("the event has started: its registrations can no longer be cancelled"))
    had_seat = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = as_of
    session.flush()
    _tell(session, registration, CANCELLED, as_of)
    if not had_seat:
        return None
    promoted = fill_from_waiting_list(session, registration.event, as_of=as_of)
    return promoted[0] if promoted else None


def fill_from_waiting_list(
    session: Session, event: Event, *, as_of: datetime
) -> list[Registration]:
    """Give free seats to the waiting list, first come first served (event row locked)."""
    free = event.capacity - confirmed_count(session, event)
    if free <= 0 or event.starts_at <= as_of:
        return []
    waiting = session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITING)
        .order_by(Registration.created_at, Registration.id)
        .limit(free)
    ).all()
    for registration in waiting:
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = as_of
        session.flush()
        _tell(session, registration, PROMOTED, as_of)
    return list(waiting)


def record_attendance(
    session: Session,
    actor: User,
    event_id: int,
    attended_ids: set[int],
    *,
    as_of: datetime,
    minutes: str | None = None,
) -> Event:
    """After the event: who came (registrations not listed did not), and the minutes."""
    event = _lock(session, event_id)
    if not may_record_for_channels(actor, event.demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department records this"))
    for registration in event.registrations:
        if registration.status == RegistrationStatus.CONFIRMED:
            registration.attended = registration.id in attended_ids
    if minutes is not None:
        event.minutes = to_text(minutes)
    event.updated_at = as_of
    audit.record(
        session,
        "event.attendance",
        actor=actor,
        as_of=as_of,
        demarche=event.demarche,
        target=f"event:{event.id}",
        attended=len(attended_ids),
    )
    session.flush()
    return event


def _tell(session: Session, registration: Registration, template: str, as_of: datetime) -> None:
    participant = registration.participant
    if participant is None or participant.email is None:
        return
    outbox.enqueue(
        session,
        key=f"registration:{registration.id}:{template}",
        template=template,
        recipient=participant,
        demarche=registration.event.demarche,
        context={"registration_id": registration.id},
        as_of=as_of,
    )
