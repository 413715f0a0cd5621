"""What every back-office page shares: login, roles, CSRF and French labels.

Views declare ``roles``; an anonymous visitor is sent to the login page, a logged-in user
without the role gets 403. Forms are Flask-WTF forms, so the app-wide CSRF protection
covers every back-office form. Each creation, change or deletion says once that it is done,
in the view's own words (``created_message`` …), never with Flask-Admin's generic line too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, request, session, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import ngettext as admin_ngettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _L
from flask_security import current_user
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from workflows.access import parse_id
from workflows.roles import MISSION_ROLES, STAFF_ROLES
from workflows.sql import database_unavailable

from ..params import MAX_PAGE, page_number


class AdminForm(BaseForm):
    """Flask-Admin's form with Flask-WTF's CSRF token and WTForms' French messages."""

    class Meta(FlaskForm.Meta):
        pass


class RoleProtected:
    """Mixin for Flask-Admin views: only logged-in, active users holding one of ``roles``."""

    roles: frozenset[str] = STAFF_ROLES

    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated
            and current_user.active
            and current_user.has_any_role(*self.roles)
        )

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("security.login", next=request.full_path.rstrip("?")))


class ProtectedView(RoleProtected, BaseView):
    pass


class ProtectedIndexView(RoleProtected, AdminIndexView):
    pass


class ProtectedModelView(RoleProtected, ModelView):
    roles = MISSION_ROLES
    form_base_class = AdminForm
    can_delete = False
    can_export = False
    can_view_details = True
    page_size = 25
    #: What the user reads once a form of the view is saved (unless the view said it itself).
    created_message: Any = _L("Created.")
    saved_message: Any = _L("Your changes are saved.")
    deleted_message: Any = _L("Deleted.")

    def handle_view_exception(self, exc: Exception) -> bool:
        """The database away while a form is saved: the app's 503 (``errors.database_away``),
        not Flask-Admin's flash quoting the failed statement. A check of the view refusing
        the values (``ValidationError``) is said as it is, without « Failed to … » before."""
        if database_unavailable(exc):
            raise exc
        if isinstance(exc, ValidationError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._one_confirmation(super().create_view)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._one_confirmation(super().edit_view)

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        return self._one_confirmation(super().delete_view)

    def _one_confirmation(self, view: Callable[[], Any]) -> Any:
        """Run Flask-Admin's ``view`` and leave one message per outcome: its generic line
        (« L'objet a bien été créé. », « A été enregistrée avec succès. ») goes when the
        view said what happened in its own words, else it becomes the view's message. Tidied
        before a page is rendered (a refused form) and after a redirect."""
        g.flashes_before = len(session.get("_flashes", []))
        response = view()
        self._tidy_flashes()
        return response

    def render(self, template, **kwargs):
        self._tidy_flashes()
        return super().render(template, **kwargs)

    def _tidy_flashes(self) -> None:
        before = g.get("flashes_before")
        flashes = list(session.get("_flashes", []))
        if before is not None and len(flashes) > before:
            session["_flashes"] = flashes[:before] + self._tidy(flashes[before:])

    def _tidy(self, new: list[tuple[str, str]]) -> list[tuple[str, str]]:
        nothing_saved = gettext("Nothing is saved: correct the fields marked below.")
        generic = {
            admin_gettext("Record was successfully created."): str(self.created_message),
            admin_gettext("Record was successfully saved."): str(self.saved_message),
            admin_ngettext(
                "Record was successfully deleted.",
                "%(count)s records were successfully deleted.",
                1,
                count=1,
            ): str(self.deleted_message),
            admin_gettext("Failed to create record."): nothing_saved,
            admin_gettext("Failed to save record."): nothing_saved,
        }
        own = [(category, message) for category, message in new if message not in generic]
        if own:
            return own
        said = dict.fromkeys((category, generic[message]) for category, message in new)
        return list(said)

    def get_one(self, id):  # noqa: A002 - Flask-Admin's signature
        """``?id=`` of the edit and details pages: a row id, or no row (Flask-Admin passed any
        number to the database: a 500 on PostgreSQL beyond 2³¹)."""
        key = parse_id(id)
        return super().get_one(str(key)) if key else None

    def _get_list_extra_args(self):
        """Flask-Admin reads ``?page=`` as any integer (pages count from 0 here): a negative
        or huge one went to the database as its OFFSET (a 500 on PostgreSQL). Clamped."""
        args = super()._get_list_extra_args()
        args.page = page_number(args.page, first=0, last=MAX_PAGE - 1)
        return args
