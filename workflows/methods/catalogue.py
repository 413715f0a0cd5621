"""Reading the toolbox: one method by its slug, and the methods that pass a set of filters.

The catalogue holds tens of methods, not thousands: it is read whole and filtered here, in
Python, the same way for the public pages, the back office and the API (and the accents of
a search do not matter: « reunion » finds « Réunion publique »).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..i18n import N_, Msg
from ..models import Method, MethodFormat
from ..stages import ParticipationLevel
from .fields import FORMATS, LEVELS, MAX_COST, MAX_DURATION_DAYS, MAX_SIZE

#: The longest text search kept (a longer one is cut).
MAX_QUERY = 200
#: Which methods a format filter keeps: a hybrid method also serves face to face and online.
FORMAT_MATCHES = {
    MethodFormat.IN_PERSON: {MethodFormat.IN_PERSON, MethodFormat.HYBRID},
    MethodFormat.ONLINE: {MethodFormat.ONLINE, MethodFormat.HYBRID},
    MethodFormat.HYBRID: {MethodFormat.HYBRID},
}
#: The texts a search reads.
SEARCHED = ("name", "summary", "objectives", "when_to_use", "produces", "strengths")


@dataclass(frozen=True)
class Filters:
    """What a visitor asks of the toolbox; ``None``: no filter on that."""

    level: str | None = None  # a ParticipationLevel value: the method serves it
    format: str | None = None  # a MethodFormat value (hybrid methods match either)
    size: int | None = None  # participants expected: within the method's range
    max_cost: int | None = None  # euros: the method's lowest cost is not above it
    duration: int | None = None  # days: the method takes no longer
    q: str = ""  # words, all found in its texts (case and accents ignored)
    include_retired: bool = False

    @property
    def active(self) -> bool:
        return any(
            v not in (None, "") for v in (self.level, self.format, self.size, self.max_cost)
        ) or bool(self.duration or self.q)


def fold(text: str) -> str:
    """Lower case, without accents: what a search compares."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class WholeNumber:
    """A filter that is a whole number from ``low`` to ``high``; ``label`` names it in a
    message."""

    low: int
    high: int
    label: Msg


#: The filters that are whole numbers, bounded as a method's values are (``fields``); the API
#: documents and checks the same bounds.
WHOLE_NUMBERS = {
    "size": WholeNumber(1, MAX_SIZE, N_("participants")),
    "max_cost": WholeNumber(0, MAX_COST, N_("budget")),
    "duration": WholeNumber(1, MAX_DURATION_DAYS, N_("duration")),
}


def _whole_number(raw: Any, name: str, errors: dict[str, Msg]) -> int | None:
    number = WHOLE_NUMBERS[name]
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    try:
        value = int(text.replace("\u202f", "").replace(" ", ""))
    except ValueError:
        errors[name] = N_("“%(field)s” is not a whole number", field=number.label)
        return None
    if not number.low <= value <= number.high:
        errors[name] = N_(
            "“%(field)s” is a whole number between %(low)s and %(high)s",
            field=number.label,
            low=number.low,
            high=number.high,
        )
        return None
    return value


def parse_filters(args: Any) -> tuple[Filters, dict[str, Msg]]:
    """Filters from query arguments (a mapping of strings); what cannot be read is left out,
    with a French message per argument."""
    errors: dict[str, Msg] = {}
    level = str(args.get("level") or "").strip() or None
    if level is not None and level not in LEVELS:
        errors["level"] = N_("unknown participation level “%(value)s”", value=level[:40])
        level = None
    method_format = str(args.get("format") or "").strip() or None
    if method_format is not None and method_format not in FORMATS:
        errors["format"] = N_("unknown format “%(value)s”", value=method_format[:40])
        method_format = None
    numbers = {name: _whole_number(args.get(name), name, errors) for name in WHOLE_NUMBERS}
    q = " ".join(str(args.get("q") or "").split())[:MAX_QUERY]
    include_retired = str(args.get("include_retired") or "").lower() in ("1", "true", "oui", "on")
    filters = Filters(
        level=level,
        format=method_format,
        q=q,
        include_retired=include_retired,
        **numbers,
    )
    return filters, errors


def matches(method: Method, filters: Filters) -> bool:
    if method.retired and not filters.include_retired:
        return False
    if filters.level and filters.level not in (method.levels or []):
        return False
    if filters.format and method.format not in FORMAT_MATCHES[MethodFormat(filters.format)]:
        return False
    if filters.size is not None and not (
        method.size_min <= filters.size
        and (method.size_max is None or filters.size <= method.size_max)
    ):
        return False
    if filters.max_cost is not None and method.cost_min > filters.max_cost:
        return False
    if filters.duration is not None and method.duration_days > filters.duration:
        return False
    if filters.q:
        haystack = fold(" ".join(getattr(method, name) or "" for name in SEARCHED))
        if not all(word in haystack for word in fold(filters.q).split()):
            return False
    return True


def all_methods(session: Session) -> list[Method]:
    """Every method, retired ones included, by name (accents ignored)."""
    return sorted(session.scalars(select(Method)).all(), key=lambda m: (fold(m.name), m.id))


def search(session: Session, filters: Filters | None = None) -> list[Method]:
    """The methods passing ``filters``, by name; retired ones only when asked."""
    chosen = filters or Filters()
    return [m for m in all_methods(session) if matches(m, chosen)]


def get_method(session: Session, slug: str) -> Method:
    """The method at ``slug``, retired or not (its page stays reachable); NotFound else."""
    found = (
        session.scalar(select(Method).where(Method.slug == slug))
        if isinstance(slug, str) and len(slug) <= 80
        else None
    )
    if found is None:
        raise NotFound(N_("no method “%(slug)s” in the toolbox", slug=str(slug)[:80]))
    return found


def costs(method: Method) -> Msg:
    """The cost range in words, with the year of the figure."""
    if method.cost_min == method.cost_max:
        return N_(
            "about %(low)s € (%(year)s figure)", low=grouped(method.cost_min), year=method.cost_year
        )
    return N_(
        "%(low)s to %(high)s € (%(year)s figures)",
        low=grouped(method.cost_min),
        high=grouped(method.cost_max),
        year=method.cost_year,
    )


def group_size(method: Method) -> Msg:
    if method.size_max is None:
        return N_("from %(low)s people, no upper limit", low=grouped(method.size_min))
    return N_(
        "%(low)s to %(high)s people", low=grouped(method.size_min), high=grouped(method.size_max)
    )


def facts(method: Method) -> list[Msg]:
    """What a list of methods shows of each: its levels, group, cost, preparation."""
    levels = [ParticipationLevel(v).label for v in ParticipationLevel if v in (method.levels or [])]
    return [
        N_("%(levels)s", levels=levels),
        group_size(method),
        costs(method),
        N_("%(weeks)s weeks of preparation", weeks=method.preparation_weeks),
    ]


def grouped(number: int) -> str:
    """A number with the French thin space between thousands (10 000)."""
    return f"{number:,}".replace(",", "\u202f")
