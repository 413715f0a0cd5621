"""Registering to an atelier or a rencontre, with or without an account; one's own
registration page (signed link from the emails) to confirm it (when it was made by typing an
address), follow it or cancel it."""

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
from workflows.participants import participant_for_user

from ..extensions import db, limiter
from ..i18n import tr
from ..tokens import registration_from_token
from . import bp
from .forms import CancelForm, ConfirmRegistrationForm, EventRegistrationForm
from .notices import notify
from .pages import is_citizen, public_demarche, public_post_limit

log = logging.getLogger(__name__)


#: The answer to anyone who registers by typing an address, whatever became of it (a new
#: registration to confirm, one already there, a limit reached, the honeypot): the page must
#: not tell who is registered.
def _sent() -> str:
    return gettext(
        "Thank you. Unless one was sent to it a few minutes ago, an email is on its way to this "
        "address: open its link to confirm the registration within 48 hours. Until then, it "
        "holds no seat."
    )


@bp.route("/evenements/<int:event_id>/inscription", methods=["POST"])
@limiter.limit(public_post_limit)
def register(event_id: int):
    event = db.session.get(Event, event_id) if parse_id(event_id) else None
    if event is None:
        abort(404)
    d = public_demarche(event.demarche.slug)
    place = f"evenement-{event.id}"  # the event's card: the message is shown there
    back = url_for("public.demarche", slug=d.slug) + f"#{place}"
    form = EventRegistrationForm()
    if form.is_bot():
        log.info("honeypot filled on a registration form; nothing saved")
        notify(_sent(), "success", at=place)
        return redirect(back)
    if not form.validate():
        notify(gettext("Give a valid email address."), "error", at=place)
        return redirect(back)
    now = utcnow()
    try:
        if is_citizen():
            participant = participant_for_user(db.session(), current_user, as_of=now)
            registration = domain.register(db.session(), event.id, participant, as_of=now)
        elif form.email.data:
            # Whoever typed the address gets no link and learns nothing: its owner is asked
            # by email (or gets their link again), and confirms there.
            domain.request_registration(db.session(), event.id, form.email.data, as_of=now)
            db.session.commit()
            notify(_sent(), "success", at=place)
            return redirect(back)
        else:
            notify(
                gettext("Give your email address, or log in to your espace citoyen."),
                "error",
                at=place,
            )
            return redirect(back)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for message in exc.messages:
            notify(tr(message), "error", at=place)
        return redirect(back)
    if registration.status == RegistrationStatus.CONFIRMED:
        notify(
            gettext(
                "You are registered: a confirmation with the invitation is on its way to "
                "your mailbox, with the link to cancel if need be."
            ),
            "success",
            at=place,
        )
    else:
        notify(
            gettext(
                "The event is full: you are on the waiting list and will be told by "
                "email if a seat is freed."
            ),
            "info",
            at=place,
        )
    return redirect(back)


def _page(token: str, found, **forms):
    return render_template(
        "public/registration.html",
        registration=found,
        event=found.event,
        d=found.event.demarche,
        lapses_at=domain.lapses_at(found),
        now=utcnow(),
        token=token,
        **forms,
    )


@bp.route("/inscriptions/<token>", methods=["GET", "POST"])
def registration(token: str):
    """A registration's page: its status; while it is pending, a button to confirm it;
    then a cancel button. Both are POSTs: a mail scanner following the emailed link must
    neither confirm nor cancel anything."""
    found = registration_from_token(token)
    if found is None:
        abort(404)
    form = CancelForm()
    if form.validate_on_submit():
        pending = found.status == RegistrationStatus.PENDING
        try:
            domain.cancel_registration(db.session(), found, as_of=utcnow())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(tr(exc.messages[0]), "error")
            return redirect(url_for("public.registration", token=token))
        flash(
            gettext("This registration is declined: we will not write to you about it again.")
            if pending
            else gettext("Your registration is cancelled. Thank you for freeing your seat."),
            "success",
        )
        return redirect(url_for("public.registration", token=token))
    confirm = ConfirmRegistrationForm(name=found.participant.name)
    return _page(token, found, form=form, confirm=confirm)


@bp.route("/inscriptions/<token>/confirmer", methods=["POST"])
@limiter.limit(public_post_limit)
def confirm_registration(token: str):
    """The owner of the address confirms a pending registration (the button of its page)."""
    found = registration_from_token(token)
    if found is None:
        abort(404)
    confirm = ConfirmRegistrationForm()
    if not confirm.validate_on_submit():
        flash(gettext("Your name: at most 160 characters."), "error")
        return _page(token, found, form=CancelForm(), confirm=confirm), 422
    try:
        registration = domain.confirm_registration(
            db.session(),
            found,
            as_of=utcnow(),
            name=confirm.name.data if found.participant.user_id is None else None,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for message in exc.messages:
            flash(tr(message), "error")
        return redirect(url_for("public.registration", token=token))
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(
            gettext(
                "You are registered: a confirmation with the invitation is on its way to "
                "your mailbox, with the link to cancel if need be."
            ),
            "success",
        )
    elif registration.status == RegistrationStatus.WAITING:
        flash(
            gettext(
                "The event is full: you are on the waiting list and will be told by "
                "email if a seat is freed."
            ),
            "info",
        )
    return redirect(url_for("public.registration", token=token))
