import re

import pytest

from backoffice.config import DEV_SECRET, ConfigError, database_url, from_environment


def test_a_plain_postgresql_url_gets_the_projects_driver(tmp_path):
    assert database_url("postgresql://u:p@db:5432/dialogue", tmp_path) == (
        "postgresql+psycopg://u:p@db:5432/dialogue"
    )
    assert database_url("postgres://u@db/x", tmp_path) == "postgresql+psycopg://u@db/x"
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'dialogue.sqlite'}"


STRONG = "9f3c1e7a2b6d4f8091a5c3e7b2d6f4a8"
SERVERS = {"DATABASE_URL": "postgresql://u@db/dialogue", "REDIS_URL": "redis://r:6379/0"}


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY n'est pas défini"):
        from_environment(tmp_path, SERVERS)
    config = from_environment(tmp_path, {"SECRET_KEY": STRONG, **SERVERS, "MAIL_PORT": "2525"})
    assert config["SECRET_KEY"] == STRONG and config["MAIL_PORT"] == 2525
    assert config["CELERY"]["broker_url"] == "redis://r:6379/0"


@pytest.mark.parametrize(
    "secret, problem",
    [
        (DEV_SECRET, "la clé de développement"),
        ("s", "trop faible (1 caractères)"),
        ("a" * 64, "trop faible (64 caractères)"),
        ("0123456789abcdef", "trop faible (16 caractères)"),
    ],
)
def test_production_refuses_a_weak_or_public_secret_key(tmp_path, secret, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        from_environment(tmp_path, {"SECRET_KEY": secret, **SERVERS})


def test_production_refuses_to_fall_back_on_sqlite_and_the_embedded_broker(tmp_path):
    with pytest.raises(ConfigError) as refused:
        from_environment(tmp_path, {"SECRET_KEY": STRONG})
    message = str(refused.value)
    # Every problem at once, each saying what to set; and the way to try it locally.
    assert "DATABASE_URL n'est pas défini" in message and "postgresql://" in message
    assert "REDIS_URL n'est pas défini" in message and "redis://" in message
    assert "DIALOGUE_ENV=development" in message


def test_the_app_does_not_start_in_production_with_the_development_secret(tmp_path, monkeypatch):
    from backoffice import create_app

    monkeypatch.setenv("DIALOGUE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET)
    for name, value in SERVERS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="clé de développement"):
        create_app()


def test_development_runs_on_embedded_defaults(tmp_path):
    config = from_environment(tmp_path, {"DIALOGUE_ENV": "development"})
    assert config["CELERY"]["broker_url"] == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    assert config["MAIL_SERVER"] == "127.0.0.1" and config["MAIL_PORT"] == 1025
    with pytest.raises(ConfigError, match="DIALOGUE_ENV vaut 'staging'"):
        from_environment(tmp_path, {"DIALOGUE_ENV": "staging"})


def test_an_empty_password_salt_falls_back_to_the_secret_key(tmp_path):
    config = from_environment(
        tmp_path, {"SECRET_KEY": STRONG, **SERVERS, "SECURITY_PASSWORD_SALT": ""}
    )
    assert config["SECURITY_PASSWORD_SALT"] == STRONG


def test_trusted_hosts_come_from_base_url(tmp_path):
    from backoffice.config import trusted_hosts

    config = from_environment(
        tmp_path, {"SECRET_KEY": STRONG, **SERVERS, "BASE_URL": "https://dialogue.cd31.fr"}
    )
    assert trusted_hosts(config, {"TRUSTED_HOSTS": "intra.cd31.fr"}) == [
        "dialogue.cd31.fr",
        "intra.cd31.fr",
    ]
