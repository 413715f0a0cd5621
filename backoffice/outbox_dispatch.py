"""Hand the outbox rows of a committed transaction to the workers, right after commit.

Rows written in a transaction that rolls back never existed, so nothing is sent for them.
If publishing fails (broker away), the rows stay pending and the periodic sweep sends them.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows import outbox

DELIVER_TASK = "workers.deliver_outbox"
log = logging.getLogger(__name__)


def _after_commit(session: Session) -> None:
    ids = outbox.take_new_ids(session)
    if ids and has_app_context():
        dispatch(ids)


def _after_rollback(session: Session) -> None:
    outbox.take_new_ids(session)


def dispatch(ids: list[int]) -> None:
    if current_app.config["OUTBOX_DISPATCH"] != "celery":
        return  # tests deliver explicitly; the sweep would catch up anyway
    try:
        current_app.extensions["celery"].send_task(DELIVER_TASK, args=[ids])
    except Exception:  # noqa: BLE001 - never fail a committed request for a notification
        log.warning(
            "could not publish %d outbox ids; the sweep will send them", len(ids), exc_info=True
        )


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
