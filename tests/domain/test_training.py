"""The qualification of the operators: the mission records training sessions (refused in
French when a value is wrong, nothing saved; audited), and from them which departments have
trained agents on a given day — a training counts for three years, a session to come trains
nobody yet — and the nudge a department with none gets when its agent submits a saisine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.i18n import tr
from workflows import training
from workflows.errors import InvalidFields, NotFound, PermissionDenied
from workflows.models import AuditEntry, TrainingSession

NOW = datetime(2027, 3, 10, 9, tzinfo=UTC)
TODAY = date(2027, 3, 10)


def record(actor, day: date, attendees, theme: str = "Conduire une concertation", **fields):
    made = training.create_session(
        db.session,
        actor,
        {"date": day, "theme": theme, "attendees": [u.id for u in attendees], **fields},
        as_of=NOW,
    )
    db.session.commit()
    return made


def training_entries():
    return select(AuditEntry).where(AuditEntry.action.like("training.%"))


def status(as_of: datetime = NOW) -> dict[str, list[str]]:
    """Department name → its trained agents' names, on ``as_of``."""
    return {
        row.department.name: [t.user.display_name for t in row.trained]
        for row in training.departments_status(db.session, as_of=as_of)
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"date": None}, "date", "la date de la session est nécessaire"),
        ({"date": "le 3 mars"}, "date", "date attendue (AAAA-MM-JJ)"),
        ({"date": "1899-01-01"}, "date", "date entre 2000 et 2100 attendue"),
        ({"theme": "   "}, "theme", "le thème de la session est nécessaire"),
        ({"theme": "x" * 201}, "theme", "200 caractères au plus"),
        ({"format": "papier"}, "format", "valeur inconnue « papier »"),
        ({"attendees": ["personne@exemple.fr"]}, "attendees", "aucun compte « personne@"),
    ],
)
def test_bad_values_are_refused_in_french_and_nothing_is_saved(ctx, people, fields, field, message):
    values = {"date": "2027-03-01", "theme": "Conduire une concertation", **fields}
    with pytest.raises(InvalidFields) as refused:
        training.create_session(db.session, people.mission, values, as_of=NOW)
    db.session.rollback()
    assert message in tr(refused.value.errors[field])
    assert db.session.scalar(select(func.count(TrainingSession.id))) == 0
    assert not db.session.scalars(training_entries()).all()


def test_attendees_are_agents_or_elected_officials(ctx, people, citizen):
    for outsider in (citizen, people.mission, people.admin):
        with pytest.raises(InvalidFields) as refused:
            training.create_session(
                db.session,
                people.mission,
                {"date": TODAY, "theme": "Bases", "attendees": [outsider.id]},
                as_of=NOW,
            )
        db.session.rollback()
        assert tr(refused.value.errors["attendees"]) == (
            f"{outsider.display_name} n’est ni agent d’une direction ni élu·e"
        )
    made = training.create_session(
        db.session,
        people.mission,
        # By id or by address (any case), each once.
        {
            "date": TODAY,
            "theme": "  Bases  ",
            "attendees": [people.agent.id, people.elected.email.upper(), str(people.agent.id)],
        },
        as_of=NOW,
    )
    assert made.theme == "Bases"
    assert {u.id for u in made.attendees} == {people.agent.id, people.elected.id}


def test_only_the_mission_records_and_every_change_is_audited(ctx, people):
    for outsider in (people.agent, people.elected):
        with pytest.raises(PermissionDenied):
            training.create_session(
                db.session, outsider, {"date": TODAY, "theme": "Bases"}, as_of=NOW
            )
    made = record(people.mission, TODAY, [people.agent], place="Toulouse", format="in_person")
    with pytest.raises(PermissionDenied):
        training.update_session(db.session, people.agent, made, {"theme": "X"}, as_of=NOW)

    training.update_session(db.session, people.mission, made, {"theme": "Bases"}, as_of=NOW)
    training.update_session(
        db.session,
        people.mission,
        made,
        {"attendees": [people.agent.id, people.other_agent.id]},
        as_of=NOW,
    )
    training.update_session(db.session, people.mission, made, {"theme": "Bases"}, as_of=NOW)
    training.delete_session(db.session, people.mission, made, as_of=NOW)
    db.session.commit()
    entries = db.session.scalars(training_entries().order_by(AuditEntry.id)).all()
    assert [(e.action, e.data.get("fields")) for e in entries] == [
        ("training.create", None),
        ("training.update", ["theme"]),
        ("training.update", ["attendees"]),
        ("training.delete", None),
    ]
    assert {e.actor_id for e in entries} == {people.mission.id}
    with pytest.raises(NotFound):
        training.get_session(db.session, made.id)


def test_an_attendee_who_is_no_longer_an_agent_stays_on_the_session(ctx, people):
    made = record(people.mission, TODAY, [people.agent])
    people.agent.roles = []
    db.session.commit()
    training.update_session(db.session, people.mission, made, {"notes": "Support"}, as_of=NOW)
    assert [u.id for u in made.attendees] == [people.agent.id]
    with pytest.raises(InvalidFields):  # but may not be added to another session
        record(people.mission, TODAY, [people.agent])


def test_departments_with_and_without_trained_agents(ctx, people, make_user):
    third = make_user("department", department="Direction de la culture", name="Chloé Culture")
    record(people.mission, TODAY - timedelta(days=30), [people.agent, people.elected])
    # The social department's only session is to come: nobody there is trained yet.
    record(people.mission, TODAY + timedelta(days=7), [people.other_agent], theme="À venir")
    assert status() == {
        "Direction de l'action sociale": [],
        "Direction de la culture": [],
        "Direction des routes": ["Rita Routes"],
    }
    assert [d.name for d in training.untrained_departments(db.session, as_of=NOW)] == [
        "Direction de l'action sociale",
        "Direction de la culture",
    ]
    rows = {r.department.name: r for r in training.departments_status(db.session, as_of=NOW)}
    assert rows["Direction des routes"].trained[0].last_session == TODAY - timedelta(days=30)
    assert rows["Direction des routes"].agents == 1
    # A week later, the session is held: the social department has its trained agent.
    assert status(NOW + timedelta(days=7))["Direction de l'action sociale"] == ["Samuel Social"]
    # A deactivated agent no longer counts, nor makes the department one with agents.
    third.active = False
    db.session.commit()
    assert "Direction de la culture" not in status()


def test_a_training_counts_for_three_years(ctx, people):
    record(people.mission, date(2024, 3, 15), [people.agent])
    assert status(datetime(2024, 3, 14, 12, tzinfo=UTC))["Direction des routes"] == []
    assert status(datetime(2024, 3, 15, 12, tzinfo=UTC))["Direction des routes"] == ["Rita Routes"]
    assert status(datetime(2027, 3, 14, 12, tzinfo=UTC))["Direction des routes"] == ["Rita Routes"]
    assert status(datetime(2027, 3, 15, 12, tzinfo=UTC))["Direction des routes"] == []
    # Europe/Paris decides the day: 23:30 UTC on 14 March is already the 15th in Paris.
    assert status(datetime(2027, 3, 14, 23, 30, tzinfo=UTC))["Direction des routes"] == []


def test_the_nudge_names_the_next_sessions_and_the_guide(ctx, people, make_demarche):
    d = make_demarche("submitted")
    nudge = training.submission_nudge(db.session, people.agent, d, as_of=NOW)
    assert nudge is not None and nudge.sessions == []
    text = tr(nudge.text("https://dialogue.test/guide"))
    assert text.startswith(
        "Votre direction n’a encore aucun agent formé à la participation citoyenne : la mission "
        "propose"
    )
    assert "Aucune session n’est encore prévue" in text
    assert text.endswith("Le guide : https://dialogue.test/guide")

    record(people.mission, TODAY + timedelta(days=20), [], theme="Écrire sa saisine")
    record(people.mission, TODAY + timedelta(days=5), [], theme="Bases", place="Muret")
    record(people.mission, TODAY - timedelta(days=5), [people.other_agent], theme="Passée")
    nudge = training.submission_nudge(db.session, people.agent, d, as_of=NOW)
    assert [s.theme for s in nudge.sessions] == ["Bases", "Écrire sa saisine"]
    assert "Prochaines sessions : « Bases » le 15 mars 2027 (Muret), « Écrire sa saisine » le " in (
        tr(nudge.text("/guide"))
    )
    # Nobody else is nudged: the mission submitting, an agent of another department.
    assert training.submission_nudge(db.session, people.mission, d, as_of=NOW) is None
    assert training.submission_nudge(db.session, people.other_agent, d, as_of=NOW) is None

    # Once one of its agents is trained, the department is no longer nudged.
    record(people.mission, TODAY - timedelta(days=400), [people.agent])
    assert training.submission_nudge(db.session, people.agent, d, as_of=NOW) is None
