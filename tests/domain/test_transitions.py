"""The one transition function on a real database: rights, guards, audit, outbox, races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backoffice.extensions import db
from workflows import demarches as domain
from workflows import notifications
from workflows.clock import utcnow
from workflows.errors import (
    Conflict,
    InvalidFields,
    NotFound,
    PermissionDenied,
    TransitionRefused,
)
from workflows.models import AuditEntry, OutboxMessage, StageTransition, User
from workflows.stages import Stage
from workflows.transitions import transition


def outbox(d) -> dict[str, str]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.demarche_id == d.id))
    return {row.recipient.email: row.template for row in rows}


def test_a_saisine_goes_from_draft_to_closed_with_one_audit_row_per_move(make_demarche, people):
    d = make_demarche("closed")
    history = [(t.from_stage, t.to_stage) for t in d.transitions]
    assert history == [
        (Stage.DRAFT, Stage.SUBMITTED),
        (Stage.SUBMITTED, Stage.LAUNCH),
        (Stage.LAUNCH, Stage.CONSULTATION),
        (Stage.CONSULTATION, Stage.SYNTHESIS),
        (Stage.SYNTHESIS, Stage.FEEDBACK),
        (Stage.FEEDBACK, Stage.CLOSED),
    ]
    assert d.transitions[0].actor == people.agent
    assert d.transitions[3].comment == "Motif"  # closed early, with its reason
    assert {t.actor for t in d.transitions[1:]} == {people.mission}


def test_submitting_acknowledges_receipt_and_tells_the_mission_and_the_official(
    make_demarche, people
):
    d = make_demarche("submitted")
    assert outbox(d) == {
        people.agent.email: notifications.ACKNOWLEDGEMENT,
        people.mission.email: notifications.TO_REVIEW,
        people.elected.email: notifications.ELECTED_STAGE_CHANGED,
    }


def test_the_official_hears_of_every_stage_change(make_demarche, people):
    d = make_demarche("consultation")
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_id == people.elected.id)
    ).all()
    assert len(rows) == len(d.transitions) == 3
    assert people.other_elected.email not in outbox(d)


def test_a_refused_move_says_every_missing_condition_and_changes_nothing(make_demarche, people):
    d = make_demarche("launch")
    with pytest.raises(TransitionRefused) as refused:
        transition(db.session, d.id, "consultation", actor=people.mission, as_of=utcnow())
    assert [str(m) for m in refused.value.messages] == [
        "consultation dates missing",
        "public presentation missing",
        "no item to comment: prepare at least one",
    ]
    db.session.rollback()
    assert db.session.get(type(d), d.id).stage == Stage.LAUNCH
    assert db.session.scalar(select(func.count(StageTransition.id))) == 2


def test_roles_and_departments_limit_who_moves_what(make_demarche, people):
    d = make_demarche("submitted")
    with pytest.raises(PermissionDenied):
        transition(db.session, d.id, "launch", actor=people.agent, as_of=utcnow())
    with pytest.raises(PermissionDenied):
        transition(db.session, d.id, "launch", actor=people.elected, as_of=utcnow())
    draft = make_demarche("draft")
    with pytest.raises(NotFound):  # another department's démarche does not exist for them
        transition(db.session, draft.id, "submitted", actor=people.other_agent, as_of=utcnow())
    with pytest.raises(TransitionRefused):
        transition(db.session, d.id, "closed", actor=people.mission, as_of=utcnow())


def test_a_stale_form_gets_a_conflict(make_demarche, people):
    d = make_demarche("submitted")
    transition(db.session, d.id, "launch", actor=people.mission, as_of=utcnow())
    db.session.commit()
    with pytest.raises(Conflict):
        transition(
            db.session,
            d.id,
            "returned",
            actor=people.mission,
            as_of=utcnow(),
            comment="x",
            expected_from="submitted",
        )


def test_two_users_racing_make_one_move(app, make_demarche, people):
    """Two sessions load the same submitted saisine; one accepts, the other returns it."""
    d = make_demarche("submitted")
    demarche_id, mission_id = d.id, people.mission.id  # read here: threads share no session
    engine = db.engine
    results: dict[str, str] = {}
    barrier = threading.Barrier(2, timeout=10)

    def act(name: str, target: str) -> None:
        with app.app_context(), Session(engine) as session:
            actor = session.get(User, mission_id)
            try:
                barrier.wait()
                transition(
                    session,
                    demarche_id,
                    target,
                    actor=actor,
                    as_of=utcnow(),
                    comment="motif",
                    expected_from="submitted",
                )
                session.commit()
                results[name] = "moved"
            except (Conflict, TransitionRefused) as exc:
                session.rollback()
                results[name] = f"refused: {exc}"
            except DBAPIError as exc:  # SQLite: "database is locked" for the loser
                session.rollback()
                results[name] = f"locked: {exc.orig}"

    threads = [
        threading.Thread(target=act, args=("a", "launch")),
        threading.Thread(target=act, args=("b", "returned")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results.values()) in (
        ["moved", "refused"],
        ["locked", "moved"],
    ), results
    moves = db.session.scalars(
        select(StageTransition).where(
            StageTransition.demarche_id == d.id, StageTransition.from_stage == Stage.SUBMITTED
        )
    ).all()
    assert len(moves) == 1


def test_the_history_is_append_only_even_in_raw_sql(make_demarche):
    d = make_demarche("submitted")
    row = d.transitions[0]
    row.comment = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    for statement in (
        "UPDATE stage_transitions SET comment = 'x'",
        "DELETE FROM stage_transitions",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(func.count(StageTransition.id))) == 1


def test_nothing_is_queued_when_the_transaction_rolls_back(make_demarche, people):
    d = make_demarche("draft")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.get(type(d), d.id).stage == Stage.DRAFT


def test_edits_follow_the_stage_and_are_audited(make_demarche, people):
    d = make_demarche("submitted")
    with pytest.raises(Conflict, match="can no longer be changed"):
        domain.update_demarche(db.session, people.agent, d, {"title": "Nouveau"}, as_of=utcnow())
    with pytest.raises(PermissionDenied):
        domain.update_demarche(db.session, people.agent, d, {"department": "X"}, as_of=utcnow())
    changed = domain.update_demarche(
        db.session, people.mission, d, {"title": "Nouveau titre"}, as_of=utcnow()
    )
    db.session.commit()
    assert changed == {"title"} and d.slug == "nouveau-titre"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor, entry.data) == (
        "demarche.update",
        people.mission,
        {"fields": ["title"]},
    )


def test_an_open_consultation_may_be_extended_but_not_shortened_into_the_past(
    make_demarche, people
):
    d = make_demarche("consultation")
    later = d.consultation_closes + timedelta(days=7)
    domain.update_demarche(
        db.session, people.mission, d, {"consultation_closes": later}, as_of=utcnow()
    )
    assert d.consultation_closes == later
    with pytest.raises(Conflict):
        domain.update_demarche(
            db.session,
            people.mission,
            d,
            {"consultation_opens": d.consultation_opens - timedelta(days=1)},
            as_of=utcnow(),
        )
    yesterday = utcnow().date() - timedelta(days=2)
    with pytest.raises(InvalidFields):
        domain.update_demarche(
            db.session, people.mission, d, {"consultation_closes": yesterday}, as_of=utcnow()
        )
