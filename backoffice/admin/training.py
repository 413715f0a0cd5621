"""``/admin/training/``: the mission records its training sessions (date, theme, place, format,
notes, attendees among the department agents and the elected officials) — through
``workflows.training``, so every change is audited and refused values come back in French
beside their field. Also the nudge a department without a trained agent reads when it submits
a saisine (the guided saisine's confirmation and the sheet's move)."""

from __future__ import annotations

from flask import abort, flash, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, lazy_gettext
from flask_security import current_user
from markupsafe import Markup
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from workflows import training
from workflows.clock import utcnow
from workflows.models import MethodFormat, User
from workflows.roles import RoleName

from ..extensions import db
from ..i18n import long_date, tr
from .base import AdminForm, ProtectedModelView
from .perform import form_refusal, perform

_L = lazy_gettext


def _formats() -> list[tuple[str, str]]:
    return [("", "—")] + [(f.value, tr(f.label)) for f in MethodFormat]


def who(user: User) -> str:
    """An attendee as the lists name them: « Rita Routes (Direction des routes) »."""
    if user.has_any_role(RoleName.DEPARTMENT) and user.department is not None:
        return f"{user.display_name} ({user.department.name})"
    if user.has_any_role(RoleName.ELECTED):
        return gettext("%(name)s (elected official)", name=user.display_name)
    return user.display_name


def _attendee_choices() -> dict[str, list[tuple[int, str]]]:
    """The agents by department, then the elected officials (``<optgroup>``s)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    officials = gettext("Elected officials")
    for user in training.attendee_candidates(db.session()):
        if user.has_any_role(RoleName.DEPARTMENT) and user.department is not None:
            group = user.department.name
        else:
            group = officials
        groups.setdefault(group, []).append((user.id, user.display_name))
    if officials in groups:  # last, after the departments
        groups[officials] = groups.pop(officials)
    return groups


class TrainingForm(AdminForm):
    date = DateField(_L("Date"), validators=[Optional()])
    theme = StringField(
        _L("Theme"), description=_L("E.g. « Conduire une concertation », « Écrire sa saisine »")
    )
    place = StringField(_L("Place"), description=_L("Optional: a room, a town, a video link."))
    format = SelectField(_L("Format"), choices=_formats, validate_choice=False)
    attendees = SelectMultipleField(
        _L("Attendees"),
        coerce=int,
        choices=_attendee_choices,
        validate_choice=False,
        description=_L(
            "Department agents and elected officials (Ctrl or ⌘ to choose several). For a "
            "session to come: those who signed up."
        ),
        render_kw={"size": 12},
    )
    notes = TextAreaField(_L("Notes"), render_kw={"rows": 4})

    def values(self) -> dict:
        return {
            "date": self.date.data,
            "theme": self.theme.data,
            "place": self.place.data,
            "format": self.format.data or None,
            "attendees": list(self.attendees.data or []),
            "notes": self.notes.data,
        }


class TrainingView(ProtectedModelView):
    """The mission's training sessions, latest first."""

    can_delete = True
    form = TrainingForm
    details_template = "admin/training/details.html"
    created_message = _L("The training session is recorded.")
    saved_message = _L("The training session is saved.")
    deleted_message = _L("The training session is deleted.")
    column_list = ("date", "theme", "place", "format", "attendees")
    column_labels = {
        "date": _L("Date"),
        "theme": _L("Theme"),
        "place": _L("Place"),
        "format": _L("Format"),
        "attendees": _L("Attendees"),
    }
    column_searchable_list = ("theme", "place")
    column_sortable_list = ("date", "theme")
    column_default_sort = ("date", True)
    column_formatters = {
        "date": lambda v, c, m, n: long_date(m.date),
        "format": lambda v, c, m, n: tr(m.format.label) if m.format else "",
        "attendees": lambda v, c, m, n: len(m.attendees),
    }

    def on_form_prefill(self, form, id):  # noqa: A002 - Flask-Admin's signature
        model = self.get_one(id)
        if model is not None:
            form.attendees.data = [user.id for user in model.attendees]

    def create_model(self, form):
        done = perform(
            lambda: training.create_session(
                db.session(), current_user, form.values(), as_of=utcnow()
            ),
            refused=form_refusal(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        return bool(
            perform(
                lambda: training.update_session(
                    db.session(), current_user, model, form.values(), as_of=utcnow()
                ),
                refused=form_refusal(form),
            )
        )

    def delete_model(self, model):
        return bool(
            perform(
                lambda: training.delete_session(db.session(), current_user, model, as_of=utcnow())
            )
        )

    @expose("/details/")
    def details_view(self):
        model = self.get_one(request.args.get("id"))
        if model is None:
            abort(404)
        return self.render(
            self.details_template,
            s=model,
            attendees=[who(user) for user in model.attendees],
            return_url=get_redirect_target() or self.get_url(".index_view"),
        )


def guide_href() -> str:
    """The guide's page, under the application's path."""
    return request.script_root + training.GUIDE_PATH


def flash_nudge(nudge: training.Nudge | None) -> None:
    """The nudge as a message above the page (the sheet's move to « submitted »)."""
    if nudge is None:
        return
    flash(
        Markup('{} {} <a href="{}">{}</a>').format(
            tr(nudge.message), tr(nudge.next_sessions), guide_href(), gettext("Read the guide")
        ),
        "info",
    )
