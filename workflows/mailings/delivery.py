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
from .policy import CHUNK, HEARTBEAT
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
    yielded: bool = False  # its renders took its share of time: the rest went back


def send_chunk(
    session: Session,
    token: str,
    opener: Opener,
    composer: Composer,
    *,
    now: Callable[[], datetime] = utcnow,
    throttle: Callable[[], None] | None = None,
    retry_after: timedelta = FIRST_RETRY,
) -> ChunkReport:
    """Send the chunk's rows in order over one connection (reopened after a lost one).

    Each row is marked ``sending`` in the commit that records the previous row's outcome:
    a crash leaves at most that one row in flight. ``throttle`` is called before each
    message: it waits as long as the SMTP relay's rate needs. A deferred message (4xx) is
    tried again after ``backoff(attempts, retry_after)`` (``workflows.retry``). Once the
    composer has spent its slice of time rendering, the rows not yet attempted go back to the
    queue (``yielded``).
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
            release(session, token, now(), report.unreachable, retry_after)
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
                    give_up = exhausted(attempts)
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
                            "body": letter.text,
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
DELIVERIES = Delivery.__table__
_MARK_SENDING = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id == bindparam("row"),
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.CLAIMED,
    )
    .values(
        status=DeliveryStatus.SENDING,
        claimed_at=bindparam("at"),
        attempts=DELIVERIES.c.attempts + 1,
    )
    .returning(DELIVERIES.c.attempts)
)


_RENEW_CLAIM = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.CLAIMED,
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
_UNMARK = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.id == bindparam("row"),
        DELIVERIES.c.chunk == bindparam("token"),
        DELIVERIES.c.status == DeliveryStatus.SENDING,
    )
    .values(status=DeliveryStatus.CLAIMED)
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
        engine = session.get_bind()
        # Marks go through a connection of their own, so the session is bound to an engine
        # (the app's; never to a connection).
        assert isinstance(engine, Engine)
        self.engine = engine
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
