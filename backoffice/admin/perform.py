"""How a back-office view carries out a domain action: run it, commit, say it is done; or, when
the domain refuses (a ``DomainError``), roll back and show why, in the user's language.

    done = perform(lambda: charter.waive(...), gettext("The deadline is waived…"))
    if done: ...            # committed; done.value is what the action returned
    else: ...               # rolled back, refusal shown; done.error is the DomainError

A form's refusal goes under its fields (``refused=form_refusal(form)``): the typed values stay
in the form, each message beside the field it names. Errors other than the domain's (the
database away…) are not caught: the app's handlers answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash
from flask_babel import gettext

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


def in_the_form(exc: DomainError) -> None:
    """``refused=in_the_form``: the view shows the refusal inside the refused form itself
    (``sheet.Refusal``), not flashed above the page."""


def form_refusal(form: Any, aliases: dict[str, str] | None = None) -> Callable[[DomainError], None]:
    """A refusal for ``form``: each message naming one of its fields goes under that field
    (``aliases`` maps the domain's field names to the form's), the others are flashed, and
    one line above the form says where to look."""
    aliases = aliases or {}

    def refused(exc: DomainError) -> None:
        shown = []
        for name, message in getattr(exc, "errors", {}).items():
            field = aliases.get(name, name)
            if field in form:
                form[field].errors = [*form[field].errors, tr(message)]
                shown.append(message)
        for message in exc.messages:
            if message not in shown:
                flash(tr(message), "error")
        if shown:
            flash(gettext("Please correct the fields marked below."), "error")

    return refused


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
