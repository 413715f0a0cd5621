"""The elected official's overview of the démarches they sponsor (``workflows.overview``), on a
real database, time driven only through ``as_of``: which démarches, in which order, what is
late, the next deadline, what comes next and the figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from backoffice.extensions import db
from tests import factories
from tests.conftest import complete_saisine
from workflows import charter, contributions, digests, events, questions
from workflows import demarches as domain
from workflows.items import add_item
from workflows.models import Deadline, DeadlineStatus, Demarche
from workflows.overview import official_home
from workflows.participants import participant_for_user
from workflows.stages import Stage
from workflows.transitions import transition


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def drafted(people, title: str, at: datetime, *, elected=None) -> Demarche:
    values = {**complete_saisine(elected or people.elected), "title": title}
    d = domain.create_draft(db.session, people.agent, values, as_of=at)
    db.session.commit()
    return d


def acknowledged(d: Demarche, at: datetime) -> None:
    """The receipt went out on time (the outbox worker settles this deadline in real life)."""
    db.session.execute(
        update(Deadline)
        .where(Deadline.demarche_id == d.id, Deadline.rule_code == "acknowledge_saisine")
        .values(status=DeadlineStatus.MET, met_at=at)
    )
    db.session.commit()


def submitted(people, title: str, at: datetime, *, elected=None) -> Demarche:
    """A saisine submitted at ``at``: the mission's review ends 15 days later."""
    d = drafted(people, title, at - timedelta(hours=1), elected=elected)
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=at)
    db.session.commit()
    acknowledged(d, at)
    return d


def in_consultation(people, title: str = "Pistes cyclables du Lauragais") -> Demarche:
    """Consultation open from 20 March 2026 to 31 May 2026."""
    d = submitted(people, title, utc(2026, 3, 2, 9))
    transition(db.session, d.id, "launch", actor=people.mission, as_of=utc(2026, 3, 3, 9))
    add_item(db.session, people.mission, d, title="Engagement n°1", as_of=utc(2026, 3, 3, 9, 5))
    domain.update_demarche(
        db.session,
        people.mission,
        d,
        {
            "presentation": "Venez donner votre avis.",
            "consultation_opens": date(2026, 3, 20),
            "consultation_closes": date(2026, 5, 31),
        },
        as_of=utc(2026, 3, 3, 9, 10),
    )
    transition(db.session, d.id, "consultation", actor=people.mission, as_of=utc(2026, 3, 20, 8))
    db.session.commit()
    return d


def ask(d: Demarche, citizen, at: datetime, body: str = "Quand les travaux commenceront-ils ?"):
    author = participant_for_user(db.session, citizen, as_of=at)
    question = factories.contribution(
        d, citizen, body=body, kind="question", author=author, as_of=at
    )
    db.session.commit()
    return question


def titles(home) -> list[str]:
    return [o.title for o in home.demarches]


def test_an_official_reads_only_the_demarches_they_sponsor(people):
    drafted(people, "Collèges ouverts le samedi", utc(2026, 3, 1))
    drafted(people, "Aide à domicile", utc(2026, 3, 1), elected=people.other_elected)
    home = official_home(db.session, people.elected, utc(2026, 3, 2))
    assert titles(home) == ["Collèges ouverts le samedi"]
    assert home.demarches[0].stage == Stage.DRAFT
    assert titles(official_home(db.session, people.other_elected, utc(2026, 3, 2))) == [
        "Aide à domicile"
    ]


def test_late_first_then_by_next_deadline_and_finished_last(people):
    # Reviews end 15 days after submission (the last day, in Paris).
    submitted(people, "Revue le 17 mars", utc(2026, 3, 2, 9))
    submitted(people, "Revue le 12 mars", utc(2026, 2, 25, 9))
    submitted(people, "Revue le 7 mars, en retard", utc(2026, 2, 20, 9))
    drafted(people, "Brouillon sans échéance", utc(2026, 2, 1))
    refused = submitted(people, "Aaa refusée", utc(2026, 2, 1, 9))
    transition(
        db.session,
        refused.id,
        "rejected",
        actor=people.mission,
        as_of=utc(2026, 2, 3),
        comment="Hors champ",
    )
    db.session.commit()

    home = official_home(db.session, people.elected, utc(2026, 3, 10, 12))
    assert titles(home) == [
        "Revue le 7 mars, en retard",
        "Revue le 12 mars",
        "Revue le 17 mars",
        "Brouillon sans échéance",
        "Aaa refusée",
    ]
    late, soon = home.demarches[0], home.demarches[1]
    assert [(x.label, x.due_date) for x in late.late] == [
        ("Examiner une saisine", date(2026, 3, 7))
    ]
    assert late.next_deadline is None
    assert (soon.next_deadline.label, soon.next_deadline.due_date) == (
        "Examiner une saisine",
        date(2026, 3, 12),
    )
    assert soon.late == []
    assert [o.title for o in home.finished] == ["Aaa refusée"]
    assert home.demarches[-1].next_step is None


def test_a_deadline_is_late_once_its_last_day_is_over_swept_or_not(people):
    submitted(people, "Revue le 17 mars", utc(2026, 3, 2, 9))
    # 17 March, 23:59 in Paris: still the last day.
    on_the_day = official_home(db.session, people.elected, utc(2026, 3, 17, 22, 59))
    assert on_the_day.demarches[0].late == []
    assert on_the_day.demarches[0].next_deadline.due_date == date(2026, 3, 17)
    # Midnight in Paris: late, before the sweep has marked it missed …
    after = official_home(db.session, people.elected, utc(2026, 3, 17, 23, 0))
    assert [x.due_date for x in after.demarches[0].late] == [date(2026, 3, 17)]
    # … and after it.
    charter.scan(db.session, as_of=utc(2026, 3, 18, 1))
    db.session.commit()
    swept = official_home(db.session, people.elected, utc(2026, 3, 18, 1))
    assert [x.label for x in swept.demarches[0].late] == ["Examiner une saisine"]


def test_unanswered_questions_past_their_deadline_make_one_late_line(people, citizen):
    d = in_consultation(people)
    first = ask(d, citizen, utc(2026, 3, 21, 10), "Première question")
    ask(d, citizen, utc(2026, 3, 22, 10), "Deuxième question")
    answered = ask(d, citizen, utc(2026, 3, 22, 11), "Troisième question")
    ask(d, citizen, utc(2026, 4, 10, 10), "Question récente")
    questions.answer(db.session, people.agent, answered, "Dès juin.", as_of=utc(2026, 3, 25))
    db.session.commit()

    # 1 April: nothing late; the next deadline is the first question's (20 April).
    early = official_home(db.session, people.elected, utc(2026, 4, 1)).demarches[0]
    assert early.late == []
    assert (early.next_deadline.due_date, early.next_deadline.questions) == (date(2026, 4, 20), 1)
    assert early.next_deadline.label == "Répondre à la question d’un citoyen"

    # 25 April: the first two questions are past their 30 days, the recent one is not.
    late = official_home(db.session, people.elected, utc(2026, 4, 25)).demarches[0]
    assert [(x.label, x.due_date, x.questions) for x in late.late] == [
        ("Répondre à la question d’un citoyen", date(2026, 4, 20), 2)
    ]
    assert late.late[0].deadline_id == charter.deadline_of_question(db.session, first).id
    assert (late.next_deadline.due_date, late.next_deadline.questions) == (date(2026, 5, 10), 1)
    assert late.figures.questions == 4 and late.figures.answered == 1


def test_what_comes_next_says_what_it_waits_for(people):
    submitted(people, "Saisine à examiner", utc(2026, 3, 2, 9))
    launched = submitted(people, "Lancée sans élément", utc(2026, 3, 2, 9))
    transition(db.session, launched.id, "launch", actor=people.mission, as_of=utc(2026, 3, 3))
    domain.update_demarche(
        db.session,
        people.mission,
        launched,
        {"consultation_opens": date(2026, 4, 1), "consultation_closes": date(2026, 5, 31)},
        as_of=utc(2026, 3, 3, 1),
    )
    db.session.commit()
    home = {
        o.title: o for o in official_home(db.session, people.elected, utc(2026, 3, 5)).demarches
    }

    review = home["Saisine à examiner"].next_step
    assert review.stage == Stage.LAUNCH
    assert review.how.text == "It moves there when the mission accepts the saisine."
    assert review.waits_for == []

    opening = home["Lancée sans élément"].next_step
    assert opening.stage == Stage.CONSULTATION
    assert opening.how.params["date"] == date(2026, 4, 1)
    assert [m.text for m in opening.waits_for] == [
        "public presentation missing",
        "no item to comment: prepare at least one",
    ]


def test_the_consultation_closes_by_itself_and_the_synthesis_waits_for_its_publication(people):
    d = in_consultation(people)
    during = official_home(db.session, people.elected, utc(2026, 4, 1)).demarches[0].next_step
    assert (during.stage, during.how.params["date"], during.waits_for) == (
        Stage.SYNTHESIS,
        date(2026, 5, 31),
        [],
    )
    transition(db.session, d.id, "synthesis", actor=None, as_of=utc(2026, 6, 1, 8), source="task")
    db.session.commit()
    line = official_home(db.session, people.elected, utc(2026, 6, 2)).demarches[0]
    assert line.stage == Stage.SYNTHESIS
    assert line.next_step.stage == Stage.FEEDBACK
    assert "the synthesis is not published" in [m.text for m in line.next_step.waits_for]
    assert (line.next_deadline.label, line.next_deadline.due_date) == (
        "Publier la synthèse",
        date(2026, 7, 1),
    )


def test_the_figures_count_what_is_published_and_who_takes_part(people, citizen):
    d = in_consultation(people)
    other = submitted(people, "Une autre démarche", utc(2026, 3, 2, 9))
    ana = factories.participant("ana.garcia@exemple.fr", as_of=utc(2026, 3, 21))
    paul = factories.participant("paul.martin@exemple.fr", as_of=utc(2026, 3, 21))
    factories.contribution(d, people.mission, author=ana, as_of=utc(2026, 3, 21))
    factories.contribution(d, people.mission, author=ana, as_of=utc(2026, 4, 8))
    hidden = factories.contribution(d, people.mission, author=paul, as_of=utc(2026, 4, 9))
    contributions.moderate(
        db.session,
        hidden,
        "hide",
        actor=people.mission,
        reason="Hors sujet",
        as_of=utc(2026, 4, 9, 1),
    )
    ask(d, citizen, utc(2026, 4, 9, 12))
    upcoming = factories.event(
        d, people.mission, as_of=utc(2026, 4, 1), starts_in=timedelta(days=20)
    )
    past = factories.event(d, people.mission, as_of=utc(2026, 3, 21), starts_in=timedelta(days=2))
    louise = factories.participant("louise.petit@exemple.fr", as_of=utc(2026, 4, 1))
    events.register(db.session, upcoming.id, ana, as_of=utc(2026, 4, 2))
    events.register(db.session, upcoming.id, louise, as_of=utc(2026, 4, 2))
    events.register(db.session, past.id, paul, as_of=utc(2026, 3, 22))
    db.session.commit()

    lines = {
        o.title: o for o in official_home(db.session, people.elected, utc(2026, 4, 10)).demarches
    }
    figures = lines[d.title].figures
    assert figures.published == 3  # two of Ana's and the citizen's question, not the hidden one
    assert figures.published_week == 2  # 8 and 9 April
    # Ana, the citizen (contributions); Louise (upcoming event); Paul (past event, hidden text).
    assert figures.participants == 4
    assert (figures.upcoming_events, figures.registrations) == (1, 2)
    assert (figures.questions, figures.answered) == (1, 0)
    assert lines[other.title].figures.published == 0

    # The weekly digest tells the official the same figures (one source).
    [digest] = digests.compose(db.session, as_of=utc(2026, 4, 10), only=people.elected.id)
    line = next(x for x in digest.demarches if x.demarche_id == d.id)
    assert (line.contributions, line.contributions_week, line.participants) == (3, 2, 4)


def test_an_official_without_demarche_gets_the_mission_to_contact(people):
    home = official_home(db.session, people.elected, utc(2026, 3, 2))
    assert home.demarches == []
    assert [(c.name, c.email) for c in home.contacts] == [("Marc Mission", people.mission.email)]
