"""The charter's label (issue 14): its rules as versioned data, and the level the mission
awarded each closed démarche.

A version of the rules is never changed: the mission's edit makes a new one, current from
then on. An award keeps the version it was judged by and the proposal it saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .demarches import Demarche
from .people import User


class LabelRules(Base):
    """One version of the label's rules: ``data`` holds the gates and the levels
    (``workflows.label.rules.Rules.to_json()``), checked when saved."""

    __tablename__ = "label_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_current: Mapped[bool] = mapped_column(default=False, index=True)

    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"Version {self.number}"


class LabelAward(Base):
    """The level the mission awarded a closed démarche (``level`` None: withdrawn), with its
    public reason, the rules version it was judged by and the proposal it saw."""

    __tablename__ = "label_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), unique=True)
    level: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    rules_version: Mapped[int] = mapped_column(ForeignKey("label_rules.number"))
    proposed_level: Mapped[str | None] = mapped_column(String(20))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON)  # Proposal.to_json()
    awarded_at: Mapped[datetime]
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    demarche: Mapped[Demarche] = relationship()
    rules: Mapped[LabelRules] = relationship()
    awarded_by: Mapped[User | None] = relationship()
