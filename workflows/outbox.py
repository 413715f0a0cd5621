"""Notifications that leave only after their cause committed, each at most once per key.

``enqueue`` writes an outbox row in the caller's transaction and asks for its delivery once
that transaction commits (``after_commit_each``: one ``workers.deliver_outbox`` per commit,
with every new id); a periodic sweep (``due_ids``) catches whatever was never picked up.
``deliver`` claims a row, sends it through the injected sender and records the outcome,
committing at each step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .after_commit import DELIVER_OUTBOX, after_commit_each
from .charter import settle_by_key
from .clock import utcnow
from .models import Demarche, OutboxMessage, OutboxStatus, Participant, User
from .retry import backoff, exhausted
from .sql import database_unavailable, execute_dml

log = logging.getLogger(__name__)

#: A row claimed longer ago than this belongs to a worker that died: claim it again.
STALE_CLAIM = timedelta(minutes=10)


class DeliveryError(Exception):
    """A message not delivered: the SMTP code if the server answered, whether the connection
    is lost (a mailing then opens a new one for the rest of its chunk), whether the mailbox
    does not exist."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        connection_lost: bool = False,
        mailbox_unknown: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.connection_lost = connection_lost
        # The recipient's server said the mailbox does not exist (not a policy or relay
        # refusal): the address goes on the suppression list.
        self.mailbox_unknown = mailbox_unknown


class TemporaryDeliveryError(DeliveryError):
    """Try again later (SMTP 4xx, connection lost, timeout)."""


class PermanentDeliveryError(DeliveryError):
    """Do not try again (SMTP 5xx: unknown mailbox, refused)."""


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    recipient: User | Participant,
    as_of: datetime,
    demarche: Demarche | None = None,
    context: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Add a message unless one with the same key exists (then return None)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return None
    to_user = isinstance(recipient, User)
    message = OutboxMessage(
        key=key,
        template=template,
        recipient=recipient if to_user else None,
        participant=None if to_user else recipient,
        demarche=demarche,
        context=context or {},
        created_at=as_of,
        next_attempt_at=as_of,
    )
    session.add(message)
    session.flush()
    after_commit_each(session, DELIVER_OUTBOX, [message.id])
    return message


def due_ids(session: Session, as_of: datetime, limit: int = 500) -> list[int]:
    """Rows to (re)send now: pending and due, or claimed by a worker that never finished."""
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.next_attempt_at <= as_of),
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_at < as_of - STALE_CLAIM),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, message_id: int, as_of: datetime) -> OutboxMessage | None:
    """Take the row for this worker, atomically; None if it is not ours to send."""
    claimable = or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= as_of),
        (OutboxMessage.status == OutboxStatus.SENDING)
        & (OutboxMessage.claimed_at < as_of - STALE_CLAIM),
    )
    result = execute_dml(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, claimable)
        .values(
            status=OutboxStatus.SENDING,
            claimed_at=as_of,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False),
    )
    session.commit()
    if result.rowcount != 1:
        return None
    return session.get(OutboxMessage, message_id, populate_existing=True)


def deliver(
    session: Session,
    ids: Iterable[int],
    send: Callable[[OutboxMessage], str],
    now: Callable[[], datetime] = utcnow,
) -> dict[str, int]:
    """Send each claimable message once; ``send`` returns the Message-ID or raises.

    Commits after each claim and each outcome, so that a crash loses at most the message
    in flight (which is then re-sent after ``STALE_CLAIM``: at least once, never lost).
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in ids:
        message = claim(session, message_id, now())
        if message is None:
            counts["skipped"] += 1
            continue
        if message.address is None:
            outcome = _finish(message, OutboxStatus.FAILED, now(), error="no address (erased)")
        else:
            try:
                message_header = send(message)
            except TemporaryDeliveryError as exc:
                if exhausted(message.attempts):  # the policy of workflows.retry
                    outcome = _finish(message, OutboxStatus.FAILED, now(), error=str(exc))
                else:
                    message.status = OutboxStatus.PENDING
                    message.next_attempt_at = now() + backoff(message.attempts)
                    message.error = str(exc)
                    outcome = "retry"
            except PermanentDeliveryError as exc:
                outcome = _finish(message, OutboxStatus.FAILED, now(), error=str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug must not stall the row or the batch
                if database_unavailable(exc):
                    # The database went away while the message was made (a restart): not
                    # the message's fault. The task is retried; this row, claimed, goes
                    # again once its claim is stale.
                    raise
                log.exception("outbox message %s could not be sent", message.id)
                error = f"{type(exc).__name__}: {exc}"
                outcome = _finish(message, OutboxStatus.FAILED, now(), error=error)
            else:
                sent_at = now()
                outcome = _finish(message, OutboxStatus.SENT, sent_at, message_id=message_header)
                if message.context.get("settles"):  # e.g. a receipt meets its deadline
                    settle_by_key(session, message.context["settles"], at=sent_at)
        session.commit()
        counts[outcome] += 1
    return counts


def _finish(message: OutboxMessage, status: OutboxStatus, at: datetime, **fields: Any) -> str:
    message.status = status
    if status == OutboxStatus.SENT:
        message.sent_at = at
        message.error = ""
    for name, value in fields.items():
        setattr(message, name, value)
    return "sent" if status == OutboxStatus.SENT else "failed"
