"""The web side when a server goes away: the real app on the private PostgreSQL and Redis.

PostgreSQL stopped: pages answer a French 503 and the API its JSON 503, with Retry-After,
and the same app serves again once the database is back; a task the database failed is
retried with backoff by a real worker.
"""

from __future__ import annotations

import logging

import pytest

from backoffice.api.auth import issue_token
from backoffice.extensions import db
from tests.processes import start_worker, wait_for
from tests.support import PASSWORD, csrf_from
from workflows.clock import utcnow

pytestmark = pytest.mark.fault


def test_pages_and_api_answer_503_while_postgresql_is_away_then_serve_again(
    app, client, make_demarche, people, private_postgres, worker_env, caplog
):
    d = make_demarche("consultation")
    token = issue_token(people.mission, utcnow())
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    page = f"/demarches/{d.slug}"
    assert client.get(page).status_code == 200
    assert client.get("/api/v1/demarches", headers=bearer).status_code == 200
    form = {
        "csrf_token": csrf_from(client.get("/login").text),
        "email": people.mission.email,
        "password": PASSWORD,
    }
    worker = start_worker(worker_env())
    try:
        private_postgres.stop("fast")
        try:
            with caplog.at_level(logging.WARNING, logger="backoffice.errors"):
                html = client.get(page)
            assert html.status_code == 503 and html.headers["Retry-After"] == "30"
            assert html.mimetype == "text/html"
            assert "Service indisponible" in html.text
            assert "sa base de données ne répond pas" in html.text
            assert "database unavailable (" in caplog.text

            api = client.get("/api/v1/demarches", headers=bearer)
            assert api.status_code == 503 and api.headers["Retry-After"] == "30"
            assert api.json == {
                "code": 503,
                "status": "Service indisponible",
                "message": "Le service est momentanément indisponible : sa base de données "
                "ne répond pas. Veuillez réessayer dans une minute.",
            }
            assert client.post("/login", data=form).status_code == 503

            # A task the database fails is tried again later, not dropped.
            app.extensions["celery"].send_task("workers.sweep_mailings")
            assert wait_for(
                lambda: "workers.sweep_mailings: the database failed" in worker.log(), 60
            ), worker.log()
        finally:
            private_postgres.start()

        # The same app, not restarted, serves again.
        assert client.get(page).status_code == 200
        assert client.get("/api/v1/demarches", headers=bearer).status_code == 200
        assert wait_for(
            lambda: any(
                "workers.sweep_mailings" in line and "succeeded" in line for line in worker.lines
            ),
            90,
        ), worker.log()
    finally:
        worker.stop()
