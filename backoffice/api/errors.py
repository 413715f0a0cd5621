"""One JSON error shape for the whole API, in French, and never a 500 for bad input.

``{"code": 409, "status": "Conflict", "message": "…", "errors": […]}``: ``errors`` lists the
messages (403, 404, 409), or maps each bad field to its messages (400, 422).
"""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from flask import request
from flask_babel import format_number, gettext, lazy_gettext
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from workflows.errors import DomainError, InvalidFields
from workflows.i18n import Msg

from .. import json_input
from ..i18n import tr

API_PREFIX = "/api/"

# The messages of marshmallow, webargs and our schemas that reach an API user, given to
# pybabel so that they get French translations (tests/unit/test_api_messages.py checks that
# every message a schema of ours can produce has one).
MARSHMALLOW_MESSAGES = (
    lazy_gettext("Missing data for required field."),
    lazy_gettext("Field may not be null."),
    lazy_gettext("Unknown field."),
    lazy_gettext("Invalid input type."),
    lazy_gettext("Not a valid string."),
    lazy_gettext("Not a valid utf-8 string."),
    lazy_gettext("Not a valid date."),
    lazy_gettext("Not a valid datetime."),
    lazy_gettext("Not a valid aware datetime."),
    lazy_gettext("Not a valid number."),
    lazy_gettext("Number too large."),
    lazy_gettext("Not a valid integer."),
    lazy_gettext("Not a valid boolean."),
    lazy_gettext("Not a valid mapping type."),
    lazy_gettext("Not a valid email address."),
    lazy_gettext("Invalid value."),
    lazy_gettext("Special numeric values (nan or infinity) are not permitted."),
    lazy_gettext("Invalid JSON body."),
    lazy_gettext("unknown value"),
    # Our schemas' own messages (backoffice/api/schemas.py).
    lazy_gettext("not a valid id"),
    lazy_gettext("a page between 1 and 100000 expected"),
    lazy_gettext("a position between 1 and 10000 expected"),
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
    406: lazy_gettext("Not acceptable"),
    408: lazy_gettext("Request timeout"),
    409: lazy_gettext("Conflict"),
    410: lazy_gettext("Gone"),
    411: lazy_gettext("Length required"),
    412: lazy_gettext("Precondition failed"),
    413: lazy_gettext("Payload too large"),
    414: lazy_gettext("URI too long"),
    415: lazy_gettext("Unsupported media type"),
    416: lazy_gettext("Range not satisfiable"),
    417: lazy_gettext("Expectation failed"),
    418: lazy_gettext("I'm a teapot"),
    421: lazy_gettext("Misdirected request"),
    422: lazy_gettext("Unprocessable entity"),
    423: lazy_gettext("Locked"),
    424: lazy_gettext("Failed dependency"),
    428: lazy_gettext("Precondition required"),
    429: lazy_gettext("Too many requests"),
    431: lazy_gettext("Request header fields too large"),
    451: lazy_gettext("Unavailable for legal reasons"),
    500: lazy_gettext("Internal server error"),
    501: lazy_gettext("Not implemented"),
    502: lazy_gettext("Bad gateway"),
    503: lazy_gettext("Service unavailable"),
    504: lazy_gettext("Gateway timeout"),
    505: lazy_gettext("HTTP version not supported"),
}

#: An error lists at most this many unknown fields (a body may hold 500,000 of them).
MAX_UNKNOWN_LISTED = 20
UNKNOWN_FIELD = "Unknown field."


def status_name(code: int) -> str:
    return str(STATUS_NAMES.get(code) or STATUS_NAMES[500 if code >= 500 else 400])


def _translate(errors: Any) -> Any:
    if isinstance(errors, dict):
        return {key: _translate(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_translate(value) for value in errors]
    if isinstance(errors, Msg):
        return tr(errors)
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


def _leaves(errors: Any) -> list:
    """The messages of one field's errors, however deep marshmallow nested them (a list's
    entries by index, a mapping's keys and values), each once, in order."""
    if isinstance(errors, dict):
        found = [m for value in errors.values() for m in _leaves(value)]
    elif isinstance(errors, list | tuple):
        found = [m for value in errors for m in _leaves(value)]
    else:
        found = [errors]
    return list(dict.fromkeys(found))


def _per_field(errors: dict) -> dict:
    """Each bad field with the list of its messages (the documented shape)."""
    return {key: _leaves(value) for key, value in errors.items()}


def _cap_unknown(errors: dict) -> tuple[dict, int]:
    """At most MAX_UNKNOWN_LISTED unknown fields, and how many there were."""
    unknown = [key for key, value in errors.items() if value == [UNKNOWN_FIELD]]
    if len(unknown) <= MAX_UNKNOWN_LISTED:
        return errors, len(unknown)
    dropped = set(unknown[MAX_UNKNOWN_LISTED:])
    return {key: value for key, value in errors.items() if key not in dropped}, len(unknown)


def payload(code: int, message: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "status": status_name(code), "message": message}
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


class Parser(FlaskParser):
    """webargs' parser reading JSON bodies through ``json_input`` (depth, NUL, lone
    surrogates refused) and saying why a body is refused."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        return json_input.loads(data)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, json_input.UnreadableJSON):
            abort(400, messages={error.field or "json": [tr(error.reason)]})
        abort(400, messages={"json": ["Invalid JSON body."]})


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with our parser, and ``errors(…)`` to document the error
    answers of a route (401 is every route's: the bearer token)."""

    ARGUMENTS_PARSER = Parser()

    def errors(self, *codes: int):
        def decorate(func):
            for code in sorted({401, *codes}, reverse=True):
                func = self.alt_response(code, response=http.HTTPStatus(code).name)(func)
            return func

        return decorate


_MESSAGES = {"type": "array", "items": {"type": "string"}}


class ErrorSchema(ma.Schema):
    """What every error of the API answers."""

    code = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "Its name, in French"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong"})
    errors = ma.fields.Raw(
        metadata={
            "description": "The messages (403, 404, 409), or each bad field's messages "
            "(400, 422; at most 20 unknown fields are named)",
            "oneOf": [
                _MESSAGES,
                {"type": "object", "additionalProperties": _MESSAGES},
            ],
        }
    )


class Api(SmorestApi):
    """flask-smorest's Api whose error handler speaks for ``/api/`` URLs only.

    (Its stock handler answers every HTTP error of the app in JSON, back office included.)
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith(API_PREFIX):
            from ..errors import html_error

            return html_error(error)
        code = error.code or 500
        data = getattr(error, "data", None) or {}
        # werkzeug's own headers (Allow on a 405, Retry-After…), then ours.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        errors = data.get("errors") or data.get("messages")
        message = data.get("message")
        if isinstance(errors, dict):
            errors, unknown = _cap_unknown(_per_field(_flatten_locations(errors)))
            errors = _translate(errors)
            if unknown > MAX_UNKNOWN_LISTED and message is None:
                message = gettext(
                    "%(count)s unknown fields (the first %(listed)s are listed).",
                    count=format_number(unknown),
                    listed=MAX_UNKNOWN_LISTED,
                )
        elif errors is not None:
            errors = _translate(errors)
        if message is None:
            message = gettext("Some fields are invalid.") if code == 422 else status_name(code)
        return payload(code, str(message), errors), code, headers
