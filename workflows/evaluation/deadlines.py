"""The charter's deadlines of the démarche itself (its questions' are transparency's): the
share met on time, and how late the others were.

A deadline is *due* once met, or once its last day is over (missed, or still pending past it);
a waived one counts for nothing. Lateness is in days past the last day (Europe/Paris): 0 for
one met on time, the day it was met for one met late, the date of the data for one still open.
One query reads the démarche's own deadlines: a handful, whatever the contributions.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import local_date
from ..i18n import N_
from ..models import Deadline, DeadlineStatus, Demarche
from . import display
from .indicators import Dimension, Indicator, measured, not_computed
from .record import weighted_median


def deadlines(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    rows = session.execute(
        select(Deadline.status, Deadline.due_date, Deadline.due_at, Deadline.met_at).where(
            Deadline.demarche_id == d.id, Deadline.question_id.is_(None)
        )
    ).all()
    counted = Counter({"deadlines": len(rows)})
    lateness: Counter[int] = Counter()
    today = local_date(as_of)
    for status, due_date, due_at, met_at in rows:
        if status == DeadlineStatus.WAIVED:
            counted["waived"] += 1
        elif status == DeadlineStatus.MET and met_at is not None:
            on_time = met_at < due_at
            counted["met_on_time" if on_time else "met_late"] += 1
            lateness[0 if on_time else max(1, (local_date(met_at) - due_date).days)] += 1
        elif due_at <= as_of:
            counted["missed"] += 1
            lateness[max(1, (today - due_date).days)] += 1
        else:
            counted["not_yet_due"] += 1
    due = sum(lateness.values())
    counted["due"] = due
    keys = ("deadlines", "due", "met_on_time", "met_late", "missed", "waived", "not_yet_due")
    tally = {key: counted[key] for key in keys}
    if not due:
        missing = (
            N_("no deadline of the charter is due yet")
            if rows
            else N_("no deadline of the charter yet")
        )
        found: tuple[Indicator, ...] = tuple(
            not_computed(code, missing, tally)
            for code in (
                "deadlines_met_on_time",
                "deadlines_median_lateness_days",
                "deadlines_worst_lateness_days",
            )
        )
        return Dimension("deadlines", found)
    median = weighted_median({float(k): n for k, n in lateness.items()})
    worst = max(lateness)
    return Dimension(
        "deadlines",
        (
            measured(
                "deadlines_met_on_time",
                counted["met_on_time"] / due,
                display.share(counted["met_on_time"] / due),
                tally,
            ),
            measured("deadlines_median_lateness_days", median, display.days(median), tally),
            measured("deadlines_worst_lateness_days", worst, display.days(worst), tally),
        ),
    )
