"""What every back-office page shares: login, roles, CSRF and French labels.

Views declare ``roles``; an anonymous visitor is sent to the login page, a logged-in user
without the role gets 403. Forms are Flask-WTF forms, so the app-wide CSRF protection
covers every back-office form.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_security import current_user
from flask_wtf import FlaskForm

from workflows.roles import MISSION_ROLES, STAFF_ROLES
from workflows.sql import database_unavailable


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

    def handle_view_exception(self, exc: Exception) -> bool:
        """The database away while a form is saved: the app's 503 (``errors.database_away``),
        not Flask-Admin's flash quoting the failed statement."""
        if database_unavailable(exc):
            raise exc
        return super().handle_view_exception(exc)
