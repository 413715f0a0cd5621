"""The yearly report, public: ``/bilan/<year>`` (the page, no script needed) and its PDF and
spreadsheet, made by a worker and kept (``backoffice.outgoing.report``)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for

from workflows import report as domain
from workflows.clock import local_date, utcnow

from ..extensions import db
from ..outgoing import report as outgoing
from . import bp

#: Seconds a visitor is asked to wait while the documents are made (a worker makes them
#: as soon as asked; the sweep, within the hour).
RETRY_AFTER = 120


def _year(year: int) -> int:
    if not domain.valid_year(year, utcnow()):
        abort(404)
    return year


@bp.route("/bilan")
def yearly_report_current():
    return redirect(url_for("public.yearly_report", year=local_date(utcnow()).year))


@bp.route("/bilan/<int:year>")
def yearly_report(year: int):
    now = utcnow()
    r, live = outgoing.report_of(db.session(), _year(year), as_of=now)
    years = [y.year for y in r.trends]
    current = year == local_date(now).year
    return render_template(
        "public/report.html", live=live and current, years=years, **outgoing.context(r)
    )


@bp.route("/bilan/<int:year>.<any(pdf, xlsx):extension>")
def yearly_report_document(year: int, extension: str):
    """The kept PDF or spreadsheet; none made yet: 503, in French, with Retry-After."""
    found = outgoing.kept_document(db.session(), _year(year), extension, as_of=utcnow())
    if found is None:
        page = render_template("public/report_pending.html", year=year)
        return page, 503, {"Retry-After": str(RETRY_AFTER)}
    return found
