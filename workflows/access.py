"""Who sees which démarches (DESIGN §1), as SQL filters usable by every list and lookup, and
who sees the participants' personal data."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from .errors import NotFound
from .i18n import N_
from .models import Demarche, User
from .roles import STAFF_ROLES, RoleName
from .stages import PUBLIC_STAGES, Stage


def visible_clause(user: User) -> ColumnElement[bool]:
    if user.is_mission:
        return true()
    clauses = []
    if user.has_any_role(RoleName.DEPARTMENT) and user.department_id is not None:
        clauses.append(Demarche.department_id == user.department_id)
    if user.has_any_role(RoleName.ELECTED):
        clauses.append(Demarche.elected_official_id == user.id)
    if not clauses:
        return false()
    return clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]


def sees_personal_data(user: User | None) -> bool:
    """Participants' addresses are for the mission only — in the back office as in the API and
    the exports; departments and elected officials see names, never addresses."""
    return user is not None and user.is_mission


def can_see(user: User, d: Demarche) -> bool:
    if user.is_mission:
        return True
    if user.has_any_role(RoleName.DEPARTMENT) and d.department_id == user.department_id:
        return d.department_id is not None
    return user.has_any_role(RoleName.ELECTED) and d.elected_official_id == user.id


#: Ids are 32-bit integers in PostgreSQL; anything else names no row.
MAX_ID = 2**31 - 1


def parse_id(value: object) -> int | None:
    """A row id from user input, or None when it cannot name a row."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def acts_for_department(user: User, d: Demarche) -> bool:
    """Whether ``user`` writes for ``d`` as an agent of its department (seeing it is not enough:
    an official who is also an agent elsewhere only reads the démarches they sponsor)."""
    return (
        user.has_any_role(RoleName.DEPARTMENT)
        and user.department_id is not None
        and user.department_id == d.department_id
    )


def may_act_on(user: User, d: Demarche) -> bool:
    """The mission, or an agent of the démarche's department: who prepares its items and
    events, records what other channels collected, imports, answers questions and decides."""
    return user.is_mission or acts_for_department(user, d)


def get_visible(session: Session, user: User, demarche_id: int, *, lock: bool = False) -> Demarche:
    """The démarche if ``user`` may see it; NotFound otherwise (its existence stays private)."""
    if parse_id(demarche_id) is None:
        raise NotFound(N_("no démarche %(id)s", id=demarche_id))
    query = select(Demarche).where(Demarche.id == demarche_id, visible_clause(user))
    if lock:
        query = query.with_for_update(of=Demarche)
    d = session.scalars(query.execution_options(populate_existing=True)).unique().one_or_none()
    if d is None:
        raise NotFound(N_("no démarche %(id)s", id=demarche_id))
    return d


def awaiting_stages(user: User) -> tuple[Stage, ...]:
    """The stages at which a démarche waits for this user's action (the home page's list)."""
    if user.is_mission:
        return (Stage.SUBMITTED,)
    if user.has_any_role(RoleName.DEPARTMENT):
        return (Stage.DRAFT, Stage.RETURNED, Stage.SYNTHESIS)
    return ()


def get_readable(session: Session, user: User, demarche_id: int) -> Demarche:
    """A démarche ``user`` may read: staff as ``get_visible``, anyone else (a citizen) only
    once it is public."""
    if user.has_any_role(*STAFF_ROLES):
        return get_visible(session, user, demarche_id)
    found = session.get(Demarche, demarche_id) if parse_id(demarche_id) else None
    if found is None or found.stage not in PUBLIC_STAGES:
        raise NotFound(N_("no démarche %(id)s", id=demarche_id))
    return found
