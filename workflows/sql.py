"""SQL that differs between PostgreSQL and SQLite, in one place."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Table, unique: list[str]):
    """``INSERT … ON CONFLICT (unique) DO NOTHING``: of two writers, the second inserts
    nothing and raises nothing (with ``RETURNING``, each sees only its own rows)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=unique)
