"""The participants' survey through real processes: entering the feedback stage sends the
feedback mailing through a Celery worker; once it is sent, the domain makes the survey's
mailing and the worker sends it too — each participant who kept both consents gets their own
link, which answers once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.processes import wait_for
from tests.seed import address, seed_contributors
from tests.support import csrf_from, publish_synthesis
from tests.workers.test_mailing_worker import citizens, fresh, status
from workflows import mailings, survey
from workflows.clock import utcnow
from workflows.decisions import decide
from workflows.models import Mailing, MailingKind, MailingStatus, Participant, SurveyAnswer
from workflows.transitions import transition

pytestmark = pytest.mark.worker

GOOD = {s.code: "5" for s in survey.STATEMENTS}


def mailing_of(d, kind: MailingKind) -> int | None:
    return fresh(
        select(Mailing.id).where(Mailing.demarche_id == d.id, Mailing.kind == kind)
    ).scalar()


def test_the_survey_follows_the_feedback_through_the_worker(
    client,
    make_demarche,
    people,
    sink,
    workers,
):
    inbox = sink()
    worker = workers(inbox)
    d = make_demarche("consultation")
    seed_contributors(db.session, d, 4, as_of=utcnow(), per_person=1)
    quiet = db.session.scalar(select(Participant).where(Participant.email == address(2)))
    quiet.consent_survey = False  # still told the feedback, not asked the survey
    db.session.commit()
    transition(db.session, d.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Fin")
    publish_synthesis(d, people.mission)
    for item in d.items:
        decide(
            db.session, people.agent, item, outcome="retained", justification="Oui.", as_of=utcnow()
        )
    transition(db.session, d.id, "feedback", actor=people.mission, as_of=utcnow())
    db.session.commit()  # after the commit, the worker starts the feedback mailing

    feedback = mailing_of(d, MailingKind.FEEDBACK)
    assert wait_for(lambda: status(feedback) == MailingStatus.SENT, 60), worker.log()
    assert wait_for(lambda: mailing_of(d, MailingKind.SURVEY) is not None, 30), worker.log()
    survey_id = mailing_of(d, MailingKind.SURVEY)
    assert wait_for(lambda: status(survey_id) == MailingStatus.SENT, 60), worker.log()

    asked = [r for r in citizens(inbox) if "/questionnaire/" in r["text"]]
    assert sorted(r["to"][0] for r in asked) == [address(1), address(3), address(4)]
    links = {
        r["to"][0]: re.search(r"http://dialogue\.test(/questionnaire/[\w.-]+)", r["text"]).group(1)
        for r in asked
    }
    assert len(set(links.values())) == 3
    assert len([r for r in citizens(inbox) if r["to"][0] == address(2)]) == 1  # the feedback
    db.session.rollback()
    assert survey.sent(db.session, d)

    # The link answers once.
    page = client.get(links[address(1)])
    assert page.status_code == 200
    token = csrf_from(page.text)
    assert client.post(links[address(1)], data={"csrf_token": token, **GOOD}).status_code == 200
    assert client.post(links[address(1)], data={"csrf_token": token, **GOOD}).status_code == 409
    assert fresh(select(func.count()).select_from(SurveyAnswer)).scalar() == 1
    # Made once: the sweep or a second call changes nothing.
    assert mailings.send_survey(db.session, d, as_of=utcnow()).id == survey_id
