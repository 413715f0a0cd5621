"""The refusals of the domain. Each maps to one HTTP status on the web side."""

from __future__ import annotations

from .i18n import Msg


class DomainError(Exception):
    """Base of every refusal; carries translatable messages."""

    status = 400

    def __init__(self, *messages: Msg) -> None:
        super().__init__("; ".join(str(m) for m in messages))
        self.messages = list(messages)


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    """The actor's role or department may not do this (403)."""

    status = 403


class TransitionRefused(DomainError):
    """The move is not possible now: wrong stage or unmet guards (409)."""

    status = 409


class Conflict(DomainError):
    """Someone else changed the record meanwhile, or the stage forbids the change (409)."""

    status = 409


class InvalidFields(DomainError):
    """Bad values, by field name (422)."""

    status = 422

    def __init__(self, errors: dict[str, Msg]) -> None:
        super().__init__(*errors.values())
        self.errors = errors
