"""The yearly report (issue 14): per calendar year, the démarches, their participation per
canton against the population, the charter's deadlines kept, the feedback, the survey, the
labels and the trends — computed in a fixed number of statements (``yearly``), and its PDF and
spreadsheet made by a worker and kept (``documents``)."""

from ..after_commit import RENDER_REPORT
from .documents import claim, digest_of, keep, kept, kept_report, request_render, wanted
from .yearly import (
    FIRST_YEAR,
    SURVEY_CODES,
    YearFigures,
    YearlyReport,
    labels_awarded,
    valid_year,
    yearly,
)

__all__ = [
    "FIRST_YEAR",
    "RENDER_REPORT",
    "SURVEY_CODES",
    "YearFigures",
    "YearlyReport",
    "claim",
    "digest_of",
    "keep",
    "kept",
    "kept_report",
    "labels_awarded",
    "request_render",
    "valid_year",
    "wanted",
    "yearly",
]
