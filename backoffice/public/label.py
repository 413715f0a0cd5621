"""The charter's label, public: ``/label`` lists the labelled démarches (their level, the
mission's reason, the rules version they were judged by) and the label's rules in force; a
démarche's page shows its own label with the criteria it was judged on
(``workflows.label.held_by``)."""

from __future__ import annotations

from flask import render_template

from workflows import label
from workflows.models import Demarche

from ..extensions import db
from . import bp
from .cache import cached


def label_of(d: Demarche) -> label.Held | None:
    """The label ``d`` holds (closed, awarded, not withdrawn), else None."""
    return label.held_by(db.session(), d)


@bp.route("/label")
@cached(lambda: ("any",))
def label_page():
    session = db.session()
    row = label.current_row(session)
    return render_template(
        "public/label.html",
        labelled=label.held(session),
        rules=label.in_force(session),
        since=row.created_at if row is not None else None,
    )
