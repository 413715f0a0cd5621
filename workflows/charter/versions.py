"""Charter versions and their rules."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..after_commit import RENDER_GUIDE, after_commit
from ..errors import Conflict, InvalidFields, PermissionDenied
from ..i18n import N_, Msg
from ..models import CharterRule, CharterVersion, Demarche, RuleKind, User

#: The events that start and stop the clocks, as the code emits them.
EVENTS: dict[str, Msg] = {
    "submitted": N_("a saisine is submitted"),
    "receipt_sent": N_("its acknowledgement of receipt is sent"),
    "reviewed": N_("the mission accepts, returns or rejects the saisine"),
    "consultation_opened": N_("the consultation opens"),
    "consultation_closed": N_("the consultation closes"),
    "question_published": N_("a citizen's question is published"),
    "question_answered": N_("its answer is published"),
    "synthesis_published": N_("the synthesis is published"),
    "feedback_sent": N_("the feedback to participants is sent"),
}
RESPONSIBLES: dict[str, Msg] = {
    "mission": N_("the mission"),
    "department": N_("the démarche's department"),
}
ALERTED: dict[str, Msg] = {
    "mission": N_("the mission"),
    "admin": N_("the head of the mission (administrators)"),
    "elected": N_("the sponsoring elected official"),
    "department": N_("the démarche's department"),
}
UNITS = ("days", "months")
RULE_COLUMNS = (
    "code",
    "label",
    "kind",
    "start_event",
    "stop_event",
    "duration",
    "unit",
    "maximum",
    "maximum_unit",
    "responsible",
    "reminders",
    "alert",
)
MAX_REASON = 5000
#: No reminder is ever sent more than this many days before a deadline.
MAX_REMINDER_DAYS = 60

# -- versions and rules ------------------------------------------------------------------------


@cache
def _default_data() -> dict[str, Any]:
    text = resources.files("workflows").joinpath("data/charter/default.json").read_text("utf-8")
    return json.loads(text)


def default_rule(code: str) -> SimpleNamespace | None:
    """A rule of the default charter, for a démarche that has no version (never saved)."""
    for position, rule in enumerate(_default_data()["rules"], start=1):
        if rule["code"] == code:
            values = {"maximum": None, "maximum_unit": None, "start_event": "", "stop_event": ""}
            return SimpleNamespace(position=position, **{**values, **rule})
    return None


def rule_for(d: Demarche, code: str) -> CharterRule | SimpleNamespace | None:
    """The démarche's own rule ``code`` (its charter version's; the default one before it
    has a version)."""
    version = d.charter_version
    if version is not None:
        return version.rule(code)
    return default_rule(code)


def current_version(session: Session) -> CharterVersion | None:
    return session.scalar(select(CharterVersion).where(CharterVersion.is_current.is_(True)))


def _new_version(
    session: Session, actor: User | None, note: str, as_of: datetime
) -> CharterVersion:
    number = (session.scalar(select(func.max(CharterVersion.number))) or 0) + 1
    version = CharterVersion(number=number, note=note, created_at=as_of, created_by=actor)
    session.add(version)
    session.flush()
    return version


def _make_current(session: Session, version: CharterVersion, as_of: datetime) -> None:
    """``version`` becomes the charter in force; the guide, which tells it, is made again."""
    after_commit(session, RENDER_GUIDE)
    session.execute(
        update(CharterVersion)
        .where(CharterVersion.id != version.id)
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    version.is_current = True
    version.published_at = version.published_at or as_of


def install_default(
    session: Session, *, actor: User | None = None, as_of: datetime
) -> CharterVersion:
    """A new version holding the default charter (DESIGN §3), made current: the install, and
    the reset. Démarches already started keep their own version."""
    data = _default_data()
    version = _new_version(session, actor, data["note"], as_of)
    # An open draft was copied from what is now replaced: it goes (no démarche uses a draft),
    # so that publishing it later cannot silently undo the reset.
    for draft in session.scalars(
        select(CharterVersion).where(
            CharterVersion.published_at.is_(None), CharterVersion.id != version.id
        )
    ):
        for rule in draft.rules:
            session.delete(rule)
        session.delete(draft)
    session.flush()
    for position, rule in enumerate(data["rules"], start=1):
        session.add(CharterRule(version_id=version.id, position=position, **_rule_values(rule)))
    session.flush()
    _make_current(session, version, as_of)
    audit.record(
        session,
        "charter.install_default",
        actor=actor,
        as_of=as_of,
        target=f"charter:{version.number}",
    )
    session.flush()
    session.refresh(version)
    return version


def _rule_values(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": rule["code"],
        "label": rule["label"],
        "kind": RuleKind(rule["kind"]),
        "start_event": rule.get("start_event", ""),
        "stop_event": rule.get("stop_event", ""),
        "duration": rule.get("duration", 0),
        "unit": rule.get("unit", "days"),
        "maximum": rule.get("maximum"),
        "maximum_unit": rule.get("maximum_unit"),
        "responsible": rule.get("responsible", ""),
        "reminders": list(rule.get("reminders", [])),
        "alert": list(rule.get("alert", [])),
    }


def _mission_only(actor: User | None) -> None:
    if actor is not None and not actor.is_mission:
        raise PermissionDenied(N_("the charter is the mission's to edit"))


def new_draft(session: Session, actor: User, *, as_of: datetime) -> CharterVersion:
    """A draft version, a copy of the current one, for the mission to edit (the draft
    already open, if there is one: one draft at a time)."""
    _mission_only(actor)
    open_draft = session.scalar(
        select(CharterVersion).where(CharterVersion.published_at.is_(None)).limit(1)
    )
    if open_draft is not None:
        return open_draft
    current = current_version(session)
    draft = _new_version(session, actor, "", as_of)
    for rule in current.rules if current else []:
        values = {column: getattr(rule, column) for column in RULE_COLUMNS}
        session.add(CharterRule(version_id=draft.id, position=rule.position, **values))
    audit.record(
        session, "charter.draft", actor=actor, as_of=as_of, target=f"charter:{draft.number}"
    )
    session.flush()
    session.refresh(draft)
    return draft


def rule_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated editable fields of a rule (422 with French messages otherwise)."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    label = str(fields.get("label") or "").strip()
    if not label or len(label) > 200:
        errors["label"] = N_("a name of at most %(max)s characters", max=200)
    values["label"] = label
    for name in ("start_event", "stop_event"):
        value = str(fields.get(name) or "")
        if value and value not in EVENTS:
            errors[name] = N_("unknown event “%(value)s”", value=value)
        values[name] = value
    for name, unit_name in (("duration", "unit"), ("maximum", "maximum_unit")):
        number, unit = fields.get(name), fields.get(unit_name) or "days"
        if number in (None, "") and name == "maximum":
            values[name], values[unit_name] = None, None
            continue
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 3650:
            errors[name] = N_("a whole number between 0 and 3650")
        if unit not in UNITS:
            errors[unit_name] = N_("days or months")
        values[name], values[unit_name] = number, unit
    responsible = fields.get("responsible") or ""
    if responsible not in RESPONSIBLES:
        errors["responsible"] = N_("the mission or the démarche's department")
    values["responsible"] = responsible
    reminders = fields.get("reminders") or []
    if not isinstance(reminders, list) or not all(
        isinstance(r, int) and not isinstance(r, bool) and 0 <= r <= MAX_REMINDER_DAYS
        for r in reminders
    ):
        errors["reminders"] = N_(
            "days before the deadline, between 0 and %(max)s", max=MAX_REMINDER_DAYS
        )
    else:
        values["reminders"] = sorted(set(reminders), reverse=True)
    alert = fields.get("alert") or []
    if not isinstance(alert, list) or not set(alert) <= set(ALERTED):
        errors["alert"] = N_("among: %(choices)s", choices=", ".join(ALERTED))
    else:
        values["alert"] = [a for a in ALERTED if a in alert]
    if errors:
        raise InvalidFields(errors)
    return values


#: The events of one question: its clock cannot start on one and stop on something else.
QUESTION_EVENTS = ("question_published", "question_answered")


def _days(amount: int, unit: str | None) -> int:
    return amount * 30 if unit == "months" else amount


def _check_rule(kind: RuleKind, values: dict[str, Any]) -> None:
    """What makes sense for the kind of rule (its fields alone are checked by rule_values)."""
    errors: dict[str, Msg] = {}
    start, stop = values["start_event"], values["stop_event"]
    if kind == RuleKind.DEADLINE:
        if not (start and stop):
            errors["start_event"] = N_("a deadline starts and stops on an event")
        elif start == stop:
            errors["stop_event"] = N_("the clock stops on another event than the one starting it")
        elif (start in QUESTION_EVENTS or stop in QUESTION_EVENTS) and (start, stop) != (
            QUESTION_EVENTS
        ):
            errors["stop_event"] = N_(
                "a question's clock starts when it is published and stops when it is answered"
            )
        too_early = [
            r for r in values.get("reminders", []) if r > _days(values["duration"], values["unit"])
        ]
        if too_early and "reminders" not in errors:
            errors["reminders"] = N_("a reminder cannot come before the clock starts")
        values["maximum"] = values["maximum_unit"] = None
    elif kind == RuleKind.VALIDATION and values["maximum"] is not None:
        if _days(values["maximum"], values["maximum_unit"]) < _days(
            values["duration"], values["unit"]
        ):
            errors["maximum"] = N_("the maximum is less than the minimum")
    if kind != RuleKind.DEADLINE:
        values["start_event"] = values["stop_event"] = ""
        values["reminders"], values["alert"] = [], []
    if errors:
        raise InvalidFields(errors)


def update_rule(
    session: Session, actor: User, rule: CharterRule, fields: dict[str, Any], *, as_of: datetime
) -> CharterRule:
    _mission_only(actor)
    if rule.version.published_at is not None:
        raise Conflict(
            N_("a published version no longer changes: draft a new version of the charter")
        )
    values = rule_values(fields)
    _check_rule(rule.kind, values)
    for name, value in values.items():
        setattr(rule, name, value)
    audit.record(
        session,
        "charter.rule",
        actor=actor,
        as_of=as_of,
        target=f"charter:{rule.version.number}:{rule.code}",
    )
    session.flush()
    return rule


def publish(session: Session, actor: User, version: CharterVersion, *, as_of: datetime) -> None:
    """The draft becomes the charter of the démarches created from now on."""
    _mission_only(actor)
    if version.published_at is not None:
        raise Conflict(N_("this version is already published"))
    _make_current(session, version, as_of)
    audit.record(
        session, "charter.publish", actor=actor, as_of=as_of, target=f"charter:{version.number}"
    )
    session.flush()
