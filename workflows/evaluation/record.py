"""What several dimensions read of the record: when the démarche entered each stage, and a
moment cut to its hour (to count by day in Paris with the database's GROUP BY)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import local_date
from ..models import Demarche, StageTransition
from ..stages import Stage


def stage_moments(session: Session, d: Demarche) -> dict[Stage, datetime]:
    """One query: the first time ``d`` entered each stage it reached."""
    return {
        Stage(stage): at
        for stage, at in session.execute(
            select(StageTransition.to_stage, func.min(StageTransition.at))
            .where(StageTransition.demarche_id == d.id)
            .group_by(StageTransition.to_stage)
        )
    }


def reached_by(moments: dict[Stage, datetime], stage: Stage, as_of: datetime) -> datetime | None:
    """When ``d`` entered ``stage``, if it had by ``as_of``."""
    at = moments.get(stage)
    return at if at is not None and at <= as_of else None


def hour_of(session: Session, column):
    """``column`` (a UTC instant) cut to its hour, as text ``YYYY-MM-DD HH``: the finest grain
    that maps to one day in Paris (a DST night splits no hour)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def paris_day(hour: str) -> date:
    """The day in Paris of an hour from ``hour_of``."""
    return local_date(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC))


def weighted_median(counts: dict[float, int]) -> float:
    """The median of values given with how many times each occurs (at least one)."""
    ordered = sorted(counts.items())
    total = sum(n for _, n in ordered)

    def nth(k: int) -> float:  # the k-th value, from 0
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return value
        raise IndexError(k)

    if total % 2:
        return nth(total // 2)
    return (nth(total // 2 - 1) + nth(total // 2)) / 2
