"""Turning the domain's outbox rows into emails (rendered here, sent by the workers).

Each row says what it is about through its context: a stage transition, an event
registration, or an email that Flask-Security rendered itself (confirmation, reset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import flask_mail
from flask import current_app, url_for
from icalendar import Calendar
from icalendar import Event as IcsEvent
from itsdangerous import BadSignature, URLSafeSerializer

from workflows.models import OutboxMessage, Registration, RegistrationStatus, StageTransition
from workflows.stages import next_stage

from .extensions import db
from .mail import build_message, render_email, send


@dataclass
class Email:
    subject: str
    text: str
    html: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def recipient_of(message: OutboxMessage) -> Any:
    return message.recipient if message.recipient is not None else message.participant


def _transition_email(message: OutboxMessage) -> Email:
    transition = db.session.get(StageTransition, message.context["transition_id"])
    demarche = message.demarche
    link = url_for("demarche.details_view", id=demarche.id, _external=True)
    return Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            demarche=demarche,
            transition=transition,
            next_stage=next_stage(transition.to_stage),
            link=link,
        )
    )


# -- event registrations ------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="registration")


def registration_token(registration: Registration) -> str:
    """The signed token of a registration's own page (status, cancel), sent by email."""
    return _serializer().dumps(registration.id)


def registration_from_token(token: str) -> Registration | None:
    try:
        registration_id = _serializer().loads(token)
    except BadSignature:
        return None
    return (
        db.session.get(Registration, registration_id) if isinstance(registration_id, int) else None
    )


def ics_invitation(registration: Registration) -> bytes:
    """An iCalendar invitation (RFC 5545) to the event, times in UTC."""
    event = registration.event
    calendar = Calendar()
    calendar.add("prodid", "-//Conseil departemental de la Haute-Garonne//Dialogue citoyen//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = IcsEvent()
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0]
    entry.add("uid", f"event-{event.id}-registration-{registration.id}@{host}")
    entry.add("dtstamp", datetime.now(UTC))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.title)
    entry.add("location", event.place)
    entry.add(
        "description",
        f"{event.demarche.title}\n"
        + url_for("public.demarche", slug=event.demarche.slug, _external=True),
    )
    calendar.add_component(entry)
    return calendar.to_ical()


def _registration_email(message: OutboxMessage) -> Email:
    registration = db.session.get(Registration, message.context["registration_id"])
    event = registration.event
    link = url_for("public.registration", token=registration_token(registration), _external=True)
    email = Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            registration=registration,
            event=event,
            demarche=event.demarche,
            link=link,
            page=url_for("public.demarche", slug=event.demarche.slug, _external=True),
        )
    )
    if registration.status == RegistrationStatus.CONFIRMED and message.template in (
        "registration_confirmed",
        "registration_promoted",
    ):
        email.attachments.append(
            (
                "invitation.ics",
                "text/calendar; charset=utf-8; method=PUBLISH",
                ics_invitation(registration),
            )
        )
    return email


def _security_email(message: OutboxMessage) -> Email:
    context = message.context
    return Email(context["subject"], context["text"] or "", context["html"] or "")


RENDERERS: dict[str, Callable[[OutboxMessage], Email]] = {
    "transition_id": _transition_email,
    "registration_id": _registration_email,
    "subject": _security_email,
}


def render_notification(message: OutboxMessage) -> Email:
    renderer = next(r for key, r in RENDERERS.items() if key in message.context)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return renderer(message)


def send_notification(message: OutboxMessage) -> str:
    """The ``send`` callable of ``workflows.outbox.deliver``: returns the Message-ID."""
    email = render_notification(message)
    built: flask_mail.Message = build_message(
        message.address, email.subject, email.text, email.html
    )
    for filename, mimetype, data in email.attachments:
        built.attach(filename, mimetype, data)
    message_id = send(built)
    message.subject = email.subject[:300]
    if "subject" in message.context:
        # Flask-Security's emails carry one-time links: keep nothing of them once sent.
        message.context = {"kind": message.context.get("kind")}
    return message_id
