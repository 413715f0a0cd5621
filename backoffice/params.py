"""The two kinds of number a URL carries — a row id and a page — read once, the same way on
every route: an id that cannot name a row is "not found", a page is clamped to the ones that
exist. (PostgreSQL's ids are 32-bit: a larger number would overflow in the query, a 500.)"""

from __future__ import annotations

from flask import Flask, abort
from werkzeug.routing import IntegerConverter

from workflows.access import MAX_ID, parse_id

#: The last page a list offers: beyond it an offset would be absurd (and overflow PostgreSQL's
#: BIGINT with large pages); the API refuses it (422), the pages show their last page.
MAX_PAGE = 100_000


def _up_to(limit: int) -> str:
    """A regular expression matching the decimal numbers from 1 to ``limit``, without
    leading zeros."""
    digits = str(limit)
    shorter = f"[1-9]\\d{{0,{len(digits) - 2}}}"
    alternatives = [shorter]
    for i, digit in enumerate(digits):
        head, rest = digits[:i], len(digits) - i - 1
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            tail = f"\\d{{{rest}}}" if rest else ""
            alternatives.append(f"{head}[{low}-{int(digit) - 1}]{tail}")
    alternatives.append(digits)
    return "(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """``<int:…>`` in this app's URLs: a row id, 1 to 2³¹−1; any other number matches no route
    (404) instead of reaching the database. Registered as ``int``, so every route has it.

    The bound is in the regular expression, not only in ``to_python``: werkzeug decides
    between 404 and 405 before converting, so a GET route beside a PUT one would turn an
    out-of-range PUT into a 405."""

    regex = _up_to(MAX_ID)

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_arg(values, name: str) -> int | None:
    """The id in ``values[name]`` (a query string or a form): None when absent or empty, 404
    when it cannot name a row."""
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    number = parse_id(raw)
    if number is None:
        abort(404)
    return number


def page_number(raw: object, *, first: int = 1, last: int | None = None) -> int:
    """A page number from user input, clamped to ``first``..``last`` (``MAX_PAGE`` at most);
    garbage is the first page."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return first
    top = MAX_PAGE if last is None else max(min(last, MAX_PAGE), first)
    return min(max(number, first), top)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the rules are built with the converter."""
    app.url_map.converters["int"] = IdConverter
