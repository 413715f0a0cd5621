"""Time in the domain: stored in UTC, reasoned about in Europe/Paris, always passed as ``as_of``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    """The only reading of the real clock; callers pass it down as ``as_of``."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The calendar day in Paris at ``moment``."""
    return moment.astimezone(PARIS).date()


def end_of_local_day(day: date) -> datetime:
    """23:59:59.999999 in Paris on ``day``, as an aware UTC datetime (DST-safe)."""
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=PARIS)
    return (next_midnight - timedelta(microseconds=1)).astimezone(UTC)


def start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)
