"""The database away for a moment (a restart), in this process: every task shares one base
class, so a task the database failed is tried again with backoff, a bounded number of times
(one failed by its own statement is not); a back-office form saved meanwhile gets the app's
503, not Flask-Admin's flash quoting the failed statement. (The real servers stopped and
restarted: tests/faults.)"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy import exc as sa


@pytest.fixture
def flaky(app):
    """A task that fails with ``errors`` in turn, then answers how many tries it took."""
    celery = app.extensions["celery"]
    tries = []

    def make(*errors: Exception):
        @celery.task(name=f"tests.flaky{len(errors)}{type(errors[0]).__name__}", bind=True)
        def task(self):
            tries.append(self.request.retries)
            if len(tries) <= len(errors):
                raise errors[len(tries) - 1]
            return len(tries)

        return task

    make.tries = tries
    return make


def away() -> sa.OperationalError:
    return sa.OperationalError("SELECT 1", {}, pg.AdminShutdown("terminating connection"))


def test_a_task_the_database_failed_is_tried_again(flaky):
    task = flaky(away(), sa.OperationalError("SELECT 1", {}, psycopg.OperationalError("refused")))
    result = task.apply()
    assert result.get() == 3 and flaky.tries == [0, 1, 2]


def test_retries_are_bounded(flaky):
    task = flaky(*[away() for _ in range(20)])
    with pytest.raises(sa.OperationalError):
        task.apply().get()
    assert len(flaky.tries) == task.max_retries + 1 == 11


def test_a_task_failed_by_its_own_statement_is_not_retried(flaky):
    task = flaky(sa.IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key")))
    with pytest.raises(sa.IntegrityError):
        task.apply().get()
    assert flaky.tries == [0]


def test_a_back_office_save_the_database_failed_is_left_to_the_503(app):
    from backoffice.admin.base import ProtectedModelView

    admin = app.extensions["admin"][0]
    view = next(v for v in admin._views if isinstance(v, ProtectedModelView))
    with app.test_request_context():
        with pytest.raises(sa.OperationalError):
            view.handle_view_exception(away())  # Flask-Admin would flash it and go on
        duplicate = sa.IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key"))
        assert view.handle_view_exception(duplicate) is True  # still Flask-Admin's own flash
