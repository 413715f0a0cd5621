"""The Celery app bound to the Flask app: every task runs inside an app context.

The web side only publishes (``send_task`` by name); the task code lives in ``workers/``,
which builds this app through ``create_app`` (``celery -A workers worker``).
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

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
}


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

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
        task_soft_time_limit=TIME_LIMITS[0],
        task_time_limit=TIME_LIMITS[1],
        task_annotations={
            name: {"soft_time_limit": soft, "time_limit": hard}
            for name, (soft, hard) in TASK_TIME_LIMITS.items()
        },
    )
    if celery.conf.broker_url.startswith("redis"):
        # Unacknowledged tasks come back after this; no task ever waits longer (DESIGN §5).
        celery.conf.broker_transport_options = {"visibility_timeout": 3600}
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
