"""Who receives a mailing: audiences and consents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import (
    Audience,
    Contribution,
    Event,
    Mailing,
    MailingKind,
    Participant,
    Registration,
    RegistrationStatus,
    Role,
    Suppression,
    User,
)
from ..roles import RoleName
from ..territory import WHOLE_DEPARTEMENT, communes
from .policy import CONSENTS

# -- audiences and consents ----------------------------------------------------------------


@dataclass
class Recipient:
    address: str
    name: str = ""
    participant_id: int | None = None
    user_id: int | None = None
    skip: str = ""  # why not: no_consent, suppressed, unsubscribed


def _canton_communes(territory: str | None) -> set[str] | None:
    """INSEE codes of a canton's communes; None for the whole département."""
    if not territory or territory == WHOLE_DEPARTEMENT:
        return None
    codes = {c.insee_code for c in communes() if c.canton_name == territory}
    if territory.startswith("Toulouse-"):
        codes.add("31555")  # Toulouse spans its eleven cantons
    return codes


def _participant_query(mailing: Mailing) -> Select:
    """The audience's participants with an address: (email, name, id, consents)."""
    d = mailing.demarche
    query = select(
        Participant.email,
        Participant.name,
        Participant.id,
        Participant.consent_feedback,
        Participant.consent_territory_news,
        Participant.consent_survey,
    )
    if mailing.audience == Audience.CONTRIBUTORS:
        ids = select(Contribution.participant_id).where(Contribution.demarche_id == d.id)
        query = query.where(Participant.id.in_(ids))
    elif mailing.audience == Audience.REGISTRANTS:
        statuses = [RegistrationStatus.CONFIRMED]
        if mailing.kind != MailingKind.REMINDER:
            statuses.append(RegistrationStatus.WAITING)
        events = (
            [mailing.event_id]
            if mailing.event_id
            else select(Event.id).where(Event.demarche_id == d.id)
        )
        ids = select(Registration.participant_id).where(
            Registration.event_id.in_(events), Registration.status.in_(statuses)
        )
        query = query.where(Participant.id.in_(ids))
    else:  # territory subscribers
        query = query.where(Participant.consent_territory_news.is_(True))
        codes = _canton_communes(d.territory)
        if codes is not None:
            query = query.where(Participant.commune_insee.in_(codes))
    return query.where(Participant.email.is_not(None)).order_by(Participant.id)


def _users(session: Session, mailing: Mailing) -> list[User]:
    d = mailing.demarche
    if mailing.audience == Audience.ELECTED:
        official = d.elected_official
        return [official] if official is not None and official.active else []
    query = (
        select(User)
        .join(User.roles)
        .where(
            User.department_id == d.department_id,
            User.active.is_(True),
            Role.name == RoleName.DEPARTMENT,
        )
        .order_by(User.id)
    )
    return list(session.scalars(query).unique()) if d.department_id else []


def recipients(session: Session, mailing: Mailing) -> list[Recipient]:
    """Everyone the mailing is for, each with why they are skipped (if they are): no
    consent for this kind of mail, an unsubscription from it, a hard bounce."""
    if mailing.audience in (Audience.ELECTED, Audience.DEPARTMENT_AGENTS):
        found = [
            Recipient(u.email.lower(), u.name or "", user_id=u.id) for u in _users(session, mailing)
        ]
        addresses: Any = [r.address for r in found]
    else:
        query = _participant_query(mailing)
        # A reminder needs no other consent (the registration asked for it), nor does a kind
        # without a scope; the survey needs the feedback's too.
        needed = [c for c in CONSENTS[mailing.kind] if c != "reminder"]
        found = [
            Recipient(
                email,
                name or "",
                participant_id=participant_id,
                skip=""
                if all({"feedback": feedback, "news": news, "survey": survey}[c] for c in needed)
                else "no_consent",
            )
            for email, name, participant_id, feedback, news, survey in session.execute(query)
        ]
        addresses = query.with_only_columns(Participant.email).order_by(None)
    suppressed: dict[str, str] = {}
    if found:
        for address, suppression_scope in session.execute(
            select(Suppression.address, Suppression.scope).where(
                Suppression.scope.in_(["all", *CONSENTS[mailing.kind]]),
                Suppression.address.in_(addresses),
            )
        ):
            if suppression_scope == "all" or address not in suppressed:
                suppressed[address] = suppression_scope
    for recipient in found:  # an unsubscription (or a bounce) says more than a consent off
        if recipient.address in suppressed:
            recipient.skip = (
                "suppressed" if suppressed[recipient.address] == "all" else "unsubscribed"
            )
    return found
