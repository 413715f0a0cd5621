"""The versions of a démarche's synthesis: built by a worker from the published
contributions, edited and validated by the mission, published (one at a time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Labelled
from ..i18n import N_
from .base import Base, portable_enum
from .demarches import Demarche
from .people import User


class SynthesisStatus(Labelled):
    DRAFT = "draft"  # built; the mission edits it
    VALIDATED = "validated"  # the mission has read and validated it
    PUBLISHED = "published"  # public on the démarche's page (one version at a time)
    SUPERSEDED = "superseded"  # published once, replaced by a later version

    @staticmethod
    def LABELS() -> dict:  # noqa: N802
        return {
            "draft": N_("Draft"),
            "validated": N_("Validated"),
            "published": N_("Published"),
            "superseded": N_("Replaced"),
        }


class Synthesis(Base):
    """One version. What the worker built (``figures``, ``themes``, ``duplicates``) is kept
    with the inputs it was built from (``inputs``), so that it can be reproduced; what the
    mission writes (``introduction``, ``summaries``, theme labels) is kept beside it."""

    __tablename__ = "syntheses"

    id: Mapped[int] = mapped_column(primary_key=True)
    demarche_id: Mapped[int] = mapped_column(ForeignKey("demarches.id"), index=True)
    version: Mapped[int]
    status: Mapped[SynthesisStatus] = mapped_column(
        portable_enum(SynthesisStatus, "synthesis_status"), default=SynthesisStatus.DRAFT
    )
    built_at: Mapped[datetime]
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What asked for it (entering the synthesis stage: its transition), so that a task run
    # twice builds once; None for a rebuild on demand.
    trigger: Mapped[str | None] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    themes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    duplicates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    introduction: Mapped[str] = mapped_column(Text, default="")
    summaries: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # item id → text
    # When the mission last changed it (introduction, summaries, theme names, a merge): a
    # version it works on, unlike a build nobody has touched yet.
    edited_at: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The published version's documents, made once by a worker (a version never changes).
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    demarche: Mapped[Demarche] = relationship()
    built_by: Mapped[User | None] = relationship(foreign_keys=[built_by_id])

    __table_args__ = (
        UniqueConstraint("demarche_id", "version", name="uq_syntheses_demarche_id_version"),
        UniqueConstraint("demarche_id", "trigger", name="uq_syntheses_demarche_id_trigger"),
    )
