"""Registering to an atelier or a rencontre, with or without an account; one's own
registration page (signed link from the emails) to follow or cancel it."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_security import current_user

from workflows import events as domain
from workflows.access import parse_id
from workflows.clock import utcnow
from workflows.errors import DomainError
from workflows.models import Event, RegistrationStatus
from workflows.participants import participant_for_email, participant_for_user

from ..extensions import db, limiter
from ..i18n import tr
from ..notifications import registration_from_token
from . import bp
from .forms import CancelForm, EventRegistrationForm
from .pages import is_citizen, public_demarche, public_post_limit

log = logging.getLogger(__name__)


@bp.route("/evenements/<int:event_id>/inscription", methods=["POST"])
@limiter.limit(public_post_limit)
def register(event_id: int):
    event = db.session.get(Event, event_id) if parse_id(event_id) else None
    if event is None:
        abort(404)
    d = public_demarche(event.demarche.slug)
    back = url_for("public.demarche", slug=d.slug) + f"#evenement-{event.id}"
    form = EventRegistrationForm()
    if form.is_bot():
        log.info("honeypot filled on a registration form; nothing saved")
        flash(gettext("Thank you: check your email to confirm your registration."), "success")
        return redirect(back)
    if not form.validate():
        flash(gettext("Give a valid email address."), "error")
        return redirect(back)
    now = utcnow()
    try:
        if is_citizen():
            participant = participant_for_user(db.session, current_user, as_of=now)
        elif form.email.data:
            participant = participant_for_email(
                db.session, form.email.data, name=form.name.data, as_of=now
            )
            existing = domain.live_registration(db.session, event.id, participant)
            if existing is not None:
                # Whoever typed the address gets no link to someone else's registration:
                # its owner gets it again by email.
                domain.resend_link(db.session, existing, as_of=now)
                db.session.commit()
                flash(
                    gettext(
                        "This address is already registered: we have sent its link to it again."
                    ),
                    "info",
                )
                return redirect(back)
        else:
            flash(gettext("Give your email address, or log in to your espace citoyen."), "error")
            return redirect(back)
        registration = domain.register(db.session, event.id, participant, as_of=now)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for message in exc.messages:
            flash(tr(message), "error")
        return redirect(back)
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(
            gettext(
                "You are registered: a confirmation with the invitation is on its way to "
                "your mailbox, with the link to cancel if need be."
            ),
            "success",
        )
    else:
        flash(
            gettext(
                "The event is full: you are on the waiting list and will be told by "
                "email if a seat is freed."
            ),
            "info",
        )
    return redirect(back)


@bp.route("/inscriptions/<token>", methods=["GET", "POST"])
def registration(token: str):
    """A registration's page: its status, and a cancel button (a POST: a mail scanner
    following the emailed link must not cancel anything)."""
    found = registration_from_token(token)
    if found is None:
        abort(404)
    form = CancelForm()
    if form.validate_on_submit():
        domain.cancel_registration(db.session, found, as_of=utcnow())
        db.session.commit()
        flash(
            gettext("Your registration is cancelled. Thank you for freeing your seat."), "success"
        )
        return redirect(url_for("public.registration", token=token))
    return render_template(
        "public/registration.html",
        registration=found,
        event=found.event,
        d=found.event.demarche,
        form=form,
        now=utcnow(),
    )
