"""Suppressions: unsubscribing, resubscribing and forgetting an address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..errors import InvalidFields
from ..i18n import N_
from ..models import Delivery, DeliveryStatus, Mailing, Participant, Suppression
from .policy import CONSENT_COLUMNS, CONSENTS, SCOPES


def suppress(
    session: Session, address: str, scope: str, reason: str, at: datetime, *, detail: str = ""
) -> bool:
    """Add to the suppression list (idempotent, and safe when two do it at once); True if it
    was new."""
    address = address.strip().lower()
    exists = session.scalar(
        select(Suppression.id).where(Suppression.address == address, Suppression.scope == scope)
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Suppression(
                    address=address, scope=scope, reason=reason, detail=detail[:2000], created_at=at
                )
            )
    except IntegrityError:
        return False  # written by another request meanwhile
    return True


# -- unsubscribing and forgetting ------------------------------------------------------------


def unsubscribe(session: Session, address: str, scope: str, *, as_of: datetime) -> bool:
    """Stop the mail of ``scope`` to ``address`` (RFC 8058 one-click, or the page): the
    suppression list, the participant's consent, and what is still to send. Idempotent;
    True the first time."""
    if scope not in {s for s in SCOPES.values() if s}:
        raise InvalidFields({"scope": N_("unknown subscription")})
    address = address.strip().lower()
    new = suppress(session, address, scope, "unsubscribed", as_of)
    column = CONSENT_COLUMNS.get(scope)
    for participant in session.scalars(select(Participant).where(Participant.email == address)):
        if column is not None and getattr(participant, column):
            setattr(participant, column, False)
            participant.consent_updated_at = as_of
    # The kinds that need this consent: the survey's link withdraws the survey only, the
    # feedback's the feedback and the survey (which asks about it).
    kinds = [kind for kind, needed in CONSENTS.items() if scope in needed]
    session.execute(
        update(Delivery)
        .where(
            Delivery.address == address,
            # A claimed row is not sent once it is no longer claimed: a running chunk skips it.
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
            Delivery.mailing_id.in_(select(Mailing.id).where(Mailing.kind.in_(kinds))),
        )
        .values(status=DeliveryStatus.SKIPPED, skip_reason="unsubscribed", chunk=None)
        .execution_options(synchronize_session=False)
    )
    if new:
        audit.record(session, "mailing.unsubscribe", actor=None, as_of=as_of, scope=scope)
    session.flush()
    return new


def resubscribe(session: Session, address: str, scopes: list[str]) -> None:
    """The person asked again for these mails (their consent choices): lift their own
    unsubscriptions, never a hard bounce."""
    session.execute(
        delete(Suppression).where(
            Suppression.address == address.strip().lower(),
            Suppression.scope.in_(scopes),
            Suppression.reason == "unsubscribed",
        )
    )


def forget_address(session: Session, addresses: set[str]) -> None:
    """An erased person: their deliveries keep their outcome but lose the address; what was
    still to send to them will not go."""
    addresses = {a.strip().lower() for a in addresses if a}
    if not addresses:
        return
    for delivery in session.scalars(select(Delivery).where(Delivery.address.in_(addresses))):
        if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED):
            delivery.status, delivery.skip_reason = DeliveryStatus.SKIPPED, "erased"
        delivery.address = f"erased-{delivery.id}@invalid.invalid"
        # An answer may quote the address, a subject or a text name them.
        delivery.error = delivery.subject = delivery.body = ""
        delivery.participant_id = delivery.user_id = None
    session.execute(delete(Suppression).where(Suppression.address.in_(addresses)))
    session.flush()
