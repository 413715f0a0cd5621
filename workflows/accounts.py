"""Rules about staff accounts, shared by the CLI and the administrators' forms."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .i18n import N_, Msg
from .models import Department, User
from .roles import RoleName


def find_user(session: Session, email: str) -> User | None:
    """The account for ``email``, whatever its case."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def account_problems(
    session: Session,
    *,
    email: str,
    role_names: Iterable[str],
    department: Department | str | None,
    user_id: int | None = None,
) -> list[Msg]:
    """What keeps an account with these values from being saved (empty when it may)."""
    problems = []
    existing = find_user(session, email)
    if existing is not None and existing.id != user_id:
        problems.append(N_("an account already exists with this email address"))
    if RoleName.DEPARTMENT in set(role_names) and not department:
        problems.append(N_("a department agent must belong to a department"))
    return problems


def department_named(session: Session, name: str) -> Department:
    """The department called ``name``, created if it does not exist yet (flushes)."""
    name = name.strip()
    department = session.scalar(select(Department).where(Department.name == name))
    if department is None:
        department = Department(name=name)
        session.add(department)
        session.flush()
    return department
