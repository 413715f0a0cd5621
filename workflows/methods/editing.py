"""The mission edits the toolbox: adds a method, changes one, retires it (or brings it back),
deletes one that no démarche plans nor used. Every change is audited, and asks the workers,
after its commit, for a new edition of the guide's PDF (which prints the toolbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..after_commit import RENDER_GUIDE, after_commit
from ..errors import Conflict, InvalidFields, PermissionDenied
from ..i18n import N_
from ..models import Method, PlannedMethod, UsedMethod, User
from .fields import COLUMNS, method_values


def _mission_only(actor: User | None) -> None:
    if actor is None or not actor.is_mission:
        raise PermissionDenied(N_("the toolbox is the mission's to edit"))


def _slug_free(session: Session, slug: str, method: Method | None = None) -> None:
    taken = session.scalar(select(Method.id).where(Method.slug == slug))
    if taken is not None and (method is None or taken != method.id):
        raise InvalidFields({"slug": N_("another method has this address")})


def create_method(
    session: Session, actor: User, fields: dict[str, Any], *, as_of: datetime
) -> Method:
    """A new method, written by the mission (not shipped: a load never touches it)."""
    _mission_only(actor)
    values = method_values(fields)
    _slug_free(session, values["slug"])
    method = Method(
        **values,
        created_at=as_of,
        updated_at=as_of,
        edited_at=as_of,
        edited_by_id=actor.id,
    )
    session.add(method)
    session.flush()
    audit.record(session, "method.create", actor=actor, as_of=as_of, target=f"method:{method.id}")
    after_commit(session, RENDER_GUIDE)
    return method


def update_method(
    session: Session, actor: User, method: Method, fields: dict[str, Any], *, as_of: datetime
) -> Method:
    """The mission's changes (every value of ``COLUMNS``; a missing one keeps its value).
    A shipped method changed here is the mission's from now on: a load keeps it."""
    _mission_only(actor)
    current = {name: getattr(method, name) for name in COLUMNS}
    current["format"] = getattr(method.format, "value", method.format)
    values = method_values({**current, **fields})
    _slug_free(session, values["slug"], method)
    changed = sorted(name for name, value in values.items() if current[name] != value)
    if not changed:
        return method
    for name in changed:
        setattr(method, name, values[name])
    method.updated_at = method.edited_at = as_of
    method.edited_by_id = actor.id
    audit.record(
        session,
        "method.update",
        actor=actor,
        as_of=as_of,
        target=f"method:{method.id}",
        fields=changed,
    )
    after_commit(session, RENDER_GUIDE)
    session.flush()
    return method


def set_retired(
    session: Session, actor: User, method: Method, retired: bool, *, as_of: datetime
) -> Method:
    """Retire a method (hidden from the toolbox's list, its page stays), or bring it back."""
    _mission_only(actor)
    if method.retired == retired:
        return method
    method.retired = retired
    method.updated_at = as_of
    audit.record(
        session,
        "method.retire" if retired else "method.restore",
        actor=actor,
        as_of=as_of,
        target=f"method:{method.id}",
    )
    after_commit(session, RENDER_GUIDE)
    session.flush()
    return method


def uses(session: Session, method: Method) -> int:
    """How many démarches plan or used ``method``."""
    planned = select(PlannedMethod.demarche_id).where(PlannedMethod.method_id == method.id)
    used = select(UsedMethod.demarche_id).where(UsedMethod.method_id == method.id)
    both = planned.union(used).subquery()
    return session.scalar(select(func.count()).select_from(both)) or 0


def delete_method(session: Session, actor: User, method: Method, *, as_of: datetime) -> None:
    """Delete a method no démarche plans nor used; one in use is retired instead."""
    _mission_only(actor)
    count = uses(session, method)
    if count:
        raise Conflict(
            N_(
                "“%(name)s” is planned or used by %(count)s démarche(s): it cannot be deleted, "
                "retire it instead",
                name=method.name,
                count=count,
            )
        )
    audit.record(
        session,
        "method.delete",
        actor=actor,
        as_of=as_of,
        target=f"method:{method.id}",
        slug=method.slug,
    )
    session.delete(method)
    after_commit(session, RENDER_GUIDE)
    session.flush()
