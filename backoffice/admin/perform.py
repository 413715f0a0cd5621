"""How a back-office view carries out a domain action: run it, commit, say it is done; or, when
the domain refuses (a ``DomainError``), roll back and show why, in the user's language.

    done = perform(lambda: charter.waive(...), gettext("The deadline is waived…"))
    if done: ...            # committed; done.value is what the action returned
    else: ...               # rolled back, refusal shown; done.error is the DomainError

Errors other than the domain's (the database away…) are not caught: the app's handlers answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash

from workflows.errors import DomainError

from ..extensions import db
from ..i18n import tr

T = TypeVar("T")


@dataclass(frozen=True)
class Performed(Generic[T]):
    """What ``perform`` did: true when the action was committed."""

    value: T | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None


def flash_refusal(exc: DomainError) -> None:
    """Each message of a refusal, translated, as an error above the page."""
    for message in exc.messages:
        flash(tr(message), "error")


def perform(
    action: Callable[[], T],
    success: str | Callable[[T], str] | None = None,
    *,
    refused: Callable[[DomainError], Any] = flash_refusal,
) -> Performed[T]:
    """Run ``action`` and commit, then flash ``success`` (a message, or a function of what the
    action returned, called after the commit). On a ``DomainError``: roll back and hand it to
    ``refused`` (by default, flash its messages)."""
    try:
        value = action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        refused(exc)
        return Performed(error=exc)
    message = success(value) if callable(success) else success
    if message:
        flash(message, "success")
    return Performed(value)
