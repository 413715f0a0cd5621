"""Mailings: audiences and consents, templates and their placeholders, previews, and the
delivery engine.

A mailing's deliveries are written first, one row per (mailing, address), unique; workers then
claim rows in chunks and send them over one SMTP connection per chunk. Each send is recorded
before the next starts — the row is marked ``sending`` in the same commit that records the
previous outcome — so a worker killed mid-chunk leaves exactly its message in flight marked
``sending``; the sweep later calls it ``uncertain`` (never sent again) and gives the rest of
the chunk back. A row recorded as sent is never sent again, whatever is rerun or redelivered.
Nothing here knows Flask, SMTP or Celery: the sender and the links are passed in.
"""

from ..retry import MAX_ATTEMPTS
from .audiences import recipients
from .delivery import Spacer, claim, send_chunk
from .editing import cancel, create_mailing, get_mailing, schedule, update_mailing
from .feedback import feedback_progress, send_feedback
from .letters import Composer, Letter, Links, sample_recipient, subject_line
from .placeholders import PLACEHOLDERS, Placeholder, available
from .policy import CHUNK, CHUNK_TIME, CONSENTS, MAX_BODY, MAX_SUBJECT, RECORD_BATCH, SCOPES, STALE
from .previewing import SAMPLE_NAME, Preview, draft, preview
from .reminders import schedule_reminders
from .sending import chunks_wanted, counts, deliver_chunk, skip_reasons, start, sweep
from .survey import may_send_survey, send_survey, survey_mailing, survey_sent
from .templates import check_template, default_feedback, default_text
from .unsubscribing import forget_address, resubscribe, suppress, unsubscribe

__all__ = [
    "CONSENTS",
    "Composer",
    "Letter",
    "Links",
    "MAX_ATTEMPTS",
    "MAX_BODY",
    "MAX_SUBJECT",
    "PLACEHOLDERS",
    "Placeholder",
    "Preview",
    "SAMPLE_NAME",
    "SCOPES",
    "RECORD_BATCH",
    "CHUNK",
    "CHUNK_TIME",
    "STALE",
    "Spacer",
    "available",
    "cancel",
    "check_template",
    "chunks_wanted",
    "claim",
    "counts",
    "create_mailing",
    "default_feedback",
    "default_text",
    "draft",
    "deliver_chunk",
    "feedback_progress",
    "forget_address",
    "get_mailing",
    "preview",
    "recipients",
    "resubscribe",
    "sample_recipient",
    "schedule",
    "schedule_reminders",
    "send_chunk",
    "send_feedback",
    "skip_reasons",
    "may_send_survey",
    "send_survey",
    "start",
    "subject_line",
    "suppress",
    "survey_mailing",
    "survey_sent",
    "sweep",
    "unsubscribe",
    "update_mailing",
]
