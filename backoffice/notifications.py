"""Turning the domain's outbox rows into emails (rendered here, sent by the workers)."""

from __future__ import annotations

from flask import current_app, url_for

from workflows.models import OutboxMessage, StageTransition
from workflows.stages import next_stage

from .extensions import db
from .mail import build_message, render_email, send


def render_notification(message: OutboxMessage) -> tuple[str, str, str]:
    transition = db.session.get(StageTransition, message.context["transition_id"])
    demarche = message.demarche
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        link = url_for("demarche.details_view", id=demarche.id, _external=True)
        return render_email(
            message.template,
            recipient=message.recipient,
            demarche=demarche,
            transition=transition,
            next_stage=next_stage(transition.to_stage),
            link=link,
        )


def send_notification(message: OutboxMessage) -> str:
    """The ``send`` callable of ``workflows.outbox.deliver``: returns the Message-ID."""
    subject, text, html = render_notification(message)
    return send(build_message(message.recipient.email, subject, text, html))
