"""Email: Flask-Mail with an SMTP timeout, and the rendering of the domain's notifications.

Every email is one Jinja template ``templates/emails/<name>.txt`` with two blocks,
``subject`` and ``body``; the text part is the body, the HTML part is the same body made
safe (escaped) and laid out in ``emails/layout.html``: one source for both parts.
"""

from __future__ import annotations

import base64
import functools
import html
import os
import quopri
import re
import smtplib
import time
from collections.abc import Collection, Sequence
from email.encoders import encode_base64
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

import flask_mail
from flask import current_app, render_template
from markupsafe import Markup, escape

from workflows.outbox import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError

#: An address written as it is between angle brackets: no display name, comment, quote or
#: bracket for ``smtplib.quoteaddr`` to parse.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\\",;:@]+@[^\s<>()\[\]\\\",;:@]+")


class _Envelope:
    """``smtplib`` that writes a plain address into MAIL FROM and RCPT TO as it is: its own
    ``quoteaddr`` parses every address with the ``email`` package, an eighth of a mailing
    worker's time per message. Any other address, or the SMTPUTF8 option, goes its way; and
    DATA as smtplib writes it, dot-stuffed without a regex."""

    def _plain(self, address: str, options: Sequence[str]) -> str | None:
        if not _PLAIN_ADDRESS.fullmatch(address):
            return None
        if any(option.lower() == "smtputf8" for option in options):
            return None
        extra = " " + " ".join(options) if options and self.does_esmtp else ""  # type: ignore[attr-defined]
        return f"<{address}>{extra}"

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        argument = self._plain(sender, options)
        if argument is None:
            return super().mail(sender, options)  # type: ignore[misc]
        self.putcmd("mail", "FROM:" + argument)  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]

    def rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        argument = self._plain(recip, options)
        if argument is None:
            return super().rcpt(recip, options)  # type: ignore[misc]
        self.putcmd("rcpt", "TO:" + argument)  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]

    def data(self, msg: Any) -> tuple[int, bytes]:
        """As smtplib's, its dot-stuffing done by ``bytes.replace`` instead of a regex over
        the whole message (the same bytes, several times faster)."""
        if not isinstance(msg, bytes) or self.debuglevel:  # type: ignore[attr-defined]
            return super().data(msg)  # type: ignore[misc]
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = (b"." if msg.startswith(b".") else b"") + msg.replace(b"\n.", b"\n..")
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]


class _SMTP(_Envelope, smtplib.SMTP):
    pass


class _SMTP_SSL(_Envelope, smtplib.SMTP_SSL):
    pass


class _Connection(flask_mail.Connection):
    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config.get("MAIL_TIMEOUT", 10)
        cls = _SMTP_SSL if self.mail.use_ssl else _SMTP
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


URL = re.compile(r"https?://[^\s<>\"]+")


def text_to_html(text: str, links: Collection[str] | None = None) -> Markup:
    """Paragraphs and links of a plain-text body, every character escaped first.

    ``links``: only these URLs become links (those we wrote into the email); any other URL in
    the text (a name, a title someone typed) stays plain text. None: every URL is linked.
    """

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        if links is not None and html.unescape(url) not in links:
            return url
        return f'<a href="{url}">{url}</a>'

    # Escaping and linking leave line ends and spaces as they are (a URL ends at a space):
    # done once over the whole text, then cut into paragraphs.
    linked = URL.sub(link, str(escape(text.strip())))
    return Markup(
        "\n".join(
            "<p>" + paragraph.replace("\n", "<br>\n") + "</p>"
            for paragraph in _PARAGRAPH_BREAK.split(linked)
            if paragraph.strip()
        )
    )


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def render_email(template: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of ``templates/emails/<template>.txt``.

    In the HTML part, only the URLs that the context hands over as plain strings (``link``,
    ``page`` …: ours, made by ``links.url``) are links; a URL inside a name or a title is text.
    """
    env = current_app.jinja_env
    tpl = env.get_template(f"emails/{template}.txt")
    ours = {v for v in context.values() if isinstance(v, str) and URL.fullmatch(v)}
    current_app.update_template_context(context)
    ctx = tpl.new_context(context)
    subject = " ".join("".join(tpl.blocks["subject"](ctx)).split())
    body = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "".join(tpl.blocks["body"](ctx))).strip() + "\n"
    html_body = render_template(
        "emails/layout.html",
        subject=subject,
        body=text_to_html(body, links=ours),
        recipient=context.get("recipient"),
    )
    return subject, body, html_body


class _EncodedHeaders(Compat32):
    """The legacy policy, writing headers already encoded to ASCII as they are (instead of
    re-encoding each through ``email.header.Header``), with SMTP's line ends."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii():
            return f"{name}: {self.linesep.join(value.splitlines())}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]  # private: not in typeshed


SMTP_POLICY = _EncodedHeaders(linesep="\r\n", max_line_length=998)


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A utf-8 text part in quoted-printable (C-encoded): a long paragraph of citizen text
    stays under SMTP's 998 octets a line, where Flask-Mail's 8bit bodies would break it."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quopri.encodestring(text.encode("utf-8")).decode("ascii"))
    return part


@functools.cache
def _sender(sender: str) -> str:
    """``Name <address>``, the name encoded if need be (the same every time: cached)."""
    name, address = parseaddr(sender)
    return formataddr((encode_header(name), address) if name else ("", address))


@functools.cache
def _envelope_from(sender: str) -> str:
    return parseaddr(sender)[1]


@functools.lru_cache(maxsize=4)
def _date(second: int) -> str:
    """The Date header of a second (a mailing writes many messages in the same second)."""
    return formatdate(second, localtime=True)


@functools.lru_cache(maxsize=256)  # a mailing's subject, the same for many of its messages
def encode_header(text: str) -> str:
    """RFC 2047 encoded words (base64 utf-8, at most 75 characters each, whole characters
    only) for a header that is not ASCII; ASCII text unchanged."""
    if text.isascii():
        return text
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode("utf-8"))
        if size + length > 39:  # 39 octets: 52 base64 characters, a word of 64, a line ≤ 76
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return "\r\n ".join(
        "=?utf-8?b?" + base64.b64encode(word.encode("utf-8")).decode("ascii") + "?="
        for word in words
    )


class Message(flask_mail.Message):
    """Flask-Mail's message, made lean: each header encoded once, no header re-parsed on
    the way out, bodies in quoted-printable, and the common email — a text part, maybe an
    HTML one, no attachment, ASCII headers — written straight to bytes, as the ``email``
    package would write it (``tests/domain/test_mailing_speed.py`` holds them equal). Several
    times faster than Flask-Mail's own flattening, which a mailing of thousands notices
    (bench/mailing.py)."""

    def __init__(self, subject: str, recipients: list[str], body: str, html: str, msg_id: str):
        # Flask-Mail's own would first make a Message-ID from the host's name, looked up each
        # time (a question to the resolver per message): this one is given its id.
        self.recipients: list[str | tuple[str, str]] = list(recipients)
        self.subject = subject
        self.sender = current_app.extensions["mail"].default_sender
        self.reply_to = None
        self.cc, self.bcc = [], []
        self.body = body
        self.alts = {}
        self.html = html
        self.date = None
        self.msgId = msg_id
        self.charset = None
        self.extra_headers = None
        self.mail_options, self.rcpt_options = [], []
        self.attachments = []

    def as_bytes(self) -> bytes:
        boundary = f"=_{os.urandom(16).hex()}"
        return self.written(boundary) or self.flattened(boundary)

    def _headers(self) -> list[tuple[str, str]]:
        return [
            ("Subject", encode_header(self.subject or "")),
            ("From", _sender(self.sender)),
            ("To", ", ".join(_addresses(self))),
            ("Date", _date(int(self.date or time.time()))),
            ("Message-ID", self.msgId),
            *(self.extra_headers or {}).items(),
        ]

    def written(self, boundary: str) -> bytes | None:
        """The bytes of a message without attachments and with ASCII headers (None: another
        kind, for ``flattened``)."""
        headers = self._headers()
        if self.attachments or not all(v.isascii() for _, v in headers):
            return None
        parts = [("plain", self.body or ""), *self.alts.items()]
        head = "".join(f"{name}: {_CRLF.join(value.splitlines())}\r\n" for name, value in headers)
        if len(parts) == 1:
            return (_PART_HEAD.format("plain") + head + "\r\n" + _qp(parts[0][1])).encode("ascii")
        out = [f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n']
        out.append("MIME-Version: 1.0\r\n" + head + "\r\n")
        for subtype, content in parts:
            out.append(f"--{boundary}\r\n{_PART_HEAD.format(subtype)}\r\n{_qp(content)}\r\n")
        out.append(f"--{boundary}--\r\n")
        return "".join(out).encode("ascii")

    def flattened(self, boundary: str) -> bytes:
        """The bytes of any message, through the ``email`` package."""
        if self.alts:
            mime: MIMEBase = MIMEMultipart("alternative")
            mime.attach(_text_part(self.body or "", "plain"))
            for subtype, content in self.alts.items():
                mime.attach(_text_part(content, subtype))
        else:
            mime = _text_part(self.body or "", "plain")
        if self.attachments:
            body, mime = mime, MIMEMultipart("mixed")
            mime.attach(body)
            for attachment in self.attachments:
                part = MIMEBase(*attachment.content_type.split(";")[0].strip().split("/"))
                part.set_payload(attachment.data)
                encode_base64(part)
                for key, value in (attachment.headers or {}).items():
                    part[key] = value
                part.replace_header("Content-Type", attachment.content_type)
                part.add_header(
                    "Content-Disposition", attachment.disposition, filename=attachment.filename
                )
                mime.attach(part)
        if isinstance(mime, MIMEMultipart):
            # "=_" never occurs in quoted-printable or base64 parts: no need for the email
            # package to search the whole body for a boundary that might clash.
            mime.set_boundary(boundary)
        for name, value in self._headers():
            mime[name] = value
        return mime.as_bytes(policy=SMTP_POLICY)


_CRLF = "\r\n"
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_PART_HEAD = (
    'Content-Type: text/{}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n"
)


def _qp(text: str) -> str:
    """A body in quoted-printable with SMTP's line ends, as the ``email`` package writes it."""
    encoded = quopri.encodestring(text.encode("utf-8")).decode("ascii")
    if "\r" not in encoded:  # the usual text: a plain replace is ten times the regex's speed
        return encoded.replace("\n", _CRLF)
    return _LINE_ENDS.sub(_CRLF, encoded)


def _addresses(message: flask_mail.Message) -> list[str]:
    """The recipients: addresses, as build_message gives them (Flask-Mail also takes
    (name, address) pairs, which nothing here makes)."""
    addresses = [r for r in message.recipients if isinstance(r, str)]
    assert len(addresses) == len(message.recipients)
    return addresses


def build_message(to: str, subject: str, text: str, html: str) -> Message:
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].rstrip(">") or None
    return Message(subject, [to], text, html, make_msgid(domain=domain))


# Connection lost, refused or timed out: worth another try later.
TEMPORARY_ERRORS = (smtplib.SMTPException, OSError)


#: Answers to RCPT that say the mailbox does not exist (not a policy refusal, 5.7.x).
MAILBOX_UNKNOWN = {550, 551, 553}


def _refusal(code: int, text: object, *, at_recipient: bool = False) -> DeliveryError:
    error = f"{code} {text!r}"
    if 400 <= code < 500:
        # 421: the server closes the connection.
        return TemporaryDeliveryError(error, code=code, connection_lost=code == 421)
    reply = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    unknown = at_recipient and code in MAILBOX_UNKNOWN and not reply.lstrip().startswith("5.7")
    return PermanentDeliveryError(error, code=code, mailbox_unknown=unknown)


def _send(conn: flask_mail.Connection, message: flask_mail.Message) -> None:
    if message.has_bad_headers():
        raise flask_mail.BadHeaderError(message.subject)
    if conn.host is not None:  # None: MAIL_SUPPRESS_SEND
        conn.host.sendmail(_envelope_from(message.sender), _addresses(message), message.as_bytes())


def send(message: flask_mail.Message, conn: flask_mail.Connection | None = None) -> str:
    """Send one message (over ``conn`` if given); SMTP outcomes become the domain's errors."""
    try:
        if conn is None:
            with connection() as conn:
                _send(conn, message)
        else:
            _send(conn, message)
    except flask_mail.BadHeaderError as exc:
        raise PermanentDeliveryError(f"a header holds a line break: {exc}") from exc
    except smtplib.SMTPSenderRefused as exc:
        # The relay refuses our sender: its configuration, not the recipient's address.
        raise TemporaryDeliveryError(
            f"sender refused: {exc.smtp_code} {exc.smtp_error!r}", code=exc.smtp_code
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise _refusal(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _refusal(code, text, at_recipient=True) from exc
    except UnicodeEncodeError as exc:  # an address no SMTP relay can take
        raise PermanentDeliveryError(f"address not deliverable: {exc}") from exc
    except TEMPORARY_ERRORS as exc:
        raise TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", connection_lost=True) from exc
    return message.msgId
