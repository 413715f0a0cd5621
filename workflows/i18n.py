"""Messages that the domain produces and the web side translates.

The domain speaks English message ids (extracted by ``pybabel`` through the ``N_`` keyword);
the back office, the API and the emails render them in French through Flask-Babel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Msg:
    """A translatable message id with its parameters (which may be messages or dates)."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(
        self, gettext: Callable[..., str], format_date: Callable[[date], str] = date.isoformat
    ) -> str:
        def value(v: Any) -> Any:
            if isinstance(v, Msg):
                return v.render(gettext, format_date)
            if isinstance(v, list | tuple):
                return ", ".join(str(value(x)) for x in v)
            if isinstance(v, date):
                return format_date(v)
            return v

        return gettext(self.text, **{k: value(v) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render(lambda text, **params: text % params if params else text)

    def __hash__(self) -> int:
        return hash((self.text, tuple(sorted((k, str(v)) for k, v in self.params.items()))))


def N_(text: str, **params: Any) -> Msg:  # noqa: N802 - the conventional gettext marker
    return Msg(text, params)
