"""The beat schedule: sweeps over rows, never long countdowns (DESIGN §5)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "workers.sweep_outbox", "schedule": 60.0},
    "advance-calendar": {"task": "workers.advance_calendar", "schedule": crontab(minute="*/5")},
    "sweep-imports": {"task": "workers.sweep_imports", "schedule": crontab(minute="*/5")},
    # Every 15 s (MAILING_SWEEP_SECONDS): a dead worker's chunk goes back out within 45 s of
    # its death (workflows.mailings.STALE); a retry that came due leaves within 15 s.
    "sweep-mailings": {"task": "workers.sweep_mailings", "schedule": 15.0},
    "sweep-reminders": {"task": "workers.sweep_reminders", "schedule": crontab(minute="*/10")},
    "expire-registrations": {
        "task": "workers.expire_registrations",
        "schedule": crontab(minute="*/10"),
    },
    "scan-charter": {"task": "workers.scan_charter", "schedule": crontab(minute="*/5")},
    "sweep-syntheses": {"task": "workers.sweep_syntheses", "schedule": crontab(minute="*/5")},
    # The guide's PDF, if missing or stale (a lost request, a release that changed its texts).
    "sweep-guide": {"task": "workers.render_guide", "schedule": crontab(minute="*/15")},
    # The yearly report's documents: the current year's made again when its figures changed.
    "sweep-reports": {"task": "workers.sweep_reports", "schedule": crontab(minute=7)},
    # Monday 08:00 in Europe/Paris (the Celery app's timezone).
    "officials-digest": {
        "task": "workers.send_digests",
        "schedule": crontab(minute=0, hour=8, day_of_week=1),
    },
}
