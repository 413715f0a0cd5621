"""Participants and their rights: one person per address, consents, data export, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .access import sees_personal_data
from .addresses import normalize_email
from .contributions import commune_fields
from .errors import InvalidFields
from .i18n import N_, Msg
from .mailings import resubscribe
from .models import (
    AuditEntry,
    Contribution,
    ContributionReport,
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Registration,
    Suppression,
    User,
)
from .text import clean_text

MAX_NAME = 160


def clean_name(value: str | None, field: str = "name") -> str | None:
    value = clean_text(value, single_line=True)
    if len(value) > MAX_NAME:
        raise InvalidFields({field: N_("at most %(max)s characters", max=MAX_NAME)})
    return value or None


def participant_for_email(
    session: Session,
    email: str,
    *,
    as_of: datetime,
    name: str | None = None,
    consents: bool = True,
) -> Participant:
    """The participant with this address, created if new (flushes).

    ``consents=False``: the address was typed by someone who has not shown it is theirs (the
    public event form), so a new participant starts with every consent off, the feedback's
    included, until its owner confirms (``confirm_address``).
    """
    email = normalize_email(email)
    participant = session.scalar(select(Participant).where(Participant.email == email))
    if participant is not None:
        # An existing person's name is not anyone's to change (their account sets it).
        return participant
    participant = Participant(
        email=email, name=clean_name(name), created_at=as_of, consent_feedback=consents
    )
    try:
        with session.begin_nested():  # two requests for one new address: one row
            session.add(participant)
    except IntegrityError:  # the other request's row
        participant = session.scalars(select(Participant).where(Participant.email == email)).one()
    return participant


def staff_label(viewer: User, participant: Participant | None) -> str | Msg:
    """How the back office names a participant to ``viewer``: the mission reads the address
    (and the name), the others the name given, else a number — never the address."""
    if participant is None:
        return "—"
    if participant.erased_at is not None:
        return N_("participant supprimé")
    if sees_personal_data(viewer):
        if participant.name and participant.email:
            return f"{participant.name} <{participant.email}>"
        return participant.name or participant.email or "—"
    return participant.name or N_("participant no. %(id)s", id=participant.id)


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
        confirm_address(session, participant, as_of=as_of)
        session.flush()
    return participant


def confirm_address(
    session: Session, participant: Participant, *, as_of: datetime, name: str | None = None
) -> None:
    """The owner of the participant's address has shown it is theirs (they confirmed a
    registration from the email, or their espace citoyen).

    A participant that someone else's typing created has had every consent off: the feedback
    consent now comes on, as for anyone who takes part (the charter promises each participant
    the feedback; they turn it off in their espace or by the link of any mailing). News of
    their territory stays off until they opt in. Consents someone already set are left alone.
    ``name`` (given on the confirmation page) names them, unless an account does.
    """
    if participant.consent_updated_at is None and not participant.consent_feedback:
        participant.consent_feedback = True
        participant.consent_updated_at = as_of
        audit.record(
            session,
            "participant.consents",
            actor=participant.user,
            as_of=as_of,
            target=f"participant:{participant.id}",
            feedback=True,
            territory_news=participant.consent_territory_news,
            reason="address confirmed",
        )
    if name is not None and participant.user_id is None:
        participant.name = clean_name(name)


def set_consents(
    session: Session,
    participant: Participant,
    *,
    feedback: bool,
    territory_news: bool,
    survey: bool | None = None,
    commune: str | None = None,
    as_of: datetime,
) -> None:
    """``survey`` None leaves the survey's consent as it is."""
    if commune is not None:
        participant.commune_insee, _ = commune_fields(commune)
    participant.consent_feedback = feedback
    participant.consent_territory_news = territory_news
    if survey is not None:
        participant.consent_survey = survey
    participant.consent_updated_at = as_of
    if participant.email:
        # Asking again for what one unsubscribed from by a link lifts that unsubscription.
        resubscribe(
            session,
            participant.email,
            [
                scope
                for scope, on in (
                    ("feedback", feedback),
                    ("news", territory_news),
                    ("survey", participant.consent_survey),
                )
                if on
            ],
        )
    audit.record(
        session,
        "participant.consents",
        actor=participant.user,
        as_of=as_of,
        target=f"participant:{participant.id}",
        feedback=feedback,
        territory_news=territory_news,
        survey=participant.consent_survey,
    )
    session.flush()


def messages_received(session: Session, participant: Participant) -> list[OutboxMessage | Delivery]:
    """The notifications and mailings sent to this person (each has ``subject``, ``body``, the
    text as sent, and ``sent_at``), latest first."""
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
    return sorted([*notifications, *deliveries], key=_sent_at, reverse=True)


def _sent_at(message: OutboxMessage | Delivery) -> datetime:
    assert message.sent_at is not None  # set when it is marked sent
    return message.sent_at


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _addresses(user: User, participant: Participant | None) -> set[str]:
    return {a.lower() for a in (user.email, participant and participant.email) if a}


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
            "consent_survey": participant.consent_survey,
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
                # A question's answer by the department, as published under it.
                "answer": c.answer or None,
                "answered_at": _iso(c.answered_at),
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
                "confirmed_at": _iso(r.confirmed_at),
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
        # The kinds of mail they stopped, and why (an unsubscription, a bounce).
        "unsubscriptions": [
            {
                "address": s.address,
                "scope": s.scope,
                "reason": s.reason,
                "created_at": _iso(s.created_at),
            }
            for s in session.scalars(
                select(Suppression)
                .where(Suppression.address.in_(_addresses(user, participant)))
                .order_by(Suppression.created_at)
            )
        ],
        "messages": [
            {"subject": m.subject, "sent_at": _iso(m.sent_at), "body": m.body}
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
