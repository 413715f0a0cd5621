"""The participants' survey: a participant's questionnaire, opened from their email's link —
no account, answerable once, readable on a phone without JavaScript.

The link's token is the invitation's secret signed for the survey (``tokens``): a forged one
shows « lien non valide » (404), a used one says it was answered (409); an answer refused
shows the form again with each message beside its question and nothing written (422).
Nothing is logged about an answer, and the page is never cached.
"""

from __future__ import annotations

from flask import render_template, request

from workflows import survey
from workflows.errors import Conflict, InvalidFields, NotFound

from ..extensions import db
from ..i18n import tr
from ..tokens import read_survey_token
from . import bp


def _page(status: int = 200, **context):
    page = dict(
        invalid=False,
        answered=False,
        done=False,
        values={},
        errors={},
        statements=survey.STATEMENTS,
        scale=survey.SCALE,
        first_time=survey.FIRST_TIME,
        age_bands=survey.AGE_BANDS,
        demarche=None,
        minimum=survey.minimum(),
    )
    page.update(context)
    response = render_template("public/questionnaire.html", **page)
    return response, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/questionnaire/<token>", methods=["GET", "POST"])
def questionnaire(token: str):
    nonce = read_survey_token(token)
    try:
        invitation = survey.invitation(db.session(), nonce)
    except NotFound as refusal:
        return _page(404, invalid=True, message=tr(refusal.messages[0]))
    d = invitation.demarche
    if invitation.answered:
        return _page(409, answered=True, demarche=d, message=tr(survey.ALREADY_ANSWERED))
    if request.method == "GET":
        return _page(demarche=d)
    values = request.form.to_dict()
    try:
        survey.answer(db.session(), nonce, values)
        db.session.commit()
    except InvalidFields as refusal:
        db.session.rollback()
        errors = {name: tr(message) for name, message in refusal.errors.items()}
        return _page(422, demarche=d, values=values, errors=errors)
    except Conflict as refusal:  # answered meanwhile through the same link
        db.session.rollback()
        return _page(409, answered=True, demarche=d, message=tr(refusal.messages[0]))
    return _page(done=True, demarche=d)
