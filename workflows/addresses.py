"""Email addresses as the whole application stores them: the one normaliser used for
participants, staff accounts, imports and event registrations alike."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from .errors import InvalidFields
from .i18n import N_


def normalize_email(value: str, field: str = "email") -> str:
    """A syntactically valid, lower-cased address (no DNS lookup); 422 otherwise."""
    try:
        checked = validate_email(
            (value or "").strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError:
        raise InvalidFields({field: N_("invalid email address")}) from None
    return checked.normalized.lower()
