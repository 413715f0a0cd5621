"""Participants and their rights: one person per address, consents, data export, erasure."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .contributions import commune_fields
from .errors import InvalidFields
from .i18n import N_
from .models import (
    ApiToken,
    AuditEntry,
    Contribution,
    ContributionReport,
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Registration,
    RegistrationStatus,
    User,
)
from .text import clean_text

MAX_NAME = 160


def normalize_email(value: str, field: str = "email") -> str:
    """A syntactically valid, lower-cased address (no DNS lookup); 422 otherwise."""
    try:
        checked = validate_email(
            (value or "").strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError:
        raise InvalidFields({field: N_("invalid email address")}) from None
    return checked.normalized.lower()


def clean_name(value: str | None, field: str = "name") -> str | None:
    value = clean_text(value, single_line=True)
    if len(value) > MAX_NAME:
        raise InvalidFields({field: N_("at most %(max)s characters", max=MAX_NAME)})
    return value or None


def participant_for_email(
    session: Session, email: str, *, as_of: datetime, name: str | None = None
) -> Participant:
    """The participant with this address, created if new (flushes)."""
    email = normalize_email(email)
    participant = session.scalar(select(Participant).where(Participant.email == email))
    if participant is not None:
        # An existing person's name is not anyone's to change (their account sets it).
        return participant
    participant = Participant(email=email, name=clean_name(name), created_at=as_of)
    try:
        with session.begin_nested():  # two requests for one new address: one row
            session.add(participant)
    except IntegrityError:
        participant = session.scalar(select(Participant).where(Participant.email == email))
    return participant


def participant_for_user(session: Session, user: User, *, as_of: datetime) -> Participant:
    """The participant of a (confirmed) account: its own, or the one that already had its
    address (an event registration, an import), now linked to it."""
    participant = session.scalar(select(Participant).where(Participant.user_id == user.id))
    if participant is None:
        participant = session.scalar(
            select(Participant).where(Participant.email == user.email.lower())
        )
        if participant is None:
            participant = Participant(email=user.email.lower(), created_at=as_of)
            session.add(participant)
        participant.user = user
        # The account holder's own name (or none): not whatever someone typed before.
        participant.name = user.name or None
        session.flush()
    return participant


def set_consents(
    session: Session,
    participant: Participant,
    *,
    feedback: bool,
    territory_news: bool,
    commune: str | None = None,
    as_of: datetime,
) -> None:
    if commune is not None:
        participant.commune_insee, _ = commune_fields(commune)
    participant.consent_feedback = feedback
    participant.consent_territory_news = territory_news
    participant.consent_updated_at = as_of
    if participant.email:
        # Asking again for what one unsubscribed from by a link lifts that unsubscription.
        from .mailings import resubscribe

        resubscribe(
            session,
            participant.email,
            [scope for scope, on in (("feedback", feedback), ("news", territory_news)) if on],
        )
    audit.record(
        session,
        "participant.consents",
        actor=participant.user,
        as_of=as_of,
        target=f"participant:{participant.id}",
        feedback=feedback,
        territory_news=territory_news,
    )
    session.flush()


def messages_received(session: Session, participant: Participant) -> list[OutboxMessage | Delivery]:
    """The notifications and mailings sent to this person (each has ``subject``, ``sent_at``),
    latest first."""
    clauses = [OutboxMessage.participant_id == participant.id]
    if participant.user_id is not None:
        clauses.append(OutboxMessage.recipient_id == participant.user_id)
    notifications = session.scalars(
        select(OutboxMessage).where(or_(*clauses), OutboxMessage.status == OutboxStatus.SENT)
    ).all()
    deliveries = session.scalars(
        select(Delivery).where(
            Delivery.participant_id == participant.id, Delivery.status == DeliveryStatus.SENT
        )
    ).all()
    return sorted([*notifications, *deliveries], key=lambda m: m.sent_at, reverse=True)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_data(session: Session, user: User) -> dict[str, Any]:
    """Everything the platform holds about this person (the right of access, GDPR art. 15)."""
    participant = session.scalar(select(Participant).where(Participant.user_id == user.id))
    contributions = (
        session.scalars(
            select(Contribution)
            .where(Contribution.participant_id == participant.id)
            .order_by(Contribution.contributed_at)
        ).all()
        if participant
        else []
    )
    registrations = (
        session.scalars(
            select(Registration)
            .where(Registration.participant_id == participant.id)
            .order_by(Registration.created_at)
        ).all()
        if participant
        else []
    )
    reports = session.scalars(
        select(ContributionReport).where(ContributionReport.reporter_id == user.id)
    ).all()
    return {
        "account": {
            "email": user.email,
            "name": user.name,
            "roles": sorted(user.role_names),
            "created_at": _iso(user.created_at),
            "confirmed_at": _iso(user.confirmed_at),
        },
        "participant": participant
        and {
            "email": participant.email,
            "name": participant.name,
            "commune_insee": participant.commune_insee,
            "consent_feedback": participant.consent_feedback,
            "consent_territory_news": participant.consent_territory_news,
            "consent_updated_at": _iso(participant.consent_updated_at),
            "created_at": _iso(participant.created_at),
        },
        "contributions": [
            {
                "id": c.id,
                "demarche": c.demarche.title,
                "item": c.item.title,
                "kind": c.kind.value,
                "channel": c.channel.value,
                "title": c.title,
                "body": c.body,
                "commune_insee": c.commune_insee,
                "status": c.status.value,
                "moderation_reason": c.moderation_reason,
                "in_reply_to": c.parent_id,
                "contributed_at": _iso(c.contributed_at),
            }
            for c in contributions
        ],
        "registrations": [
            {
                "event": r.event.title,
                "demarche": r.event.demarche.title,
                "starts_at": _iso(r.event.starts_at),
                "place": r.event.place,
                "status": r.status.value,
                "attended": r.attended,
                "created_at": _iso(r.created_at),
                "promoted_at": _iso(r.promoted_at),
                "cancelled_at": _iso(r.cancelled_at),
            }
            for r in registrations
        ],
        "reports": [
            {
                "contribution": r.contribution_id,
                "reason": r.reason,
                "created_at": _iso(r.created_at),
            }
            for r in reports
        ],
        "messages": [
            {"subject": m.subject, "sent_at": _iso(m.sent_at)}
            for m in (messages_received(session, participant) if participant else [])
        ],
        # What they did that the audit log keeps (consent changes included), by date.
        "history": [
            {"at": _iso(e.at), "action": e.action, **e.data}
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
            )
        ],
    }


def erase_account(session: Session, user: User, *, as_of: datetime) -> None:
    """Delete a citizen's identity (GDPR art. 17); contributions stay, "participant supprimé".

    The account row stays as an empty shell so that the append-only history keeps pointing at
    something; nothing in it, its participant or the audit log names the person any more.
    Their live registrations are cancelled (which promotes the waiting list); messages not yet
    sent to them are dropped.
    """
    from . import imports, mailings
    from .events import cancel_registration

    participant = session.scalar(select(Participant).where(Participant.user_id == user.id))
    old_participant_email = participant.email if participant is not None else None
    if participant is not None:
        for registration in session.scalars(
            select(Registration).where(
                Registration.participant_id == participant.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
        ).all():
            cancel_registration(session, registration, as_of=as_of, force=True)
        participant.email = None
        participant.name = None
        participant.commune_insee = None
        participant.user_id = None
        participant.consent_feedback = False
        participant.consent_territory_news = False
        participant.erased_at = as_of
    theirs = or_(
        OutboxMessage.recipient_id == user.id,
        OutboxMessage.participant_id == (participant.id if participant else None),
    )
    for message in session.scalars(select(OutboxMessage).where(theirs)):
        if message.status == OutboxStatus.PENDING:
            message.status = OutboxStatus.FAILED
        # An SMTP answer may quote the address, a Flask-Security email its links.
        message.error = "recipient erased" if message.status != OutboxStatus.SENT else ""
        message.context = {k: v for k, v in message.context.items() if k.endswith("_id")}
    imports.forget_files_of(session, user.email)
    mailings.forget_address(session, {user.email, old_participant_email or ""})
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        session.delete(token)
    user.email = f"supprime-{uuid.uuid4().hex}@invalid.invalid"
    user.name = ""
    user.position = ""
    user.password = None
    user.active = False
    user.confirmed_at = None
    user.fs_uniquifier = uuid.uuid4().hex
    user.roles = []
    audit.record(session, "user.erase", actor=None, as_of=as_of, target=f"user:{user.id}")
    session.flush()
