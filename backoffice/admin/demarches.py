"""The démarches in the back office: lists scoped by role, forms that follow the stage,
the démarche sheet with its allowed moves and its timeline.

Every write goes through ``workflows``: ``create_draft``/``update_demarche`` for the forms
and ``transition`` for the moves, so the back office and the API obey the same rules.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice, SelectField

from workflows import decisions, exports, imports, training
from workflows import demarches as domain
from workflows.access import (
    acts_for_department,
    get_visible,
    may_act_on,
    parse_id,
    visible_clause,
)
from workflows.clock import utcnow
from workflows.errors import DomainError
from workflows.i18n import Msg
from workflows.methods import planning
from workflows.models import (
    ContributionImport,
    Demarche,
    Department,
)
from workflows.roles import STAFF_ROLES, RoleName
from workflows.sheets import FileLimits
from workflows.stages import PARTICIPATION_LABELS, STAGE_LABELS, Stage
from workflows.territory import territories
from workflows.transitions import transition

from ..extensions import db
from ..i18n import tr
from .base import ProtectedModelView
from .evaluation import EvaluationViews, evaluation_context
from .perform import flash_refusal, form_refusal, in_the_form, perform
from .planning import methods_choice
from .sheet import Refusal, sheet_context
from .training import flash_nudge

_L = lazy_gettext


class ChoiceFilter(FilterEqual):
    """An equality filter that ignores values outside its options (a forged URL is no 500)."""

    def validate(self, value):
        options = self.options() if callable(self.options) else self.options
        return str(value) in {str(key) for key, _ in options or ()}


class IdChoiceFilter(ChoiceFilter):
    def clean(self, value):
        return int(value)


def _per_request(options):
    """Filter options read from the database: Flask-Admin caches them when the view is
    built (no app context then); ``DemarcheView`` refreshes them on each list request."""

    def read():
        return options() if has_request_context() else []

    return read


@_per_request
def _stage_options():
    return [(stage.value, tr(label)) for stage, label in STAGE_LABELS.items()]


@_per_request
def _department_options():
    return [
        (d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))
    ]


@_per_request
def _elected_options():
    return [(u.id, u.display_name) for u in domain.elected_officials(db.session())]


def _territory_options():
    return [(t, t) for t in territories()]


def _participation_choices():
    return [SelectChoice("", gettext("— to be chosen —"))] + [
        SelectChoice(level.value, tr(label)) for level, label in PARTICIPATION_LABELS.items()
    ]


class DemarcheView(EvaluationViews, ProtectedModelView):
    """One view for every staff role; what it shows and allows depends on the user."""

    saved_message = _L("The démarche is saved.")

    roles = STAFF_ROLES
    details_template = "admin/demarche/details.html"

    column_list = (
        "title",
        "stage",
        "department",
        "territory",
        "elected_official",
        "consultation_opens",
        "consultation_closes",
        "updated_at",
    )
    column_labels = {
        "title": _L("Title"),
        "stage": _L("Stage"),
        "department": _L("Department"),
        "territory": _L("Territory"),
        "elected_official": _L("Sponsoring elected official"),
        "consultation_opens": _L("Opens on"),
        "consultation_closes": _L("Closes on"),
        "updated_at": _L("Updated"),
        "objectives": _L("Objectives"),
        "public": _L("Public concerned"),
        "participation_level": _L("Participation level"),
        "desired_calendar": _L("Desired calendar"),
        "budget": _L("Budget (€)"),
        "expected_participants": _L("Participants expected"),
        "participation_ends_by": _L("Participation over by"),
        "presentation": _L("Public presentation"),
    }
    column_sortable_list = (
        "title",
        "stage",
        "territory",
        "consultation_opens",
        "consultation_closes",
        "updated_at",
    )
    column_default_sort = ("updated_at", True)
    column_searchable_list = ("title",)
    column_filters = (
        ChoiceFilter(Demarche.stage, _L("Stage"), options=_stage_options),
        IdChoiceFilter(Demarche.department_id, _L("Department"), options=_department_options),
        ChoiceFilter(Demarche.territory, _L("Territory"), options=_territory_options),
        IdChoiceFilter(
            Demarche.elected_official_id,
            _L("Sponsoring elected official"),
            options=_elected_options,
        ),
    )
    column_formatters = {
        "title": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".details_view", id=m.id), m.title
        ),
        "stage": lambda v, c, m, n: tr(m.stage.label),
        "consultation_opens": lambda v, c, m, n: _short_date(m.consultation_opens),
        "consultation_closes": lambda v, c, m, n: _short_date(m.consultation_closes),
        "updated_at": lambda v, c, m, n: _local(m.updated_at),
    }

    form_columns = tuple(domain.FIELDS)
    form_overrides = {"territory": SelectField, "participation_level": SelectField}
    form_args = {
        "title": {"label": _L("Title")},
        "department": {"label": _L("Department"), "blank_text": _L("— to be chosen —")},
        "objectives": {
            "label": _L("Objectives"),
            "description": _L("What the démarche must produce, what is decided and by whom."),
        },
        "public": {"label": _L("Public concerned")},
        "territory": {
            "label": _L("Territory"),
            "choices": [SelectChoice("", "—")] + [SelectChoice(t) for t in territories()],
            "description": _L("A canton, or Haute-Garonne for the whole département."),
        },
        "participation_level": {
            "label": _L("Participation level"),
            "choices": _participation_choices,
        },
        "elected_official": {
            "label": _L("Sponsoring elected official"),
            "query_factory": lambda: domain.elected_officials(db.session()),
            "blank_text": _L("— to be chosen —"),
        },
        "desired_calendar": {"label": _L("Desired calendar")},
        "budget": {"label": _L("Budget (€)")},
        "expected_participants": {
            "label": _L("Participants expected"),
            "description": _L("Weighed by the toolbox's suggestions of methods."),
        },
        "participation_ends_by": {
            "label": _L("Participation over by"),
            "description": _L("Weighed by the toolbox's suggestions of methods."),
        },
        "presentation": {
            "label": _L("Public presentation"),
            "description": _L("Shown to citizens on the démarche's public page."),
        },
        "consultation_opens": {"label": _L("Consultation opens on")},
        "consultation_closes": {"label": _L("Consultation closes on")},
        "hold_for_review": {
            "label": _L("Hold contributions for review"),
            "description": _L(
                "Online contributions are published once the mission has read "
                "them (moderation a priori)."
            ),
        },
    }
    form_widget_args = {
        name: {"rows": 5}
        for name in (
            "objectives",
            "public",
            "desired_calendar",
            "presentation",
        )
    }

    def _get_filter_groups(self):
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    # -- who sees and does what ------------------------------------------------------

    @property
    def can_create(self) -> bool:
        return current_user.is_mission or current_user.has_any_role(RoleName.DEPARTMENT)

    @property
    def can_edit(self) -> bool:
        return self.can_create

    def get_query(self):
        return super().get_query().filter(visible_clause(current_user))

    def get_count_query(self):
        return super().get_count_query().filter(visible_clause(current_user))

    def get_one(self, id):
        key = parse_id(id)
        if key is None:
            return None
        query = select(Demarche).where(Demarche.id == key, visible_clause(current_user))
        return db.session.scalars(query).unique().one_or_none()

    # -- forms follow the stage ------------------------------------------------------

    def create_form(self, obj=None):
        form = super().create_form(obj)
        _keep_only(form, domain.creatable_fields(current_user))
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        _keep_only(form, domain.editable_fields(current_user, obj))
        return form

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not current_user.is_mission and current_user.has_any_role(RoleName.DEPARTMENT):
            return redirect(url_for("saisine.new"))  # agents write a saisine step by step
        return super().create_view()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        model = self.get_one(request.args.get("id"))
        if (
            model is not None
            and model.stage in (Stage.DRAFT, Stage.RETURNED)
            and not current_user.is_mission
            and acts_for_department(current_user, model)
        ):
            return redirect(url_for("saisine.resume", demarche_id=model.id))
        if model is not None and not domain.editable_fields(current_user, model):
            flash(gettext("Nothing can be changed at this stage."), "warning")
            return redirect(self.get_url(".details_view", id=model.id))
        return super().edit_view()

    def create_model(self, form):
        done = perform(
            lambda: domain.create_draft(
                db.session(), current_user, _form_values(form), as_of=utcnow()
            ),
            gettext("Draft saved. Submit it to the mission when it is complete."),
            refused=form_refusal(form),
        )
        return done.value if done else False

    def update_model(self, form, model):
        def change():
            # Lock the démarche's row (only it: PostgreSQL cannot lock the outer-joined
            # department and official) and re-read it, as the API does: a move committed
            # meanwhile decides what is editable.
            locked = get_visible(db.session(), current_user, model.id, lock=True)
            return domain.update_demarche(
                db.session(), current_user, locked, _form_values(form), as_of=utcnow()
            )

        done = perform(change, refused=form_refusal(form))
        if not done:
            return False
        if not done.value:
            flash(gettext("Nothing was changed."), "info")
        return True

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # -- the démarche sheet: moves and timeline ----------------------------------------

    @expose("/details/")
    def details_view(self):
        model = self.get_one(request.args.get("id"))
        if model is None:
            flash(gettext("This démarche does not exist or is not yours to see."), "error")
            return redirect(self.get_url(".index_view"))
        return self._render_sheet(model)

    @expose("/move/", methods=("POST",))
    def move_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            flash(gettext("This démarche does not exist or is not yours to see."), "error")
            return redirect(self.get_url(".index_view"))
        target = request.form.get("to", "")
        comment = request.form.get("comment", "")
        done = perform(
            lambda: transition(
                db.session(),
                model.id,
                target,
                actor=current_user,
                as_of=utcnow(),
                comment=comment,
                source="backoffice",
                expected_from=request.form.get("from") or None,
            ),
            lambda moved: gettext(
                "The démarche is now at stage “%(stage)s”.", stage=tr(moved.to_stage.label)
            ),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of(target, done.error, {"comment": comment}, {"comment"})
            return self._render_sheet(self.get_one(model.id), refusal), done.error.status
        flash_nudge(training.submission_nudge(db.session(), current_user, model, as_of=utcnow()))
        return redirect(self.get_url(".details_view", id=model.id))

    @expose("/methods/", methods=("GET", "POST"))
    def methods_view(self):
        """The methods the démarche plans, revised once the saisine is accepted (a draft's
        are chosen at step 4 of the guided saisine): the toolbox's suggestions and reasons."""
        model = self.get_one(request.values.get("id"))
        if model is None:
            flash(gettext("This démarche does not exist or is not yours to see."), "error")
            return redirect(self.get_url(".index_view"))
        if not planning.may_plan(current_user, model):
            abort(403)
        errors: dict[str, str] = {}

        def refused(exc: DomainError) -> None:
            errors.update({k: tr(v) for k, v in getattr(exc, "errors", {}).items()})
            if not errors:
                flash_refusal(exc)

        if request.method == "POST":
            done = perform(
                lambda: planning.plan(
                    db.session(),
                    current_user,
                    self.get_one(model.id),
                    request.form.getlist("planned"),
                    as_of=utcnow(),
                ),
                gettext("The methods planned are saved."),
                refused=refused,
            )
            if done:
                return redirect(self.get_url(".details_view", id=model.id) + "#methods")
            model = self.get_one(model.id)
        chosen = (
            set(request.form.getlist("planned"))
            if request.method == "POST"
            else {m.slug for m in planning.planned(db.session(), model)}
        )
        page = self.render(
            "admin/demarche/methods.html",
            model=model,
            errors=errors,
            **methods_choice(model, chosen),
        )
        return (page, 422) if errors else page

    @expose("/decide/", methods=("POST",))
    def decide_view(self):
        """The department's decision on one item, with its justification (synthesis stage).
        Refused, the sheet comes back with the choice and the text kept in the item's form
        and the message beside the field."""
        model = self.get_one(request.form.get("id"))
        item = (
            next((i for i in model.items if i.id == parse_id(request.form.get("item_id"))), None)
            if model is not None
            else None
        )
        if item is None:
            flash(gettext("This démarche does not exist or is not yours to see."), "error")
            return redirect(self.get_url(".index_view"))
        values = {
            "outcome": request.form.get("outcome", ""),
            "justification": request.form.get("justification", ""),
        }
        done = perform(
            lambda: decisions.decide(db.session(), current_user, item, **values, as_of=utcnow()),
            gettext("Decision on “%(item)s” saved.", item=item.title),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of(f"decision-{item.id}", done.error, values, set(values))
            return self._render_sheet(self.get_one(model.id), refusal), done.error.status
        return redirect(self.get_url(".details_view", id=model.id) + f"#decision-{item.id}")

    # -- contributions in and out: imports and exports -------------------------------------

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        model = self.get_one(request.values.get("id"))
        if model is None:
            abort(404)
        if not may_act_on(current_user, model):
            abort(403)
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(gettext("Choose a file to import."), "error")
            else:
                raw = upload.read()
                config = current_app.config
                # A large file is read by a worker (asked for by the commit), within a memory
                # budget; a small one now.
                later = (
                    len(raw) > config["IMPORT_INLINE_PREVIEW_BYTES"]
                    and config["OUTBOX_DISPATCH"] == "celery"
                )
                done = perform(
                    lambda: imports.start_import(
                        db.session(),
                        model,
                        actor=current_user,
                        filename=upload.filename,
                        raw=raw,
                        fmt=request.form.get("format") or None,
                        item_id=parse_id(request.form.get("item_id")),
                        directory=Path(current_app.instance_path) / "imports",
                        as_of=utcnow(),
                        limits=FileLimits.from_settings(config),
                        preview_now=not later,
                    )
                )
                if done:
                    record = done.value
                    return redirect(self.get_url(".import_status_view", import_id=record.id))
        return self.render("admin/import/upload.html", model=model, items=model.items)

    @expose("/import/<int:import_id>/", methods=("GET", "POST"))
    def import_status_view(self, import_id: int):
        record = db.session.get(ContributionImport, import_id) if parse_id(import_id) else None
        if record is None or self.get_one(record.demarche_id) is None:
            abort(404)
        if request.method == "POST":
            if not may_act_on(current_user, record.demarche):
                abort(403)
            large = record.rows_to_import > current_app.config["IMPORT_INLINE_ROWS"]
            if large and current_app.config["OUTBOX_DISPATCH"] == "celery":
                imports.queue_import(db.session(), record.id, as_of=utcnow())  # a worker runs it
            else:
                imports.run_import(
                    db.session(), record.id, limits=FileLimits.from_settings(current_app.config)
                )
            return redirect(self.get_url(".import_status_view", import_id=record.id))
        db.session.refresh(record)
        return self.render(
            "admin/import/status.html",
            record=record,
            model=record.demarche,
            refused=[(r["line"], Msg(r["reason"], r.get("params") or {})) for r in record.refused],
            failure=imports.failure(record),
            may_import=may_act_on(current_user, record.demarche),
        )

    @expose("/export/", methods=("POST",))
    def export_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            abort(404)
        try:
            content, mimetype, filename = exports.export(
                db.session(),
                model,
                fmt=request.form.get("format", "csv"),
                personal=request.form.get("personal") == "1",
                actor=current_user,
                as_of=utcnow(),
            )
        except DomainError as exc:  # the export commits its own audit entry
            db.session.rollback()
            flash_refusal(exc)
            return redirect(self.get_url(".details_view", id=model.id))
        return Response(
            content,
            mimetype=mimetype,
            headers={
                "Content-Disposition": f"attachment; filename={filename}",
                "Cache-Control": "no-store",
            },
        )

    def _render_sheet(self, model: Demarche, refusal: Refusal | None = None):
        return self.render(
            self.details_template,
            **sheet_context(model, refusal),
            **evaluation_context(model),
            labels=self.column_labels,
            return_url=self.get_url(".index_view"),
        )


def _keep_only(form, names: set[str]) -> None:
    for name in list(domain.FIELDS):
        if name not in names and name in form:
            del form[name]


def _form_values(form) -> dict:
    return {name: form[name].data for name in domain.FIELDS if name in form}


def _short_date(value) -> str:
    from flask_babel import format_date

    return format_date(value, "short") if value else ""


def _local(value) -> str:
    from ..i18n import local_datetime

    return local_datetime(value, "dd/MM/y HH:mm")
