"""French error pages for the back office (the API answers JSON, see ``api.errors``)."""

from __future__ import annotations

from flask import Flask, abort, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

DESCRIPTIONS = {
    400: lazy_gettext("The request could not be understood."),
    403: lazy_gettext("Your role does not give access to this page."),
    404: lazy_gettext("This page does not exist."),
    405: lazy_gettext("This action is not possible here."),
    413: lazy_gettext("The file is too large."),
    500: lazy_gettext(
        "Something went wrong on our side. The team has been told; please try again."
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
