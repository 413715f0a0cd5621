"""A real Celery worker makes the yearly report's documents when a visitor asks for them: the
PDF is 503 « en préparation » until then, the worker's task (published by that request)
makes and keeps the PDF and the spreadsheet, which are then served."""

from __future__ import annotations

import pytest

from backoffice.extensions import db
from tests.processes import start_worker, wait_for
from tests.web.test_report import YEAR, a_year, pdf_text
from tests.workers.test_worker import WorkerProcess
from workflows import report

pytestmark = pytest.mark.worker


@pytest.fixture
def worker(app, worker_env):
    process = start_worker(worker_env())
    app.config["OUTBOX_DISPATCH"] = "celery"
    yield WorkerProcess(app.extensions["celery"], process)
    app.config["OUTBOX_DISPATCH"] = "none"
    process.stop()


def made() -> bool:
    db.session.rollback()  # see what the worker committed
    return report.kept(db.session, YEAR) is not None


def test_the_worker_makes_the_documents_a_visitor_asked_for(worker, client, make_demarche):
    a_year(make_demarche)
    assert client.get(f"/bilan/{YEAR}.pdf").status_code == 503  # and the workers are asked
    assert wait_for(made, timeout=120), worker.log()
    pdf = client.get(f"/bilan/{YEAR}.pdf")
    assert pdf.status_code == 200 and f"Bilan annuel {YEAR}" in pdf_text(pdf.data)
    assert client.get(f"/bilan/{YEAR}.xlsx").status_code == 200
