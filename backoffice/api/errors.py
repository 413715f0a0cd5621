"""One JSON error shape for the whole API, in French, and never a 500 for bad input.

``{"code": 409, "status": "Conflict", "message": "…", "errors": […]}``: ``errors`` lists the
messages (403, 409), or maps each bad field to its messages (422).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext, lazy_gettext
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from workflows.errors import DomainError, InvalidFields

from ..i18n import tr

API_PREFIX = "/api/"

# Marshmallow's own messages, given to pybabel so that they get French translations.
MARSHMALLOW_MESSAGES = (
    lazy_gettext("Missing data for required field."),
    lazy_gettext("Field may not be null."),
    lazy_gettext("Unknown field."),
    lazy_gettext("Invalid input type."),
    lazy_gettext("Not a valid string."),
    lazy_gettext("Not a valid date."),
    lazy_gettext("Not a valid number."),
    lazy_gettext("Not a valid integer."),
    lazy_gettext("Invalid value."),
    lazy_gettext("Special numeric values (nan or infinity) are not permitted."),
    lazy_gettext("unknown value"),
    # Our schemas' own messages (backoffice/api/schemas.py).
    lazy_gettext("not a valid id"),
    lazy_gettext("a page between 1 and 100000 expected"),
    lazy_gettext("between 1 and 200 expected"),
    lazy_gettext("between 1 and 500 expected"),
    lazy_gettext("an ISO date or date-time expected"),
)

STATUS_NAMES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Unauthorized"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    409: lazy_gettext("Conflict"),
    413: lazy_gettext("Payload too large"),
    415: lazy_gettext("Unsupported media type"),
    422: lazy_gettext("Unprocessable entity"),
    500: lazy_gettext("Internal server error"),
    503: lazy_gettext("Service unavailable"),
}


def _translate(errors: Any) -> Any:
    if isinstance(errors, dict):
        return {key: _translate(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_translate(value) for value in errors]
    return gettext(str(errors))


def _flatten_locations(errors: dict) -> dict:
    """webargs nests errors by location ({"json": {...}}); the API user wants the fields."""
    flat: dict = {}
    for location, fields in errors.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def payload(code: int, message: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "status": str(STATUS_NAMES.get(code, code)),
        "message": message,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def domain_error(exc: DomainError):
    if isinstance(exc, InvalidFields):
        errors: Any = {name: [tr(message)] for name, message in exc.errors.items()}
    else:
        errors = [tr(message) for message in exc.messages]
    message = "; ".join(tr(m) for m in exc.messages)
    return payload(exc.status, message, errors), exc.status


class Api(SmorestApi):
    """flask-smorest's Api whose error handler speaks for ``/api/`` URLs only.

    (Its stock handler answers every HTTP error of the app in JSON, back office included.)
    """

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith(API_PREFIX):
            from ..errors import html_error

            return html_error(error)
        data = getattr(error, "data", None) or {}
        headers = data.get("headers", {})
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, dict) and error.code == 422:
            errors = _translate(_flatten_locations(errors))
        message = data.get("message")
        if message is None:
            message = (
                gettext("Some fields are invalid.")
                if error.code == 422
                else str(STATUS_NAMES.get(error.code or 500, error.name))
            )
        return payload(error.code or 500, str(message), errors), error.code, headers
