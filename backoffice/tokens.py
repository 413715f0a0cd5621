"""Signed tokens, the credentials the links of our emails carry: a mailing's unsubscription
link (RFC 8058), an event registration's own page, a participant's survey questionnaire.
Every one is made and read here.

One serializer for all (itsdangerous' ``URLSafeSerializer`` keyed by ``SECRET_KEY``), one salt
per purpose, and no expiry: a link in an old message must still work. So a salt or the payload
of a purpose never changes, or the links already sent stop working.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, Signer, URLSafeSerializer

from workflows import mailings
from workflows.models import Registration

from .extensions import db

#: The salts, one per purpose (those of the links already sent).
UNSUBSCRIBE = "unsubscribe"
REGISTRATION = "registration"
SURVEY = "survey"


def serializer(purpose: str) -> URLSafeSerializer:
    return _serializer(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=16)
def _serializer(secret: str | bytes, purpose: str) -> URLSafeSerializer:
    """Made once per key and purpose: a mailing signs a link per message."""
    return _Serializer(secret, salt=purpose, signer=_Signer)


class _Signer(Signer):
    """itsdangerous' signer, the signing key it derives from the secret made once (it
    derives it again for every signature)."""

    @functools.cached_property
    def _signing_key(self) -> bytes:
        return super().derive_key()

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return self._signing_key if secret_key is None else super().derive_key(secret_key)


class _Serializer(URLSafeSerializer):
    """itsdangerous' serializer, its signer for its own salt made once (it makes one for
    every token it signs or reads)."""

    @functools.cached_property
    def _signer(self) -> Signer:
        return super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is None or salt == self.salt:
            return self._signer
        return super().make_signer(salt)


def sign(purpose: str, value: Any) -> str:
    """``value`` (JSON) signed for ``purpose``."""
    return serializer(purpose).dumps(value)


def unsign(purpose: str, token: str) -> Any:
    """What ``token`` carries if we signed it for ``purpose``; None otherwise."""
    try:
        return serializer(purpose).loads(token)
    except BadSignature:
        return None


def unsubscribe_token(participant_id: int | None, scope: str) -> str:
    """A participant (by id: no address in the link) and what they unsubscribe from; None
    for a test message's link."""
    return sign(UNSUBSCRIBE, {"p": participant_id, "s": scope})


def read_unsubscribe_token(token: str) -> tuple[int | None, str] | None:
    """(participant id or None for a test, scope); None when the token is not ours."""
    data = unsign(UNSUBSCRIBE, token)
    if not isinstance(data, dict) or data.get("s") not in {
        s for s in mailings.SCOPES.values() if s
    }:
        return None
    participant_id = data.get("p")
    if participant_id is not None and not isinstance(participant_id, int):
        return None
    return participant_id, data["s"]


def registration_token(registration: Registration) -> str:
    """The token of a registration's own page (status, cancel), sent by email."""
    return sign(REGISTRATION, registration.id)


def registration_from_token(token: str) -> Registration | None:
    registration_id = unsign(REGISTRATION, token)
    return (
        db.session.get(Registration, registration_id) if isinstance(registration_id, int) else None
    )


def survey_token(nonce: str) -> str:
    """A participant's link to the survey: their invitation's random secret, signed (no id,
    no address: the link says nothing of whom it is for)."""
    return sign(SURVEY, nonce)


def read_survey_token(token: str) -> str | None:
    """The invitation's secret a survey link carries; None when we did not sign it."""
    nonce = unsign(SURVEY, token)
    return nonce if isinstance(nonce, str) and 0 < len(nonce) <= 64 else None
