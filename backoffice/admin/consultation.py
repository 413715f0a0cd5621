"""The consultation in the back office: items, contributions and their moderation, events
with their registrations, attendance, minutes and the contributions collected there.

As for démarches, every write goes through ``workflows``.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext, lazy_gettext, ngettext
from flask_security import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from workflows import charter, questions
from workflows import contributions as contribution_domain
from workflows import events as event_domain
from workflows import items as item_domain
from workflows.access import may_act_on, parse_id, sees_personal_data, visible_clause
from workflows.clock import PARIS, utcnow
from workflows.i18n import Msg
from workflows.methods import all_methods, planning
from workflows.models import (
    Channel,
    Contribution,
    ContributionKind,
    ContributionReport,
    ContributionStatus,
    Demarche,
    Event,
    EventKind,
    Item,
    RegistrationStatus,
)
from workflows.participants import participant_for_email, staff_label
from workflows.roles import MISSION_ROLES, RoleName
from workflows.territory import territories

from ..extensions import db
from ..i18n import local_datetime, tr
from .base import ProtectedModelView
from .demarches import ChoiceFilter, IdChoiceFilter, _per_request
from .from_demarche import FromDemarche
from .perform import form_refusal, in_the_form, perform
from .sheet import Refusal

_L = lazy_gettext
WRITERS = MISSION_ROLES | {RoleName.DEPARTMENT}


def _preparable(stages) -> list[Demarche]:
    """The démarches the current user may prepare items or events for, at those stages."""
    query = select(Demarche).where(visible_clause(current_user), Demarche.stage.in_(stages))
    found = db.session.scalars(query.order_by(Demarche.title)).unique().all()
    return [d for d in found if may_act_on(current_user, d)]


@_per_request
def _demarche_options():
    query = select(Demarche).where(visible_clause(current_user)).order_by(Demarche.title)
    return [(d.id, d.title) for d in db.session.scalars(query).unique()]


class ScopedToDemarches:
    """Rows of the démarches the user may see (the mission: all)."""

    def get_query(self):
        return super().get_query().join(Demarche).filter(visible_clause(current_user))

    def get_count_query(self):
        return super().get_count_query().join(Demarche).filter(visible_clause(current_user))

    def get_one(self, id):
        key = parse_id(id)
        if key is None:
            return None
        query = self.get_query().filter(self.model.id == key)
        return query.one_or_none()

    def _get_filter_groups(self):
        self._refresh_filters_cache()
        return super()._get_filter_groups()


# -- items --------------------------------------------------------------------------------


class ItemView(FromDemarche, ScopedToDemarches, ProtectedModelView):
    created_message = _L("The item is added to the consultation.")
    saved_message = _L("The item is saved.")
    deleted_message = _L("The item is deleted.")
    roles = WRITERS
    can_delete = True
    column_list = ("demarche", "position", "title", "contributions")
    column_labels = {
        "demarche": _L("Démarche"),
        "position": _L("Order"),
        "title": _L("Title"),
        "text": _L("Text"),
        "contributions": _L("Contributions"),
    }
    column_default_sort = ("position", False)
    column_filters = (IdChoiceFilter(Item.demarche_id, _L("Démarche"), options=_demarche_options),)
    column_formatters = {
        "demarche": lambda v, c, m, n: m.demarche.title,
        "contributions": lambda v, c, m, n: db.session.scalar(
            select(func.count(Contribution.id)).where(Contribution.item_id == m.id)
        ),
    }
    form_columns = ("demarche", "title", "text", "position")
    form_args = {
        "demarche": {
            "label": _L("Démarche"),
            "query_factory": lambda: _preparable(item_domain.ITEM_STAGES),
            "validators": [DataRequired()],
        },
        "title": {"label": _L("Title")},
        "text": {"label": _L("Text")},
        "position": {
            "label": _L("Order"),
            "description": _L("Empty: after the last item."),
            "validators": [Optional(), NumberRange(1, 10_000)],
        },
    }
    form_widget_args = {"text": {"rows": 6}}

    def create_model(self, form):
        done = perform(
            lambda: item_domain.add_item(
                db.session(),
                current_user,
                self._demarche_of(form),
                title=form.title.data,
                text=form.text.data,
                position=form.position.data,
                as_of=utcnow(),
            ),
            refused=form_refusal(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        return bool(
            perform(
                lambda: item_domain.update_item(
                    db.session(),
                    current_user,
                    model,
                    title=form.title.data,
                    text=form.text.data,
                    position=form.position.data,
                    as_of=utcnow(),
                ),
                refused=form_refusal(form),
            )
        )

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method != "POST":
            form.position.data = None  # the model's default (1) would contradict the hint
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.demarche  # an item stays in its démarche
        return form

    def delete_model(self, model):
        return bool(
            perform(
                lambda: item_domain.delete_item(db.session(), current_user, model, as_of=utcnow())
            )
        )

    @action(
        "delete",
        admin_lazy_gettext("Delete"),
        admin_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Delete the selected items that may be; name those kept and why. (Flask-Admin's own
        action compared the ids as text, a 500 on PostgreSQL.)"""
        keys = {key for key in map(parse_id, ids) if key is not None}
        items = self.get_query().filter(Item.id.in_(keys)).all() if keys else []
        done = perform(
            lambda: item_domain.delete_items(db.session(), current_user, items, as_of=utcnow())
        )
        if not done:
            return
        outcome = done.value
        if outcome.deleted:
            flash(
                ngettext("%(num)d item deleted.", "%(num)d items deleted.", len(outcome.deleted)),
                "success",
            )
        for title, reason in outcome.kept:
            flash(gettext("“%(item)s” is kept: %(reason)s", item=title, reason=tr(reason)), "error")


# -- contributions and moderation -----------------------------------------------------------


def participant_label(participant) -> str:
    """The participant as the current user may see them (addresses: the mission only)."""
    label = staff_label(current_user, participant)
    return tr(label) if isinstance(label, Msg) else label


def _author(c: Contribution) -> str:
    return participant_label(c.participant)


class ReportedFilter(ChoiceFilter):
    def apply(self, query, value, alias=None):
        reported = select(ContributionReport.contribution_id).where(
            ContributionReport.resolved_at.is_(None)
        )
        return query.filter(Contribution.id.in_(reported)) if value == "1" else query


class ContributionView(ScopedToDemarches, ProtectedModelView):
    """Everyone of the démarche reads; the mission moderates (hide with a reason, restore,
    publish what was held)."""

    roles = WRITERS
    can_create = False
    can_edit = False
    details_template = "admin/contribution/details.html"
    column_list = (
        "contributed_at",
        "demarche",
        "item",
        "kind",
        "channel",
        "body",
        "author",
        "status",
    )
    column_labels = {
        "contributed_at": _L("Date"),
        "demarche": _L("Démarche"),
        "item": _L("Item"),
        "kind": _L("Kind"),
        "channel": _L("Channel"),
        "body": _L("Text"),
        "author": _L("Author"),
        "status": _L("Status"),
    }
    column_default_sort = ("contributed_at", True)
    column_searchable_list = ("body",)
    column_filters = (
        IdChoiceFilter(Contribution.demarche_id, _L("Démarche"), options=_demarche_options),
        ChoiceFilter(
            Contribution.status,
            _L("Status"),
            options=_per_request(lambda: [(s.value, tr(s.label)) for s in ContributionStatus]),
        ),
        ChoiceFilter(
            Contribution.kind,
            _L("Kind"),
            options=_per_request(
                lambda: [(k.value, tr(k.label)) for k in Contribution.kind.type.enum_class]
            ),
        ),
        ChoiceFilter(
            Contribution.channel,
            _L("Channel"),
            options=_per_request(lambda: [(c.value, tr(c.label)) for c in Channel]),
        ),
        ReportedFilter(
            Contribution.id,
            _L("Reported"),
            options=_per_request(lambda: [("1", gettext("reported, not yet looked at"))]),
        ),
    )
    column_formatters = {
        "contributed_at": lambda v, c, m, n: local_datetime(m.contributed_at, "dd/MM/y HH:mm"),
        "demarche": lambda v, c, m, n: m.demarche.title,
        "item": lambda v, c, m, n: m.item.title,
        "kind": lambda v, c, m, n: tr(m.kind.label),
        "channel": lambda v, c, m, n: tr(m.channel.label),
        "body": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id), m.body if len(m.body) < 140 else m.body[:140] + "…"
        ),
        "author": lambda v, c, m, n: _author(m),
        "status": lambda v, c, m, n: tr(m.status.label),
    }

    @expose("/details/")
    def details_view(self):
        contribution = self.get_one(request.args.get("id"))
        if contribution is None:
            abort(404)
        reports = db.session.scalars(
            select(ContributionReport)
            .where(ContributionReport.contribution_id == contribution.id)
            .order_by(ContributionReport.id)
        ).all()
        is_question = contribution.kind == ContributionKind.QUESTION
        return self.render(
            self.details_template,
            c=contribution,
            author=_author(contribution),
            reports=reports,
            return_url=self.get_url(".index_view"),
            can_moderate=current_user.is_mission,
            deadline=charter.deadline_of_question(db.session(), contribution)
            if is_question
            else None,
            can_answer=is_question
            and contribution.status == ContributionStatus.PUBLISHED
            and may_act_on(current_user, contribution.demarche),
        )

    @expose("/answer/", methods=("POST",))
    def answer_view(self):
        """The department answers a citizen's question: published under it, emailed to the
        asker, the charter's deadline met."""
        contribution = self.get_one(request.form.get("id"))
        if contribution is None or contribution.kind != ContributionKind.QUESTION:
            abort(404)
        first = contribution.answered_at is None
        perform(
            lambda: questions.answer(
                db.session(),
                current_user,
                contribution,
                request.form.get("answer", ""),
                as_of=utcnow(),
            ),
            gettext("The answer is published and its author told by email.")
            if first
            else gettext("The answer is corrected."),
        )
        return redirect(self.get_url(".details_view", id=contribution.id))

    @expose("/moderate/", methods=("POST",))
    def moderate_view(self):
        contribution = self.get_one(request.form.get("id"))
        if contribution is None:
            abort(404)
        perform(
            lambda: contribution_domain.moderate(
                db.session(),
                contribution,
                request.form.get("action", ""),
                actor=current_user,
                reason=request.form.get("reason", ""),
                as_of=utcnow(),
            ),
            lambda _: gettext(
                "Done: the contribution is “%(status)s”.", status=tr(contribution.status.label)
            ),
        )
        return redirect(self.get_url(".details_view", id=contribution.id))


# -- events -------------------------------------------------------------------------------


class EventForm(FlaskForm):
    demarche = QuerySelectField(
        _L("Démarche"),
        query_factory=lambda: _preparable(event_domain.EVENT_STAGES),
        get_label="title",
        validators=[DataRequired()],
    )
    kind = SelectField(
        _L("Kind"),
        choices=[
            SelectChoice("workshop", _L("Citizen workshop")),
            SelectChoice("meeting", _L("Territorial meeting")),
        ],
    )
    title = StringField(_L("Title"), validators=[DataRequired()])
    starts_at = DateTimeLocalField(
        _L("Starts (Paris time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    ends_at = DateTimeLocalField(
        _L("Ends (Paris time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    place = StringField(_L("Place"), validators=[DataRequired()])
    territory = SelectField(
        _L("Territory"), choices=[SelectChoice("", "—")] + [SelectChoice(t) for t in territories()]
    )
    capacity = IntegerField(_L("Seats"), validators=[DataRequired(), NumberRange(1, 100_000)])
    registration_open = BooleanField(_L("Registrations open"), default=True)
    method = SelectField(
        _L("Participation method"),
        choices=[],
        validate_choice=False,  # the domain refuses an unknown method, in French
        description=_L(
            "The toolbox's method this event uses: the démarche's evaluation counts the "
            "methods really used."
        ),
    )
    minutes = TextAreaField(_L("Minutes"), render_kw={"rows": 6})


def _paris(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=PARIS) if value is not None else None


def _event_fields(form: EventForm) -> dict:
    return {
        "kind": form.kind.data,
        "title": form.title.data,
        "starts_at": _paris(form.starts_at.data),
        "ends_at": _paris(form.ends_at.data),
        "place": form.place.data,
        "territory": form.territory.data or None,
        "capacity": form.capacity.data,
        "registration_open": form.registration_open.data,
        "minutes": form.minutes.data,
        "method": form.method.data or None,
    }


def _method_choices(form: EventForm, event: Event | None) -> None:
    """The toolbox's methods an event may name (a retired one only if it names it already)."""
    current = planning.event_method(db.session(), event) if event is not None else None
    form.method.choices = [SelectChoice("", gettext("The usual method of its kind"))] + [
        SelectChoice(m.slug, m.name)
        for m in all_methods(db.session())
        if not m.retired or (current is not None and m.id == current.id)
    ]
    if event is not None and request.method == "GET":
        form.method.data = current.slug if current else ""


class EventView(FromDemarche, ScopedToDemarches, ProtectedModelView):
    created_message = _L("The event is created.")
    saved_message = _L("The event is saved.")
    roles = WRITERS
    form = EventForm
    details_template = "admin/event/details.html"
    column_list = (
        "starts_at",
        "demarche",
        "kind",
        "title",
        "place",
        "capacity",
        "registered",
        "waiting",
        "pending",
        "registration_open",
    )
    column_labels = {
        "starts_at": _L("When"),
        "demarche": _L("Démarche"),
        "kind": _L("Kind"),
        "title": _L("Title"),
        "place": _L("Place"),
        "capacity": _L("Seats"),
        "registered": _L("Registered"),
        "waiting": _L("Waiting list"),
        "pending": _L("Awaiting confirmation"),
        "registration_open": _L("Registrations open"),
    }
    column_default_sort = ("starts_at", True)
    column_filters = (IdChoiceFilter(Event.demarche_id, _L("Démarche"), options=_demarche_options),)
    column_formatters = {
        "starts_at": lambda v, c, m, n: local_datetime(m.starts_at, "dd/MM/y HH:mm"),
        "demarche": lambda v, c, m, n: m.demarche.title,
        "kind": lambda v, c, m, n: tr(m.kind.label),
        "title": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id), m.title
        ),
        "registered": lambda v, c, m, n: sum(
            r.status == RegistrationStatus.CONFIRMED for r in m.registrations
        ),
        "waiting": lambda v, c, m, n: sum(
            r.status == RegistrationStatus.WAITING for r in m.registrations
        ),
        # Made by typing an address, not yet confirmed by its owner: no seat, not a registrant.
        "pending": lambda v, c, m, n: sum(
            r.status == RegistrationStatus.PENDING and event_domain.lapses_at(r) > utcnow()
            for r in m.registrations
        ),
    }

    def create_form(self, obj=None):
        form = super().create_form(obj)
        _method_choices(form, None)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        _method_choices(form, obj)
        if obj is not None and request.method == "GET":
            form.starts_at.data = obj.starts_at.astimezone(PARIS).replace(tzinfo=None)
            form.ends_at.data = obj.ends_at.astimezone(PARIS).replace(tzinfo=None)
            form.kind.data = obj.kind.value
        del form.demarche  # an event stays in its démarche
        return form

    def create_model(self, form):
        done = perform(
            lambda: event_domain.create_event(
                db.session(),
                current_user,
                self._demarche_of(form),
                _event_fields(form),
                as_of=utcnow(),
            ),
            refused=form_refusal(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        return bool(
            perform(
                lambda: event_domain.update_event(
                    db.session(), current_user, model.id, _event_fields(form), as_of=utcnow()
                ),
                refused=form_refusal(form),
            )
        )

    def get_save_return_url(self, model, is_created=False):
        if is_created and self.fixed_demarche() is not None:
            return super().get_save_return_url(model, is_created)
        return self.get_url(".details_view", id=model.id)

    @expose("/details/")
    def details_view(self):
        event = self.get_one(request.args.get("id"))
        if event is None:
            abort(404)
        return self._render_details(event)

    def _render_details(self, event: Event, refusal: Refusal | None = None):
        collected = db.session.scalars(
            select(Contribution).where(Contribution.event_id == event.id).order_by(Contribution.id)
        ).all()
        return self.render(
            self.details_template,
            event=event,
            collected=collected,
            items=event.demarche.items,
            return_url=self.get_url(".index_view"),
            seats_left=event_domain.seats_left(db.session(), event),
            method=planning.event_method(db.session(), event),
            show_addresses=sees_personal_data(current_user),
            participant_label=participant_label,
            counts=event_domain.counts(db.session(), event, as_of=utcnow()),
            # Pending ones are not listed: an address nobody confirmed is no registrant.
            registrations=[
                r for r in event.registrations if r.status != RegistrationStatus.PENDING
            ],
            refusal=refusal,
        )

    @expose("/attendance/", methods=("POST",))
    def attendance_view(self):
        event = self.get_one(request.form.get("id"))
        if event is None:
            abort(404)
        attended = {parse_id(v) for v in request.form.getlist("attended")} - {None}
        perform(
            lambda: event_domain.record_attendance(
                db.session(),
                current_user,
                event.id,
                attended,
                minutes=request.form.get("minutes"),
                as_of=utcnow(),
            ),
            gettext("Attendance and minutes saved."),
        )
        return redirect(self.get_url(".details_view", id=event.id))

    @expose("/collected/", methods=("POST",))
    def collected_view(self):
        """A contribution said at the event (a sticky note, a speaker's words) is recorded,
        with its author's address when given, so that they get the feedback too."""
        event = self.get_one(request.form.get("id"))
        if event is None:
            abort(404)
        form = request.form
        now = utcnow()

        def record():
            author = None
            if form.get("author_email", "").strip():
                author = participant_for_email(
                    db.session(), form["author_email"], name=form.get("author_name"), as_of=now
                )
            return contribution_domain.contribute(
                db.session(),
                event.demarche,
                item_id=parse_id(form.get("item_id")),
                body=form.get("body", ""),
                kind=form.get("kind", "comment"),
                channel=Channel.WORKSHOP if event.kind == EventKind.WORKSHOP else Channel.MEETING,
                author=author,
                actor=current_user,
                as_of=now,
                commune=form.get("commune"),
                contributed_at=event.starts_at,
                event=event,
            )

        done = perform(record, gettext("The contribution is recorded."), refused=in_the_form)
        if not done:  # the form comes back as typed, the message beside its field
            refusal = Refusal.of(
                "collected", done.error, dict(form), COLLECTED_FIELDS, {"email": "author_email"}
            )
            return self._render_details(self.get_one(event.id), refusal), done.error.status
        return redirect(self.get_url(".details_view", id=event.id) + "#collected")


#: The fields of the form recording a contribution collected at an event.
COLLECTED_FIELDS = {"item_id", "kind", "body", "author_email", "author_name", "commune"}
