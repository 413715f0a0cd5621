"""French error pages for the back office (the API answers JSON, see ``api.errors``)."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, abort, current_app, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from workflows.sql import database_unavailable

log = logging.getLogger(__name__)
#: Seconds a client is asked to wait when the database is away (a restart takes a few).
RETRY_AFTER = 30

DESCRIPTIONS = {
    400: lazy_gettext("The request could not be understood."),
    403: lazy_gettext("Your role does not give access to this page."),
    404: lazy_gettext("This page does not exist."),
    405: lazy_gettext("This action is not possible here."),
    413: lazy_gettext("The file is too large."),
    500: lazy_gettext(
        "Something went wrong on our side. The team has been told; please try again."
    ),
    503: lazy_gettext(
        "The service is unavailable for a moment: its database does not answer. Please try "
        "again in a minute."
    ),
}


def refuse_nul_bytes():
    """No text with NUL characters reaches the database (PostgreSQL refuses them)."""
    values = list(request.args.values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += list(request.form.values())
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(DBAPIError, database_away)
    app.register_error_handler(PoolTimeout, database_away)


def database_away(exc: Exception):
    """The database is restarting or unreachable: 503 with ``Retry-After`` (a French page, or
    the API's JSON error), and a clean session for the next request, which serves again as
    soon as the database is back (the pool pings its connections before use). Any other
    database error is a bug: re-raised, it becomes a 500."""
    if not database_unavailable(exc):
        raise exc
    from .extensions import db

    with contextlib.suppress(Exception):  # the connection may be dead: rolling back may fail
        db.session.rollback()
    with contextlib.suppress(Exception):
        db.session.remove()
    orig = getattr(exc, "orig", None) or exc
    # The exception's type and code only: its text may quote a statement's parameters.
    cause = " ".join(filter(None, (type(orig).__name__, getattr(orig, "sqlstate", None))))
    log.warning("database unavailable (%s): 503 for %s %s", cause, request.method, request.path)
    headers = {"Retry-After": str(RETRY_AFTER)}
    from .api.errors import API_PREFIX, STATUS_NAMES, payload

    description = DESCRIPTIONS[503]
    if request.path.startswith(API_PREFIX):
        return payload(503, str(description)), 503, headers
    # Rendered without the context processors: Flask-Login's would load the logged-in user
    # from the database that is away.
    page = current_app.jinja_env.get_template("error.html").render(
        code=503, title=STATUS_NAMES[503], description=description
    )
    return page, 503, headers


def html_error(error: HTTPException):
    from .api.errors import STATUS_NAMES

    code = error.code or 500
    description = DESCRIPTIONS.get(code, error.description)
    if isinstance(error, CSRFError):
        description = lazy_gettext(
            "The form has expired or was sent from elsewhere. Reload the page and try again."
        )
    return render_template(
        "error.html", code=code, title=STATUS_NAMES.get(code, error.name), description=description
    ), code
