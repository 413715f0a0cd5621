"""Unsubscribing from a mailing's link, without an account: RFC 8058's one-click POST (sent
by the mail client itself) and the page a person opens. Both are idempotent; a GET never
unsubscribes (link checkers open links)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _L

from workflows import mailings
from workflows.clock import utcnow
from workflows.models import Participant

from ..extensions import csrf, db
from ..tokens import read_unsubscribe_token
from . import bp

SCOPE_LABELS = {
    "feedback": _L("what became of the démarches you took part in"),
    "news": _L("the news of the démarches in your territory"),
    "reminder": _L("the reminders of the workshops and meetings you registered to"),
    "survey": _L("the questionnaires on the démarches you took part in"),
}


def masked(address: str) -> str:
    """``c••••@example.org``: enough to recognise one's address, not to read it over a shoulder."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 3)}@{domain}"


@bp.route("/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail clients post without a form
def unsubscribe(token: str):
    found = read_unsubscribe_token(token)
    if found is None:
        return render_template("public/unsubscribe.html", invalid=True), 404
    participant_id, scope = found
    participant = db.session.get(Participant, participant_id) if participant_id else None
    address = participant.email if participant is not None else None
    context = {
        "address": masked(address) if address else "",
        "scope": SCOPE_LABELS[scope],
        "invalid": False,
        "test": participant_id is None,
    }
    if request.method == "GET":
        return render_template("public/unsubscribe.html", done=False, **context)
    if address:  # an erased participant, a test's link: nobody to unsubscribe
        mailings.unsubscribe(db.session(), address, scope, as_of=utcnow())
        db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204  # RFC 8058: the mail client shows its own confirmation
    return render_template("public/unsubscribe.html", done=True, **context)
