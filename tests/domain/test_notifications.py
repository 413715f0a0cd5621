"""Outbox rows become French emails on a real SMTP server: once, retried, or recorded as failed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outgoing.notifications import send_notification
from workflows import outbox, retry
from workflows.clock import utcnow
from workflows.models import OutboxMessage, OutboxStatus
from workflows.transitions import transition


def deliver_due(as_of=None):
    """What the sweep does, at ``as_of``."""
    moment = as_of or utcnow()
    return outbox.deliver(
        db.session, outbox.due_ids(db.session, moment), send=send_notification, now=lambda: moment
    )


def test_submitting_emails_a_french_acknowledgement_with_a_link(make_demarche, people, smtp):
    d = make_demarche("submitted")
    assert deliver_due() == {"sent": 3, "retry": 0, "failed": 0, "skipped": 0}

    [receipt] = smtp.to(people.agent.email)
    assert receipt.subject == f"Accusé de réception de votre saisine « {d.title} »"
    assert f"http://dialogue.test/admin/demarche/details/?id={d.id}" in receipt.text
    assert "a bien reçu votre saisine" in receipt.text
    assert f'<a href="http://dialogue.test/admin/demarche/details/?id={d.id}">' in receipt.html
    [review] = smtp.to(people.mission.email)
    assert review.subject == f"Nouvelle saisine à examiner : « {d.title} »"
    [official] = smtp.to(people.elected.email)
    assert "passe à l’étape « Saisine déposée »" in official.subject
    sent = db.session.scalars(select(OutboxMessage)).all()
    assert {m.status for m in sent} == {OutboxStatus.SENT}
    assert all(m.message_id and m.message_id.startswith("<") for m in sent)


def test_delivering_twice_sends_once(make_demarche, smtp):
    make_demarche("submitted")
    ids = [m.id for m in db.session.scalars(select(OutboxMessage))]
    outbox.deliver(db.session, ids, send=send_notification)
    again = outbox.deliver(db.session, ids, send=send_notification)
    assert again["skipped"] == 3 and again["sent"] == 0
    assert len(smtp.received) == 3


def test_a_return_carries_the_missions_remarks_escaped_in_html(make_demarche, people, smtp):
    d = make_demarche("submitted")
    deliver_due()
    smtp.clear()
    transition(
        db.session,
        d.id,
        "returned",
        actor=people.mission,
        as_of=utcnow(),
        comment="Précisez le public <script>alert(1)</script> & le budget",
    )
    db.session.commit()
    deliver_due()
    [returned] = smtp.to(people.agent.email)
    assert returned.subject == f"Votre saisine « {d.title} » vous est renvoyée"
    assert "Précisez le public <script>alert(1)</script> & le budget" in returned.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; le budget" in returned.html
    assert "<script>" not in returned.html


def test_a_temporary_refusal_is_retried_later_and_sent_once(make_demarche, people, smtp):
    d = make_demarche("draft")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    smtp.replies = ["451 4.3.0 Try again later"]
    first = deliver_due()
    assert first["retry"] == 1 and first["sent"] == 2
    waiting = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.attempts == 1, OutboxMessage.status == "pending")
    )
    assert "451" in waiting.error
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}  # not due yet
    assert deliver_due(utcnow() + timedelta(minutes=2))["sent"] == 1
    assert len(smtp.received) == 3


def test_the_outbox_retries_as_the_mailings_do_then_gives_up(make_demarche, people):
    """One policy for both engines (``workflows.retry``): 1, 2, 4 … 32 minutes, then hourly,
    failed after the last of ``MAX_ATTEMPTS`` attempts."""
    make_demarche("submitted")
    [message_id] = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.recipient == people.agent)
    ).all()

    def busy(message):
        raise outbox.TemporaryDeliveryError("451 4.3.0 Try again later", code=451)

    moment, waits = utcnow(), []
    for attempt in range(1, retry.MAX_ATTEMPTS + 1):
        assert message_id in outbox.due_ids(db.session, moment)
        outbox.deliver(db.session, [message_id], send=busy, now=lambda at=moment: at)
        message = db.session.get(OutboxMessage, message_id)
        assert message.attempts == attempt
        if attempt < retry.MAX_ATTEMPTS:
            assert message.status == OutboxStatus.PENDING
            waits.append(message.next_attempt_at - moment)
            moment = message.next_attempt_at
    assert message.status == OutboxStatus.FAILED and "451" in message.error
    assert [w // timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    assert waits == [retry.backoff(n) for n in range(1, retry.MAX_ATTEMPTS)]


def test_a_permanent_refusal_is_recorded_and_not_retried(make_demarche, people, smtp):
    d = make_demarche("draft")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    smtp.replies = ["550 5.1.1 No such mailbox"]  # the first message: the agent's receipt
    report = deliver_due()
    assert report == {"sent": 2, "retry": 0, "failed": 1, "skipped": 0}
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert failed.recipient == people.agent and failed.error.startswith("550")
    assert deliver_due(utcnow() + timedelta(days=1)) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "skipped": 0,
    }


def test_a_message_claimed_by_a_dead_worker_is_sent_after_the_stale_delay(make_demarche, smtp):
    make_demarche("submitted")
    message = db.session.scalars(select(OutboxMessage)).first()
    assert outbox.claim(db.session, message.id, utcnow()) is not None  # then the worker died
    assert message.id not in outbox.due_ids(db.session, utcnow())
    later = utcnow() + outbox.STALE_CLAIM + timedelta(seconds=1)
    assert message.id in outbox.due_ids(db.session, later)
    deliver_due(later)
    assert len(smtp.received) == 3


def test_an_unreachable_smtp_server_is_a_temporary_failure(app, make_demarche, smtp):
    make_demarche("submitted")
    app.extensions["mail"].port = 1  # nothing listens there
    try:
        report = deliver_due()
    finally:
        app.extensions["mail"].port = smtp.port
    assert report["retry"] == 3
    assert deliver_due(utcnow() + timedelta(minutes=2))["sent"] == 3


def test_the_workers_get_the_ids_after_the_real_commit_not_at_a_savepoint(
    make_demarche, people, monkeypatch
):
    """A transition writes its deadlines in SAVEPOINTs; releasing one is no commit: the ids
    go to the workers once, when the transaction commits, and never for a rollback."""
    from backoffice import after_commit

    handed: list[list[int]] = []

    def publish(task, *args):
        if task == "workers.deliver_outbox":
            handed.extend(args)

    monkeypatch.setattr(after_commit, "publish", publish)
    d = make_demarche("draft")
    handed.clear()
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    assert handed == []  # the savepoints of the deadlines were released, nothing committed
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.demarche_id == d.id))
    assert handed == [sorted(rows)]

    ghost = make_demarche("draft")
    handed.clear()
    transition(db.session, ghost.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.rollback()
    make_demarche("draft")  # the next commit carries nothing of the rolled-back one
    assert handed == []
