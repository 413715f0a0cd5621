"""Hand the outbox rows of a committed transaction to the workers, right after commit.

Rows written in a transaction that rolls back never existed, so nothing is sent for them.
If publishing fails (broker away), the rows stay pending and the periodic sweep sends them.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows import mailings, outbox
from workflows.syntheses.requests import TO_BUILD, TO_RENDER

DELIVER_TASK = "workers.deliver_outbox"
START_MAILING_TASK = "workers.start_mailing"
BUILD_SYNTHESIS_TASK = "workers.build_synthesis"
RENDER_SYNTHESIS_TASK = "workers.render_synthesis"
log = logging.getLogger(__name__)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the rows are not committed yet, nor may ever be
    ids = outbox.take_new_ids(session)
    to_start = session.info.pop(mailings.TO_START, [])
    to_build = session.info.pop(TO_BUILD, [])
    to_render = session.info.pop(TO_RENDER, [])
    if has_app_context():
        if ids:
            dispatch(ids)
        for mailing_id in to_start:
            publish(START_MAILING_TASK, mailing_id)
        for demarche_id, trigger in to_build:
            publish(BUILD_SYNTHESIS_TASK, demarche_id, trigger)
        for synthesis_id in to_render:
            publish(RENDER_SYNTHESIS_TASK, synthesis_id)


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT rolled back: the rows written before it still stand
    outbox.take_new_ids(session)
    session.info.pop(mailings.TO_START, None)
    session.info.pop(TO_BUILD, None)
    session.info.pop(TO_RENDER, None)


def dispatch(ids: list[int]) -> None:
    publish(DELIVER_TASK, ids)


def publish(task: str, *arguments: object) -> None:
    """Hand a task to the workers; if the broker is away, the periodic sweeps catch up."""
    if current_app.config["OUTBOX_DISPATCH"] != "celery":
        return  # tests deliver explicitly; the sweep would catch up anyway
    try:
        current_app.extensions["celery"].send_task(task, args=list(arguments))
    except Exception:  # noqa: BLE001 - never fail a committed request for a notification
        log.warning("could not publish %s; the sweep will catch up", task, exc_info=True)


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
