"""The methods that fit a démarche, best first, each with the reasons it fits or not
(DESIGN §6): what the guided saisine shows at its step 4, the démarche's sheet and the API.

A need is what the saisine says: its participation level, the participants expected, the
budget, the weeks left before the participation must be over, and the public in words. A
method fits when no reason stands against it; the reasons are French messages a department
reads (« trop cher pour le budget indiqué », « 12 semaines de préparation »…).

Ranking, among the methods that fit: a method that serves the level, then, from the
concertation up, the deliberative methods first (those made for people working together,
not for collecting opinions), then the ones reaching a public far from participation when the
saisine names one, then the cheapest. Methods that do not fit follow, fewest reasons against
first. Retired methods are never suggested.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..i18n import N_, Msg
from ..models import Demarche, Method
from ..stages import ParticipationLevel
from .catalogue import all_methods, costs, fold, group_size, grouped

LADDER = tuple(ParticipationLevel)
#: What a reason weighs (``Reason.about``).
REASONS = ("level", "deliberative", "size", "cost", "time", "tight", "public")
#: From this rung up, the people work together: deliberative methods come first.
DELIBERATIVE_FROM = ParticipationLevel.CONCERTATION
#: A method is deliberative when every level it serves is at least this one.
_DELIBERATIVE = frozenset(lvl.value for lvl in LADDER[LADDER.index(DELIBERATIVE_FROM) :])
#: Words of a saisine's public that name people rarely heard (folded: no accents, lower case).
FAR_FROM_PARTICIPATION = re.compile(
    r"\b(jeunes?|adolescents?|collegiens?|lyceens?|etudiants?|agees?|seniors?|aines|"
    r"precai\w*|isole\w*|eloigne\w*|quartiers?|ruraux|rurale?s?|handicap\w*|"
    r"allocataires?|beneficiaires?|familles?|parents?|migrants?|gens du voyage|"
    r"sans domicile|demandeurs? d.emploi)\b"
)


@dataclass(frozen=True)
class Need:
    """What a démarche asks of its methods; ``None``: not said, not weighed."""

    level: str | None = None  # a ParticipationLevel value
    size: int | None = None  # participants expected
    budget: int | None = None  # euros
    weeks: int | None = None  # weeks left before the participation must be over
    public: str = ""  # the public concerned, in words

    @property
    def reaches_far(self) -> bool:
        return bool(FAR_FROM_PARTICIPATION.search(fold(self.public)))


@dataclass(frozen=True)
class Reason:
    """One reason a method fits (``fits``) or does not; ``about``: what it weighs (level,
    deliberative, size, cost, time, tight — it fits, barely —, public)."""

    about: str
    fits: bool
    text: Msg


@dataclass(frozen=True)
class Suggestion:
    method: Method
    reasons: tuple[Reason, ...]
    rank: tuple  # smaller first

    @property
    def fits(self) -> bool:
        return all(r.fits for r in self.reasons)

    @property
    def against(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.fits)


def weeks_left(until: date | None, as_of: date) -> int | None:
    """Whole weeks from ``as_of`` to ``until`` (0 once it has passed); None if not said."""
    if until is None:
        return None
    return max(0, (until - as_of).days // 7)


def need_of(d: Demarche, as_of: date) -> Need:
    """What the saisine of ``d`` says it needs."""
    return Need(
        level=d.participation_level.value if d.participation_level else None,
        size=d.expected_participants,
        budget=int(d.budget) if d.budget is not None else None,
        weeks=weeks_left(d.participation_ends_by, as_of),
        public=d.public or "",
    )


def is_deliberative(method: Method) -> bool:
    return bool(method.levels) and set(method.levels) <= _DELIBERATIVE


def _level_names(levels: list[str]) -> list[Msg]:
    return [ParticipationLevel(v).label for v in LADDER if v in levels]


def _level(method: Method, need: Need) -> list[Reason]:
    if not need.level:
        return []
    wanted = ParticipationLevel(need.level)
    if need.level in (method.levels or []):
        reasons = [
            Reason("level", True, N_("serves the level asked (%(level)s)", level=wanted.label))
        ]
        if is_deliberative(method) and LADDER.index(wanted) >= LADDER.index(DELIBERATIVE_FROM):
            reasons.append(
                Reason(
                    "deliberative",
                    True,
                    N_("deliberative: the participants work the project out together"),
                )
            )
        return reasons
    return [
        Reason(
            "level",
            False,
            N_(
                "made for %(levels)s, not for %(level)s",
                levels=_level_names(method.levels or []),
                level=wanted.label,
            ),
        )
    ]


def _size(method: Method, need: Need) -> list[Reason]:
    if need.size is None:
        return []
    if need.size < method.size_min:
        return [
            Reason(
                "size",
                False,
                N_(
                    "needs at least %(low)s participants, %(size)s expected",
                    low=grouped(method.size_min),
                    size=grouped(need.size),
                ),
            )
        ]
    if method.size_max is not None and need.size > method.size_max:
        return [
            Reason(
                "size",
                False,
                N_(
                    "group size: %(range)s, not %(size)s",
                    range=group_size(method),
                    size=grouped(need.size),
                ),
            )
        ]
    return [Reason("size", True, N_("group size: %(range)s", range=group_size(method)))]


def _cost(method: Method, need: Need) -> list[Reason]:
    if need.budget is None:
        return []
    if method.cost_min > need.budget:
        return [
            Reason(
                "cost",
                False,
                N_("too expensive for the budget given: %(costs)s", costs=costs(method)),
            )
        ]
    if method.cost_max <= need.budget:
        return [Reason("cost", True, N_("within the budget: %(costs)s", costs=costs(method)))]
    return [
        Reason(
            "cost", True, N_("the budget covers its simplest form: %(costs)s", costs=costs(method))
        )
    ]


def _time(method: Method, need: Need) -> list[Reason]:
    """Preparing longer than the weeks left rules a method out; running it for its usual
    duration after that only tightens it (a questionnaire can run shorter)."""
    if need.weeks is None:
        return []
    if method.preparation_weeks > need.weeks:
        return [
            Reason(
                "time",
                False,
                N_(
                    "%(weeks)s weeks of preparation, %(left)s weeks left",
                    weeks=method.preparation_weeks,
                    left=need.weeks,
                ),
            )
        ]
    if method.preparation_weeks + math.ceil(method.duration_days / 7) > need.weeks:
        return [
            Reason(
                "tight",
                True,
                N_(
                    "%(weeks)s weeks of preparation leave %(rest)s weeks to run it, shorter "
                    "than usual (%(duration)s)",
                    weeks=method.preparation_weeks,
                    rest=need.weeks - method.preparation_weeks,
                    duration=method.duration or N_("%(days)s days", days=method.duration_days),
                ),
            )
        ]
    return [
        Reason(
            "time",
            True,
            N_("fits the calendar: %(weeks)s weeks of preparation", weeks=method.preparation_weeks),
        )
    ]


def _public(method: Method, need: Need) -> list[Reason]:
    if not need.reaches_far:
        return []
    goes_out = "aller-vers" in fold(method.accessibility) or "targeted" in (
        method.recruitment or []
    )
    if goes_out:
        return [Reason("public", True, N_("goes to meet a public rarely heard"))]
    return []


def judge(method: Method, need: Need) -> Suggestion:
    """Why ``method`` fits ``need`` or not, and where it ranks."""
    reasons = (
        *_level(method, need),
        *_size(method, need),
        *_cost(method, need),
        *_time(method, need),
        *_public(method, need),
    )
    against = sum(not r.fits for r in reasons)
    serves = bool(need.level) and need.level in (method.levels or [])
    deliberative_first = (
        need.level is not None
        and LADDER.index(ParticipationLevel(need.level)) >= LADDER.index(DELIBERATIVE_FROM)
        and is_deliberative(method)
    )
    reaches = any(r.about == "public" for r in reasons)
    tight = any(r.about == "tight" for r in reasons)
    rank = (
        against,
        not serves,
        not deliberative_first,
        tight,
        not reaches,
        method.cost_min,
        fold(method.name),
    )
    return Suggestion(method=method, reasons=tuple(reasons), rank=rank)


def suggest(methods: list[Method], need: Need) -> list[Suggestion]:
    """Every method not retired, judged against ``need``, best first."""
    judged = [judge(m, need) for m in methods if not m.retired]
    return sorted(judged, key=lambda s: s.rank)


def suggestions_for(session: Session, d: Demarche, as_of: date) -> list[Suggestion]:
    """The toolbox's answer to the saisine of ``d``."""
    return suggest(all_methods(session), need_of(d, as_of))
