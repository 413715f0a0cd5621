"""Helpers shared by the tests: a real SMTP server, CSRF-aware form posts, clocks."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""


@dataclass
class SmtpRecorder:
    """aiosmtpd handler keeping what it receives; ``replies`` and ``rcpt_replies`` script
    refusals (e.g. 451) at DATA and at RCPT."""

    received: list[Received] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # answers to DATA, in turn
    rcpt_replies: list[str] = field(default_factory=list)  # answers to RCPT, in turn
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.lock:
            if self.rcpt_replies:
                return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            message = message_from_bytes(envelope.content, policy=default_policy)
            self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.replies.clear()
            self.rcpt_replies.clear()


def at(text: str) -> datetime:
    """An aware datetime from ISO text; naive text is read as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_CSRF = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
    r'|<meta name="csrf-token" content="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2) or match.group(3)


def post_form(client, url: str, data: dict, *, to: str | None = None):
    """Open the page at ``url`` and post ``data`` with the page's CSRF token, to ``to`` (the
    page's own address unless said): what a person does with a form of the back office."""
    page = client.get(url).text
    return client.post(to or url, data={"csrf_token": csrf_from(page), **data})


PASSWORD = "correct horse battery staple"


def login(client, user, password: str = PASSWORD):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302, response.text
    return response


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client)})


def csrf_token(client) -> str:
    """The session's CSRF token, from the home page (every form of the session accepts it)."""
    return csrf_from(client.get("/").text)


def publish_synthesis(d, mission, introduction: str = "Ce que nous avons entendu.", as_of=None):
    """Build, introduce, validate and publish a version of ``d``'s synthesis, as the mission
    does in the back office."""
    from backoffice.extensions import db
    from workflows.clock import utcnow
    from workflows.syntheses import build, versions

    moment = as_of or utcnow()
    synthesis = build.build(db.session, d, actor=mission, as_of=moment)
    versions.edit(db.session, mission, synthesis, introduction=introduction, as_of=moment)
    versions.validate(db.session, mission, synthesis, as_of=moment)
    versions.publish(db.session, mission, synthesis, as_of=moment)
    db.session.commit()
    return synthesis
