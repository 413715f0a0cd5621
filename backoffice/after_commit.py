"""The one after-commit listener of the web and the workers: the jobs a committed transaction
recorded (``workflows.after_commit``: outbox deliveries, mailings to start, syntheses to build
or render, imports to read or run) are published to the workers right after the real commit.

A rolled-back transaction publishes nothing; a SAVEPOINT released publishes nothing until the
outer commit. If publishing fails (broker away), the work waits in its rows and the periodic
sweeps hand it out. ``OUTBOX_DISPATCH`` other than ``celery`` (the tests): nothing is published.

A job whose task has a *local* handler (``handle_here``) is not sent to the workers but done
at once by the process that committed, whatever ``OUTBOX_DISPATCH``: the public page cache
moves its generations on so (``public/cache.py``), so that no stale page is served after the
commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows import after_commit as jobs

log = logging.getLogger(__name__)

#: Tasks done in the committing process rather than by the workers: name → handler.
LOCAL: dict[str, Callable[..., None]] = {}


def handle_here(task: str, handler: Callable[..., None]) -> None:
    """Do ``task``'s jobs in the process that commits them, with ``handler(*args)``."""
    LOCAL[task] = handler


def _after_commit(session: Session) -> None:
    committed = jobs.committed(session)  # none for a SAVEPOINT
    if committed and has_app_context():
        for job in committed:
            if job.task in LOCAL:
                LOCAL[job.task](*job.args)
            else:
                publish(job.task, *job.args)


def _after_rollback(session: Session) -> None:
    jobs.rolled_back(session)


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
