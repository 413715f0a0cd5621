import pytest

from backoffice.config import ConfigError, database_url, from_environment


def test_a_plain_postgresql_url_gets_the_projects_driver(tmp_path):
    assert database_url("postgresql://u:p@db:5432/dialogue", tmp_path) == (
        "postgresql+psycopg://u:p@db:5432/dialogue"
    )
    assert database_url("postgres://u@db/x", tmp_path) == "postgresql+psycopg://u@db/x"
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'dialogue.sqlite'}"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        from_environment(tmp_path, {})
    config = from_environment(
        tmp_path, {"SECRET_KEY": "s3cret", "REDIS_URL": "redis://r:6379/0", "MAIL_PORT": "2525"}
    )
    assert config["SECRET_KEY"] == "s3cret" and config["MAIL_PORT"] == 2525
    assert config["CELERY"]["broker_url"] == "redis://r:6379/0"


def test_development_runs_on_embedded_defaults(tmp_path):
    config = from_environment(tmp_path, {"DIALOGUE_ENV": "development"})
    assert config["CELERY"]["broker_url"] == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    assert config["MAIL_SERVER"] == "127.0.0.1" and config["MAIL_PORT"] == 1025
    with pytest.raises(ConfigError, match="DIALOGUE_ENV"):
        from_environment(tmp_path, {"DIALOGUE_ENV": "staging"})


def test_an_empty_password_salt_falls_back_to_the_secret_key(tmp_path):
    config = from_environment(tmp_path, {"SECRET_KEY": "s3cret", "SECURITY_PASSWORD_SALT": ""})
    assert config["SECURITY_PASSWORD_SALT"] == "s3cret"


def test_trusted_hosts_come_from_base_url(tmp_path):
    from backoffice.config import trusted_hosts

    config = from_environment(tmp_path, {"SECRET_KEY": "s", "BASE_URL": "https://dialogue.cd31.fr"})
    assert trusted_hosts(config, {"TRUSTED_HOSTS": "intra.cd31.fr"}) == [
        "dialogue.cd31.fr",
        "intra.cd31.fr",
    ]
