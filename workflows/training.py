"""The qualification of the operators (issue 13): the mission records its training sessions
(date, theme, attendees among department agents and elected officials); from them, per
department, its trained agents — and a department with none is nudged when it submits a
saisine.

**Who is trained.** An agent (an active account with the department role) is trained, on a
day, when they attended a session held on that day or within the ``VALID_YEARS`` years
before it: practice and the house's rules change, so a training is good for three years
(from 15 March 2024, trained until 14 March 2027 included). A session to come trains nobody
yet: its attendees are those who signed up. Elected officials attend too; they belong to no
department, so they count for none.

**Which departments.** Those with at least one active agent (the ones that can write a
saisine); the mission's own department, whose staff are not agents, is not among them.

Every record, change and deletion is the mission's, audited; refusals are French messages
per field (``InvalidFields``), and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .access import acts_for_department, parse_id
from .clock import local_date
from .errors import InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .models import (
    Demarche,
    Department,
    MethodFormat,
    Role,
    TrainingSession,
    User,
    training_attendees,
)
from .roles import RoleName
from .stages import Stage, add_months
from .text import clean_text

#: A training is good for this many years after its session (see the module's docstring).
VALID_YEARS = 3
MAX_THEME = 200
MAX_PLACE = 255
MAX_NOTES = 5000
MAX_ATTENDEES = 500
MIN_YEAR, MAX_YEAR = 2000, 2100
FORMATS = tuple(f.value for f in MethodFormat)
#: Where the guide of a démarche lives (its public page).
GUIDE_PATH = "/guide"
#: How many sessions to come a nudge names.
NEXT_SESSIONS = 3
#: The roles whose holders may attend a session.
ATTENDING_ROLES = frozenset({RoleName.DEPARTMENT, RoleName.ELECTED})


def may_attend(user: User) -> bool:
    """Department agents and elected officials attend the mission's training sessions."""
    return user.has_any_role(*ATTENDING_ROLES)


def _mission_only(actor: User | None) -> None:
    if actor is None or not actor.is_mission:
        raise PermissionDenied(N_("training sessions are the mission's to record"))


# -- values --------------------------------------------------------------------------------


def _date(value: Any, errors: dict[str, Msg]) -> date | None:
    if value in (None, ""):
        errors["date"] = N_("the date of the session is needed")
        return None
    if isinstance(value, datetime) or not isinstance(value, date | str):
        errors["date"] = N_("a date expected (YYYY-MM-DD)")
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors["date"] = N_("a date expected (YYYY-MM-DD)")
            return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        errors["date"] = N_(
            "a date between %(first)s and %(last)s expected", first=MIN_YEAR, last=MAX_YEAR
        )
        return None
    return value


def _text(
    fields: dict[str, Any], name: str, most: int, errors: dict[str, Msg], *, single_line: bool
) -> str:
    value = fields.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = N_("text expected")
        return ""
    if "\x00" in value:
        errors[name] = N_("invalid character in the text")
        return ""
    value = clean_text(value, single_line=single_line)
    if len(value) > most:
        errors[name] = N_("at most %(max)s characters", max=most)
    return value


def _attendees(
    session: Session, value: Any, errors: dict[str, Msg], kept: Iterable[User] = ()
) -> list[User]:
    """The accounts named by ``value``: ids (numbers, or digits) or email addresses. Each must
    be a department agent or an elected official (``kept``: those already recorded stay,
    whatever became of their account)."""
    if value in (None, ""):
        return []
    items = [value] if isinstance(value, str | int) else value
    if not isinstance(items, list | tuple) or len(items) > MAX_ATTENDEES:
        errors["attendees"] = N_(
            "a list of at most %(max)s accounts (ids or email addresses)", max=MAX_ATTENDEES
        )
        return []
    already = {user.id: user for user in kept}
    found: dict[int, User] = {}
    for item in items:
        user = _account(session, item)
        if user is None:
            errors["attendees"] = N_("no account “%(name)s”", name=str(item)[:80])
            return []
        if user.id not in already and not may_attend(user):
            errors["attendees"] = N_(
                "%(name)s is neither a department agent nor an elected official",
                name=user.display_name,
            )
            return []
        found.setdefault(user.id, user)
    return list(found.values())


def _account(session: Session, item: Any) -> User | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
        key = parse_id(item)
        return session.get(User, key) if key else None
    if isinstance(item, str) and "@" in item:
        return session.scalar(select(User).where(func.lower(User.email) == item.strip().lower()))
    return None


def session_values(
    session: Session, fields: dict[str, Any], kept: Iterable[User] = ()
) -> dict[str, Any]:
    """The values of a training session, validated: ``date`` (required), ``theme`` (required),
    ``place``, ``format`` (``in_person``, ``online``, ``hybrid`` or empty), ``notes``,
    ``attendees``. ``InvalidFields`` with French messages otherwise."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {"date": _date(fields.get("date"), errors)}
    values["theme"] = _text(fields, "theme", MAX_THEME, errors, single_line=True)
    if not values["theme"] and "theme" not in errors:
        errors["theme"] = N_("the theme of the session is needed")
    values["place"] = _text(fields, "place", MAX_PLACE, errors, single_line=True)
    values["notes"] = _text(fields, "notes", MAX_NOTES, errors, single_line=False)
    training_format = fields.get("format") or None
    if training_format is not None and training_format not in FORMATS:
        errors["format"] = N_(
            "unknown value “%(value)s” (among: %(choices)s)",
            value=str(training_format)[:40],
            choices=", ".join(FORMATS),
        )
    values["format"] = (
        MethodFormat(training_format) if training_format and "format" not in errors else None
    )
    values["attendees"] = _attendees(session, fields.get("attendees"), errors, kept)
    if errors:
        raise InvalidFields(errors)
    return values


# -- recording -----------------------------------------------------------------------------


def create_session(
    session: Session, actor: User, fields: dict[str, Any], *, as_of: datetime
) -> TrainingSession:
    """The mission records a session (held, or to come with those who signed up)."""
    _mission_only(actor)
    values = session_values(session, fields)
    training = TrainingSession(**values, created_at=as_of, updated_at=as_of, created_by_id=actor.id)
    session.add(training)
    session.flush()
    audit.record(
        session,
        "training.create",
        actor=actor,
        as_of=as_of,
        target=f"training:{training.id}",
        attendees=len(training.attendees),
    )
    return training


def update_session(
    session: Session,
    actor: User,
    training: TrainingSession,
    fields: dict[str, Any],
    *,
    as_of: datetime,
) -> TrainingSession:
    """The mission's changes (a field left out keeps its value)."""
    _mission_only(actor)
    current: dict[str, Any] = {
        "date": training.date,
        "theme": training.theme,
        "place": training.place,
        "format": training.format.value if training.format else None,
        "notes": training.notes,
        "attendees": [user.id for user in training.attendees],
    }
    values = session_values(session, {**current, **fields}, kept=training.attendees)
    now = {**current, "format": training.format, "attendees": list(training.attendees)}
    changed = sorted(
        name
        for name, value in values.items()
        if (
            {u.id for u in value} != {u.id for u in now[name]}
            if name == "attendees"
            else value != now[name]
        )
    )
    if not changed:
        return training
    for name in changed:
        setattr(training, name, values[name])
    training.updated_at = as_of
    audit.record(
        session,
        "training.update",
        actor=actor,
        as_of=as_of,
        target=f"training:{training.id}",
        fields=changed,
        attendees=len(values["attendees"]),
    )
    session.flush()
    return training


def delete_session(
    session: Session, actor: User, training: TrainingSession, *, as_of: datetime
) -> None:
    """The mission deletes a session recorded by mistake (its attendees lose that training)."""
    _mission_only(actor)
    audit.record(
        session,
        "training.delete",
        actor=actor,
        as_of=as_of,
        target=f"training:{training.id}",
        date=training.date.isoformat(),
    )
    session.delete(training)
    session.flush()


def get_session(session: Session, session_id: Any) -> TrainingSession:
    key = parse_id(session_id)
    training = session.get(TrainingSession, key) if key else None
    if training is None:
        raise NotFound(N_("no training session %(id)s", id=str(session_id)[:20]))
    return training


def all_sessions(session: Session, *, upcoming_on: date | None = None) -> list[TrainingSession]:
    """Every session, the latest first; ``upcoming_on``: only those on that day or after,
    soonest first."""
    query = select(TrainingSession)
    if upcoming_on is not None:
        query = query.where(TrainingSession.date >= upcoming_on).order_by(
            TrainingSession.date, TrainingSession.id
        )
    else:
        query = query.order_by(TrainingSession.date.desc(), TrainingSession.id.desc())
    return list(session.scalars(query))


def attendee_candidates(session: Session) -> list[User]:
    """Who may be named an attendee: active department agents, by department then name, and
    active elected officials."""
    query = (
        select(User)
        .outerjoin(Department, User.department_id == Department.id)
        .where(
            User.active.is_(True),
            User.roles.any(Role.name.in_([role.value for role in ATTENDING_ROLES])),
        )
        .order_by(Department.name.is_(None), Department.name, User.name, User.email)
    )
    return list(session.scalars(query))


# -- who is trained ------------------------------------------------------------------------


def valid_from(day: date) -> date:
    """The first day of a session that still trains its attendees on ``day``."""
    return add_months(day, -12 * VALID_YEARS) + timedelta(days=1)


@dataclass(frozen=True)
class TrainedAgent:
    user: User
    #: The day of the latest session they attended within the validity.
    last_session: date


@dataclass(frozen=True)
class DepartmentTraining:
    """A department, its number of active agents and those of them who are trained."""

    department: Department
    agents: int
    trained: list[TrainedAgent] = field(default_factory=list)

    @property
    def has_trained(self) -> bool:
        return bool(self.trained)


def _agents_clause():
    return (
        User.active.is_(True),
        User.department_id.is_not(None),
        User.roles.any(Role.name == RoleName.DEPARTMENT),
    )


def _trained_rows(session: Session, day: date, department_id: int | None = None):
    """(user id, day of their latest session within the validity) of the trained agents."""
    query = (
        select(User.id, func.max(TrainingSession.date))
        .join(training_attendees, training_attendees.c.user_id == User.id)
        .join(TrainingSession, TrainingSession.id == training_attendees.c.session_id)
        .where(*_agents_clause(), TrainingSession.date.between(valid_from(day), day))
        .group_by(User.id)
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return session.execute(query).all()


def departments_status(session: Session, *, as_of: datetime) -> list[DepartmentTraining]:
    """Every department with active agents, by name, with its trained agents as of ``as_of``
    (by name)."""
    day = local_date(as_of)
    agents = dict(
        session.execute(
            select(User.department_id, func.count(User.id))
            .where(*_agents_clause())
            .group_by(User.department_id)
        ).all()
    )
    last = dict(_trained_rows(session, day))
    users = session.scalars(
        select(User).where(User.id.in_(last)).order_by(User.name, User.email)
    ).all()
    trained: dict[int | None, list[TrainedAgent]] = {}
    for user in users:
        trained.setdefault(user.department_id, []).append(TrainedAgent(user, last[user.id]))
    departments = session.scalars(
        select(Department).where(Department.id.in_(agents)).order_by(Department.name)
    )
    return [DepartmentTraining(d, agents[d.id], trained.get(d.id, [])) for d in departments]


def untrained_departments(session: Session, *, as_of: datetime) -> list[Department]:
    """The departments with agents but none trained as of ``as_of``."""
    return [s.department for s in departments_status(session, as_of=as_of) if not s.has_trained]


def has_trained_agent(session: Session, department: Department, *, as_of: datetime) -> bool:
    return bool(_trained_rows(session, local_date(as_of), department.id))


# -- the nudge -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Nudge:
    """What a department without a trained agent is told when it submits a saisine: that it
    has none, the sessions to come, and where the guide is (``GUIDE_PATH``)."""

    department: Department
    sessions: list[TrainingSession]

    @property
    def message(self) -> Msg:
        return N_(
            "Your department has no agent trained in citizen participation yet: the mission "
            "offers training sessions to agents and elected officials, and the guide walks "
            "through each stage of a démarche."
        )

    @property
    def next_sessions(self) -> Msg:
        if not self.sessions:
            return N_("No session is scheduled yet: ask the mission for the next one.")
        return N_(
            "Next sessions: %(sessions)s.",
            sessions=[session_line(s) for s in self.sessions],
        )

    def text(self, guide_url: str) -> Msg:
        """The whole nudge in one text (the API's), the guide's address ``guide_url``."""
        return N_(
            "%(message)s %(sessions)s The guide: %(url)s",
            message=self.message,
            sessions=self.next_sessions,
            url=guide_url,
        )


def session_line(training: TrainingSession) -> Msg:
    """« « Conduire une concertation » le 12 mars 2027 (Hôtel du Département) »."""
    if training.place:
        return N_(
            "“%(theme)s” on %(date)s (%(place)s)",
            theme=training.theme,
            date=training.date,
            place=training.place,
        )
    return N_("“%(theme)s” on %(date)s", theme=training.theme, date=training.date)


def nudge(session: Session, department: Department | None, *, as_of: datetime) -> Nudge | None:
    """The nudge for ``department`` if it has no trained agent as of ``as_of``, else None."""
    if department is None or has_trained_agent(session, department, as_of=as_of):
        return None
    upcoming = all_sessions(session, upcoming_on=local_date(as_of))[:NEXT_SESSIONS]
    return Nudge(department, upcoming)


def submission_nudge(
    session: Session, actor: User | None, d: Demarche, *, as_of: datetime
) -> Nudge | None:
    """The nudge an agent gets for a saisine of their department just submitted: the same
    for the guided saisine, the sheet and the API. The mission, submitting for a department,
    is not nudged."""
    if actor is None or actor.is_mission or d.stage != Stage.SUBMITTED:
        return None
    if not acts_for_department(actor, d):
        return None
    return nudge(session, d.department, as_of=as_of)
