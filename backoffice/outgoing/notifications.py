"""Turning the domain's outbox rows into emails (rendered here, sent by the workers).

Each row says what it is about through its context: a stage transition, an event
registration, or an email that Flask-Security rendered itself (confirmation, reset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import flask_mail
from flask_babel import gettext
from icalendar import Calendar
from icalendar import Event as IcsEvent
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workflows import charter, digests, events
from workflows.models import (
    Contribution,
    Deadline,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    StageTransition,
)
from workflows.stages import Stage, next_stage

from ..extensions import db
from ..i18n import tr
from ..tokens import registration_token
from . import links
from .mail import URL, build_message, render_email, send


@dataclass
class Email:
    subject: str
    text: str
    html: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def recipient_of(message: OutboxMessage) -> Any:
    return message.recipient if message.recipient is not None else message.participant


def _transition_email(message: OutboxMessage) -> Email:
    # The rows a message names were there when it was written, and are never deleted.
    transition = db.session.get(StageTransition, message.context["transition_id"])
    demarche = message.demarche
    assert transition is not None and demarche is not None  # (a transition's, enqueued with it)
    link = links.url("demarche.details_view", id=demarche.id)
    return Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            demarche=demarche,
            transition=transition,
            next_stage=next_stage(transition.to_stage),
            next_deadline=charter.next_deadline(db.session(), demarche),
            link=link,
        )
    )


# -- event registrations ------------------------------------------------------------------


def ics_invitation(registration: Registration) -> bytes:
    """An iCalendar invitation (RFC 5545) to the event, times in UTC."""
    event = registration.event
    calendar = Calendar()
    calendar.add("prodid", "-//Conseil departemental de la Haute-Garonne//Dialogue citoyen//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = IcsEvent()
    entry.add("uid", f"event-{event.id}-registration-{registration.id}@{links.host()}")
    entry.add("dtstamp", datetime.now(UTC))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.title)
    entry.add("location", event.place)
    entry.add(
        "description",
        f"{event.demarche.title}\n" + links.url("public.demarche", slug=event.demarche.slug),
    )
    calendar.add_component(entry)
    return calendar.to_ical()


def _registration_email(message: OutboxMessage) -> Email:
    registration = db.session.get(Registration, message.context["registration_id"])
    assert registration is not None  # registrations are never deleted
    event = registration.event
    link = links.url("public.registration", token=registration_token(registration))
    # The request to confirm goes to an address nobody has shown to be theirs: it greets
    # nobody by name and carries nothing but what we wrote (the event is the département's).
    asking = message.template == events.ASK
    email = Email(
        *render_email(
            message.template,
            recipient=None if asking else recipient_of(message),
            registration=registration,
            event=event,
            demarche=event.demarche,
            link=link,
            page=links.url("public.demarche", slug=event.demarche.slug),
            lapses_at=events.lapses_at(registration) if asking else None,
        )
    )
    if registration.status == RegistrationStatus.CONFIRMED and message.template in (
        events.CONFIRMED,
        events.PROMOTED,
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


# -- the charter: reminders, missed deadlines, answers, the officials' digest ---------------


def _deadline_email(message: OutboxMessage) -> Email:
    deadline = db.session.get(Deadline, message.context["deadline_id"])
    assert deadline is not None  # deadlines are never deleted
    demarche = deadline.demarche
    link = (
        links.url("contribution.details_view", id=deadline.question_id)
        if deadline.question_id
        else links.url("demarche.details_view", id=demarche.id)
    )
    return Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            deadline=deadline,
            rule=deadline.rule,
            demarche=demarche,
            question=deadline.question,
            offset=message.context.get("offset", 0),
            link=link,
        )
    )


def _answer_email(message: OutboxMessage) -> Email:
    question = db.session.get(Contribution, message.context["question_id"])
    assert question is not None  # a question with an answer is never deleted
    demarche = question.demarche
    return Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            question=question,
            demarche=demarche,
            link=links.url(
                "public.item",
                slug=demarche.slug,
                item_id=question.item_id,
                _anchor=f"contribution-{question.id}",
            ),
        )
    )


@dataclass
class DigestEntry:
    due_date: Any
    label: str
    title: str
    questions: int = 0  # the questions' deadlines of one démarche, told as one line


def _digest_entries(deadlines: list[Deadline]) -> list[DigestEntry]:
    """The démarches' own deadlines one by one; their questions' grouped per démarche (an
    official reads "12 questions", not twelve lines), at the earliest last day."""
    entries: list[DigestEntry] = []
    grouped: dict[int, DigestEntry] = {}
    for d in deadlines:
        if d.question_id is None:
            entries.append(DigestEntry(d.due_date, d.rule.label, d.demarche.title))
            continue
        entry = grouped.get(d.demarche_id)
        if entry is None:
            entry = grouped[d.demarche_id] = DigestEntry(d.due_date, d.rule.label, d.demarche.title)
            entries.append(entry)
        entry.questions += 1
        entry.due_date = min(entry.due_date, d.due_date)
    return sorted(entries, key=lambda e: e.due_date)


def _digest_email(message: OutboxMessage) -> Email:
    as_of = datetime.fromisoformat(message.context["as_of"])
    assert message.recipient_id is not None  # a digest goes to an elected official's account
    digest = digests.digest_for(db.session(), message.recipient_id, as_of)
    ids = (digest.upcoming + digest.missed) if digest else []
    year, week = map(int, message.context["digest_week"].split("-W"))
    deadlines = {
        d.id: d
        for d in db.session.scalars(
            select(Deadline).where(Deadline.id.in_(ids)).options(selectinload(Deadline.demarche))
        )
    }
    return Email(
        *render_email(
            message.template,
            recipient=recipient_of(message),
            digest=digest,
            week=message.context["digest_week"],
            week_start=date.fromisocalendar(year, week, 1),
            upcoming=_digest_entries([deadlines[i] for i in digest.upcoming] if digest else []),
            missed=_digest_entries([deadlines[i] for i in digest.missed] if digest else []),
            stage_label=lambda value: tr(Stage(value).label),
            link=links.url("admin.index"),
        )
    )


RENDERERS: dict[str, Callable[[OutboxMessage], Email]] = {
    "transition_id": _transition_email,
    "registration_id": _registration_email,
    "subject": _security_email,
    "deadline_id": _deadline_email,
    "question_id": _answer_email,
    "digest_week": _digest_email,
}


def render_notification(message: OutboxMessage) -> Email:
    """The email of an outbox row, its links under ``BASE_URL`` (an app context is enough)."""
    renderer = next(r for key, r in RENDERERS.items() if key in message.context)
    return renderer(message)


def send_notification(message: OutboxMessage) -> str:
    """The ``send`` callable of ``workflows.outbox.deliver``: returns the Message-ID."""
    address = message.address
    assert address is not None  # deliver() sends only the messages that have one
    email = render_notification(message)
    built: flask_mail.Message = build_message(address, email.subject, email.text, email.html)
    for filename, mimetype, data in email.attachments:
        built.attach(filename, mimetype, data)
    message_id = send(built)
    message.subject = email.subject[:300]
    message.body = email.text  # what its recipient may read again in their espace citoyen
    if "subject" in message.context:
        # Flask-Security's emails carry one-time links: keep nothing of them once sent.
        message.context = {"kind": message.context.get("kind")}
        message.body = URL.sub(gettext("[link removed]"), email.text)
    return message_id
