"""The charter's promises as data (DESIGN §3), and the deadlines that hold the Département
to them.

A charter version is a set of rules. A démarche keeps the version current when it was
created. Each deadline rule starts a clock on an event (a saisine submitted, a question
published, a consultation closed …) and stops it on another; ``event()`` is called by the
transition function and the contribution events, and creates and settles the deadlines in
the caller's transaction. ``scan()`` — the beat's sweep and ``flask charter scan`` — sends the
reminders and marks the missed deadlines with their alerts, each once, in a fixed number of
queries whatever the number of démarches.
"""

from .deadlines import (
    deadline_of_question,
    deadlines_of,
    due_of,
    event,
    get_deadline,
    next_deadline,
    paris_midnight,
    question_hidden,
    question_restored,
    settle_by_key,
    waive,
)
from .record import (
    Submission,
    kept,
    overdue_or_due,
    questions_record,
    record_of,
    submissions_of,
    unanswered_questions,
)
from .sweep import MISSED, REMINDER, ScanReport, reminder_moment, scan
from .versions import (
    ALERTED,
    EVENTS,
    MAX_REASON,
    MAX_REMINDER_DAYS,
    RESPONSIBLES,
    RULE_COLUMNS,
    current_version,
    install_default,
    new_draft,
    publish,
    rule_for,
    update_rule,
)

__all__ = [
    "ALERTED",
    "EVENTS",
    "MAX_REASON",
    "MAX_REMINDER_DAYS",
    "MISSED",
    "REMINDER",
    "RESPONSIBLES",
    "RULE_COLUMNS",
    "ScanReport",
    "Submission",
    "current_version",
    "deadline_of_question",
    "deadlines_of",
    "due_of",
    "event",
    "get_deadline",
    "install_default",
    "kept",
    "new_draft",
    "next_deadline",
    "overdue_or_due",
    "paris_midnight",
    "publish",
    "question_hidden",
    "question_restored",
    "questions_record",
    "record_of",
    "reminder_moment",
    "rule_for",
    "scan",
    "settle_by_key",
    "submissions_of",
    "unanswered_questions",
    "update_rule",
    "waive",
]
