"""The yearly report as people read it — the public page ``/bilan/<year>``, its PDF and its
spreadsheet — from the figures of ``workflows.report``.

The page, the PDF and the spreadsheet show the same *sections*, each a title, a header and
rows of raw values (numbers stay numbers in the spreadsheet; the pages write them in French).
The PDF (WeasyPrint, A4, a title page, the tables and the map) and the spreadsheet (one sheet
per section) are made by a worker (``make_documents``, the task ``workers.render_report``) and
kept, one row per year (``workflows.report.documents``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import format_decimal, gettext
from markupsafe import Markup
from sqlalchemy.orm import Session

from workflows import report as domain
from workflows.clock import local_date
from workflows.report import YearlyReport
from workflows.spreadsheets import XLSX, safe_cell, xlsx
from workflows.stages import ParticipationLevel, Stage
from workflows.syntheses import charts
from workflows.territory import TOULOUSE_CANTON_CODE

from ..i18n import local_datetime, tr

log = logging.getLogger(__name__)

TYPES = {"pdf": "application/pdf", "xlsx": XLSX}


@dataclass(frozen=True)
class Section:
    """One part of the report: a table (``header`` and ``rows``), or ``empty`` when the year
    has nothing to show in it."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = ""
    note: str = ""


def number(value: Any) -> str:
    """A value of a table written in French (1 234 ; 12,5)."""
    if value is None:
        return gettext("not available")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, format="#,##0")
    if 0 < abs(value) < 1:
        return format_decimal(value, format="@@#")  # 0,0016: a small rate stays readable
    return format_decimal(value, format="#,##0.##")


def _percent(share: float | None) -> float | None:
    return round(share * 100, 1) if share is not None else None


def survey_labels() -> dict[str, str]:
    return {
        "survey_response_rate": gettext("Survey response rate"),
        "survey_satisfaction": gettext("Satisfaction"),
    }


def sections(r: YearlyReport) -> list[Section]:
    """The report's sections, in the order they are shown."""
    f = r.figures
    out = [
        Section(
            "summary",
            gettext("Key figures"),
            [gettext("Figure"), gettext("Value")],
            [
                [gettext("Démarches whose consultation opened"), f.demarches],
                [gettext("Participants"), f.participants],
                [gettext("Contributions"), f.contributions],
                [gettext("Contributions without a person"), r.contributions_without_person],
                [gettext("Participants per 1,000 inhabitants"), f.per_1000],
                [gettext("Charter deadlines met on time (%)"), _percent(f.deadlines_share)],
                [gettext("Contributors told what became of it (%)"), _percent(f.feedback_share)],
            ],
        )
    ]
    if r.empty:
        return out
    out.append(
        Section(
            "stages",
            gettext("Démarches by stage"),
            [gettext("Stage"), gettext("Démarches")],
            [[tr(Stage(k).label), v] for k, v in r.by_stage.items()],
            note=gettext("Where they stand at the date of the data."),
        )
    )
    out.append(
        Section(
            "levels",
            gettext("Démarches by participation level"),
            [gettext("Participation level"), gettext("Démarches")],
            [
                [tr(ParticipationLevel(k).label) if k else gettext("not given"), v]
                for k, v in r.by_level.items()
            ],
        )
    )
    out.append(
        Section(
            "departments",
            gettext("Démarches by department"),
            [gettext("Department"), gettext("Démarches")],
            [
                [safe_cell(row["name"] or gettext("not given")), row["demarches"]]
                for row in r.by_department
            ],
        )
    )
    out.append(
        Section(
            "cantons",
            gettext("Participants per canton"),
            [
                gettext("Canton"),
                gettext("Population"),
                gettext("Participants"),
                gettext("Per 1,000 inhabitants"),
            ],
            [
                [row["name"], row["population"], row["participants"], row["per_1000"]]
                for row in r.per_canton
            ],
            note=gettext(
                "Toulouse counts as one unit: the commune spans eleven cantons and the data does "
                "not say in which its participants live. Participants without a canton of "
                "Haute-Garonne: %(count)s.",
                count=number(r.participants_outside),
            ),
        )
    )
    d = r.deadlines
    out.append(
        Section(
            "deadlines",
            gettext("The charter's deadlines"),
            [gettext("Deadlines"), gettext("Number")],
            [
                [gettext("Deadlines of the démarches"), d.get("deadlines", 0)],
                [gettext("Due"), d.get("due", 0)],
                [gettext("Met on time"), d.get("met_on_time", 0)],
                [gettext("Met late"), d.get("met_late", 0)],
                [gettext("Missed"), d.get("missed", 0)],
                [gettext("Waived"), d.get("waived", 0)],
                [gettext("Not yet due"), d.get("not_yet_due", 0)],
                [gettext("Met on time among those due (%)"), _percent(f.deadlines_share)],
            ],
            empty="" if d.get("deadlines") else gettext("No deadline of the charter this year."),
        )
    )
    fb = r.feedback
    out.append(
        Section(
            "feedback",
            gettext("Feedback to the contributors"),
            [gettext("Contributors"), gettext("Number")],
            [
                [
                    gettext("Contributors of the démarches at feedback or closed"),
                    fb.get("contributors", 0),
                ],
                [gettext("Told what became of their contribution"), fb.get("told", 0)],
                [
                    gettext("Declined the feedback or erased their data"),
                    fb.get("declined_or_erased", 0),
                ],
                [gettext("Told among those reachable (%)"), _percent(f.feedback_share)],
            ],
            empty=""
            if fb.get("contributors")
            else gettext("No démarche of the year has reached the feedback yet."),
        )
    )
    labels = survey_labels()
    answered = [s for s in r.survey if s["demarches"]]
    out.append(
        Section(
            "survey",
            gettext("The participants' survey"),
            [
                gettext("Indicator"),
                gettext("Démarches"),
                gettext("Mean"),
                gettext("Lowest"),
                gettext("Highest"),
            ],
            [
                [
                    labels.get(s["code"], s["code"]),
                    s["demarches"],
                    s["mean"],
                    s["lowest"],
                    s["highest"],
                ]
                for s in answered
            ],
            empty="" if answered else gettext("not available"),
            note=gettext("As the evaluations frozen at the démarches' closing hold it."),
        )
    )
    out.append(
        Section(
            "labels",
            gettext("Labels awarded"),
            [gettext("Démarche"), gettext("Label")],
            [[safe_cell(row.get("title", "")), row.get("label", "")] for row in r.labels],
            empty="" if r.labels else gettext("No label awarded this year."),
        )
    )
    out.append(
        Section(
            "trends",
            gettext("Trends"),
            [
                gettext("Year"),
                gettext("Démarches"),
                gettext("Participants"),
                gettext("Contributions"),
                gettext("Per 1,000 inhabitants"),
                gettext("Deadlines met on time (%)"),
                gettext("Contributors told (%)"),
            ],
            [
                [
                    y.year,
                    y.demarches,
                    y.participants,
                    y.contributions,
                    y.per_1000,
                    _percent(y.deadlines_share),
                    _percent(y.feedback_share),
                ]
                for y in [r.figures, *r.trends]
            ],
            empty="" if r.trends else gettext("No démarche in the previous years."),
        )
    )
    return out


def canton_map(r: YearlyReport) -> Markup:
    """The map of the participants per 1,000 inhabitants per canton (inline SVG). The map
    draws the eleven cantons of Toulouse as one area: its rate is that of the commune and of
    the Toulouse-N cantons' other communes together."""
    town = [
        row
        for row in r.per_canton
        if row["code"] == TOULOUSE_CANTON_CODE or row["name"].startswith("Toulouse")
    ]
    people, population = sum(t["participants"] for t in town), sum(t["population"] for t in town)
    return Markup(
        charts.canton_map(
            r.per_canton,
            gettext("Participants per 1,000 inhabitants, per canton"),
            gettext("Per 1,000"),
            key="per_1000",
            number=number,
            toulouse=people / population * 1000 if population else 0.0,
        )
    )


def context(r: YearlyReport) -> dict[str, Any]:
    """Everything the report's templates need."""
    return {
        "r": r,
        "sections": sections(r),
        "map": canton_map(r) if not r.empty else None,
        "number": number,
        "as_of": local_datetime(r.as_of, "d MMMM y"),
    }


def to_pdf(r: YearlyReport) -> tuple[bytes, int]:
    """The print-quality PDF of the report and its number of pages."""
    import weasyprint

    html = render_template("report/print.html", **context(r))
    document = weasyprint.HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


def to_xlsx(r: YearlyReport) -> bytes:
    """The spreadsheet of the report: one sheet per section (a title row, the date of the
    data, the header and the rows)."""
    sheets = []
    for s in sections(r):
        rows: list[list[Any]] = [
            [gettext("Yearly report %(year)s", year=r.year) + " — " + s.title],
            [gettext("Data as of %(date)s", date=local_datetime(r.as_of, "d MMMM y"))],
            [],
            s.header,
            *s.rows,
        ]
        if s.empty:
            rows.append([s.empty])
        if s.note:
            rows += [[], [s.note]]
        sheets.append((s.title[:31], rows))
    return xlsx(sheets)


def filename(year: int, extension: str) -> str:
    return f"bilan-dialogue-citoyen-{year}.{extension}"


def make_documents(session: Session, year: int, *, as_of: datetime, force: bool = False) -> str:
    """Make and keep the documents of ``year`` from its figures as of ``as_of``, unless they
    are made with the same figures already or being made (unless ``force``); a past year's
    documents made after its end are kept as they are, unless ``force``. Says what it did."""
    r = domain.yearly(session, year, as_of=as_of)
    if not force and not domain.wanted(session, r, as_of=as_of):
        session.rollback()
        return f"{year}: up to date"
    row = domain.claim(session, year, domain.digest_of(r), as_of=as_of, force=force)
    if row is None:
        session.rollback()
        return f"{year}: up to date or being made"
    session.commit()  # the claim: another worker leaves this year alone
    pdf, pages = to_pdf(r)
    spreadsheet = to_xlsx(r)
    domain.keep(session, row, r, pdf=pdf, xlsx=spreadsheet, pages=pages, as_of=as_of)
    session.commit()
    log.info("report %s made: %s pages, %s + %s bytes", year, pages, len(pdf), len(spreadsheet))
    return (
        f"{year}: made ({pages} pages, PDF {len(pdf)} bytes, spreadsheet {len(spreadsheet)} bytes)"
    )


def years_to_sweep(as_of: datetime) -> list[int]:
    """The years the periodic sweep looks at: the current one (live) and the one before (its
    documents made once after its end)."""
    year = local_date(as_of).year
    return [year - 1, year]


def report_of(session: Session, year: int, *, as_of: datetime) -> tuple[YearlyReport, bool]:
    """The report the page shows and whether it is live: a past year's as its documents were
    made (kept), else computed now."""
    if year < local_date(as_of).year:
        found = domain.kept_report(session, year)
        if found is not None:
            return found, False
    return domain.yearly(session, year, as_of=as_of), True


def ask_for_documents(session: Session, year: int, *, as_of: datetime) -> bool:
    """Ask the workers for the documents of ``year`` if they are missing or stale; whether
    it asked."""
    from ..after_commit import publish

    if not domain.wanted(session, domain.yearly(session, year, as_of=as_of), as_of=as_of):
        return False
    publish(domain.RENDER_REPORT, year)
    return True


def kept_document(session: Session, year: int, extension: str, *, as_of: datetime):
    """The kept document of ``year`` as a download; None while none is made (the workers are
    asked for it). A stale one is served while the workers make it again."""
    from flask import Response

    row = domain.kept(session, year)
    content = getattr(row, extension) if row is not None else None
    ask_for_documents(session, year, as_of=as_of)
    if content is None:
        return None
    return Response(
        content,
        mimetype=TYPES[extension],
        headers={
            "Content-Disposition": f'attachment; filename="{filename(year, extension)}"',
            "Cache-Control": "public, max-age=300",
        },
    )
