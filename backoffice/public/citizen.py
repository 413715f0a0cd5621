"""The espace citoyen: my contributions, registrations and messages, my consents, my data."""

from __future__ import annotations

import json
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_security import current_user, logout_user, verify_password
from sqlalchemy import select

from workflows import events as event_domain
from workflows.access import parse_id
from workflows.clock import utcnow
from workflows.erasure import erase_account
from workflows.errors import DomainError
from workflows.models import Contribution, Registration
from workflows.participants import (
    export_data,
    messages_received,
    participant_for_user,
    set_consents,
)
from workflows.roles import RoleName
from workflows.territory import communes

from ..extensions import db
from ..i18n import tr
from . import bp
from .forms import CancelForm, ConsentForm, DeleteAccountForm
from .notices import notify


def citizen_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path.rstrip("?")))
        if not current_user.has_any_role(RoleName.CITIZEN):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/espace/bienvenue")
def welcome():
    """Where Flask-Security sends a new citizen: check your mailbox."""
    return render_template("public/espace/welcome.html")


@bp.route("/espace/")
@citizen_required
def espace():
    participant = participant_for_user(db.session(), current_user, as_of=utcnow())
    db.session.commit()
    contributions = db.session.scalars(
        select(Contribution)
        .where(Contribution.participant_id == participant.id)
        .order_by(Contribution.contributed_at.desc())
    ).all()
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.participant_id == participant.id)
        .order_by(Registration.created_at.desc())
    ).all()
    form = ConsentForm(
        data={
            "consent_feedback": participant.consent_feedback,
            "consent_territory_news": participant.consent_territory_news,
            "consent_survey": participant.consent_survey,
            "commune": next(
                (c.name for c in communes() if c.insee_code == participant.commune_insee), ""
            ),
        }
    )
    return render_template(
        "public/espace/index.html",
        participant=participant,
        contributions=contributions,
        registrations=registrations,
        messages=messages_received(db.session(), participant),
        form=form,
        cancel_form=CancelForm(),
        delete_form=DeleteAccountForm(),
        now=utcnow(),
    )


@bp.route("/espace/consentements", methods=["POST"])
@citizen_required
def consents():
    form = ConsentForm()
    if not form.validate():
        abort(400)
    participant = participant_for_user(db.session(), current_user, as_of=utcnow())
    try:
        set_consents(
            db.session(),
            participant,
            feedback=form.consent_feedback.data,
            territory_news=form.consent_territory_news.data,
            survey=form.consent_survey.data,
            commune=form.commune.data or "",
            as_of=utcnow(),
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for message in exc.messages:
            notify(tr(message), "error", at="consentements")
        return redirect(url_for("public.espace") + "#consentements")
    notify(gettext("Your choices are saved."), "success", at="consentements")
    return redirect(url_for("public.espace") + "#consentements")


@bp.route("/espace/inscriptions/<int:registration_id>/annuler", methods=["POST"])
@citizen_required
def cancel_mine(registration_id: int):
    participant = participant_for_user(db.session(), current_user, as_of=utcnow())
    registration = (
        db.session.get(Registration, registration_id) if parse_id(registration_id) else None
    )
    if registration is None or registration.participant_id != participant.id:
        abort(404)
    if not CancelForm().validate():
        abort(400)
    try:
        event_domain.cancel_registration(db.session(), registration, as_of=utcnow())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        notify(tr(exc.messages[0]), "error", at="inscriptions")
    else:
        notify(
            gettext("Your registration is cancelled. Thank you for freeing your seat."),
            "success",
            at="inscriptions",
        )
    return redirect(url_for("public.espace") + "#inscriptions")


@bp.route("/espace/inscriptions/<int:registration_id>/confirmer", methods=["POST"])
@citizen_required
def confirm_mine(registration_id: int):
    """A registration someone made by typing my address, which I confirm from my espace
    (logged in, the address is shown to be mine)."""
    participant = participant_for_user(db.session(), current_user, as_of=utcnow())
    registration = (
        db.session.get(Registration, registration_id) if parse_id(registration_id) else None
    )
    if registration is None or registration.participant_id != participant.id:
        abort(404)
    if not CancelForm().validate():
        abort(400)
    try:
        event_domain.confirm_registration(db.session(), registration, as_of=utcnow())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        notify(tr(exc.messages[0]), "error", at="inscriptions")
    else:
        notify(gettext("Your registration is confirmed."), "success", at="inscriptions")
    return redirect(url_for("public.espace") + "#inscriptions")


@bp.route("/espace/donnees.json")
@citizen_required
def my_data():
    payload = json.dumps(export_data(db.session(), current_user), ensure_ascii=False, indent=2)
    return Response(
        payload,
        mimetype="application/json",
        headers={
            "Content-Disposition": "attachment; filename=mes-donnees-dialogue-citoyen.json",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/espace/supprimer", methods=["POST"])
@citizen_required
def delete_account():
    form = DeleteAccountForm()
    if not form.validate() or not verify_password(form.password.data, current_user.password):
        notify(
            gettext("Your account was not deleted: confirm with your password and tick the box."),
            "error",
            at="supprimer",
        )
        return redirect(url_for("public.espace") + "#supprimer")
    user = current_user._get_current_object()
    logout_user()
    erase_account(db.session(), user, as_of=utcnow())
    db.session.commit()
    flash(
        gettext("Your account is deleted. Your contributions stay, without your name."), "success"
    )
    return redirect(url_for("public.home"))
