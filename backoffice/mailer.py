"""Mailings on the web side: the SMTP sender of the delivery engine, the links its messages
carry, and the signed unsubscription tokens (RFC 8058).

The domain (``workflows.mailings``) renders each recipient's subject and text; here the text
becomes the HTML part too (one source for both), the message gets its ``List-Unsubscribe``
headers, and SMTP answers become the domain's delivery errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import flask_mail
from flask import current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from workflows import mailings
from workflows.errors import DomainError
from workflows.mailings import Composer, Letter, Links
from workflows.models import Mailing

from .i18n import tr
from .mail import build_message, connection, send, text_to_html

SALT = "unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(address: str, scope: str) -> str:
    """A signed token naming an address and what it unsubscribes from (never expires: a
    link in an old message must still work)."""
    return _serializer().dumps({"a": address.strip().lower(), "s": scope})


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        return None
    if data.get("s") not in {s for s in mailings.SCOPES.values() if s}:
        return None
    return data["a"], data["s"]


def links() -> Links:
    """Absolute links (``BASE_URL``), for a request or a worker's request context."""
    return Links(
        demarche=lambda d: url_for("public.demarche", slug=d.slug, _external=True),
        unsubscribe=lambda address, scope: url_for(
            "public.unsubscribe", token=unsubscribe_token(address, scope), _external=True
        ),
    )


def composer(session: Any, mailing: Mailing) -> Composer:
    return Composer(session, mailing, links(), label=tr)


def build(letter: Letter) -> flask_mail.Message:
    """The email of a letter: text part, the same text as HTML, unsubscription headers."""
    html = render_template(
        "emails/layout.html",
        subject=letter.subject,
        body=text_to_html(letter.text),
        unsubscribe_url=letter.unsubscribe_url,
    )
    text = letter.text
    if letter.unsubscribe_url:
        text = text.rstrip() + "\n\n-- \nSe désabonner : " + letter.unsubscribe_url + "\n"
    message = build_message(letter.address, letter.subject, text, html)
    if letter.unsubscribe_url:
        message.extra_headers = {
            "List-Unsubscribe": f"<{letter.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return message


class SmtpSender:
    """One SMTP connection of the engine: ``send(letter)`` returns the Message-ID."""

    def __init__(self, conn: flask_mail.Connection) -> None:
        self.conn = conn

    def send(self, letter: Letter) -> str:
        return send(build(letter), self.conn)


@contextmanager
def smtp_opener() -> Iterator[SmtpSender]:
    """A connection reused for a whole chunk (``MAIL_TIMEOUT`` on every operation)."""
    with connection() as conn:
        yield SmtpSender(conn)


def send_test(session: Any, mailing: Mailing, to: str, address: str | None = None) -> str:
    """Send the mailing as ``address`` (else its first recipient) would read it, to ``to``
    (whose own unsubscription link it carries, not the recipient's)."""
    recipient = mailings.sample_recipient(session, mailing, address)
    letter = composer(session, mailing).compose(
        to,
        recipient.name if recipient else "",
        recipient.participant_id if recipient else None,
    )
    return send(build(replace(letter, subject="[TEST] " + letter.subject)))


def display_subject(session: Any, mailing: Mailing) -> str:
    """The subject as the mailing's lists show it: rendered for nobody in particular."""
    try:
        return composer(session, mailing).compose("", "", None).subject
    except DomainError:
        return mailing.subject
