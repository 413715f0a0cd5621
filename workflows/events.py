"""Ateliers citoyens and rencontres territoriales: registrations with a waiting list.

Registering, confirming and cancelling lock the event's row, so that two people taking the
last seat at once cannot both get it; a cancellation (or a larger room) promotes the waiting
list in order. A registration made by typing an address is pending until the address's owner
confirms it from the email; it holds no seat meanwhile and lapses unconfirmed. Each
registration's emails go through the outbox, keyed so that none is sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import audit, outbox
from .access import may_act_on
from .addresses import normalize_email
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .methods.planning import name_event_method
from .models import (
    Demarche,
    Event,
    EventKind,
    OutboxMessage,
    Participant,
    Registration,
    RegistrationStatus,
    User,
)
from .participants import confirm_address, participant_for_email
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
ASK = "registration_pending"  # the request to confirm a registration made by typing an address
#: The emails that typing an address on the public form can make us send to it.
TYPED = (ASK, LINK)

#: A pending registration lapses this long after it was made (or when its event starts).
PENDING_FOR = timedelta(hours=48)
#: Typing an address again resends its link at most once per registration in this time …
RESEND_COOLDOWN = timedelta(minutes=10)
#: … and typing makes at most this many emails to one address in 24 hours.
MAILS_PER_ADDRESS_PER_DAY = 5
#: Pending registrations of one address (all events) …
MAX_PENDING_PER_ADDRESS = 3
#: … and of one event: the larger of this and twice its seats.
MIN_PENDING_PER_EVENT = 50


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
        values["kind"] = EventKind(fields.get("kind", ""))
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


def may_organise_events(user: User, demarche: Demarche) -> bool:
    """Whether ``user`` may organise an event of ``demarche`` now (what ``create_event``
    lets through)."""
    return may_act_on(user, demarche) and demarche.stage in EVENT_STAGES


def create_event(
    session: Session, actor: User, demarche: Demarche, fields: dict[str, Any], *, as_of: datetime
) -> Event:
    if not may_act_on(actor, demarche):
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
    name_event_method(session, event, fields.get("method"), as_of=as_of)
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
    if not may_act_on(actor, event.demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department organises events"))
    for name, value in event_values(fields).items():
        setattr(event, name, value)
    event.updated_at = as_of
    name_event_method(session, event, fields.get("method"), as_of=as_of)
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


@dataclass(frozen=True)
class Seats:
    """What the public reads of an event's room: seats left, or full with a waiting list."""

    capacity: int
    confirmed: int
    waiting: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.confirmed, 0)

    @property
    def full(self) -> bool:
        return self.left == 0


def seats(session: Session, events: Sequence[Event]) -> dict[int, Seats]:
    """The seats of each event, by its id (one query for all)."""
    found = {
        e.id: dict.fromkeys((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING), 0)
        for e in events
    }
    if found:
        for event_id, status, number in session.execute(
            select(Registration.event_id, Registration.status, func.count(Registration.id))
            .where(
                Registration.event_id.in_(found),
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING)),
            )
            .group_by(Registration.event_id, Registration.status)
        ):
            found[event_id][status] = number
    return {
        e.id: Seats(
            e.capacity,
            found[e.id][RegistrationStatus.CONFIRMED],
            found[e.id][RegistrationStatus.WAITING],
        )
        for e in events
    }


def counts(session: Session, event: Event, *, as_of: datetime) -> dict[RegistrationStatus, int]:
    """Registrations of the event by status; ``PENDING`` counts only those that may still be
    confirmed (a lapsed one awaits the sweep but is nobody's any more)."""
    found = dict.fromkeys(RegistrationStatus, 0)
    for status, number in session.execute(
        select(Registration.status, func.count(Registration.id))
        .where(
            Registration.event_id == event.id,
            (Registration.status != RegistrationStatus.PENDING)
            | (Registration.created_at > as_of - PENDING_FOR),
        )
        .group_by(Registration.status)
    ):
        found[status] = number
    return found


def _check_open(event: Event, as_of: datetime) -> None:
    if (
        not event.registration_open
        or event.starts_at <= as_of
        or event.demarche.stage not in EVENT_STAGES
    ):
        raise Conflict(N_("registrations for this event are closed"))


def _take_seat(
    session: Session, event: Event, registration: Registration, as_of: datetime
) -> Registration:
    """A seat if one is left, else the waiting list (the event row is locked by the caller);
    then the confirmation (with the invitation) or the waiting-list email."""
    seat = confirmed_count(session, event) < event.capacity
    registration.status = RegistrationStatus.CONFIRMED if seat else RegistrationStatus.WAITING
    registration.confirmed_at = as_of
    session.flush()
    _tell(session, registration, CONFIRMED if seat else WAITING, as_of)
    return registration


def register(
    session: Session, event_id: int, participant: Participant, *, as_of: datetime
) -> Registration:
    """Register a participant whose address is proven (their confirmed espace citoyen, or the
    mission recording them): a seat if one is left, else the waiting list. Registering again
    while registered changes nothing and returns the same registration; a pending one of
    theirs (someone typed their address) is thereby confirmed."""
    event = _lock(session, event_id)
    _check_open(event, as_of)
    live = live_registration(session, event.id, participant)
    if live is not None:
        if live.status == RegistrationStatus.PENDING:
            confirm_address(session, participant, as_of=as_of)
            return _take_seat(session, event, live, as_of)
        return live
    registration = Registration(
        event_id=event.id,
        participant_id=participant.id,
        created_at=as_of,
        status=RegistrationStatus.PENDING,  # for a moment: _take_seat decides
    )
    session.add(registration)
    return _take_seat(session, event, registration, as_of)


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


def lapses_at(registration: Registration) -> datetime:
    """When a pending registration lapses if its owner has not confirmed it."""
    return min(registration.created_at + PENDING_FOR, registration.event.starts_at)


def pending_limit(event: Event) -> int:
    return max(MIN_PENDING_PER_EVENT, 2 * event.capacity)


def request_registration(
    session: Session, event_id: int, email: str, *, as_of: datetime
) -> Registration | None:
    """Someone typed an address on the public form (no account): whoever owns it is asked to
    confirm, and nothing else happens until they do.

    A new registration is *pending*: it holds no seat, its participant (if new) has every
    consent off, and the only email is the request to confirm, which carries nothing the
    visitor typed. An address already registered to the event gets its link again. Mail that
    typing an address can cause is limited (``RESEND_COOLDOWN`` per registration,
    ``MAILS_PER_ADDRESS_PER_DAY``), and so are pending registrations (``MAX_PENDING_PER_ADDRESS``
    over all events, ``pending_limit`` per event). Returns the registration concerned, or None
    when nothing was done; the web answers the same in every case, so that nobody learns from
    it who registered.
    """
    email = normalize_email(email)
    event = _lock(session, event_id)
    _check_open(event, as_of)
    # Asked before looking the address up: its answer says nothing about any address.
    if counts(session, event, as_of=as_of)[RegistrationStatus.PENDING] >= pending_limit(event):
        raise Conflict(
            N_(
                "too many registrations to this event await the confirmation of their "
                "address: try again later, or log in to your espace citoyen"
            )
        )
    participant = participant_for_email(session, email, as_of=as_of, consents=False)
    live = live_registration(session, event.id, participant)
    if live is not None and live.status == RegistrationStatus.PENDING and lapses_at(live) <= as_of:
        _lapse(session, [live.id], as_of)
        session.refresh(live)
        live = None
    if live is not None:
        resend_link(session, live, as_of=as_of)
        return live
    pending = session.scalars(
        select(func.count(Registration.id)).where(
            Registration.participant_id == participant.id,
            Registration.status == RegistrationStatus.PENDING,
            Registration.created_at > as_of - PENDING_FOR,
        )
    ).one()
    if pending >= MAX_PENDING_PER_ADDRESS or not _may_mail(session, participant, as_of):
        return None
    registration = Registration(
        event_id=event.id,
        participant_id=participant.id,
        created_at=as_of,
        status=RegistrationStatus.PENDING,
    )
    session.add(registration)
    session.flush()
    _ask_confirmation(session, registration, as_of, key=f"registration:{registration.id}:{ASK}")
    return registration


def _may_mail(
    session: Session,
    participant: Participant,
    as_of: datetime,
    registration: Registration | None = None,
) -> bool:
    """Whether typing this address may make us write to it once more (see the limits)."""
    sent = session.execute(
        select(OutboxMessage.key, OutboxMessage.created_at).where(
            OutboxMessage.participant_id == participant.id,
            OutboxMessage.template.in_(TYPED),
            OutboxMessage.created_at > as_of - timedelta(days=1),
        )
    ).all()
    if len(sent) >= MAILS_PER_ADDRESS_PER_DAY:
        return False
    if registration is None:
        return True
    prefix = f"registration:{registration.id}:"
    return not any(k.startswith(prefix) and at > as_of - RESEND_COOLDOWN for k, at in sent)


def _ask_confirmation(
    session: Session, registration: Registration, as_of: datetime, *, key: str
) -> None:
    outbox.enqueue(
        session,
        key=key,
        template=ASK,
        recipient=registration.participant,
        demarche=registration.event.demarche,
        context={"registration_id": registration.id},
        as_of=as_of,
    )


def resend_link(session: Session, registration: Registration, *, as_of: datetime) -> bool:
    """Email the registration's own link again (to its owner's address, never to the web):
    the request to confirm while it is pending. Nothing if the limits say so (False)."""
    participant = registration.participant
    if participant is None or participant.email is None:
        return False
    if not _may_mail(session, participant, as_of, registration):
        return False
    key = f"registration:{registration.id}:{{}}:{as_of.timestamp()}"
    if registration.status == RegistrationStatus.PENDING:
        _ask_confirmation(session, registration, as_of, key=key.format(ASK))
        return True
    outbox.enqueue(
        session,
        key=key.format(LINK),
        template=LINK,
        recipient=participant,
        demarche=registration.event.demarche,
        context={"registration_id": registration.id},
        as_of=as_of,
    )
    return True


def confirm_registration(
    session: Session, registration: Registration, *, as_of: datetime, name: str | None = None
) -> Registration:
    """Its owner confirms a pending registration (a POST from the emailed link's page): a seat
    or the waiting list, as registering with an account would have given at this moment, and
    then the confirmation with the invitation. ``name``, if given, is how they want to be
    named (on the attendance list, in our emails). Confirming twice is confirming once; a
    lapsed, declined or cancelled registration is not confirmed (409)."""
    event = _lock(session, registration.event_id)
    session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        raise Conflict(
            N_("this registration is cancelled: register again from the démarche's page")
        )
    if registration.status != RegistrationStatus.PENDING:
        return registration
    if lapses_at(registration) <= as_of:
        raise Conflict(
            N_(
                "this registration was not confirmed in time: register again from the "
                "démarche's page"
            )
        )
    _check_open(event, as_of)
    confirm_address(session, registration.participant, as_of=as_of, name=name)
    return _take_seat(session, event, registration, as_of)


def _lapse(session: Session, ids: list[int], as_of: datetime) -> None:
    session.execute(
        update(Registration)
        .where(Registration.id.in_(ids), Registration.status == RegistrationStatus.PENDING)
        .values(status=RegistrationStatus.CANCELLED, cancelled_at=as_of)
        .execution_options(synchronize_session=False)
    )


def expire_pending(session: Session, *, as_of: datetime) -> list[int]:
    """Lapse the pending registrations nobody confirmed in time (``PENDING_FOR`` after they
    were made, or when their event starts). Nothing is sent: the address was never
    confirmed. Safe to run twice (commits)."""
    ids = list(
        session.scalars(
            select(Registration.id)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.status == RegistrationStatus.PENDING,
                (Registration.created_at <= as_of - PENDING_FOR) | (Event.starts_at <= as_of),
            )
            .order_by(Registration.id)
        )
    )
    if ids:
        _lapse(session, ids, as_of)
    session.commit()
    return ids


def cancel_registration(
    session: Session, registration: Registration, *, as_of: datetime, force: bool = False
) -> Registration | None:
    """Cancel (idempotent); returns the registration promoted from the waiting list, if any.

    Once the event has started nothing is cancelled (attendance belongs to the minutes),
    unless ``force`` (an account being erased). A pending registration that its owner declines
    is cancelled without an email.
    """
    event = _lock(session, registration.event_id)
    session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        return None
    if not force and event.starts_at <= as_of:
        raise Conflict(N_("the event has started: its registrations can no longer be cancelled"))
    was = registration.status
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = as_of
    session.flush()
    if was == RegistrationStatus.PENDING:
        return None
    _tell(session, registration, CANCELLED, as_of)
    if was != RegistrationStatus.CONFIRMED:
        return None
    promoted = fill_from_waiting_list(session, registration.event, as_of=as_of)
    return promoted[0] if promoted else None


def fill_from_waiting_list(
    session: Session, event: Event, *, as_of: datetime
) -> list[Registration]:
    """Give free seats to the waiting list, first confirmed first served (event row locked)."""
    free = event.capacity - confirmed_count(session, event)
    if free <= 0 or event.starts_at <= as_of:
        return []
    waiting = session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITING)
        .order_by(Registration.confirmed_at, Registration.id)
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
    if not may_act_on(actor, event.demarche):
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
    if registration.confirmed_at is None:  # nothing but the request to confirm, until then
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
