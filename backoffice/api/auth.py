"""Bearer tokens for the JSON API. Only a SHA-256 digest of each token is stored.

The API never reads the session cookie, so it needs no CSRF token: a request is who its
``Authorization: Bearer …`` header says, or nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import g, request
from flask_babel import gettext
from flask_smorest import abort
from sqlalchemy import select

from workflows.models import ApiToken, User

from ..extensions import db


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_tokens(user: User) -> int:
    """Delete every token of ``user`` (flushes); returns how many there were."""
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for token in tokens:
        db.session.delete(token)
    db.session.flush()
    return len(tokens)


def issue_token(user: User, as_of: datetime) -> str:
    """A new token for ``user`` (flushes); the clear token is shown once, never stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, digest=digest(token), created_at=as_of))
    db.session.flush()
    return token


def authenticate() -> None:
    """``before_request`` of every API blueprint: sets ``g.api_user`` or answers 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(
            401,
            message=gettext("Authentication required: send “Authorization: Bearer <token>”."),
            headers={"WWW-Authenticate": 'Bearer realm="dialogue-citoyen"'},
        )
    row = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest(token.strip())))
    if row is None or not row.user.active:
        abort(
            401,
            message=gettext("Invalid or revoked token."),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    assert row is not None  # abort() raised (flask_smorest has no types to say so)
    g.api_user = row.user


def api_user() -> User:
    return g.api_user
