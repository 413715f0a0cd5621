"""Mailings in one process against a real SMTP server: audiences and consents, templates,
the delivery engine's records (sent once, retried, refused, suppressed, uncertain after a
crash), cancellation, unsubscription, the feedback of a démarche and the event reminders."""

from __future__ import annotations

import smtplib
import uuid
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice import tokens
from backoffice.extensions import db
from backoffice.outgoing import mail, mailer
from tests import factories
from tests.seed import address, seed_contributors
from tests.support import at, csrf_token, login, publish_synthesis
from workflows import after_commit, mailings
from workflows.clock import utcnow
from workflows.decisions import decide
from workflows.errors import Conflict, InvalidFields, PermissionDenied, TransitionRefused
from workflows.events import cancel_registration, create_event, register, update_event
from workflows.items import add_item
from workflows.models import (
    AuditEntry,
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingStatus,
    Participant,
    Suppression,
)
from workflows.outbox import TemporaryDeliveryError
from workflows.participants import set_consents
from workflows.transitions import transition


def new_mailing(people, d, **fields) -> Mailing:
    mailing = factories.mailing(people.mission, d, **fields)
    db.session.commit()
    return mailing


def start(mailing, people, as_of=None) -> None:
    moment = as_of or utcnow()
    mailings.schedule(db.session, people.mission, mailing, at=None, as_of=moment)
    db.session.commit()
    mailings.start(db.session, mailing.id, as_of=moment)


def deliver(
    app, mailing_id, *, as_of=None, opener=mailer.smtp_opener, size=50, batch=mailings.RECORD_BATCH
):
    """What the workers do, in this process: chunks until none is due at ``as_of``."""
    moment = as_of or utcnow()
    reports = []
    while True:
        report, more = mailings.deliver_chunk(
            db.session,
            mailing_id,
            opener,
            lambda m: mailer.composer(db.session, m),
            size=size,
            now=lambda: moment,
            batch=batch,
        )
        reports.append(report)
        if not more:
            return reports


def rows(mailing_id) -> dict[str, Delivery]:
    db.session.expire_all()
    return {
        d.address: d
        for d in db.session.scalars(select(Delivery).where(Delivery.mailing_id == mailing_id))
    }


@pytest.fixture
def consulted(make_demarche, people):
    """A démarche in consultation with two items and a few contributors."""
    d = make_demarche("consultation")
    add_item(db.session, people.mission, d, title="Engagement n°2", as_of=utcnow())
    db.session.commit()
    seed_contributors(db.session, d, 5, as_of=utcnow(), news=True)
    db.session.commit()
    return d


def test_contributors_without_consent_or_suppressed_are_skipped_and_counted(
    app, consulted, people, smtp
):
    quiet = db.session.scalar(select(Participant).where(Participant.email == address(2)))
    quiet.consent_territory_news = False
    mailings.suppress(db.session, address(3), "all", "hard_bounce", utcnow())
    db.session.commit()
    mailing = new_mailing(people, consulted, subject="Nouvelles", body="{{ name }}")
    start(mailing, people)
    deliver(app, mailing.id)

    counts = mailings.counts(db.session, mailing.id)
    assert counts["sent"] == 3 and counts["skipped"] == 2 and counts["to_send"] == 0
    assert mailings.skip_reasons(db.session, mailing.id) == {"no_consent": 1, "suppressed": 1}
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [address(1), address(4), address(5)]
    db.session.refresh(mailing)
    assert mailing.status == MailingStatus.SENT


def test_each_message_is_personal_with_both_parts_and_the_unsubscription_headers(
    app, consulted, people, smtp
):
    body = (
        "Bonjour {{ name }},\n{% for c in contributions %}- {{ c.item }} : {{ c.text }}\n"
        "{% endfor %}<b>gras</b>"
    )
    mailing = new_mailing(people, consulted, subject="Pour {{ name }}", body=body)
    start(mailing, people)
    deliver(app, mailing.id)

    first = smtp.to(address(1))[0]
    assert first.subject == "Pour Citoyen 1"
    assert "Bonjour Citoyen 1" in first.text and "Engagement n°1 : " in first.text
    assert "Citoyen 2" not in first.text
    # One source for both parts: the HTML is the text, escaped.
    assert "&lt;b&gt;gras&lt;/b&gt;" in first.html and "<b>gras</b>" not in first.html
    unsubscribe = first.message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://dialogue.test/desabonnement/")
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = rows(mailing.id)[address(1)]
    assert sent.message_id == first.message["Message-ID"].strip()
    assert sent.subject == "Pour Citoyen 1"


def test_messages_to_staff_carry_no_unsubscription(app, make_demarche, people, smtp):
    d = make_demarche("launch")
    mailing = new_mailing(people, d, kind="departments", audience="department_agents")
    start(mailing, people)
    deliver(app, mailing.id)
    assert [r.rcpt_tos[0] for r in smtp.received] == [people.agent.email]
    assert smtp.received[0].message["List-Unsubscribe"] is None
    official = new_mailing(people, d, kind="officials", audience="elected")
    start(official, people)
    deliver(app, official.id)
    assert smtp.to(people.elected.email)


def test_territory_news_go_only_to_those_who_asked_in_the_territory(
    app, make_demarche, people, smtp
):
    d = make_demarche("launch", territory="Muret")
    now = utcnow()
    near = factories.participant("voisine@exemple.fr", as_of=now)
    set_consents(db.session, near, feedback=True, territory_news=True, commune="Muret", as_of=now)
    far = factories.participant("loin@exemple.fr", as_of=now)
    set_consents(db.session, far, feedback=True, territory_news=True, commune="Revel", as_of=now)
    silent = factories.participant("discret@exemple.fr", as_of=now)
    set_consents(
        db.session, silent, feedback=True, territory_news=False, commune="Muret", as_of=now
    )
    db.session.commit()
    mailing = new_mailing(people, d, kind="invitation", audience="territory_subscribers")
    assert [r.address for r in mailings.recipients(db.session, mailing)] == ["voisine@exemple.fr"]


def test_a_mailing_is_checked_when_written(people, make_demarche):
    d = make_demarche("launch")
    with pytest.raises(InvalidFields) as refused:
        new_mailing(people, d, kind="officials", audience="contributors")
    assert "audience" in refused.value.errors
    with pytest.raises(InvalidFields) as refused:
        new_mailing(people, d, body="Bonjour {{ nom }}")
    assert "nom" in str(refused.value.errors["body"])
    with pytest.raises(InvalidFields) as refused:
        new_mailing(people, d, subject="{% for %}")
    assert "subject" in refused.value.errors
    with pytest.raises(InvalidFields):  # the sandbox refuses Python's insides
        new_mailing(people, d, body="{{ name.__class__.__mro__ }}")
    with pytest.raises(PermissionDenied):
        factories.mailing(people.agent, d)


def test_starting_and_delivering_twice_sends_nothing_twice(app, consulted, people, smtp):
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    assert mailings.start(db.session, mailing.id, as_of=utcnow()) == 0  # rows exist already
    deliver(app, mailing.id)
    deliver(app, mailing.id)
    assert len(smtp.received) == 5
    assert db.session.scalar(select(func.count(Delivery.id))) == 5


def test_a_temporary_failure_is_retried_later_and_sent_once(app, consulted, people, smtp):
    smtp.replies.append("451 4.3.0 Mailbox busy, try again")
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)
    deliver(app, mailing.id, as_of=now)
    busy = rows(mailing.id)[address(1)]
    assert busy.status == DeliveryStatus.PENDING and busy.smtp_code == 451
    assert busy.next_attempt_at > now and len(smtp.received) == 4
    assert mailings.counts(db.session, mailing.id)["to_send"] == 1

    deliver(app, mailing.id, as_of=now + timedelta(minutes=1))  # the backoff is over
    assert len(smtp.to(address(1))) == 1 and rows(mailing.id)[address(1)].attempts == 2
    db.session.refresh(mailing)
    assert mailing.status == MailingStatus.SENT


def test_temporary_failures_give_up_after_the_last_attempt(app, consulted, people, smtp):
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)

    class Busy:
        def send(self, letter):
            raise TemporaryDeliveryError("451 busy", code=451)

    class Opener:
        def __enter__(self):
            return Busy()

        def __exit__(self, *exc):
            return False

    moment = now
    for _ in range(mailings.MAX_ATTEMPTS):
        deliver(app, mailing.id, as_of=moment, opener=Opener)
        moment += timedelta(hours=1)
    counts = mailings.counts(db.session, mailing.id)
    assert counts["failed"] == 5 and counts["to_send"] == 0 and not smtp.received


def test_a_hard_bounce_is_refused_not_retried_and_suppressed(app, consulted, people, smtp):
    smtp.rcpt_replies.append("550 5.1.1 No such user")
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    deliver(app, mailing.id)
    bounced = rows(mailing.id)[address(1)]
    assert bounced.status == DeliveryStatus.REFUSED and bounced.smtp_code == 550
    assert "No such user" in bounced.error
    deliver(app, mailing.id, as_of=utcnow() + timedelta(hours=3))
    assert not smtp.to(address(1)) and len(smtp.received) == 4

    later = new_mailing(people, consulted)
    start(later, people)
    assert rows(later.id)[address(1)].skip_reason == "suppressed"


@pytest.mark.parametrize(
    ("stage", "answer"),
    [
        ("rcpt", "550 5.7.1 Message refused by policy"),  # the relay's policy, not the mailbox
        ("data", "550 5.6.0 Content refused"),  # the message, not the address
    ],
)
def test_a_refusal_that_is_not_about_the_mailbox_suppresses_nobody(
    app, consulted, people, smtp, stage, answer
):
    (smtp.rcpt_replies if stage == "rcpt" else smtp.replies).append(answer)
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    deliver(app, mailing.id)
    assert rows(mailing.id)[address(1)].status == DeliveryStatus.REFUSED
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


def test_a_refused_sender_is_the_relays_problem_retried_not_a_bounce(app, ctx):
    class Refusing:  # a relay misconfigured for our sender address
        def sendmail(self, *args):
            raise smtplib.SMTPSenderRefused(553, b"5.7.1 Sender address rejected", "x")

    class Connection:
        host = Refusing()

    message = mail.build_message(address(1), "Objet", "Texte", "<p>Texte</p>")
    with pytest.raises(TemporaryDeliveryError) as raised:
        mail.send(message, Connection())
    assert raised.value.code == 553 and not raised.value.mailbox_unknown
    assert mail._refusal(550, "5.1.1 unknown", at_recipient=True).mailbox_unknown
    assert not mail._refusal(550, "5.1.1 unknown").mailbox_unknown  # at DATA: not the mailbox


@pytest.mark.parametrize("batch", [1, 3])
def test_a_worker_dying_mid_chunk_leaves_at_most_a_batch_uncertain_never_sent_again(
    app, consulted, people, smtp, batch
):
    """Rows are marked in flight ``batch`` at a time (MAILING_RECORD_BATCH), the outcomes of
    those before them written in the same transaction: a worker dying while sending the third
    of five leaves the rows of its batch in flight — the two sent whose outcomes were not yet
    written among them, with batch 3 — and the sweep calls them uncertain: never sent again.
    The others go out, once each."""
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)

    class Crash(BaseException):
        """Stands for SIGKILL: nothing after it runs (the real kill is in test_mailing_faults)."""

    class DiesAtThird:
        sent = 0

        def send(self, letter):
            if DiesAtThird.sent == 2:
                raise Crash
            DiesAtThird.sent += 1
            return f"<m{DiesAtThird.sent}@test>"

    class Opener:
        def __enter__(self):
            return DiesAtThird()

        def __exit__(self, *exc):
            return False

    with pytest.raises(Crash):
        deliver(app, mailing.id, as_of=now, opener=Opener, batch=batch)
    db.session.rollback()
    statuses = sorted(d.status.value for d in rows(mailing.id).values())
    written = 2 if batch == 1 else 0  # the outcomes of the two sent before the crash
    assert statuses == ["claimed"] * 2 + ["sending"] * (3 - written) + ["sent"] * written

    report = mailings.sweep(db.session, as_of=now + mailings.STALE + timedelta(seconds=1))
    assert report.uncertain == min(batch, 3) and report.released == 2
    assert report.to_send == [mailing.id]
    deliver(app, mailing.id, as_of=now + timedelta(minutes=10), batch=batch)
    final = rows(mailing.id)
    uncertain = {a for a, d in final.items() if d.status == DeliveryStatus.UNCERTAIN}
    assert len(uncertain) == batch  # at most a batch uncertain
    assert sorted(d.status.value for d in final.values()) == (
        ["sent"] * (5 - batch) + ["uncertain"] * batch
    )
    assert not any(smtp.to(a) for a in uncertain)  # never sent again (the sink of the test
    assert len(smtp.received) == 2  # saw none of the crashed sends): the two others, once
    counts = mailings.counts(db.session, mailing.id)
    assert counts == {**counts, "sent": 5 - batch, "uncertain": batch, "to_send": 0}


def test_an_unreachable_relay_gives_the_chunk_back(app, consulted, people, smtp):
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)
    state = app.extensions["mail"]
    state.port, port = 1, state.port  # nothing listens there: connection refused
    try:
        reports = deliver(app, mailing.id, as_of=now)
    finally:
        state.port = port
    assert reports[0].unreachable and reports[0].sent == 0
    waiting = rows(mailing.id).values()
    assert {d.status for d in waiting} == {DeliveryStatus.PENDING}
    assert all(d.attempts == 1 and "relay unreachable" in d.error for d in waiting)
    assert all(d.next_attempt_at > now for d in waiting)
    deliver(app, mailing.id, as_of=now + timedelta(minutes=2))
    assert len(smtp.received) == 5


def test_cancel_stops_what_has_not_gone(app, consulted, people, smtp):
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    deliver(app, mailing.id, size=2)  # stands for a worker that sent one chunk so far …
    smtp.clear()
    # … rewind: a fresh mailing, one chunk sent, then cancelled.
    second = new_mailing(people, consulted)
    start(second, people)
    mailings.deliver_chunk(
        db.session,
        second.id,
        mailer.smtp_opener,
        lambda m: mailer.composer(db.session, m),
        size=2,
    )
    assert len(smtp.received) == 2
    assert mailings.cancel(db.session, people.mission, second, as_of=utcnow()) == 3
    db.session.commit()
    deliver(app, second.id)
    assert len(smtp.received) == 2
    assert second.status == MailingStatus.CANCELLED
    assert mailings.counts(db.session, second.id)["cancelled"] == 3
    with pytest.raises(Conflict):
        mailings.cancel(db.session, people.mission, second, as_of=utcnow())


def test_a_scheduled_mailing_starts_when_due(app, consulted, people):
    mailing = new_mailing(people, consulted)
    now = utcnow()
    mailings.schedule(db.session, people.mission, mailing, at=now + timedelta(hours=2), as_of=now)
    db.session.commit()
    assert mailings.sweep(db.session, as_of=now + timedelta(hours=1)).started == []
    report = mailings.sweep(db.session, as_of=now + timedelta(hours=2))
    assert report.started == [mailing.id] and report.to_send == [mailing.id]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert ["mailing.create", "mailing.schedule", "mailing.start"] == [
        a for a in actions if a.startswith("mailing.")
    ]


def test_the_rate_spaces_the_messages(app, consulted, people):
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    waits = []

    class Quick:
        def send(self, letter):
            return "<x@test>"

    class Opener:
        def __enter__(self):
            return Quick()

        def __exit__(self, *exc):
            return False

    token = mailings.claim(db.session, mailing.id, as_of=utcnow())
    composer = mailer.composer(db.session, db.session.get(Mailing, mailing.id))
    mailings.send_chunk(
        db.session, token, Opener, composer, throttle=mailings.Spacer(4, waits.append)
    )
    # The clock does not move in a fake sleep: each message waits one more quarter second.
    assert len(waits) == 4
    assert [round(w * 4) for w in waits] == [1, 2, 3, 4]


# -- unsubscription ---------------------------------------------------------------------------


def test_one_click_unsubscription_is_idempotent_and_needs_no_login(
    app, client, consulted, people, smtp
):
    mailing = new_mailing(people, consulted)
    start(mailing, people)
    deliver(app, mailing.id)
    link = smtp.to(address(1))[0].message["List-Unsubscribe"].strip("<>")
    assert "citoyen" not in URLSafeSerializer("x").loads_unsafe(link.rsplit("/", 1)[1])[1]
    path = link.removeprefix("http://dialogue.test")

    page = client.get(path)
    assert page.status_code == 200 and "c•••" in page.text and "@exemple.fr" in page.text
    assert address(1) not in page.text
    assert db.session.scalar(select(func.count(Suppression.id))) == 0  # GET changes nothing
    for _ in range(2):
        one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 204
    assert db.session.scalar(select(func.count(Suppression.id))) == 1
    person = db.session.scalar(select(Participant).where(Participant.email == address(1)))
    db.session.refresh(person)
    assert person.consent_territory_news is False

    smtp.clear()
    again = new_mailing(people, consulted)
    start(again, people)
    deliver(app, again.id)
    assert not smtp.to(address(1)) and len(smtp.received) == 4
    assert rows(again.id)[address(1)].skip_reason == "unsubscribed"
    # Other kinds of mail (the feedback the person still wants) still reach them.
    feedback = mailings.recipients(db.session, new_mailing(people, consulted, kind="feedback"))
    assert address(1) in [r.address for r in feedback if not r.skip]


def test_an_unsubscription_reaches_a_chunk_already_claimed(app, consulted, people, smtp):
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)
    token = mailings.claim(db.session, mailing.id, as_of=now)
    mailings.unsubscribe(db.session, address(2), "news", as_of=now)
    db.session.commit()
    composer = mailer.composer(db.session, db.session.get(Mailing, mailing.id))
    mailings.send_chunk(db.session, token, mailer.smtp_opener, composer)
    assert not smtp.to(address(2)) and len(smtp.received) == 4
    assert rows(mailing.id)[address(2)].skip_reason == "unsubscribed"


def test_a_forged_unsubscription_link_is_refused(client, ctx):
    assert client.get("/desabonnement/not-a-token").status_code == 404
    forged = URLSafeSerializer("other-secret", salt=tokens.UNSUBSCRIBE).dumps(
        {"p": 1, "s": "feedback"}
    )
    assert client.post(f"/desabonnement/{forged}").status_code == 404
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


def test_the_page_button_unsubscribes_and_consent_in_the_espace_lifts_it(
    app, client, citizen, make_demarche, people
):
    person = db.session.scalar(select(Participant).where(Participant.user_id == citizen.id))
    token = tokens.unsubscribe_token(person.id, "feedback")
    test_token = tokens.unsubscribe_token(None, "feedback")
    test_link = client.post(f"/desabonnement/{test_token}")
    assert "ne désabonne personne" in test_link.text
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    done = client.post(f"/desabonnement/{token}")
    assert done.status_code == 200 and "ne recevra plus" in done.text
    assert db.session.scalar(select(func.count(Suppression.id))) == 1
    login(client, citizen)
    client.post(
        "/espace/consentements",
        data={"consent_feedback": "y", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


# -- the feedback of a démarche -----------------------------------------------------------------


def synthesis_ready(d, people):
    publish_synthesis(d, people.mission)


def test_entering_feedback_needs_a_justified_decision_on_every_item(consulted, people):
    transition(
        db.session, consulted.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Fin"
    )
    synthesis_ready(consulted, people)
    first, second = consulted.items
    decide(
        db.session, people.agent, first, outcome="retained", justification="Oui.", as_of=utcnow()
    )
    with pytest.raises(TransitionRefused) as refused:
        transition(db.session, consulted.id, "feedback", actor=people.mission, as_of=utcnow())
    assert [str(m) for m in refused.value.messages] == [
        "the department's decision on “Engagement n°2” is missing"
    ]
    with pytest.raises(InvalidFields) as refused:
        decide(db.session, people.agent, second, outcome="maybe", justification=" ", as_of=utcnow())
    assert set(refused.value.errors) == {"outcome", "justification"}
    with pytest.raises(PermissionDenied):
        decide(
            db.session,
            people.other_agent,
            second,
            outcome="retained",
            justification="x",
            as_of=utcnow(),
        )


def test_the_feedback_tells_each_participant_what_became_of_their_contributions(
    app, consulted, people, smtp
):
    now = utcnow()
    transition(
        db.session, consulted.id, "synthesis", actor=people.mission, as_of=now, comment="Fin"
    )
    synthesis_ready(consulted, people)
    first, second = consulted.items
    decide(
        db.session,
        people.agent,
        first,
        outcome="retained",
        justification="Nous le ferons.",
        as_of=now,
    )
    decide(
        db.session,
        people.agent,
        second,
        outcome="not_retained",
        justification="Trop coûteux.",
        as_of=now,
    )
    quiet = db.session.scalar(select(Participant).where(Participant.email == address(5)))
    quiet.consent_feedback = False
    db.session.commit()
    transition(db.session, consulted.id, "feedback", actor=people.mission, as_of=now)
    to_start = [
        mailing_id
        for job in after_commit.pending(db.session)
        if job.task == after_commit.START_MAILING
        for mailing_id in job.args
    ]
    db.session.commit()
    with pytest.raises(TransitionRefused) as refused:  # not closed before the feedback went out
        transition(db.session, consulted.id, "closed", actor=people.mission, as_of=now)
    assert "feedback" in str(refused.value.messages[0])

    mailing = db.session.get(Mailing, to_start[0])
    assert mailing.kind.value == "feedback" and mailing.created_by is None
    mailings.start(db.session, mailing.id, as_of=now)
    deliver(app, mailing.id)
    assert len(smtp.received) == 4  # the fifth kept no consent
    message = smtp.to(address(1))[0]
    assert message.subject == f"Ce que votre participation à « {consulted.title} » a permis"
    text = message.text.replace("\r\n", "\n")
    assert "Bonjour Citoyen 1," in text
    assert "Engagement n°1 : Retenu.\nNous le ferons." in text
    assert "Engagement n°2 : Non retenu.\nTrop coûteux." in text
    mine = db.session.scalars(select(Participant).where(Participant.email == address(1))).one()
    own = [c for c in consulted_contributions(consulted) if c.participant_id == mine.id]
    assert len(own) == 2
    for contribution in own:
        block = f"sur « {contribution.item.title} » :\n« {contribution.body[:60]}"
        assert block in text
        decided = "Retenu. Nous le ferons." if contribution.item_id == first.id else "Non retenu."
        assert text[text.index(block) :].split("Décision : ", 1)[1].startswith(decided)
    assert f"http://dialogue.test/demarches/{consulted.slug}#synthese" in text
    transition(db.session, consulted.id, "closed", actor=people.mission, as_of=utcnow())


def consulted_contributions(d):
    from workflows.models import Contribution

    return db.session.scalars(select(Contribution).where(Contribution.demarche_id == d.id)).all()


def test_a_feedback_prepared_by_the_mission_is_the_one_sent(consulted, people):
    transition(
        db.session, consulted.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Fin"
    )
    synthesis_ready(consulted, people)
    for item in consulted.items:
        decide(
            db.session,
            people.agent,
            item,
            outcome="under_study",
            justification="À l'étude.",
            as_of=utcnow(),
        )
    prepared = new_mailing(people, consulted, kind="feedback", subject="Merci {{ name }}")
    transition(db.session, consulted.id, "feedback", actor=people.mission, as_of=utcnow())
    db.session.commit()
    feedbacks = db.session.scalars(select(Mailing).where(Mailing.kind == "feedback")).all()
    assert [m.id for m in feedbacks] == [prepared.id]
    assert feedbacks[0].status == MailingStatus.SCHEDULED


# -- reminders ------------------------------------------------------------------------------------


def test_registrants_are_reminded_two_days_before_once_and_not_after_cancelling_or_a_move(
    app, make_demarche, people, smtp
):
    d = make_demarche("consultation")
    now = utcnow()
    starts = now + timedelta(days=5)
    event = factories.event(
        d,
        people.mission,
        starts_at=starts,
        lasts=timedelta(hours=2),
        title="Atelier mobilités",
        place="Salle des fêtes, Muret",
        as_of=now,
    )
    regs = {}
    for name in ("anne", "bruno", "chloe"):
        person = factories.participant(f"{name}@exemple.fr", as_of=now)
        regs[name] = register(db.session, event.id, person, as_of=now)
    db.session.commit()

    assert mailings.schedule_reminders(db.session, as_of=starts - timedelta(days=3)) == []
    two_days = starts - timedelta(days=2)
    made = mailings.schedule_reminders(db.session, as_of=two_days)
    assert len(made) == 1
    assert mailings.schedule_reminders(db.session, as_of=two_days + timedelta(hours=1)) == []
    mailings.start(db.session, made[0], as_of=two_days)
    cancel_registration(db.session, regs["bruno"], as_of=two_days, force=True)
    db.session.commit()
    deliver(app, made[0], as_of=two_days)
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["anne@exemple.fr", "chloe@exemple.fr"]
    reminder = smtp.to("anne@exemple.fr")[-1]
    assert reminder.subject.startswith("Rappel : Atelier mobilités, le ")
    assert "Salle des fêtes, Muret" in reminder.text
    assert rows(made[0])["bruno@exemple.fr"].skip_reason == "registration_cancelled"

    # The event moves: the old date's reminder is void, the new date gets its own.
    later = starts + timedelta(days=7)
    update_event(
        db.session,
        people.mission,
        event.id,
        {
            "kind": "workshop",
            "title": "Atelier mobilités",
            "place": "Salle des fêtes, Muret",
            "starts_at": later,
            "ends_at": later + timedelta(hours=2),
            "capacity": 30,
        },
        as_of=two_days,
    )
    db.session.commit()
    assert mailings.schedule_reminders(db.session, as_of=two_days) == []
    moved = mailings.schedule_reminders(db.session, as_of=later - timedelta(days=2))
    assert len(moved) == 1 and moved != made


def test_the_reminder_delay_is_the_charter_rule_of_the_demarche(app, make_demarche, people):
    """A charter version reminding four days before applies to the démarches it governs."""
    from workflows import charter

    draft = charter.new_draft(db.session, people.mission, as_of=utcnow())
    rule = draft.rule("remind_registrants")
    values = {column: getattr(rule, column) for column in charter.RULE_COLUMNS}
    charter.update_rule(db.session, people.mission, rule, {**values, "duration": 4}, as_of=utcnow())
    charter.publish(db.session, people.mission, draft, as_of=utcnow())
    db.session.commit()
    d = make_demarche("consultation")
    assert d.charter_version_id == draft.id
    now = utcnow()
    starts = now + timedelta(days=10)
    factories.event(
        d,
        people.mission,
        starts_at=starts,
        lasts=timedelta(hours=2),
        title="Atelier du Comminges",
        place="Saint-Gaudens",
        as_of=now,
    )
    db.session.commit()
    assert mailings.schedule_reminders(db.session, as_of=starts - timedelta(days=5)) == []
    assert len(mailings.schedule_reminders(db.session, as_of=starts - timedelta(days=4))) == 1


def test_a_reminder_started_before_a_move_sends_nothing_for_the_old_date(
    app, make_demarche, people, smtp
):
    d = make_demarche("consultation")
    now = utcnow()
    starts = now + timedelta(days=1)
    fields = {
        "kind": "meeting",
        "title": "Rencontre territoriale",
        "place": "Mairie de Revel",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "capacity": 10,
    }
    event = create_event(db.session, people.mission, d, fields, as_of=now)
    register(
        db.session,
        event.id,
        factories.participant("a@exemple.fr", as_of=now),
        as_of=now,
    )
    db.session.commit()
    [made] = mailings.schedule_reminders(db.session, as_of=now)
    mailings.start(db.session, made, as_of=now)
    moved = starts + timedelta(days=10)
    update_event(
        db.session,
        people.mission,
        event.id,
        {**fields, "starts_at": moved, "ends_at": moved + timedelta(hours=1)},
        as_of=now,
    )
    db.session.commit()
    deliver(app, made, as_of=now)
    assert not smtp.received
    assert rows(made)["a@exemple.fr"].skip_reason == "event_moved"


def test_erasing_an_account_forgets_its_address_in_the_deliveries(
    app, citizen, consulted, people, smtp
):
    from workflows.erasure import erase_account

    person = db.session.scalar(select(Participant).where(Participant.user_id == citizen.id))
    mailings.suppress(db.session, citizen.email, "news", "unsubscribed", utcnow())
    mailing = new_mailing(people, consulted, kind="newsletter", audience="contributors")
    db.session.add(
        Delivery(
            mailing_id=mailing.id,
            address=citizen.email,
            participant_id=person.id,
            next_attempt_at=utcnow(),
        )
    )
    db.session.commit()
    erase_account(db.session, citizen, as_of=utcnow())
    db.session.commit()
    delivery = db.session.scalars(select(Delivery)).one()
    assert delivery.address.startswith("erased-") and delivery.skip_reason == "erased"
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


def test_a_sweep_leaves_fresh_claims_alone(consulted, people):
    mailing = new_mailing(people, consulted)
    now = utcnow()
    start(mailing, people, as_of=now)
    assert mailings.claim(db.session, mailing.id, as_of=now)
    # Just short of STALE (30 s): a running chunk renews its claim every 5 s (HEARTBEAT).
    report = mailings.sweep(db.session, as_of=now + mailings.STALE - timedelta(seconds=1))
    assert report.released == 0 and report.uncertain == 0


def test_a_slow_chunk_renews_its_claim_and_is_never_taken_for_a_dead_workers(
    app, make_demarche, people
):
    """Each message takes 20 s (a slow relay): the chunk outlives STALE many times over, but
    renews its claim as it goes, so a sweep run during each send takes nothing from it."""
    d = make_demarche("consultation")
    seed_contributors(db.session, d, 20, as_of=utcnow(), news=True)
    db.session.commit()
    mailing = new_mailing(people, d)
    clock = [utcnow()]
    start(mailing, people, as_of=clock[0])
    sweeps = []

    class Slow:
        def send(self, letter):
            clock[0] += timedelta(seconds=20)
            with Session(db.engine) as other:  # the beat's sweep, meanwhile
                report = mailings.sweep(other, as_of=clock[0])
                sweeps.append((report.released, report.uncertain))
            return f"<{uuid.uuid4().hex}@test>"

    class Opener:
        def __enter__(self):
            return Slow()

        def __exit__(self, *exc):
            return False

    report, _ = mailings.deliver_chunk(
        db.session,
        mailing.id,
        Opener,
        lambda m: mailer.composer(db.session, m),
        now=lambda: clock[0],
    )
    assert report.sent == 20 and clock[0] - mailing.started_at > 10 * mailings.STALE
    assert sweeps == [(0, 0)] * 20
    assert {row.status for row in rows(mailing.id).values()} == {DeliveryStatus.SENT}


class _SlowRelay:
    """A relay taking ``step`` of the fake clock for each message."""

    def __init__(self, clock: list, step: timedelta) -> None:
        self.clock, self.step = clock, step

    def send(self, letter):
        self.clock[0] += self.step
        return f"<{uuid.uuid4().hex}@test>"

    def __call__(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _started(make_demarche, people, recipients: int) -> tuple[Mailing, list]:
    """A news mailing to ``recipients`` contributors, started; the fake clock it started at."""
    d = make_demarche("consultation")
    seed_contributors(db.session, d, recipients, as_of=utcnow(), news=True)
    db.session.commit()
    mailing = new_mailing(people, d)
    clock = [utcnow()]
    start(mailing, people, as_of=clock[0])
    return mailing, clock


def test_a_chunk_that_sends_too_long_hands_the_mailing_on(app, make_demarche, people):
    """At a slow relay's rate (15 s a message), a chunk stops once CHUNK_TIME has passed
    since its task began, before a worker's soft time limit would cut a message in flight:
    the rows not tried go back to send, their attempts not counted, and the mailing is handed
    on."""
    mailing, clock = _started(make_demarche, people, 40)
    report, more = mailings.deliver_chunk(
        db.session,
        mailing.id,
        _SlowRelay(clock, timedelta(seconds=15)),
        lambda m: mailer.composer(db.session, m),
        now=lambda: clock[0],
    )
    sent = int(mailings.CHUNK_TIME / timedelta(seconds=15))  # 450 s: none after the 30th
    assert report.yielded and more and report.sent == sent == 30
    final = rows(mailing.id).values()
    assert sum(row.status == DeliveryStatus.SENT for row in final) == sent
    waiting = [row for row in final if row.status == DeliveryStatus.PENDING]
    assert len(waiting) == 40 - sent and {row.attempts for row in waiting} == {0}
    assert not any(row.chunk for row in waiting)


@pytest.mark.parametrize(
    ("recipients", "parallel", "claimed"),
    [(300, 4, 100), (300, 1, 300), (800, 4, 200), (1_000, 2, 500), (120, 4, 100)],
)
def test_a_small_mailing_shares_its_rows_among_its_parallel_chunks(
    app, make_demarche, people, recipients, parallel, claimed
):
    """Chunks of 500 (CHUNK), but a mailing of 800 still goes over four connections: its
    chunks share its rows, never fewer than MIN_CHUNK each."""
    mailing, clock = _started(make_demarche, people, recipients)
    report, _ = mailings.deliver_chunk(
        db.session,
        mailing.id,
        _SlowRelay(clock, timedelta(0)),
        lambda m: mailer.composer(db.session, m),
        size=mailings.CHUNK,
        parallel=parallel,
    )
    assert report.sent == claimed


def test_parse_at_helper_is_utc():
    assert at("2026-11-25T10:00:00").utcoffset() == timedelta(0)


def test_a_template_can_neither_change_what_it_is_given_nor_build_huge_values(
    people, make_demarche
):
    d = make_demarche("launch")
    for body in ("{{ demarche.clear() or '' }}", "{{ decisions.append(1) }}", "{{ 'x' * 10**9 }}"):
        with pytest.raises(InvalidFields):
            new_mailing(people, d, body=body)
    assert new_mailing(people, d).status == MailingStatus.DRAFT  # the next check still works


def test_a_rendered_subject_stays_one_short_line(app, consulted, people, smtp):
    long = "{% for i in range(40) %}{{ demarche.title }} {% endfor %}"  # 1,000 characters
    mailing = new_mailing(people, consulted, subject=long)
    start(mailing, people)
    deliver(app, mailing.id)
    subject = smtp.received[0].subject
    assert len(subject) <= mailings.MAX_SUBJECT and subject.endswith("…")


def test_the_feedback_waits_for_its_stage_and_a_cancel_beats_a_late_start(consulted, people):
    feedback = new_mailing(people, consulted, kind="feedback")
    with pytest.raises(Conflict) as refused:
        mailings.schedule(db.session, people.mission, feedback, at=None, as_of=utcnow())
    assert "brouillon" in str(refused.value.messages[0]) or "draft" in str(
        refused.value.messages[0]
    )
    db.session.rollback()
    news = new_mailing(people, consulted)
    now = utcnow()
    mailings.schedule(db.session, people.mission, news, at=None, as_of=now)
    mailings.cancel(db.session, people.mission, news, as_of=now)
    db.session.commit()
    assert mailings.start(db.session, news.id, as_of=now) == 0  # the task came too late
    assert db.session.scalar(select(func.count(Delivery.id))) == 0


def test_the_rate_is_shared_by_every_worker_through_redis(app):
    import os

    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis"):
        pytest.skip("needs Redis (REDIS_URL), as CI runs it")
    client = mailer._redis(url)
    key = f"test-rate-{uuid.uuid4().hex}"
    moment, waits = [1000.2], []

    def sleep(seconds):
        waits.append(round(seconds, 1))
        moment[0] += seconds

    workers = [
        mailer.RedisThrottle(client, 2, key=key, sleep=sleep, clock=lambda: moment[0])
        for _ in range(2)
    ]
    for worker in workers * 2:  # two processes, two messages each, at 2 a second together
        worker()
    assert waits == [0.8]  # the third message of the second 1000 waited for the next one
