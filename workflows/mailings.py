"""Mailings: audiences and consents, templates, and the delivery engine.

A mailing's deliveries are written first, one row per (mailing, address), unique; workers then
claim rows in chunks and send them over one SMTP connection per chunk. Each send is recorded
before the next starts — the row is marked ``sending`` in the same commit that records the
previous outcome — so a worker killed mid-chunk leaves exactly its message in flight marked
``sending``; the sweep later calls it ``uncertain`` (never sent again) and gives the rest of
the chunk back. A row recorded as sent is never sent again, whatever is rerun or redelivered.
Nothing here knows Flask, SMTP or Celery: the sender and the links are passed in.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, Protocol

from jinja2 import StrictUndefined, Template, TemplateError
from sqlalchemy import Select, Update, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .clock import PARIS, utcnow
from .decisions import MAX_JUSTIFICATION
from .errors import Conflict, DomainError, InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .models import (
    Audience,
    Contribution,
    Delivery,
    DeliveryStatus,
    Demarche,
    Event,
    Mailing,
    MailingKind,
    MailingStatus,
    Participant,
    Registration,
    RegistrationStatus,
    Role,
    Suppression,
    User,
)
from .outbox import PermanentDeliveryError, TemporaryDeliveryError
from .roles import RoleName
from .sandbox import Budget, BudgetedEnvironment, OverBudget, render
from .sql import database_unavailable
from .stages import Stage
from .territory import WHOLE_DEPARTEMENT, communes
from .text import clean_text, visible

log = logging.getLogger(__name__)

K, A = MailingKind, Audience
#: Which audiences each kind may address.
AUDIENCES = {
    K.FEEDBACK: {A.CONTRIBUTORS, A.REGISTRANTS},
    K.INVITATION: {A.TERRITORY_SUBSCRIBERS, A.CONTRIBUTORS, A.REGISTRANTS},
    K.NEWSLETTER: {A.TERRITORY_SUBSCRIBERS, A.CONTRIBUTORS, A.REGISTRANTS},
    K.REMINDER: {A.REGISTRANTS},
    K.OFFICIALS: {A.ELECTED},
    K.DEPARTMENTS: {A.DEPARTMENT_AGENTS},
}
#: The consent (and unsubscription scope) each kind needs; None: staff, no consent needed.
SCOPES = {
    K.FEEDBACK: "feedback",
    K.INVITATION: "news",
    K.NEWSLETTER: "news",
    K.REMINDER: "reminder",
    K.OFFICIALS: None,
    K.DEPARTMENTS: None,
}
MAX_SUBJECT, MAX_BODY = 300, 50_000
CHUNK = 100
MAX_ATTEMPTS = 8
#: A running chunk renews its claim this often while it sends (at its next row): a fresh
#: claim is a sign of progress, not merely of a live process.
HEARTBEAT = timedelta(seconds=5)
#: A claimed or in-flight row untouched this long belongs to a worker that died (or that
#: stopped making progress). It must exceed the longest step between two rows of a chunk —
#: one SMTP exchange (``MAIL_TIMEOUT`` per command) or a wait for the rate — plus HEARTBEAT.
#: With the sweep every 15 seconds, a dead worker's chunk is handed out again within 45 s.
#: (HEARTBEAT + _Ledger.PATIENCE < STALE: a chunk waiting for a restarted database keeps it.)
STALE = timedelta(seconds=30)
#: The first retry of a message the relay deferred (4xx) comes this long after; it doubles.
RETRY_AFTER = timedelta(minutes=1)
ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
TO_START = "mailings_to_start"
#: A feedback mailing goes out once the démarche is at its feedback stage (or closed).
FEEDBACK_STAGES = frozenset({Stage.FEEDBACK, Stage.CLOSED})


def backoff(attempts: int, unit: timedelta = RETRY_AFTER) -> timedelta:
    """1, 2, 4 … 32 minutes, then an hour (with the default ``unit``): the last of 8
    attempts comes two hours after the first (a relay down that long, a mailbox full that
    long)."""
    return unit * min(2 ** max(attempts - 1, 0), 60)


# -- templates ------------------------------------------------------------------------------

_env = BudgetedEnvironment(
    autoescape=False,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
#: What a template may raise while it renders (anything else — a worker's time limit — goes
#: through: it is not the template's fault).
TEMPLATE_ERRORS = (
    TemplateError,
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    RuntimeError,
    MemoryError,
)
#: How many contributions and decisions the check gives one of its recipients.
MANY = 200
_SAMPLE = N_("for the sample recipient")
_THIS = N_("for this recipient")


def _sample_context(with_event: bool) -> dict[str, Any]:
    """What a template may use, with a sample of each (checked at writing, not at sending)."""
    decision = {"item": "Engagement", "outcome": "Retenu", "justification": "Parce que."}
    return {
        "name": "Camille Martin",
        "demarche": {"title": "Démarche", "url": "https://example.org/d", "territory": "Muret"},
        "synthesis_url": "https://example.org/d#synthese",
        "decisions": [decision],
        "contributions": [{**decision, "text": "Mon avis.", "date": "01/02/2026"}],
        "unsubscribe_url": "https://example.org/u",
        "event": {"title": "Atelier", "place": "Muret", "when": "01/02/2026 à 18:00"}
        if with_event
        else None,
    }


def _check_contexts(with_event: bool) -> list[tuple[Msg, dict[str, Any]]]:
    """The recipients a template is tried for when written: the sample one, one without a
    name nor contributions nor decisions, one with many of each, and one whose names and texts
    are as long as they can be — so that what only real recipients trigger (a loop over their
    contributions, a branch for a missing name) is found before the sending."""
    sample = _sample_context(with_event)
    decisions = [
        {"item": f"Engagement {n}", "outcome": "Retenu", "justification": "Parce que."}
        for n in range(1, MANY + 1)
    ]
    longest = {
        "item": "É" * 300,
        "outcome": "Partiellement retenu",
        "justification": "j" * MAX_JUSTIFICATION,
    }
    return [
        (_SAMPLE, sample),
        (
            N_("for a recipient without a name, contributions or decisions"),
            {**sample, "name": "", "contributions": [], "decisions": []},
        ),
        (
            N_("for a recipient with %(count)s contributions", count=MANY),
            {
                **sample,
                "decisions": decisions,
                "contributions": [
                    {**d, "text": f"Mon avis n°{n}.", "date": "01/02/2026"}
                    for n, d in enumerate(decisions, 1)
                ],
            },
        ),
        (
            N_("with the longest names and texts"),
            {
                **sample,
                "name": "N" * 160,
                "demarche": {**sample["demarche"], "title": "T" * 200},
                "decisions": [longest],
                "contributions": [{**longest, "text": "t" * EXCERPT, "date": "01/02/2026"}],
                "event": {"title": "E" * 200, "place": "P" * 300, "when": "01/02/2026 à 18:00"}
                if with_event
                else None,
            },
        ),
    ]


def _template_error(exc: BaseException, case: Msg) -> Msg:
    """What a failed render says, in the back office and the API (and a refused delivery)."""
    if isinstance(exc, OverBudget) and exc.kind == "time":
        return N_(
            "the template takes more than %(ms)s ms to write %(case)s",
            ms=round(exc.budget.seconds * 1000),
            case=case,
        )
    if isinstance(exc, OverBudget):
        return N_(
            "the template writes or builds a text of more than %(chars)s characters %(case)s",
            chars=exc.budget.chars,
            case=case,
        )
    if case in (_SAMPLE, _THIS):
        return N_("the template does not read: %(error)s", error=str(exc))
    return N_("the template does not read %(case)s: %(error)s", case=case, error=str(exc))


def _compile(source: str, field_name: str) -> Template:
    try:
        return _env.from_string(source)
    except Exception as exc:  # noqa: BLE001 - a syntax error, a template nested too deeply
        raise InvalidFields(
            {field_name: N_("the template does not read: %(error)s", error=str(exc))}
        ) from None


def check_template(
    source: str, field_name: str, *, with_event: bool = False, budget: Budget | None = None
) -> None:
    """Refuse a template that does not parse, uses a variable that does not exist, fails or
    goes past its budget (``budget``; a subject gets a subject's) for any of the recipients
    of :func:`_check_contexts`."""
    budget = budget or Budget()
    if field_name == "subject":
        budget = budget.for_subject()
    template = _compile(source, field_name)
    for case, context in _check_contexts(with_event):
        try:
            render(template, context, budget)
        except Exception as exc:  # noqa: BLE001 - a sandbox refusal, a type error, a budget
            raise InvalidFields({field_name: _template_error(exc, case)}) from None


def default_feedback() -> tuple[str, str]:
    """The feedback's subject and body templates, the mission's to change."""
    text = resources.files("workflows").joinpath("data/mailings/feedback.txt").read_text("utf-8")
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


# -- creating, editing, cancelling ----------------------------------------------------------


def _mission_only(actor: User | None) -> None:
    if actor is not None and not actor.is_mission:
        raise PermissionDenied(N_("mailings are the mission's"))


def mailing_values(
    session: Session, fields: dict[str, Any], budget: Budget | None = None
) -> dict[str, Any]:
    """The fields of a mailing, checked (InvalidFields, every error at once); its templates are
    rendered within ``budget`` for the recipients of :func:`check_template`."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    try:
        values["kind"] = MailingKind(fields.get("kind"))
    except ValueError:
        errors["kind"] = N_("unknown kind “%(value)s”", value=fields.get("kind"))
    try:
        values["audience"] = Audience(fields.get("audience"))
    except ValueError:
        errors["audience"] = N_("unknown audience “%(value)s”", value=fields.get("audience"))
    if (
        "kind" in values
        and "audience" in values
        and values["audience"] not in AUDIENCES[values["kind"]]
    ):
        errors["audience"] = N_("this audience cannot receive this kind of mailing")
    demarche_id = fields.get("demarche_id")
    demarche = (
        session.get(Demarche, demarche_id)
        if isinstance(demarche_id, int) and 0 < demarche_id < 2**31
        else None
    )
    if demarche is None:
        errors["demarche_id"] = N_("no démarche %(id)s", id=demarche_id)
    values["demarche_id"] = demarche.id if demarche else None
    event_id = fields.get("event_id")
    values["event_id"] = None
    if event_id not in (None, ""):
        event = (
            session.get(Event, event_id)
            if isinstance(event_id, int) and 0 < event_id < 2**31
            else None
        )
        if event is None or (demarche is not None and event.demarche_id != demarche.id):
            errors["event_id"] = N_("no event %(id)s in this démarche", id=event_id)
        else:
            values["event_id"] = event.id
    subject = clean_text(str(fields.get("subject") or ""), single_line=True)
    body = str(fields.get("body") or "")
    if not subject:
        errors["subject"] = N_("the subject is empty")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = N_("one line of at most %(max)s characters", max=MAX_SUBJECT)
    if not visible(body):
        errors["body"] = N_("the text is empty")
    elif len(body) > MAX_BODY:
        errors["body"] = N_("at most %(max)s characters", max=MAX_BODY)
    for name, source in (("subject", subject), ("body", body)):
        if name not in errors:
            try:
                check_template(
                    source, name, with_event=values["event_id"] is not None, budget=budget
                )
            except InvalidFields as exc:
                errors.update(exc.errors)
    if errors:
        raise InvalidFields(errors)
    values["subject"], values["body"] = subject, body
    return values


def create_mailing(
    session: Session,
    actor: User | None,
    fields: dict[str, Any],
    *,
    as_of: datetime,
    budget: Budget | None = None,
) -> Mailing:
    _mission_only(actor)
    mailing = Mailing(
        status=MailingStatus.DRAFT,
        created_by=actor,
        created_at=as_of,
        updated_at=as_of,
        **mailing_values(session, fields, budget),
    )
    session.add(mailing)
    session.flush()
    audit.record(
        session,
        "mailing.create",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        kind=mailing.kind.value,
        audience=mailing.audience.value,
    )
    return mailing


def update_mailing(
    session: Session,
    actor: User,
    mailing: Mailing,
    fields: dict[str, Any],
    *,
    as_of: datetime,
    budget: Budget | None = None,
) -> Mailing:
    _mission_only(actor)
    if mailing.status != MailingStatus.DRAFT:
        raise Conflict(N_("only a draft can be changed"))
    for name, value in mailing_values(session, fields, budget).items():
        setattr(mailing, name, value)
    mailing.updated_at = as_of
    audit.record(
        session,
        "mailing.update",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
    )
    session.flush()
    return mailing


def get_mailing(session: Session, mailing_id: object) -> Mailing:
    mailing = (
        session.get(Mailing, mailing_id)
        if isinstance(mailing_id, int) and 0 < mailing_id < 2**31
        else None
    )
    if mailing is None:
        raise NotFound(N_("no mailing %(id)s", id=mailing_id))
    return mailing


def schedule(
    session: Session, actor: User | None, mailing: Mailing, *, at: datetime | None, as_of: datetime
) -> Mailing:
    """Send now (``at`` None or past) or at ``at``; the workers start it (after commit)."""
    _mission_only(actor)
    if mailing.kind == MailingKind.FEEDBACK and mailing.demarche.stage not in FEEDBACK_STAGES:
        raise Conflict(
            N_(
                "the feedback goes out when the démarche enters its feedback stage; "
                "prepare it as a draft until then"
            )
        )
    when = max(at or as_of, as_of)
    changed = session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status == MailingStatus.DRAFT)
        .values(status=MailingStatus.SCHEDULED, scheduled_at=when, updated_at=as_of)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(mailing)
    if not changed:  # sent, scheduled or cancelled meanwhile
        raise Conflict(N_("this mailing is already “%(status)s”", status=mailing.status.label))
    audit.record(
        session,
        "mailing.schedule",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        at=when.isoformat(),
    )
    if when <= as_of:
        session.info.setdefault(TO_START, []).append(mailing.id)
    session.flush()
    return mailing


def cancel(session: Session, actor: User | None, mailing: Mailing, *, as_of: datetime) -> int:
    """Stop what has not gone yet; returns how many deliveries are cancelled."""
    _mission_only(actor)
    result = session.execute(
        update(Mailing)
        .where(
            Mailing.id == mailing.id,
            Mailing.status.in_(
                (MailingStatus.DRAFT, MailingStatus.SCHEDULED, MailingStatus.SENDING)
            ),
        )
        .values(status=MailingStatus.CANCELLED, updated_at=as_of, finished_at=as_of)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(N_("this mailing is already “%(status)s”", status=mailing.status.label))
    stopped = session.execute(
        update(Delivery)
        .where(
            Delivery.mailing_id == mailing.id,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
        )
        .values(status=DeliveryStatus.CANCELLED, chunk=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        session,
        "mailing.cancel",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        cancelled=stopped,
    )
    session.flush()
    session.refresh(mailing)
    return stopped


# -- audiences and consents ----------------------------------------------------------------


@dataclass
class Recipient:
    address: str
    name: str = ""
    participant_id: int | None = None
    user_id: int | None = None
    skip: str = ""  # why not: no_consent, suppressed, unsubscribed


def _canton_communes(territory: str | None) -> set[str] | None:
    """INSEE codes of a canton's communes; None for the whole département."""
    if not territory or territory == WHOLE_DEPARTEMENT:
        return None
    codes = {c.insee_code for c in communes() if c.canton_name == territory}
    if territory.startswith("Toulouse-"):
        codes.add("31555")  # Toulouse spans its eleven cantons
    return codes


def _participant_query(mailing: Mailing) -> Select:
    """The audience's participants with an address: (email, name, id, consents)."""
    d = mailing.demarche
    query = select(
        Participant.email,
        Participant.name,
        Participant.id,
        Participant.consent_feedback,
        Participant.consent_territory_news,
    )
    if mailing.audience == Audience.CONTRIBUTORS:
        ids = select(Contribution.participant_id).where(Contribution.demarche_id == d.id)
        query = query.where(Participant.id.in_(ids))
    elif mailing.audience == Audience.REGISTRANTS:
        statuses = [RegistrationStatus.CONFIRMED]
        if mailing.kind != MailingKind.REMINDER:
            statuses.append(RegistrationStatus.WAITING)
        events = (
            [mailing.event_id]
            if mailing.event_id
            else select(Event.id).where(Event.demarche_id == d.id)
        )
        ids = select(Registration.participant_id).where(
            Registration.event_id.in_(events), Registration.status.in_(statuses)
        )
        query = query.where(Participant.id.in_(ids))
    else:  # territory subscribers
        query = query.where(Participant.consent_territory_news.is_(True))
        codes = _canton_communes(d.territory)
        if codes is not None:
            query = query.where(Participant.commune_insee.in_(codes))
    return query.where(Participant.email.is_not(None)).order_by(Participant.id)


def _users(session: Session, mailing: Mailing) -> list[User]:
    d = mailing.demarche
    if mailing.audience == Audience.ELECTED:
        official = d.elected_official
        return [official] if official is not None and official.active else []
    query = (
        select(User)
        .join(User.roles)
        .where(
            User.department_id == d.department_id,
            User.active.is_(True),
            Role.name == RoleName.DEPARTMENT,
        )
        .order_by(User.id)
    )
    return list(session.scalars(query).unique()) if d.department_id else []


def recipients(session: Session, mailing: Mailing) -> list[Recipient]:
    """Everyone the mailing is for, each with why they are skipped (if they are): no
    consent for this kind of mail, an unsubscription from it, a hard bounce."""
    scope = SCOPES[mailing.kind]
    if mailing.audience in (Audience.ELECTED, Audience.DEPARTMENT_AGENTS):
        found = [
            Recipient(u.email.lower(), u.name or "", user_id=u.id) for u in _users(session, mailing)
        ]
        addresses: Any = [r.address for r in found]
    else:
        query = _participant_query(mailing)
        found = [
            Recipient(
                email,
                name or "",
                participant_id=participant_id,
                # A reminder needs no other consent: the registration asked for it.
                skip="" if {"feedback": feedback, "news": news}.get(scope, True) else "no_consent",
            )
            for email, name, participant_id, feedback, news in session.execute(query)
        ]
        addresses = query.with_only_columns(Participant.email).order_by(None)
    suppressed: dict[str, str] = {}
    if found:
        for address, suppression_scope in session.execute(
            select(Suppression.address, Suppression.scope).where(
                Suppression.scope.in_(["all", scope or "all"]), Suppression.address.in_(addresses)
            )
        ):
            if suppression_scope == "all" or address not in suppressed:
                suppressed[address] = suppression_scope
    for recipient in found:  # an unsubscription (or a bounce) says more than a consent off
        if recipient.address in suppressed:
            recipient.skip = (
                "suppressed" if suppressed[recipient.address] == "all" else "unsubscribed"
            )
    return found


def start(session: Session, mailing_id: int, *, as_of: datetime) -> int:
    """Write one delivery row per address (skipped ones with their reason) and set the
    mailing sending. Safe to run twice, or alongside a cancel: the mailing's row is taken
    (locked) first, so a cancel waits for the rows and then cancels them. Returns rows
    written."""
    first_time = session.execute(
        update(Mailing)
        .where(
            Mailing.id == mailing_id,
            Mailing.status == MailingStatus.SCHEDULED,
            Mailing.scheduled_at <= as_of,
        )
        .values(status=MailingStatus.SENDING, started_at=as_of, updated_at=as_of)
        .execution_options(synchronize_session=False)
    ).rowcount
    again = (
        first_time
        or session.execute(
            update(Mailing)
            .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING)
            .values(updated_at=as_of)
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    if not again:  # not due yet, cancelled, or sent
        session.rollback()
        return 0
    mailing = session.get(Mailing, mailing_id, populate_existing=True)
    existing = set(
        session.scalars(select(Delivery.address).where(Delivery.mailing_id == mailing.id))
    )
    rows = []
    for recipient in recipients(session, mailing):
        if recipient.address in existing:
            continue
        existing.add(recipient.address)
        rows.append(
            {
                "mailing_id": mailing.id,
                "address": recipient.address,
                "participant_id": recipient.participant_id,
                "user_id": recipient.user_id,
                "status": DeliveryStatus.SKIPPED if recipient.skip else DeliveryStatus.PENDING,
                "skip_reason": recipient.skip,
                "attempts": 0,
                "error": "",
                "subject": "",
                "next_attempt_at": as_of,
            }
        )
    for first in range(0, len(rows), 5000):
        session.execute(insert(_DELIVERIES), rows[first : first + 5000])
    if first_time:
        audit.record(
            session,
            "mailing.start",
            actor=None,
            as_of=as_of,
            demarche=mailing.demarche,
            target=f"mailing:{mailing.id}",
            deliveries=len(rows),
        )
    session.commit()
    finish_if_done(session, mailing.id, as_of=as_of)
    return len(rows)


# -- the delivery engine ---------------------------------------------------------------------


class Connection(Protocol):
    def send(self, letter: Letter) -> str: ...


Opener = Callable[[], AbstractContextManager[Connection]]


def claim(session: Session, mailing_id: int, *, size: int = CHUNK, as_of: datetime) -> str | None:
    """Take up to ``size`` due rows for one worker's chunk; returns its token (None: nothing)."""
    token = uuid.uuid4().hex
    due = (
        select(Delivery.id)
        .where(
            Delivery.mailing_id == mailing_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= as_of,
        )
        .order_by(Delivery.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(due.scalar_subquery()),
            Delivery.status == DeliveryStatus.PENDING,
            select(Mailing.id)
            .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING)
            .exists(),
        )
        .values(status=DeliveryStatus.CLAIMED, chunk=token, claimed_at=as_of)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return token if taken else None


@dataclass
class Outcome:
    delivery_id: int
    values: dict[str, Any]
    suppress: tuple[str, str] | None = None  # (address, detail) of a hard bounce


@dataclass
class ChunkReport:
    sent: int = 0
    retry: int = 0
    refused: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: str = ""  # why the SMTP relay could not be reached (the rest went back)
    yielded: bool = False  # its renders took its share of time: the rest went back


def send_chunk(
    session: Session,
    token: str,
    opener: Opener,
    composer: Composer,
    *,
    now: Callable[[], datetime] = utcnow,
    throttle: Callable[[], None] | None = None,
    retry_after: timedelta = RETRY_AFTER,
) -> ChunkReport:
    """Send the chunk's rows in order over one connection (reopened after a lost one).

    Each row is marked ``sending`` in the commit that records the previous row's outcome:
    a crash leaves at most that one row in flight. ``throttle`` is called before each
    message: it waits as long as the SMTP relay's rate needs. A deferred message (4xx) is
    tried again after ``backoff(attempts, retry_after)``. Once the composer has spent its
    slice of time rendering, the rows not yet attempted go back to the queue (``yielded``).
    Interrupted by an exception (a worker's soft time limit), it gives back the rows not yet
    attempted — and the row in flight if its message had not left — before letting it go on.
    """
    ids = list(
        session.scalars(select(Delivery.id).where(Delivery.chunk == token).order_by(Delivery.id))
    )
    report = ChunkReport()
    composer.prefetch(ids)
    session.commit()  # end the read: from now on the ledger writes, each row on its own
    ledger = _Ledger(session, token)
    try:
        return _send_rows(
            session, ledger, ids, token, opener, composer, now, throttle, report, retry_after
        )
    except Exception:  # a time limit, a lost database: what was not attempted goes back
        with contextlib.suppress(Exception):  # (if the database is what failed: the sweep)
            ledger.give_back(token)
        raise
    finally:
        ledger.close()


def _send_rows(
    session: Session,
    ledger: _Ledger,
    ids: list[int],
    token: str,
    opener: Opener,
    composer: Composer,
    now: Callable[[], datetime],
    throttle: Callable[[], None] | None,
    report: ChunkReport,
    retry_after: timedelta,
) -> ChunkReport:
    previous: Outcome | None = None
    position = 0
    while position < len(ids) and not report.yielded:
        ledger.record(previous, now())
        previous = None
        try:
            context = opener()
            connection = context.__enter__()
        except Exception as exc:  # noqa: BLE001 - the relay is down: give the rest back
            report.unreachable = f"relay unreachable: {type(exc).__name__}: {exc}"[:500]
            _release(session, token, now(), report.unreachable, retry_after)
            return report
        try:
            while position < len(ids):
                if composer.sliced():  # the rest goes back, the mailing to the queue's end
                    report.yielded = True
                    break
                delivery_id = ids[position]
                position += 1
                if throttle is not None:  # before the row is marked: waiting sends nothing
                    throttle()
                attempts = ledger.begin(delivery_id, token, previous, now())
                previous = None
                if attempts is None:
                    report.skipped += 1
                    continue
                try:
                    letter = composer.for_delivery(delivery_id)
                except NotToSend as exc:
                    previous = Outcome(
                        delivery_id,
                        {
                            "status": DeliveryStatus.SKIPPED,
                            "skip_reason": exc.reason,
                            "chunk": None,
                        },
                    )
                    report.skipped += 1
                    continue
                except InvalidFields as exc:  # the template fails for this recipient
                    previous = Outcome(
                        delivery_id,
                        {
                            "status": DeliveryStatus.FAILED,
                            "error": composer.explain(exc)[:2000],
                            "chunk": None,
                        },
                    )
                    report.failed += 1
                    continue
                except Exception:  # interrupted (a time limit): its message has not left
                    with contextlib.suppress(Exception):
                        ledger.unmark(delivery_id, token)
                    raise
                try:
                    message_id = connection.send(letter)
                except PermanentDeliveryError as exc:
                    code = getattr(exc, "code", None)
                    previous = Outcome(
                        delivery_id,
                        {
                            "status": DeliveryStatus.REFUSED,
                            "smtp_code": code,
                            "error": str(exc)[:2000],
                            "chunk": None,
                        },
                        (letter.address, str(exc)) if exc.mailbox_unknown else None,
                    )
                    report.refused += 1
                except TemporaryDeliveryError as exc:
                    give_up = attempts >= MAX_ATTEMPTS
                    previous = Outcome(
                        delivery_id,
                        {
                            "status": DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
                            "next_attempt_at": now() + backoff(attempts, retry_after),
                            "smtp_code": getattr(exc, "code", None),
                            "error": str(exc)[:2000],
                            "chunk": None,
                        },
                    )
                    if give_up:
                        report.failed += 1
                    else:
                        report.retry += 1
                    if getattr(exc, "connection_lost", False):
                        break  # open a new connection for the rest of the chunk
                else:
                    previous = Outcome(
                        delivery_id,
                        {
                            "status": DeliveryStatus.SENT,
                            "message_id": message_id,
                            "subject": letter.subject[:300],
                            "sent_at": now(),
                            "error": "",
                            "chunk": None,
                        },
                    )
                    report.sent += 1
        finally:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                context.__exit__(None, None, None)
    ledger.record(previous, now())
    if report.yielded:
        ledger.give_back(token)
    session.commit()
    return report


class Spacer:
    """A throttle for one process: ``rate`` messages a second at most (0: no limit)."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.sleep = sleep
        self.next_slot = time.monotonic()

    def __call__(self) -> None:
        if not self.interval:
            return
        wait = self.next_slot - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self.next_slot = max(self.next_slot, time.monotonic()) + self.interval


#: The hot path of the engine: statements built once, executed through the table (Core).
_DELIVERIES = Delivery.__table__
_MARK_SENDING = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("row"),
        _DELIVERIES.c.chunk == bindparam("token"),
        _DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(
        status=DeliveryStatus.SENDING,
        claimed_at=bindparam("at"),
        attempts=_DELIVERIES.c.attempts + 1,
    )
    .returning(_DELIVERIES.c.attempts)
)


_RENEW_CLAIM = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.chunk == bindparam("token"),
        _DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(claimed_at=bindparam("at"))
)


_GIVE_BACK = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.chunk == bindparam("token"),
        _DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(status=DeliveryStatus.PENDING, chunk=None)
)
_UNMARK = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("row"),
        _DELIVERIES.c.chunk == bindparam("token"),
        _DELIVERIES.c.status == DeliveryStatus.SENDING,
    )
    .values(status=DeliveryStatus.CLAIMED)
)


@functools.cache
def _recorder(columns: frozenset[str]) -> Update:
    """The UPDATE that records an outcome setting ``columns`` (one per kind of outcome)."""
    return (
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id == bindparam("done_row"))
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
    )


def _release(
    session: Session, token: str, at: datetime, error: str, retry_after: timedelta = RETRY_AFTER
) -> None:
    """The SMTP relay could not be reached: the chunk's rows not yet attempted go back to
    the queue, each with one more attempt and its backoff (failed after the last one)."""
    session.rollback()  # a fresh transaction (the ledger wrote meanwhile)
    claimed = and_(Delivery.chunk == token, Delivery.status == DeliveryStatus.CLAIMED)
    for attempts in session.scalars(select(Delivery.attempts).where(claimed).distinct()).all():
        give_up = attempts + 1 >= MAX_ATTEMPTS
        session.execute(
            update(Delivery)
            .where(claimed, Delivery.attempts == attempts)
            .values(
                status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
                chunk=None,
                attempts=attempts + 1,
                next_attempt_at=at + backoff(attempts + 1, retry_after),
                error=error,
            )
            .execution_options(synchronize_session=False)
        )
    session.commit()


class _Ledger:
    """Where a chunk writes its progress, each statement committed on its own (autocommit):
    a row is marked in flight before its message leaves, and its outcome is recorded before
    the next row is marked — on PostgreSQL both in one statement, one round trip a message.

    When the database goes away (a restart), a statement is tried again on a new connection
    for up to PATIENCE seconds: the outcome of the message that just left is not lost, so a
    restart of a few seconds leaves nothing uncertain. (Should a statement have committed but
    its answer been lost, its row is found marked already and skipped: left in flight, it is
    called uncertain later, though never sent.) Past PATIENCE the error goes up: the task is
    retried, and the sweep settles the chunk once its claim is stale."""

    PATIENCE = 20.0

    def __init__(self, session: Session, token: str) -> None:
        self.session = session
        self.token = token
        self.renewed: datetime | None = None  # when the claim was last renewed
        self.engine = session.get_bind()
        self.combined = self.engine.dialect.name == "postgresql"
        self.connection: Any = None
        self._connect()

    def _connect(self) -> None:
        self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # a connection the database dropped
                self.connection.close()

    def _run(self, statement: Any, params: dict[str, Any], *, scalar: bool = False) -> Any:
        deadline = time.monotonic() + self.PATIENCE
        pause = 0.1
        while True:
            try:
                if self.connection is None:
                    self._connect()
                if scalar:
                    return self.connection.scalar(statement, params)
                self.connection.execute(statement, params)
                return None
            except DBAPIError as exc:
                if not database_unavailable(exc) or time.monotonic() + pause > deadline:
                    raise
                log.warning(
                    "mailing chunk: the database does not answer (%s); trying again",
                    type(exc.orig).__name__,
                )
                self.close()
                self.connection = None
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def give_back(self, token: str) -> None:
        """The chunk's rows not yet attempted go back to the queue, due as they were."""
        self._run(_GIVE_BACK, {"token": token})

    def unmark(self, delivery_id: int, token: str) -> None:
        """A row marked in flight whose message did not leave goes back with the rest."""
        self._run(_UNMARK, {"row": delivery_id, "token": token})

    def begin(
        self, delivery_id: int, token: str, previous: Outcome | None, at: datetime
    ) -> int | None:
        """Record the previous outcome and mark this row in flight; returns the row's
        attempts so far (None: the row is no longer this chunk's — cancelled, swept)."""
        mark = {"row": delivery_id, "token": token, "at": at}
        if self.renewed is None:
            self.renewed = at  # the claim was just made
        elif at - self.renewed >= HEARTBEAT:
            self._run(_RENEW_CLAIM, {"token": token, "at": at})
            self.renewed = at
        if previous is not None and previous.suppress is None and self.combined:
            statement = _MARK_SENDING.add_cte(_recorder(frozenset(previous.values)).cte("done"))
            return self._run(statement, {**mark, **_recorded(previous)}, scalar=True)
        self.record(previous, at)
        return self._run(_MARK_SENDING, mark, scalar=True)

    def record(self, outcome: Outcome | None, at: datetime) -> None:
        if outcome is None:
            return
        self._run(_recorder(frozenset(outcome.values)), _recorded(outcome))
        if outcome.suppress is not None:
            self.session.rollback()  # a fresh transaction, that sees what was just written
            address, detail = outcome.suppress
            suppress(self.session, address, "all", "hard_bounce", at, detail=detail)
            self.session.commit()


def _recorded(outcome: Outcome) -> dict[str, Any]:
    return {"done_row": outcome.delivery_id, **{f"new_{k}": v for k, v in outcome.values.items()}}


def suppress(
    session: Session, address: str, scope: str, reason: str, at: datetime, *, detail: str = ""
) -> bool:
    """Add to the suppression list (idempotent, and safe when two do it at once); True if it
    was new."""
    address = address.strip().lower()
    exists = session.scalar(
        select(Suppression.id).where(Suppression.address == address, Suppression.scope == scope)
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Suppression(
                    address=address, scope=scope, reason=reason, detail=detail[:2000], created_at=at
                )
            )
    except IntegrityError:
        return False  # written by another request meanwhile
    return True


def finish_if_done(session: Session, mailing_id: int, *, as_of: datetime) -> bool:
    """Sending → sent once no row is left to send."""
    left = (
        select(Delivery.id)
        .where(Delivery.mailing_id == mailing_id, Delivery.status.in_(ACTIVE))
        .exists()
    )
    done = session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING, ~left)
        .values(status=MailingStatus.SENT, finished_at=as_of, updated_at=as_of)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        mailing = session.get(Mailing, mailing_id)
        if mailing.kind == MailingKind.FEEDBACK and mailing.audience == Audience.CONTRIBUTORS:
            from . import charter

            charter.event(session, mailing.demarche, "feedback_sent", at=as_of)
        audit.record(
            session,
            "mailing.sent",
            actor=None,
            as_of=as_of,
            demarche=mailing.demarche,
            target=f"mailing:{mailing_id}",
            **counts(session, mailing_id),
        )
    session.commit()
    return bool(done)


def has_due_rows(session: Session, mailing_id: int, as_of: datetime) -> bool:
    return (
        session.scalar(
            select(Delivery.id)
            .where(
                Delivery.mailing_id == mailing_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= as_of,
            )
            .limit(1)
        )
        is not None
    )


def deliver_chunk(
    session: Session,
    mailing_id: int,
    opener: Opener,
    make_composer: Callable[[Mailing], Composer],
    *,
    size: int = CHUNK,
    throttle: Callable[[], None] | None = None,
    now: Callable[[], datetime] = utcnow,
    retry_after: timedelta = RETRY_AFTER,
) -> tuple[ChunkReport | None, bool]:
    """One worker's turn on a mailing: claim a chunk, send it, finish the mailing if it is
    done. Returns the chunk's report (None: nothing to claim) and whether rows are still due
    (the caller then hands the mailing on)."""
    token = claim(session, mailing_id, size=size, as_of=now())
    report = None
    if token is not None:
        mailing = session.get(Mailing, mailing_id)
        try:
            composer = make_composer(mailing)
        except InvalidFields as exc:
            _release(session, token, now(), str(exc)[:500], retry_after)
            raise
        report = send_chunk(
            session,
            token,
            opener,
            composer,
            now=now,
            throttle=throttle,
            retry_after=retry_after,
        )
    finish_if_done(session, mailing_id, as_of=now())
    more = (
        report is not None and not report.unreachable and has_due_rows(session, mailing_id, now())
    )
    return report, more


def chunks_wanted(session: Session, mailing_id: int, parallel: int, as_of: datetime) -> int:
    """How many more chunk tasks a mailing with due rows should get (at most ``parallel``
    chunks of one mailing are in flight, so that its rate holds)."""
    if not has_due_rows(session, mailing_id, as_of):
        return 0
    busy = session.scalar(
        select(func.count(func.distinct(Delivery.chunk))).where(
            Delivery.mailing_id == mailing_id,
            Delivery.status.in_((DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)),
        )
    )
    return max(parallel - (busy or 0), 0)


@dataclass
class SweepReport:
    started: list[int] = field(default_factory=list)
    uncertain: int = 0
    released: int = 0
    to_send: list[int] = field(default_factory=list)


def sweep(session: Session, *, as_of: datetime) -> SweepReport:
    """Start the scheduled mailings that are due, settle what dead workers left (the row in
    flight: uncertain; the rest of their chunk: back to send), finish the mailings that are
    done, and list those with rows due (a worker should take a chunk of each)."""
    report = SweepReport()
    for mailing_id in session.scalars(
        select(Mailing.id).where(
            Mailing.status == MailingStatus.SCHEDULED, Mailing.scheduled_at <= as_of
        )
    ).all():
        start(session, mailing_id, as_of=as_of)
        report.started.append(mailing_id)
    # Claimed and in-flight rows belong to mailings being sent, or cancelled meanwhile (a
    # message in flight is not cancelled): the index on (mailing, status) finds them, and
    # the sweep stays cheap every 15 seconds however many deliveries the years add.
    live = select(Mailing.id).where(
        Mailing.status.in_((MailingStatus.SENDING, MailingStatus.CANCELLED))
    )
    stale = and_(Delivery.mailing_id.in_(live), Delivery.claimed_at < as_of - STALE)
    report.uncertain = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, stale)
        .values(
            status=DeliveryStatus.UNCERTAIN,
            chunk=None,
            error="in flight when its worker stopped: maybe sent, never sent again",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    report.released = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.CLAIMED, stale)
        .values(status=DeliveryStatus.PENDING, chunk=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    for mailing_id in session.scalars(
        select(Mailing.id).where(Mailing.status == MailingStatus.SENDING)
    ).all():
        if not finish_if_done(session, mailing_id, as_of=as_of) and has_due_rows(
            session, mailing_id, as_of
        ):
            report.to_send.append(mailing_id)
    return report


def counts(session: Session, mailing_id: int) -> dict[str, int]:
    """The live counts of the API and the back office."""
    rows = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.mailing_id == mailing_id)
            .group_by(Delivery.status)
        ).all()
    )
    get = lambda *statuses: sum(rows.get(s, 0) for s in statuses)  # noqa: E731
    return {
        "to_send": get(*ACTIVE),
        "sent": get(DeliveryStatus.SENT),
        "refused": get(DeliveryStatus.REFUSED),
        "failed": get(DeliveryStatus.FAILED),
        "skipped": get(DeliveryStatus.SKIPPED),
        "uncertain": get(DeliveryStatus.UNCERTAIN),
        "cancelled": get(DeliveryStatus.CANCELLED),
    }


def skip_reasons(session: Session, mailing_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Delivery.skip_reason, func.count())
            .where(Delivery.mailing_id == mailing_id, Delivery.status == DeliveryStatus.SKIPPED)
            .group_by(Delivery.skip_reason)
        ).all()
    )


# -- what each recipient reads ---------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """URLs the web side builds (the domain knows no host): the démarche's public page,
    and the signed unsubscription link of a participant for a scope."""

    demarche: Callable[[Demarche], str]
    unsubscribe: Callable[[int | None, str], str]  # (participant id — None: a test —, scope)


class NotToSend(Exception):  # noqa: N818 - a decision, not a failure
    """This delivery should no longer go; ``reason`` is its skip reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Letter:
    """One recipient's message, rendered: what the sender turns into an email."""

    address: str
    subject: str
    text: str
    kind: MailingKind
    scope: str | None  # the unsubscription scope (None: a message to staff)
    unsubscribe_url: str
    delivery_id: int | None = None


EXCERPT = 300
#: A chunk that has spent this many render budgets rendering gives the rest of its rows back
#: and hands the mailing on (to the back of the queue): the other tasks get their turn.
SLICE_BUDGETS = 4


def _shared_context(mailing: Mailing, links: Links) -> dict[str, Any]:
    """What every recipient of a mailing reads alike (the decisions aside)."""
    d, event = mailing.demarche, mailing.event
    page = links.demarche(d)
    return {
        "demarche": {"title": d.title, "url": page, "territory": d.territory or ""},
        "synthesis_url": page + "#synthese",
        "event": {
            "title": event.title,
            "place": event.place,
            "when": event.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M"),
        }
        if event is not None
        else None,
    }


def subject_line(mailing: Mailing, links: Links, budget: Budget | None = None) -> str:
    """The subject as the lists of mailings show it: rendered for nobody in particular (no
    name, no contributions, no decisions), within a subject's budget — the template as written
    if that fails. The body is never rendered for a list."""
    try:
        context = {
            **_shared_context(mailing, links),
            "name": "",
            "decisions": [],
            "contributions": [],
            "unsubscribe_url": "",
        }
        text = render(
            _env.from_string(mailing.subject), context, (budget or Budget()).for_subject()
        )
    except Exception:  # noqa: BLE001 - a list shows what it can
        return mailing.subject
    return _one_line(text)


def _one_line(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


class Composer:
    """Renders one mailing for each of its recipients, each render within ``budget``; what
    all share is read once. ``spent`` is the CPU time its renders took."""

    def __init__(
        self,
        session: Session,
        mailing: Mailing,
        links: Links,
        label: Callable[[Any], str] = str,
        budget: Budget | None = None,
    ) -> None:
        self.session = session
        self.label = label
        self.budget = budget or Budget()
        self.spent = 0.0
        self._recipients: dict[int, tuple] = {}
        self._contributions: dict[int, list[dict[str, str]]] = {}
        self.mailing_id = mailing.id
        self.demarche_id = mailing.demarche_id
        self.kind = mailing.kind
        self.scope = SCOPES[mailing.kind]
        self.links = links
        self.subject = _compile(mailing.subject, "subject")
        self.body = _compile(mailing.body, "body")
        # An automatic event reminder is checked at sending: (event id, the key of its date).
        self.reminder_of = (
            (mailing.event_id, mailing.key)
            if mailing.kind == MailingKind.REMINDER and mailing.key and mailing.event_id
            else None
        )
        d = mailing.demarche
        self.items = {}
        for item in d.items:
            decision = item.decision
            self.items[item.id] = {
                "item": item.title,
                "outcome": label(decision.outcome.label) if decision else "",
                "justification": decision.justification if decision else "",
            }
        self.shared = {**_shared_context(mailing, links), "decisions": list(self.items.values())}

    def _contribution(self, item_id: int, body: str, at: datetime) -> dict[str, str]:
        return {
            **self.items.get(item_id, {"item": "", "outcome": "", "justification": ""}),
            "text": body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…",
            "date": at.astimezone(PARIS).strftime("%d/%m/%Y"),
        }

    def contributions_of(self, participant_id: int | None) -> list[dict[str, str]]:
        if participant_id is None:
            return []
        if participant_id in self._contributions:
            return self._contributions.pop(participant_id)
        rows = self.session.execute(
            select(Contribution.item_id, Contribution.body, Contribution.contributed_at)
            .where(
                Contribution.demarche_id == self.demarche_id,
                Contribution.participant_id == participant_id,
            )
            .order_by(Contribution.contributed_at, Contribution.id)
        ).all()
        return [self._contribution(*row) for row in rows]

    def compose(
        self,
        address: str,
        name: str,
        participant_id: int | None,
        delivery_id: int | None = None,
        *,
        test: bool = False,
    ) -> Letter:
        """The letter for ``address``, named ``name``, about ``participant_id``'s part (a
        ``test`` carries an unsubscription link that unsubscribes nobody)."""
        context = {
            **self.shared,
            "name": name,
            "contributions": self.contributions_of(participant_id),
            "unsubscribe_url": self.links.unsubscribe(None if test else participant_id, self.scope)
            if self.scope
            else "",
        }
        started = time.thread_time()
        field_name = "subject"
        try:
            subject = _one_line(render(self.subject, context, self.budget.for_subject()))
            field_name = "body"
            text = render(self.body, context, self.budget)
        except TEMPLATE_ERRORS as exc:  # whatever the template does wrong, budgets included
            raise InvalidFields({field_name: _template_error(exc, _THIS)}) from None
        finally:
            self.spent += time.thread_time() - started
        return Letter(
            address=address,
            subject=subject,
            text=text,
            kind=self.kind,
            scope=self.scope,
            unsubscribe_url=context["unsubscribe_url"],
            delivery_id=delivery_id,
        )

    def explain(self, refusal: DomainError) -> str:
        """A refusal in the words of the web side (French), for a delivery's record."""
        return "; ".join(self.label(message) for message in refusal.messages)

    def sliced(self) -> bool:
        """True once its renders took more than a chunk's share of the worker's time."""
        return self.spent > self.budget.seconds * SLICE_BUDGETS

    def for_recipient(self, recipient: Recipient) -> Letter:
        return self.compose(recipient.address, recipient.name, recipient.participant_id)

    def prefetch(self, delivery_ids: list[int]) -> None:
        """Read a chunk's recipients and their contributions in two queries, not two each."""
        rows = self.session.execute(
            select(
                Delivery.id,
                Delivery.address,
                Delivery.participant_id,
                Participant.name,
                User.name,
            )
            .outerjoin(Participant, Participant.id == Delivery.participant_id)
            .outerjoin(User, User.id == Delivery.user_id)
            .where(Delivery.id.in_(delivery_ids))
        ).all()
        self._recipients = {row[0]: tuple(row[1:]) for row in rows}
        participants = {row[2] for row in rows if row[2] is not None}
        self._contributions = {p: [] for p in participants}
        if participants:
            for participant_id, *values in self.session.execute(
                select(
                    Contribution.participant_id,
                    Contribution.item_id,
                    Contribution.body,
                    Contribution.contributed_at,
                )
                .where(
                    Contribution.demarche_id == self.demarche_id,
                    Contribution.participant_id.in_(participants),
                )
                .order_by(Contribution.contributed_at, Contribution.id)
            ):
                self._contributions[participant_id].append(self._contribution(*values))

    def for_delivery(self, delivery_id: int) -> Letter:
        """The letter of a delivery row; NotToSend if it should no longer go (a reminder of a
        cancelled registration, or of an event that moved since)."""
        known = self._recipients.pop(delivery_id, None)
        address, participant_id, participant_name, user_name = (
            known
            or self.session.execute(
                select(Delivery.address, Delivery.participant_id, Participant.name, User.name)
                .outerjoin(Participant, Participant.id == Delivery.participant_id)
                .outerjoin(User, User.id == Delivery.user_id)
                .where(Delivery.id == delivery_id)
            ).one()
        )
        if self.reminder_of is not None:
            self._check_reminder(participant_id)
        return self.compose(
            address, user_name or participant_name or "", participant_id, delivery_id
        )

    def _check_reminder(self, participant_id: int | None) -> None:
        self.session.commit()  # read the registrations as they are now
        event_id, key = self.reminder_of
        event = self.session.get(Event, event_id, populate_existing=True)
        if event is None or reminder_key(event) != key:
            raise NotToSend("event_moved")
        confirmed = self.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event_id,
                Registration.participant_id == participant_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        if confirmed is None:
            raise NotToSend("registration_cancelled")


def sample_recipient(
    session: Session, mailing: Mailing, address: str | None = None
) -> Recipient | None:
    """A recipient to preview the mailing for: the given address, else the first one."""
    found = recipients(session, mailing)
    if address:
        found = [r for r in found if r.address == address.strip().lower()]
    return found[0] if found else None


# -- the feedback of a démarche ----------------------------------------------------------------


def _feedback_mailing(session: Session, demarche: Demarche) -> Mailing | None:
    return session.scalar(
        select(Mailing)
        .where(
            Mailing.demarche_id == demarche.id,
            Mailing.kind == MailingKind.FEEDBACK,
            Mailing.audience == Audience.CONTRIBUTORS,
            Mailing.status != MailingStatus.CANCELLED,
        )
        .order_by(Mailing.id.desc())
        .limit(1)
    )


def send_feedback(session: Session, demarche: Demarche, *, as_of: datetime) -> Mailing:
    """On entering the feedback stage: send the feedback mailing to the contributors — the
    draft the mission prepared, else one made from the default template. Idempotent."""
    mailing = _feedback_mailing(session, demarche)
    if mailing is not None and mailing.status != MailingStatus.DRAFT:
        return mailing
    if mailing is None:
        subject, body = default_feedback()
        mailing = create_mailing(
            session,
            None,
            {
                "kind": MailingKind.FEEDBACK.value,
                "audience": Audience.CONTRIBUTORS.value,
                "demarche_id": demarche.id,
                "subject": subject,
                "body": body,
            },
            as_of=as_of,
        )
    return schedule(session, None, mailing, at=None, as_of=as_of)


def feedback_progress(session: Session, demarche: Demarche) -> int | None:
    """None when no feedback mailing went out; else how many of its messages are left."""
    mailing = _feedback_mailing(session, demarche)
    if mailing is None or mailing.status == MailingStatus.DRAFT:
        return None
    if mailing.status == MailingStatus.SENT:
        return 0
    left = counts(session, mailing.id)["to_send"]
    return max(left, 1)


# -- event reminders ---------------------------------------------------------------------------

#: Registrants are reminded this long before their event (DESIGN §3), unless the charter
#: version of the démarche says otherwise (its rule ``remind_registrants``).
REMINDER_BEFORE = timedelta(days=2)


def reminder_before(demarche: Demarche) -> timedelta:
    from .charter import rule_for

    rule = rule_for(demarche, "remind_registrants")
    if rule is None:
        return REMINDER_BEFORE
    return timedelta(days=rule.duration * (30 if rule.unit == "months" else 1))


def _longest_reminder(session: Session) -> timedelta:
    from .models import CharterRule

    longest = session.scalar(
        select(func.max(CharterRule.duration)).where(
            CharterRule.code == "remind_registrants", CharterRule.unit == "days"
        )
    )
    return max(REMINDER_BEFORE, timedelta(days=longest or 0))


def reminder_key(event: Event) -> str:
    """One reminder per event and date: a moved event gets a new one, the old one is void."""
    return f"reminder:event:{event.id}:{event.starts_at.astimezone(PARIS).isoformat()}"


def default_reminder() -> tuple[str, str]:
    text = resources.files("workflows").joinpath("data/mailings/reminder.txt").read_text("utf-8")
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def schedule_reminders(session: Session, *, as_of: datetime) -> list[int]:
    """Make and schedule the reminder of every event starting within the charter's delay
    (two days by default), once per event and date (the unique key decides between two
    sweeps running together)."""
    made = []
    subject, body = default_reminder()
    for event in session.scalars(
        select(Event)
        .where(Event.starts_at > as_of, Event.starts_at <= as_of + _longest_reminder(session))
        .order_by(Event.starts_at)
    ):
        if event.starts_at > as_of + reminder_before(event.demarche):
            continue
        key = reminder_key(event)
        if session.scalar(select(Mailing.id).where(Mailing.key == key)) is not None:
            continue
        try:
            with session.begin_nested():
                mailing = create_mailing(
                    session,
                    None,
                    {
                        "kind": MailingKind.REMINDER.value,
                        "audience": Audience.REGISTRANTS.value,
                        "demarche_id": event.demarche_id,
                        "event_id": event.id,
                        "subject": subject,
                        "body": body,
                    },
                    as_of=as_of,
                )
                mailing.key = key
                session.flush()
        except IntegrityError:
            continue  # another sweep made it meanwhile
        schedule(session, None, mailing, at=None, as_of=as_of)
        made.append(mailing.id)
    session.commit()
    return made


# -- unsubscribing and forgetting ------------------------------------------------------------


def unsubscribe(session: Session, address: str, scope: str, *, as_of: datetime) -> bool:
    """Stop the mail of ``scope`` to ``address`` (RFC 8058 one-click, or the page): the
    suppression list, the participant's consent, and what is still to send. Idempotent;
    True the first time."""
    if scope not in {s for s in SCOPES.values() if s}:
        raise InvalidFields({"scope": N_("unknown subscription")})
    address = address.strip().lower()
    new = suppress(session, address, scope, "unsubscribed", as_of)
    for participant in session.scalars(select(Participant).where(Participant.email == address)):
        if scope == "feedback" and participant.consent_feedback:
            participant.consent_feedback = False
            participant.consent_updated_at = as_of
        elif scope == "news" and participant.consent_territory_news:
            participant.consent_territory_news = False
            participant.consent_updated_at = as_of
    kinds = [kind for kind, kind_scope in SCOPES.items() if kind_scope == scope]
    session.execute(
        update(Delivery)
        .where(
            Delivery.address == address,
            # A claimed row is not sent once it is no longer claimed: a running chunk skips it.
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
            Delivery.mailing_id.in_(select(Mailing.id).where(Mailing.kind.in_(kinds))),
        )
        .values(status=DeliveryStatus.SKIPPED, skip_reason="unsubscribed", chunk=None)
        .execution_options(synchronize_session=False)
    )
    if new:
        audit.record(session, "mailing.unsubscribe", actor=None, as_of=as_of, scope=scope)
    session.flush()
    return new


def resubscribe(session: Session, address: str, scopes: list[str]) -> None:
    """The person asked again for these mails (their consent choices): lift their own
    unsubscriptions, never a hard bounce."""
    session.execute(
        delete(Suppression).where(
            Suppression.address == address.strip().lower(),
            Suppression.scope.in_(scopes),
            Suppression.reason == "unsubscribed",
        )
    )


def forget_address(session: Session, addresses: set[str]) -> None:
    """An erased person: their deliveries keep their outcome but lose the address; what was
    still to send to them will not go."""
    addresses = {a.strip().lower() for a in addresses if a}
    if not addresses:
        return
    for delivery in session.scalars(select(Delivery).where(Delivery.address.in_(addresses))):
        if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED):
            delivery.status, delivery.skip_reason = DeliveryStatus.SKIPPED, "erased"
        delivery.address = f"erased-{delivery.id}@invalid.invalid"
        delivery.error = delivery.subject = ""  # an answer may quote it, a subject name them
        delivery.participant_id = delivery.user_id = None
    session.execute(delete(Suppression).where(Suppression.address.in_(addresses)))
    session.flush()
