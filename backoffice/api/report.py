"""``/api/v1/reports/{year}``: the yearly report (any token) — the figures of the démarches
whose consultation opened in ``year`` (``workflows.report``), as the public page
``/bilan/<year>`` shows them — and its PDF and spreadsheet as the workers made and kept them
(503 with Retry-After while they are being made)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext
from marshmallow import fields

from workflows import report as domain
from workflows.clock import utcnow
from workflows.errors import DomainError, NotFound
from workflows.i18n import N_
from workflows.report import YearlyReport
from workflows.spreadsheets import XLSX

from ..extensions import db
from ..outgoing import report as outgoing
from ..outgoing.links import url
from .blueprints import api_blueprint, refused
from .schemas import OutSchema

blp = api_blueprint(
    "api_reports",
    "/api/v1/reports",
    "The yearly report: démarches, participation per canton, deadlines, feedback, trends",
)

FILE = {"type": "string", "format": "binary"}
#: Seconds a client is asked to wait while the documents are made.
RETRY_AFTER = 120


class ReportPending(DomainError):
    """The documents of the year are being made by the workers."""

    status = 503


class YearOut(OutSchema):
    year = fields.Integer()
    demarches = fields.Integer()
    participants = fields.Integer()
    contributions = fields.Integer()
    per_1000 = fields.Float(metadata={"description": "Participants per 1,000 inhabitants"})
    deadlines_due = fields.Integer()
    deadlines_met_on_time = fields.Integer()
    deadlines_share = fields.Float(
        allow_none=True, metadata={"description": "Met on time among the due (0–1; null: none)"}
    )
    feedback_contributors = fields.Integer(
        metadata={"description": "Contributors reachable (the declined left out)"}
    )
    feedback_told = fields.Integer()
    feedback_share = fields.Float(allow_none=True, metadata={"description": "0–1; null: none"})


class DepartmentOut(OutSchema):
    name = fields.String()
    demarches = fields.Integer()


class CantonOut(OutSchema):
    code = fields.String(metadata={"description": "INSEE canton code; 3199: Toulouse as one"})
    name = fields.String()
    population = fields.Integer()
    participants = fields.Integer()
    per_1000 = fields.Float()


class ReportSurveyOut(OutSchema):
    code = fields.String(metadata={"enum": list(domain.SURVEY_CODES)})
    label = fields.String()
    demarches = fields.Integer(metadata={"description": "Frozen evaluations that hold it"})
    mean = fields.Float(allow_none=True)
    lowest = fields.Float(allow_none=True)
    highest = fields.Float(allow_none=True)
    counted = fields.Dict(keys=fields.String(), values=fields.Integer())


class DocumentsOut(OutSchema):
    pdf = fields.String()
    xlsx = fields.String()
    made_at = fields.AwareDateTime()
    data_as_of = fields.AwareDateTime()
    pages = fields.Integer()


class ReportOut(OutSchema):
    year = fields.Integer()
    as_of = fields.AwareDateTime(metadata={"description": "The date of the data"})
    live = fields.Boolean(metadata={"description": "Computed now (false: as kept)"})
    empty = fields.Boolean(metadata={"description": "No démarche opened in the year"})
    figures = fields.Nested(YearOut)
    by_stage = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_level = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "'': not given"}
    )
    by_department = fields.List(fields.Nested(DepartmentOut))
    contributions_without_person = fields.Integer()
    population = fields.Integer()
    per_canton = fields.List(fields.Nested(CantonOut))
    participants_outside = fields.Integer(
        metadata={"description": "Participants without a canton of Haute-Garonne"}
    )
    deadlines = fields.Dict(keys=fields.String(), values=fields.Integer())
    feedback = fields.Dict(keys=fields.String(), values=fields.Integer())
    survey = fields.List(fields.Nested(ReportSurveyOut))
    survey_note = fields.String(
        allow_none=True, metadata={"description": "« non disponible » when no evaluation holds it"}
    )
    labels = fields.List(fields.Dict())
    trends = fields.List(fields.Nested(YearOut), metadata={"description": "Earlier years"})
    page = fields.String(metadata={"description": "The public page"})
    documents = fields.Nested(
        DocumentsOut, allow_none=True, metadata={"description": "Null: none made yet"}
    )


def _figures(y: domain.YearFigures) -> dict[str, Any]:
    return {
        **vars(y),
        "deadlines_share": y.deadlines_share,
        "feedback_share": y.feedback_share,
    }


def _year(year: int) -> int:
    if not domain.valid_year(year, utcnow()):
        raise NotFound(N_("no yearly report for this year"))
    return year


def rendered(r: YearlyReport, live: bool) -> dict[str, Any]:
    labels = outgoing.survey_labels()
    kept = domain.kept(db.session(), r.year)
    return {
        **r.to_json(),
        "as_of": r.as_of,
        "live": live,
        "empty": r.empty,
        "figures": _figures(r.figures),
        "trends": [_figures(y) for y in r.trends],
        "survey": [{**s, "label": labels[s["code"]]} for s in r.survey],
        "survey_note": None if any(s["demarches"] for s in r.survey) else gettext("not available"),
        "page": url("public.yearly_report", year=r.year),
        "documents": None
        if kept is None
        else {
            "pdf": url("api_reports.get_report_pdf", year=r.year),
            "xlsx": url("api_reports.get_report_xlsx", year=r.year),
            "made_at": kept.made_at,
            "data_as_of": kept.data_as_of,
            "pages": kept.pages,
        },
    }


@blp.route("/<int:year>")
@blp.response(200, ReportOut)
@blp.errors(404)
def get_report(year):
    """The report of ``year`` (any token): a past year's as its documents were made, the
    current year's computed now. A year with no démarche is a report that says so
    (``empty``); before 2000 or after this year: 404."""
    r, live = outgoing.report_of(db.session(), _year(year), as_of=utcnow())
    return rendered(r, live)


def _document(year: int, extension: str):
    found = outgoing.kept_document(db.session(), _year(year), extension, as_of=utcnow())
    if found is None:
        body, status = refused(
            ReportPending(N_("the documents of the report are being made: come back in a while"))
        )
        return jsonify(body), status, {"Retry-After": str(RETRY_AFTER)}
    return found


@blp.route("/<int:year>.pdf")
@blp.response(200, FILE, content_type="application/pdf")
@blp.errors(404, 503)
def get_report_pdf(year):
    """The report as a print-quality PDF, as the workers made and kept it; 503 with
    ``Retry-After`` while it is made (the workers are asked for it)."""
    return _document(year, "pdf")


@blp.route("/<int:year>.xlsx")
@blp.response(200, FILE, content_type=XLSX)
@blp.errors(404, 503)
def get_report_xlsx(year):
    """The report as a spreadsheet, one sheet per section; 503 with ``Retry-After`` while it
    is made."""
    return _document(year, "xlsx")
