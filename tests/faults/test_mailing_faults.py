"""A mailing of 300 recipients through real processes — a Celery worker and the beat on a
private PostgreSQL and a private Redis, an SMTP sink in its own process — and, mid-mailing,
one fault each: the worker killed with SIGKILL then restarted, Redis restarted (its queue
lost), PostgreSQL restarted, the SMTP relay answering 4xx for a while. Each ends with the
mailing ``sent`` and every recipient served exactly once according to the sink, but for the
rows reported ``uncertain`` (served at most once, at most a batch of them: BATCH, the rows
a chunk marks in flight at once, ``MAILING_RECORD_BATCH``).

Nothing here sleeps for a deadline: the tests wait for effects of the other processes
(messages in the sink, a log line, a status) with ``wait_for``. The relay's refusal is
compressed in time, honestly — see ``test_the_relay_refusing_with_4xx_for_a_minute``.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from backoffice.extensions import db
from tests.processes import Sink, start_beat, start_worker, wait_for
from tests.support import free_port
from tests.workers.test_mailing_worker import citizens, contributors, send
from workflows import mailings
from workflows.models import Delivery, DeliveryStatus, Mailing, MailingStatus

pytestmark = [pytest.mark.fault, pytest.mark.worker]

RECIPIENTS = 300
BATCH = mailings.RECORD_BATCH  # the default of MAILING_RECORD_BATCH, which the workers use


class Stack:
    """The sink, the worker(s) and the beat of one test; everything stopped at the end."""

    def __init__(self, app, tmp_path, worker_env) -> None:
        self.app, self.tmp_path, self.worker_env = app, tmp_path, worker_env
        self.processes: list = []
        self.sink: Sink | None = None
        self.env: dict[str, str] = {}

    def start(self, script: dict, **env: str) -> None:
        self.sink = Sink(free_port(), self.tmp_path, script)
        self.processes.append(self.sink)
        self.env = self.worker_env(
            MAIL_PORT=str(self.sink.port),
            MAILING_RATE="0",
            MAILING_CHUNK="25",
            MAILING_PARALLEL="2",
            **env,
        )
        self.worker = self.start_worker()
        self.beat = start_beat(self.env, self.tmp_path)
        self.processes.append(self.beat)

    def start_worker(self):
        worker = start_worker(self.env)
        self.processes.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {p.process.args[:6]}\n{p.log()}" for p in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def stack(app, tmp_path, worker_env):
    app.config["OUTBOX_DISPATCH"] = "celery"  # the test's commits hand their tasks over
    running = Stack(app, tmp_path, worker_env)
    yield running
    app.config["OUTBOX_DISPATCH"] = "none"
    running.stop()


def read(query):
    """What the workers committed; None while the database is away (a test polls again)."""
    try:
        db.session.rollback()
        return db.session.execute(query)
    except DBAPIError:
        db.session.rollback()
        return None


def is_sent(mailing_id: int) -> bool:
    result = read(select(Mailing.status).where(Mailing.id == mailing_id))
    return result is not None and result.scalar_one() == MailingStatus.SENT


def mid_mailing(stack: Stack, received: int = 60) -> None:
    assert wait_for(lambda: len(citizens(stack.sink)) >= received, 60), stack.logs()
    assert len(citizens(stack.sink)) < RECIPIENTS  # the fault comes while sending


def served_once(stack: Stack, mailing_id: int) -> list[str]:
    """Every recipient served exactly once by the sink, but the uncertain rows (at most
    once, at most a batch); returns the uncertain addresses."""
    rows = {
        row.address: row
        for row in read(select(Delivery).where(Delivery.mailing_id == mailing_id)).scalars()
    }
    received = Counter(r["to"][0] for r in citizens(stack.sink))
    uncertain = [a for a, row in rows.items() if row.status == DeliveryStatus.UNCERTAIN]
    assert len(rows) == RECIPIENTS and len(uncertain) <= BATCH, uncertain
    for address, row in rows.items():
        if row.status == DeliveryStatus.UNCERTAIN:
            assert received[address] <= 1, address
        else:
            assert row.status == DeliveryStatus.SENT, (address, row.status, row.error)
            assert received[address] == 1, address
    assert set(received) <= set(rows) and max(received.values()) == 1
    return uncertain


def test_a_worker_killed_mid_mailing_is_replaced_and_its_chunk_goes_out_within_a_minute(
    make_demarche, people, stack
):
    stack.start({"delay": 0.01})
    d = contributors(make_demarche, RECIPIENTS)
    mailing_id = send(people, d)
    mid_mailing(stack)
    stack.worker.kill()  # SIGKILL: no acknowledgement, no cleanup, a message maybe half sent
    sent_before = Counter(r["to"][0] for r in citizens(stack.sink))
    in_flight = read(
        select(Delivery.address).where(
            Delivery.mailing_id == mailing_id, Delivery.status == DeliveryStatus.SENDING
        )
    ).scalars()
    in_flight = sorted(in_flight)
    # One worker, one chunk: at most a batch in flight — the messages sent since the last
    # batch was written, the one leaving, and those marked to follow.
    assert len(in_flight) <= BATCH, in_flight
    # Every message the sink had before the kill is recorded sent or in flight: none lost.
    recorded = read(
        select(Delivery.address).where(
            Delivery.mailing_id == mailing_id,
            Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.SENDING)),
        )
    ).scalars()
    assert set(sent_before) <= set(recorded)

    stack.worker = stack.start_worker()  # as a supervisor restarts it
    restarted = time.monotonic()
    assert wait_for(lambda: is_sent(mailing_id), 120), stack.logs()
    elapsed = time.monotonic() - restarted
    print(f"\nworker SIGKILLed mid-mailing: sent {elapsed:.1f} s after the new worker started")
    assert elapsed < 60  # the dead claim is stale after 30 s, the sweep runs every 15 s
    uncertain = served_once(stack, mailing_id)  # nobody served twice
    assert sorted(uncertain) == in_flight  # those in flight, never sent again
    print(f"uncertain after the kill: {len(uncertain)} (at most {BATCH})")


def test_redis_restarted_mid_mailing_loses_the_queue_and_the_sweep_hands_it_out_again(
    make_demarche, people, stack, private_redis
):
    stack.start({"delay": 0.01})
    d = contributors(make_demarche, RECIPIENTS)
    mailing_id = send(people, d)
    mid_mailing(stack)
    private_redis.stop()  # without persistence: the queued chunks are lost
    assert wait_for(
        lambda: (
            "Connection to broker lost" in stack.worker.log()
            or "Cannot connect to redis" in stack.worker.log()
        ),
        60,
    ), stack.logs()
    private_redis.start()
    restarted = time.monotonic()
    assert Redis.from_url(private_redis.url).llen("celery") == 0  # the queue is gone

    assert wait_for(lambda: is_sent(mailing_id), 120), stack.logs()
    print(f"\nRedis restarted mid-mailing: sent {time.monotonic() - restarted:.1f} s later")
    assert served_once(stack, mailing_id) == []  # nobody died: nothing uncertain


def test_postgresql_restarted_mid_mailing(make_demarche, people, stack, private_postgres):
    stack.start({"delay": 0.01})
    d = contributors(make_demarche, RECIPIENTS)
    mailing_id = send(people, d)
    mid_mailing(stack)
    private_postgres.restart("fast")  # every connection of the worker is cut
    restarted = time.monotonic()

    assert wait_for(lambda: is_sent(mailing_id), 120), stack.logs()
    print(f"\nPostgreSQL restarted mid-mailing: sent {time.monotonic() - restarted:.1f} s later")
    uncertain = served_once(stack, mailing_id)
    print(f"uncertain after the restart: {len(uncertain)}")
    # The restart was met: by a chunk's ledger (it waits for the database) or a task (retried).
    waited = sum("the database does not answer" in line for line in stack.worker.lines)
    retried = sum("the database failed" in line for line in stack.worker.lines)
    print(f"ledger statements tried again: {waited}, tasks retried: {retried}")
    assert waited + retried > 0, stack.logs()


#: Time compressed 20 times for the 4xx test: the relay refuses for 60/20 = 3 s of its own
#: clock, the engine's first retry comes 60/20 = 3 s after a refusal (MAILING_RETRY_AFTER,
#: 60 s in production) and the beat sweeps every 15/20 = 0.75 s (15 s in production).
SCALE = 20


def test_the_relay_refusing_with_4xx_for_a_minute(make_demarche, people, stack):
    """« A minute » of 451 without sleeping a minute: every duration of the story is divided by
    SCALE — the refusal (the sink's own clock), the engine's backoff and the sweep's period —
    so the relations that matter hold as in production: the first retry comes after the
    refusal started, later ones double, eight attempts span far longer than the refusal."""
    stack.start(
        {
            "delay": 0.01,
            "defer_window": {
                "after": 60,
                "seconds": 60 / SCALE,
                "answer": "451 4.3.2 System not accepting messages, try later",
            },
        },
        MAILING_RETRY_AFTER=str(60 / SCALE),
        MAILING_SWEEP_SECONDS=str(15 / SCALE),
    )
    d = contributors(make_demarche, RECIPIENTS)
    mailing_id = send(people, d)
    assert wait_for(lambda: "defer window opened" in stack.sink.log(), 60), stack.logs()
    opened = time.monotonic()

    assert wait_for(lambda: is_sent(mailing_id), 120), stack.logs()
    refused = int(stack.sink.log().split("defer window closed after ")[1].split()[0])
    print(
        f"\nrelay answering 451 for {60 / SCALE:.0f} s (a minute / {SCALE}): {refused} "
        f"messages deferred, sent {time.monotonic() - opened:.1f} s after the first refusal"
    )
    assert refused > 0
    assert served_once(stack, mailing_id) == []
    deferred = read(
        select(Delivery.attempts, Delivery.smtp_code).where(
            Delivery.mailing_id == mailing_id, Delivery.attempts > 1
        )
    ).all()
    # Each refusal was recorded and the message tried again later, then delivered once.
    assert sum(attempts - 1 for attempts, _ in deferred) == refused
    assert {code for _, code in deferred} == {451}
    assert mailings.counts(db.session, mailing_id)["failed"] == 0
