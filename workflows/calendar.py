"""The démarches' own calendar: consultations open and close on their dates, by themselves.

Run by the beat every few minutes (and by ``flask --app wsgi demarches advance``); each move
goes through ``transition`` like any other, with the system as actor. Safe to run twice:
a démarche already moved no longer matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import local_date
from .errors import DomainError
from .models import Demarche
from .stages import Stage
from .transitions import transition


@dataclass
class AdvanceReport:
    moved: list[tuple[int, Stage, Stage]] = field(default_factory=list)
    blocked: list[tuple[int, Stage, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"démarche {i}: {a} → {b}" for i, a, b in self.moved]
        out += [f"démarche {i}: stays before {b} ({why})" for i, b, why in self.blocked]
        return out or ["nothing to do"]


def due_moves(session: Session, as_of: datetime) -> list[tuple[int, Stage, Stage]]:
    """(id, from, to) for consultations to open today and those whose closing day is over."""
    today = local_date(as_of)
    opening = select(Demarche.id).where(
        Demarche.stage == Stage.LAUNCH, Demarche.consultation_opens <= today
    )
    closing = select(Demarche.id).where(
        Demarche.stage == Stage.CONSULTATION, Demarche.consultation_closes < today
    )
    return [(i, Stage.LAUNCH, Stage.CONSULTATION) for i in session.scalars(opening)] + [
        (i, Stage.CONSULTATION, Stage.SYNTHESIS) for i in session.scalars(closing)
    ]


def advance(session: Session, *, as_of: datetime) -> AdvanceReport:
    """Make the due moves, one transaction each (commits)."""
    report = AdvanceReport()
    for demarche_id, source, target in due_moves(session, as_of):
        try:
            transition(
                session,
                demarche_id,
                target,
                actor=None,
                as_of=as_of,
                source="task",
                expected_from=source,
            )
            session.commit()
            report.moved.append((demarche_id, source, target))
        except DomainError as exc:
            session.rollback()
            report.blocked.append((demarche_id, target, str(exc)))
    return report
