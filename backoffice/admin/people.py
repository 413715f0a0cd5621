"""Administrators manage accounts, their roles and departments, and the elected officials."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext
from flask_security import current_user, hash_password
from sqlalchemy import func, select
from wtforms import PasswordField, ValidationError
from wtforms.validators import Email, Optional

from workflows import audit
from workflows.accounts import account_problems
from workflows.addresses import normalize_email
from workflows.clock import utcnow
from workflows.errors import InvalidFields
from workflows.models import Department, Role, User
from workflows.roles import RoleName

from ..auth import password_problems
from ..extensions import db
from ..i18n import tr
from .base import ProtectedModelView

_L = lazy_gettext


class UserView(ProtectedModelView):
    created_message = _L("The account is created.")
    saved_message = _L("The account is saved.")
    roles = frozenset({RoleName.ADMIN})
    column_list: tuple[str, ...] = ("email", "name", "roles", "department", "active", "created_at")
    column_labels = {
        "email": _L("Email"),
        "name": _L("Name"),
        "position": _L("Position"),
        "roles": _L("Roles"),
        "department": _L("Department"),
        "active": _L("Active"),
        "created_at": _L("Created"),
        "new_password": _L("New password"),
    }
    column_searchable_list = ("email", "name")
    column_filters = ("active", "department.name", "roles.name")
    column_formatters = {
        "roles": lambda v, c, m, n: ", ".join(tr(RoleName(r.name).label) for r in m.roles),
        "created_at": lambda v, c, m, n: m.created_at.strftime("%d/%m/%Y") if m.created_at else "",
    }
    column_details_list = (
        "email",
        "name",
        "position",
        "roles",
        "department",
        "active",
        "created_at",
    )
    form_columns: tuple[str, ...] = (
        "email",
        "name",
        "position",
        "department",
        "roles",
        "active",
        "new_password",
    )
    form_extra_fields = {
        "new_password": PasswordField(
            _L("New password"),
            validators=[Optional()],
            description=_L("Leave empty to keep the current password."),
        )
    }
    form_args = {
        "email": {"validators": [Email()]},
        "roles": {"label": _L("Roles"), "get_label": lambda role: tr(RoleName(role.name).label)},
        "department": {
            "label": _L("Department"),
            "description": _L("Required for a department agent."),
        },
    }

    def on_model_change(self, form, model, is_created):
        try:
            model.email = normalize_email(model.email or "")
        except InvalidFields as exc:
            raise ValidationError(_L("Invalid email address.")) from exc
        password = form.new_password.data if "new_password" in form else None
        if password:
            problems = password_problems(password, email=model.email, name=model.name or "")
            if problems:
                raise ValidationError(" ".join(problems))
        if is_created or password:
            model.fs_uniquifier = uuid.uuid4().hex  # a new password logs out everywhere
        if password:
            model.password = hash_password(password)
        names = {r.name for r in model.roles}
        with db.session.no_autoflush:
            problems = account_problems(
                db.session(),
                email=model.email,
                role_names=names,
                department=model.department,
                user_id=model.id,
            )
        if problems:
            raise ValidationError("; ".join(tr(p) for p in problems))
        db.session.flush()
        audit.record(
            db.session(),
            "user.create" if is_created else "user.update",
            actor=current_user,
            as_of=utcnow(),
            target=f"user:{model.id}",
            roles=sorted(names),
            password_changed=bool(password),
        )


class ElectedOfficialView(UserView):
    """The sponsoring elected officials: accounts with the ``elected`` role."""

    column_list = ("name", "position", "email", "active")
    form_columns = ("name", "position", "email", "active", "new_password")

    def get_query(self):
        return super().get_query().filter(User.roles.any(Role.name == RoleName.ELECTED))

    def get_count_query(self):
        return super().get_count_query().filter(User.roles.any(Role.name == RoleName.ELECTED))

    def on_model_change(self, form, model, is_created):
        if is_created:
            with db.session.no_autoflush:
                elected = db.session.scalar(select(Role).where(Role.name == RoleName.ELECTED))
            model.roles = [elected]
        super().on_model_change(form, model, is_created)


class DepartmentView(ProtectedModelView):
    created_message = _L("The department is created.")
    saved_message = _L("The department is saved.")
    roles = frozenset({RoleName.ADMIN})
    column_list = ("name", "agents", "created_at")
    column_labels = {"name": _L("Name"), "agents": _L("Agents"), "created_at": _L("Created")}
    column_formatters = {
        "agents": lambda v, c, m, n: len(m.agents),
        "created_at": lambda v, c, m, n: m.created_at.strftime("%d/%m/%Y") if m.created_at else "",
    }
    column_searchable_list = ("name",)
    form_columns = ("name",)

    def on_model_change(self, form, model, is_created):
        model.name = (model.name or "").strip()
        same_name = select(Department.id).where(Department.name == model.name)
        if model.id is not None:
            same_name = same_name.where(Department.id != model.id)
        with db.session.no_autoflush:
            duplicate = db.session.scalar(same_name)
        if duplicate is not None:
            raise ValidationError(_L("A department with this name already exists."))
        db.session.flush()
        audit.record(
            db.session(),
            "department.create" if is_created else "department.update",
            actor=current_user,
            as_of=utcnow(),
            target=f"department:{model.id}",
            name=model.name,
        )


class RoleView(ProtectedModelView):
    """The four roles are fixed by the code (they carry the rights); they are listed here."""

    roles = frozenset({RoleName.ADMIN})
    can_create = False
    can_edit = False
    column_list = ("name", "label", "members")
    column_labels = {"name": _L("Code"), "label": _L("Role"), "members": _L("Accounts")}
    column_formatters = {
        "label": lambda v, c, m, n: tr(RoleName(m.name).label),
        "members": lambda v, c, m, n: db.session.scalar(
            select(func.count(User.id)).where(User.roles.any(Role.id == m.id))
        ),
    }
