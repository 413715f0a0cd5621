"""The charter as data: versions of rules, the deadlines they give each démarche (or each
citizen's question), and the reminders and alerts sent about them, once each."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .consultation import Contribution
from .demarches import Demarche
from .people import User


class CharterVersion(Base):
    """One version of the charter's rules. A démarche keeps the version current when it was
    created; a draft version is the mission's to edit until it is published."""

    __tablename__ = "charter_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]  # None: a draft
    is_current: Mapped[bool] = mapped_column(default=False, index=True)

    created_by: Mapped[User | None] = relationship()
    rules: Mapped[list[CharterRule]] = relationship(
        back_populates="version", order_by="CharterRule.position", lazy="selectin"
    )

    def __str__(self) -> str:
        return f"Version {self.number}"

    def rule(self, code: str) -> CharterRule | None:
        return next((r for r in self.rules if r.code == code), None)


class RuleKind(Labelled):
    DEADLINE = "deadline"  # a clock per démarche or question, reminded, alerted when missed
    VALIDATION = "validation"  # a date rule the stage machine checks (lengths, notice)
    REMINDER = "reminder"  # how long before an event its registrants are reminded

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "deadline": N_("Deadline"),
            "validation": N_("Date rule"),
            "reminder": N_("Reminder to participants"),
        }


class CharterRule(Base):
    """A promise of the charter: from which event, how long, until which event, who is
    responsible, when they are reminded, who is alerted when it is missed."""

    __tablename__ = "charter_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("charter_versions.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RuleKind] = mapped_column(portable_enum(RuleKind, "rule_kind"))
    start_event: Mapped[str] = mapped_column(String(40), default="")
    stop_event: Mapped[str] = mapped_column(String(40), default="")
    # The duration (a deadline's; a validation's minimum), and a validation's maximum.
    duration: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str] = mapped_column(String(10), default="days")  # days | months
    maximum: Mapped[int | None]
    maximum_unit: Mapped[str | None] = mapped_column(String(10))
    responsible: Mapped[str] = mapped_column(String(20), default="")  # mission | department
    reminders: Mapped[list[int]] = mapped_column(JSON, default=list)  # days before the due day
    alert: Mapped[list[str]] = mapped_column(JSON, default=list)  # mission, elected, department

    version: Mapped[CharterVersion] = relationship(back_populates="rules")

    __table_args__ = (UniqueConstraint("version_id", "code"),)

    def __str__(self) -> str:
        return self.label


class DeadlineStatus(Labelled):
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "pending": N_("Pending"),
            "met": N_("Met"),
            "missed": N_("Missed"),
            "waived": N_("Waived"),
        }


class Deadline(Base):
    """One rule's clock for one démarche (or one question): due at the end of its last day,
    Europe/Paris."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it is, so that the same start never makes two: rule, démarche or question, round.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("charter_rules.id"))
    rule_code: Mapped[str] = mapped_column(String(40))
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"), index=True)
    started_at: Mapped[datetime]
    due_date: Mapped[date] = mapped_column(Date)  # the last day (local)
    due_at: Mapped[datetime]  # the instant it ends: the next day at 00:00, Europe/Paris
    status: Mapped[DeadlineStatus] = mapped_column(
        portable_enum(DeadlineStatus, "deadline_status"), default=DeadlineStatus.PENDING
    )
    met_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    waived_at: Mapped[datetime | None]
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waive_reason: Mapped[str] = mapped_column(Text, default="")

    rule: Mapped[CharterRule] = relationship(lazy="joined")
    demarche: Mapped[Demarche] = relationship()
    question: Mapped[Contribution | None] = relationship()
    waived_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_deadlines_status_due", "status", "due_at"),)

    @property
    def on_time(self) -> bool | None:
        """Met before its end (None while pending, waived or missed and never met)."""
        if self.met_at is None:
            return None
        return self.met_at < self.due_at


class DeadlineNotice(Base):
    """A reminder (``kind`` remind, ``offset`` in days) or a missed alert sent about a
    deadline: unique, so that however many sweeps run, each goes once."""

    __tablename__ = "deadline_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    kind: Mapped[str] = mapped_column(String(10))  # remind | missed
    offset: Mapped[int] = mapped_column(SmallInteger, default=0)
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("deadline_id", "kind", "offset"),)
