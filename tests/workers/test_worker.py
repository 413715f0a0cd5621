"""A real Celery worker process, on the configured broker (Redis in CI), sends the emails of
committed transitions once, and nothing for a transaction that rolled back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.processes import ROOT, Process, start_worker, wait_for
from workflows.clock import utcnow
from workflows.models import OutboxMessage, OutboxStatus
from workflows.transitions import transition

pytestmark = pytest.mark.worker


class WorkerProcess:
    """The running worker: ``send_task`` through the app's broker, ``log`` for diagnostics."""

    def __init__(self, celery, process: Process):
        self.send_task, self.process = celery.send_task, process

    def log(self) -> str:
        return self.process.log()


@pytest.fixture
def worker(app, worker_env):
    """``celery -A workers worker`` in its own process, with the test's database and SMTP."""
    process = start_worker(worker_env())
    app.config["OUTBOX_DISPATCH"] = "celery"
    yield WorkerProcess(app.extensions["celery"], process)
    app.config["OUTBOX_DISPATCH"] = "none"
    process.stop()


def test_a_committed_transition_is_emailed_once_by_the_worker(worker, make_demarche, people, smtp):
    d = make_demarche("draft")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()  # after commit, the ids go to the worker through the broker

    assert wait_for(lambda: len(smtp.received) >= 3), worker.log()
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(
        [people.agent.email, people.mission.email, people.elected.email]
    )
    receipt = smtp.to(people.agent.email)[0]
    assert receipt.subject == f"Accusé de réception de votre saisine « {d.title} »"

    # Sending the same ids again (a redelivered task) sends nothing more.
    ids = [m.id for m in db.session.scalars(select(OutboxMessage))]
    worker.send_task("workers.deliver_outbox", args=[ids])
    worker.send_task("workers.sweep_outbox")
    sentinel = make_demarche("draft", title="Sentinelle")
    transition(db.session, sentinel.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    assert wait_for(lambda: len(smtp.received) >= 6), worker.log()
    counts = Counter((r.rcpt_tos[0], r.subject) for r in smtp.received)
    assert set(counts.values()) == {1}, (counts, worker.log())

    def all_recorded_sent():  # the worker commits "sent" just after the SMTP server's 250
        db.session.rollback()
        unsent = select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        return db.session.scalar(unsent) == 0

    assert wait_for(all_recorded_sent), worker.log()


def test_a_rolled_back_transition_sends_nothing(worker, make_demarche, people, smtp):
    ghost = make_demarche("draft", title="Fantôme")
    transition(db.session, ghost.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.rollback()

    # The worker handles tasks in order: once the sentinel's emails are in, any email of
    # the rolled-back transition would be in too.
    sentinel = make_demarche("draft", title="Sentinelle")
    transition(db.session, sentinel.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    assert wait_for(lambda: len(smtp.received) >= 3), worker.log()
    worker.send_task("workers.sweep_outbox")
    worker.send_task("workers.advance_calendar")
    marker = make_demarche("draft", title="Marqueur")
    transition(db.session, marker.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    assert wait_for(lambda: len(smtp.received) >= 6), worker.log()
    assert not [r for r in smtp.received if "Fantôme" in r.subject]
    assert len(smtp.received) == 6


def test_a_large_import_runs_in_the_worker_with_its_progress(app, worker, make_demarche, people):
    import io
    from pathlib import Path

    from tests.support import csrf_from, login
    from workflows.models import ContributionImport

    d = make_demarche("consultation")
    app.config["IMPORT_INLINE_ROWS"] = 10  # so that the 44 Decidim comments count as large
    client = app.test_client()
    try:
        login(client, people.mission)
        page = client.get(f"/admin/demarche/import/?id={d.id}").text
        raw = (
            Path(__file__).parent.parent / "data" / "reference" / "decidim-comments-nancy-2019.csv"
        ).read_bytes()
        preview = client.post(
            f"/admin/demarche/import/?id={d.id}",
            data={
                "csrf_token": csrf_from(page),
                "id": d.id,
                "format": "decidim",
                "file": (io.BytesIO(raw), "nancy.csv"),
            },
            content_type="multipart/form-data",
        )
        status_url = preview.headers["Location"]
        started = client.post(status_url, data={"csrf_token": csrf_from(page)})
        assert started.status_code == 302
    finally:
        app.config["IMPORT_INLINE_ROWS"] = 2000

    def done():
        db.session.rollback()
        record = db.session.scalar(select(ContributionImport))
        return record.status.value == "done"

    assert wait_for(done), worker.log()
    record = db.session.scalar(select(ContributionImport))
    assert (record.imported, record.rows_done) == (44, 44)
    assert "44 / 44" in client.get(status_url).text


def test_closing_the_consultation_has_the_worker_build_the_synthesis(worker, make_demarche, people):
    from workflows.models import Synthesis

    d = make_demarche("consultation")
    transition(db.session, d.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Fin")
    db.session.commit()  # after commit, the worker is asked for a first version

    def built():
        db.session.rollback()
        return db.session.scalar(select(Synthesis).where(Synthesis.demarche_id == d.id))

    assert wait_for(built, timeout=60), worker.log()
    synthesis = built()
    assert synthesis.version == 1 and synthesis.trigger.startswith("transition:")
    # The same request again (a redelivered task) builds nothing more.
    worker.send_task("workers.build_synthesis", args=[d.id, synthesis.trigger])
    worker.send_task("workers.sweep_syntheses")
    done = re.compile(r"workers\.sweep_syntheses\[[^\]]+\] succeeded")
    assert wait_for(lambda: done.search(worker.log())), worker.log()
    count = db.session.scalar(select(func.count(Synthesis.id)).where(Synthesis.demarche_id == d.id))
    assert count == 1


def test_every_task_of_the_worker_has_a_soft_and_a_hard_time_limit(worker_env):
    """So that no task — a mailing chunk on a bad template, a stuck relay — holds a worker
    process for ever; each ends before the broker would hand it out again (an hour)."""
    script = (
        "import json, workers; print(json.dumps({n: [t.soft_time_limit, t.time_limit] "
        "for n, t in workers.celery.tasks.items() if n.startswith('workers.')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **worker_env()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    limits = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"workers.deliver_outbox", "workers.deliver_mailing", "workers.run_import"} <= set(
        limits
    )
    for name, (soft, hard) in limits.items():
        assert 0 < soft < hard < 3600, name
    assert limits["workers.deliver_mailing"] == [540, 600]
    assert limits["workers.deliver_outbox"] == [120, 150]
    assert limits["workers.build_synthesis"][0] >= 1800  # the synthesis keeps a long one
    assert limits["workers.scan_charter"] == [300, 330]  # the default
