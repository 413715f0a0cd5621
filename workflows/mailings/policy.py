"""Mailing kinds, audiences, scopes and the limits of the delivery engine."""

from __future__ import annotations

from datetime import timedelta

from ..i18n import N_
from ..models import Audience, DeliveryStatus, MailingKind
from ..stages import Stage

K, A = MailingKind, Audience
#: Which audiences each kind may address.
AUDIENCES = {
    K.FEEDBACK: {A.CONTRIBUTORS, A.REGISTRANTS},
    K.INVITATION: {A.TERRITORY_SUBSCRIBERS, A.CONTRIBUTORS, A.REGISTRANTS},
    K.NEWSLETTER: {A.TERRITORY_SUBSCRIBERS, A.CONTRIBUTORS, A.REGISTRANTS},
    K.REMINDER: {A.REGISTRANTS},
    K.OFFICIALS: {A.ELECTED},
    K.DEPARTMENTS: {A.DEPARTMENT_AGENTS},
    K.SURVEY: {A.CONTRIBUTORS},
}
#: The consent (and unsubscription scope) each kind needs; None: staff, no consent needed.
SCOPES = {
    K.FEEDBACK: "feedback",
    K.INVITATION: "news",
    K.NEWSLETTER: "news",
    K.REMINDER: "reminder",
    K.OFFICIALS: None,
    K.DEPARTMENTS: None,
    K.SURVEY: "survey",
}
#: The consents a kind's recipients must have kept, its own scope first: the survey goes to
#: those who kept the feedback too (it asks what they made of it), and an unsubscription
#: from any of them stops it.
CONSENTS: dict[MailingKind, tuple[str, ...]] = {
    kind: ((scope, "feedback") if kind == K.SURVEY else (scope,)) if scope else ()
    for kind, scope in SCOPES.items()
}
#: The participant's column of each consent (the reminder's is the registration itself).
CONSENT_COLUMNS = {
    "feedback": "consent_feedback",
    "news": "consent_territory_news",
    "survey": "consent_survey",
}
MAX_SUBJECT, MAX_BODY = 300, 50_000
#: The messages a worker sends over one SMTP connection (``MAILING_CHUNK``). A chunk costs
#: tens of milliseconds whatever its size (its claim, the mailing's templates, démarche and
#: decisions read, its recipients read, the connection, the task's hand-off): at 500 they are
#: a tenth of a message's cost, at 100 a third (bench/mailing.py).
CHUNK = 500
#: A mailing too small for ``MAILING_PARALLEL`` chunks of CHUNK shares its rows among them,
#: in chunks of at least this many.
MIN_CHUNK = 100
#: A chunk sends for this long at most, then gives its other rows back and hands the mailing on
#: (to the back of the queue): at a slow relay's rate, 500 messages could outlast the
#: worker's soft time limit (540 s), whose interruption leaves the message in flight
#: uncertain. Counted from the task's start; the last message started before it, with its
#: four SMTP exchanges (``MAIL_TIMEOUT``, 10 s by default, each), still ends within the limit.
CHUNK_TIME = timedelta(seconds=450)
#: How many rows of a chunk are marked in flight at once, their outcomes written together (one
#: transaction a batch, not one a message): after a worker's death, at most this many
#: messages are uncertain (maybe sent, never sent again). ``MAILING_RECORD_BATCH``.
RECORD_BATCH = 10
#: A running chunk renews its claim this often while it sends (at its next row): a fresh
#: claim is a sign of progress, not merely of a live process.
HEARTBEAT = timedelta(seconds=5)
#: A claimed or in-flight row untouched this long belongs to a worker that died (or that
#: stopped making progress). It must exceed the longest step between two rows of a chunk —
#: one SMTP exchange (``MAIL_TIMEOUT`` per command) or a wait for the rate — plus HEARTBEAT.
#: With the sweep every 15 seconds, a dead worker's chunk is handed out again within 45 s.
#: (HEARTBEAT + _Ledger.PATIENCE < STALE: a chunk waiting for a restarted database keeps it.)
STALE = timedelta(seconds=30)
ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
#: A feedback mailing goes out once the démarche is at its feedback stage (or closed).
FEEDBACK_STAGES = frozenset({Stage.FEEDBACK, Stage.CLOSED})
#: The participants' survey too (after the feedback mailing went out).
SURVEY_STAGES = FEEDBACK_STAGES
SURVEY_TOO_EARLY = N_(
    "the participants' survey goes out after the feedback; prepare it as a draft until then"
)


EXCERPT = 300
