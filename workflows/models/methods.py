"""The toolbox: the methods of participation (DESIGN §6), the ones a démarche plans and the
ones its events and channels really used.

Methods are data shipped with the project (``workflows/data/methods/catalogue.json``) and
edited by the mission; ``workflows.methods`` loads, validates and reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .consultation import Event
from .demarches import Demarche
from .people import User


class MethodFormat(Labelled):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "in_person": N_("Face to face"),
            "online": N_("Online"),
            "hybrid": N_("Hybrid (face to face and online)"),
        }


class Recruitment(Labelled):
    OPEN = "open"
    TARGETED = "targeted"
    RANDOM = "random"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "open": N_("Open to all"),
            "targeted": N_("Targeted invitation"),
            "random": N_("Drawn by lot"),
        }


class Method(Base):
    """One method of the toolbox. ``levels`` and ``recruitment`` are lists of enum values
    (``ParticipationLevel``, ``Recruitment``); ``size_max`` None: no upper limit."""

    __tablename__ = "methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    size_min: Mapped[int] = mapped_column(default=1)
    size_max: Mapped[int | None]
    format: Mapped[MethodFormat] = mapped_column(portable_enum(MethodFormat, "method_format"))
    recruitment: Mapped[list[str]] = mapped_column(JSON, default=list)
    preparation_weeks: Mapped[int] = mapped_column(SmallInteger, default=0)
    duration: Mapped[str] = mapped_column(Text, default="")  # in words
    duration_days: Mapped[int] = mapped_column(default=1)  # first to last session, in days
    cost_min: Mapped[int] = mapped_column(default=0)  # euros, TTC
    cost_max: Mapped[int] = mapped_column(default=0)
    cost_year: Mapped[int] = mapped_column(SmallInteger)  # the year of the figure
    cost_note: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[str] = mapped_column(Text, default="")
    when_to_use: Mapped[str] = mapped_column(Text, default="")
    when_to_avoid: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    limits: Mapped[str] = mapped_column(Text, default="")
    produces: Mapped[str] = mapped_column(Text, default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")  # accessibility and aller-vers
    sources: Mapped[str] = mapped_column(Text, default="")  # one a line
    licence: Mapped[str] = mapped_column(Text, default="")  # the notice of text taken elsewhere
    # Quality ratings published with the text taken elsewhere (criterion -> "2 à 4").
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retired: Mapped[bool] = mapped_column(default=False, index=True)

    # Shipped with the project (loaded from the catalogue file), and the digest of the file's
    # values last loaded; ``edited_at``: the mission changed it since (a load then keeps it).
    shipped: Mapped[bool] = mapped_column(default=False)
    shipped_digest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    edited_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.name


class PlannedMethod(Base):
    """A method a démarche plans to use (chosen on the saisine, revised on the démarche)."""

    __tablename__ = "planned_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    method_id: Mapped[int] = mapped_column(ForeignKey("methods.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship()
    method: Mapped[Method] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("demarche_id", "method_id"),)


class UsedMethod(Base):
    """A method a démarche really used: through one of its events (an atelier, a rencontre),
    or through a channel of contributions (``Channel`` value: online, mail…). An event names
    one method; a démarche's channel names one method."""

    __tablename__ = "used_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    method_id: Mapped[int] = mapped_column(ForeignKey("methods.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), unique=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship()
    method: Mapped[Method] = relationship(lazy="joined")
    event: Mapped[Event | None] = relationship()

    __table_args__ = (UniqueConstraint("demarche_id", "channel"),)
