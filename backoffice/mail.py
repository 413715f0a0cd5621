"""Email: Flask-Mail with an SMTP timeout, and the rendering of the domain's notifications.

Every email is one Jinja template ``templates/emails/<name>.txt`` with two blocks,
``subject`` and ``body``; the text part is the body, the HTML part is the same body made
safe (escaped) and laid out in ``emails/layout.html``: one source for both parts.
"""

from __future__ import annotations

import re
import smtplib
from email.utils import make_msgid
from typing import Any

import flask_mail
from flask import current_app, render_template
from markupsafe import Markup, escape

from workflows.outbox import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError


class _Connection(flask_mail.Connection):
    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config.get("MAIL_TIMEOUT", 10)
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class Mail(flask_mail.Mail):
    """Flask-Mail whose connections time out instead of hanging a worker."""

    def connect(self) -> flask_mail.Connection:
        return connection()


def connection() -> flask_mail.Connection:
    """An SMTP connection with ``MAIL_TIMEOUT``; use it in a ``with`` block to send several."""
    return _Connection(current_app.extensions["mail"])


_URL = re.compile(r"https?://[^\s<>\"]+")


def text_to_html(text: str) -> Markup:
    """Paragraphs and links of a plain-text body, every character escaped first."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        html.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(html))


def render_email(template: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of ``templates/emails/<template>.txt``."""
    env = current_app.jinja_env
    tpl = env.get_template(f"emails/{template}.txt")
    current_app.update_template_context(context)
    ctx = tpl.new_context(context)
    subject = " ".join("".join(tpl.blocks["subject"](ctx)).split())
    body = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "".join(tpl.blocks["body"](ctx))).strip() + "\n"
    html = render_template(
        "emails/layout.html",
        subject=subject,
        body=text_to_html(body),
        recipient=context.get("recipient"),
    )
    return subject, body, html


def build_message(to: str, subject: str, text: str, html: str) -> flask_mail.Message:
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].rstrip(">") or None
    message = flask_mail.Message(subject=subject, recipients=[to], body=text, html=html)
    message.msgId = make_msgid(domain=domain)
    return message


# Connection lost, refused or timed out: worth another try later.
TEMPORARY_ERRORS = (smtplib.SMTPException, OSError)


def _refusal(code: int, text: object) -> DeliveryError:
    error = f"{code} {text!r}"
    if 400 <= code < 500:
        # 421: the server closes the connection.
        return TemporaryDeliveryError(error, code=code, connection_lost=code == 421)
    return PermanentDeliveryError(error, code=code)


def send(message: flask_mail.Message, conn: flask_mail.Connection | None = None) -> str:
    """Send one message (over ``conn`` if given); SMTP outcomes become the domain's errors."""
    try:
        if conn is None:
            with connection() as conn:
                conn.send(message)
        else:
            conn.send(message)
    except smtplib.SMTPResponseException as exc:
        raise _refusal(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _refusal(code, text) from exc
    except UnicodeEncodeError as exc:  # an address no SMTP relay can take
        raise PermanentDeliveryError(f"address not deliverable: {exc}") from exc
    except TEMPORARY_ERRORS as exc:
        raise TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", connection_lost=True) from exc
    return message.msgId
