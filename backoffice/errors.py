"""French error pages for the back office and the public site (the API answers JSON, see
``api.errors``): every HTTP error — werkzeug's, Flask-Limiter's 429, a refusal of the domain
nobody caught — gets a French page with its status."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, abort, current_app, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from workflows.errors import DomainError
from workflows.sql import database_unavailable

from .i18n import tr

log = logging.getLogger(__name__)
#: Seconds a client is asked to wait when the database is away (a restart takes a few).
RETRY_AFTER = 30

DESCRIPTIONS = {
    400: lazy_gettext("The request could not be understood."),
    401: lazy_gettext("Log in to see this page."),
    403: lazy_gettext("Your role does not give access to this page."),
    404: lazy_gettext("This page does not exist."),
    405: lazy_gettext("This action is not possible here."),
    409: lazy_gettext("This action is not possible now."),
    413: lazy_gettext("The file is too large."),
    414: lazy_gettext("The address is too long."),
    415: lazy_gettext("This kind of content is not accepted here."),
    422: lazy_gettext("Some fields are invalid."),
    429: lazy_gettext(
        "Too many attempts in a short time. Please wait a minute before trying again."
    ),
    431: lazy_gettext("The request is too large."),
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
    app.register_error_handler(DomainError, domain_error_page)
    app.register_error_handler(DBAPIError, database_away)
    app.register_error_handler(PoolTimeout, database_away)


def _page(code: int, description, headers=None):
    from .api.errors import status_name

    return (
        render_template("error.html", code=code, title=status_name(code), description=description),
        code,
        headers or {},
    )


def html_error(error: HTTPException):
    code = error.code or 500
    description = DESCRIPTIONS.get(code) or DESCRIPTIONS[500 if code >= 500 else 400]
    if isinstance(error, CSRFError):
        description = lazy_gettext(
            "The form has expired or was sent from elsewhere. Reload the page and try again."
        )
    # werkzeug's own headers (Allow on a 405…), not its content type.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return _page(code, description, headers)


def domain_error_page(exc: DomainError):
    """A refusal of the domain that no view turned into a message (e.g. a synthesis version
    that does not exist): its status and its French message, never a 500."""
    if request.path.startswith("/api/"):
        from .api.errors import domain_error

        return domain_error(exc)
    return _page(exc.status, "; ".join(tr(m) for m in exc.messages))


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
