"""The qualification of the operators (DESIGN §6, issue 13): the training sessions the mission
holds for department agents and elected officials, and who attended them.

``workflows.training`` validates and records them, and reads from them which departments
have trained agents.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, portable_enum
from .methods import MethodFormat
from .people import User

training_attendees = Table(
    "training_attendees",
    Base.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TrainingSession(Base):
    """A training session: its day, its theme, where and how (optional), the mission's notes,
    and its attendees — department agents and elected officials (for a session to come: those
    who signed up)."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(index=True)
    theme: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(255), default="")
    format: Mapped[MethodFormat | None] = mapped_column(
        portable_enum(MethodFormat, "training_format")
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    attendees: Mapped[list[User]] = relationship(
        secondary=training_attendees, lazy="selectin", order_by=(User.name, User.id)
    )

    def __str__(self) -> str:
        return f"{self.date.isoformat()} — {self.theme}"
