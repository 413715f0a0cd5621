"""The web side when a server goes away: the real app on the private PostgreSQL and Redis.

PostgreSQL stopped: pages answer a French 503 and the API its JSON 503, with Retry-After,
and the same app serves again once the database is back; a task the database failed is
retried with backoff by a real worker. Redis stopped: the rate-limited forms (login,
registration, comments, event registration) answer as usual, limited in each process's
memory, with a warning in the log; once Redis is back the limits are counted in it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select

from backoffice.api.auth import issue_token
from backoffice.extensions import db, limiter
from tests.processes import start_worker, wait_for
from tests.support import PASSWORD, csrf_from, csrf_token, login
from workflows import events
from workflows.clock import utcnow
from workflows.models import Contribution, Registration, User

pytestmark = pytest.mark.fault


def fresh(client, method: str, url: str, **kwargs):
    """One request in an app context of its own (its own ``g``, its own session), as a server
    gives every request: the test's context, kept for its fixtures, would be shared."""
    with client.application.app_context():
        return getattr(client, method)(url, **kwargs)


def test_pages_and_api_answer_503_while_postgresql_is_away_then_serve_again(
    app, client, make_demarche, people, private_postgres, worker_env, caplog
):
    d = make_demarche("consultation")
    token = issue_token(people.mission, utcnow())
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    page = f"/demarches/{d.slug}"
    title, item = d.title, f"{page}/elements/{d.items[0].id}"
    assert fresh(client, "get", page).status_code == 200
    assert fresh(client, "get", "/api/v1/demarches", headers=bearer).status_code == 200
    form = {
        "csrf_token": csrf_from(fresh(client, "get", "/login").text),
        "email": people.mission.email,
        "password": PASSWORD,
    }
    staff = app.test_client()
    with app.app_context():
        login(staff, people.mission)
    assert fresh(staff, "get", "/admin/").status_code == 200
    db.session.close()  # the test's own session holds no connection across the stop
    worker = start_worker(worker_env())
    try:
        private_postgres.stop("fast")
        try:
            # The page anonymous visitors read is kept (backoffice/public/cache.py): it is
            # still served; a page not read before needs the database, and says it is away.
            kept = fresh(client, "get", page)
            assert kept.status_code == 200 and title in kept.text
            with caplog.at_level(logging.WARNING, logger="backoffice.errors"):
                html = fresh(client, "get", item)
            assert html.status_code == 503 and html.headers["Retry-After"] == "30"
            assert html.mimetype == "text/html"
            assert "Service indisponible" in html.text
            assert "sa base de données ne répond pas" in html.text
            assert "database unavailable (" in caplog.text

            api = fresh(client, "get", "/api/v1/demarches", headers=bearer)
            assert api.status_code == 503 and api.headers["Retry-After"] == "30"
            assert api.json == {
                "code": 503,
                "status": "Service indisponible",
                "message": "Le service est momentanément indisponible : sa base de données "
                "ne répond pas. Veuillez réessayer dans une minute.",
            }
            assert fresh(client, "post", "/login", data=form).status_code == 503
            assert fresh(staff, "get", "/admin/demarche/").status_code == 503  # back office

            # A task the database fails is tried again later, not dropped.
            app.extensions["celery"].send_task("workers.sweep_mailings")
            assert wait_for(
                lambda: "workers.sweep_mailings: the database failed" in worker.log(), 60
            ), worker.log()
        finally:
            private_postgres.start()

        # The same app, not restarted, serves again.
        assert fresh(client, "get", item).status_code == 200
        assert fresh(client, "get", "/api/v1/demarches", headers=bearer).status_code == 200
        assert fresh(staff, "get", "/admin/demarche/").status_code == 200  # still logged in
        assert wait_for(
            lambda: any(
                "workers.sweep_mailings" in line and "succeeded" in line for line in worker.lines
            ),
            90,
        ), worker.log()
    finally:
        worker.stop()


def post_contribution(client, d, body: str):
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    return client.post(
        f"{url}/contribuer",
        data={"csrf_token": csrf_token(client), "kind": "comment", "body": body},
    )


def test_rate_limits_hold_in_memory_while_redis_is_away_and_in_redis_again_after(
    app, client, make_demarche, people, citizen, private_redis, caplog, deliver, smtp
):
    d = make_demarche("consultation")
    start = utcnow().replace(microsecond=0) + timedelta(days=7)
    workshop = events.create_event(
        db.session,
        people.mission,
        d,
        {
            "kind": "workshop",
            "title": "Atelier",
            "starts_at": start,
            "ends_at": start + timedelta(hours=3),
            "place": "Toulouse",
            "capacity": 50,
        },
        as_of=utcnow(),
    )
    db.session.commit()
    shared = Redis.from_url(private_redis.url)
    own = app.app_context  # each step in a context of its own, as a server gives a request
    app.config["PUBLIC_POST_LIMIT"] = "6 per minute"
    app.config["OUTBOX_DISPATCH"] = "celery"  # emails handed to the (stopped) broker
    limiter.reset()
    try:
        with own():
            login(client, citizen)
        assert shared.keys("LIMITS*")  # counted in Redis, shared by every web process

        private_redis.stop()
        with own(), caplog.at_level(logging.WARNING, logger="flask-limiter"):
            assert post_contribution(client, d, "Un avis pendant la panne").status_code == 302
        assert "falling back to in-memory storage" in caplog.text
        with own():
            registered = client.post(
                f"/evenements/{workshop.id}/inscription", data={"csrf_token": csrf_token(client)}
            )
        assert registered.status_code == 302
        with own():
            client.post("/logout", data={"csrf_token": csrf_token(client)})
        with own():
            signup = csrf_from(client.get("/register").text)
            created = client.post(
                "/register",
                data={
                    "csrf_token": signup,
                    "email": "nouvelle@exemple.fr",
                    "name": "Nouvelle Citoyenne",
                    "password": "un mot de passe solide",
                    "password_confirm": "un mot de passe solide",
                },
            )
        assert created.status_code == 302
        with own():
            login(client, citizen)
            # Still limited meanwhile, in this process's memory: 6 per minute.
            codes = [post_contribution(client, d, f"Avis {n}").status_code for n in range(6)]
        assert codes == [302] * 5 + [429]
        db.session.rollback()
        assert (
            db.session.scalar(
                select(func.count(Contribution.id)).where(Contribution.demarche_id == d.id)
            )
            == 6
        )  # all but the refused one recorded
        assert (
            db.session.scalar(
                select(func.count(Registration.id)).where(Registration.event_id == workshop.id)
            )
            == 1
        )
        assert db.session.scalar(select(User.id).where(User.email == "nouvelle@exemple.fr"))

        private_redis.start()
        assert not shared.keys("LIMITS*")  # a new, empty Redis
        # Once Redis answers again (the limiter checks it every few seconds), the limits are
        # counted in it again.

        def counted_in_redis() -> bool:
            with own():
                post_contribution(client, d, "Encore")
            return bool(shared.keys("LIMITS*"))

        assert wait_for(counted_in_redis, 60)
        # What could not reach the broker is waiting in the outbox: the sweep sends it.
        deliver()
        assert smtp.to("nouvelle@exemple.fr")  # the confirmation of the new account
    finally:
        app.config["PUBLIC_POST_LIMIT"] = "10000 per minute"
        app.config["OUTBOX_DISPATCH"] = "none"
        limiter.reset()
