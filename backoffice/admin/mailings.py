"""Mailings in the back office (the mission): write a draft, preview it for a recipient, send
a test to oneself, send now or schedule, follow the live counts, cancel. Every step goes
through ``workflows.mailings``, which audits it."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, jsonify, redirect, request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext
from flask_security import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from workflows import audit
from workflows import mailings as domain
from workflows.access import parse_id
from workflows.clock import PARIS, utcnow
from workflows.errors import DomainError
from workflows.mailings.policy import AUDIENCES
from workflows.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Demarche,
    Event,
    Mailing,
    MailingKind,
    MailingStatus,
)

from ..extensions import db
from ..i18n import local_datetime, tr
from ..outgoing.mail import text_to_html
from ..outgoing.mailer import budget, composer, display_subject, send_test
from .base import ProtectedModelView
from .mailing_editor import EDITOR, SKIP_LABELS, editor, fields_from, preview
from .perform import flash_refusal, form_refusal, perform

_L = lazy_gettext

PLACEHOLDER_HINT = _L(
    "Placeholders, between square brackets, become each recipient's own words: insert them "
    "from the list below the text."
)
PROBLEMS = (
    DeliveryStatus.REFUSED,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.PENDING,
)


class MailingForm(FlaskForm):
    demarche_id = SelectField(_L("Démarche"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_L("Kind"))
    audience = SelectField(_L("Audience"))
    event_id = SelectField(_L("Event (registrants of one event only)"))
    subject = StringField(_L("Subject"), validators=[DataRequired()])
    body = TextAreaField(
        _L("Text"),
        validators=[DataRequired()],
        render_kw={"rows": 18},
        description=PLACEHOLDER_HINT,
    )


def _choose(form: MailingForm) -> MailingForm:
    demarches = db.session.scalars(select(Demarche).order_by(Demarche.title)).all()
    form.demarche_id.choices = [SelectChoice(d.id, d.title) for d in demarches]
    form.kind.choices = [SelectChoice(k.value, tr(k.label)) for k in MailingKind]
    form.audience.choices = [SelectChoice(a.value, tr(a.label)) for a in Audience]
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc())).all()
    form.event_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(e.id), f"{e.title} — {local_datetime(e.starts_at, 'dd/MM/y HH:mm')}")
        for e in events
    ]
    return form


def _fields(form: MailingForm) -> dict:
    return {
        "kind": form.kind.data,
        "audience": form.audience.data,
        "demarche_id": form.demarche_id.data,
        "event_id": parse_id(form.event_id.data) if form.event_id.data else None,
        "subject": form.subject.data,
        "body": form.body.data,
    }


def _counts_line(view, context, model, name):
    counts = domain.counts(db.session(), model.id)
    return gettext(
        "%(sent)s sent, %(to_send)s to send", sent=counts["sent"], to_send=counts["to_send"]
    )


class MailingView(ProtectedModelView):
    created_message = _L("The mailing is saved as a draft.")
    saved_message = _L("The mailing is saved.")
    form = MailingForm
    details_template = "admin/mailing/details.html"
    create_template = edit_template = EDITOR
    column_list = ("created_at", "demarche", "kind", "audience", "subject", "status", "counts")
    column_labels = {
        "created_at": _L("Written"),
        "demarche": _L("Démarche"),
        "kind": _L("Kind"),
        "audience": _L("Audience"),
        "subject": _L("Subject"),
        "status": _L("Status"),
        "counts": _L("Messages"),
    }
    column_default_sort = ("id", True)
    column_formatters = {
        "created_at": lambda v, c, m, n: local_datetime(m.created_at, "dd/MM/y HH:mm"),
        "demarche": lambda v, c, m, n: m.demarche.title,
        "kind": lambda v, c, m, n: tr(m.kind.label),
        "audience": lambda v, c, m, n: tr(m.audience.label),
        "subject": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id), display_subject(m)
        ),
        "status": lambda v, c, m, n: tr(m.status.label),
        "counts": _counts_line,
    }

    def get_one(self, id):
        key = parse_id(id)
        return db.session.get(Mailing, key) if key else None

    def create_form(self, obj=None):
        """A new mailing starts from the default text of ``?kind=`` (the feedback's by
        default), for ``?demarche_id=`` (else the first démarche of the list)."""
        form = _choose(super().create_form(obj))
        if request.method == "GET":
            form.demarche_id.data = parse_id(request.args.get("demarche_id"))
            if form.demarche_id.data is None and form.demarche_id.choices:
                form.demarche_id.data = form.demarche_id.choices[0].value
            if not form.body.data:
                asked = request.args.get("kind", "")
                kind = next((k for k in MailingKind if k.value == asked), MailingKind.FEEDBACK)
                form.kind.data = kind.value
                form.audience.data = next(a for a in Audience if a in AUDIENCES[kind]).value
                form.subject.data, form.body.data = domain.default_text(kind)
        return form

    def render(self, template, **kwargs):
        """The editor's page shows the placeholders and the preview beside the form."""
        if template == EDITOR and "form" in kwargs:
            kwargs["editor"] = editor(kwargs["form"])
        return super().render(template, **kwargs)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """« Prévisualiser » (without JavaScript) shows the page again, previewed, unsaved."""
        if request.method == "POST" and "preview" in request.form:
            return self.render(
                EDITOR, form=self.create_form(), return_url=self.get_url(".index_view")
            )
        return super().create_view()

    def edit_form(self, obj=None):
        form = _choose(super().edit_form(obj))
        if obj is not None and request.method == "GET":
            form.kind.data = obj.kind.value
            form.audience.data = obj.audience.value
            form.event_id.data = str(obj.event_id or "")
        return form

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        mailing = self.get_one(request.args.get("id"))
        if mailing is not None and mailing.status != MailingStatus.DRAFT:
            flash(gettext("Only a draft can be changed."), "error")
            return redirect(self.get_url(".details_view", id=mailing.id))
        if mailing is not None and request.method == "POST" and "preview" in request.form:
            return self.render(
                EDITOR,
                form=self.edit_form(mailing),
                model=mailing,
                return_url=self.get_url(".index_view"),
            )
        return super().edit_view()

    @expose("/preview/", methods=("POST",))
    def preview_view(self):
        """The live preview of the editor: the posted fields (and ``preview_address``) as
        JSON — 200, or 422 with the errors by field. CSRF-protected like every form."""
        shown = preview(fields_from(request.form), request.form.get("preview_address"))
        return jsonify(shown), 200 if shown["ok"] else 422

    def create_model(self, form):
        done = perform(
            lambda: domain.create_mailing(
                db.session(), current_user, _fields(form), as_of=utcnow(), budget=budget()
            ),
            refused=form_refusal(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        return bool(
            perform(
                lambda: domain.update_mailing(
                    db.session(),
                    current_user,
                    model,
                    _fields(form),
                    as_of=utcnow(),
                    budget=budget(),
                ),
                refused=form_refusal(form),
            )
        )

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    def _mailing_from_form(self) -> Mailing:
        mailing = self.get_one(request.form.get("id"))
        if mailing is None:
            abort(404)
        return mailing

    @expose("/details/")
    def details_view(self):
        mailing = self.get_one(request.args.get("id"))
        if mailing is None:
            abort(404)
        address = (request.args.get("address") or "").strip() or None
        recipient = domain.sample_recipient(db.session(), mailing, address)
        preview = None
        if recipient is not None:
            try:
                letter = composer(db.session(), mailing).for_recipient(recipient)
                preview = {
                    "address": letter.address,
                    "subject": letter.subject,
                    "html": text_to_html(letter.text),
                }
            except DomainError as exc:
                flash_refusal(exc)
        elif address:
            flash(gettext("This address is not among the mailing's recipients."), "error")
        problems = db.session.scalars(
            select(Delivery)
            .where(Delivery.mailing_id == mailing.id, Delivery.status.in_(PROBLEMS))
            .order_by(Delivery.status, Delivery.id)
            .limit(200)
        ).all()
        return self.render(
            self.details_template,
            mailing=mailing,
            counts=domain.counts(db.session(), mailing.id),
            reasons={
                reason: (SKIP_LABELS.get(reason, reason), number)
                for reason, number in domain.skip_reasons(db.session(), mailing.id).items()
            },
            preview=preview,
            problems=problems,
            skip_labels=SKIP_LABELS,
            recipients_count=len(domain.recipients(db.session(), mailing))
            if mailing.status in (MailingStatus.DRAFT, MailingStatus.SCHEDULED)
            else None,
            return_url=self.get_url(".index_view"),
        )

    @expose("/counts/")
    def counts_view(self):
        """The live counts, for the sheet's automatic refresh."""
        mailing = self.get_one(request.args.get("id"))
        if mailing is None:
            abort(404)
        return jsonify(status=mailing.status.value, counts=domain.counts(db.session(), mailing.id))

    @expose("/test/", methods=("POST",))
    def test_view(self):
        mailing = self._mailing_from_form()
        address = (request.form.get("address") or "").strip() or None

        def send():
            send_test(db.session(), mailing, current_user.email, address)
            audit.record(
                db.session(),
                "mailing.test",
                actor=current_user,
                as_of=utcnow(),
                demarche=mailing.demarche,
                target=f"mailing:{mailing.id}",
            )

        perform(send, lambda _: gettext("A test was sent to %(email)s.", email=current_user.email))
        return redirect(self.get_url(".details_view", id=mailing.id))

    @expose("/send/", methods=("POST",))
    def send_view(self):
        mailing = self._mailing_from_form()
        at = None
        if request.form.get("when") == "later":
            try:
                at = datetime.strptime(request.form.get("scheduled_at", ""), "%Y-%m-%dT%H:%M")
            except ValueError:
                flash(gettext("Give the date and time of the sending."), "error")
                return redirect(self.get_url(".details_view", id=mailing.id))
            at = at.replace(tzinfo=PARIS)
        perform(
            lambda: domain.schedule(db.session(), current_user, mailing, at=at, as_of=utcnow()),
            lambda _: (
                gettext("The mailing is being sent.")
                if at is None or at <= utcnow()
                else gettext(
                    "The mailing will be sent on %(when)s.",
                    when=local_datetime(mailing.scheduled_at),
                )
            ),
        )
        return redirect(self.get_url(".details_view", id=mailing.id))

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        mailing = self._mailing_from_form()
        perform(
            lambda: domain.cancel(db.session(), current_user, mailing, as_of=utcnow()),
            lambda stopped: gettext(
                "Mailing cancelled: %(num)s messages will not be sent.", num=stopped
            ),
        )
        return redirect(self.get_url(".details_view", id=mailing.id))
