"""Flask-Security's emails (confirmation, password reset, "already registered") go through
the outbox like every other email: sent by the workers after commit, retried, never lost, and
never blocking a web request on a slow SMTP relay.

(Kept apart from ``auth.py`` because ``Security(...)`` is built with it in ``extensions``.)
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_security import MailUtil

SECURITY_TEMPLATE = "security"


class OutboxMailUtil(MailUtil):
    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs: Any) -> None:
        from workflows import outbox
        from workflows.accounts import find_user
        from workflows.clock import utcnow
        from workflows.participants import participant_for_email

        from ..extensions import db

        now = utcnow()
        user = find_user(db.session(), recipient)
        to = user if user is not None else participant_for_email(db.session(), recipient, as_of=now)
        outbox.enqueue(
            db.session(),
            key=f"security:{template}:{uuid.uuid4().hex}",
            template=SECURITY_TEMPLATE,
            recipient=to,
            context={"subject": str(subject), "text": body, "html": html, "kind": template},
            as_of=now,
        )
        # Flask-Security commits the user after sending; make sure this row is kept too.
        db.session.commit()
