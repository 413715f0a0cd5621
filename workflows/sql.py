"""SQL that differs between PostgreSQL and SQLite, in one place."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import JSON, String, Table, bindparam, column, func, select, true
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

#: SQLSTATEs of a server that is away for now: the connection exceptions (class 08), an
#: administrator's or a crash's shutdown, a server still starting, too many connections.
_AWAY_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says that the database is away for now — restarting, unreachable, the
    connection lost, SQLite's file locked past its timeout — rather than that the statement is
    wrong: worth a 503 and another try, not a bug report."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False  # integrity, data, programming errors: the statement's own fault
    if isinstance(exc.orig, sqlite3.OperationalError):
        return "locked" in str(exc.orig) or "busy" in str(exc.orig)
    state = getattr(exc.orig, "sqlstate", None)
    if state:  # the server answered with a code
        return state.startswith(_AWAY_STATES)
    # psycopg without a code: the client side of a refused, reset or closed connection.
    return True


def worth_retrying(exc: BaseException) -> bool:
    """A database error that another try of the same idempotent work can get past: the
    database away (``database_unavailable``), or a deadlock or serialization failure."""
    if database_unavailable(exc):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, sa_exc.DBAPIError) and state in ("40001", "40P01")


def execute_dml(session: Session, statement: Executable) -> CursorResult:
    """``session.execute`` of an UPDATE, DELETE or INSERT without RETURNING, whose ``rowcount``
    the caller reads. Session.execute is typed to return a Result whatever the statement; for
    these it is a CursorResult, which has the rowcount."""
    return cast(CursorResult, session.execute(statement))


def insert_ignoring_duplicates(session: Session, table: Table, unique: list[str]):
    """``INSERT … ON CONFLICT (unique) DO NOTHING``: of two writers, the second inserts
    nothing and raises nothing (with ``RETURNING``, each sees only its own rows)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=unique)


def insert_rows_ignoring_duplicates(
    session: Session, table: Table, unique: list[str], rows: list[dict], returning: list
) -> list:
    """``INSERT … SELECT … FROM <the rows> ON CONFLICT (unique) DO NOTHING RETURNING …``, the
    rows sent as one JSON parameter: one statement and one parameter however many rows. (A
    ``VALUES`` list binds a parameter per column and row; PostgreSQL's protocol refuses more
    than 65,535 of them, SQLite more than 32,766 — a sweep's 5,500 emails of 12 columns.)
    ``rows`` share their keys; returns the rows of ``returning`` this call inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    columns = [table.c[name] for name in rows[0]]
    postgres = dialect.name == "postgresql"
    # Each value as the column would bind it (enums, aware datetimes as UTC — SQLite's
    # stored text format), JSON columns left as objects on PostgreSQL (nested in the rows).
    processors = {
        c.name: c.type.dialect_impl(dialect).bind_processor(dialect)
        for c in columns
        if not (postgres and isinstance(c.type, JSON))
    }

    def value(name: str, raw: Any) -> Any:
        processor = processors.get(name)
        done = processor(raw) if processor is not None else raw
        return done.isoformat() if isinstance(done, datetime | date) else done

    payload = [{name: value(name, row[name]) for name in row} for row in rows]
    insert: Callable[[Table], postgresql.Insert | sqlite.Insert]
    if postgres:
        source = (
            func.json_to_recordset(bindparam("rows", payload, type_=JSON))
            .table_valued(*(column(c.name, c.type) for c in columns))
            .render_derived(with_types=True)
        )
        chosen = [source.c[c.name] for c in columns]
        insert = postgresql.insert
    else:
        source = func.json_each(bindparam("rows", json.dumps(payload), type_=String)).table_valued(
            "value"
        )
        chosen = [func.json_extract(source.c.value, f'$."{c.name}"') for c in columns]
        insert = sqlite.insert
    # WHERE true: SQLite reads ``SELECT … FROM … ON CONFLICT`` as a join's ON otherwise.
    statement = (
        insert(table)
        .from_select([c.name for c in columns], select(*chosen).where(true()))
        .on_conflict_do_nothing(index_elements=unique)
        .returning(*returning)
    )
    return list(session.execute(statement).all())
