"""A local mail sink for development: an SMTP server keeping every email in a Maildir,
and a back-office page to read them (registered only with DIALOGUE_ENV=development).
"""

from __future__ import annotations

import email
import mailbox
import signal
import threading
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import abort, current_app, request
from flask_admin import expose

from workflows.roles import MISSION_ROLES

from .admin.base import ProtectedView


def maildir(directory: str) -> mailbox.Maildir:
    """The sink's Maildir, with its tmp/new/cur folders even if ``directory`` existed."""
    for sub in ("tmp", "new", "cur"):
        Path(directory, sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(directory, create=False)


class MaildirHandler:
    def __init__(self, directory: str) -> None:
        self.box = maildir(directory)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.box.add(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        print(f"mail sink: to {', '.join(envelope.rcpt_tos)}: {message['subject']}", flush=True)
        return "250 Message accepted for delivery"


def serve(host: str, port: int, directory: str) -> None:
    from aiosmtpd.controller import Controller

    Path(directory).parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(directory), hostname=host, port=port)
    controller.start()
    print(f"mail sink: SMTP on {host}:{port}, keeping emails in {directory}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else "", html.get_content() if html else "")


class DevMailView(ProtectedView):
    """Emails caught by the local sink, newest first."""

    roles = MISSION_ROLES

    def _box(self) -> mailbox.Maildir:
        return maildir(current_app.config["MAIL_SINK_DIR"] or f"{current_app.instance_path}/mail")

    @expose("/")
    def index(self):
        box = self._box()
        rows = []
        for key, raw in box.items():
            message = email.message_from_bytes(raw.as_bytes(), policy=default_policy)
            date = message["date"]
            rows.append(
                {
                    "key": key,
                    "to": message["to"],
                    "subject": message["subject"],
                    "date": parsedate_to_datetime(date) if date else None,
                }
            )
        rows.sort(key=lambda r: r["key"], reverse=True)  # Maildir keys start with the arrival time
        return self.render("admin/devmail/list.html", rows=rows[:200], total=len(rows))

    @expose("/message/")
    def message(self):
        box = self._box()
        key = request.args.get("key", "")
        if key not in box:
            abort(404)
        message = email.message_from_bytes(box[key].as_bytes(), policy=default_policy)
        text, html = _parts(message)
        return self.render("admin/devmail/message.html", message=message, text=text, html=html)
