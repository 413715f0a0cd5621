"""Commands that cross modules: erasing a citizen's account (GDPR art. 17)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from . import audit, imports, mailings
from .events import cancel_registration
from .models import (
    ApiToken,
    ContributionReport,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Registration,
    RegistrationStatus,
    SurveyInvitation,
    User,
)


def erase_account(session: Session, user: User, *, as_of: datetime) -> None:
    """Delete a citizen's identity (GDPR art. 17); contributions stay, "participant supprimé".

    The account row stays as an empty shell so that the append-only history keeps pointing at
    something; nothing in it, its participant or the audit log names the person any more.
    Their live registrations are cancelled (which promotes the waiting list); messages not yet
    sent to them are dropped, and the text of those sent (kept for their espace) is forgotten.
    """
    participant = session.scalar(select(Participant).where(Participant.user_id == user.id))
    old_participant_email = participant.email if participant is not None else None
    old_participant_name = participant.name if participant is not None else None
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
        participant.consent_survey = False
        participant.erased_at = as_of
        # Their survey invitations no longer say who was invited (nor whether they answered).
        session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.participant_id == participant.id)
            .values(participant_id=None)
            .execution_options(synchronize_session=False)
        )
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
        message.body = ""  # the text as sent greets them by name and may quote them
    imports.forget_files_of(session, user.email, user.name or old_participant_name)
    # What they wrote to the moderation about others' contributions is theirs too.
    for report in session.scalars(
        select(ContributionReport).where(ContributionReport.reporter_id == user.id)
    ):
        report.reason = ""
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
