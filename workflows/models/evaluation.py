"""The evaluation of a démarche (DESIGN §6, issue 14): the evaluation frozen at its closing,
and the department's self-assessment with the mission's review.

The evaluation itself is computed by ``workflows.evaluation`` from the record; only its
frozen copy is kept, as JSON, with the date of the data it was computed from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .demarches import Demarche
from .people import User


class FrozenEvaluation(Base):
    """A démarche's evaluation as it stood when the démarche closed: never computed again.
    ``data``: ``workflows.evaluation.Evaluation.to_json()``; ``data_as_of``: the moment of
    the record it was computed from (the closing, or the command that froze it later)."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), unique=True)
    frozen_at: Mapped[datetime]
    data_as_of: Mapped[datetime]
    # The version of the score thresholds (workflows/data/evaluation/scores.json) it used.
    scores_version: Mapped[int] = mapped_column(SmallInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    demarche: Mapped[Demarche] = relationship()


class SelfAssessmentStatus(Labelled):
    SUBMITTED = "submitted"  # filled by the department, awaiting the mission's review
    ACCEPTED = "accepted"
    TO_COMPLETE = "to_complete"  # the mission asked the department to complete it

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "submitted": N_("Awaiting the mission's review"),
            "accepted": N_("Accepted by the mission"),
            "to_complete": N_("To complete"),
        }


class SelfAssessment(Base):
    """The department's short self-assessment of its démarche: a choice per question
    (``workflows.evaluation.self_assessment.QUESTIONS``), a free text per question and notes;
    then the mission's review (accepted with a comment, or to complete, with what)."""

    __tablename__ = "self_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), unique=True)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # question → choice
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # question → text
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SelfAssessmentStatus] = mapped_column(
        portable_enum(SelfAssessmentStatus, "self_assessment_status")
    )
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str] = mapped_column(Text, default="")

    demarche: Mapped[Demarche] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
