"""JSON bodies read once, the same way everywhere (the API, Flask-Security's JSON forms): a
body nested deeper than ``MAX_DEPTH``, or whose text holds what no database column can store
— a NUL character, a lone UTF-16 surrogate such as ``"\\ud800"`` (valid JSON, not valid
Unicode: PostgreSQL and SQLite both fail to encode it) — is refused as a bad request before
any code sees it."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

from workflows.i18n import N_, Msg

#: Deeper than this is no request of ours (the API's bodies are flat objects).
MAX_DEPTH = 32


class UnreadableJSON(json.JSONDecodeError):
    """A body that parses but must not be used; ``reason`` says why (translatable) and
    ``field`` names the top-level key it was found under (None: the body itself)."""

    def __init__(self, reason: Msg, field: str | None = None) -> None:
        super().__init__(str(reason), "<request body>", 0)
        self.reason = reason
        self.field = field


def _bad_text(text: str) -> Msg | None:
    if "\x00" in text:
        return N_("NUL characters are not accepted")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return N_("invalid Unicode text (a lone surrogate)")
    return None


def check(value: Any) -> None:
    """Raise UnreadableJSON for a value nested deeper than MAX_DEPTH or holding a string (key
    or value) that cannot be stored. Iterative: the value may be as deep as json allows."""
    stack: list[tuple[Any, int, str | None]] = [(value, 1, None)]
    while stack:
        node, depth, field = stack.pop()
        if isinstance(node, str):
            reason = _bad_text(node)
            if reason is not None:
                raise UnreadableJSON(reason, field)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise UnreadableJSON(
                N_("a JSON body nested more than %(max)s levels deep", max=MAX_DEPTH)
            )
        if isinstance(node, dict):
            for key, child in node.items():
                reason = _bad_text(key)
                if reason is not None:
                    raise UnreadableJSON(reason, field)
                stack.append((child, depth + 1, key if field is None else field))
        else:
            stack.extend((child, depth + 1, field) for child in node)


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` and ``check``; UnreadableJSON (a JSONDecodeError) for a refused body."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        # The parser's own guard (Python's recursion limit) fired: far deeper than MAX_DEPTH.
        raise UnreadableJSON(
            N_("a JSON body nested more than %(max)s levels deep", max=MAX_DEPTH)
        ) from None
    check(value)
    return value


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose ``loads`` refuses what ``check`` refuses (``request.get_json``
    then answers 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
