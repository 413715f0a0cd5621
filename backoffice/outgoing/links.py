"""Absolute links for what leaves the application (emails, calendar invitations), built from
``BASE_URL`` — never from the host a request came by, and without a request at all: the web
and the workers write the same link for the same page. They need an app context only.

``url(endpoint, **values)`` is ``url_for(endpoint, _external=True, **values)`` through the
app's URL map bound to ``BASE_URL`` (a werkzeug ``MapAdapter``); ``absolute(path)`` puts a
path under ``BASE_URL``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from flask import current_app
from werkzeug.routing import Map, MapAdapter


def _adapter() -> MapAdapter:
    return _bound(current_app.url_map, current_app.config["BASE_URL"])


@functools.lru_cache(maxsize=16)
def _bound(url_map: Map, base_url: str) -> MapAdapter:
    """The URL map bound to ``BASE_URL``, once per app (a mailing builds links per message;
    building a link reads the adapter, never changes it)."""
    base = urlsplit(base_url)
    return url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )


def url(endpoint: str, _anchor: str | None = None, **values: object) -> str:
    """The absolute URL of ``endpoint`` with ``values`` (a ``BuildError`` if there is none),
    and ``#_anchor`` if given."""
    link = _build(endpoint, values)
    if _anchor:
        link += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
    return link


def _build(endpoint: str, values: dict[str, object]) -> str:
    current_app.inject_url_defaults(endpoint, values)
    return _adapter().build(endpoint, values, force_external=True)


#: What a URL's path carries as it is (letters, digits, ".", "_", "-"): a signed token.
_UNRESERVED = re.compile(r"[A-Za-z0-9._-]+")
_MARK = "0mark0"


def url_with(endpoint: str, key: str, **values: object) -> Callable[[str], str]:
    """``url(endpoint, key=value, **values)`` as a function of ``value``, the URL built once:
    for a link made for each message of a mailing, whose one varying part is a token. A value
    with characters to quote is built the long way."""
    link = _build(endpoint, {**values, key: _MARK})
    if link.count(_MARK) != 1:
        return lambda value: _build(endpoint, {**values, key: value})
    head, _, tail = link.partition(_MARK)

    def build(value: str) -> str:
        if _UNRESERVED.fullmatch(value):
            return head + value + tail
        return _build(endpoint, {**values, key: value})

    return build


def absolute(path: str) -> str:
    """``path`` (``/demarches/…``) under ``BASE_URL``."""
    return current_app.config["BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def host() -> str:
    """``BASE_URL``'s host name (with its port, if any): e.g. for an invitation's UID."""
    return urlsplit(current_app.config["BASE_URL"]).netloc
