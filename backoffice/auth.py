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

from workflows import audit
from workflows.accounts import account_problems, department_named
from workflows.clock import utcnow
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


def normalize_email(email: str) -> str:
    """The address as accounts store it (lower case), or AccountError when it is not valid."""
    try:
        return security.mail_util.normalize(email.strip()).lower()
    except Exception as exc:  # Flask-Security's EmailValidateException
        raise AccountError(f"invalid email address {email!r}") from exc


def password_problems(password: str) -> list[str]:
    """Flask-Security's password policy (length …), in the current language."""
    problems, _ = security.password_util.validate(password, True)
    return [str(p) for p in problems or ()]


def create_user(
    email: str,
    role: str,
    *,
    department: str | None = None,
    password: str | None = None,
    name: str = "",
    position: str = "",
    actor: User | None = None,
) -> tuple[User, str | None]:
    """Create a staff account (flushes, does not commit).

    Returns the user and the generated password when none was given. The department is
    created when it does not exist yet.
    """
    try:
        role_name = RoleName(role)
    except ValueError:
        raise AccountError(f"unknown role {role!r}: choose one of {', '.join(RoleName)}") from None
    email = normalize_email(email)
    problems = account_problems(
        db.session, email=email, role_names=[role_name], department=department
    )
    if problems:
        raise AccountError("; ".join(str(p) for p in problems))
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    elif problems := password_problems(password):
        raise AccountError(" ".join(problems))
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
        confirmed_at=utcnow(),  # staff addresses are vouched for by whoever creates them
    )
    db.session.flush()
    audit.record(
        db.session,
        "user.create",
        actor=actor,
        as_of=utcnow(),
        target=f"user:{user.id}",
        roles=[role_name.value],
    )
    return user, generated
