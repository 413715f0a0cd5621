"""The append-only audit log. Entries name people by id only, never copy personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry, Demarche, User


def record(
    session: Session,
    action: str,
    *,
    actor: User | None,
    as_of: datetime,
    demarche: Demarche | None = None,
    target: str = "",
    **data: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=as_of,
        actor_id=actor.id if actor else None,
        action=action,
        demarche_id=demarche.id if demarche else None,
        target=target,
        data=data,
    )
    session.add(entry)
    return entry
