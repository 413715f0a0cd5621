"""How an indicator's value reads: « 87 % », « 12,4 pour 1 000 habitants », « 3 jours ».

The figures are written the French way (the house's only language: decimal comma, a narrow
space between thousands); the words around them are message ids the web translates.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from ..i18n import N_, Msg

LOCALE = "fr_FR"


def number(value: float, decimals: int = 1) -> str:
    """``value`` with at most ``decimals`` decimals: 12,4 · 1 234 · 0,25."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(round(value, decimals), format=pattern, locale=LOCALE)


def share(value: float) -> Msg:
    """A share from 0 to 1, as a whole percentage."""
    return N_("%(percent)s %%", percent=number(value * 100, 0))


def per_1000(value: float) -> Msg:
    return N_("%(value)s per 1,000 inhabitants", value=number(value, 2 if value < 1 else 1))


def days(value: float) -> Msg:
    text = number(value, 1)
    return N_("%(value)s day", value=text) if value < 2 else N_("%(value)s days", value=text)


def channels(value: int) -> Msg:
    if value < 2:
        return N_("%(value)s channel", value=value)
    return N_("%(value)s channels", value=value)


def methods(value: int) -> Msg:
    if value < 2:
        return N_("%(value)s method", value=value)
    return N_("%(value)s methods", value=value)


def out_of_one(value: float) -> Msg:
    return N_("%(value)s out of 1", value=number(value, 2))


def of(count: int, total: int) -> Msg:
    return N_("%(count)s of %(total)s", count=count, total=total)
