"""The outbox: notifications written in the same transaction as what caused them.

A row exists only if its cause committed; workers claim rows, send and record the result.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .demarches import Demarche, _enum
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
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    demarche_id: Mapped[int | None] = mapped_column(ForeignKey("demarches.id"), index=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text, default="")

    recipient: Mapped[User] = relationship(lazy="joined")
    demarche: Mapped[Demarche | None] = relationship(lazy="joined")
