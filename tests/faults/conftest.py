"""The fault suite's servers: a private PostgreSQL cluster and a private Redis that the tests
stop and restart (never the machine's), under the same fixtures as the integration tests —
the app, its people and démarches, worker processes — pointed at them.

Run by ``make test-faults`` (marker ``fault``); ``make test`` leaves it out."""

from __future__ import annotations

import pytest

from tests.processes import PrivatePostgres, PrivateRedis
from tests.support import free_port


@pytest.fixture(scope="session")
def private_postgres():
    server = PrivatePostgres(free_port())
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def private_redis():
    server = PrivateRedis(free_port())
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def database_url(private_postgres) -> str:
    return private_postgres.url


@pytest.fixture(scope="session")
def app_config(app_config, private_redis) -> dict:
    return {
        **app_config,
        "REDIS_URL": private_redis.url,
        "CELERY": {"broker_url": private_redis.url},
        "RATELIMIT_STORAGE_URI": private_redis.url,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


@pytest.fixture
def worker_env(worker_env, private_redis):
    """Workers and beat on the private servers."""

    def env(**overrides: str) -> dict[str, str]:
        return worker_env(REDIS_URL=private_redis.url, **overrides)

    return env


@pytest.fixture(autouse=True)
def _servers_up(private_postgres, private_redis):
    """Whatever a test stopped is running again for the next one."""
    yield
    if private_redis.process is None:
        private_redis.start()
    if not (private_postgres.data / "postmaster.pid").exists():
        private_postgres.start()
