"""Messages shown where the person acted: next to the event they registered to, the form they
sent, the contribution they wrote or reported — not at the top of a long page, off-screen.

A view says where with ``notify(message, category, at="evenement-12")`` and redirects to that
anchor; the template renders ``notices_at("evenement-12")`` there. Whatever no part of the page
claimed (a message without a place, or whose place the page does not show) is rendered by the
layout above the content: a message is never lost. The layout's script moves the focus to the
first message (a page read without JavaScript still opens at the anchor).
"""

from __future__ import annotations

from typing import cast

from flask import Flask, flash, g, get_flashed_messages

SEPARATOR = "@"


def notify(message: str, category: str = "success", *, at: str | None = None) -> None:
    flash(message, f"{category}{SEPARATOR}{at}" if at else category)


def _split(category: str) -> tuple[str, str | None]:
    kind, _, place = category.partition(SEPARATOR)
    return kind, place or None


def notices_at(place: str) -> list[tuple[str, str]]:
    """The (category, message) pairs meant for ``place``, which the page now shows."""
    shown = g.setdefault("notices_shown", set())
    shown.add(place)
    return [(kind, message) for kind, where, message in _all() if where == place]


def unplaced_notices() -> list[tuple[str, str]]:
    """The messages no part of the page rendered (call it after the content is rendered)."""
    shown = g.get("notices_shown", set())
    return [(kind, message) for kind, where, message in _all() if where not in shown]


def _all() -> list[tuple[str, str | None, str]]:
    # Flask reads the session's messages once a request: every call sees the same list.
    flashed = cast(list[tuple[str, str]], get_flashed_messages(with_categories=True))
    return [(*_split(category), message) for category, message in flashed]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(notices_at=notices_at, unplaced_notices=unplaced_notices)
