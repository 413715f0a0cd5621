"""Mailings through real processes: a Celery worker on the configured broker (Redis in CI)
sends into an SMTP server running in its own process. A few hundred recipients get their
message once each; a worker killed with SIGKILL mid-mailing and restarted leaves every
recipient served exactly once but for the one message in flight (marked uncertain); a 451
then 250 delivers once; a 550 is recorded, not retried and suppressed; an unsubscribed
address receives nothing more."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests import factories
from tests.processes import Sink, wait_for
from tests.seed import address, seed_contributors
from workflows import mailings
from workflows.clock import utcnow
from workflows.events import register
from workflows.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingKind,
    MailingStatus,
    OutboxMessage,
    Suppression,
)

pytestmark = pytest.mark.worker


def contributors(make_demarche, count: int):
    d = make_demarche("consultation")
    seed_contributors(db.session, d, count, as_of=utcnow(), per_person=1, news=True)
    db.session.commit()
    return d


def send(people, d, **fields) -> int:
    """Write a newsletter to the contributors (who asked for news) and send it now: after
    commit, the worker starts it."""
    mailing = factories.mailing(
        people.mission,
        d,
        subject="Retour sur « {{ demarche.title }} »",
        body="Bonjour {{ name }},\n{% for c in contributions %}{{ c.text }}\n{% endfor %}",
        **fields,
    )
    mailings.schedule(db.session, people.mission, mailing, at=None, as_of=utcnow())
    db.session.commit()
    return mailing.id


def fresh(query):
    db.session.rollback()  # see what the worker committed
    return db.session.execute(query)


def citizens(inbox: Sink) -> list[dict]:
    """What the sink received for the citizens (not the staff's stage-change emails)."""
    return [r for r in inbox.records() if r["to"][0].endswith("@exemple.fr")]


def status(mailing_id: int) -> MailingStatus:
    return fresh(select(Mailing.status).where(Mailing.id == mailing_id)).scalar_one()


def deliveries(mailing_id: int) -> dict[str, Delivery]:
    rows = fresh(select(Delivery).where(Delivery.mailing_id == mailing_id)).scalars()
    return {row.address: row for row in rows}


def test_a_few_hundred_recipients_get_their_own_message_once(make_demarche, people, sink, workers):
    inbox = sink()
    worker = workers(inbox)
    d = contributors(make_demarche, 300)
    mailing_id = send(people, d)

    assert wait_for(lambda: status(mailing_id) == MailingStatus.SENT, 120), worker.log()
    received = citizens(inbox)
    per_address = Counter(r["to"][0] for r in received)
    assert len(per_address) == 300 and set(per_address.values()) == {1}
    rows = deliveries(mailing_id)
    assert {row.status for row in rows.values()} == {DeliveryStatus.SENT}
    by_id = {r["message_id"].strip(): r for r in received}
    for row in rows.values():  # each row records the Message-ID of what arrived
        assert by_id[row.message_id]["to"] == [row.address]
    one = next(r for r in received if r["to"] == [address(7)])
    assert one["text"].startswith("Bonjour Citoyen 7,")
    assert one["list_unsubscribe_post"] == "List-Unsubscribe=One-Click" and one["has_html"]


def test_a_worker_killed_mid_mailing_then_restarted_sends_each_message_once(
    app, make_demarche, people, sink, workers
):
    inbox = sink({"delay": 0.01})
    first = workers(inbox)
    d = contributors(make_demarche, 300)
    mailing_id = send(people, d)
    assert wait_for(lambda: len(citizens(inbox)) >= 60, 60), first.log()
    first.kill()  # SIGKILL: no acknowledgement, no cleanup, maybe a message half sent

    rows = deliveries(mailing_id)
    in_flight = [a for a, row in rows.items() if row.status == DeliveryStatus.SENDING]
    # One worker, one chunk: at most a batch in flight (MAILING_RECORD_BATCH, default 10).
    assert len(in_flight) <= mailings.RECORD_BATCH
    assert status(mailing_id) == MailingStatus.SENDING

    # The periodic sweep, once the dead worker's claims are stale: the messages in flight
    # become uncertain, the rest of its chunk goes back to the queue, chunks are handed out.
    report = mailings.sweep(db.session, as_of=utcnow() + mailings.STALE + timedelta(seconds=5))
    assert report.uncertain == len(in_flight)
    second = workers(inbox)
    for _ in range(mailings.chunks_wanted(db.session, mailing_id, 2, utcnow()) or 1):
        app.extensions["celery"].send_task("workers.deliver_mailing", args=[mailing_id])
    assert wait_for(lambda: status(mailing_id) == MailingStatus.SENT, 120), second.log()

    rows = deliveries(mailing_id)
    received = Counter(r["to"][0] for r in citizens(inbox))
    uncertain = [a for a, row in rows.items() if row.status == DeliveryStatus.UNCERTAIN]
    assert sorted(uncertain) == sorted(in_flight)
    for address_, row in rows.items():
        if row.status == DeliveryStatus.SENT:
            assert received[address_] == 1, address_
        else:
            assert row.status == DeliveryStatus.UNCERTAIN and received[address_] <= 1
    assert len(rows) == 300 and max(received.values()) == 1


def test_a_451_then_250_gets_the_message_once(app, make_demarche, people, sink, workers):
    inbox = sink({"defer_once": {address(2): "451 4.3.0 Mailbox busy, try later"}})
    worker = workers(inbox)
    d = contributors(make_demarche, 5)
    mailing_id = send(people, d)
    assert wait_for(lambda: len(citizens(inbox)) == 4, 60), worker.log()
    assert wait_for(lambda: deliveries(mailing_id)[address(2)].smtp_code == 451, 30)
    busy = deliveries(mailing_id)[address(2)]
    assert busy.status == DeliveryStatus.PENDING and busy.attempts == 1
    assert status(mailing_id) == MailingStatus.SENDING

    # The retry comes due after its backoff: what a worker does then, at that time.
    later = busy.next_attempt_at + timedelta(seconds=1)
    state = app.extensions["mail"]
    state.port, port = inbox.port, state.port
    try:
        mailings.deliver_chunk(
            db.session,
            mailing_id,
            mailer.smtp_opener,
            lambda m: mailer.composer(db.session, m),
            now=lambda: later,
        )
    finally:
        state.port = port
    assert [r["to"][0] for r in citizens(inbox)].count(address(2)) == 1
    assert deliveries(mailing_id)[address(2)].status == DeliveryStatus.SENT
    assert status(mailing_id) == MailingStatus.SENT


def test_a_550_is_recorded_not_retried_and_an_unsubscribed_address_gets_nothing(
    client, make_demarche, people, sink, workers
):
    gone = address(3)
    inbox = sink({"refuse": {gone: "550 5.1.1 <citoyen00003@exemple.fr>: no such user"}})
    worker = workers(inbox)
    d = contributors(make_demarche, 6)
    first = send(people, d)
    assert wait_for(lambda: status(first) == MailingStatus.SENT, 60), worker.log()
    refused = deliveries(first)[gone]
    assert refused.status == DeliveryStatus.REFUSED and refused.smtp_code == 550
    assert "no such user" in refused.error and refused.attempts == 1
    assert fresh(select(Suppression.reason).where(Suppression.address == gone)).scalar() == (
        "hard_bounce"
    )
    assert mailings.counts(db.session, first)["refused"] == 1

    # Someone unsubscribes with the one-click link of the message they received.
    leaving = next(r for r in citizens(inbox) if r["to"] == [address(5)])
    link = leaving["list_unsubscribe"].strip("<>").removeprefix("http://dialogue.test")
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 204

    second = send(people, d)
    assert wait_for(lambda: status(second) == MailingStatus.SENT, 60), worker.log()
    received = Counter(r["to"][0] for r in citizens(inbox))
    assert received[gone] == 0 and received[address(5)] == 1  # the first mailing's only
    assert received[address(1)] == 2
    rows = deliveries(second)
    assert rows[gone].skip_reason == "suppressed"
    assert rows[address(5)].skip_reason == "unsubscribed"


def test_a_pathological_template_does_not_hold_up_a_registration_email(
    app, make_demarche, people, sink, workers
):
    """One worker process (prefork, as in production). A mailing written before templates had
    a budget runs endlessly for each of its 40 recipients: each render stops at its budget
    (0.1 s of CPU here) and that recipient is recorded failed, and a chunk that has rendered
    for four budgets hands the mailing on to the back of the queue — so a registration made
    meanwhile gets its confirmation before the mailing is through, not behind it."""
    inbox = sink()
    worker = workers(inbox, pool="prefork", MAILING_RENDER_SECONDS="0.1", MAILING_CHUNK="100")
    d = contributors(make_demarche, 40)
    now = utcnow()
    event = factories.event(
        d,
        people.mission,
        starts_at=now + timedelta(days=10),
        lasts=timedelta(hours=2),
        title="Atelier mobilités",
        place="Muret",
        as_of=now,
    )
    mailing = Mailing(
        kind=MailingKind.NEWSLETTER,
        audience=Audience.CONTRIBUTORS,
        demarche_id=d.id,
        subject="Nouvelles",
        body="{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        status=MailingStatus.DRAFT,
        created_by=people.mission,
        created_at=now,
        updated_at=now,
    )
    db.session.add(mailing)
    db.session.flush()
    mailings.schedule(db.session, people.mission, mailing, at=None, as_of=now)
    db.session.commit()
    mailing_id = mailing.id

    def failed() -> int:
        db.session.rollback()
        return mailings.counts(db.session, mailing_id)["failed"]

    assert wait_for(lambda: failed() >= 1, 60), worker.log()  # the worker is in the mailing
    register(
        db.session,
        event.id,
        factories.participant("inscrite@exemple.fr", as_of=now),
        as_of=utcnow(),
    )
    db.session.commit()  # after commit: the confirmation is handed to the worker
    assert wait_for(lambda: any(r["to"] == ["inscrite@exemple.fr"] for r in inbox.records()), 60)
    assert wait_for(lambda: status(mailing_id) == MailingStatus.SENT, 180), worker.log()

    confirmation = fresh(
        select(OutboxMessage.sent_at).where(OutboxMessage.key.startswith("registration:"))
    ).scalar_one()
    finished = fresh(select(Mailing.finished_at).where(Mailing.id == mailing_id)).scalar_one()
    assert confirmation < finished  # not behind the mailing
    rows = deliveries(mailing_id)
    assert len(rows) == 40 and {r.status for r in rows.values()} == {DeliveryStatus.FAILED}
    assert {r.attempts for r in rows.values()} == {1}  # recorded once, not retried
    assert {r.error for r in rows.values()} == {
        "le modèle met plus de 100 ms à s’écrire pour ce·tte destinataire"
    }
    assert [r["to"] for r in citizens(inbox)] == [["inscrite@exemple.fr"]]
