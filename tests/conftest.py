"""Fixtures: the app on a real database (PostgreSQL when DATABASE_URL says so, else SQLite),
schema built by the Alembic migrations, a real SMTP server, factories for people and démarches.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from backoffice import create_app
from backoffice.auth import create_user
from backoffice.extensions import db
from backoffice.public import cache as public_cache
from tests.support import publish_synthesis
from workflows import after_commit, mailings, methods
from workflows import demarches as domain
from workflows.clock import local_date, utcnow
from workflows.decisions import decide
from workflows.items import add_item
from workflows.models import Base, Demarche, User
from workflows.transitions import transition

from .support import (
    PASSWORD,  # noqa: E402,F401 - one password for every test account
    SmtpRecorder,
    free_port,
)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpRecorder]:
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.host, recorder.port = controller.hostname, controller.port  # type: ignore[attr-defined]
    yield recorder
    controller.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app_config(database_url, smtp, tmp_path_factory) -> dict:
    from backoffice.config import broker_url
    from backoffice.config import database_url as sqlalchemy_url

    instance = tmp_path_factory.mktemp("instance")
    redis_url = os.environ.get("REDIS_URL")
    return {
        # Real Redis when REDIS_URL is set (CI), else the embedded SQLite broker.
        "CELERY": {"broker_url": broker_url(redis_url, instance)},
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SECURITY_PASSWORD_SALT": "test-salt",
        # Cheap hashing: the tests make many accounts (production keeps argon2's defaults).
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
            "argon2__rounds": 1,
            "argon2__memory_cost": 64,
            "argon2__parallelism": 1,
        },
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url, instance),
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5,
        "MAIL_SUPPRESS_SEND": False,  # tests read what a real SMTP server received
        "OUTBOX_DISPATCH": "none",
        "PUBLIC_POST_LIMIT": "10000 per minute",  # tests post fast; one test lowers it
        "LOGIN_FAILURE_LIMIT": "10000 per minute",  # likewise (test_accounts lowers it)
        "ACCOUNT_FORM_FLOOR": 0,  # no waiting (test_accounts sets one)
        "BASE_URL": "http://dialogue.test",
        "MAIL_SINK_DIR": str(instance / "mail"),
        # Files, not the CI's Redis: each test's database starts again from the same ids.
        "PUBLIC_CACHE_URL": f"file://{instance / 'public-cache'}",
    }


@pytest.fixture(scope="session")
def app(app_config):
    from flask_migrate import upgrade

    application = create_app(app_config)
    application.before_request_funcs.setdefault(None, []).insert(0, _as_in_production)
    with application.app_context():
        _drop_everything()
        upgrade()  # the schema comes from the migrations, as in production
        db.session.remove()
        db.engine.dispose()
        if db.engine.dialect.name == "sqlite":
            template = Path(db.engine.url.database)
            shutil.copy(template, template.with_suffix(".template"))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _as_in_production() -> None:
    """Each request of a test starts from a clean ``g``, as in production, where every request
    has its own app context: the ``ctx`` fixture's context is shared by the test's requests,
    and Flask-Login, Flask-Security and Flask-WTF keep the user, how they authenticated and the
    CSRF token of the session on ``g``."""
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


def _drop_everything() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(db.engine.url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def reset_database() -> None:
    """Empty every table but what the migrations install (the roles, the default charter)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "roles")
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # What the migration installs besides the roles: the default charter.
        from workflows import charter

        charter.install_default(db.session, as_of=utcnow())
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as conn:  # the migration installs it without an audit row
            conn.execute(text("TRUNCATE audit_log RESTART IDENTITY"))
    else:
        # SQLite's online backup copies the migrated template into the live database, even
        # with connections open elsewhere (a worker process, a leftover from a failed test).
        db.engine.dispose()
        path = Path(db.engine.url.database)
        with (
            closing(sqlite3.connect(path.with_suffix(".template"))) as source,
            closing(sqlite3.connect(path, timeout=30)) as target,
        ):
            source.backup(target)


@pytest.fixture(autouse=True)
def _clean(request, smtp):
    smtp.clear()
    if "app" in request.fixturenames or "ctx" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            reset_database()
            if (pages := public_cache.store()) is not None:
                pages.clear()
    yield


@pytest.fixture
def worker_env(app_config, database_url, smtp):
    """The environment of a worker process on the test's database, broker and SMTP server."""

    def env(**overrides: str) -> dict[str, str]:
        return {
            "DIALOGUE_ENV": "development",
            "SECRET_KEY": app_config["SECRET_KEY"],
            "DATABASE_URL": database_url,
            "MAIL_SERVER": smtp.host,
            "MAIL_PORT": str(smtp.port),
            "BASE_URL": app_config["BASE_URL"],
            "INSTANCE_PATH": app_config["INSTANCE_PATH"],
            "PUBLIC_CACHE_URL": app_config["PUBLIC_CACHE_URL"],
            "OUTBOX_DISPATCH": "celery",
            **overrides,
        }

    return env


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(ctx):
    counter = iter(range(1, 10_000))

    def make(
        role: str,
        *,
        department: str | None = None,
        email: str | None = None,
        name: str | None = None,
    ) -> User:
        n = next(counter)
        if role == "department" and department is None:
            department = "Direction des routes"
        user, _ = create_user(
            email or f"{role}{n}@dialogue.cd31.fr",
            role,
            department=department,
            password=PASSWORD,
            name=name or f"{role.title()} {n}",
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def deliver():
    """Send what the outbox holds, as the workers' sweep does (``as_of`` optional)."""
    from backoffice.outgoing.notifications import send_notification
    from workflows import outbox

    def run(as_of=None):
        moment = as_of or utcnow()
        return outbox.deliver(
            db.session,
            outbox.due_ids(db.session, moment),
            send=send_notification,
            now=lambda: moment,
        )

    return run


@pytest.fixture
def api(client):
    """``api(user, "post", url, json=…)``: the test client with a bearer token of ``user``."""
    from backoffice.api.auth import issue_token

    def call(user, method, url, **kwargs):
        token = issue_token(user, utcnow())
        db.session.commit()
        return getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


@pytest.fixture
def catalogue(ctx) -> list:
    """The toolbox's shipped methods, loaded (every method, by name)."""
    methods.load_catalogue(db.session, as_of=utcnow())
    db.session.commit()
    return methods.all_methods(db.session)


@pytest.fixture
def citizen(make_user):
    """A confirmed citizen account, with its participant."""
    from workflows.participants import participant_for_user

    user = make_user("citizen", email="claire@exemple.fr", name="Claire Dubois")
    participant_for_user(db.session, user, as_of=utcnow())
    db.session.commit()
    return user


@pytest.fixture
def people(make_user):
    """One account per role, and an agent of another department."""

    class People:
        admin = make_user("admin", name="Alice Admin")
        mission = make_user("mission", name="Marc Mission")
        agent = make_user("department", department="Direction des routes", name="Rita Routes")
        other_agent = make_user(
            "department", department="Direction de l'action sociale", name="Samuel Social"
        )
        elected = make_user("elected", name="Élodie Élue")
        other_elected = make_user("elected", name="Émile Élu")

    return People


def complete_saisine(elected: User) -> dict:
    return {
        "title": "Aménagement de la RD 820",
        "objectives": "Choisir le tracé d'une piste cyclable.",
        "public": "Riverains et cyclistes",
        "territory": "Portet-sur-Garonne",
        "participation_level": "concertation",
        "elected_official": elected,
        "desired_calendar": "Premier trimestre",
        "budget": "150000",
    }


@pytest.fixture
def make_demarche(people):
    """A démarche brought to ``stage`` through the real transitions (as of now)."""

    def make(stage: str = "draft", *, agent: User | None = None, **fields) -> Demarche:
        agent = agent or people.agent
        now = utcnow()
        today = local_date(now)
        values = {**complete_saisine(people.elected), **fields}
        d = domain.create_draft(db.session, agent, values, as_of=now - timedelta(days=30))
        path = {
            "draft": [],
            "submitted": ["submitted"],
            "returned": ["submitted", "returned"],
            "rejected": ["submitted", "rejected"],
            "launch": ["submitted", "launch"],
            "consultation": ["submitted", "launch", "consultation"],
            "synthesis": ["submitted", "launch", "consultation", "synthesis"],
            "feedback": ["submitted", "launch", "consultation", "synthesis", "feedback"],
            "closed": ["submitted", "launch", "consultation", "synthesis", "feedback", "closed"],
        }[stage]
        for target in path:
            if target == "consultation":
                add_item(
                    db.session,
                    people.mission,
                    d,
                    title="Engagement n°1",
                    text="Le Département répond à chaque question.",
                    as_of=now,
                )
                domain.update_demarche(
                    db.session,
                    people.mission,
                    d,
                    {
                        "presentation": "Venez donner votre avis.",
                        "consultation_opens": today - timedelta(days=1),
                        "consultation_closes": today + timedelta(days=30),
                    },
                    # Announced in time for the charter's public notice (15 days before).
                    as_of=now - timedelta(days=20),
                )
            if target == "feedback":
                publish_synthesis(d, people.mission, as_of=now)
                for item in d.items:
                    decide(
                        db.session,
                        agent,
                        item,
                        outcome="retained",
                        justification="Le service retient cet engagement.",
                        as_of=now,
                    )
            if target == "closed":
                # The feedback went out (to nobody yet: the fixture has no contributors).
                for job in after_commit.pending(db.session):
                    if job.task == after_commit.START_MAILING:
                        mailings.start(db.session, *job.args, as_of=now)
            actor = agent if target == "submitted" else people.mission
            comment = "Motif" if target in ("returned", "rejected", "synthesis") else ""
            transition(db.session, d.id, target, actor=actor, as_of=now, comment=comment)
        db.session.commit()
        return d

    return make
