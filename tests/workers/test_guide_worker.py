"""A real Celery worker makes the guide's PDF after the commit of what changes it: the
catalogue loaded (``flask methods load``), then a charter rule changed by the mission — the
regenerated PDF tells the new rule; the same task again makes nothing more."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.processes import start_worker, wait_for
from tests.web.test_guide import change_the_answer_deadline, inked, pdf_text, text_of
from tests.workers.test_worker import WorkerProcess
from workflows import methods
from workflows.clock import utcnow
from workflows.models import GuideDocument

pytestmark = pytest.mark.worker


@pytest.fixture
def worker(app, worker_env):
    process = start_worker(worker_env())
    app.config["OUTBOX_DISPATCH"] = "celery"
    yield WorkerProcess(app.extensions["celery"], process)
    app.config["OUTBOX_DISPATCH"] = "none"
    process.stop()


def editions() -> int:
    db.session.rollback()  # see what the worker committed
    return db.session.scalar(
        select(func.count(GuideDocument.id)).where(GuideDocument.made_at.is_not(None))
    )


def test_the_worker_remakes_the_pdf_when_the_mission_changes_a_rule(worker, client, people):
    assert client.get("/guide.pdf").status_code == 503
    methods.load_catalogue(db.session, as_of=utcnow())
    db.session.commit()  # after commit, the worker is asked for an edition
    assert wait_for(lambda: editions() == 1, timeout=120), worker.log()
    first = client.get("/guide.pdf")
    assert first.status_code == 200
    before = pdf_text(first.data)
    assert "Délai 30 jours" in before and "Budget participatif" in before
    assert inked(first.data, 2) > 0.01

    change_the_answer_deadline(client, people.mission, 25)  # published: asks for an edition
    assert wait_for(lambda: editions() == 2, timeout=120), worker.log()
    after = pdf_text(client.get("/guide.pdf").data)
    assert "Délai 25 jours" in after and "30 jours" not in after
    assert re.search(r"version 2, en vigueur depuis le", after)
    assert "Délai 25 jours" in text_of(client.get("/guide").text)

    # The same request again (a redelivered task, the sweep): nothing more is made.
    worker.send_task("workers.render_guide")
    done = re.compile(r"workers\.render_guide\[[^\]]+\] succeeded in [^:]+: 'up to date'")
    assert wait_for(lambda: done.search(worker.log()), timeout=60), worker.log()
    assert editions() == 2
