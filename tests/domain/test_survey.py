"""The participants' survey: who gets it (both consents, no unsubscription), each with their
own single-use link; an answer counts once; forged or reused links, missing answers and
out-of-range scores write nothing; answers cannot be linked back to anyone; paper answers;
aggregates hidden below the threshold and shown from it; the evaluation's experience
indicators."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from backoffice import tokens
from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests.seed import address, seed_contributors
from workflows import evaluation, mailings, survey
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidFields, NotFound, PermissionDenied
from workflows.models import (
    AuditEntry,
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingKind,
    MailingStatus,
    Participant,
    SurveyAnswer,
    SurveyInvitation,
    SurveyScore,
)
from workflows.outbox import PermanentDeliveryError

#: Every statement answered 4, but satisfaction 5 and « outcome » 2.
GOOD = {s.code: "4" for s in survey.STATEMENTS} | {"satisfaction": "5", "outcome": "2"}
LINK = re.compile(r"/questionnaire/([\w.-]+)")


@pytest.fixture
def minimum():
    """Publish from ``n`` answers (the setting SURVEY_MIN_ANSWERS, 30 by default)."""
    was = survey.minimum()
    yield lambda n: survey.configure(minimum=n)
    survey.configure(minimum=was)


def deliver(mailing_id: int, as_of=None) -> None:
    moment = as_of or utcnow()
    while True:
        _, more = mailings.deliver_chunk(
            db.session,
            mailing_id,
            mailer.smtp_opener,
            lambda m: mailer.composer(db.session, m),
            size=50,
            now=lambda: moment,
        )
        if not more:
            return


def at_feedback(make_demarche, count: int):
    d = make_demarche("feedback")
    seed_contributors(db.session, d, count, as_of=utcnow(), per_person=1)
    db.session.commit()
    return d


def person(n: int) -> Participant:
    return db.session.scalar(select(Participant).where(Participant.email == address(n)))


def send_survey(d) -> Mailing:
    mailing = mailings.send_survey(db.session, d, as_of=utcnow())
    db.session.commit()
    mailings.start(db.session, mailing.id, as_of=utcnow())
    deliver(mailing.id)
    return mailing


def link_of(smtp, n: int) -> str:
    [message] = [m for m in smtp.to(address(n)) if "questionnaire" in m.text]
    return LINK.search(message.text).group(1)


def nonce_of(smtp, n: int) -> str | None:
    return tokens.read_survey_token(link_of(smtp, n))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# -- who gets it ----------------------------------------------------------------------------------


def test_the_survey_goes_to_who_kept_both_consents_each_with_their_own_link(
    app, make_demarche, smtp
):
    d = at_feedback(make_demarche, 5)
    person(2).consent_survey = False
    person(3).consent_feedback = False
    db.session.commit()
    mailings.unsubscribe(db.session, address(4), "survey", as_of=utcnow())
    db.session.commit()
    assert person(4).consent_survey is False and person(4).consent_feedback is True

    mailing = send_survey(d)
    assert mailing.kind == MailingKind.SURVEY
    got = sorted(m.rcpt_tos[0] for m in smtp.received if "questionnaire" in m.text)
    assert got == [address(1), address(5)]
    skipped = {
        row.address: row.skip_reason
        for row in db.session.scalars(select(Delivery).where(Delivery.mailing_id == mailing.id))
        if row.status == DeliveryStatus.SKIPPED
    }
    assert skipped == {
        address(2): "no_consent",
        address(3): "no_consent",
        address(4): "unsubscribed",
    }
    first, fifth = link_of(smtp, 1), link_of(smtp, 5)
    assert first != fifth
    message = smtp.to(address(1))[0]
    assert message.subject == f"Votre avis sur la démarche « {d.title} »"
    # The link names nobody: a signed random secret, no id, no address.
    nonces = set(db.session.scalars(select(SurveyInvitation.nonce)))
    assert {tokens.read_survey_token(first), tokens.read_survey_token(fifth)} == nonces
    assert "citoyen" not in first
    assert count(SurveyInvitation) == 2
    # Made once: asking again returns the same mailing and sends nothing more.
    assert mailings.send_survey(db.session, d, as_of=utcnow()).id == mailing.id
    assert db.session.scalar(select(func.count()).where(Mailing.kind == MailingKind.SURVEY)) == 1
    assert survey.sent(db.session, d)


def test_the_feedback_unsubscription_stops_the_survey_too_and_the_surveys_only_itself(
    app, make_demarche, smtp
):
    d = at_feedback(make_demarche, 3)
    mailing = mailings.send_survey(db.session, d, as_of=utcnow())
    db.session.commit()
    mailings.start(db.session, mailing.id, as_of=utcnow())
    # Before it goes: one withdraws the feedback (which the survey needs), by its link.
    mailings.unsubscribe(db.session, address(1), "feedback", as_of=utcnow())
    db.session.commit()
    deliver(mailing.id)
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == [address(2), address(3)]
    row = db.session.scalar(select(Delivery).where(Delivery.address == address(1)))
    assert (row.status, row.skip_reason) == (DeliveryStatus.SKIPPED, "unsubscribed")
    assert person(1).consent_feedback is False and person(1).consent_survey is True


def test_the_survey_waits_for_the_feedback_and_is_the_missions(make_demarche, people):
    d = make_demarche("synthesis")
    with pytest.raises(Conflict):
        mailings.send_survey(db.session, d, as_of=utcnow())
    closed = make_demarche("feedback")
    with pytest.raises(PermissionDenied):
        mailings.send_survey(db.session, closed, as_of=utcnow(), actor=people.agent)


def test_a_preview_or_a_test_carries_a_link_that_answers_nothing(app, make_demarche, people):
    d = at_feedback(make_demarche, 1)
    mailing = mailings.send_survey(db.session, d, as_of=utcnow())
    letter = mailer.composer(db.session, mailing).compose(address(1), "A", person(1).id)
    assert "/questionnaire/exemple" in letter.text
    assert count(SurveyInvitation) == 0


def test_every_link_sent_names_a_stored_invitation_whatever_the_chunk_meets(app, make_demarche):
    """A hard bounce in the middle of a chunk starts the session afresh: the invitations of
    the messages already gone are kept all the same (they are stored before any leaves)."""
    d = at_feedback(make_demarche, 4)
    mailing = mailings.send_survey(db.session, d, as_of=utcnow())
    db.session.commit()
    mailings.start(db.session, mailing.id, as_of=utcnow())
    sent: list[str] = []

    class Relay:
        def send(self, letter):
            if letter.address == address(3):
                raise PermanentDeliveryError("550 5.1.1 unknown", code=550, mailbox_unknown=True)
            sent.append(LINK.search(letter.text).group(1))
            return f"<{len(sent)}@test>"

    class Opener:
        def __enter__(self):
            return Relay()

        def __exit__(self, *exc):
            return False

    token = mailings.claim(db.session, mailing.id, as_of=utcnow())
    composer = mailer.composer(db.session, db.session.get(Mailing, mailing.id))
    mailings.send_chunk(db.session, token, Opener, composer)
    db.session.rollback()
    assert len(sent) == 3
    stored = set(db.session.scalars(select(SurveyInvitation.nonce)))
    assert {tokens.read_survey_token(link) for link in sent} <= stored


def test_the_questionnaire_link_is_never_rendered_once_for_all():
    """A subject rendered once would carry the first recipient's answer-once link to all."""
    subject = "Votre lien : [Lien vers le questionnaire]"
    assert not mailings.templates.reads_the_same_for_all(subject)


# -- answering --------------------------------------------------------------------------------


def invited(d, n: int = 1) -> str:
    nonce = survey.invitation_nonce(db.session, d.id, person(n).id, as_of=utcnow())
    db.session.commit()
    return nonce


def test_an_answer_through_the_same_link_counts_once(make_demarche):
    d = at_feedback(make_demarche, 1)
    nonce = invited(d)
    assert invited(d) == nonce  # one invitation per participant per démarche
    survey.answer(db.session, nonce, GOOD)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        survey.answer(db.session, nonce, GOOD | {"satisfaction": "1"})
    db.session.rollback()
    assert str(refused.value.messages[0]).startswith(
        "this questionnaire was already answered through this link"
    )
    assert count(SurveyAnswer) == 1
    assert count(SurveyScore) == len(survey.STATEMENTS)
    assert db.session.scalar(select(SurveyInvitation.answered)) is True


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({k: v for k, v in GOOD.items() if k != "outcome"}, "outcome", "choose one of the answers"),
        (GOOD | {"satisfaction": "6"}, "satisfaction", "an answer from 1 to 5"),
        (GOOD | {"information": "0"}, "information", "an answer from 1 to 5"),
        (GOOD | {"expression": "-1"}, "expression", "an answer from 1 to 5"),
        (GOOD | {"listened": "quatre"}, "listened", "an answer from 1 to 5"),
        (GOOD | {"age_band": "12_17"}, "age_band", "choose one of the answers"),
        (GOOD | {"first_time": "peut-être"}, "first_time", "choose one of the answers"),
        (GOOD | {"comment": "x" * 2001}, "comment", "at most 2000 characters"),
    ],
)
def test_a_wrong_answer_is_refused_and_nothing_is_written(make_demarche, data, field, message):
    d = at_feedback(make_demarche, 1)
    nonce = invited(d)
    with pytest.raises(InvalidFields) as refused:
        survey.answer(db.session, nonce, data)
    db.session.rollback()
    assert str(refused.value.errors[field]) == message
    assert count(SurveyAnswer) == count(SurveyScore) == 0
    assert db.session.scalar(select(SurveyInvitation.answered)) is False  # still answerable
    survey.answer(db.session, nonce, GOOD)


@pytest.mark.parametrize("nonce", [None, "", "inconnu", "x" * 64])
def test_a_forged_link_is_refused_and_nothing_is_written(make_demarche, nonce):
    d = at_feedback(make_demarche, 1)
    invited(d)
    with pytest.raises(NotFound) as refused:
        survey.answer(db.session, nonce, GOOD)
    assert str(refused.value.messages[0]).startswith("this questionnaire link is not valid")
    assert count(SurveyAnswer) == 0


def test_a_token_we_did_not_sign_reads_as_nothing(app):
    with app.test_request_context():
        good = tokens.survey_token("secret")
        assert tokens.read_survey_token(good) == "secret"
        assert tokens.read_survey_token(good[:-2] + "xx") is None
        assert tokens.read_survey_token(tokens.unsubscribe_token(1, "survey")) is None


# -- stored apart -----------------------------------------------------------------------------


def test_answers_cannot_be_linked_to_anyone(make_demarche):
    d = at_feedback(make_demarche, 20)
    for n in range(1, 21):
        survey.answer(db.session, invited(d, n), GOOD)
        db.session.commit()
    # No column joins an answer to an invitation, a participant, an account or a moment.
    for model in (SurveyAnswer, SurveyScore):
        table = model.__table__
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert targets <= {"demarches", "survey_answers"}, model
        for column in table.columns:
            assert not column.name.endswith("_at") and "time" not in str(column.type).lower()
    assert {c.name for c in SurveyAnswer.__table__.columns} == {
        "id",
        "demarche_id",
        "source",
        "first_time",
        "age_band",
        "comment",
    }
    # The invitation keeps whether, never when (its only time is when it was made).
    invitation_columns = {c.name for c in inspect(SurveyInvitation).columns}
    assert invitation_columns == {
        "id",
        "demarche_id",
        "participant_id",
        "nonce",
        "answered",
        "created_at",
    }
    # Random ids: their order is not the order the answers came in.
    ids = db.session.scalars(select(SurveyAnswer.id)).all()
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 20
    if db.engine.dialect.name == "sqlite":  # no hidden row numbers counting arrivals
        assert ids == sorted(ids)  # stored in the key's order, whatever the arrival
        with pytest.raises(Exception, match="rowid"):
            db.session.execute(text("SELECT rowid FROM survey_answers"))
        db.session.rollback()
    # Nothing about an online answer is in the audit log.
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert not [a for a in actions if a.startswith("survey")]


# -- paper answers ------------------------------------------------------------------------------


def test_the_mission_types_in_paper_answers_with_the_same_checks(make_demarche, people):
    d = make_demarche("consultation")
    survey.add_paper_answer(
        db.session,
        people.mission,
        d,
        GOOD | {"age_band": "60_74", "first_time": "yes"},
        as_of=utcnow(),
    )
    db.session.commit()
    with pytest.raises(InvalidFields) as refused:
        survey.add_paper_answer(
            db.session, people.mission, d, GOOD | {"would_return": "9"}, as_of=utcnow()
        )
    db.session.rollback()
    assert set(refused.value.errors) == {"would_return"}
    with pytest.raises(PermissionDenied):
        survey.add_paper_answer(db.session, people.agent, d, GOOD, as_of=utcnow())
    with pytest.raises(Conflict):
        survey.add_paper_answer(
            db.session, people.mission, make_demarche("draft"), GOOD, as_of=utcnow()
        )
    db.session.rollback()
    [answer] = db.session.scalars(select(SurveyAnswer)).all()
    assert (answer.source.value, answer.age_band, answer.first_time) == ("paper", "60_74", True)
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.paper_answer")
    ).all()
    assert len(audit) == 1 and audit[0].actor_id == people.mission.id


# -- results --------------------------------------------------------------------------------------


def test_aggregates_stay_hidden_below_the_threshold_and_show_from_it(
    make_demarche, people, minimum
):
    minimum(3)
    d = at_feedback(make_demarche, 4)
    survey.answer(db.session, invited(d, 1), GOOD)
    survey.answer(db.session, invited(d, 2), GOOD | {"satisfaction": "2", "comment": "Merci."})
    invited(d, 3)
    invited(d, 4)
    db.session.commit()
    below = survey.results(db.session, d)
    assert (below.answers, below.invitations, below.published) == (2, 4, False)
    assert str(below.missing) == "too few answers to publish"
    assert below.statements == () and below.response_rate is None and below.age_bands == {}
    staff = survey.results(db.session, d, reveal=True)  # staff see them, still unpublished
    assert staff.published is False and staff.statement("satisfaction").counts == (0, 1, 0, 0, 1)

    survey.add_paper_answer(
        db.session, people.mission, d, GOOD | {"satisfaction": "3"}, as_of=utcnow()
    )
    db.session.commit()
    found = survey.results(db.session, d)
    assert found.published and found.missing is None
    assert (found.answers, found.online, found.paper) == (3, 2, 1)
    assert found.response_rate == 0.5  # 2 online answers of 4 invitations
    satisfaction = found.statement("satisfaction")
    assert satisfaction.counts == (0, 1, 1, 0, 1) and satisfaction.answered == 3
    assert satisfaction.mean == round((5 + 2 + 3) / 3, 2)
    assert satisfaction.agreeing == round(1 / 3, 4)
    assert found.statement("outcome").agreeing == 0.0
    assert found.statement("information").agreeing == 1.0
    assert found.first_time == {"yes": 0, "no": 0, "unsaid": 3}
    assert survey.free_texts(db.session, d) == ["Merci."]
    assert "Merci." not in repr(found)  # the free texts are never part of the results


# -- the evaluation's experience dimension -------------------------------------------------------


def experience(d) -> dict:
    e = evaluation.evaluate(db.session, d, as_of=utcnow())
    return {i.code: i for i in e.dimension("experience").indicators}


def test_the_experience_indicators(app, make_demarche, people, minimum, smtp):
    minimum(2)
    before = experience(make_demarche("consultation"))
    assert str(before["survey_sent"].missing) == (
        "the survey goes out after the feedback to the participants"
    )
    d = at_feedback(make_demarche, 3)
    found = experience(d)
    assert found["survey_sent"].value == 0.0 and found["survey_sent"].score == 1
    for code in (
        "survey_response_rate",
        "survey_satisfaction",
        "survey_understood_outcome",
        "survey_would_return",
    ):
        assert str(found[code].missing) == "too few answers to publish"

    send_survey(d)
    assert db.session.get(Mailing, mailings.survey_mailing(db.session, d).id).status == (
        MailingStatus.SENT
    )
    survey.answer(db.session, nonce_of(smtp, 1), GOOD)
    survey.answer(db.session, nonce_of(smtp, 2), GOOD | {"would_return": "1"})
    db.session.commit()
    found = experience(d)
    assert found["survey_sent"].value == 1.0 and found["survey_sent"].score == 5
    assert found["survey_sent"].counted == {"invitations": 3, "answers": 2}
    assert found["survey_response_rate"].value == round(2 / 3, 4)
    assert found["survey_satisfaction"].value == 1.0
    assert found["survey_understood_outcome"].value == 0.0
    assert found["survey_understood_outcome"].score == 1
    assert found["survey_would_return"].value == 0.5
    assert found["survey_would_return"].counted["agreeing"] == 1
    assert found["survey_would_return"].details["distribution"] == [1, 0, 0, 1, 0]


def test_a_frozen_evaluation_reads_the_survey_live(make_demarche, people, minimum):
    minimum(1)
    d = make_demarche("closed")
    assert evaluation.stored(db.session, d) is not None
    survey.add_paper_answer(db.session, people.mission, d, GOOD, as_of=utcnow())
    db.session.commit()
    found = experience(d)
    assert found["survey_satisfaction"].value == 1.0
    later = evaluation.evaluate(db.session, d, as_of=utcnow() + timedelta(days=1))
    assert later.frozen_at is not None


def test_the_evaluation_counts_the_survey_in_a_fixed_number_of_statements(
    make_demarche, people, minimum
):
    from sqlalchemy import event

    minimum(30)
    d = make_demarche("feedback")
    statements = []

    def counting(*args):
        statements.append(1)

    def run() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", counting)
        try:
            experience(d)
        finally:
            event.remove(db.engine, "before_cursor_execute", counting)
        return len(statements)

    few = run()
    for _ in range(40):
        survey.add_paper_answer(db.session, people.mission, d, GOOD, as_of=utcnow())
    db.session.commit()
    assert run() == few


def test_erasing_an_account_forgets_who_was_invited(make_demarche, citizen):
    from workflows.erasure import erase_account
    from workflows.participants import participant_for_user

    d = make_demarche("feedback")
    me = participant_for_user(db.session, citizen, as_of=utcnow())
    nonce = survey.invitation_nonce(db.session, d.id, me.id, as_of=utcnow())
    survey.answer(db.session, nonce, GOOD)
    db.session.commit()
    erase_account(db.session, citizen, as_of=utcnow())
    db.session.commit()
    invitation = db.session.scalar(select(SurveyInvitation))
    assert invitation.participant_id is None and me.consent_survey is False
    assert count(SurveyAnswer) == 1  # the answer, which named nobody, stays
