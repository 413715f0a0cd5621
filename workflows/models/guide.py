"""The guide's documents: the PDF of the guide and the toolbox, made by a worker when what it
is made from changes (the catalogue, the charter in force, the shipped texts), and kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class GuideDocument(Base):
    """One edition of the guide's PDF. ``digest``: of everything it was made from (the guide's
    content and the print template), so that the same inputs are never made twice. A row
    without ``made_at`` is an edition being made (claimed at ``started_at``)."""

    __tablename__ = "guide_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    charter_number: Mapped[int | None]  # the charter version in force it shows
    methods: Mapped[int] = mapped_column(default=0)  # how many methods its toolbox holds
    started_at: Mapped[datetime]
    made_at: Mapped[datetime | None] = mapped_column(index=True)
    pages: Mapped[int | None]
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
