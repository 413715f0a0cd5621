"""The participants' survey (issue 14): who was invited, and the answers — kept apart.

An invitation names the participant and the démarche; it keeps only whether it was answered,
never when. An answer names the démarche and nothing else: no invitation, no participant, no
time; its id is random (not a sequence that would follow the order of the answers), and the
tables are stored without SQLite's hidden row numbers. So nobody reading the database can
pair an answer with the person who gave it (``docs/evaluation.md``, *The participants'
survey*, says what is left).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .consultation import Participant
from .demarches import Demarche


def random_id() -> str:
    """An answer's id: 128 random bits, nothing ordered."""
    return secrets.token_hex(16)


class SurveySource(Labelled):
    ONLINE = "online"
    PAPER = "paper"

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {"online": N_("Online"), "paper": N_("Paper, typed by the mission")}


class SurveyInvitation(Base):
    """One participant's invitation to one démarche's survey: the secret its link carries
    (signed by the web side) and whether it was answered — never when, nor which answer."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    demarche: Mapped[Demarche] = relationship()
    participant: Mapped[Participant | None] = relationship()

    __table_args__ = (UniqueConstraint("demarche_id", "participant_id"),)


class SurveyAnswer(Base):
    """One answer to a démarche's survey, online or typed from paper: no link to anyone,
    no time (see the module)."""

    __tablename__ = "survey_answers"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    source: Mapped[SurveySource] = mapped_column(portable_enum(SurveySource, "survey_source"))
    first_time: Mapped[bool | None] = mapped_column(Boolean)
    age_band: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")


class SurveyScore(Base):
    """An answer's score on one statement (1 to 5), one row per statement answered."""

    __tablename__ = "survey_scores"
    __table_args__ = {"sqlite_with_rowid": False}

    answer_id: Mapped[str] = mapped_column(
        ForeignKey("survey_answers.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[str] = mapped_column(String(30), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
