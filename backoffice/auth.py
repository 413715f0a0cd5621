"""Login, roles and password recovery through Flask-Security-Too.

Staff accounts are created by administrators (back office) or the CLI; nobody registers
alone. Pages check roles through ``roles_required``-like helpers in the admin base view.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import flask_mail
from flask import Flask
from flask_security import MailUtil, SQLAlchemySessionUserDatastore, hash_password

from workflows.accounts import account_problems, department_named
from workflows.models import Role, User
from workflows.roles import RoleName

from . import mail
from .extensions import db, security


class TimeoutMailUtil(MailUtil):
    """Flask-Security's emails (password reset) go through our SMTP connection with timeout."""

    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs: Any) -> None:
        if isinstance(sender, tuple):
            sender = (str(sender[0]), str(sender[1]))
        message = flask_mail.Message(str(subject), sender=sender, recipients=[recipient])
        message.body, message.html = body, html
        mail.send(message)


def init_app(app: Flask) -> None:
    datastore = SQLAlchemySessionUserDatastore(db.session, User, Role)
    security.init_app(app, datastore, mail_util_cls=TimeoutMailUtil)


class AccountError(ValueError):
    pass


def create_user(
    email: str,
    role: str,
    *,
    department: str | None = None,
    password: str | None = None,
    name: str = "",
    position: str = "",
) -> tuple[User, str | None]:
    """Create a staff account (flushes, does not commit).

    Returns the user and the generated password when none was given. The department is
    created when it does not exist yet.
    """
    try:
        role_name = RoleName(role)
    except ValueError:
        raise AccountError(f"unknown role {role!r}: choose one of {', '.join(RoleName)}") from None
    try:
        email = security.mail_util.normalize(email.strip()).lower()
    except Exception as exc:  # EmailValidateException: the address is not valid
        raise AccountError(f"invalid email address {email!r}") from exc
    problems = account_problems(
        db.session, email=email, role_names=[role_name], department=department
    )
    if problems:
        raise AccountError("; ".join(str(p) for p in problems))
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    dept = department_named(db.session, department) if department else None
    datastore = security.datastore
    role_row = datastore.find_or_create_role(role_name.value)
    user = datastore.create_user(
        email=email,
        password=hash_password(password),
        name=name,
        position=position,
        department=dept,
        roles=[role_row],
        fs_uniquifier=uuid.uuid4().hex,
        active=True,
    )
    db.session.flush()
    return user, generated
