"""What the worker tests share: an SMTP sink in its own process, and worker processes
sending into it."""

from __future__ import annotations

import pytest

from tests.processes import Sink, start_worker
from tests.support import free_port


@pytest.fixture
def sink(tmp_path):
    started = []

    def start(script: dict | None = None) -> Sink:
        process = Sink(free_port(), tmp_path, script)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def workers(app, worker_env):
    """Start (and restart) worker processes sending into a given sink."""
    started = []

    def start(sink: Sink, *, pool: str = "solo", **env: str):
        settings = {"MAILING_RATE": "0", "MAILING_CHUNK": "25", "MAILING_PARALLEL": "2", **env}
        process = start_worker(worker_env(MAIL_PORT=str(sink.port), **settings), pool=pool)
        started.append(process)
        return process

    app.config["OUTBOX_DISPATCH"] = "celery"
    yield start
    app.config["OUTBOX_DISPATCH"] = "none"
    for process in started:
        process.stop()
