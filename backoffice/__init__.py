"""The web side of Dialogue citoyen: one application factory, small registration steps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("INSTANCE_PATH")
        or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    from workflows import survey

    from . import (
        admin,
        after_commit,
        api,
        auth,
        celery_app,
        cli,
        config,
        database,
        errors,
        headers,
        i18n,
        params,
        proxies,
        public,
    )
    from .extensions import babel, csrf, db, limiter, mail, migrate
    from .json_input import JSONProvider
    from .public import cache as public_cache
    from .public import notices as public_notices

    app.json_provider_class = JSONProvider  # Flask-Security subclasses it
    app.json = JSONProvider(app)
    params.init_app(app)  # before any blueprint: every <int:…> of a URL is a row id
    config.configure(app, test_config)
    survey.configure(minimum=app.config["SURVEY_MIN_ANSWERS"])
    proxies.init_app(app)
    headers.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    mail.init_app(app)
    babel.init_app(app, locale_selector=lambda: app.config["BABEL_DEFAULT_LOCALE"])
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    admin.init_app(app)
    api.init_app(app)
    app.register_blueprint(public.bp)
    public_cache.init_app(app)
    public_notices.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    celery_app.init_app(app)
    after_commit.init_app(app)
    return app
