"""Thin tasks: each takes ids or nothing, re-reads the database and calls the domain."""

from __future__ import annotations

from celery import shared_task

from backoffice.extensions import db
from backoffice.notifications import send_notification
from workflows import calendar, imports, outbox
from workflows.clock import utcnow


@shared_task(name="workers.deliver_outbox")
def deliver_outbox(ids: list[int]) -> dict[str, int]:
    """Send the given outbox rows (those already sent or claimed are skipped)."""
    return outbox.deliver(db.session, ids, send=send_notification)


@shared_task(name="workers.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    """Send what is due and was never picked up, or whose worker died."""
    return outbox.deliver(db.session, outbox.due_ids(db.session, utcnow()), send=send_notification)


@shared_task(name="workers.advance_calendar")
def advance_calendar() -> list[str]:
    """Open and close the consultations whose dates have come."""
    return calendar.advance(db.session, as_of=utcnow()).lines()


@shared_task(name="workers.run_import")
def run_import(import_id: int) -> str:
    """Import a queued file of contributions, with progress (safe to run twice)."""
    record = imports.run_import(db.session, import_id)
    return record.status.value if record else "taken by another run"


@shared_task(name="workers.sweep_imports")
def sweep_imports() -> list[int]:
    """Hand out again the imports a lost task or a dead worker left; forget stale previews."""
    ids = imports.sweep_imports(db.session, as_of=utcnow())
    for import_id in ids:
        run_import.delay(import_id)
    return ids
