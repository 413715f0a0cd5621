"""Shared bench helpers: an app on a throw-away database built by the migrations."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

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
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


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
