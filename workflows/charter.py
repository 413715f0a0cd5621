"""The charter's promises as data (DESIGN §3), and the deadlines that hold the Département
to them.

A charter version is a set of rules. A démarche keeps the version current when it was
created. Each deadline rule starts a clock on an event (a saisine submitted, a question
published, a consultation closed …) and stops it on another; ``event()`` is called by the
transition function and the contribution events, and creates and settles the deadlines in
the caller's transaction. ``scan()`` — the beat's sweep and ``flask charter scan`` — sends the
reminders and marks the missed deadlines with their alerts, each once, in a fixed number of
queries whatever the number of démarches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from . import audit
from .clock import PARIS, local_date
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .models import (
    CharterRule,
    CharterVersion,
    Contribution,
    Deadline,
    DeadlineNotice,
    DeadlineStatus,
    Demarche,
    OutboxMessage,
    Role,
    RuleKind,
    User,
)
from .outbox import NEW_IDS
from .roles import RoleName
from .sql import insert_rows_ignoring_duplicates
from .stages import add_months

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


# -- deadlines: made and settled by events -----------------------------------------------------


def paris_midnight(day: date) -> datetime:
    """The instant ``day`` begins in Europe/Paris, as UTC (23:00 or 22:00 the day before)."""
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)


def due_of(start: datetime, duration: int, unit: str) -> tuple[date, datetime]:
    """The last day of a clock started at ``start`` (day granularity, Europe/Paris: "within
    30 days" of the 1st ends on the 31st at midnight) and the instant it ends, as UTC."""
    first = local_date(start)
    last = add_months(first, duration) if unit == "months" else first + timedelta(days=duration)
    return last, paris_midnight(last + timedelta(days=1))


def event(
    session: Session,
    d: Demarche,
    name: str,
    *,
    at: datetime,
    question: Contribution | None = None,
    round_: int | None = None,
) -> list[Deadline]:
    """``name`` happened for ``d`` (or its ``question``): settle the deadlines it stops (late
    or not), start those it starts. Idempotent: a deadline is made once per key."""
    assert name in EVENTS, name
    version = d.charter_version
    if version is None:
        return []
    stopping = [
        r.code for r in version.rules if r.kind == RuleKind.DEADLINE and r.stop_event == name
    ]
    if stopping:
        session.execute(
            update(Deadline)
            .where(
                Deadline.demarche_id == d.id,
                Deadline.rule_code.in_(stopping),
                Deadline.question_id == question.id
                if question is not None
                else Deadline.question_id.is_(None),
                Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
            )
            .values(status=DeadlineStatus.MET, met_at=at)
            .execution_options(synchronize_session=False)
        )
    made = []
    for rule in version.rules:
        if rule.kind != RuleKind.DEADLINE or rule.start_event != name:
            continue
        key = f"{rule.code}:d{d.id}"
        if question is not None:
            key += f":q{question.id}"
        if round_ is not None:
            key += f":r{round_}"
        due_date, due_at = due_of(at, rule.duration, rule.unit)
        deadline = Deadline(
            key=key,
            rule_id=rule.id,
            rule_code=rule.code,
            demarche_id=d.id,
            question_id=question.id if question is not None else None,
            started_at=at,
            due_date=due_date,
            due_at=due_at,
            status=DeadlineStatus.PENDING,
        )
        try:
            with session.begin_nested():
                session.add(deadline)
        except IntegrityError:
            continue  # started already (a task run twice)
        made.append(deadline)
    return made


def settle_by_key(session: Session, key_prefix: str, *, at: datetime) -> None:
    """Settle the pending deadline whose key is ``key_prefix`` (the receipt's own)."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.key == key_prefix,
            Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
        )
        .values(status=DeadlineStatus.MET, met_at=at)
        .execution_options(synchronize_session=False)
    )


def waive(
    session: Session, actor: User, deadline: Deadline, *, reason: object, as_of: datetime
) -> Deadline:
    """The mission lifts a deadline, with a reason (public on the démarche's record)."""
    if not actor.is_mission:
        raise PermissionDenied(N_("only the mission waives a deadline"))
    text = str(reason or "").strip() if isinstance(reason, str | type(None)) else ""
    if not text:
        raise InvalidFields({"reason": N_("the reason is required")})
    if len(text) > MAX_REASON:
        raise InvalidFields({"reason": N_("at most %(max)s characters", max=MAX_REASON)})
    if deadline.status not in (DeadlineStatus.PENDING, DeadlineStatus.MISSED):
        raise Conflict(N_("this deadline is already “%(status)s”", status=deadline.status.label))
    deadline.status = DeadlineStatus.WAIVED
    deadline.waived_at, deadline.waived_by, deadline.waive_reason = as_of, actor, text
    audit.record(
        session,
        "deadline.waive",
        actor=actor,
        as_of=as_of,
        demarche=deadline.demarche,
        target=f"deadline:{deadline.id}",
        rule=deadline.rule_code,
    )
    session.flush()
    return deadline


def question_hidden(
    session: Session, question: Contribution, actor: User, *, reason: str, as_of: datetime
) -> None:
    """A question the moderation hides can no longer be answered: its clock is waived, with
    the moderation's (public) reason, so that nobody is reminded or alerted about it."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.question_id == question.id,
            Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
        )
        .values(
            status=DeadlineStatus.WAIVED,
            waived_at=as_of,
            waived_by_id=actor.id,
            waive_reason=reason,
        )
        .execution_options(synchronize_session="fetch")
    )


def question_restored(
    session: Session, question: Contribution, *, hidden_at: datetime | None
) -> None:
    """Restoring a hidden question restarts the clock its hiding waived (same due date: a
    sweep marks it missed if that has passed)."""
    if hidden_at is None:
        return
    session.execute(
        update(Deadline)
        .where(
            Deadline.question_id == question.id,
            Deadline.status == DeadlineStatus.WAIVED,
            Deadline.waived_at == hidden_at,
        )
        .values(status=DeadlineStatus.PENDING, waived_at=None, waived_by_id=None, waive_reason="")
        .execution_options(synchronize_session="fetch")
    )


def get_deadline(session: Session, deadline_id: object) -> Deadline:
    found = (
        session.get(Deadline, deadline_id)
        if isinstance(deadline_id, int) and 0 < deadline_id < 2**31
        else None
    )
    if found is None:
        raise NotFound(N_("no deadline %(id)s", id=deadline_id))
    return found


def deadline_of_question(session: Session, question: Contribution) -> Deadline | None:
    return session.scalar(
        select(Deadline).where(Deadline.question_id == question.id).order_by(Deadline.id.desc())
    )


def deadlines_of(session: Session, d: Demarche) -> list[Deadline]:
    """Every deadline of the démarche, its questions' included, soonest end first."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.demarche_id == d.id)
            .order_by(Deadline.due_at, Deadline.id)
        )
    )


def next_deadline(session: Session, d: Demarche) -> Deadline | None:
    """The démarche's own next pending deadline (not a question's)."""
    return session.scalar(
        select(Deadline)
        .where(
            Deadline.demarche_id == d.id,
            Deadline.question_id.is_(None),
            Deadline.status == DeadlineStatus.PENDING,
        )
        .order_by(Deadline.due_at)
        .limit(1)
    )


# -- the sweep ----------------------------------------------------------------------------------

REMINDER = "deadline_reminder"
MISSED = "deadline_missed"


@dataclass
class ScanReport:
    reminded: int = 0  # reminders sent (one per deadline and offset)
    missed: int = 0  # deadlines newly missed
    messages: int = 0  # outbox rows written
    lines: list[str] = field(default_factory=list)


def reminder_moment(due_date: date, offset: int) -> datetime:
    """J-``offset``: 00:00 Paris, ``offset`` days before the deadline's last day (J-1 is the
    day before it, J-0 its own morning)."""
    return datetime.combine(due_date - timedelta(days=offset), time.min, tzinfo=PARIS)


def scan(session: Session, *, as_of: datetime) -> ScanReport:
    """Send the reminders that came due, mark the missed deadlines and alert about them —
    each notice once (a unique row per deadline, kind and offset decides between sweeps run
    together). The number of queries does not depend on the number of démarches."""
    report = ScanReport()
    # 1. Reminders: pending deadlines whose reminders may have come, with what is needed —
    # only those ending within the longest reminder offset of any rule (a handful of rows).
    longest = max(
        (max(r, default=0) for r in session.scalars(select(CharterRule.reminders))),
        default=0,
    )
    rows = session.execute(
        select(
            Deadline.id,
            Deadline.due_date,
            Deadline.due_at,
            Deadline.demarche_id,
            Deadline.question_id,
            CharterRule.reminders,
            CharterRule.responsible,
            Demarche.department_id,
        )
        .join(CharterRule, CharterRule.id == Deadline.rule_id)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .where(
            Deadline.status == DeadlineStatus.PENDING,
            Deadline.due_at > as_of,
            Deadline.due_at <= as_of + timedelta(days=min(longest, MAX_REMINDER_DAYS) + 1),
        )
        .order_by(Deadline.id)
    ).all()
    due: list[tuple[Any, int]] = []
    for row in rows:
        passed = [o for o in row.reminders if reminder_moment(row.due_date, o) <= as_of]
        if passed:
            # Only the latest reminder goes (a sweep that was down skips the stale ones).
            due.append((row, min(passed)))
    notices = _claim_notices(session, [(row.id, "remind", offset) for row, offset in due], as_of)
    reminded = [(row, offset) for row, offset in due if (row.id, "remind", offset) in notices]
    # The earlier offsets of a deadline reminded now are settled as well (never sent late).
    _claim_notices(
        session,
        [(row.id, "remind", o) for row, offset in reminded for o in row.reminders if o > offset],
        as_of,
    )
    report.reminded = len(reminded)

    # 2. Missed: pending deadlines whose last day is over.
    missed_ids = list(
        session.scalars(
            update(Deadline)
            .where(
                # Rows taken in id order, those another sweep holds skipped (PostgreSQL; the
                # lock clause is left out on SQLite, which serialises writers): no deadlock.
                Deadline.id.in_(
                    select(Deadline.id)
                    .where(Deadline.status == DeadlineStatus.PENDING, Deadline.due_at <= as_of)
                    .order_by(Deadline.id)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                ),
                Deadline.status == DeadlineStatus.PENDING,
            )
            .values(status=DeadlineStatus.MISSED, missed_at=Deadline.due_at)
            .returning(Deadline.id)
            .execution_options(synchronize_session=False)
        )
    )
    alerts = []
    if missed_ids:
        claimed = _claim_notices(session, [(i, "missed", 0) for i in missed_ids], as_of)
        alerts = session.execute(
            select(
                Deadline.id,
                Deadline.demarche_id,
                Deadline.question_id,
                CharterRule.alert,
                Demarche.department_id,
                Demarche.elected_official_id,
            )
            .join(CharterRule, CharterRule.id == Deadline.rule_id)
            .join(Demarche, Demarche.id == Deadline.demarche_id)
            .where(Deadline.id.in_([i for i, _, _ in claimed]))
        ).all()
    report.missed = len(missed_ids)

    # 3. Who gets what: a fixed number of queries for every recipient at once.
    departments = {row.department_id for row, _ in reminded if row.responsible == "department"}
    departments |= {a.department_id for a in alerts if "department" in a.alert}
    agents = _agents_by_department(session, departments)
    roles = _staff(session)
    messages = []
    for row, offset in reminded:
        # A department without an active agent: the mission is reminded in its place.
        users = (
            agents.get(row.department_id) if row.responsible == "department" else None
        ) or roles[RoleName.MISSION]
        messages += [
            _message(f"deadline:{row.id}:remind:{offset}:{uid}", REMINDER, uid, row, as_of, offset)
            for uid in users
        ]
    for alert in alerts:
        users: set[int] = set()
        for who in alert.alert:
            if who == "elected" and alert.elected_official_id:
                users.add(alert.elected_official_id)
            elif who == "department":
                users.update(agents.get(alert.department_id, []))
            elif who in ("mission", "admin"):
                users.update(roles[RoleName.MISSION if who == "mission" else RoleName.ADMIN])
        messages += [
            _message(f"deadline:{alert.id}:missed:{uid}", MISSED, uid, alert, as_of, 0)
            for uid in sorted(users)
        ]
    if messages:
        table = OutboxMessage.__table__
        written = [
            row.id
            for row in insert_rows_ignoring_duplicates(
                session, table, ["key"], messages, [table.c.id]
            )
        ]
        session.info.setdefault(NEW_IDS, []).extend(written)
        report.messages = len(written)
    session.commit()
    report.lines = [
        f"{report.reminded} reminders, {report.missed} deadlines missed, "
        f"{report.messages} emails to send"
    ]
    return report


def _claim_notices(
    session: Session, wanted: list[tuple[int, str, int]], as_of: datetime
) -> set[tuple[int, str, int]]:
    """Insert the notices; returns those this call inserted (not another sweep's)."""
    if not wanted:
        return set()
    table = DeadlineNotice.__table__
    inserted = insert_rows_ignoring_duplicates(
        session,
        table,
        ["deadline_id", "kind", "offset"],
        [{"deadline_id": i, "kind": k, "offset": o, "sent_at": as_of} for i, k, o in wanted],
        [table.c.deadline_id, table.c.kind, table.c.offset],
    )
    return {tuple(row) for row in inserted}


def _agents_by_department(session: Session, departments: set[int | None]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    departments.discard(None)
    if not departments:
        return found
    for user_id, department_id in session.execute(
        select(User.id, User.department_id)
        .join(User.roles)
        .where(
            User.department_id.in_(departments),
            User.active.is_(True),
            Role.name == RoleName.DEPARTMENT,
        )
        .order_by(User.id)
    ):
        found.setdefault(department_id, []).append(user_id)
    return found


def _staff(session: Session) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {RoleName.MISSION: [], RoleName.ADMIN: []}
    for user_id, role in session.execute(
        select(User.id, Role.name)
        .join(User.roles)
        .where(Role.name.in_(list(found)), User.active.is_(True))
        .order_by(User.id)
    ):
        found[role].append(user_id)
    return found


def _message(key: str, template: str, user_id: int, row: Any, as_of: datetime, offset: int) -> dict:
    return {
        "key": key,
        "template": template,
        "recipient_id": user_id,
        "participant_id": None,
        "demarche_id": row.demarche_id,
        "context": {"deadline_id": row.id, "offset": offset},
        "status": "pending",
        "attempts": 0,
        "error": "",
        "subject": "",
        "created_at": as_of,
        "next_attempt_at": as_of,
    }


# -- the record -------------------------------------------------------------------------------


def record_of(session: Session, d: Demarche) -> list[Deadline]:
    """The démarche's own deadlines (not its questions'), in their order."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.demarche_id == d.id, Deadline.question_id.is_(None))
            .order_by(Deadline.started_at, Deadline.id)
        )
    )


#: Met before the end of its last day.
IN_TIME = and_(Deadline.met_at.is_not(None), Deadline.met_at < Deadline.due_at)


@dataclass
class Tally:
    """Deadlines counted by how they stand."""

    total: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    waived: int = 0
    pending: int = 0

    def add(self, status: DeadlineStatus, in_time: bool, count: int) -> None:
        self.total += count
        if status == DeadlineStatus.MET:
            if in_time:
                self.on_time += count
            else:
                self.late += count
        elif status == DeadlineStatus.MISSED:
            self.missed += count
        elif status == DeadlineStatus.WAIVED:
            self.waived += count
        else:
            self.pending += count

    @property
    def share(self) -> float | None:
        """The share of the settled deadlines met on time (waived ones aside)."""
        settled = self.on_time + self.late + self.missed
        return self.on_time / settled if settled else None


@dataclass
class QuestionsRecord(Tally):
    """How a démarche's questions were answered, for its record."""

    due: date | None = None  # the nearest last day among those still waiting

    @property
    def asked(self) -> int:
        return self.total


def questions_record(session: Session, d: Demarche) -> QuestionsRecord:
    """One query: the answer deadlines of the démarche's questions, counted by outcome."""
    record = QuestionsRecord()
    for status, in_time, count, due in session.execute(
        select(Deadline.status, IN_TIME, func.count(), func.min(Deadline.due_date))
        .where(Deadline.demarche_id == d.id, Deadline.question_id.is_not(None))
        .group_by(Deadline.status, IN_TIME)
    ):
        record.add(status, in_time, count)
        if status == DeadlineStatus.PENDING:
            record.due = due
    return record


@dataclass
class KeptLine(Tally):
    label: str = ""
    department: str = ""  # the démarche's department, or "" when the mission is responsible


def kept(session: Session, *, since: date, until: date) -> list[KeptLine]:
    """Per rule and responsible — the démarche's department, or the mission — the deadlines
    of the public démarches whose last day is in [since, until], and how they were kept."""
    from .contributions import PUBLIC_STAGES
    from .models import Department

    who = case(
        (CharterRule.responsible == "department", func.coalesce(Department.name, "")),
        else_="",
    )
    rows = session.execute(
        select(
            CharterRule.code,
            func.min(CharterRule.label),
            who,
            Deadline.status,
            IN_TIME,
            func.count(),
        )
        .join(CharterRule, CharterRule.id == Deadline.rule_id)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .outerjoin(Department, Department.id == Demarche.department_id)
        .where(
            Deadline.due_date >= since,
            Deadline.due_date <= until,
            Demarche.stage.in_(PUBLIC_STAGES),
        )
        .group_by(CharterRule.code, who, Deadline.status, IN_TIME)
    ).all()
    lines: dict[tuple[str, str], KeptLine] = {}
    for code, label, department, status, in_time, count in rows:
        line = lines.setdefault((code, department), KeptLine(label=label, department=department))
        line.add(status, in_time, count)
    return sorted(lines.values(), key=lambda line: (line.label, line.department))


def overdue_or_due(
    session: Session, *, as_of: datetime, within: timedelta, visible: Any = None, limit: int = 50
) -> dict[str, list[Deadline]]:
    """For the dashboard: pending deadlines ending within ``within``, and the missed ones,
    of the démarches ``visible`` (a where clause on Demarche) selects."""
    base = (
        select(Deadline)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .options(contains_eager(Deadline.demarche))
    )
    if visible is not None:
        base = base.where(visible)
    soon = session.scalars(
        base.where(Deadline.status == DeadlineStatus.PENDING, Deadline.due_at <= as_of + within)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    ).all()
    missed = session.scalars(
        base.where(Deadline.status == DeadlineStatus.MISSED)
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    ).all()
    return {"soon": list(soon), "missed": list(missed)}


def unanswered_questions(
    session: Session, *, visible: Any = None, limit: int = 50
) -> list[Contribution]:
    """Published questions (not replies) without an answer, oldest first."""
    from .models import ContributionKind, ContributionStatus

    query = (
        select(Contribution)
        .join(Demarche, Demarche.id == Contribution.demarche_id)
        .options(contains_eager(Contribution.demarche))
        .where(
            Contribution.kind == ContributionKind.QUESTION,
            Contribution.status == ContributionStatus.PUBLISHED,
            Contribution.parent_id.is_(None),
            Contribution.answered_at.is_(None),
        )
        .order_by(Contribution.contributed_at, Contribution.id)
        .limit(limit)
    )
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))
