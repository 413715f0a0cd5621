"""The toolbox in the back office: every staff member reads the methods; the mission adds,
changes, retires (or brings back) and deletes them — through the domain, so every change is
audited and a method a démarche plans or used is never deleted."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, lazy_gettext
from flask_security import current_user
from markupsafe import Markup
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from workflows import methods
from workflows.clock import utcnow
from workflows.errors import DomainError, InvalidFields
from workflows.models import MethodFormat, Recruitment
from workflows.roles import STAFF_ROLES
from workflows.stages import ParticipationLevel

from ..extensions import db
from ..i18n import local_datetime, tr
from .base import AdminForm, ProtectedModelView
from .charter import CheckboxesField
from .perform import flash_refusal, perform

_L = lazy_gettext


def _options(enum) -> list[tuple[str, str]]:
    return [(member.value, tr(member.label)) for member in enum]


def _number(label, **kwargs) -> IntegerField:
    return IntegerField(label, validators=[Optional()], **kwargs)


def _area(label, description=None) -> TextAreaField:
    return TextAreaField(label, description=description, render_kw={"rows": 4})


class MethodForm(AdminForm):
    name = StringField(_L("Name"))
    slug = StringField(
        _L("Address"),
        description=_L("Its page: /boite-a-outils/<address> (lower-case letters and hyphens)."),
    )
    summary = _area(_L("Summary"))
    objectives = _area(_L("Objectives"))
    levels = CheckboxesField(
        _L("Participation levels"), choices=lambda: _options(ParticipationLevel)
    )
    format = SelectField(_L("Format"), choices=lambda: _options(MethodFormat))
    recruitment = CheckboxesField(_L("Recruitment"), choices=lambda: _options(Recruitment))
    size_min = _number(_L("Participants, at least"))
    size_max = _number(_L("Participants, at most"), description=_L("Empty: no upper limit."))
    preparation_weeks = _number(_L("Preparation (weeks)"))
    duration = _area(_L("Duration"))
    duration_days = _number(
        _L("Duration in days"),
        description=_L("From the first to the last session (what the duration filter reads)."),
    )
    cost_min = _number(_L("Cost from (€, VAT included)"))
    cost_max = _number(_L("Cost up to (€, VAT included)"))
    cost_year = _number(_L("Year of the cost figures"))
    cost_note = _area(_L("About the cost"))
    skills = _area(_L("Skills and resources needed"))
    when_to_use = _area(_L("When to use it"))
    when_to_avoid = _area(_L("When to avoid it"))
    strengths = _area(_L("Strengths"))
    limits = _area(_L("Limits"))
    produces = _area(_L("What it produces"))
    accessibility = _area(_L("Accessibility and aller-vers"))
    sources = _area(_L("Sources"), _L("One a line; web addresses become links."))
    licence = _area(
        _L("Licence of the text taken up"),
        _L("The notice of a text taken from elsewhere (keep it with that text)."),
    )

    def values(self) -> dict:
        return {name: self[name].data for name in methods.COLUMNS if name in self}


def _refused(form: MethodForm):
    def show(exc: DomainError) -> None:
        if isinstance(exc, InvalidFields):
            for name, message in exc.errors.items():
                if name in form:
                    form[name].errors = [*form[name].errors, tr(message)]
                else:
                    flash(tr(message), "error")
        else:
            flash_refusal(exc)

    return show


def _badges(values, enum) -> str:
    known = {member.value: member for member in enum}
    return ", ".join(tr(known[v].label) for v in values or [] if v in known)


class MethodView(ProtectedModelView):
    """``/admin/method/``: the toolbox's methods."""

    roles = STAFF_ROLES - {"citizen"}
    form = MethodForm
    details_template = "admin/method/details.html"
    column_list = ("name", "levels", "format", "size", "cost", "retired", "edited_at")
    column_labels = {
        "name": _L("Name"),
        "levels": _L("Levels"),
        "format": _L("Format"),
        "size": _L("Group"),
        "cost": _L("Cost"),
        "retired": _L("Retired"),
        "edited_at": _L("Changed by the mission"),
        "summary": _L("Summary"),
    }
    column_searchable_list = ("name", "summary")
    column_sortable_list = ("name", "retired", "edited_at")
    column_default_sort = ("name", False)
    column_formatters = {
        "name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id), m.name
        ),
        "levels": lambda v, c, m, n: _badges(m.levels, ParticipationLevel),
        "format": lambda v, c, m, n: tr(MethodFormat(m.format).label),
        "size": lambda v, c, m, n: tr(methods.group_size(m)),
        "cost": lambda v, c, m, n: tr(methods.costs(m)),
        "retired": lambda v, c, m, n: gettext("yes") if m.retired else "",
        "edited_at": lambda v, c, m, n: local_datetime(m.edited_at, "dd/MM/y HH:mm"),
    }

    @property
    def can_create(self) -> bool:
        return bool(current_user.is_mission)

    @property
    def can_edit(self) -> bool:
        return bool(current_user.is_mission)

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return bool(current_user.is_mission)

    def create_model(self, form):
        done = perform(
            lambda: methods.create_method(
                db.session(), current_user, form.values(), as_of=utcnow()
            ),
            gettext("The method is in the toolbox."),
            refused=_refused(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        return bool(
            perform(
                lambda: methods.update_method(
                    db.session(), current_user, model, form.values(), as_of=utcnow()
                ),
                gettext("The method is saved; a later load of the catalogue keeps your text."),
                refused=_refused(form),
            )
        )

    def delete_model(self, model):
        return bool(
            perform(
                lambda: methods.delete_method(db.session(), current_user, model, as_of=utcnow())
            )
        )

    @expose("/details/")
    def details_view(self):
        method = self.get_one(request.args.get("id"))
        if method is None:
            abort(404)
        return self.render(
            self.details_template,
            m=method,
            labels={
                "levels": _badges(method.levels, ParticipationLevel),
                "format": tr(MethodFormat(method.format).label),
                "recruitment": _badges(method.recruitment, Recruitment),
                "size": tr(methods.group_size(method)),
                "cost": tr(methods.costs(method)),
            },
            uses=methods.uses(db.session(), method),
            return_url=get_redirect_target() or self.get_url(".index_view"),
        )

    @expose("/retire/", methods=("POST",))
    def retire_view(self):
        method = self.get_one(request.form.get("id"))
        if method is None:
            abort(404)
        retired = request.form.get("retired") == "1"
        perform(
            lambda: methods.set_retired(
                db.session(), current_user, method, retired, as_of=utcnow()
            ),
            gettext("The method is retired: the toolbox no longer lists it, its page stays.")
            if retired
            else gettext("The method is back in the toolbox."),
        )
        return redirect(self.get_url(".details_view", id=method.id))
