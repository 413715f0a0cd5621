"""The elected officials' weekly digest (Monday morning, Europe/Paris): their démarches by
stage, participation figures, deadlines of the coming two weeks, missed deadlines. One per
official and week — the outbox key says which week — and none when there is nothing to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .after_commit import DELIVER_OUTBOX, after_commit_each
from .clock import local_date
from .models import (
    Deadline,
    DeadlineStatus,
    Demarche,
    OutboxMessage,
    Role,
    User,
)
from .overview import figures_of
from .roles import RoleName
from .sql import insert_ignoring_duplicates
from .stages import Stage

TEMPLATE = "weekly_digest"
AHEAD = timedelta(days=14)
#: Stages a digest reports on (a draft or a closed démarche has nothing to say weekly).
ACTIVE = (
    Stage.SUBMITTED,
    Stage.RETURNED,
    Stage.LAUNCH,
    Stage.CONSULTATION,
    Stage.SYNTHESIS,
    Stage.FEEDBACK,
)


def week_of(as_of: datetime) -> str:
    """The ISO week (``2026-W48``) of a moment, in Paris."""
    year, week, _ = local_date(as_of).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class DigestLine:
    demarche_id: int
    title: str
    stage: str
    contributions: int = 0  # published (``overview.Figures``)
    contributions_week: int = 0  # … in the 7 days before the digest
    participants: int = 0  # who contributed (published) or registered to an event


@dataclass
class Digest:
    """What one official reads: ids and numbers (rendered by the web side)."""

    official_id: int
    week: str
    demarches: list[DigestLine] = field(default_factory=list)
    upcoming: list[int] = field(default_factory=list)  # deadline ids, due within two weeks
    missed: list[int] = field(default_factory=list)  # deadline ids missed (not settled since)

    @property
    def empty(self) -> bool:
        return not (self.demarches or self.upcoming or self.missed)


def compose(session: Session, *, as_of: datetime, only: int | None = None) -> list[Digest]:
    """Every official's digest (or ``only`` one's) for the week of ``as_of``, in a fixed
    number of queries."""
    week = week_of(as_of)
    query = (
        select(User.id)
        .join(User.roles)
        .where(Role.name == RoleName.ELECTED, User.active.is_(True))
        .order_by(User.id)
    )
    if only is not None:
        query = query.where(User.id == only)
    officials = session.scalars(query).all()
    digests = {uid: Digest(uid, week) for uid in officials}
    if not digests:
        return []
    lines: dict[int, DigestLine] = {}
    for demarche_id, title, stage, official_id in session.execute(
        select(Demarche.id, Demarche.title, Demarche.stage, Demarche.elected_official_id)
        .where(Demarche.elected_official_id.in_(list(digests)), Demarche.stage.in_(ACTIVE))
        .order_by(Demarche.stage, Demarche.title)
    ):
        line = DigestLine(demarche_id, title, Stage(stage).value)
        lines[demarche_id] = line
        assert official_id is not None  # only the officials asked for
        digests[official_id].demarches.append(line)
    if lines:
        # The same figures as the official's home (workflows.overview): one source.
        for demarche_id, figures in figures_of(session, list(lines), as_of).items():
            line = lines[demarche_id]
            line.contributions, line.contributions_week = figures.published, figures.published_week
            line.participants = figures.participants
    owner = {line.demarche_id: official for official, d in digests.items() for line in d.demarches}
    for deadline_id, demarche_id, status in session.execute(
        select(Deadline.id, Deadline.demarche_id, Deadline.status)
        .join(Demarche, Demarche.id == Deadline.demarche_id)
        .where(
            Demarche.elected_official_id.in_(list(digests)),
            ((Deadline.status == DeadlineStatus.PENDING) & (Deadline.due_at <= as_of + AHEAD))
            | (Deadline.status == DeadlineStatus.MISSED),
        )
        .order_by(Deadline.due_at)
    ):
        official = owner.get(demarche_id)
        if official is None:
            continue
        target = (
            digests[official].missed
            if status == DeadlineStatus.MISSED
            else (digests[official].upcoming)
        )
        target.append(deadline_id)
    return [d for d in digests.values() if not d.empty]


def send_weekly(session: Session, *, as_of: datetime) -> int:
    """Queue this week's digests (a second run in the same week queues nothing)."""
    digests = compose(session, as_of=as_of)
    if not digests:
        return 0
    table = OutboxMessage.__table__
    written = session.scalars(
        insert_ignoring_duplicates(session, table, ["key"])
        .values(
            [
                {
                    "key": f"digest:{d.week}:{d.official_id}",
                    "template": TEMPLATE,
                    "recipient_id": d.official_id,
                    "participant_id": None,
                    "demarche_id": None,
                    "context": {
                        "digest_week": d.week,
                        "as_of": as_of.isoformat(),
                    },
                    "status": "pending",
                    "attempts": 0,
                    "error": "",
                    "subject": "",
                    "created_at": as_of,
                    "next_attempt_at": as_of,
                }
                for d in digests
            ]
        )
        .returning(table.c.id)
    ).all()
    after_commit_each(session, DELIVER_OUTBOX, written)
    session.commit()
    return len(written)


def digest_for(session: Session, official_id: int, as_of: datetime) -> Digest | None:
    """One official's digest as it stands at ``as_of`` (rendered when the email is sent)."""
    found = compose(session, as_of=as_of, only=official_id)
    return found[0] if found else None
