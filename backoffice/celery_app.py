"""The Celery app bound to the Flask app: every task runs inside an app context.

The web side only publishes, by name, the jobs its commits recorded (``backoffice.after_commit``);
the task code lives in ``workers/``, which builds this app through ``create_app``
(``celery -A workers worker``).
"""

from __future__ import annotations

import contextlib
import logging

from celery import Celery, Task
from celery.utils.time import get_exponential_backoff_interval
from flask import Flask
from kombu import Queue

from workflows.sql import worth_retrying

log = logging.getLogger(__name__)


def retry_delay(retries: int) -> int:
    """Seconds before the next try of a task the database failed: 1, 2, 4 … 60 at most,
    each drawn at random below that bound (tasks failed by one restart do not all come back
    at once), never less than one."""
    return max(1, get_exponential_backoff_interval(1, retries + 1, 60, full_jitter=True))


#: Seconds a task may run: at the soft limit, SoftTimeLimitExceeded is raised inside it (it
#: gives back what it had not done: rows stay consistent); at the hard limit, its process is
#: killed (what it held is taken again by the sweeps). Every limit stays under the broker's
#: visibility timeout (an hour), so a running task is never handed to a second worker.
TIME_LIMITS = (300, 330)
#: Tighter or longer than that, per task.
TASK_TIME_LIMITS = {
    "workers.deliver_outbox": (120, 150),  # the few emails of one commit
    "workers.deliver_mailing": (540, 600),  # one chunk, at the relay's rate
    "workers.run_import": (1800, 1860),
    "workers.build_synthesis": (1800, 1860),
    "workers.sweep_syntheses": (1800, 1860),  # builds what a lost task did not
    "workers.render_synthesis": (600, 660),
    "workers.render_guide": (600, 660),  # some 60 pages of WeasyPrint
    "workers.render_report": (600, 660),
    "workers.sweep_reports": (900, 960),  # two years' documents
}


#: The mailings' own queue: a lean worker sends them (``-Q mailings --pool threads``: one
#: process, its threads waiting on the SMTP relay and the database), while the default
#: queue's prefork worker runs the heavy tasks (syntheses, imports, PDFs). A worker started
#: without ``-Q`` takes both queues.
MAILING_QUEUE = "mailings"
MAILING_TASKS = ("workers.start_mailing", "workers.deliver_mailing", "workers.sweep_mailings")


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        """Runs in an app context. A task that the database failed for now (restarting,
        unreachable, a deadlock — ``workflows.sql.worth_retrying``) is tried again with
        backoff, ``max_retries`` times (about six minutes); then the periodic sweeps catch up.
        Every task is idempotent (safe twice), so a retry never does its work twice."""

        max_retries = 10

        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                except Exception as exc:
                    if self.request.called_directly or not worth_retrying(exc):
                        raise
                    from .extensions import db

                    with contextlib.suppress(Exception):  # the connection may be dead
                        db.session.rollback()
                    delay = retry_delay(self.request.retries)
                    log.warning(
                        "%s: the database failed (%s); try %d of %d in %d s",
                        self.name,
                        type(getattr(exc, "orig", None) or exc).__name__,
                        self.request.retries + 1,
                        self.max_retries,
                        delay,
                    )
                    raise self.retry(exc=exc, countdown=delay) from exc

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        app.config["CELERY"],
        timezone="Europe/Paris",
        task_ignore_result=True,
        # A task is acknowledged once done: a worker killed mid-task leaves it to another
        # (every task is idempotent, see workflows.outbox).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # The web side must not hang when the broker is away: the outbox sweep catches up.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        worker_hijack_root_logger=False,
        task_default_queue="celery",
        task_queues=(Queue("celery"), Queue(MAILING_QUEUE)),
        task_routes={name: {"queue": MAILING_QUEUE} for name in MAILING_TASKS},
        task_soft_time_limit=TIME_LIMITS[0],
        task_time_limit=TIME_LIMITS[1],
        task_annotations={
            name: {"soft_time_limit": soft, "time_limit": hard}
            for name, (soft, hard) in TASK_TIME_LIMITS.items()
        },
    )
    if celery.conf.broker_url.startswith("redis"):
        # Unacknowledged tasks come back after this; no task ever waits longer (DESIGN §5).
        # A Redis that hangs (rather than refuses) gives up after a few seconds, so that a
        # web request publishing after its commit does not hang with it.
        celery.conf.broker_transport_options = {
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        }
        celery.conf.broker_connection_timeout = 3
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
