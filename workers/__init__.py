"""The Celery workers: ``celery -A workers worker`` and ``celery -A workers beat``.

Builds the Flask app (for its configuration, database and mail) and its bound Celery app;
the tasks in ``workers.tasks`` are thin calls into ``workflows``.
"""

from backoffice import create_app

from .schedule import BEAT_SCHEDULE

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = {
    **BEAT_SCHEDULE,
    "sweep-mailings": {
        **BEAT_SCHEDULE["sweep-mailings"],
        "schedule": flask_app.config["MAILING_SWEEP_SECONDS"],
    },
}

from . import tasks  # noqa: E402,F401 - registers the tasks on the app above
