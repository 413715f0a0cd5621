"""The delivery engine: claiming chunks, sending them, recording each outcome."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, Update, and_, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..errors import InvalidFields
from ..models import Delivery, DeliveryStatus, Mailing, MailingStatus
from ..outbox import PermanentDeliveryError, TemporaryDeliveryError
from ..retry import FIRST_RETRY, backoff, exhausted
from ..sql import database_unavailable, execute_dml
from .letters import Composer, Letter, NotToSend
from .policy import CHUNK, CHUNK_TIME, HEARTBEAT, RECORD_BATCH
from .unsubscribing import suppress

log = logging.getLogger(__name__)


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
    taken = execute_dml(
        session,
        update(Delivery)
        .where(
            Delivery.id.in_(due.scalar_subquery()),
            Delivery.status == DeliveryStatus.PENDING,
            select(Mailing.id)
            .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING)
            .exists(),
        )
        .values(status=DeliveryStatus.CLAIMED, chunk=token, claimed_at=as_of)
        .execution_options(synchronize_session=False),
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
    yielded: bool = False  # out of time (CHUNK_TIME, or renders): the rest went back


def send_chunk(
    session: Session,
    token: str,
    opener: Opener,
    composer: Composer,
    *,
    now: Callable[[], datetime] = utcnow,
    throttle: Callable[[], None] | None = None,
    retry_after: timedelta = FIRST_RETRY,
    batch: int = RECORD_BATCH,
    until: datetime | None = None,
) -> ChunkReport:
    """Send the chunk's rows in order over one connection (reopened after a lost one).

    The rows are marked ``sending`` ``batch`` at a time, in the transaction that records the
    outcomes of the ``batch`` rows before them: a crash leaves at most ``batch`` rows in
    flight (maybe sent, never sent again). ``throttle`` is called before each message: it
    waits as long as the SMTP relay's rate needs. A deferred message (4xx) is tried again
    after ``backoff(attempts, retry_after)`` (``workflows.retry``). Once the composer has spent
    its slice of time rendering, or at ``until`` (default: ``CHUNK_TIME`` from now), the rows
    not yet attempted go back to the queue (``yielded``).
    Interrupted by an exception (a worker's soft time limit), it records what it knows and
    gives back the rows not yet attempted — and the row in flight if its message had not
    left — before letting it go on.
    """
    ids = list(
        session.scalars(select(Delivery.id).where(Delivery.chunk == token).order_by(Delivery.id))
    )
    report = ChunkReport()
    composer.prefetch(ids)
    session.commit()  # end the read (keep what prefetch made): from now on the ledger writes
    ledger = _Ledger(session, token)
    try:
        return _send_rows(
            session,
            ledger,
            ids,
            opener,
            composer,
            now,
            throttle,
            report,
            retry_after,
            batch,
            until or now() + CHUNK_TIME,
        )
    except Exception:  # a time limit, a lost database: what was not attempted goes back
        with contextlib.suppress(Exception):  # (if the database is what failed: the sweep)
            ledger.settle(now())
            ledger.give_back()
        raise
    finally:
        ledger.close()


def _send_rows(
    session: Session,
    ledger: _Ledger,
    ids: list[int],
    opener: Opener,
    composer: Composer,
    now: Callable[[], datetime],
    throttle: Callable[[], None] | None,
    report: ChunkReport,
    retry_after: timedelta,
    batch: int,
    until: datetime,
) -> ChunkReport:
    position = 0
    covered: set[int] = set()  # the rows of the last batch marked (some may not be ours)
    while position < len(ids) and not report.yielded:
        ledger.settle(now())  # a new connection starts a new batch
        covered = set()
        try:
            context = opener()
            connection = context.__enter__()
        except Exception as exc:  # noqa: BLE001 - the relay is down: give the rest back
            report.unreachable = f"relay unreachable: {type(exc).__name__}: {exc}"[:500]
            release(session, ledger.token, now(), report.unreachable, retry_after)
            return report
        try:
            while position < len(ids):
                if throttle is not None:
                    throttle()  # (its wait counts in the chunk's time)
                if composer.sliced() or now() >= until:
                    report.yielded = True  # the rest goes back, the mailing to the queue's end
                    break
                delivery_id = ids[position]
                position += 1
                ledger.heartbeat(now())
                if delivery_id not in covered:
                    window = ids[position - 1 : position - 1 + max(batch, 1)]
                    covered = set(window)
                    ledger.begin(window, now())
                attempts = ledger.take(delivery_id)
                if attempts is None:
                    report.skipped += 1
                    continue
                try:
                    letter = composer.for_delivery(delivery_id)
                except NotToSend as exc:
                    ledger.done(
                        Outcome(
                            delivery_id,
                            {
                                "status": DeliveryStatus.SKIPPED,
                                "skip_reason": exc.reason,
                                "chunk": None,
                            },
                        )
                    )
                    report.skipped += 1
                    continue
                except InvalidFields as exc:  # the template fails for this recipient
                    ledger.done(
                        Outcome(
                            delivery_id,
                            {
                                "status": DeliveryStatus.FAILED,
                                "error": composer.explain(exc)[:2000],
                                "chunk": None,
                            },
                        )
                    )
                    report.failed += 1
                    continue
                except Exception:  # interrupted (a time limit): its message has not left
                    ledger.put_back(delivery_id, attempts)
                    raise
                try:
                    message_id = connection.send(letter)
                except PermanentDeliveryError as exc:
                    code = getattr(exc, "code", None)
                    ledger.done(
                        Outcome(
                            delivery_id,
                            {
                                "status": DeliveryStatus.REFUSED,
                                "smtp_code": code,
                                "error": str(exc)[:2000],
                                "chunk": None,
                            },
                            (letter.address, str(exc)) if exc.mailbox_unknown else None,
                        )
                    )
                    report.refused += 1
                except TemporaryDeliveryError as exc:
                    give_up = exhausted(attempts)
                    ledger.done(
                        Outcome(
                            delivery_id,
                            {
                                "status": DeliveryStatus.FAILED
                                if give_up
                                else DeliveryStatus.PENDING,
                                "next_attempt_at": now() + backoff(attempts, retry_after),
                                "smtp_code": getattr(exc, "code", None),
                                "error": str(exc)[:2000],
                                "chunk": None,
                            },
                        )
                    )
                    if give_up:
                        report.failed += 1
                    else:
                        report.retry += 1
                    if getattr(exc, "connection_lost", False):
                        break  # open a new connection for the rest of the chunk
                else:
                    ledger.done(
                        Outcome(
                            delivery_id,
                            {
                                "status": DeliveryStatus.SENT,
                                "message_id": message_id,
                                "subject": letter.subject[:300],
                                "body": letter.text,
                                "sent_at": now(),
                                "error": "",
                                "chunk": None,
                            },
                        )
                    )
                    report.sent += 1
        finally:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                context.__exit__(None, None, None)
    ledger.settle(now())
    if report.yielded:
        ledger.give_back()
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
DELIVERIES = Delivery.__table__
#: The rows of a batch: the chunk's rows between two ids (a statement the same every time).
_MARK_SENDING = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id.between(bindparam("first"), bindparam("last")),
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(
        status=DeliveryStatus.SENDING,
        claimed_at=bindparam("at"),
        attempts=DELIVERIES.c.attempts + 1,
    )
    .returning(DELIVERIES.c.id, DELIVERIES.c.attempts)
)
#: A running chunk's claim, renewed: its rows waiting and its rows marked in flight.
_RENEW_CLAIM = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status.in_((DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)),
    )
    .values(claimed_at=bindparam("at"))
)
_GIVE_BACK = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(status=DeliveryStatus.PENDING, chunk=None)
)
#: Rows marked in flight whose messages were not tried: back with the rest, not counted.
_UNMARK = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id.in_(bindparam("rows", expanding=True)),
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.SENDING,
    )
    .values(status=DeliveryStatus.CLAIMED, attempts=DELIVERIES.c.attempts - 1)
)


@functools.cache
def _recorder(columns: frozenset[str]) -> Update:
    """The UPDATE that records an outcome setting ``columns`` (one per kind of outcome)."""
    return (
        update(DELIVERIES)
        .where(DELIVERIES.c.id == bindparam("done_row"))
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
    )


def release(
    session: Session, token: str, at: datetime, error: str, retry_after: timedelta = FIRST_RETRY
) -> None:
    """The SMTP relay could not be reached: the chunk's rows not yet attempted go back to
    the queue, each with one more attempt and its backoff (failed after the last one)."""
    session.rollback()  # a fresh transaction (the ledger wrote meanwhile)
    claimed = and_(Delivery.chunk == token, Delivery.status == DeliveryStatus.CLAIMED)
    for attempts in session.scalars(select(Delivery.attempts).where(claimed).distinct()).all():
        give_up = exhausted(attempts + 1)
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
    """Where a chunk writes its progress, a batch at a time, each batch one transaction:
    the outcomes of the messages tried since the last batch, and the next rows marked in
    flight before their messages leave (up to ``batch`` of them). A crash leaves at most
    those rows in flight: the sweep calls them uncertain (maybe sent, never sent again).

    When the database goes away (a restart), a transaction is tried again on a new
    connection for up to PATIENCE seconds: the outcomes of the messages that just left are
    not lost, so a restart of a few seconds leaves nothing uncertain. (Should a transaction
    have committed but its answer been lost, its rows are found marked already and skipped:
    left in flight, they are called uncertain later, though never sent.) Past PATIENCE the
    error goes up: the task is retried, and the sweep settles the chunk once its claim is
    stale."""

    PATIENCE = 20.0

    def __init__(self, session: Session, token: str) -> None:
        self.session = session
        self.token = token
        self.renewed: datetime | None = None  # when the claim was last renewed
        self.outcomes: list[Outcome] = []  # known, not yet written
        self.marked: dict[int, int] = {}  # in flight, not yet tried: row → its attempts
        engine = session.get_bind()
        # Marks go through a connection of their own, so the session is bound to an engine
        # (the app's; never to a connection).
        assert isinstance(engine, Engine)
        self.engine = engine
        self.connection: Any = None
        self._connect()

    def _connect(self) -> None:
        self.connection = self.engine.connect()

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # a connection the database dropped
                self.connection.close()

    def _run(self, unit: Callable[[Any], Any]) -> Any:
        """``unit(connection)`` in one transaction, tried again while the database is away."""
        deadline = time.monotonic() + self.PATIENCE
        pause = 0.1
        while True:
            try:
                if self.connection is None:
                    self._connect()
                with self.connection.begin():
                    return unit(self.connection)
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

    def _write(self, connection: Any, outcomes: list[Outcome]) -> None:
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for outcome in outcomes:
            groups.setdefault(frozenset(outcome.values), []).append(_recorded(outcome))
        for columns, rows in groups.items():
            connection.execute(_recorder(columns), rows)

    def _suppress(self, outcomes: list[Outcome], at: datetime) -> None:
        for outcome in outcomes:
            if outcome.suppress is not None:
                self.session.rollback()  # a fresh transaction, that sees what was written
                address, detail = outcome.suppress
                suppress(self.session, address, "all", "hard_bounce", at, detail=detail)
                self.session.commit()

    def begin(self, rows: list[int], at: datetime) -> None:
        """Write the outcomes known so far and mark ``rows`` in flight (those still this
        chunk's: not cancelled, not swept), in one transaction. ``rows``: the chunk's rows
        from one to another, in order."""
        outcomes, self.outcomes = self.outcomes, []

        def unit(connection: Any) -> dict[int, int]:
            self._write(connection, outcomes)
            marks = {"first": rows[0], "last": rows[-1], "token": self.token, "at": at}
            return dict(connection.execute(_MARK_SENDING, marks).all())

        self.marked = self._run(unit)
        self._suppress(outcomes, at)

    def heartbeat(self, at: datetime) -> None:
        """Renew the chunk's claim (its rows waiting and in flight) every HEARTBEAT: a slow
        relay's chunk is never taken for a dead worker's."""
        if self.renewed is None:
            self.renewed = at  # the claim was just made
        elif at - self.renewed >= HEARTBEAT:
            self.renewed = at
            self._run(lambda c: c.execute(_RENEW_CLAIM, {"token": self.token, "at": at}))

    def take(self, delivery_id: int) -> int | None:
        """The attempts of a row marked in flight, whose message is about to be tried (None:
        the row is no longer this chunk's)."""
        return self.marked.pop(delivery_id, None)

    def put_back(self, delivery_id: int, attempts: int) -> None:
        """A row taken whose message did not leave (interrupted while composing)."""
        self.marked[delivery_id] = attempts

    def done(self, outcome: Outcome) -> None:
        """A message tried: its outcome is written with the next batch (or at the end)."""
        self.outcomes.append(outcome)

    def settle(self, at: datetime) -> None:
        """Write the outcomes known and put the rows marked but not tried back with the
        rest of the chunk (claimed, their attempt not counted)."""
        outcomes, self.outcomes = self.outcomes, []
        untried, self.marked = list(self.marked), {}
        if not outcomes and not untried:
            return

        def unit(connection: Any) -> None:
            self._write(connection, outcomes)
            if untried:
                connection.execute(_UNMARK, {"rows": untried, "token": self.token})

        self._run(unit)
        self._suppress(outcomes, at)

    def give_back(self) -> None:
        """The chunk's rows not yet attempted go back to the queue, due as they were."""
        self._run(lambda connection: connection.execute(_GIVE_BACK, {"token": self.token}))


def _recorded(outcome: Outcome) -> dict[str, Any]:
    return {"done_row": outcome.delivery_id, **{f"new_{k}": v for k, v in outcome.values.items()}}
