"""The outbox: notifications written in the same transaction as what caused them.

A row exists only if its cause committed; workers claim rows, send and record the result.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, portable_enum
from .consultation import Participant
from .demarches import Demarche
from .people import User


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per cause and recipient, so that scheduling twice cannot send twice.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    template: Mapped[str] = mapped_column(String(60))
    # To an account, or to a participant without one (an event registration, a paper form).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    demarche_id: Mapped[int | None] = mapped_column(ForeignKey("demarches.id"), index=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    status: Mapped[OutboxStatus] = mapped_column(
        portable_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(300), default="")  # as sent, for the history
    # The text as sent (one-time links taken out): the espace citoyen shows it again.
    body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")

    recipient: Mapped[User | None] = relationship(lazy="joined")
    participant: Mapped[Participant | None] = relationship(lazy="joined")
    demarche: Mapped[Demarche | None] = relationship(lazy="joined")

    @property
    def address(self) -> str | None:
        """Where it goes, read at send time: an erased person has none any more."""
        if self.recipient is not None:
            return self.recipient.email if self.recipient.active else None
        return self.participant.email if self.participant is not None else None
