"""Configuration from the environment (12-factor), with embedded defaults for development.

Contract (README, "Configuration"): DATABASE_URL, REDIS_URL, MAIL_SERVER, MAIL_PORT,
MAIL_DEFAULT_SENDER, SECRET_KEY, BASE_URL, DIALOGUE_ENV.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from .security_words import SUBJECTS as SECURITY_SUBJECTS

DEV_SECRET = "dev-only-secret-never-use-in-production"


class ConfigError(RuntimeError):
    pass


def database_url(raw: str | None, instance: Path) -> str:
    """SQLAlchemy URL for ``DATABASE_URL``; a plain ``postgresql://`` URL gets our driver."""
    if not raw:
        return f"sqlite:///{instance / 'dialogue.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def broker_url(raw: str | None, instance: Path) -> str:
    """Celery broker: Redis when REDIS_URL is set, else a SQLite file that needs no server."""
    return raw or f"sqla+sqlite:///{instance / 'broker.sqlite'}"


#: The shortest secret key production accepts, and the fewest distinct characters in it.
MIN_SECRET_LENGTH = 32
MIN_SECRET_SYMBOLS = 10
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def production_problems(env: Mapping[str, str]) -> list[str]:
    """What production refuses to start without, each said in French with what to set."""
    problems = []
    secret = env.get("SECRET_KEY") or ""
    if not secret:
        problems.append(
            f"SECRET_KEY n'est pas défini : donnez-lui une clé aléatoire ({GENERATE_SECRET})."
        )
    elif secret == DEV_SECRET:
        problems.append(
            "SECRET_KEY est la clé de développement, publique : donnez-lui une clé aléatoire "
            f"({GENERATE_SECRET})."
        )
    elif len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < MIN_SECRET_SYMBOLS:
        problems.append(
            f"SECRET_KEY est trop faible ({len(secret)} caractères) : il en faut au moins "
            f"{MIN_SECRET_LENGTH}, tirés au hasard ({GENERATE_SECRET})."
        )
    if not env.get("DATABASE_URL"):
        problems.append(
            "DATABASE_URL n'est pas défini : indiquez la base PostgreSQL "
            "(postgresql://utilisateur:mot-de-passe@hôte:5432/base)."
        )
    if not env.get("REDIS_URL"):
        problems.append(
            "REDIS_URL n'est pas défini : indiquez le serveur Redis des tâches (redis://hôte:6379/0)."
        )
    return problems


def from_environment(instance: Path, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    mode = env.get("DIALOGUE_ENV", "production")
    if mode not in ("development", "production"):
        raise ConfigError(
            f"DIALOGUE_ENV vaut {mode!r} : choisissez production (par défaut) ou development."
        )
    if mode == "production" and (problems := production_problems(env)):
        raise ConfigError(
            "Dialogue citoyen ne démarre pas en production :\n"
            + "\n".join(f"- {problem}" for problem in problems)
            + "\nPour l'essayer sur les réglages intégrés (SQLite, sans serveur), "
            "définissez DIALOGUE_ENV=development."
        )
    secret = env.get("SECRET_KEY") or DEV_SECRET
    redis_url = env.get("REDIS_URL") or None
    ratelimit_storage = redis_url if redis_url and redis_url.startswith("redis") else "memory://"
    return {
        "DIALOGUE_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL"), instance),
        "REDIS_URL": redis_url,
        "CELERY": {"broker_url": broker_url(redis_url, instance)},
        "MAIL_SERVER": env.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "1025")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") == "1",
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get(
            "MAIL_DEFAULT_SENDER", "Dialogue citoyen <ne-pas-repondre@dialogue-citoyen.localhost>"
        ),
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT", "10")),
        # Mailings: messages a second to the SMTP relay, all mailings and workers together
        # (0: no limit); at most MAILING_PARALLEL chunks of MAILING_CHUNK messages of one
        # mailing are sent at once.
        "MAILING_RATE": float(env.get("MAILING_RATE", "20")),
        "MAILING_PARALLEL": int(env.get("MAILING_PARALLEL", "4")),
        "MAILING_CHUNK": int(env.get("MAILING_CHUNK", "500")),
        # Rows of a chunk marked in flight and recorded together (one transaction a batch):
        # after a worker's death, at most this many messages are uncertain.
        "MAILING_RECORD_BATCH": max(1, int(env.get("MAILING_RECORD_BATCH", "10"))),
        # What rendering one message's template may spend: CPU seconds, and the longest text
        # it may write or build on the way (enforced while it renders).
        "MAILING_RENDER_SECONDS": float(env.get("MAILING_RENDER_SECONDS", "0.5")),
        "MAILING_RENDER_CHARS": int(env.get("MAILING_RENDER_CHARS", "200000")),
        # The beat's mailing sweep (seconds), and the first retry of a deferred message
        # (seconds; it doubles, up to 60 times this).
        "MAILING_SWEEP_SECONDS": float(env.get("MAILING_SWEEP_SECONDS", "15")),
        "MAILING_RETRY_AFTER": float(env.get("MAILING_RETRY_AFTER", "60")),
        # The participants' survey publishes its aggregates from this many answers.
        "SURVEY_MIN_ANSWERS": int(env.get("SURVEY_MIN_ANSWERS", "30")),
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        "SECURITY_PASSWORD_SALT": env.get("SECURITY_PASSWORD_SALT") or secret,
        "OUTBOX_DISPATCH": env.get("OUTBOX_DISPATCH", "celery"),
        "MAIL_SINK_DIR": env.get("MAIL_SINK_DIR") or None,
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        # The public pages anonymous visitors read, kept until what they show changes
        # (backoffice/public/cache.py): in Redis, else in files the web and workers share.
        "PUBLIC_CACHE_URL": env.get("PUBLIC_CACHE_URL")
        or (redis_url if redis_url and redis_url.startswith("redis") else None)
        or f"file://{instance / 'public-cache'}",
        "PUBLIC_CACHE_SECONDS": int(env.get("PUBLIC_CACHE_SECONDS", "60")),
        # Per address, on the public forms (comments, reports, event registrations).
        "PUBLIC_POST_LIMIT": env.get("PUBLIC_POST_LIMIT") or "10 per minute; 200 per day",
        # A Redis that does not answer fails fast: the limits then hold in this process's
        # memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) until it answers again.
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 1, "socket_timeout": 1}
            if ratelimit_storage.startswith("redis")
            else {}
        ),
    }


DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # « Se souvenir de moi »: two weeks, not a year; HTTP only, same-site, Secure on https.
    "REMEMBER_COOKIE_DURATION": timedelta(days=14),
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Flask-Babel: French UI, Paris time.
    "BABEL_DEFAULT_LOCALE": "fr_FR",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    # Flask-Security: staff accounts are made by administrators; citizens register and
    # confirm their address (espace citoyen).
    "SECURITY_PASSWORD_HASH": "argon2",
    "SECURITY_REGISTERABLE": True,
    "SECURITY_CONFIRMABLE": True,
    "SECURITY_SEND_REGISTER_EMAIL": True,
    "SECURITY_CONFIRM_EMAIL_WITHIN": timedelta(days=5),
    "SECURITY_AUTO_LOGIN_AFTER_CONFIRM": True,
    "SECURITY_RECOVERABLE": True,
    "SECURITY_CHANGEABLE": True,
    "SECURITY_POST_REGISTER_VIEW": "/espace/bienvenue",
    "SECURITY_POST_CONFIRM_VIEW": "/espace/",
    # Its words in this site's French: its own catalogue, then ours over it (security_words).
    "SECURITY_I18N_DIRNAME": ["builtin", str(Path(__file__).parent / "translations")],
    "SECURITY_I18N_DOMAIN": "flask_security;messages",
    **SECURITY_SUBJECTS,
    # Its emails' HTML part is made from their text, as for every email (security_mail.py).
    "SECURITY_EMAIL_HTML": False,
    # Syntax only: no DNS lookups (closed networks, and a slow resolver must not block login);
    # ASCII local parts, which every SMTP relay accepts.
    "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False, "allow_smtputf8": False},
    # The same answer whether an account exists or not (no account enumeration).
    "SECURITY_RETURN_GENERIC_RESPONSES": True,
    "SECURITY_PASSWORD_LENGTH_MIN": 10,
    # Beyond the length, backoffice/passwords.py: zxcvbn's score (0–4) and the account's data.
    "SECURITY_ZXCVBN_MINIMUM_SCORE": 3,
    # Spreadsheet imports can be large; anything bigger is refused with 413.
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "SECURITY_POST_LOGIN_VIEW": "/apres-connexion",
    "SECURITY_POST_LOGOUT_VIEW": "/",
    "SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS": False,
    "WTF_CSRF_TIME_LIMIT": None,
    # Failed logins per account, whatever the address they come from (password guessing).
    "LOGIN_FAILURE_LIMIT": "5 per 15 minutes; 20 per day",
    # Seconds the registration, confirmation and reset forms take at least (timing must not
    # tell whether an account exists or is confirmed).
    "ACCOUNT_FORM_FLOOR": 0.5,
    # Redis away: the same limits, counted in each process's memory (a warning in the log),
    # until Redis answers again (checked every few seconds, then the shared counts resume).
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Imports of more rows than this run in a worker, with progress shown in the back office.
    "IMPORT_INLINE_ROWS": 2000,
    # Files larger than this are previewed by a worker, within IMPORT_PREVIEW_MEMORY bytes of
    # memory (address space) beyond what the worker already holds; smaller ones at once.
    "IMPORT_INLINE_PREVIEW_BYTES": 1024 * 1024,
    "IMPORT_PREVIEW_MEMORY": 1024 * 1024 * 1024,
    # What an import file may hold (workflows/sheets.py: FileLimits); the defaults admit the
    # 100,000-row reference files with room to spare and refuse a zip bomb before it inflates.
    "IMPORT_MAX_ROWS": 200_000,
    "IMPORT_MAX_TEXT_BYTES": 1024 * 1024,  # a CSV record, or a text in a workbook
    "IMPORT_XLSX_MAX_PARTS": 1000,
    "IMPORT_XLSX_MAX_PART_BYTES": 256 * 1024 * 1024,  # one part of the zip, unzipped
    "IMPORT_XLSX_MAX_TOTAL_BYTES": 512 * 1024 * 1024,  # all parts, unzipped
    "IMPORT_XLSX_MAX_RATIO": 100,  # unzipped / zipped size of a part above 1 MB
    "IMPORT_XLSX_MAX_SHARED_STRINGS": 1_000_000,
    # JSON API (flask-smorest): OpenAPI document at /api/v1/openapi.json.
    "API_TITLE": "Dialogue citoyen",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # Flask-Admin
    "FLASK_ADMIN_SWATCH": "default",
}


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(DEFAULTS)
    env = dict(os.environ)
    if test_config is not None:
        # Tests still honour DATABASE_URL and REDIS_URL (CI points them at real servers).
        env.setdefault("DIALOGUE_ENV", "development")
    app.config.from_mapping(from_environment(instance, env))
    app.config.from_mapping(whole_numbers(env, IMPORT_SETTINGS))
    app.config.from_mapping(test_config or {})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        # Several processes (web, worker, beat) share the file: wait for locks, don't fail.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    https = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = https
    if "TRUSTED_HOSTS" not in app.config or app.config["TRUSTED_HOSTS"] is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config, env)


IMPORT_SETTINGS = tuple(k for k in DEFAULTS if k.startswith("IMPORT_"))


def whole_numbers(env: Mapping[str, str], keys: tuple[str, ...]) -> dict[str, int]:
    """The settings among ``keys`` that the environment sets, as whole numbers."""
    values = {}
    for key in keys:
        if env.get(key, "").strip():
            try:
                values[key] = int(env[key].replace("_", ""))
            except ValueError:
                raise ConfigError(f"{key} must be a whole number, not {env[key]!r}") from None
    return values


def trusted_hosts(config: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Hosts the app answers for: BASE_URL's (links in emails, e.g. password resets, are built
    from the request's Host, which must not be the attacker's), plus TRUSTED_HOSTS, plus
    localhost in development."""
    hosts = [urlsplit(config["BASE_URL"]).hostname or "localhost"]
    hosts += [h.strip() for h in env.get("TRUSTED_HOSTS", "").split(",") if h.strip()]
    if config["DIALOGUE_ENV"] == "development":
        hosts += ["localhost", "127.0.0.1"]
    return sorted(set(hosts))
