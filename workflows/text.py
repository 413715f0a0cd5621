"""Text as it is stored, whatever it came from (a form, the API, a spreadsheet, Decidim's
HTML): one place that says what a visible text is, which characters never enter the
database, and how a title stays on one line."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bs4 import BeautifulSoup

from .i18n import N_, Msg

_BLANK_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")
# Every way of breaking a line, made "\n".
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# Never stored: control characters but tab and line feed (they break exports and terminals),
# the BOM, and the bidi embeddings, overrides and isolates, which reorder what follows them
# (a title shown backwards, a file name disguised).
_STRIPPED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_FOLDED = re.compile(r"[ \t]*\n[\s]*")
# Letters that show nothing (Hangul fillers, the blank Braille pattern).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, zero-width or format characters
    (Unicode category Cf: zero-width space and joiners, BOM, bidi marks …), combining marks
    without a letter, or blank letters."""
    return any(unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_LETTERS for c in text)


def _scrubbed(value: str) -> str:
    return _STRIPPED.sub("", _LINE_BREAKS.sub("\n", value))


def _finished(value: str, single_line: bool) -> str:
    if single_line:
        value = _FOLDED.sub(" ", value)
    value = value.strip()
    return value if visible(value) else ""


def clean_text(value: str | None, *, single_line: bool = False) -> str:
    """Text as it is stored, from a form, the API or a file: line breaks made "\n", control
    and bidi-reordering characters removed, spaces trimmed; ``single_line`` folds line breaks
    into a space (titles, subjects, names). Empty ("") when nothing visible remains — so
    that every "missing" check refuses a title made of zero-width characters."""
    return _finished(_scrubbed(value), single_line) if value else ""


def checked_text(value: Any, most: int, field: str, errors: dict[str, Msg]) -> str:
    """A free text typed into ``field`` (None: empty), cleaned; what is wrong with it (not a
    text, a NUL character, more than ``most`` characters) added to ``errors``, in French."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = N_("text expected")
        return ""
    if "\x00" in value:
        errors[field] = N_("invalid character in the text")
        return ""
    text = clean_text(value)
    if len(text) > most:
        errors[field] = N_("at most %(max)s characters", max=most)
    return text


def to_text(value: str | None, *, single_line: bool = False) -> str:
    """Plain text from user or imported input: HTML reduced to its text, spaces tidied, as
    ``clean_text`` (which see)."""
    if not value:
        return ""
    value = _scrubbed(value)
    if "<" in value and ">" in value:
        soup = BeautifulSoup(value, "html.parser")
        for br in soup.find_all("br"):
            br.replace_with("\n")
        for block in soup.find_all(["p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"]):
            block.insert_after("\n\n")
        value = _scrubbed(soup.get_text())  # an entity may stand for any character
    if "\n" in value:
        value = "\n".join(line.strip() for line in value.split("\n"))
        value = _BLANK_LINES.sub("\n\n", value)
    return _finished(value, single_line)
