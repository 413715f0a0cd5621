"""Mailings and their deliveries: one row per (mailing, address), the record of every send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .consultation import Event, Participant
from .demarches import Demarche
from .people import User


class MailingKind(Labelled):
    FEEDBACK = "feedback"
    INVITATION = "invitation"
    REMINDER = "reminder"
    NEWSLETTER = "newsletter"
    OFFICIALS = "officials"
    DEPARTMENTS = "departments"
    SURVEY = "survey"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "feedback": N_("Feedback to citizens"),
            "invitation": N_("Invitation to a consultation"),
            "reminder": N_("Event reminder"),
            "newsletter": N_("Newsletter"),
            "officials": N_("Message to elected officials"),
            "departments": N_("Message to departments"),
            "survey": N_("Participants' survey"),
        }


class Audience(Labelled):
    CONTRIBUTORS = "contributors"
    REGISTRANTS = "registrants"
    TERRITORY_SUBSCRIBERS = "territory_subscribers"
    ELECTED = "elected"
    DEPARTMENT_AGENTS = "department_agents"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "contributors": N_("The contributors of the démarche"),
            "registrants": N_("The registrants of its events"),
            "territory_subscribers": N_("The citizens of its territory who asked for news"),
            "elected": N_("Its sponsoring elected official"),
            "department_agents": N_("The agents of its department"),
        }


class MailingStatus(Labelled):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "draft": N_("Draft"),
            "scheduled": N_("Scheduled"),
            "sending": N_("Sending"),
            "sent": N_("Sent"),
            "cancelled": N_("Cancelled"),
        }


class DeliveryStatus(Labelled):
    PENDING = "pending"  # to send (now, or after a temporary failure, at next_attempt_at)
    CLAIMED = "claimed"  # taken by a worker's chunk, not yet attempted
    SENDING = "sending"  # handed to the SMTP server right now
    SENT = "sent"
    REFUSED = "refused"  # a permanent SMTP refusal (5xx), kept with its code and text
    FAILED = "failed"  # temporary failures until the attempts ran out
    SKIPPED = "skipped"  # never to send: no consent, suppressed, erased …
    UNCERTAIN = "uncertain"  # in flight when its worker died: maybe sent, never sent again
    CANCELLED = "cancelled"  # the mailing was cancelled before it went

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "pending": N_("To send"),
            "claimed": N_("To send"),
            "sending": N_("Sending"),
            "sent": N_("Sent"),
            "refused": N_("Refused"),
            "failed": N_("Failed"),
            "skipped": N_("Skipped"),
            "uncertain": N_("Uncertain"),
            "cancelled": N_("Cancelled"),
        }


class Mailing(Base):
    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailingKind] = mapped_column(portable_enum(MailingKind, "mailing_kind"))
    audience: Mapped[Audience] = mapped_column(portable_enum(Audience, "audience"))
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    # The registrants of one event (else of all the démarche's events).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # What a mailing the system makes is for, so that it is made once (e.g. one event's reminder).
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[MailingStatus] = mapped_column(
        portable_enum(MailingStatus, "mailing_status"), default=MailingStatus.DRAFT, index=True
    )
    scheduled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    demarche: Mapped[Demarche] = relationship()
    event: Mapped[Event | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.subject


class Delivery(Base):
    """One message of a mailing to one address: claimed, sent, and recorded, once."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"))
    address: Mapped[str] = mapped_column(String(255))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        portable_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    skip_reason: Mapped[str] = mapped_column(String(40), default="")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime]
    chunk: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(300), default="")  # as sent (the espace lists it)
    body: Mapped[str] = mapped_column(Text, default="")  # the text as sent (the espace shows it)
    smtp_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str] = mapped_column(Text, default="")

    mailing: Mapped[Mailing] = relationship()
    participant: Mapped[Participant | None] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("mailing_id", "address"),
        Index("ix_deliveries_mailing_status", "mailing_id", "status", "next_attempt_at"),
    )


class Suppression(Base):
    """An address that must not get some (or any) mail: a hard bounce, an unsubscription."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(255))
    # "all" (a hard bounce), or the scope one unsubscribed from: feedback, news, reminder,
    # survey.
    scope: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("address", "scope"),)


class DecisionOutcome(Labelled):
    RETAINED = "retained"
    PARTLY_RETAINED = "partly_retained"
    NOT_RETAINED = "not_retained"
    UNDER_STUDY = "under_study"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "retained": N_("Retained"),
            "partly_retained": N_("Partly retained"),
            "not_retained": N_("Not retained"),
            "under_study": N_("Under study"),
        }


class ItemDecision(Base):
    """What the department decided about an item, and why: it feeds the feedback."""

    __tablename__ = "item_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(
        portable_enum(DecisionOutcome, "decision_outcome")
    )
    justification: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]

    decided_by: Mapped[User | None] = relationship()
