"""The yearly report against counts made by hand: démarches of the year by stage, level and
department; participants and contributions; participants per canton per 1,000 inhabitants
from the territory CSV; the charter's deadlines kept; feedback coverage; the trends; a year
with nothing; and the number of SQL statements, the same for 2 démarches as for 20."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from backoffice.extensions import db
from workflows import report, survey
from workflows.clock import local_date, utcnow
from workflows.models import (
    Audience,
    Channel,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Delivery,
    DeliveryStatus,
    Demarche,
    Mailing,
    MailingKind,
    MailingStatus,
    StageTransition,
)
from workflows.participants import participant_for_email
from workflows.stages import Stage

CSV = Path(__file__).resolve().parents[2] / "workflows" / "data" / "haute-garonne-communes.csv"
# Commune INSEE codes: Muret (canton 3109), Toulouse (3199), Saint-Gaudens (3114).
MURET, TOULOUSE, SAINT_GAUDENS = "31395", "31555", "31483"


def population_of(canton: str) -> int:
    with CSV.open(encoding="utf-8") as fh:
        return sum(int(r["population"]) for r in csv.DictReader(fh) if r["canton_code"] == canton)


def canton_of(insee: str) -> str:
    with CSV.open(encoding="utf-8") as fh:
        return next(r["canton_code"] for r in csv.DictReader(fh) if r["insee_code"] == insee)


def said(d: Demarche, person, commune: str | None, *, status=ContributionStatus.PUBLISHED):
    """A contribution row to ``d`` (written as an import would, whatever the stage)."""
    now = utcnow()
    row = Contribution(
        demarche_id=d.id,
        item_id=d.items[0].id,
        participant_id=person.id if person else None,
        kind=ContributionKind.COMMENT,
        channel=Channel.MAIL,
        body="Un avis.",
        commune_insee=commune,
        canton_code=canton_of(commune) if commune else None,
        status=status,
        contributed_at=now,
        created_at=now,
    )
    db.session.add(row)
    return row


def opened_on(d: Demarche, when: datetime) -> None:
    """Record an earlier opening of ``d``'s consultation (the first one counts)."""
    db.session.add(
        StageTransition(
            demarche_id=d.id,
            from_stage=Stage.LAUNCH,
            to_stage=Stage.CONSULTATION,
            source="cli",
            at=when,
        )
    )


def told(d: Demarche, person) -> None:
    """A feedback mailing of ``d`` that reached ``person``."""
    now = utcnow()
    mailing = Mailing(
        kind=MailingKind.FEEDBACK,
        demarche_id=d.id,
        audience=Audience.CONTRIBUTORS,
        subject="Ce que nous avons fait de vos avis",
        body="Bonjour",
        status=MailingStatus.SENT,
        created_at=now,
        updated_at=now,
    )
    db.session.add(mailing)
    db.session.flush()
    db.session.add(
        Delivery(
            mailing_id=mailing.id,
            address=person.email,
            participant_id=person.id,
            status=DeliveryStatus.SENT,
            next_attempt_at=now,
            sent_at=now,
        )
    )


@pytest.fixture
def year_of_demarches(people, make_demarche):
    """This year: a concertation of the roads department in consultation (3 people, one
    refused contribution, one without anybody), a consultation of the social department
    closed (2 people, one told); a launch not opened yet (no year). Last year: one
    démarche with one person."""
    now = utcnow()
    ana = participant_for_email(db.session, "ana@exemple.fr", name="Ana", as_of=now)
    bruno = participant_for_email(db.session, "bruno@exemple.fr", name="Bruno", as_of=now)
    chloe = participant_for_email(db.session, "chloe@exemple.fr", name="Chloé", as_of=now)
    denis = participant_for_email(db.session, "denis@exemple.fr", name="Denis", as_of=now)
    roads = make_demarche("consultation", participation_level="concertation")
    social = make_demarche(
        "closed", agent=people.other_agent, participation_level="consultation", title="Social"
    )
    make_demarche("launch", title="Pas encore ouverte")
    earlier = make_demarche("synthesis", title="L'an dernier")
    opened_on(earlier, now.replace(year=now.year - 1, month=6, day=15))
    said(roads, ana, MURET)
    said(roads, ana, MURET)
    said(roads, bruno, TOULOUSE)
    said(roads, chloe, None)
    said(roads, denis, SAINT_GAUDENS, status=ContributionStatus.REJECTED)
    said(roads, None, MURET)
    said(social, ana, MURET)
    said(social, denis, SAINT_GAUDENS)
    said(earlier, bruno, TOULOUSE)
    told(social, ana)
    db.session.commit()
    return roads, social, earlier


def test_the_figures_of_a_year_equal_hand_counts(year_of_demarches):
    roads, social, earlier = year_of_demarches
    now = utcnow()
    year = local_date(now).year
    r = report.yearly(db.session, year, as_of=now)

    assert r.figures.demarches == 2
    assert {k: v for k, v in r.by_stage.items() if v} == {"consultation": 1, "closed": 1}
    assert {k: v for k, v in r.by_level.items() if v} == {"concertation": 1, "consultation": 1}
    assert {row["name"]: row["demarches"] for row in r.by_department} == {
        "Direction des routes": 1,
        "Direction de l'action sociale": 1,
    }
    # Ana, Bruno, Chloé, Denis (his refused contribution to the roads left out, his other in).
    assert r.figures.participants == 4
    assert r.figures.contributions == 7  # 8 rows of this year, one refused
    assert r.contributions_without_person == 1

    per_canton = {row["code"]: row for row in r.per_canton}
    muret = per_canton[canton_of(MURET)]
    assert muret["participants"] == 1  # Ana, once
    assert muret["population"] == population_of(canton_of(MURET))
    assert muret["per_1000"] == round(1 / population_of(canton_of(MURET)) * 1000, 4)
    assert per_canton["3199"]["participants"] == 1  # Bruno, Toulouse as one unit
    assert per_canton["3199"]["population"] == population_of("3199")
    assert per_canton[canton_of(SAINT_GAUDENS)]["participants"] == 1  # Denis, for social
    assert len(r.per_canton) == 22  # 16 cantons outside Toulouse + Toulouse as one
    assert r.participants_outside == 1  # Chloé, without a commune
    with CSV.open(encoding="utf-8") as fh:
        everyone = sum(int(row["population"]) for row in csv.DictReader(fh))
    assert r.population == everyone
    assert r.figures.per_1000 == round(4 / everyone * 1000, 4)

    # The charter's deadlines of the two démarches, counted by hand from their rows.
    rows = db.session.scalars(
        select(Deadline).where(
            Deadline.demarche_id.in_([roads.id, social.id]), Deadline.question_id.is_(None)
        )
    ).all()
    tally: Counter[str] = Counter()
    for row in rows:
        if row.status == DeadlineStatus.WAIVED:
            tally["waived"] += 1
        elif row.status == DeadlineStatus.MET and row.met_at is not None:
            tally["met_on_time" if row.met_at < row.due_at else "met_late"] += 1
        elif row.due_at <= now:
            tally["missed"] += 1
    assert r.deadlines["deadlines"] == len(rows)
    assert r.deadlines["met_on_time"] == tally["met_on_time"]
    assert r.deadlines["due"] == tally["met_on_time"] + tally["met_late"] + tally["missed"]

    # Feedback: the closed démarche's two contributors, Ana told.
    assert r.feedback == {"contributors": 2, "told": 1, "declined_or_erased": 0}
    assert r.figures.feedback_share == 0.5

    # Trends: last year, one démarche, Bruno.
    assert [(t.year, t.demarches, t.participants, t.contributions) for t in r.trends] == [
        (year - 1, 1, 1, 1)
    ]
    assert r.labels == []  # no label model yet
    assert [s["demarches"] for s in r.survey] == [0, 0]


@pytest.fixture
def minimum_of_three():
    survey.configure(minimum=3)
    yield
    survey.configure(minimum=survey.MIN_ANSWERS)


def answered(d, satisfaction: int, *, online_by=None, mission=None) -> None:
    """One answer to ``d``'s survey: through ``online_by``'s invitation, else on paper."""
    data = {s.code: "3" for s in survey.STATEMENTS} | {"satisfaction": str(satisfaction)}
    if online_by is not None:
        nonce = survey.invitation_nonce(db.session, d.id, online_by.id, as_of=utcnow())
        survey.answer(db.session, nonce, data)
    else:
        survey.add_paper_answer(db.session, mission, d, data, as_of=utcnow())


def test_the_survey_is_read_from_its_answers_above_the_minimum(
    year_of_demarches, people, minimum_of_three
):
    """Roads: 4 invited, 2 answered online, 2 on paper — satisfied 3 of 4. Social: 2 answers,
    below the minimum of 3: not published, so not counted."""
    roads, social, _ = year_of_demarches
    invited = [
        participant_for_email(db.session, f"p{n}@exemple.fr", as_of=utcnow()) for n in range(4)
    ]
    answered(roads, 5, online_by=invited[0])
    answered(roads, 4, online_by=invited[1])
    survey.invitation_nonce(db.session, roads.id, invited[2].id, as_of=utcnow())
    survey.invitation_nonce(db.session, roads.id, invited[3].id, as_of=utcnow())
    mission = people.mission
    answered(roads, 4, mission=mission)
    answered(roads, 2, mission=mission)
    answered(social, 5, mission=mission)
    answered(social, 5, mission=mission)
    db.session.commit()
    now = utcnow()
    r = report.yearly(db.session, local_date(now).year, as_of=now)
    found = {s["code"]: s for s in r.survey}
    assert found["survey_response_rate"]["demarches"] == 1
    assert found["survey_response_rate"]["mean"] == 0.5
    assert found["survey_response_rate"]["counted"] == {"invitations": 4, "answers": 2}
    assert found["survey_satisfaction"]["mean"] == 0.75
    assert found["survey_satisfaction"]["counted"] == {"answers": 4, "agreeing": 3}
    # The social démarche reaches the minimum: it counts, and the mean moves.
    answered(social, 1, mission=mission)
    db.session.commit()
    r = report.yearly(db.session, local_date(now).year, as_of=now)
    found = {s["code"]: s for s in r.survey}
    assert found["survey_satisfaction"]["demarches"] == 2
    assert found["survey_satisfaction"]["mean"] == round((0.75 + 2 / 3) / 2, 4)
    assert found["survey_satisfaction"]["lowest"] == round(2 / 3, 4)


def test_a_year_with_nothing_is_a_report_that_says_so(ctx):
    r = report.yearly(db.session, 2019, as_of=utcnow())
    assert r.empty
    assert r.figures.participants == 0 and r.trends == []
    assert r.figures.deadlines_share is None and r.figures.feedback_share is None
    assert report.YearlyReport.from_json(r.to_json()) == r


def test_the_report_round_trips_through_json(year_of_demarches):
    r = report.yearly(db.session, local_date(utcnow()).year, as_of=utcnow())
    assert report.YearlyReport.from_json(r.to_json()) == r


def statements(fn) -> int:
    engine = db.session.get_bind()
    seen = []

    def count(*args) -> None:
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_report_takes_a_fixed_number_of_statements(people, make_demarche):
    now = utcnow()
    year = local_date(now).year
    person = participant_for_email(db.session, "ana@exemple.fr", name="Ana", as_of=now)

    def grow(n: int) -> None:
        for k in range(n):
            d = make_demarche("consultation", title=f"Démarche {k} {n}")
            said(d, person, MURET)
            if k % 2:
                opened_on(d, now - timedelta(days=400))
        db.session.commit()

    grow(2)
    db.session.expire_all()
    few = statements(lambda: report.yearly(db.session, year, as_of=utcnow()))
    grow(18)
    db.session.expire_all()
    many = statements(lambda: report.yearly(db.session, year, as_of=utcnow()))
    assert few == many == 11
    assert report.yearly(db.session, year, as_of=utcnow()).figures.demarches == 10


def test_the_labels_held_by_the_year_s_demarches_are_listed(year_of_demarches, people):
    from workflows import label

    _, social, _ = year_of_demarches
    now = utcnow()
    r = report.yearly(db.session, local_date(now).year, as_of=now)
    assert r.labels == []
    reason = "Le questionnaire a été remis en main propre à l’atelier de clôture."
    label.award(db.session, social, "bronze", reason, people.mission, now)
    db.session.commit()
    r = report.yearly(db.session, local_date(now).year, as_of=now)
    assert r.labels == [
        {
            "demarche_id": social.id,
            "title": "Social",
            "level": "bronze",
            "label": "★ Charte respectée",
        }
    ]
    # Last year's report lists none of this year's labels.
    assert report.yearly(db.session, local_date(now).year - 1, as_of=now).labels == []
