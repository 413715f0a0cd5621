"""Login, roles, registration and password recovery through Flask-Security-Too.

Staff accounts are created by administrators (back office) or the CLI. Citizens register
themselves (espace citoyen) and confirm their address by email; their account is linked to
their participant (their earlier registrations and contributions by that address) only once
the address is confirmed. Flask-Security's emails go through the outbox like every other:
sent by the workers after commit, retried, never lost.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import lazy_gettext as _L
from flask_security import (
    RegisterFormV2,
    SQLAlchemySessionUserDatastore,
    hash_password,
    user_confirmed,
    user_registered,
)
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from workflows import audit
from workflows.accounts import account_problems, department_named
from workflows.addresses import normalize_email
from workflows.clock import utcnow
from workflows.errors import InvalidFields
from workflows.models import Role, User
from workflows.participants import participant_for_user
from workflows.roles import RoleName

from . import sessions
from .extensions import db, limiter, security


def _empty(form, field) -> None:
    if (field.data or "").strip():
        raise ValidationError(_L("Leave this field empty"))


class CitizenRegisterForm(RegisterFormV2):
    submit = SubmitField(_L("Create my espace citoyen"))
    # The honeypot of the public forms: hidden from people, filled by simple bots.
    website = StringField(
        _L("Leave this field empty"),
        validators=[_empty],
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )
    name = StringField(
        _L("Your name (optional)"),
        validators=[Optional(), Length(max=160)],
        description=_L("Shown with your contributions; leave empty to stay anonymous."),
    )


def _on_registered(app, user: User, **_: Any) -> None:
    """Whoever registers is a citizen (staff accounts are made by administrators)."""
    role = security.datastore.find_or_create_role(RoleName.CITIZEN.value)
    security.datastore.add_role_to_user(user, role)
    user.email = user.email.lower()


def _on_confirmed(app, user: User, **_: Any) -> None:
    """The address is the citizen's: link (or make) their participant."""
    participant_for_user(db.session(), user, as_of=utcnow())


#: Forms whose work depends on whether an account exists or is confirmed (an email is sent or
#: not): their answers take at least ``ACCOUNT_FORM_FLOOR`` seconds, so that timing tells
#: nothing either.
EVEN_TIMED = frozenset(
    {"security.register", "security.send_confirmation", "security.forgot_password"}
)


def _login_account() -> str:
    """The account a login attempt is for (its throttle counts per account, whatever the
    address it comes from)."""
    return "login:" + (request.form.get("email") or "").strip().lower()


def _start_clock() -> None:
    if request.method == "POST" and request.endpoint in EVEN_TIMED:
        g.account_form_started = time.perf_counter()


def _even_out(response):
    started = g.pop("account_form_started", None)
    if started is not None:
        left = current_app.config["ACCOUNT_FORM_FLOOR"] - (time.perf_counter() - started)
        if left > 0:
            time.sleep(left)
    return response


def init_app(app: Flask) -> None:
    datastore = SQLAlchemySessionUserDatastore(db.session, User, Role)
    security.init_app(app, datastore, register_form=CitizenRegisterForm, datetime_factory=utcnow)
    sessions.init_app(app)
    # Registration, login, confirmation and reset send emails or check passwords: the same
    # per-address limit as the public forms (mail-bombing, password guessing).
    blueprint = app.blueprints["security"]
    assert isinstance(blueprint, Blueprint)  # (typed as Flask's base class of blueprints)
    limiter.limit(lambda: app.config["PUBLIC_POST_LIMIT"], methods=["POST"])(blueprint)
    # And per account: failed logins only (a success does not count), from any address.
    # (Flask-Limiter's wrapper is typed as returning any of a view's returns, sync or async,
    # which Flask's type of a view, a sync or an async callable, does not take)
    app.view_functions["security.login"] = limiter.limit(  # type: ignore[assignment]
        lambda: app.config["LOGIN_FAILURE_LIMIT"],
        key_func=_login_account,
        methods=["POST"],
        override_defaults=False,
        deduct_when=lambda response: response.status_code != 302,
    )(app.view_functions["security.login"])
    app.before_request(_start_clock)
    app.after_request(_even_out)
    user_registered.connect(_on_registered, app)
    user_confirmed.connect(_on_confirmed, app)


class AccountError(ValueError):
    pass


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """The password policy (``backoffice.passwords``) for an account with this address and
    name, in the current language."""
    problems, _ = security.password_util.validate(password, True, email=email, name=name)
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
    try:
        email = normalize_email(email)
    except InvalidFields as exc:
        raise AccountError(f"invalid email address {email!r}") from exc
    problems = account_problems(
        db.session(), email=email, role_names=[role_name], department=department
    )
    if problems:
        raise AccountError("; ".join(str(p) for p in problems))
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    elif weak := password_problems(password, email=email, name=name):
        raise AccountError(" ".join(weak))
    dept = department_named(db.session(), department) if department else None
    datastore = security.datastore
    role_row = datastore.find_or_create_role(role_name.value)
    # Flask-Security types what it creates as its UserMixin; it is our User model.
    user: User = datastore.create_user(  # type: ignore[assignment]
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
        db.session(),
        "user.create",
        actor=actor,
        as_of=utcnow(),
        target=f"user:{user.id}",
        roles=[role_name.value],
    )
    return user, generated
