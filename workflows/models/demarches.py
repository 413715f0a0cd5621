"""A démarche, the append-only record of its stage transitions, and the general audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..stages import ParticipationLevel, Stage
from .base import Base, portable_enum
from .people import Department, User

if TYPE_CHECKING:
    from .charter import CharterVersion
    from .consultation import Event, Item


class Demarche(Base):
    __tablename__ = "demarches"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    stage: Mapped[Stage] = mapped_column(
        portable_enum(Stage, "stage"), default=Stage.DRAFT, index=True
    )

    # The saisine, written by the department.
    title: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    objectives: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[str] = mapped_column(Text, default="")
    territory: Mapped[str | None] = mapped_column(String(80), index=True)
    participation_level: Mapped[ParticipationLevel | None] = mapped_column(
        portable_enum(ParticipationLevel, "participation_level")
    )
    elected_official_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    desired_calendar: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # What the toolbox weighs (workflows/methods/suggestions.py): the participants expected
    # and the date by which the participation must be over.
    expected_participants: Mapped[int | None]
    participation_ends_by: Mapped[date | None] = mapped_column(Date)

    # The démarche sheet, completed once accepted.
    presentation: Mapped[str] = mapped_column(Text, default="")
    consultation_opens: Mapped[date | None] = mapped_column(Date)
    consultation_closes: Mapped[date | None] = mapped_column(Date)
    # Contributions wait for the mission's review before they are published (a priori).
    hold_for_review: Mapped[bool] = mapped_column(default=False)
    # The charter version the démarche started with (DESIGN §3), and when its opening date
    # was last made public (the public notice runs from then).
    charter_version_id: Mapped[int | None] = mapped_column(ForeignKey("charter_versions.id"))
    announced_at: Mapped[datetime | None]

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    department: Mapped[Department | None] = relationship(lazy="joined")
    elected_official: Mapped[User | None] = relationship(
        foreign_keys=[elected_official_id], lazy="joined"
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    charter_version: Mapped[CharterVersion | None] = relationship(lazy="selectin")
    transitions: Mapped[list[StageTransition]] = relationship(
        back_populates="demarche", order_by="StageTransition.id", passive_deletes="all"
    )
    items: Mapped[list[Item]] = relationship(
        back_populates="demarche", order_by="(Item.position, Item.id)"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="demarche", order_by="Event.starts_at"
    )

    def __str__(self) -> str:
        return self.title


class StageTransition(Base):
    """One move of a démarche: who, when, from, to and why. Rows are never changed."""

    __tablename__ = "stage_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    from_stage: Mapped[Stage] = mapped_column(portable_enum(Stage, "from_stage"))
    to_stage: Mapped[Stage] = mapped_column(portable_enum(Stage, "to_stage"))
    # Null when the system made the move (a scheduled sweep).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(20))  # backoffice | api | task | cli
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship(lazy="joined")


class AuditEntry(Base):
    """Any other audited action (edits, accounts, roles). Rows are never changed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    demarche_id: Mapped[int | None] = mapped_column(ForeignKey("demarches.id"), index=True)
    target: Mapped[str] = mapped_column(String(120), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")


@event.listens_for(StageTransition, "before_update")
@event.listens_for(StageTransition, "before_delete")
@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(mapper, connection, target) -> None:
    # The database refuses it too (triggers in the migration); this catches it earlier.
    raise ValueError(f"{type(target).__name__} rows are append-only")
