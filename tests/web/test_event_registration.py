"""Registering to an event by typing an address (issue 10): the address's owner confirms from
the email before anything is theirs; a stranger's typing takes no seat, writes nothing of theirs
into the mail and turns no consent on; resends and pending registrations are limited."""

from __future__ import annotations

import re
import runpy
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows import events, mailings
from workflows.clock import utcnow
from workflows.errors import Conflict
from workflows.models import (
    AuditEntry,
    Mailing,
    OutboxMessage,
    Participant,
    Registration,
    RegistrationStatus,
)
from workflows.participants import participant_for_user

BASE = "http://dialogue.test/"
NEUTRAL = "Merci. Sauf si un courriel lui a été envoyé il y a quelques minutes"
HOSTILE_NAME = 'Jean <a href="http://arnaque.example/x">Cliquez</a> http://arnaque.example/gagne'


def make_event(d, people, *, capacity=1, title="Atelier du 3 décembre", starts_in=7):
    event = factories.event(
        d,
        people.mission,
        starts_in=timedelta(days=starts_in),
        title=title,
        place="Toulouse",
        capacity=capacity,
    )
    db.session.commit()
    return event


@pytest.fixture
def workshop(make_demarche, people):
    return make_event(make_demarche("consultation"), people)


def post_registration(client, event, **data):
    # The tests hold one app context, so Flask-WTF's per-request token cache (g) is shared:
    # empty it, as each visitor's browser starts without it.
    g.pop("csrf_token", None)
    page = client.get(f"/demarches/{event.demarche.slug}").text
    return client.post(
        f"/evenements/{event.id}/inscription", data={"csrf_token": csrf_from(page), **data}
    )


def flashed(client, response) -> str:
    return client.get(response.headers["Location"]).text


def registration_of(email: str) -> Registration:
    db.session.expire_all()
    return db.session.scalar(
        select(Registration).join(Participant).where(Participant.email == email)
    )


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


def hrefs_in(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def attachments(received) -> list[str]:
    return [part.get_filename() for part in received.message.iter_attachments()]


# -- a stranger types someone else's address -----------------------------------------------------


def test_a_stranger_registering_someone_else_takes_no_seat_and_writes_nothing_of_theirs(
    client, workshop, citizen, deliver, smtp
):
    response = post_registration(client, workshop, name=HOSTILE_NAME, email="lea@exemple.fr")
    assert response.status_code == 302
    assert "/inscriptions/" not in response.headers["Location"]  # the link goes by email only

    # No seat taken: the registration waits for the address's owner.
    assert events.seats_left(db.session, workshop) == 1
    assert registration_of("lea@exemple.fr").status == RegistrationStatus.PENDING
    assert NEUTRAL in flashed(client, response)
    # Nobody became a participant with a consent on, nor with the typed name.
    lea = db.session.scalar(select(Participant).where(Participant.email == "lea@exemple.fr"))
    assert (lea.name, lea.consent_feedback, lea.consent_territory_news) == (None, False, False)
    named = select(func.count(Participant.id)).where(Participant.name.is_not(None))
    assert db.session.scalar(named) == 1  # the citizen only

    deliver()
    [mail] = smtp.to("lea@exemple.fr")
    assert mail.subject == "Confirmez votre inscription : Atelier du 3 décembre"
    for part in (mail.subject, mail.text, mail.html):
        assert "Jean" not in part and "arnaque" not in part and "Cliquez" not in part
    assert mail.text.startswith("Bonjour,")  # greets nobody by name
    assert links_in(mail.text) and all(u.startswith(BASE) for u in links_in(mail.text))
    assert hrefs_in(mail.html) and all(u.startswith(BASE) for u in hrefs_in(mail.html))
    assert attachments(mail) == []  # no invitation before the owner confirms

    # The seat is still there for whoever takes it for real.
    login(client, citizen)
    post_registration(client, workshop)
    assert registration_of("claire@exemple.fr").status == RegistrationStatus.CONFIRMED


# -- the owner confirms from the email ----------------------------------------------------------


def test_the_owner_confirms_from_the_email_and_then_gets_the_invitation(
    client, workshop, deliver, smtp
):
    post_registration(client, workshop, email="ana@exemple.fr")
    deliver()
    [ask] = smtp.to("ana@exemple.fr")
    link = re.search(r"http://dialogue\.test(/inscriptions/\S+)", ask.text).group(1)

    # Following the link (a person, or a mail scanner) confirms nothing: a page with a button.
    page = client.get(link).text
    assert "Confirmer mon inscription" in page
    assert registration_of("ana@exemple.fr").status == RegistrationStatus.PENDING
    assert client.get(link[:-3] + "xyz").status_code == 404  # a forged token

    # The owner names themselves (a URL in a name is no link in the HTML part) and confirms.
    confirmed = client.post(
        f"{link}/confirmer",
        data={"csrf_token": csrf_from(page), "name": "Ana http://arnaque.example/ana"},
    )
    assert confirmed.status_code == 302
    assert "Vous êtes inscrit·e" in flashed(client, confirmed)
    registration = registration_of("ana@exemple.fr")
    assert registration.status == RegistrationStatus.CONFIRMED and registration.confirmed_at
    ana = registration.participant
    # Confirming turns on what the registration's own use needs (the feedback), not the news.
    assert (ana.consent_feedback, ana.consent_territory_news) == (True, False)
    assert ana.name == "Ana http://arnaque.example/ana"
    assert db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "participant.consents",
            AuditEntry.target == f"participant:{ana.id}",
        )
    )

    deliver()
    [_, mail] = smtp.to("ana@exemple.fr")
    assert mail.subject == "Votre inscription : Atelier du 3 décembre"
    assert attachments(mail) == ["invitation.ics"]
    ics = next(mail.message.iter_attachments()).get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "arnaque" not in ics and "Ana" not in ics
    assert "Bonjour Ana" in mail.text
    assert all(u.startswith(BASE) for u in hrefs_in(mail.html))
    assert "Ana http://arnaque.example/ana" in mail.html  # there, as text

    # Confirming twice is confirming once; the page now offers to cancel.
    again = client.post(f"{link}/confirmer", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 302
    deliver()
    assert len(smtp.to("ana@exemple.fr")) == 2
    assert "Annuler mon inscription" in client.get(link).text


def test_confirming_a_full_event_puts_the_owner_on_the_waiting_list(
    client, workshop, make_user, deliver, smtp
):
    post_registration(client, workshop, email="ana@exemple.fr")
    post_registration(client, workshop, email="bob@exemple.fr")
    deliver()
    tokens = {}
    for who in ("ana", "bob"):
        [ask] = smtp.to(f"{who}@exemple.fr")
        tokens[who] = re.search(r"http://dialogue\.test(/inscriptions/\S+)", ask.text).group(1)
    # Bob confirms first: the seat is his, though Ana registered first.
    for who in ("bob", "ana"):
        page = client.get(tokens[who]).text
        client.post(f"{tokens[who]}/confirmer", data={"csrf_token": csrf_from(page)})
    assert registration_of("bob@exemple.fr").status == RegistrationStatus.CONFIRMED
    assert registration_of("ana@exemple.fr").status == RegistrationStatus.WAITING
    deliver()
    assert [m.subject for m in smtp.to("ana@exemple.fr")][-1].startswith("Liste d’attente")


def test_the_owner_may_decline_and_is_not_written_to_again(client, workshop, deliver, smtp):
    post_registration(client, workshop, email="ana@exemple.fr")
    deliver()
    [ask] = smtp.to("ana@exemple.fr")
    link = re.search(r"http://dialogue\.test(/inscriptions/\S+)", ask.text).group(1)
    page = client.get(link).text
    declined = client.post(link, data={"csrf_token": csrf_from(page)})
    assert "Cette inscription est déclinée" in flashed(client, declined)
    assert registration_of("ana@exemple.fr").status == RegistrationStatus.CANCELLED
    deliver()
    assert len(smtp.to("ana@exemple.fr")) == 1  # no "cancelled" email
    assert "Non confirmée" in client.get(link).text


def test_a_citizen_confirms_what_was_typed_with_their_address_by_registering(
    client, workshop, citizen, deliver, smtp
):
    post_registration(client, workshop, email="claire@exemple.fr")
    assert registration_of("claire@exemple.fr").status == RegistrationStatus.PENDING
    login(client, citizen)
    espace = client.get("/espace/").text
    assert "En attente de confirmation" in espace
    registration = registration_of("claire@exemple.fr")
    client.post(
        f"/espace/inscriptions/{registration.id}/confirmer",
        data={"csrf_token": csrf_from(espace)},
    )
    assert registration_of("claire@exemple.fr").status == RegistrationStatus.CONFIRMED
    deliver()
    assert [m.subject for m in smtp.to("claire@exemple.fr")] == [
        "Confirmez votre inscription : Atelier du 3 décembre",
        "Votre inscription : Atelier du 3 décembre",
    ]


def test_an_account_confirmed_later_gets_the_default_consents(workshop, make_user):
    events.request_registration(db.session, workshop.id, "lea@exemple.fr", as_of=utcnow())
    db.session.commit()
    lea = db.session.scalar(select(Participant).where(Participant.email == "lea@exemple.fr"))
    assert lea.consent_feedback is False
    user = make_user("citizen", email="lea@exemple.fr", name="Léa Martin")
    assert participant_for_user(db.session, user, as_of=utcnow()).id == lea.id
    assert (lea.consent_feedback, lea.consent_territory_news, lea.name) == (
        True,
        False,
        "Léa Martin",
    )


# -- resends: a cooldown, and the same answer whatever the case ---------------------------------


def test_the_page_answers_the_same_whoever_is_registered(client, workshop, deliver, smtp):
    answers = [
        flashed(client, post_registration(client, workshop, **data))
        for data in (
            {"email": "ana@exemple.fr"},  # new
            {"email": "ana@exemple.fr"},  # pending: within the cooldown
            {"email": "bob@exemple.fr", "website": "http://spam.example"},  # the honeypot
        )
    ]
    events.register(
        db.session,
        workshop.id,
        factories.participant("cyril@exemple.fr"),
        as_of=utcnow(),
    )
    db.session.commit()
    answers.append(flashed(client, post_registration(client, workshop, email="cyril@exemple.fr")))
    for answer in answers:
        assert NEUTRAL in answer
        assert "déjà inscrite" not in answer and "renvoyé" not in answer
    deliver()
    assert len(smtp.to("ana@exemple.fr")) == 1  # typed twice within ten minutes: one email
    assert smtp.to("bob@exemple.fr") == []  # the bot: nothing
    [link] = [m.subject for m in smtp.to("cyril@exemple.fr") if "lien" in m.subject]
    assert link == "Le lien de votre inscription : Atelier du 3 décembre"


def test_resends_have_a_cooldown_and_a_daily_cap(workshop):
    t0 = utcnow()

    def typed(minutes: float) -> None:
        events.request_registration(
            db.session, workshop.id, "ana@exemple.fr", as_of=t0 + timedelta(minutes=minutes)
        )
        db.session.commit()

    def mails() -> int:
        return db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.template.in_(events.TYPED))
        )

    for minute in (0, 1, 5, 9):
        typed(minute)
    assert mails() == 1  # the request to confirm; retyping within ten minutes sends nothing
    typed(11)
    assert mails() == 2
    for minute in range(22, 200, 11):  # every 11 minutes for three hours: a handful a day
        typed(minute)
    assert mails() == events.MAILS_PER_ADDRESS_PER_DAY
    typed(24 * 60 + 1)  # the next day: the oldest ones no longer count
    assert mails() == events.MAILS_PER_ADDRESS_PER_DAY + 1
    [registration] = db.session.scalars(select(Registration)).all()
    assert registration.status == RegistrationStatus.PENDING  # one registration all along


def test_two_owners_confirming_for_the_last_seat_get_one_seat(app, workshop):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers by itself)")
    now = utcnow()
    ids = [
        events.request_registration(db.session, workshop.id, f"{who}@exemple.fr", as_of=now).id
        for who in ("ana", "bob")
    ]
    db.session.commit()
    barrier = threading.Barrier(2, timeout=10)
    engine = db.engine

    def confirm(registration_id):
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            events.confirm_registration(
                session, session.get(Registration, registration_id), as_of=utcnow()
            )
            session.commit()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    statuses = db.session.scalars(
        select(Registration.status).where(Registration.event_id == workshop.id)
    ).all()
    assert sorted(statuses) == sorted([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING])


# -- unconfirmed registrations lapse -----------------------------------------------------------


def test_unconfirmed_registrations_lapse_after_48_hours_or_at_the_start(
    make_demarche, people, deliver, smtp
):
    d = make_demarche("consultation")
    later = make_event(d, people, title="Dans une semaine")
    soon = make_event(d, people, title="Demain", starts_in=1)
    t0 = utcnow()
    kept = events.request_registration(db.session, later.id, "ana@exemple.fr", as_of=t0)
    short = events.request_registration(db.session, soon.id, "bob@exemple.fr", as_of=t0)
    db.session.commit()
    deliver(t0)
    smtp.clear()

    assert events.expire_pending(db.session, as_of=t0 + timedelta(hours=23)) == []
    assert events.expire_pending(db.session, as_of=soon.starts_at) == [short.id]
    assert events.expire_pending(db.session, as_of=t0 + timedelta(hours=47)) == []
    lapsed = t0 + timedelta(hours=48)
    assert events.expire_pending(db.session, as_of=lapsed) == [kept.id]
    assert events.expire_pending(db.session, as_of=lapsed) == []  # safe twice
    db.session.expire_all()
    assert kept.status == RegistrationStatus.CANCELLED and kept.cancelled_at == lapsed
    assert kept.participant.consent_feedback is False
    deliver(lapsed)
    assert smtp.received == []  # nothing more to an address nobody confirmed

    # A lapsed registration can no longer be confirmed; typing the address again starts anew.
    with pytest.raises(Conflict):
        events.confirm_registration(db.session, kept, as_of=lapsed)
    db.session.rollback()
    again = events.request_registration(db.session, later.id, "ana@exemple.fr", as_of=lapsed)
    assert again.id != kept.id and again.status == RegistrationStatus.PENDING
    db.session.commit()

    # The beat runs the sweep (workers/__init__ builds an app: read the schedule alone).
    schedule = runpy.run_path(str(Path(__file__).parents[2] / "workers" / "schedule.py"))
    assert "workers.expire_registrations" in {
        entry["task"] for entry in schedule["BEAT_SCHEDULE"].values()
    }


def test_confirming_after_48_hours_is_refused_even_before_the_sweep(workshop):
    t0 = utcnow()
    pending = events.request_registration(db.session, workshop.id, "ana@exemple.fr", as_of=t0)
    db.session.commit()
    with pytest.raises(Conflict):
        events.confirm_registration(db.session, pending, as_of=t0 + timedelta(hours=48))
    db.session.rollback()
    confirmed = events.confirm_registration(
        db.session, pending, as_of=t0 + timedelta(hours=47, minutes=59)
    )
    assert confirmed.status == RegistrationStatus.CONFIRMED


# -- squatting ---------------------------------------------------------------------------------


def test_seats_cannot_be_squatted_by_typing_addresses(client, make_demarche, people, citizen):
    d = make_demarche("consultation")
    workshop = make_event(d, people, capacity=2)
    for n in range(3):  # from the public form
        post_registration(client, workshop, email=f"squat{n}@exemple.fr")
    assert events.seats_left(db.session, workshop) == 2  # none taken
    now = utcnow()
    limit = events.pending_limit(workshop)
    for n in range(3, limit):
        events.request_registration(db.session, workshop.id, f"squat{n}@exemple.fr", as_of=now)
    db.session.commit()
    assert events.seats_left(db.session, workshop) == 2
    with pytest.raises(Conflict):  # the event's limit of pending registrations
        events.request_registration(db.session, workshop.id, "one-more@exemple.fr", as_of=now)
    db.session.rollback()
    refused = post_registration(client, workshop, email="one-more@exemple.fr")
    assert "trop d’inscriptions à cet événement attendent" in flashed(client, refused)
    assert registration_of("one-more@exemple.fr") is None

    # One address can be typed into a few events at most.
    others = [make_event(d, people, title=f"Atelier {n}") for n in range(4)]
    made = [
        events.request_registration(db.session, e.id, "victime@exemple.fr", as_of=now)
        for e in others
    ]
    db.session.commit()
    assert [r is not None for r in made] == [True] * events.MAX_PENDING_PER_ADDRESS + [False]

    # Real people still get the seats.
    login(client, citizen)
    post_registration(client, workshop)
    assert registration_of("claire@exemple.fr").status == RegistrationStatus.CONFIRMED
    assert events.seats_left(db.session, workshop) == 1


def test_the_public_form_keeps_its_honeypot_and_rate_limit(app, client, workshop):
    from backoffice.extensions import limiter

    bot = post_registration(client, workshop, email="ana@exemple.fr", website="http://x.example")
    assert NEUTRAL in flashed(client, bot)
    assert registration_of("ana@exemple.fr") is None
    app.config["PUBLIC_POST_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        codes = [
            post_registration(client, workshop, email=f"p{n}@exemple.fr").status_code
            for n in range(3)
        ]
    finally:
        app.config["PUBLIC_POST_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [302, 302, 429]


# -- who is reached, and what the back office shows --------------------------------------------


def test_pending_registrants_get_neither_feedback_nor_reminders(app, workshop, people):
    now = utcnow()
    events.request_registration(db.session, workshop.id, "pending@exemple.fr", as_of=now)
    confirmed = factories.participant("sure@exemple.fr", as_of=now)
    events.register(db.session, workshop.id, confirmed, as_of=now)
    db.session.commit()
    feedback = factories.mailing(
        people.mission,
        workshop.demarche,
        kind="feedback",
        audience="registrants",
        subject="Ce que nous avons fait",
        body="Bonjour {{ name }},\n\nMerci.\n",
        as_of=now,
    )
    db.session.commit()
    assert [r.address for r in mailings.recipients(db.session, feedback)] == ["sure@exemple.fr"]
    made = mailings.schedule_reminders(db.session, as_of=workshop.starts_at - timedelta(days=2))
    [reminder] = [db.session.get(Mailing, m) for m in made]
    assert [r.address for r in mailings.recipients(db.session, reminder)] == ["sure@exemple.fr"]


def test_the_back_office_counts_pending_registrations_apart(client, workshop, people):
    now = utcnow()
    events.request_registration(db.session, workshop.id, "pending@exemple.fr", as_of=now)
    events.register(
        db.session,
        workshop.id,
        factories.participant("sure@exemple.fr", as_of=now),
        as_of=now,
    )
    events.register(
        db.session,
        workshop.id,
        factories.participant("next@exemple.fr", as_of=now),
        as_of=now,
    )
    db.session.commit()
    login(client, people.mission)
    listing = client.get("/admin/event/").text
    assert "En attente de confirmation" in listing
    row = re.search(r"Atelier du 3 décembre.*?</tr>", listing, re.S).group(0)
    # Seats, registered, waiting list, awaiting confirmation.
    assert re.findall(r">\s*(\d+)\s*<", row)[-4:] == ["1", "1", "1", "1"]
    sheet = client.get(f"/admin/event/details/?id={workshop.id}").text
    assert (
        "Inscrit·es : 1 ; en liste d’attente : 1 ; en attente de la confirmation de leur "
        "adresse : 1" in sheet
    )
    assert "sure@exemple.fr" in sheet and "next@exemple.fr" in sheet
    assert "pending@exemple.fr" not in sheet  # an address nobody confirmed is no registrant
