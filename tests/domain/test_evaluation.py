"""The evaluation of a démarche against counts made by hand: a démarche taken through its whole
life on chosen days (deadlines met on time and late, a feedback sent day by day, a refused
address, a declined consent), one with nothing, the freeze at the closing, and the number of
SQL statements, the same for 10 contributions as for 200."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import event, select

from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests import factories
from tests.conftest import complete_saisine
from tests.support import publish_synthesis
from workflows import demarches, evaluation, mailings, questions
from workflows.clock import PARIS
from workflows.decisions import decide
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.evaluation import scores
from workflows.items import add_item
from workflows.models import (
    AuditEntry,
    Contribution,
    FrozenEvaluation,
    Mailing,
    MailingKind,
    SelfAssessmentStatus,
)
from workflows.transitions import transition


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def values(e: evaluation.Evaluation) -> dict:
    return {i.code: i.value for i in e.indicators}


def missing(e: evaluation.Evaluation) -> dict:
    return {i.code: str(i.missing) for i in e.indicators if i.missing is not None}


# -- a démarche's whole life, on chosen days ---------------------------------------------------

SUBMITTED = paris("2027-01-04 10:00")  # review due on 19 January, acknowledgement that day
LAUNCHED = paris("2027-01-24 10:00")  # review met 5 days late
OPENED = paris("2027-02-15 10:00")
CLOSED = paris("2027-03-16 10:00")  # the consultation closes: the synthesis is due 16 April
PUBLISHED = paris("2027-04-20 10:00")  # synthesis published 4 days late; feedback due 20 June
FEEDBACK = paris("2027-05-02 10:00")
SENT = [paris(f"2027-05-{day:02d} 11:00") for day in (2, 3, 6, 9)]  # one row each day
ENDED = paris("2027-05-10 10:00")


@pytest.fixture
def lived(people, deliver, smtp):
    """A démarche of Portet-sur-Garonne from its saisine to its closing. Five people
    contributed (one without consent to the feedback), one contribution came without anybody;
    two questions, one answered in time, one never; the feedback went out one message a day,
    the first address refused by the mail server."""
    session = db.session
    agent, mission = people.agent, people.mission
    d = demarches.create_draft(
        session, agent, complete_saisine(people.elected), as_of=SUBMITTED - timedelta(days=3)
    )
    session.commit()
    transition(session, d.id, "submitted", actor=agent, as_of=SUBMITTED)
    session.commit()
    deliver(SUBMITTED + timedelta(hours=1))  # the receipt: the acknowledgement met that day
    transition(session, d.id, "launch", actor=mission, as_of=LAUNCHED)
    demarches.update_demarche(
        session,
        mission,
        d,
        {
            "presentation": "Ce qui peut encore changer : le tracé.",
            "consultation_opens": OPENED.date(),
            "consultation_closes": paris("2027-03-15 10:00").date(),
        },
        as_of=LAUNCHED,
    )
    first = add_item(session, mission, d, title="Tracé par la berge", as_of=LAUNCHED)
    second = add_item(session, mission, d, title="Tracé par la route", as_of=LAUNCHED)
    transition(session, d.id, "consultation", actor=mission, as_of=OPENED)
    session.commit()

    at = OPENED + timedelta(days=5)
    people_ = {
        key: factories.participant(f"{key}@exemple.fr", consents=key != "d", as_of=at)
        for key in "abcde"
    }

    def say(key, item, kind="comment", commune="Portet-sur-Garonne"):
        return factories.contribution(
            d,
            mission,
            author=people_.get(key),
            item=item,
            kind=kind,
            body=f"Avis de {key} ({kind})",
            commune=commune,
            as_of=at,
        )

    say("a", first)
    answered = say("a", first, "question")
    say("b", first, commune="Roques")
    say("c", second, commune="Muret")  # outside the territory's canton
    say("d", second)
    say("e", first, "question")  # never answered
    say(None, first)  # a paper contribution without anybody
    session.commit()
    questions.answer(session, agent, answered, "Oui.", as_of=at + timedelta(days=10))
    session.commit()

    transition(session, d.id, "synthesis", actor=mission, as_of=CLOSED)
    session.commit()
    publish_synthesis(d, mission, as_of=PUBLISHED)
    decide(session, agent, first, outcome="retained", justification="Retenu.", as_of=PUBLISHED)
    decide(session, agent, second, outcome="not_retained", justification="Non.", as_of=PUBLISHED)
    transition(session, d.id, "feedback", actor=mission, as_of=FEEDBACK)
    session.commit()
    mailing = session.scalar(
        select(Mailing).where(Mailing.demarche_id == d.id, Mailing.kind == MailingKind.FEEDBACK)
    )
    mailings.start(session, mailing.id, as_of=FEEDBACK)
    session.commit()
    smtp.rcpt_replies.append("550 5.1.1 No such user")  # the first address tried
    for moment in SENT:
        mailings.deliver_chunk(
            session,
            mailing.id,
            mailer.smtp_opener,
            lambda m: mailer.composer(session, m),
            size=1,
            now=lambda moment=moment: moment,
        )
    transition(session, d.id, "closed", actor=mission, as_of=ENDED)
    session.commit()
    return d


def test_a_whole_life_gives_the_counts_made_by_hand(lived):
    e = evaluation.evaluate(db.session, lived, as_of=ENDED + timedelta(days=30))
    assert e.frozen_at == ENDED and e.as_of == ENDED
    found = values(e)
    # Deadlines: acknowledgement on time (0), review 5 days late, synthesis 4 days late,
    # feedback on time (0): 2 of 4 on time, median of 0, 0, 4, 5 = 2, worst 5.
    assert found["deadlines_met_on_time"] == 0.5
    assert found["deadlines_median_lateness_days"] == 2
    assert found["deadlines_worst_lateness_days"] == 5
    assert e.indicator("deadlines_met_on_time").counted["due"] == 4
    # Feedback: 5 contributors, d declined, one refused by the server: 3 told of 4.
    told = e.indicator("feedback_contributors_told")
    assert told.value == 0.75
    assert told.counted == {"contributors": 5, "told": 3, "declined_or_erased": 1}
    # Sent 3, 6 and 9 May (the 2nd went to the refused address): 48, 51, 54 days after the
    # closing of 16 March; the median is 51.
    days = e.indicator("feedback_days_after_closing")
    assert days.value == 51
    assert days.counted == {"told": 3, "first_days": 48, "last_days": 54}
    assert found["feedback_decisions_justified"] == 1.0
    # Influence: 5 published contributions on the retained item, 2 on the other.
    assert found["influence_contributions_retained"] == round(5 / 7, 4)
    # Questions: 2 asked, 1 answered (10 days after: in time), the other past its deadline.
    assert found["transparency_questions_answered"] == 0.5
    assert found["transparency_questions_answered_on_time"] == 0.5
    # Mobilisation: 5 people in a canton of 53,041 inhabitants; 4 located in it (c wrote
    # from Muret), all newcomers; the canton reached, only one canton: no spread.
    assert found["mobilisation_per_1000"] == round(5 / 53041 * 1000, 4)
    per_1000 = e.indicator("mobilisation_per_1000")
    assert per_1000.details["per_canton"] == [
        {
            "code": "3112",
            "name": "Portet-sur-Garonne",
            "population": 53041,
            "participants": 4,
            "per_1000": round(4 / 53041 * 1000, 4),
        }
    ]
    assert per_1000.counted["located_outside_territory"] == 1
    assert found["mobilisation_cantons_reached"] == 1.0
    assert found["mobilisation_newcomers"] == 1.0
    assert found["mobilisation_channels"] == 1 and found["mobilisation_evenness"] == 0.0
    assert missing(e)["mobilisation_canton_spread"] == "the territory is one canton"
    assert found["framing_public_before_opening"] == 1.0
    # The feedback sent made the survey's mailing, not sent yet; nobody answered.
    assert found["survey_sent"] == 0.0
    assert missing(e)["survey_satisfaction"] == "too few answers to publish"
    # Each score is the bucket of its value.
    for indicator in e.indicators:
        assert indicator.score == scores.scale().score(indicator.code, indicator.value)
    assert e.indicator("deadlines_met_on_time").score == 2


def test_frozen_at_the_closing_and_unchanged_by_what_comes_after(lived, people):
    frozen = evaluation.evaluate(db.session, lived, as_of=ENDED)
    [row] = db.session.scalars(select(FrozenEvaluation)).all()
    assert row.frozen_at == row.data_as_of == ENDED
    # More data after the closing: the late question answered, a contribution recorded.
    late = db.session.scalar(
        select(Contribution).where(Contribution.body == "Avis de e (question)")
    )
    questions.answer(db.session, people.agent, late, "Enfin.", as_of=ENDED + timedelta(days=3))
    db.session.commit()
    again = evaluation.evaluate(db.session, lived, as_of=ENDED + timedelta(days=40))
    assert again.to_json() == frozen.to_json()
    live = evaluation.compute(db.session, lived, as_of=ENDED + timedelta(days=40))
    assert values(live)["transparency_questions_answered"] == 1.0  # the record moved on
    # Freezing again keeps the first.
    assert evaluation.freeze(db.session, lived, as_of=ENDED + timedelta(days=40)) == frozen
    assert db.session.scalars(select(FrozenEvaluation.id)).all() == [row.id]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "evaluation.freeze")
    ).all()
    assert actions == ["evaluation.freeze"]


@pytest.mark.parametrize("stage", ["draft", "launch", "consultation", "closed"])
def test_a_demarche_with_nothing_says_what_it_could_not_compute(make_demarche, stage):
    d = make_demarche(stage)
    e = evaluation.evaluate(db.session, d, as_of=datetime.now(PARIS) + timedelta(days=1))
    assert [x.code for x in e.dimensions] == list(evaluation.DIMENSION_LABELS)
    assert {i.code for i in e.indicators} == set(evaluation.CODES)
    for indicator in e.indicators:
        assert (indicator.value is None) == (indicator.missing is not None), indicator.code
        assert (indicator.score is None) == (indicator.value is None)
    reasons = missing(e)
    assert reasons["mobilisation_per_1000"] == "nobody has taken part yet"
    assert reasons["transparency_questions_answered"] == "no question asked"
    assert reasons["influence_contributions_retained"] == "no published contribution"
    if stage == "draft":
        assert reasons["framing_public_before_opening"] == (
            "the démarche is not public yet: it has not been launched"
        )
    else:
        assert "framing_public_before_opening" not in reasons
    assert (e.frozen_at is not None) == (stage == "closed")
    # What the JSON keeps reads back the same.
    assert evaluation.Evaluation.from_json(e.to_json(), frozen_at=e.frozen_at) == e


def count_statements(fn):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statements


def test_the_same_number_of_statements_for_10_as_for_200_contributions(make_demarche, people):
    counts = {}
    for size in (10, 200):
        d = make_demarche("consultation", title=f"Démarche de {size}")
        event_ = factories.event(d, people.mission, title=f"Atelier {size}")
        for n in range(size):
            author = factories.participant(f"p{size}-{n % 40}@exemple.fr") if n % 3 else None
            factories.contribution(
                d,
                people.mission,
                author=author,
                body=f"Avis {n}",
                commune=["Muret", "Revel", "Blagnac", None][n % 4],
                channel=["mail", "workshop", "meeting"][n % 3],
                kind="question" if n % 7 == 0 else "comment",
                event=event_ if n % 3 == 1 else None,
            )
        db.session.commit()
        d_id = d.id
        db.session.expire_all()
        loaded = db.session.get(type(d), d_id)
        run = partial(evaluation.compute, db.session, loaded, as_of=datetime.now(PARIS))
        counts[size] = len(count_statements(run))
    assert counts[10] == counts[200]
    assert counts[10] <= 30


# -- the scores' thresholds ----------------------------------------------------------------------


def test_the_shipped_thresholds_cover_every_indicator_and_score_by_bucket():
    scale = scores.scale()
    assert set(scale.buckets) == set(evaluation.CODES)
    assert [scale.score("deadlines_met_on_time", v) for v in (0, 0.5, 0.7, 0.89, 0.9, 1)] == [
        1,
        2,
        3,
        3,
        4,
        5,
    ]
    assert [scale.score("feedback_days_after_closing", v) for v in (200, 120, 91, 60, 30, 0)] == [
        1,
        2,
        2,
        4,
        5,
        5,
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thresholds": [0.9, 0.7, 0.5, 1.0]}, "go strictly up"),
        ({"thresholds": [1, 2, 3]}, "four numbers"),
        ({"better": "more"}, "“better”"),
    ],
)
def test_thresholds_out_of_order_are_refused_with_what_is_wrong(change, message):
    import json
    from importlib import resources

    data = json.loads(resources.files("workflows").joinpath(scores.PATH).read_text("utf-8"))
    data["indicators"]["deadlines_met_on_time"].update(change)
    with pytest.raises(ValueError, match=message):
        scores.parse(data)


# -- the self-assessment ---------------------------------------------------------------------------

ANSWERS = {"venues": "most", "outreach": "one", "means": "partly"}


def test_the_department_fills_its_self_assessment_and_the_mission_reviews_it(make_demarche, people):
    d = make_demarche("synthesis")
    now = datetime.now(PARIS)
    filled = evaluation.submit(
        db.session,
        people.agent,
        d,
        answers=ANSWERS,
        comments={"outreach": "Un stand au marché de Portet."},
        notes="  ",
        as_of=now,
    )
    db.session.commit()
    assert filled.status == SelfAssessmentStatus.SUBMITTED
    assert filled.comments == {"outreach": "Un stand au marché de Portet."} and filled.notes == ""
    with pytest.raises(InvalidFields) as refused:
        evaluation.review(db.session, people.mission, d, decision="complete", as_of=now)
    assert {k: str(v) for k, v in refused.value.errors.items()} == {
        "comment": "say what the department should complete"
    }
    with pytest.raises(PermissionDenied):
        evaluation.review(db.session, people.agent, d, decision="accept", as_of=now)
    evaluation.review(
        db.session, people.mission, d, decision="complete", comment="Les horaires ?", as_of=now
    )
    db.session.commit()
    assert filled.status == SelfAssessmentStatus.TO_COMPLETE
    with pytest.raises(Conflict):
        evaluation.review(db.session, people.mission, d, decision="accept", as_of=now)
    evaluation.submit(db.session, people.agent, d, answers=ANSWERS, notes="Le soir.", as_of=now)
    evaluation.review(db.session, people.mission, d, decision="accept", as_of=now)
    db.session.commit()
    assert filled.status == SelfAssessmentStatus.ACCEPTED and filled.review_comment == ""
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("self_assessment.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["self_assessment.submit", "self_assessment.review"] * 2


def test_a_bad_self_assessment_is_refused_field_by_field_and_nothing_saved(make_demarche, people):
    d = make_demarche("launch")
    now = datetime.now(PARIS)
    with pytest.raises(InvalidFields) as refused:
        evaluation.submit(
            db.session,
            people.agent,
            d,
            answers={"venues": "toutes", "colour": "blue"},
            comments={"means": "x" * 2001},
            as_of=now,
        )
    assert {k: str(v) for k, v in refused.value.errors.items()} == {
        "colour": "unknown question",
        "venues": "unknown answer “toutes”: choose one of all, most, few, no_venue",
        "outreach": "choose one of the answers",
        "means": "choose one of the answers",
        "means_comment": "at most 2000 characters",
    }
    assert evaluation.self_assessment_of(db.session, d) is None
    with pytest.raises(PermissionDenied):
        evaluation.submit(db.session, people.other_agent, d, answers=ANSWERS, as_of=now)
    draft = make_demarche("draft", title="Pas encore lancée")
    with pytest.raises(Conflict):
        evaluation.submit(db.session, people.agent, draft, answers=ANSWERS, as_of=now)


def test_the_documentation_gives_every_indicator_and_its_thresholds():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "evaluation.md").read_text()
    shipped = json.loads((root / "workflows" / scores.PATH).read_text())["indicators"]
    for code, spec in shipped.items():
        rows = [line for line in doc.splitlines() if f"| `{code}` |" in line]
        assert len(rows) == 2, code  # its formula, then its buckets
        assert f"| {spec['better']} `{json.dumps(spec['thresholds'])}` |" in rows[1], code
