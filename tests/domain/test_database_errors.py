"""Which database errors mean « the database is away for now » (503, try again) and which
are the statement's own fault (a bug: 500, no retry)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa

from backoffice.celery_app import retry_delay
from workflows.sql import database_unavailable, worth_retrying


def wrapped(orig: Exception, kind=sa.OperationalError, **kwargs) -> sa.DBAPIError:
    return kind("SELECT 1", {}, orig, **kwargs)


@pytest.mark.parametrize(
    "orig",
    [
        psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE
        pg.AdminShutdown("terminating connection due to administrator command"),
        pg.CannotConnectNow("the database system is starting up"),
        pg.ConnectionFailure("connection failure"),
        pg.TooManyConnections("too many clients already"),
    ],
)
def test_a_server_away_is_unavailable(orig):
    assert database_unavailable(wrapped(orig))
    assert worth_retrying(wrapped(orig))


def test_a_connection_invalidated_or_an_interface_error_is_unavailable():
    lost = wrapped(
        psycopg.DatabaseError("server closed"), sa.DBAPIError, connection_invalidated=True
    )
    assert database_unavailable(lost)
    assert database_unavailable(wrapped(psycopg.InterfaceError("closed"), sa.InterfaceError))
    assert database_unavailable(sa.TimeoutError("QueuePool limit reached"))


@pytest.mark.parametrize(
    "error",
    [
        wrapped(pg.QueryCanceled("canceling statement due to statement timeout")),
        wrapped(pg.UniqueViolation("duplicate key"), sa.IntegrityError),
        wrapped(pg.UndefinedTable("relation does not exist"), sa.ProgrammingError),
        ValueError("not a database error"),
    ],
)
def test_the_statements_own_fault_is_not(error):
    assert not database_unavailable(error)
    assert not worth_retrying(error)


def test_a_deadlock_is_worth_retrying_but_not_a_503():
    deadlock = wrapped(pg.DeadlockDetected("deadlock detected"))
    assert worth_retrying(deadlock) and not database_unavailable(deadlock)


def test_sqlite_locked_past_its_timeout_is_unavailable_a_missing_table_is_not(tmp_path):
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.OperationalError) as locked, engine.connect() as conn:
            conn.execute(text("SELECT * FROM t"))
        assert database_unavailable(locked.value)
        holder.rollback()
        with pytest.raises(sa.OperationalError) as missing, engine.connect() as conn:
            conn.execute(text("SELECT * FROM nowhere"))
        assert not database_unavailable(missing.value)
    finally:
        holder.close()
        engine.dispose()


def test_retries_back_off_between_one_second_and_a_minute():
    for retries in range(12):
        bound = min(60, 2 ** (retries + 1))
        delays = {retry_delay(retries) for _ in range(200)}
        assert min(delays) >= 1 and max(delays) <= bound
    assert max(retry_delay(8) for _ in range(200)) > 30  # later tries wait longer
