"""The Celery workers: ``celery -A workers worker`` and ``celery -A workers beat``.

Builds the Flask app (for its configuration, database and mail) and its bound Celery app;
the tasks in ``workers.tasks`` are thin calls into ``workflows``.
"""

import sys

from backoffice import create_app
from backoffice.config import ConfigError

from .schedule import BEAT_SCHEDULE

try:
    flask_app = create_app()
except ConfigError as refused:  # what to set, in French, without a traceback
    sys.exit(str(refused))
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = {
    **BEAT_SCHEDULE,
    "sweep-mailings": {
        **BEAT_SCHEDULE["sweep-mailings"],
        "schedule": flask_app.config["MAILING_SWEEP_SECONDS"],
    },
}

from . import tasks  # noqa: E402,F401 - registers the tasks on the app above
