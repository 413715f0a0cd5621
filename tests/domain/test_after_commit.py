"""One after-commit mechanism: the domain records jobs (``workflows.after_commit``), the one
listener (``backoffice.after_commit``) publishes them after the real commit, and only then."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from tests.support import csrf_token, login
from workflows import after_commit, outbox
from workflows.clock import utcnow
from workflows.models import AuditEntry


@pytest.fixture
def published(monkeypatch):
    from backoffice import after_commit as listener

    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(listener, "publish", lambda task, *args: sent.append((task, args)))
    return sent


def test_a_rolled_back_transaction_publishes_nothing(ctx, published, people):
    outbox.enqueue(
        db.session, key="test:ghost", template="security", recipient=people.agent, as_of=utcnow()
    )
    after_commit.after_commit(db.session, after_commit.START_MAILING, 1)
    db.session.rollback()
    assert after_commit.pending(db.session) == []
    db.session.commit()  # the next commit carries nothing of the rolled-back one
    assert published == []


def test_a_savepoint_released_publishes_nothing_until_the_outer_commit(ctx, published):
    with db.session.begin_nested():
        after_commit.after_commit(db.session, after_commit.BUILD_SYNTHESIS, 3, None)
    assert published == []  # released: nothing is committed yet
    try:
        with db.session.begin_nested():
            after_commit.after_commit(db.session, after_commit.RENDER_SYNTHESIS, 4)
            raise RuntimeError
    except RuntimeError:
        pass
    assert published == []  # a SAVEPOINT rolled back keeps what came before it
    db.session.commit()
    # The job of the rolled-back SAVEPOINT goes too: a task finding nothing to do is harmless
    # (every task re-reads its rows), and the outer transaction is what commits.
    assert published == [
        ("workers.build_synthesis", (3, None)),
        ("workers.render_synthesis", (4,)),
    ]
    published.clear()
    db.session.commit()
    assert published == []  # published once


def test_a_repeated_job_goes_once_and_outbox_rows_go_as_one_task(ctx, published, people):
    after_commit.after_commit(db.session, after_commit.START_MAILING, 5)
    after_commit.after_commit(db.session, after_commit.START_MAILING, 5)
    now = utcnow()
    ids = [
        outbox.enqueue(
            db.session, key=f"test:{n}", template="security", recipient=people.agent, as_of=now
        ).id
        for n in range(3)
    ]
    db.session.commit()
    assert published == [("workers.start_mailing", (5,)), ("workers.deliver_outbox", (ids,))]


def test_nothing_is_published_unless_the_workers_take_tasks(app, ctx, monkeypatch):
    """``OUTBOX_DISPATCH`` other than ``celery`` (the tests, a demo): nothing leaves."""
    sent = []
    monkeypatch.setattr(app.extensions["celery"], "send_task", lambda *a, **k: sent.append((a, k)))
    after_commit.after_commit(db.session, after_commit.START_MAILING, 1)
    db.session.commit()
    assert sent == []
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "celery")
    after_commit.after_commit(db.session, after_commit.START_MAILING, 2)
    db.session.commit()
    assert sent == [(("workers.start_mailing",), {"args": [2]})]


def test_the_rebuild_button_is_audited_and_publishes_one_build(
    client, make_demarche, people, published
):
    d = make_demarche("synthesis")
    published.clear()
    login(client, people.agent)
    refused = client.post(f"/admin/synthesis/{d.id}/build/", data={"csrf_token": "x"})
    assert refused.status_code in (400, 403)
    assert (
        client.post(
            f"/admin/synthesis/{d.id}/build/", data={"csrf_token": csrf_token(client)}
        ).status_code
        == 403
    )
    assert published == []
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login(client, people.mission)
    done = client.post(
        f"/admin/synthesis/{d.id}/build/",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert published == [("workers.build_synthesis", (d.id, None))]
    [entry] = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "synthesis.rebuild", AuditEntry.demarche_id == d.id
        )
    ).all()
    assert entry.actor_id == people.mission.id
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "a demandé une nouvelle version de la synthèse" in sheet
