"""The charter in the back office: its versions and rules (the mission edits a draft and
publishes it), and the deadlines of every démarche, which the mission may waive with a reason.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, lazy_gettext, ngettext
from flask_security import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import Optional

from workflows import charter
from workflows.clock import utcnow
from workflows.models import CharterRule, CharterVersion, Deadline, DeadlineStatus, RuleKind
from workflows.roles import MISSION_ROLES, RoleName

from ..extensions import db
from ..i18n import local_datetime, long_date, tr
from ..params import id_arg
from .base import ProtectedModelView, ProtectedView
from .consultation import WRITERS, ScopedToDemarches, _demarche_options
from .demarches import ChoiceFilter, IdChoiceFilter, _per_request
from .perform import form_refusal, perform

_L = lazy_gettext


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RuleForm(FlaskForm):
    label = StringField(_L("Promise"))
    start_event = SelectField(_L("Clock starts when"), validate_choice=False)
    stop_event = SelectField(_L("Clock stops when"), validate_choice=False)
    duration = IntegerField(_L("Duration (a length rule: its minimum)"), validators=[Optional()])
    unit = SelectField(_L("Unit"), validate_choice=False)
    maximum = IntegerField(_L("Maximum (a length rule)"), validators=[Optional()])
    maximum_unit = SelectField(_L("Unit of the maximum"), validate_choice=False)
    responsible = SelectField(_L("Responsible"), validate_choice=False)
    reminders = StringField(
        _L("Reminders (days before the last day, e.g. 7, 1)"), validators=[Optional()]
    )
    alert = CheckboxesField(_L("Alerted when missed"), validate_choice=False)

    def fill_choices(self) -> None:
        events = [("", "—")] + [(code, tr(label)) for code, label in charter.EVENTS.items()]
        self.start_event.choices = self.stop_event.choices = events
        units = [("days", gettext("days")), ("months", gettext("months"))]
        self.unit.choices = self.maximum_unit.choices = units
        self.responsible.choices = [(k, tr(v)) for k, v in charter.RESPONSIBLES.items()]
        self.alert.choices = [(k, tr(v)) for k, v in charter.ALERTED.items()]

    def values(self) -> dict:
        """The fields as the domain validates them (its messages come back per field)."""
        reminders: object = []
        text = (self.reminders.data or "").replace(";", ",")
        try:
            reminders = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            reminders = text  # not a list of days: refused by the domain, with its message
        return {
            "label": self.label.data,
            "start_event": self.start_event.data,
            "stop_event": self.stop_event.data,
            "duration": self.duration.data,
            "unit": self.unit.data,
            "maximum": self.maximum.data,
            "maximum_unit": self.maximum_unit.data,
            "responsible": self.responsible.data,
            "reminders": reminders,
            "alert": self.alert.data,
        }


def amount(number: int, unit: str | None) -> str:
    if unit == "months":
        return ngettext("%(num)d month", "%(num)d months", number)
    if number == 0:
        return gettext("the same day")
    return ngettext("%(num)d day", "%(num)d days", number)


def describe(rule: CharterRule) -> str:
    """A rule's duration in words, for the tables."""
    if rule.kind == RuleKind.VALIDATION and rule.maximum:
        return gettext(
            "from %(low)s to %(high)s",
            low=amount(rule.duration, rule.unit),
            high=amount(rule.maximum, rule.maximum_unit),
        )
    return amount(rule.duration, rule.unit)


class CharterView(ProtectedView):
    """``/admin/charter/``: versions, the rules of one, a draft to edit and publish."""

    roles = MISSION_ROLES

    def _version(self) -> CharterVersion | None:
        number = id_arg(request.args, "version")
        if number is not None:
            return db.session.scalar(select(CharterVersion).where(CharterVersion.number == number))
        draft = db.session.scalar(
            select(CharterVersion)
            .where(CharterVersion.published_at.is_(None))
            .order_by(CharterVersion.number.desc())
        )
        return draft or charter.current_version(db.session())

    @expose("/")
    def index(self):
        versions = db.session.scalars(
            select(CharterVersion).order_by(CharterVersion.number.desc())
        ).all()
        version = self._version()
        if version is None and request.args.get("version"):
            abort(404)
        return self.render(
            "admin/charter/index.html",
            versions=versions,
            version=version,
            events=charter.EVENTS,
            responsibles=charter.RESPONSIBLES,
            alerted=charter.ALERTED,
            describe=describe,
        )

    def _back(self, version: CharterVersion | None = None):
        if version is None:
            return redirect(self.get_url(".index"))
        return redirect(self.get_url(".index", version=version.number))

    @expose("/draft/", methods=("POST",))
    def draft_view(self):
        draft = perform(
            lambda: charter.new_draft(db.session(), current_user, as_of=utcnow()),
            gettext("A draft of the charter is ready: change its rules, then publish it."),
        ).value
        return self._back(draft)

    @expose("/publish/", methods=("POST",))
    def publish_view(self):
        version = db.get_or_404(CharterVersion, id_arg(request.form, "id") or 0)
        perform(
            lambda: charter.publish(db.session(), current_user, version, as_of=utcnow()),
            gettext(
                "Version %(number)s is the charter now: it applies to the démarches created "
                "from now on.",
                number=version.number,
            ),
        )
        return self._back(version)

    @expose("/reset/", methods=("POST",))
    def reset_view(self):
        version = perform(
            lambda: charter.install_default(db.session(), actor=current_user, as_of=utcnow()),
            gettext("The default charter is back, as a new version."),
        ).value
        return self._back(version)

    @expose("/rule/<int:rule_id>/", methods=("GET", "POST"))
    def rule_view(self, rule_id: int):
        rule = db.get_or_404(CharterRule, rule_id)
        form = RuleForm(obj=rule)
        if request.method == "GET":  # the days as the mission types them: "7, 1"
            form.reminders.data = ", ".join(str(r) for r in rule.reminders or [])
        form.fill_choices()
        if rule.version.published_at is not None:
            flash(
                gettext(
                    "A published version no longer changes: draft a new version of the charter."
                ),
                "warning",
            )
        elif form.validate_on_submit():
            if perform(
                lambda: charter.update_rule(
                    db.session(), current_user, rule, form.values(), as_of=utcnow()
                ),
                gettext("The rule is saved in the draft."),
                refused=form_refusal(form),
            ):
                return self._back(rule.version)
        shown = {
            RuleKind.DEADLINE: (
                "label",
                "start_event",
                "stop_event",
                "duration",
                "unit",
                "responsible",
                "reminders",
                "alert",
            ),
            RuleKind.VALIDATION: (
                "label",
                "duration",
                "unit",
                "maximum",
                "maximum_unit",
                "responsible",
            ),
            RuleKind.REMINDER: ("label", "duration", "unit", "responsible"),
        }[rule.kind]
        return self.render("admin/charter/rule.html", rule=rule, form=form, shown=shown)


# -- deadlines ---------------------------------------------------------------------------------


def _status_options():
    return [(s.value, tr(s.label)) for s in DeadlineStatus]


@_per_request
def _rule_options():
    rows = db.session.execute(
        select(CharterRule.code, CharterRule.label)
        .join(CharterVersion)
        .where(CharterVersion.is_current.is_(True), CharterRule.kind == RuleKind.DEADLINE)
        .order_by(CharterRule.position)
    ).all()
    return [(code, label) for code, label in rows]


def reads_contributions() -> bool:
    """Whether the user may open a contribution's sheet (not an elected official)."""
    return current_user.has_any_role(*WRITERS)


class DeadlineView(ScopedToDemarches, ProtectedModelView):
    """Every deadline of the démarches the user sees, latest end first; the mission waives."""

    roles = MISSION_ROLES | {RoleName.DEPARTMENT, RoleName.ELECTED}
    can_create = False
    can_edit = False
    details_template = "admin/deadline/details.html"
    column_list = ("due_date", "status", "rule", "demarche", "question", "met_at")
    column_labels = {
        "due_date": _L("Last day"),
        "status": _L("Status"),
        "rule": _L("Rule"),
        "demarche": _L("Démarche"),
        "question": _L("Question"),
        "met_at": _L("Met on"),
    }
    column_sortable_list = ("due_date", "met_at")
    column_default_sort = [("due_at", True), ("id", True)]
    column_filters = (
        ChoiceFilter(Deadline.status, _L("Status"), options=_per_request(_status_options)),
        ChoiceFilter(Deadline.rule_code, _L("Rule"), options=_rule_options),
        IdChoiceFilter(Deadline.demarche_id, _L("Démarche"), options=_demarche_options),
    )
    column_formatters = {
        "due_date": lambda v, c, m, n: long_date(m.due_date),
        "status": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id, url=request.full_path), tr(m.status.label)
        ),
        "rule": lambda v, c, m, n: m.rule.label,
        "demarche": lambda v, c, m, n: m.demarche.title,
        "question": lambda v, c, m, n: (
            (
                Markup('<a href="{}">{}</a>').format(
                    v.get_url("contribution.details_view", id=m.question_id),
                    gettext("question %(id)s", id=m.question_id),
                )
                if reads_contributions()
                else gettext("question %(id)s", id=m.question_id)
            )
            if m.question_id
            else ""
        ),
        "met_at": lambda v, c, m, n: local_datetime(m.met_at, "dd/MM/y HH:mm"),
    }

    @expose("/details/")
    def details_view(self):
        deadline = self.get_one(request.args.get("id"))
        if deadline is None:
            abort(404)
        return self.render(
            self.details_template,
            d=deadline,
            return_url=get_redirect_target() or self.get_url(".index_view"),
            reads_contributions=reads_contributions(),
            can_waive=current_user.is_mission
            and deadline.status in (DeadlineStatus.PENDING, DeadlineStatus.MISSED),
        )

    @expose("/waive/", methods=("POST",))
    def waive_view(self):
        deadline = self.get_one(request.form.get("id"))
        if deadline is None:
            abort(404)
        perform(
            lambda: charter.waive(
                db.session(),
                current_user,
                deadline,
                reason=request.form.get("reason"),
                as_of=utcnow(),
            ),
            gettext("The deadline is waived; its reason shows on the public record."),
        )
        return redirect(self.get_url(".details_view", id=deadline.id))
