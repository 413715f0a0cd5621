"""Shared bench helpers: an app on a throw-away database built by the migrations."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "reference"


def bench_app(name: str):
    """The app on ``DATABASE_URL`` (emptied first!) or on a temporary SQLite file."""
    from flask_migrate import upgrade

    from backoffice import create_app
    from backoffice.config import database_url
    from backoffice.extensions import db

    instance = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{instance / 'bench.sqlite'}"
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SECURITY_PASSWORD_SALT": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url(url, instance),
            "OUTBOX_DISPATCH": "none",
            "MAIL_SUPPRESS_SEND": True,
            "TESTING": True,
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
                "argon2__rounds": 1,
                "argon2__memory_cost": 64,
            },
        }
    )
    app.config["BENCH_DATABASE_URL"] = url  # as given: for a worker process of the bench
    with app.app_context():
        _empty(db.engine)
        upgrade()
    return app


def _empty(engine) -> None:
    """A PostgreSQL database emptied (its public schema made again); SQLite files are
    temporary."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@contextmanager
def emptied_afterwards(app):
    """Run the bench, then empty its database whatever happened (a bench keeps nothing)."""
    from backoffice.extensions import db

    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            _empty(db.engine)
            db.engine.dispose()
        print("database emptied")


def print_database(session) -> None:
    """The database the figures come from: its dialect, and PostgreSQL's version."""
    engine = session.get_bind()
    server = (
        session.scalar(text("SHOW server_version")) if engine.dialect.name == "postgresql" else ""
    )
    print(f"database: {engine.dialect.name} {server}".rstrip())


def ensure_database(url: str) -> None:
    """Create the bench's PostgreSQL database when it is missing."""
    target = make_url(url)
    if not target.drivername.startswith("postgresql"):
        return
    admin = create_engine(
        target.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        name = target.database
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@contextmanager
def timed(label: str, results: dict[str, float]):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


def median_time(fn: Callable[[], Any], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def bench_people():
    """The mission account (and a sponsoring official) of a bench; returns the mission."""
    from backoffice.auth import create_user

    mission, _ = create_user("mission@bench.fr", "mission", password="measured, never served")
    create_user("elu@bench.fr", "elected", password="measured, never served")
    return mission


def consultation(mission, title: str, items: int = 5):
    """A démarche taken through the one transition function to its consultation stage."""
    from datetime import timedelta

    from sqlalchemy import select

    from backoffice.extensions import db
    from workflows import demarches
    from workflows.accounts import department_named
    from workflows.clock import local_date, utcnow
    from workflows.items import add_item
    from workflows.models import User
    from workflows.transitions import transition

    now = utcnow()
    elected = db.session.scalar(select(User).where(User.email == "elu@bench.fr"))
    d = demarches.create_draft(
        db.session,
        mission,
        {
            "title": title,
            "objectives": "o",
            "public": "p",
            "territory": "Haute-Garonne",
            "participation_level": "consultation",
            "elected_official": elected,
            "desired_calendar": "c",
            "department": None,
        },
        as_of=now - timedelta(days=22),
    )
    d.department = department_named(db.session, "Mission démocratie participative")
    # Launched and announced 20 days ago: the charter's public notice (15 days) is given.
    announced = now - timedelta(days=20)
    transition(db.session, d.id, "submitted", actor=mission, as_of=announced)
    transition(db.session, d.id, "launch", actor=mission, as_of=announced)
    demarches.update_demarche(
        db.session,
        mission,
        d,
        {
            "presentation": "p",
            "consultation_opens": local_date(now),
            "consultation_closes": local_date(now) + timedelta(days=30),
        },
        as_of=announced,
    )
    for n in range(items):
        add_item(db.session, mission, d, title=f"Question {n + 1}", as_of=now)
    transition(db.session, d.id, "consultation", actor=mission, as_of=now)
    db.session.commit()
    return d
