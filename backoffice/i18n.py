"""French rendering of the domain's messages, dates and labels (Flask-Babel)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, format_datetime, get_locale, gettext

from workflows.i18n import Msg


def tr(msg: Msg | str | None) -> str:
    """A domain message (or message id) in the current locale."""
    if msg is None:
        return ""
    if isinstance(msg, str):
        return gettext(msg)
    return msg.render(gettext, long_date)


def _first(text: str, day: int) -> str:
    """French writes the first of the month « 1er » (« 1er janvier 2027 »)."""
    if day == 1 and text.startswith("1 ") and str(get_locale()).startswith("fr"):
        return "1er " + text[2:]
    return text


def local_datetime(value: datetime | None, fmt: str = "d MMMM y 'à' HH:mm") -> str:
    """An aware datetime shown in Europe/Paris (Flask-Babel's configured timezone)."""
    if not value:
        return ""
    text = format_datetime(value, fmt)
    return _first(text, int(format_datetime(value, "d"))) if fmt.startswith("d MMMM") else text


def long_date(value: date | None) -> str:
    return _first(format_date(value, "long"), value.day) if value else ""


def euros(value: Decimal | None) -> str:
    return format_currency(value, "EUR") if value is not None else ""


def sentence(text: str) -> str:
    """A domain message, written as a fragment (« ce lien n'est pas valide »), shown alone
    as a sentence: its first letter up, a full stop at its end."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def init_app(app: Flask) -> None:
    from workflows.contributions import public_author

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        public_author=public_author,
        tr=tr,
        sentence=sentence,
        local_datetime=local_datetime,
        long_date=long_date,
        euros=euros,
    )
