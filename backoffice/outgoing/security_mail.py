"""Flask-Security's emails (confirmation, password reset, "already registered") go through
the outbox like every other email: sent by the workers after commit, retried, never lost, and
never blocking a web request on a slow SMTP relay.

Their text is ``templates/security/email/*.txt`` (the site's greeting and signature); their
HTML part is made from that text and ``emails/layout.html``, as for every other email (one
source for both parts: ``SECURITY_EMAIL_HTML`` is off).

(Kept apart from ``auth.py`` because ``Security(...)`` is built with it in ``extensions``.)
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import render_template, url_for
from flask_security import MailUtil

from .mail import URL, text_to_html

SECURITY_TEMPLATE = "security"


class OutboxMailUtil(MailUtil):
    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs: Any) -> None:
        from workflows import outbox
        from workflows.accounts import find_user
        from workflows.clock import utcnow
        from workflows.participants import participant_for_email

        from ..extensions import db

        text = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", body or "").strip() + "\n"
        # Only the links we wrote become links (a name someone typed may hold a URL).
        ours = {v for v in kwargs.values() if isinstance(v, str) and URL.fullmatch(v)}
        ours.add(url_for("security.forgot_password", _external=True))  # the notices' link
        html = render_template(
            "emails/layout.html",
            subject=str(subject),
            body=text_to_html(text, links=ours),
            recipient=kwargs.get("user"),
        )
        now = utcnow()
        user = find_user(db.session(), recipient)
        to = user if user is not None else participant_for_email(db.session(), recipient, as_of=now)
        outbox.enqueue(
            db.session(),
            key=f"security:{template}:{uuid.uuid4().hex}",
            template=SECURITY_TEMPLATE,
            recipient=to,
            context={"subject": str(subject), "text": text, "html": html, "kind": template},
            as_of=now,
        )
        # Flask-Security commits the user after sending; make sure this row is kept too.
        db.session.commit()
