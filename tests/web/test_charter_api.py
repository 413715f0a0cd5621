"""The charter over the API: a démarche's ``deadlines``, ``GET /api/v1/deadlines``, the
waiver and ``POST /api/v1/questions/{id}/answer``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backoffice.extensions import db
from workflows import charter
from workflows.clock import PARIS, utcnow
from workflows.models import AuditEntry, Deadline, OutboxMessage


def ask(api, citizen, d, text="Quand les travaux commencent-ils ?"):
    created = api(
        citizen,
        "post",
        f"/api/v1/demarches/{d.id}/contributions",
        json={"item_id": d.items[0].id, "body": text, "kind": "question"},
    )
    assert created.status_code == 201, created.json
    return created.json["id"]


def test_a_demarche_lists_its_deadlines(api, people, make_demarche, citizen):
    d = make_demarche("consultation")
    question_id = ask(api, citizen, d)
    body = api(people.mission, "get", f"/api/v1/demarches/{d.id}").json
    by_rule = {row["rule"]: row for row in body["deadlines"]}
    assert {"acknowledge_saisine", "review_saisine", "answer_question"} <= set(by_rule)
    review = by_rule["review_saisine"]
    assert set(review) >= {"id", "rule", "due", "status", "met_at"}
    assert review["status"] == "met" and review["met_at"]
    answer = by_rule["answer_question"]
    assert answer["status"] == "pending" and answer["met_at"] is None
    assert answer["question_id"] == question_id
    assert answer["due"] == (utcnow() + timedelta(days=30)).astimezone(PARIS).date().isoformat()


def test_the_mission_lists_pending_and_missed_deadlines(api, people, make_demarche, citizen):
    d = make_demarche("consultation")
    ask(api, citizen, d)
    later = make_demarche("submitted")
    pending = api(people.mission, "get", "/api/v1/deadlines?status=pending").json
    assert pending["total"] >= 2
    assert {row["rule"] for row in pending["items"]} >= {"answer_question", "review_saisine"}
    assert all(row["status"] == "pending" for row in pending["items"])
    dues = [row["due_at"] for row in pending["items"]]
    assert dues == sorted(dues)

    # due_before, as a date: the last day on or before it.
    review = db.session.scalar(
        select(Deadline).where(
            Deadline.demarche_id == later.id, Deadline.rule_code == "review_saisine"
        )
    )
    day = review.due_date.isoformat()
    on_the_day = api(people.mission, "get", f"/api/v1/deadlines?status=pending&due_before={day}")
    assert review.id in [row["id"] for row in on_the_day.json["items"]]
    before = (review.due_date - timedelta(days=1)).isoformat()
    day_before = api(people.mission, "get", f"/api/v1/deadlines?due_before={before}").json
    assert review.id not in [row["id"] for row in day_before["items"]]
    # … and as a date-time (Paris when it has no offset): the instant it ends.
    end = review.due_at.astimezone(PARIS).replace(tzinfo=None).isoformat()
    assert review.id in [
        row["id"]
        for row in api(people.mission, "get", f"/api/v1/deadlines?due_before={end}").json["items"]
    ]

    # After the sweep past its end, it is missed.
    charter.scan(db.session, as_of=review.due_at + timedelta(minutes=1))
    missed = api(people.mission, "get", "/api/v1/deadlines?status=missed").json
    assert review.id in [row["id"] for row in missed["items"]]

    bad = api(people.mission, "get", "/api/v1/deadlines?status=late&due_before=demain")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"status", "due_before"}
    assert bad.json["errors"]["due_before"] == ["une date ou une date et heure ISO attendue"]

    # A department sees its own démarches' deadlines only; another department none of them.
    assert api(people.agent, "get", "/api/v1/deadlines").json["total"] >= 2
    assert api(people.other_agent, "get", "/api/v1/deadlines").json["total"] == 0
    assert api(people.mission, "get", "/api/v1/deadlines").status_code == 200


def test_only_the_mission_waives_with_a_reason(api, people, make_demarche):
    d = make_demarche("submitted")
    review = db.session.scalar(
        select(Deadline).where(Deadline.demarche_id == d.id, Deadline.rule_code == "review_saisine")
    )
    url = f"/api/v1/deadlines/{review.id}/waive"
    assert api(people.agent, "post", url, json={"reason": "Pas besoin"}).status_code == 403
    empty = api(people.mission, "post", url, json={"reason": "   "})
    assert empty.status_code == 422
    assert empty.json["errors"] == {"reason": ["le motif est obligatoire"]}
    done = api(people.mission, "post", url, json={"reason": "Saisine reportée par le service"})
    assert done.status_code == 200
    assert done.json["status"] == "waived"
    assert done.json["waive_reason"] == "Saisine reportée par le service"
    again = api(people.mission, "post", url, json={"reason": "encore"})
    assert again.status_code == 409 and "déjà « Levée »" in again.json["message"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "deadline.waive"))
    assert (
        api(
            people.mission, "post", "/api/v1/deadlines/999999/waive", json={"reason": "x"}
        ).status_code
        == 404
    )


def test_the_department_answers_a_question(api, people, make_demarche, citizen):
    d = make_demarche("consultation")
    question_id = ask(api, citizen, d)
    url = f"/api/v1/questions/{question_id}/answer"
    assert api(people.other_agent, "post", url, json={"answer": "Non"}).status_code == 404
    assert api(people.elected, "post", url, json={"answer": "Non"}).status_code == 403
    assert api(people.agent, "post", url, json={"answer": " "}).status_code == 422
    assert api(people.agent, "post", url, json={}).status_code == 422

    done = api(
        people.agent, "post", url, json={"answer": "Au printemps 2027, <b>après</b> l'étude."}
    )
    assert done.status_code == 200, done.json
    body = done.json
    assert body["answer"] == "Au printemps 2027, après l'étude."
    assert body["answered_at"] and body["deadline"]["status"] == "met"
    assert body["deadline"]["on_time"] is True
    emails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "question_answered")
    ).all()
    assert [m.address for m in emails] == [citizen.email]

    # A correction changes the text, not the date, and emails no one again.
    fixed = api(people.agent, "post", url, json={"answer": "Au printemps 2027."}).json
    assert fixed["answer"] == "Au printemps 2027." and fixed["answered_at"] == body["answered_at"]
    assert (
        len(
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "question_answered")
            ).all()
        )
        == 1
    )
    assert (
        api(
            people.agent, "post", "/api/v1/questions/999999/answer", json={"answer": "x"}
        ).status_code
        == 404
    )


def test_another_demarches_deadline_or_question_is_not_found_without_naming_it(
    api, people, make_demarche, citizen
):
    """An agent of another department asking for a deadline or answering a question of a
    démarche they may not see got « aucune démarche n° 7 »: the id of a démarche they had
    not named. Now: not found, in the terms they used."""
    d = make_demarche("consultation")
    question_id = ask(api, citizen, d)
    deadline = db.session.scalar(
        select(Deadline).where(Deadline.demarche_id == d.id, Deadline.question_id.is_(None))
    )
    answers = [
        api(people.other_agent, "get", f"/api/v1/deadlines/{deadline.id}"),
        api(
            people.other_agent,
            "post",
            f"/api/v1/questions/{question_id}/answer",
            json={"answer": "Non"},
        ),
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json["message"] == f"aucune échéance {deadline.id}"
    assert answers[1].json["message"] == f"aucune question {question_id}"
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert d.title not in text and d.slug not in text
        assert f"n° {d.id}" not in text and "démarche" not in answer.json["message"]
    # The same answers as for ids that do not exist at all.
    assert api(people.other_agent, "get", "/api/v1/deadlines/999999").json["message"] == (
        "aucune échéance 999999"
    )
