"""Login sessions the server can end: a session cookie copied before its owner logged out opens
nothing afterwards.

Flask's session is a signed cookie: on its own, a copy of it stays valid after logout. So each
login records a ``LoginSession`` (the digest of a random identifier kept in the session), the
user loader accepts a session only while its record is open, and logging out closes it. The
« se souvenir de moi » cookie (Flask-Login's, the same for every browser of the account) may
open a new session only while the account has an open session started with it; logging out
closes those too, so the remembered browsers must log in again.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import Flask, current_app, request, session
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import select, update

from workflows.clock import utcnow
from workflows.models import LoginSession, User

from .extensions import db

SESSION_KEY = "_sid"


def _digest(identifier: str) -> str:
    return hashlib.sha256(identifier.encode()).hexdigest()


def _open(user: User, *, remember: bool) -> None:
    identifier = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user_id=user.id, digest=_digest(identifier), remember=remember, created_at=utcnow()
        )
    )
    session[SESSION_KEY] = identifier


def _on_login(app: Flask, user: User, **_: Any) -> None:
    # Flask-Security commits after login (and so keeps this row).
    _open(user, remember=session.get("_remember") == "set")


def _on_logout(app: Flask, user: User | None, **_: Any) -> None:
    identifier = session.pop(SESSION_KEY, None)
    if user is None or not getattr(user, "id", None):
        return
    ended = LoginSession.digest == _digest(identifier) if identifier else None
    remembered = LoginSession.remember.is_(True)
    db.session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.ended_at.is_(None),
            remembered if ended is None else (ended | remembered),
        )
        .values(ended_at=utcnow())
    )
    db.session.commit()


def _is_open(identifier: str) -> bool:
    return (
        db.session.scalar(
            select(LoginSession.id).where(
                LoginSession.digest == _digest(identifier), LoginSession.ended_at.is_(None)
            )
        )
        is not None
    )


def _may_remember(user_id: str) -> bool:
    """Whether the account named by a remember cookie has an open remembered session."""
    return (
        db.session.scalar(
            select(LoginSession.id)
            .join(User, User.id == LoginSession.user_id)
            .where(
                User.fs_uniquifier == user_id,
                LoginSession.remember.is_(True),
                LoginSession.ended_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def init_app(app: Flask) -> None:
    """After Flask-Security's ``init_app``: wrap its user loader with the session check."""
    manager = app.login_manager  # type: ignore[attr-defined]
    load_user = manager._user_callback  # Flask-Security's loader (by fs_uniquifier)

    def load(user_id: str):
        identifier = session.get(SESSION_KEY)
        if identifier:
            return load_user(user_id) if _is_open(identifier) else None
        # No session of ours: only the remember cookie may open one (Flask-Login reads it
        # into the session and asks us).
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if cookie not in request.cookies or not _may_remember(user_id):
            return None
        user = load_user(user_id)
        if user is not None:
            _open(user, remember=True)
            db.session.commit()
        return user

    manager.user_loader(load)
    user_logged_in.connect(_on_login, app)
    user_logged_out.connect(_on_logout, app)
