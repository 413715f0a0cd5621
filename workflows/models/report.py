"""The yearly report's kept documents (issue 14): the figures, the PDF and the spreadsheet of
a year, made by a worker and kept (``workflows.report.documents``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReportDocument(Base):
    """The documents of one year's report, made again in place when its figures change.
    ``digest``: of the figures (the date of the data left out) the documents were made from;
    ``data``: those figures (``YearlyReport.to_json()``), what a past year's page shows. A row
    whose ``made_at`` is None, or older than ``started_at``, is being made (claimed at
    ``started_at``)."""

    __tablename__ = "report_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    digest: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime]
    made_at: Mapped[datetime | None]
    data_as_of: Mapped[datetime | None]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pages: Mapped[int | None]
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
