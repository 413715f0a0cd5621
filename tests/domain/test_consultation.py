"""Contributions, threads, moderation and event registrations, through the domain."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.extensions import db
from tests import factories
from workflows import contributions, events
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.models import (
    AuditEntry,
    Contribution,
    ContributionStatus,
    OutboxMessage,
    Participant,
    Registration,
    RegistrationStatus,
)
from workflows.participants import participant_for_user


def say(d, author_user, body="Un avis", **kwargs):
    author = participant_for_user(db.session, author_user, as_of=utcnow())
    return factories.contribution(d, author_user, body=body, author=author, **kwargs)


def test_online_contributions_only_while_the_consultation_is_open(make_demarche, citizen):
    for stage in ("launch", "synthesis"):
        d = make_demarche(stage) if stage != "synthesis" else make_demarche("synthesis")
        if not d.items:
            continue
        with pytest.raises(Conflict, match="the consultation is not open"):
            say(d, citizen)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_threads_keep_their_item_and_answers_are_comments(make_demarche, citizen, make_user):
    d = make_demarche("consultation")
    root = say(d, citizen, "Première idée", kind="proposal")
    answer = say(d, citizen, "Oui", parent_id=root.id)
    deeper = say(d, citizen, "Et encore", parent_id=answer.id)
    assert (answer.parent, deeper.parent) == (root, answer)
    with pytest.raises(InvalidFields) as wrong_kind:
        say(d, citizen, "Non", parent_id=root.id, kind="question")
    assert "kind" in wrong_kind.value.errors
    from workflows.items import add_item

    other = add_item(db.session, make_user("mission"), d, title="Autre", as_of=utcnow())
    with pytest.raises(InvalidFields) as elsewhere:
        say(d, citizen, "Ailleurs", parent_id=root.id, item=other)
    assert "parent_id" in elsewhere.value.errors


def test_the_commune_gives_the_canton(make_demarche, citizen):
    d = make_demarche("consultation")
    assert say(d, citizen, commune="Saint-Gaudens").canton_code == "3114"
    assert say(d, citizen, commune="31770").commune_insee == "31149"  # Colomiers, by postal code
    with pytest.raises(InvalidFields) as shared:
        say(d, citizen, commune="31230")
    assert "plusieurs" in str(shared.value) or "several" in str(shared.value)


def test_staff_do_not_contribute_online_and_agents_record_only_their_own(make_demarche, people):
    d = make_demarche("consultation")
    with pytest.raises(PermissionDenied):
        factories.contribution(d, people.agent, body="x", channel="online")
    with pytest.raises(PermissionDenied):
        factories.contribution(d, people.other_agent, body="x")
    paper = factories.participant("Papier@Exemple.fr", name="Paul")
    recorded = factories.contribution(d, people.agent, body="Lettre", author=paper)
    assert recorded.participant.email == "papier@exemple.fr"
    assert recorded.status == ContributionStatus.PUBLISHED


def test_moderation_a_priori_then_hide_and_restore_with_an_audit(make_demarche, people, citizen):
    d = make_demarche("consultation", hold_for_review=True)
    held = say(d, citizen, "À relire")
    assert held.status == ContributionStatus.PENDING
    contributions.moderate(db.session, held, "publish", actor=people.mission, as_of=utcnow())
    with pytest.raises(InvalidFields):
        contributions.moderate(db.session, held, "hide", actor=people.mission, as_of=utcnow())
    with pytest.raises(PermissionDenied):
        contributions.moderate(
            db.session, held, "hide", actor=people.agent, reason="x", as_of=utcnow()
        )
    contributions.report(db.session, held, reporter=citizen, reason="insultant", as_of=utcnow())
    contributions.report(db.session, held, reporter=citizen, reason="encore", as_of=utcnow())
    assert contributions.open_reports(db.session, [held.id]) == {held.id: 1}
    contributions.moderate(
        db.session, held, "hide", actor=people.mission, reason="propos injurieux", as_of=utcnow()
    )
    assert (held.status, held.moderation_reason) == (ContributionStatus.HIDDEN, "propos injurieux")
    assert contributions.open_reports(db.session, [held.id]) == {}
    contributions.moderate(db.session, held, "restore", actor=people.mission, as_of=utcnow())
    assert held.status == ContributionStatus.PUBLISHED and held.moderation_reason == ""
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target == f"contribution:{held.id}")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "contribution.publish",
        "contribution.report",
        "contribution.hide",
        "contribution.restore",
    ]


# -- events -----------------------------------------------------------------------------


@pytest.fixture
def workshop(make_demarche, people):
    d = make_demarche("consultation")
    event = factories.event(d, people.mission, starts_in=timedelta(days=10), capacity=2)
    db.session.commit()
    return event


def person(n: int) -> Participant:
    return factories.participant(f"p{n}@exemple.fr", name=f"P{n}")


def test_a_waiting_list_past_capacity_and_promotion_on_cancel(workshop, deliver, smtp):
    registrations = [
        events.register(db.session, workshop.id, person(n), as_of=utcnow()) for n in range(4)
    ]
    db.session.commit()
    assert [r.status for r in registrations] == [RegistrationStatus.CONFIRMED] * 2 + [
        RegistrationStatus.WAITING
    ] * 2
    again = events.register(db.session, workshop.id, registrations[0].participant, as_of=utcnow())
    assert again.id == registrations[0].id  # registering twice changes nothing

    promoted = events.cancel_registration(db.session, registrations[1], as_of=utcnow())
    db.session.commit()
    assert promoted.id == registrations[2].id and promoted.status == RegistrationStatus.CONFIRMED
    assert registrations[3].status == RegistrationStatus.WAITING
    assert events.cancel_registration(db.session, registrations[1], as_of=utcnow()) is None

    deliver()
    subjects = {(r.rcpt_tos[0], r.subject) for r in smtp.received}
    assert ("p0@exemple.fr", "Votre inscription : Atelier citoyen") in subjects
    assert ("p2@exemple.fr", "Liste d’attente : Atelier citoyen") in subjects
    assert ("p2@exemple.fr", "Une place pour vous : Atelier citoyen") in subjects
    assert ("p1@exemple.fr", "Inscription annulée : Atelier citoyen") in subjects
    confirmation = next(r for r in smtp.to("p0@exemple.fr") if "Votre inscription" in r.subject)
    ics = next(
        p
        for p in confirmation.message.iter_attachments()
        if p.get_content_type() == "text/calendar"
    )
    assert ics.get_content_charset() == "utf-8"
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == workshop.starts_at
    assert str(event["location"]) == "Hôtel du Département"
    assert "/inscriptions/" in confirmation.text  # the signed link to cancel


def test_a_larger_room_promotes_the_waiting_list(workshop, people):
    regs = [events.register(db.session, workshop.id, person(n), as_of=utcnow()) for n in range(3)]
    fields = {
        "kind": "workshop",
        "title": workshop.title,
        "starts_at": workshop.starts_at,
        "ends_at": workshop.ends_at,
        "place": workshop.place,
        "capacity": 3,
    }
    events.update_event(db.session, people.mission, workshop.id, fields, as_of=utcnow())
    assert regs[2].status == RegistrationStatus.CONFIRMED


def test_registrations_close_when_the_event_starts_or_is_closed(workshop, people):
    with pytest.raises(Conflict):
        events.register(
            db.session, workshop.id, person(1), as_of=workshop.starts_at + timedelta(minutes=1)
        )
    workshop.registration_open = False
    with pytest.raises(Conflict):
        events.register(db.session, workshop.id, person(2), as_of=utcnow())


def test_two_people_for_the_last_seat_get_one_seat(app, workshop):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers by itself)")
    events.register(db.session, workshop.id, person(0), as_of=utcnow())
    ids = [person(1).id, person(2).id]
    event_id = workshop.id  # read here: the threads share no session
    db.session.commit()
    barrier = threading.Barrier(2, timeout=10)
    engine = db.engine

    def take(participant_id):
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            events.register(
                session, event_id, session.get(Participant, participant_id), as_of=utcnow()
            )
            session.commit()

    threads = [threading.Thread(target=take, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = db.session.scalars(
        select(Registration.status).where(Registration.event_id == event_id)
    ).all()
    assert sorted(statuses) == sorted(
        [RegistrationStatus.CONFIRMED] * 2 + [RegistrationStatus.WAITING]
    )


def test_attendance_and_collected_contributions(workshop, people, make_user):
    r0 = events.register(db.session, workshop.id, person(0), as_of=utcnow())
    r1 = events.register(db.session, workshop.id, person(1), as_of=utcnow())
    events.record_attendance(
        db.session,
        people.mission,
        workshop.id,
        {r0.id},
        minutes="Vingt personnes, trois propositions.",
        as_of=utcnow(),
    )
    assert (r0.attended, r1.attended) == (True, False)
    said = factories.contribution(
        workshop.demarche,
        people.mission,
        body="Des ateliers le samedi",
        author=person(0),
        channel="workshop",
        event=workshop,
        contributed_at=workshop.starts_at,
    )
    assert said.event == workshop and said.contributed_at == workshop.starts_at
    assert (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.template == "registration_confirmed"
            )
        )
        == 2
    )
