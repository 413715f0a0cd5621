"""What the rules propose for a démarche: the highest level whose gates and criteria all hold
on its evaluation, each criterion met, not met or not computed (an indicator without a value
meets nothing: the survey not sent yet, no question asked…), with the value seen and the
threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..evaluation.indicators import Evaluation
from ..i18n import Msg
from .rules import Criterion, Level, Rules, figure

MET, NOT_MET, NOT_COMPUTED = "met", "not_met", "not_computed"


@dataclass(frozen=True)
class Check:
    """One criterion against the démarche: ``value`` None when not computed."""

    criterion: Criterion
    value: float | None

    @property
    def met(self) -> bool:
        return self.value is not None and self.criterion.holds(self.value)

    @property
    def status(self) -> str:
        if self.value is None:
            return NOT_COMPUTED
        return MET if self.met else NOT_MET

    @property
    def value_shown(self) -> Msg | None:
        if self.value is None:
            return None
        return figure(self.criterion.indicator, self.criterion.measure, self.value)

    def to_json(self) -> dict[str, Any]:
        return {**self.criterion.to_json(), "value": self.value, "status": self.status}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check:
        criterion = Criterion(
            data["indicator"],
            data["comparison"],
            float(data["threshold"]),
            data["label"],
            data.get("measure", "value"),
        )
        return cls(criterion, data.get("value"))


@dataclass(frozen=True)
class LevelCheck:
    code: str
    label: str
    checks: tuple[Check, ...]

    @property
    def met(self) -> bool:
        return all(c.met for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "criteria": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Proposal:
    rules_version: int
    gates: tuple[Check, ...]
    levels: tuple[LevelCheck, ...]

    @property
    def gates_met(self) -> bool:
        return all(g.met for g in self.gates)

    @property
    def level(self) -> str | None:
        """The highest level whose criteria hold, the gates holding; None: no level."""
        if not self.gates_met:
            return None
        reached = [lv.code for lv in self.levels if lv.met]
        return reached[-1] if reached else None

    @property
    def label(self) -> str | None:
        return next((lv.label for lv in self.levels if lv.code == self.level), None)

    def level_check(self, code: str | None) -> LevelCheck | None:
        return next((lv for lv in self.levels if lv.code == code), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "rules_version": self.rules_version,
            "gates": [g.to_json() for g in self.gates],
            "levels": [lv.to_json() for lv in self.levels],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proposal:
        return cls(
            data["rules_version"],
            tuple(Check.from_json(g) for g in data["gates"]),
            tuple(
                LevelCheck(
                    lv["code"], lv["label"], tuple(Check.from_json(c) for c in lv["criteria"])
                )
                for lv in data["levels"]
            ),
        )


def _value(
    criterion: Criterion, evaluation: Evaluation, facts: Mapping[str, float]
) -> float | None:
    if criterion.indicator in facts:
        return facts[criterion.indicator]
    indicator = evaluation.indicator(criterion.indicator)
    if indicator is None:
        return None  # an indicator the evaluation does not have (yet): not computed
    found = indicator.score if criterion.measure == "score" else indicator.value
    return None if found is None else float(found)


def _checks(
    criteria: tuple[Criterion, ...], evaluation: Evaluation, facts: Mapping[str, float]
) -> tuple[Check, ...]:
    return tuple(Check(c, _value(c, evaluation, facts)) for c in criteria)


def propose(
    evaluation: Evaluation, rules: Rules, facts: Mapping[str, float] | None = None
) -> Proposal:
    """The level ``rules`` propose for the démarche of ``evaluation``; ``facts``: what the
    record says beside the indicators (``{"synthesis_published": 1.0}``, see
    ``workflows.label.award.facts``) — a fact not given is not computed."""
    known = dict(facts or {})

    def level(lv: Level) -> LevelCheck:
        return LevelCheck(lv.code, lv.label, _checks(lv.criteria, evaluation, known))

    return Proposal(
        rules.version,
        _checks(rules.gates, evaluation, known),
        tuple(level(lv) for lv in rules.levels),
    )
