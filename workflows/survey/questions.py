"""The participants' questionnaire as data: its statements, the scale they are answered on,
and the optional questions (first participation, age band); and the check of an answer.

Eight statements on a five-point agreement scale (« Pas du tout d'accord » to « Tout à fait
d'accord »), each required; « agreeing » is 4 or 5. Then a free text, whether it was one's
first participation, and an age band, all optional. Codes are stable: the stored scores, the
API and the evaluation's indicators name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidFields
from ..i18n import N_, Msg
from ..text import clean_text

#: The scale, lowest first: the score is the position (1 to 5).
SCALE: tuple[Msg, ...] = (
    N_("Strongly disagree"),
    N_("Rather disagree"),
    N_("Neither agree nor disagree"),
    N_("Rather agree"),
    N_("Strongly agree"),
)
LOWEST, HIGHEST = 1, len(SCALE)
#: A score from this one up counts as agreeing.
AGREEING = 4
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Statement:
    code: str
    text: Msg


STATEMENTS: tuple[Statement, ...] = (
    Statement("information", N_("I had the information I needed to take part.")),
    Statement("expression", N_("I could say what I wanted to say.")),
    Statement("listened", N_("I felt listened to.")),
    Statement("facilitation", N_("The facilitation was neutral and respectful.")),
    Statement("changeable", N_("I knew what could still be changed.")),
    Statement("outcome", N_("I understood what became of my contribution.")),
    Statement("satisfaction", N_("Overall, I am satisfied with this démarche.")),
    Statement("would_return", N_("I would take part in such a démarche again.")),
)
BY_CODE = {s.code: s for s in STATEMENTS}

#: First participation: yes, no (or not said: None).
FIRST_TIME: tuple[tuple[str, Msg], ...] = (
    ("yes", N_("Yes, it was the first time")),
    ("no", N_("No, I had taken part before")),
)
AGE_BANDS: tuple[tuple[str, Msg], ...] = (
    ("under_25", N_("Under 25")),
    ("25_39", N_("25 to 39")),
    ("40_59", N_("40 to 59")),
    ("60_74", N_("60 to 74")),
    ("75_plus", N_("75 and over")),
)


@dataclass(frozen=True)
class Answer:
    """An answer checked: a score per statement, and the optional rest."""

    scores: dict[str, int]
    comment: str = ""
    first_time: bool | None = None
    age_band: str | None = None


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 3:
        return int(value.strip())
    return None


def parse(data: Mapping[str, Any]) -> Answer:
    """``data`` (a form's fields, or the API's JSON: each statement's code, ``comment``,
    ``first_time`` ``yes``/``no``/empty, ``age_band``) checked; raises InvalidFields with every
    error at once, by field."""
    errors: dict[str, Msg] = {}
    scores: dict[str, int] = {}
    for statement in STATEMENTS:
        raw = data.get(statement.code)
        if raw is None or raw == "":
            errors[statement.code] = N_("choose one of the answers")
            continue
        score = _score(raw)
        if score is None or not LOWEST <= score <= HIGHEST:
            errors[statement.code] = N_(
                "an answer from %(lowest)s to %(highest)s", lowest=LOWEST, highest=HIGHEST
            )
            continue
        scores[statement.code] = score
    comment = data.get("comment")
    text = ""
    if comment not in (None, ""):
        if not isinstance(comment, str) or "\x00" in comment:
            errors["comment"] = N_("text expected")
        else:
            text = clean_text(comment)
            if len(text) > MAX_COMMENT:
                errors["comment"] = N_("at most %(max)s characters", max=MAX_COMMENT)
    first = data.get("first_time")
    first_time: bool | None = None
    if first in ("yes", True):
        first_time = True
    elif first in ("no", False):
        first_time = False
    elif first not in (None, ""):
        errors["first_time"] = N_("choose one of the answers")
    band = data.get("age_band")
    if band in (None, ""):
        band = None
    elif band not in dict(AGE_BANDS):
        errors["age_band"] = N_("choose one of the answers")
        band = None
    if errors:
        raise InvalidFields(errors)
    return Answer(scores, text, first_time, band)
