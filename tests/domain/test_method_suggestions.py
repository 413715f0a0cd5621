"""The toolbox tied to the démarche: the methods that fit a saisine, best first, each with its
reasons; the plan that always ends with the restitution; the methods really used, named by
events and channels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.i18n import tr
from workflows import events, methods
from workflows.clock import utcnow
from workflows.contributions import contribute
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.methods import planning, suggestions
from workflows.methods.suggestions import Need
from workflows.models import AuditEntry

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def judged(catalogue, need: Need) -> dict[str, suggestions.Suggestion]:
    return {s.method.slug: s for s in suggestions.suggest(catalogue, need)}


def texts(suggestion) -> list[str]:
    return [tr(r.text) for r in suggestion.against]


def test_a_consultation_of_2000_people_with_10k_in_6_weeks_excludes_the_citizens_conference(
    catalogue,
):
    need = Need(level="consultation", size=2000, budget=10_000, weeks=6)
    found = suggestions.suggest(catalogue, need)
    by_slug = {s.method.slug: s for s in found}
    conference = by_slug["conference-de-citoyens"]
    assert not conference.fits
    against = " | ".join(texts(conference))
    assert "trop cher pour le budget indiqué" in against
    assert "délai de préparation de 12 semaines, 6 semaines disponibles" in against
    assert "pas 2\u202f000" in against  # 15 to 30 people, not 2,000
    assert "pas pour : Consultation" in against
    assert {r.about for r in conference.against} == {"level", "size", "cost", "time"}
    # What fits comes first, and each fitting method says why.
    fitting = [s for s in found if s.fits]
    assert fitting and found[: len(fitting)] == fitting
    assert {"questionnaire", "consultation-en-ligne"} <= {s.method.slug for s in fitting}
    online = by_slug["consultation-en-ligne"]
    assert any("sert le niveau demandé (Consultation)" == tr(r.text) for r in online.reasons)
    assert any(
        tr(r.text).startswith("4 semaines de préparation laissent 2 semaines pour la mener")
        for r in online.reasons
    )
    # A public meeting is ready in time, but not made for 2,000 people.
    meeting = by_slug["reunion-publique"]
    assert any(tr(r.text).startswith("tient dans le calendrier") for r in meeting.reasons)
    assert not meeting.fits


def test_a_co_construction_proposes_deliberative_methods_first(catalogue):
    found = suggestions.suggest(catalogue, Need(level="co-construction"))
    fitting = [s.method for s in found if s.fits]
    assert fitting
    first_plain = next(i for i, m in enumerate(fitting) if not suggestions.is_deliberative(m))
    assert first_plain > 0
    assert all(suggestions.is_deliberative(m) for m in fitting[:first_plain])
    assert all(not suggestions.is_deliberative(m) for m in fitting[first_plain:])
    assert "consultation-en-ligne" in {m.slug for m in fitting[first_plain:]}
    # A method serving only lower rungs does not fit, and says so.
    questionnaire = judged(catalogue, Need(level="co-construction"))["questionnaire"]
    assert texts(questionnaire) == ["faite pour : Consultation, pas pour : Co-construction"]


def test_a_small_group_or_a_long_calendar_changes_the_answer(catalogue):
    small = judged(catalogue, Need(level="concertation", size=20, budget=200_000, weeks=52))
    assert small["conference-de-citoyens"].fits
    assert not small["budget-participatif"].fits  # codecision and co-construction only
    big = judged(catalogue, Need(size=5000))
    assert texts(big["world-cafe"]) == ["taille de groupe : de 12 à 120 personnes, pas 5\u202f000"]
    assert big["consultation-en-ligne"].fits
    few = judged(catalogue, Need(size=50))
    assert texts(few["budget-participatif"]) == ["demande au moins 500 participants, 50 attendus"]


def test_the_weeks_count_preparation_and_duration(catalogue):
    need = Need(weeks=10)
    jury = judged(catalogue, need)["jury-citoyen"]  # 10 weeks to prepare, 75 days to run
    assert jury.fits and [r.about for r in jury.reasons] == ["tight"]
    assert tr(jury.reasons[0].text).startswith("10 semaines de préparation laissent 0 semaines")
    conference = judged(catalogue, need)["conference-de-citoyens"]  # 12 weeks to prepare
    assert texts(conference) == ["délai de préparation de 12 semaines, 10 semaines disponibles"]
    # A method that fits barely comes after one that fits easily.
    found = [s.method.slug for s in suggestions.suggest(catalogue, need) if s.fits]
    assert found.index("reunion-publique") < found.index("jury-citoyen")
    assert suggestions.weeks_left(date(2027, 3, 1), date(2026, 12, 7)) == 12
    assert suggestions.weeks_left(date(2026, 12, 1), date(2026, 12, 7)) == 0
    assert suggestions.weeks_left(None, date(2026, 12, 7)) is None


def test_a_public_far_from_participation_favours_methods_that_go_to_meet_it(catalogue):
    need = Need(level="consultation", public="Les jeunes des quartiers prioritaires")
    found = [s for s in suggestions.suggest(catalogue, need) if s.fits]
    reaching = [s for s in found if any(r.about == "public" for r in s.reasons)]
    assert reaching and found[0] in reaching
    plain = judged(catalogue, Need(level="consultation", public="Riverains"))
    assert not any(r.about == "public" for s in plain.values() for r in s.reasons)


def test_retired_methods_are_never_suggested(catalogue, people):
    world_cafe = methods.get_method(db.session, "world-cafe")
    methods.set_retired(db.session, people.mission, world_cafe, True, as_of=NOW)
    db.session.commit()
    assert "world-cafe" not in judged(methods.all_methods(db.session), Need())


def test_the_saisine_gives_its_need(catalogue, make_demarche):
    d = make_demarche(
        "draft",
        participation_level="consultation",
        expected_participants="2 000",
        budget="10 000",
        participation_ends_by=(date.today() + timedelta(weeks=6, days=3)).isoformat(),
        public="Riverains",
    )
    need = suggestions.need_of(d, date.today())
    assert need == Need("consultation", 2000, 10_000, 6, "Riverains")
    slugs = [s.method.slug for s in suggestions.suggestions_for(db.session, d, date.today())]
    assert slugs.index("questionnaire") < slugs.index("conference-de-citoyens")


def test_the_plan_ends_with_the_restitution_and_is_audited(catalogue, make_demarche, people):
    d = make_demarche("draft")
    chosen = planning.plan(
        db.session,
        people.agent,
        d,
        ["restitution-publique", "world-cafe", "questionnaire"],
        as_of=NOW,
    )
    db.session.commit()
    assert [m.slug for m in chosen] == ["world-cafe", "questionnaire", "restitution-publique"]
    assert [m.slug for m in planning.planned(db.session, d)] == [
        "world-cafe",
        "questionnaire",
        "restitution-publique",
    ]
    # Even an empty choice keeps the restitution; the same plan twice is one audit entry.
    planning.plan(db.session, people.agent, d, ["world-cafe", "questionnaire"], as_of=NOW)
    assert [m.slug for m in planning.planned(db.session, d)][-1] == "restitution-publique"
    planning.plan(db.session, people.agent, d, [], as_of=NOW)
    db.session.commit()
    assert [m.slug for m in planning.planned(db.session, d)] == ["restitution-publique"]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "methods.plan")
    ).all()
    assert len(entries) == 2


def test_a_bad_plan_is_refused_in_french_and_the_plan_kept(catalogue, make_demarche, people):
    d = make_demarche("draft")
    planning.plan(db.session, people.agent, d, ["world-cafe"], as_of=NOW)
    db.session.commit()
    with pytest.raises(InvalidFields) as refused:
        planning.plan(db.session, people.agent, d, ["world-cafe", "tirage-au-chapeau"], as_of=NOW)
    db.session.rollback()
    assert tr(refused.value.errors["planned_methods"]) == (
        "pas de méthode « tirage-au-chapeau » dans la boîte à outils"
    )
    methods.set_retired(
        db.session, people.mission, methods.get_method(db.session, "forum-ouvert"), True, as_of=NOW
    )
    with pytest.raises(InvalidFields) as refused:
        planning.plan(db.session, people.agent, d, ["forum-ouvert"], as_of=NOW)
    db.session.rollback()
    assert "est retirée de la boîte à outils" in tr(refused.value.errors["planned_methods"])
    assert [m.slug for m in planning.planned(db.session, d)] == [
        "world-cafe",
        "restitution-publique",
    ]


def test_who_plans_and_when(catalogue, make_demarche, people):
    submitted = make_demarche("submitted")
    with pytest.raises(Conflict):
        planning.plan(db.session, people.agent, submitted, ["world-cafe"], as_of=NOW)
    planning.plan(db.session, people.mission, submitted, ["world-cafe"], as_of=NOW)
    with pytest.raises(PermissionDenied):
        planning.plan(db.session, people.other_agent, submitted, ["world-cafe"], as_of=NOW)
    closed = make_demarche("closed")
    with pytest.raises(Conflict):
        planning.plan(db.session, people.mission, closed, ["world-cafe"], as_of=NOW)


def test_events_and_channels_name_the_methods_used(catalogue, make_demarche, people):
    d = make_demarche("consultation")
    starts = NOW + timedelta(days=3)
    workshop = events.create_event(
        db.session,
        people.agent,
        d,
        {
            "kind": "workshop",
            "title": "Atelier du jeudi",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "place": "Salle des fêtes",
            "capacity": 30,
        },
        as_of=NOW,
    )
    cafe = events.create_event(
        db.session,
        people.agent,
        d,
        {
            "kind": "meeting",
            "title": "Café du samedi",
            "starts_at": starts + timedelta(days=2),
            "ends_at": starts + timedelta(days=2, hours=2),
            "place": "Marché",
            "capacity": 80,
            "method": "world-cafe",
        },
        as_of=NOW,
    )
    contribute(
        db.session,
        d,
        item_id=d.items[0].id,
        body="Plus de pistes cyclables.",
        author=None,
        actor=None,
        as_of=utcnow(),
    )
    db.session.commit()
    used = planning.used(db.session, d)
    assert [(u.via, u.method.slug) for u in used] == [
        ("event", "atelier-citoyen"),  # a workshop's usual method
        ("event", "world-cafe"),
        ("channel", "consultation-en-ligne"),  # the online channel's usual method
    ]
    assert used[2].named is False
    planning.name_channel_method(
        db.session, people.mission, d, "online", "questionnaire", as_of=NOW
    )
    events.update_event(
        db.session,
        people.agent,
        workshop.id,
        {
            "kind": "workshop",
            "title": "Atelier du jeudi",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "place": "Salle des fêtes",
            "capacity": 30,
            "method": "diagnostic-en-marchant",
        },
        as_of=NOW,
    )
    db.session.commit()
    assert [(u.via, u.method.slug, u.named) for u in planning.used(db.session, d)] == [
        ("event", "diagnostic-en-marchant", True),
        ("event", "world-cafe", True),
        ("channel", "questionnaire", True),
    ]
    assert planning.event_method(db.session, cafe).slug == "world-cafe"
    with pytest.raises(InvalidFields) as refused:
        planning.name_channel_method(
            db.session, people.mission, d, "workshop", "world-cafe", as_of=NOW
        )
    assert "par leurs événements" in tr(refused.value.errors["channel"])


def test_the_feedback_counts_the_restitution_as_used(catalogue, make_demarche):
    d = make_demarche("feedback")
    assert [u.method.slug for u in planning.used(db.session, d)] == ["restitution-publique"]
