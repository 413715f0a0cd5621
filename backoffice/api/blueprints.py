"""The one way to make a blueprint of the JSON API: every one authenticates its requests by
bearer token, answers the domain's refusals in the API's error shape (what the refused
request had changed is rolled back: nothing of it is saved), and is exempt from the forms'
CSRF protection (no cookie is read: the token is the credential)."""

from __future__ import annotations

from workflows.errors import DomainError

from ..extensions import csrf, db
from .auth import authenticate
from .errors import Blueprint, domain_error


def refused(exc: DomainError):
    """A domain refusal: roll back what the request wrote before it, answer the error."""
    db.session.rollback()
    return domain_error(exc)


def api_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint ``name`` under ``url_prefix``; ``description`` is its OpenAPI tag's."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    blueprint.before_request(authenticate)
    blueprint.register_error_handler(DomainError, refused)
    csrf.exempt(blueprint)
    return blueprint
