"""The charter's commitments and deadlines as the guide tells them, generated from the charter
version in force at ``as_of``: change a rule (a new version published), the guide changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..charter import ALERTED, EVENTS, RESPONSIBLES
from ..i18n import N_, Msg
from ..models import CharterRule, CharterVersion, RuleKind
from ..stages import Stage

#: In which stage of a démarche each event of the charter happens: a deadline shows in the
#: guide at the stage where its clock starts.
EVENT_STAGES: dict[str, Stage] = {
    "submitted": Stage.SUBMITTED,
    "receipt_sent": Stage.SUBMITTED,
    "reviewed": Stage.SUBMITTED,
    "consultation_opened": Stage.CONSULTATION,
    "question_published": Stage.CONSULTATION,
    "question_answered": Stage.CONSULTATION,
    "consultation_closed": Stage.SYNTHESIS,
    "synthesis_published": Stage.SYNTHESIS,
    "feedback_sent": Stage.FEEDBACK,
}


@dataclass(frozen=True)
class RuleText:
    """One rule of the charter in words: its name, its kind, and its facts (label, value)."""

    code: str
    label: str
    kind: str
    kind_label: Msg
    facts: tuple[tuple[Msg, Msg], ...]
    stage: Stage | None  # where its clock starts (deadlines only)
    within: Msg | None  # a deadline's time allowed


@dataclass(frozen=True)
class CharterText:
    number: int | None  # None: no version in force (none installed, or none published yet)
    note: str
    published_at: datetime | None
    rules: tuple[RuleText, ...]

    def rule(self, code: str) -> RuleText | None:
        return next((r for r in self.rules if r.code == code), None)


def in_force(session: Session, as_of: datetime) -> CharterVersion | None:
    """The version in force at ``as_of``: the current one if it was published by then, else
    the last one published by then."""
    current = session.scalar(select(CharterVersion).where(CharterVersion.is_current.is_(True)))
    if current is not None and current.published_at and current.published_at <= as_of:
        return current
    return session.scalar(
        select(CharterVersion)
        .where(CharterVersion.published_at.is_not(None), CharterVersion.published_at <= as_of)
        .order_by(CharterVersion.published_at.desc(), CharterVersion.id.desc())
        .limit(1)
    )


def amount(number: int, unit: str | None) -> Msg:
    """A duration in words: « 15 jours », « 1 mois », « le jour même »."""
    if unit == "months":
        return N_("1 month") if number == 1 else N_("%(num)s months", num=number)
    if number == 0:
        return N_("the same day")
    return N_("1 day") if number == 1 else N_("%(num)s days", num=number)


def _alerted(values: list[Any]) -> Msg:
    if not values:
        return N_("nobody")
    return N_("%(who)s, by email", who=[ALERTED.get(v, N_(str(v))) for v in values])


def _facts(rule: CharterRule) -> list[tuple[Msg, Msg]]:
    responsible = RESPONSIBLES.get(rule.responsible)
    facts: list[tuple[Msg, Msg]] = []
    kind = RuleKind(rule.kind)
    if kind == RuleKind.DEADLINE:
        facts.append((N_("Starts when"), EVENTS.get(rule.start_event, N_(rule.start_event))))
        facts.append((N_("Stops when"), EVENTS.get(rule.stop_event, N_(rule.stop_event))))
        facts.append((N_("Within"), amount(rule.duration, rule.unit)))
        if responsible:
            facts.append((N_("Responsible"), responsible))
        reminders = list(rule.reminders or [])
        facts.append(
            (
                N_("Reminders"),
                N_(
                    "%(days)s day(s) before the deadline",
                    days=", ".join(str(r) for r in reminders),
                )
                if reminders
                else N_("none"),
            )
        )
        facts.append((N_("Alerted when it is missed"), _alerted(list(rule.alert or []))))
    elif kind == RuleKind.VALIDATION:
        facts.append((N_("At least"), amount(rule.duration, rule.unit)))
        if rule.maximum is not None:
            facts.append((N_("At most"), amount(rule.maximum, rule.maximum_unit or "days")))
        if responsible:
            facts.append((N_("Responsible"), responsible))
    else:
        when = amount(rule.duration, rule.unit)
        facts.append((N_("Registrants reminded"), N_("%(when)s before the event", when=when)))
    return facts


def charter_text(version: CharterVersion | None) -> CharterText:
    """The rules of ``version`` (the one in force: ``in_force``) in words."""
    rules = []
    for rule in version.rules if version is not None else []:
        kind = RuleKind(rule.kind)
        deadline = kind == RuleKind.DEADLINE
        rules.append(
            RuleText(
                code=rule.code,
                label=rule.label,
                kind=kind.value,
                kind_label=kind.label,
                facts=tuple(_facts(rule)),
                stage=EVENT_STAGES.get(rule.start_event) if deadline else None,
                within=amount(rule.duration, rule.unit) if deadline else None,
            )
        )
    return CharterText(
        number=version.number if version else None,
        note=version.note if version else "",
        published_at=version.published_at if version else None,
        rules=tuple(rules),
    )
