"""Thousands of rows in one statement: the sweep's notices and emails are inserted with the
rows bound as one JSON parameter (a ``VALUES`` list of a night's 7,000 emails × 12 columns
would exceed PostgreSQL's 65,535 bind parameters, SQLite's 32,766), once each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, func, select

from backoffice.extensions import db
from workflows.models import OutboxMessage, OutboxStatus
from workflows.sql import insert_rows_ignoring_duplicates

AS_OF = datetime(2026, 11, 22, 23, 5, 0, 123456, tzinfo=UTC)
ROWS = 7_000


def email(n: int, recipient_id: int) -> dict:
    return {
        "key": f"bulk:{n}",
        "template": "deadline_reminder",
        "recipient_id": recipient_id,
        "participant_id": None,
        "demarche_id": None,
        "context": {"deadline_id": n, "offset": 7, "note": "l'élu « reçoit »"},
        "status": "pending",
        "attempts": 0,
        "error": "",
        "subject": "",
        "created_at": AS_OF,
        "next_attempt_at": AS_OF,
    }


def test_thousands_of_rows_in_one_statement_each_once(people):
    table = OutboxMessage.__table__
    agent_id = people.agent.id
    rows = [email(n, agent_id) for n in range(ROWS)]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        written = insert_rows_ignoring_duplicates(
            db.session,
            table,
            ["key"],
            rows,
            [table.c.id, table.c.key],
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.commit()
    assert len(statements) == 1
    assert len(written) == ROWS and {row.key for row in written} == {
        f"bulk:{n}" for n in range(ROWS)
    }

    # Stored as the ORM stores them: aware UTC instants that compare, enums, JSON objects.
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == "bulk:42"))
    assert message.created_at == AS_OF and message.next_attempt_at == AS_OF
    assert message.status == OutboxStatus.PENDING
    assert message.context == {"deadline_id": 42, "offset": 7, "note": "l'élu « reçoit »"}
    assert message.recipient_id == agent_id and message.participant_id is None
    due = select(func.count()).select_from(OutboxMessage)
    assert db.session.scalar(due.where(OutboxMessage.next_attempt_at <= AS_OF)) == ROWS
    assert db.session.scalar(due.where(OutboxMessage.next_attempt_at < AS_OF)) == 0

    # Once each: a second insert returns only the rows it added.
    again = insert_rows_ignoring_duplicates(
        db.session,
        table,
        ["key"],
        [email(n, agent_id) for n in range(ROWS - 5, ROWS + 2)],
        [table.c.key],
    )
    db.session.commit()
    assert sorted(row.key for row in again) == [f"bulk:{ROWS}", f"bulk:{ROWS + 1}"]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == ROWS + 2
    assert insert_rows_ignoring_duplicates(db.session, table, ["key"], [], [table.c.id]) == []
