"""The introduction a synthesis version starts from: a model in plain French
(``workflows/data/syntheses/introduction.txt``) whose bracketed fields — ``[Titre de la
démarche]`` — the back office fills from the version before the mission rewrites it, and that
the methodological guide shows as it is."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

from ..i18n import N_, Msg
from ..models import Synthesis

MODEL = "data/syntheses/introduction.txt"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
#: The model's fields: what the writer sees, and what it becomes.
FIELDS: tuple[tuple[str, Msg], ...] = (
    ("[Titre de la démarche]", N_("the title of the démarche")),
    ("[Date d’ouverture de la consultation]", N_("the day the consultation opened")),
    ("[Date de clôture de la consultation]", N_("the day it closed")),
    ("[Nombre de contributions]", N_("the published contributions the version was built from")),
    ("[Nombre de participants]", N_("how many people wrote them")),
)


@cache
def model() -> str:
    """The model as shipped, its fields in square brackets."""
    return resources.files("workflows").joinpath(MODEL).read_text("utf-8").strip()


def _french_date(day: date | None) -> str:
    if day is None:
        return "…"
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def _count(number: object) -> str:
    return f"{number:,}".replace(",", "\u202f") if isinstance(number, int) else "…"


def drafted(synthesis: Synthesis) -> str:
    """The model filled from ``synthesis`` and its démarche: the text its introduction field
    offers while the mission has written none."""
    d = synthesis.demarche
    figures = synthesis.figures or {}
    values = dict(
        zip(
            (token for token, _ in FIELDS),
            (
                d.title,
                _french_date(d.consultation_opens),
                _french_date(d.consultation_closes),
                _count(figures.get("contributions")),
                _count(figures.get("participants")),
            ),
            strict=True,
        )
    )
    text = model()
    for token, value in values.items():
        text = text.replace(token, value)
    return text
