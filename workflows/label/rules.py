"""The label's rules as data: gates that every level needs, and three levels, each defined by
criteria — thresholds on the evaluation's indicators. Shipped in
``workflows/data/label/default.json``; the mission edits them into new versions
(``workflows.label.versions``).

A criterion names an indicator's code (``workflows.evaluation.definitions``, or one of the
record's facts below), what it reads of it (its ``value``, or its ``score`` from 1 to 5), a
comparison (``at_least``: value ≥ threshold; ``at_most``: value ≤ threshold), the threshold
and a French label (data the mission writes, shown as written). ``parse`` checks everything
and says what is wrong by field, the way the back office's form names them
(``gates-0-threshold``, ``silver-2-indicator``, ``gold-label``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..errors import InvalidFields
from ..evaluation import display
from ..evaluation.definitions import CODES, DEFINITIONS
from ..i18n import N_, Msg

#: The levels, lowest first; each higher one demands at least what the one below demands.
LEVELS: tuple[str, ...] = ("bronze", "silver", "gold")
#: How the levels are shown when the rules say nothing else (the shipped labels).
LEVEL_STARS = {"bronze": "★", "silver": "★★", "gold": "★★★"}
COMPARISONS: dict[str, Msg] = {"at_least": N_("at least"), "at_most": N_("at most")}
MEASURES: dict[str, Msg] = {"value": N_("its value"), "score": N_("its score (1 to 5)")}
#: What the record says beside the indicators (``workflows.label.award.facts``): 1 or 0.
FACTS: dict[str, Msg] = {"synthesis_published": N_("The synthesis is published")}
#: Indicators the participants' survey brings to the evaluation (issue 14): named by the rules
#: before they exist; until then a criterion on them reads « not computed » (not met).
ANNOUNCED: dict[str, Msg] = {"survey_sent": N_("The survey is sent to the participants")}
#: The values an indicator may take (a threshold outside is refused); a share (0 to 1) if
#: not named here.
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "deadlines_median_lateness_days": (0, 3650),
    "deadlines_worst_lateness_days": (0, 3650),
    "feedback_days_after_closing": (0, 3650),
    "mobilisation_per_1000": (0, 1000),
    "mobilisation_channels": (0, 5),
    "mobilisation_methods": (0, 100),
    "experience_survey": (0, 5),
}
SCORE_RANGE = (1.0, 5.0)
MAX_LABEL = 200
MAX_NOTE = 2000
MAX_CRITERIA = 20


def known_codes() -> dict[str, Msg]:
    """Every code a criterion may name, with what it is called."""
    named = {code: d.label for code, d in DEFINITIONS.items()}
    return {**ANNOUNCED, **FACTS, **named}


def value_range(code: str, measure: str) -> tuple[float, float]:
    if measure == "score":
        return SCORE_RANGE
    if code in FACTS or code in ANNOUNCED:
        return (0.0, 1.0)
    low, high = VALUE_RANGES.get(code, (0, 1))
    return (float(low), float(high))


DAYS = (
    "deadlines_median_lateness_days",
    "deadlines_worst_lateness_days",
    "feedback_days_after_closing",
)


def figure(code: str, measure: str, number: float) -> Msg:
    """A threshold or a value as it reads: « 90 % », « 60 jours », « oui », « 3/5 »."""
    if measure == "score":
        return N_("%(score)s/5", score=display.number(number, 1))
    if code in FACTS or code in ANNOUNCED:
        return N_("yes") if number >= 1 else N_("no")
    if code in DAYS:
        return display.days(number)
    if code == "mobilisation_per_1000":
        return display.per_1000(number)
    if value_range(code, measure) == (0.0, 1.0):
        return display.share(number)
    return N_("%(value)s", value=display.number(number, 2))


@dataclass(frozen=True)
class Criterion:
    indicator: str
    comparison: str  # at_least | at_most
    threshold: float
    label: str
    measure: str = "value"  # value | score

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.indicator, self.measure, self.comparison)

    def holds(self, value: float) -> bool:
        if self.comparison == "at_least":
            return value >= self.threshold
        return value <= self.threshold

    def at_least_as_strict_as(self, other: Criterion) -> bool:
        if self.comparison == "at_least":
            return self.threshold >= other.threshold
        return self.threshold <= other.threshold

    @property
    def threshold_shown(self) -> Msg:
        return figure(self.indicator, self.measure, self.threshold)

    @property
    def comparison_label(self) -> Msg:
        return COMPARISONS[self.comparison]

    @property
    def requirement(self) -> Msg:
        """What it asks, in words: « au moins 90 % », « au plus 60 jours »; « oui » for a
        fact of the record that must hold."""
        if self.indicator in FACTS or self.indicator in ANNOUNCED:
            return N_("yes") if self.holds(1.0) else N_("no")
        return N_(
            "%(comparison)s %(threshold)s",
            comparison=self.comparison_label,
            threshold=self.threshold_shown,
        )

    def to_json(self) -> dict[str, Any]:
        found = {
            "indicator": self.indicator,
            "comparison": self.comparison,
            "threshold": self.threshold,
            "label": self.label,
        }
        return found if self.measure == "value" else {**found, "measure": self.measure}


@dataclass(frozen=True)
class Level:
    code: str
    label: str
    criteria: tuple[Criterion, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "criteria": [c.to_json() for c in self.criteria],
        }


@dataclass(frozen=True)
class Rules:
    """One version of the rules (``version`` 0: not numbered, e.g. being checked)."""

    version: int
    note: str
    gates: tuple[Criterion, ...]
    levels: tuple[Level, ...]

    def level(self, code: str | None) -> Level | None:
        return next((lv for lv in self.levels if lv.code == code), None)

    def label_of(self, code: str | None) -> str | None:
        found = self.level(code)
        return found.label if found else None

    def to_json(self) -> dict[str, Any]:
        return {
            "note": self.note,
            "gates": [c.to_json() for c in self.gates],
            "levels": [lv.to_json() for lv in self.levels],
        }


# -- checking -----------------------------------------------------------------------------


def _label(value: Any, field: str, errors: dict[str, Msg]) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > MAX_LABEL or "\x00" in text:
        errors[field] = N_("a label of at most %(max)s characters", max=MAX_LABEL)
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _criterion(data: Any, field: str, errors: dict[str, Msg]) -> Criterion | None:
    if not isinstance(data, dict):
        errors[field] = N_("a criterion: indicator, comparison, threshold and label")
        return None
    before = len(errors)
    code = data.get("indicator")
    if not isinstance(code, str) or code not in known_codes():
        errors[f"{field}-indicator"] = N_(
            "unknown indicator “%(code)s”", code=str(code)[:60] if code else ""
        )
    measure = data.get("measure", "value")
    if measure not in MEASURES:
        errors[f"{field}-measure"] = N_("its value or its score")
    elif measure == "score" and code not in CODES:
        errors[f"{field}-measure"] = N_("only an indicator of the evaluation has a score")
    comparison = data.get("comparison")
    if comparison not in COMPARISONS:
        errors[f"{field}-comparison"] = N_("at least or at most")
    threshold = _number(data.get("threshold"))
    if threshold is None:
        errors[f"{field}-threshold"] = N_("a number expected")
    elif isinstance(code, str) and code in known_codes() and measure in MEASURES:
        low, high = value_range(code, measure)
        if not low <= threshold <= high:
            errors[f"{field}-threshold"] = N_(
                "a threshold between %(low)s and %(high)s for this indicator",
                low=f"{low:g}",
                high=f"{high:g}",
            )
    label = _label(data.get("label"), f"{field}-label", errors)
    if len(errors) > before:
        return None
    assert threshold is not None
    return Criterion(str(code), str(comparison), threshold, label, str(measure))


def _criteria(items: Any, prefix: str, errors: dict[str, Msg]) -> tuple[Criterion, ...]:
    if not isinstance(items, list) or len(items) > MAX_CRITERIA:
        errors[prefix] = N_("a list of at most %(max)s criteria", max=MAX_CRITERIA)
        return ()
    found: list[Criterion] = []
    seen: set[tuple[str, str, str]] = set()
    for n, data in enumerate(items):
        criterion = _criterion(data, f"{prefix}-{n}", errors)
        if criterion is None:
            continue
        if criterion.key in seen:
            errors[f"{prefix}-{n}-indicator"] = N_("this criterion is already there")
            continue
        seen.add(criterion.key)
        found.append(criterion)
    return tuple(found)


def _in_order(levels: list[Level], errors: dict[str, Msg]) -> None:
    """Each level demands at least what the level below demands (a higher level reached is
    every lower one reached)."""
    for lower, higher in zip(levels, levels[1:], strict=False):
        theirs = {c.key: c for c in higher.criteria}
        for criterion in lower.criteria:
            match = theirs.get(criterion.key)
            if match is None or not match.at_least_as_strict_as(criterion):
                errors[f"{higher.code}-order"] = N_(
                    "“%(higher)s” must demand at least what “%(lower)s” demands: "
                    "“%(criterion)s” is missing or less demanding",
                    higher=higher.label,
                    lower=lower.label,
                    criterion=criterion.label,
                )
                break


def parse(data: Any, *, version: int = 0) -> Rules:
    """The rules in ``data`` (their JSON), checked; raises InvalidFields saying what is
    wrong, by field, in words the mission reads."""
    errors: dict[str, Msg] = {}
    if not isinstance(data, dict):
        raise InvalidFields({"rules": N_("rules with gates and levels expected")})
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        errors["note"] = N_("at most %(max)s characters", max=MAX_NOTE)
        note = ""
    gates = _criteria(data.get("gates"), "gates", errors)
    levels_data = data.get("levels")
    levels: list[Level] = []
    if not isinstance(levels_data, list):
        levels_data = []
    codes = [lv.get("code") if isinstance(lv, dict) else None for lv in levels_data]
    if codes != list(LEVELS):
        errors["levels"] = N_(
            "the levels %(levels)s, in this order, lowest first", levels=", ".join(LEVELS)
        )
    else:
        for code, level in zip(LEVELS, levels_data, strict=True):
            label = _label(level.get("label"), f"{code}-label", errors)
            criteria = _criteria(level.get("criteria"), code, errors)
            if not criteria and code not in errors:
                errors[code] = N_("a level needs at least one criterion")
            levels.append(Level(code, label, criteria))
        if not errors:
            _in_order(levels, errors)
    if errors:
        raise InvalidFields(errors)
    return Rules(version, note.strip(), gates, tuple(levels))


@cache
def default_data() -> dict[str, Any]:
    text = resources.files("workflows").joinpath("data/label/default.json").read_text("utf-8")
    return json.loads(text)


def shipped() -> Rules:
    """The shipped rules, numbered 1: what the first version in the database will hold."""
    return parse(default_data(), version=1)
