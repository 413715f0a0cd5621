"""What a consultation gathers: items to comment, participants, contributions and their
moderation, events (ateliers, rencontres) and their registrations, and imports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .demarches import Demarche
from .people import User

if TYPE_CHECKING:
    from .mailings import ItemDecision


class ContributionKind(Labelled):
    COMMENT = "comment"
    QUESTION = "question"
    PROPOSAL = "proposal"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {"comment": N_("Comment"), "question": N_("Question"), "proposal": N_("Proposal")}


class Channel(Labelled):
    ONLINE = "online"
    WORKSHOP = "workshop"
    MEETING = "meeting"
    MAIL = "mail"
    IMPORT = "import"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "online": N_("Online"),
            "workshop": N_("Citizen workshop"),
            "meeting": N_("Territorial meeting"),
            "mail": N_("Mail"),
            "import": N_("Import"),
        }


class ContributionStatus(Labelled):
    PENDING = "pending"  # held for the mission's review
    PUBLISHED = "published"
    HIDDEN = "hidden"  # published, then hidden by the moderation, with a public reason
    REJECTED = "rejected"  # held, then refused by the moderation: never public

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "pending": N_("Awaiting review"),
            "published": N_("Published"),
            "hidden": N_("Hidden"),
            "rejected": N_("Not published"),
        }


class EventKind(Labelled):
    WORKSHOP = "workshop"  # atelier citoyen
    MEETING = "meeting"  # rencontre territoriale

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {"workshop": N_("Citizen workshop"), "meeting": N_("Territorial meeting")}


class RegistrationStatus(Labelled):
    # Made by someone who typed an address: holds no seat until that address's owner
    # confirms it from the email (then confirmed or waiting); lapses otherwise.
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "pending": N_("Awaiting confirmation"),
            "confirmed": N_("Registered"),
            "waiting": N_("On the waiting list"),
            "cancelled": N_("Cancelled"),
        }


class Item(Base):
    """An item put to consultation: an engagement of a draft charter, an option, a question."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=1)
    # Where an imported item came from (a Decidim proposal's URL), to map later imports to it.
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship(back_populates="items")
    decision: Mapped[ItemDecision | None] = relationship(uselist=False, lazy="selectin")

    __table_args__ = (
        UniqueConstraint("demarche_id", "source"),
        # One item at each place: an import names items by their position.
        Index("uq_items_demarche_id_position", "demarche_id", "position", unique=True),
    )

    def __str__(self) -> str:
        return self.title


class Participant(Base):
    """Someone who took part, with or without an account; the feedback goes to them.

    One row per email address (imports, paper forms and event registrations without an account
    included); a citizen account is linked once its address is confirmed. Erasing it keeps the
    row, emptied, so that its contributions stay, "participant supprimé".
    """

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(160))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    # Consents (DESIGN §1): told what became of one's contributions — on by default, the
    # charter promises it; news of démarches in one's territory — off until opted in.
    consent_feedback: Mapped[bool] = mapped_column(default=True)
    consent_territory_news: Mapped[bool] = mapped_column(default=False)
    # The participants' survey after the feedback (issue 14) — on by default; it also needs
    # the feedback consent.
    consent_survey: Mapped[bool] = mapped_column(default=True)
    consent_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship()

    @property
    def display_name(self) -> str | None:
        return None if self.erased_at else (self.name or None)


class Event(Base):
    """An atelier citoyen or a rencontre territoriale of a démarche."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(portable_enum(EventKind, "event_kind"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300))
    territory: Mapped[str | None] = mapped_column(String(80))
    capacity: Mapped[int]
    registration_open: Mapped[bool] = mapped_column(default=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship(back_populates="events")
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", order_by="Registration.id"
    )

    def __str__(self) -> str:
        return self.title


class Registration(Base):
    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        portable_enum(RegistrationStatus, "registration_status")
    )
    attended: Mapped[bool | None]
    created_at: Mapped[datetime]
    # When its owner confirmed it (at once for an account): its place in the waiting list.
    confirmed_at: Mapped[datetime | None]
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # The event's start when the last reminder was planned (issue 4 sends them).
    reminded_for: Mapped[datetime | None]

    event: Mapped[Event] = relationship(back_populates="registrations")
    participant: Mapped[Participant] = relationship()

    __table_args__ = (
        # One live registration per person and event (a cancelled one may be followed by another).
        Index(
            "uq_registrations_live",
            "event_id",
            "participant_id",
            unique=True,
            postgresql_where="status != 'cancelled'",
            sqlite_where="status != 'cancelled'",
        ),
    )


class Contribution(Base):
    """A comment, a question or a proposal, tied to its item (for the synthesis) and to its
    author (for the feedback), whatever the channel it came through."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    kind: Mapped[ContributionKind] = mapped_column(portable_enum(ContributionKind, "kind"))
    channel: Mapped[Channel] = mapped_column(portable_enum(Channel, "channel"))
    title: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    canton_code: Mapped[str | None] = mapped_column(String(4), index=True)
    # Agreement where the source records it (Decidim's alignment: 1, 0, -1) and endorsements.
    alignment: Mapped[int | None] = mapped_column(SmallInteger)
    endorsements: Mapped[int | None]
    status: Mapped[ContributionStatus] = mapped_column(
        portable_enum(ContributionStatus, "contribution_status"), index=True
    )
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When it was said (a workshop's day, an import's own date) and when it was recorded.
    contributed_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    # Identity in its source (an import's row, a Decidim id): importing twice adds nothing.
    source: Mapped[str | None] = mapped_column(String(200))
    # Its author in the source it was imported from, when no participant is known: the
    # export's author id, else a digest of the name within its file (``workflows.authors``).
    author_key: Mapped[str | None] = mapped_column(String(80))
    # A question's answer, by the department (published under it).
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    demarche: Mapped[Demarche] = relationship()
    item: Mapped[Item] = relationship()
    parent: Mapped[Contribution | None] = relationship(remote_side=[id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    participant: Mapped[Participant | None] = relationship()
    event: Mapped[Event | None] = relationship()

    __table_args__ = (
        UniqueConstraint("demarche_id", "source"),
        Index("ix_contributions_item_status_date", "item_id", "status", "contributed_at"),
    )


class ContributionReport(Base):
    """A logged-in person flags a contribution to the moderation."""

    __tablename__ = "contribution_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    contribution: Mapped[Contribution] = relationship()

    __table_args__ = (UniqueConstraint("contribution_id", "reporter_id"),)


class ImportStatus(Labelled):
    PREVIEWING = "previewing"  # a large file, waiting for a worker to read it
    PREVIEWED = "previewed"
    QUEUED = "queued"  # handed to the workers
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "previewing": N_("Being read"),
            "previewed": N_("Previewed"),
            "queued": N_("Waiting for a worker"),
            "running": N_("Importing"),
            "done": N_("Done"),
            "failed": N_("Failed"),
        }


class ContributionImport(Base):
    """An uploaded file of contributions, its preview, then its progress and outcome."""

    __tablename__ = "contribution_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    format: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[ImportStatus] = mapped_column(portable_enum(ImportStatus, "import_status"))
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_to_import: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # Each batch touches it: a run that stops moving belongs to a dead worker.
    updated_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    demarche: Mapped[Demarche] = relationship()
