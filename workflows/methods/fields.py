"""What a method of the toolbox holds, validated the same way whoever writes it: the catalogue
file, the back office, the API. Refusals are French messages per field (``InvalidFields``);
nothing is saved."""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidFields
from ..i18n import N_, Msg
from ..models import MethodFormat, Recruitment
from ..stages import ParticipationLevel
from ..text import clean_text

MAX_NAME = 120
MAX_SLUG = 80
MAX_TEXT = 20_000
MAX_SIZE = 10_000_000  # participants: more than the département's inhabitants
MAX_COST = 100_000_000  # euros
MAX_PREPARATION_WEEKS = 104
MAX_DURATION_DAYS = 3650
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: The texts of a method, in the order its page shows them (``name`` and ``summary`` required).
TEXTS = (
    "summary",
    "objectives",
    "duration",
    "cost_note",
    "skills",
    "when_to_use",
    "when_to_avoid",
    "strengths",
    "limits",
    "produces",
    "accessibility",
    "sources",
    "licence",
)
#: Every value a method has, as the catalogue file and ``method_values`` name them.
COLUMNS = (
    "slug",
    "name",
    "levels",
    "size_min",
    "size_max",
    "format",
    "recruitment",
    "preparation_weeks",
    "duration_days",
    "cost_min",
    "cost_max",
    "cost_year",
    "ratings",
    *TEXTS,
)

LEVELS = tuple(level.value for level in ParticipationLevel)
FORMATS = tuple(f.value for f in MethodFormat)
RECRUITMENTS = tuple(r.value for r in Recruitment)


def _number(
    fields: dict[str, Any],
    name: str,
    errors: dict[str, Msg],
    *,
    low: int,
    high: int,
    optional: bool = False,
) -> int | None:
    value = fields.get(name)
    if value in (None, "") and optional:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = N_("a whole number expected")
        return None
    if value < 0 and name.startswith("cost"):
        errors[name] = N_("a cost cannot be negative")
        return None
    if not low <= value <= high:
        errors[name] = N_("a whole number between %(low)s and %(high)s", low=low, high=high)
        return None
    return value


def _choices(
    fields: dict[str, Any], name: str, allowed: tuple[str, ...], errors: dict[str, Msg]
) -> list[str]:
    value = fields.get(name)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        errors[name] = N_("among: %(choices)s", choices=", ".join(allowed))
        return []
    unknown = [v for v in values if v not in allowed]
    if unknown:
        errors[name] = N_(
            "unknown value “%(value)s” (among: %(choices)s)",
            value=unknown[0],
            choices=", ".join(allowed),
        )
        return []
    if not values:
        errors[name] = N_("choose at least one")
        return []
    return [v for v in allowed if v in values]  # the ladder's order, once each


def method_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The values of a method, validated (``InvalidFields`` with French messages otherwise).
    Every column of ``COLUMNS`` is expected; texts other than the name and the summary may
    be empty."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}

    slug = str(fields.get("slug") or "").strip()
    if not SLUG.match(slug) or len(slug) > MAX_SLUG:
        errors["slug"] = N_(
            "lower-case letters, digits and hyphens, at most %(max)s characters", max=MAX_SLUG
        )
    values["slug"] = slug
    name = clean_text(str(fields.get("name") or ""), single_line=True)
    if not name or len(name) > MAX_NAME:
        errors["name"] = N_("a name of at most %(max)s characters", max=MAX_NAME)
    values["name"] = name
    for text in TEXTS:
        value = clean_text(str(fields.get(text) or ""))
        if len(value) > MAX_TEXT:
            errors[text] = N_("at most %(max)s characters", max=MAX_TEXT)
        values[text] = value
    if not values["summary"] and "summary" not in errors:
        errors["summary"] = N_("a summary is needed")

    values["levels"] = _choices(fields, "levels", LEVELS, errors)
    values["recruitment"] = _choices(fields, "recruitment", RECRUITMENTS, errors)
    method_format = fields.get("format")
    if method_format not in FORMATS:
        errors["format"] = N_(
            "unknown value “%(value)s” (among: %(choices)s)",
            value=method_format or "",
            choices=", ".join(FORMATS),
        )
    values["format"] = method_format

    values["size_min"] = _number(fields, "size_min", errors, low=1, high=MAX_SIZE)
    values["size_max"] = _number(fields, "size_max", errors, low=1, high=MAX_SIZE, optional=True)
    if (
        values["size_min"] is not None
        and values["size_max"] is not None
        and values["size_min"] > values["size_max"]
    ):
        errors["size_max"] = N_("the maximum is less than the minimum")
    values["preparation_weeks"] = _number(
        fields, "preparation_weeks", errors, low=0, high=MAX_PREPARATION_WEEKS
    )
    values["duration_days"] = _number(
        fields, "duration_days", errors, low=1, high=MAX_DURATION_DAYS
    )
    values["cost_min"] = _number(fields, "cost_min", errors, low=0, high=MAX_COST)
    values["cost_max"] = _number(fields, "cost_max", errors, low=0, high=MAX_COST)
    if (
        values["cost_min"] is not None
        and values["cost_max"] is not None
        and values["cost_min"] > values["cost_max"]
    ):
        errors["cost_max"] = N_("the maximum is less than the minimum")
    values["cost_year"] = _number(fields, "cost_year", errors, low=1990, high=2100)

    ratings = fields.get("ratings") or {}
    if not isinstance(ratings, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in ratings.items()
    ):
        errors["ratings"] = N_("criteria and their ratings, as text")
    values["ratings"] = dict(ratings) if isinstance(ratings, dict) else {}
    if errors:
        raise InvalidFields(errors)
    return values
