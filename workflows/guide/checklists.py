"""The checklist of each stage: what must be true to leave it, derived from the stage machine
— the moves out of the stage (``workflows.stages.MOVES``), the guards of each move's target
(``workflows.guards.GUARDS``) and the charter's rules they read, in force at ``as_of``.

Each guard has its sentence here (``CHECKS``); a guard added to the machine without one makes
the guide fail to build, and its test say which (``unexplained_guards``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import guards
from ..i18n import N_, Msg
from ..models import CharterRule
from ..roles import MISSION_ROLES, RoleName
from ..stages import Move, Stage, moves_from
from .commitments import amount

RuleOf = Callable[[str], CharterRule | None]

#: What a saisine gives, by the field names of ``guards.SAISINE_REQUIRED_FIELDS``.
SAISINE_FIELDS: dict[str, Msg] = {
    "title": N_("its title"),
    "department": N_("the department that carries it"),
    "objectives": N_("its objectives"),
    "public": N_("the public concerned"),
    "territory": N_("the territory concerned"),
    "desired_calendar": N_("the desired calendar"),
    "participation_level": N_("the participation level"),
    "elected_official": N_("the sponsoring elected official"),
}


def _saisine(rule: RuleOf) -> list[Msg]:
    return [
        N_("The saisine gives %(what)s", what=SAISINE_FIELDS[field])
        for field in guards.SAISINE_REQUIRED_FIELDS
    ]


def _dates(rule: RuleOf) -> list[Msg]:
    checks = [
        N_(
            "The consultation's opening and closing dates are set, the closing after the "
            "opening; it opens today at the latest and does not close before today"
        )
    ]
    length = rule("consultation_length")
    if length is not None:
        shortest = amount(length.duration, length.unit)
        if length.maximum is not None:
            longest = amount(length.maximum, length.maximum_unit or "days")
            checks.append(
                N_(
                    "The consultation lasts at least %(shortest)s and at most %(longest)s "
                    "(charter rule “%(rule)s”)",
                    shortest=shortest,
                    longest=longest,
                    rule=length.label,
                )
            )
        else:
            checks.append(
                N_(
                    "The consultation lasts at least %(shortest)s (charter rule “%(rule)s”)",
                    shortest=shortest,
                    rule=length.label,
                )
            )
    return checks


def _notice(rule: RuleOf) -> list[Msg]:
    notice = rule("public_notice")
    if notice is None or not notice.duration:
        return []
    return [
        N_(
            "The opening date is made public at least %(days)s days before the consultation "
            "opens (charter rule “%(rule)s”)",
            days=notice.duration,
            rule=notice.label,
        )
    ]


def _fixed(*texts: Msg) -> Callable[[RuleOf], list[Msg]]:
    return lambda rule: list(texts)


#: Per guard, the sentences of the checklist (the charter's rules they read passed in).
CHECKS: dict[guards.Guard, Callable[[RuleOf], list[Msg]]] = {
    guards.saisine_complete: _saisine,
    guards.consultation_dates: _dates,
    guards.public_notice_given: _notice,
    guards.presentation_written: _fixed(N_("The démarche's public presentation is written")),
    guards.items_prepared: _fixed(
        N_("At least one item is prepared for the citizens to comment on")
    ),
    guards.closing_passed_or_reason: _fixed(
        N_("The closing date has passed, or the mission gives its reason for closing early")
    ),
    guards.synthesis_published: _fixed(N_("The synthesis is published")),
    guards.decisions_written: _fixed(
        N_("The department has written its decision on every item, with its justification")
    ),
    guards.feedback_sent: _fixed(
        N_("The feedback to the participants has been sent, every message of it")
    ),
}
COMMENT = N_("The mission gives its reason, which the department reads")
NOTHING = N_("No condition is checked: the decision is theirs")


def unexplained_guards() -> list[str]:
    """The guards of the stage machine that have no sentence in the checklists."""
    return [
        guard.__name__
        for stage_guards in guards.GUARDS.values()
        for guard in stage_guards
        if guard not in CHECKS
    ]


@dataclass(frozen=True)
class Exit:
    """A way out of a stage: the move, who may make it, and its checklist."""

    target: Stage
    label: Msg
    by: tuple[Msg, ...]
    checklist: tuple[Msg, ...]


def who(move: Move) -> tuple[Msg, ...]:
    """The roles that may make ``move`` (administrators hold every right of the mission)."""
    roles = [RoleName(r) for r in move.roles]
    if RoleName.MISSION in roles:
        roles = [r for r in roles if r not in MISSION_ROLES - {RoleName.MISSION}]
    return tuple(r.label for r in RoleName if r in roles)


def exits(stage: Stage, rule: RuleOf) -> tuple[Exit, ...]:
    """The moves out of ``stage``, each with what must be true to make it."""
    found = []
    for move in moves_from(stage):
        checklist: list[Msg] = []
        if move.needs_comment:
            checklist.append(COMMENT)
        for guard in guards.GUARDS.get(move.target, ()):
            checklist.extend(CHECKS[guard](rule))
        found.append(Exit(move.target, move.label, who(move), tuple(checklist or [NOTHING])))
    return tuple(found)
