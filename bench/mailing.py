"""Bench: a feedback mailing to 10,000 contributors through the real Celery worker (Redis
broker) into an SMTP sink running in another process. Prints messages/s, the worker's peak
memory, and the ratio to a bare ``smtplib`` loop sending the same rendered messages over one
connection (to a second sink of the same kind), measured in the same run.

    make bench-mailing                                        # SQLite, Redis on REDIS_URL
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench make bench-mailing

Environment: RECIPIENTS (10000), WORKER_CONCURRENCY (4; prefork processes), MAILING_PARALLEL
(the chunks of one mailing sent at once; default the concurrency), MAILING_CHUNK (100).
Not a test: it prints figures, it asserts nothing. Target: at least half the baseline's rate,
with every delivery recorded.
"""

from __future__ import annotations

import os
import smtplib
import sys
import tempfile
import time
from pathlib import Path

from _setup import bench_app, bench_people, consultation

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import Sink, start_worker, wait_for  # noqa: E402
from tests.seed import seed_contributors  # noqa: E402
from tests.support import free_port  # noqa: E402

RECIPIENTS = int(os.environ.get("RECIPIENTS", "10000"))
CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY", "4"))
POOL = os.environ.get("WORKER_POOL", "prefork" if CONCURRENCY > 1 else "solo")
PARALLEL = int(os.environ.get("MAILING_PARALLEL", str(CONCURRENCY)))
CHUNK = int(os.environ.get("MAILING_CHUNK", "100"))
LIGHT = {"parse": False}  # the sinks do the least per message: the figures are the sender's


def peak_memory_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of a process and, summed, of its children."""

    def hwm(p: int) -> float:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return hwm(pid) + sum(hwm(k) for k in kids)


def main() -> None:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    from sqlalchemy import func, select

    from backoffice.extensions import db
    from backoffice.outgoing import mailer
    from workflows import after_commit, mailings
    from workflows.clock import utcnow
    from workflows.decisions import decide
    from workflows.models import Delivery, Mailing, MailingStatus
    from workflows.syntheses import build, versions
    from workflows.transitions import transition

    app = bench_app("mailing")
    work = Path(tempfile.mkdtemp(prefix="bench-mailing-"))
    with app.app_context():
        mission = bench_people()
        d = consultation(mission, "Retour à 10 000 participants")
        started = time.perf_counter()
        seed_contributors(db.session, d, RECIPIENTS, as_of=utcnow(), per_person=2)
        db.session.commit()
        print(f"{RECIPIENTS} contributors seeded in {time.perf_counter() - started:.1f} s")
        # The feedback stage, through the one transition function: decisions on every item,
        # the synthesis published; entering it makes the feedback mailing (scheduled).
        transition(db.session, d.id, "synthesis", actor=mission, as_of=utcnow(), comment="Fin")
        synthesis = build.build(db.session, d, actor=mission, as_of=utcnow())
        versions.edit(db.session, mission, synthesis, introduction="Synthèse.", as_of=utcnow())
        versions.validate(db.session, mission, synthesis, as_of=utcnow())
        versions.publish(db.session, mission, synthesis, as_of=utcnow())
        for item in d.items:
            decide(
                db.session,
                mission,
                item,
                outcome="partly_retained",
                justification="Retenu pour les communes rurales d'abord.",
                as_of=utcnow(),
            )
        transition(db.session, d.id, "feedback", actor=mission, as_of=utcnow())
        [mailing_id] = [
            job.args[0]
            for job in after_commit.pending(db.session)
            if job.task == after_commit.START_MAILING
        ]
        db.session.commit()
        mailing = db.session.get(Mailing, mailing_id)

        # The baseline: the same messages, rendered beforehand, through one smtplib connection.
        composer = mailer.composer(db.session, mailing)
        rendered = [
            (r.address, mailer.build(composer.for_recipient(r)).as_bytes())
            for r in mailings.recipients(db.session, mailing)
        ]
        baseline_sink = Sink(free_port(), work, LIGHT)
        try:
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", baseline_sink.port) as smtp:
                for to, message in rendered:
                    smtp.sendmail("bench@dialogue.test", [to], message)
            baseline = time.perf_counter() - started
        finally:
            baseline_sink.stop()
        print(
            f"baseline: bare smtplib loop, one connection: {len(rendered)} messages in "
            f"{baseline:.1f} s = {len(rendered) / baseline:.0f} msg/s"
        )

        sink = Sink(free_port(), work, LIGHT)
        worker = start_worker(
            {
                "DIALOGUE_ENV": "development",
                "SECRET_KEY": app.config["SECRET_KEY"],
                "DATABASE_URL": app.config["BENCH_DATABASE_URL"],
                "REDIS_URL": os.environ["REDIS_URL"],
                "MAIL_PORT": str(sink.port),
                "MAILING_RATE": "0",
                "MAILING_PARALLEL": str(PARALLEL),
                "MAILING_CHUNK": str(CHUNK),
                "INSTANCE_PATH": str(work),
                "OUTBOX_DISPATCH": "celery",
            },
            pool=POOL,
            concurrency=CONCURRENCY,
        )
        try:
            started, published_at = time.perf_counter(), utcnow()
            app.extensions["celery"].send_task("workers.start_mailing", args=[mailing_id])

            def done() -> bool:
                db.session.rollback()
                return db.session.get(Mailing, mailing_id).status == MailingStatus.SENT

            finished = wait_for(done, timeout=3600)
            elapsed = time.perf_counter() - started
            memory = peak_memory_mb(worker.pid)
        finally:
            worker.stop()
            sink.stop()
        counts = mailings.counts(db.session, mailing_id)
        row = db.session.get(Mailing, mailing_id)
        first_sent = db.session.scalar(
            select(func.min(Delivery.sent_at)).where(Delivery.mailing_id == mailing_id)
        )
        phases = (
            f"publish → rows written: {(row.started_at - published_at).total_seconds():.1f} s, "
            f"→ first sent: {(first_sent - published_at).total_seconds():.1f} s, "
            f"→ all sent: {(row.finished_at - published_at).total_seconds():.1f} s"
        )
        arrived = len(sink.records())
        dialect = db.engine.dialect.name
    rate, base_rate = counts["sent"] / elapsed, len(rendered) / baseline
    print(
        f"worker ({CONCURRENCY} × {POOL}, chunks of {CHUNK},"
        f" {PARALLEL} at once, {dialect}): {counts['sent']} messages in "
        f"{elapsed:.1f} s = {rate:.0f} msg/s{'' if finished else ' (NOT FINISHED)'}"
    )
    print(phases)
    print(f"deliveries recorded: {counts}; messages in the sink: {arrived}")
    print(f"worker peak memory (main + children, VmHWM): {memory:.0f} MB")
    print(f"ratio to the bare smtplib loop: {rate / base_rate:.2f} (target ≥ 0.5)")


if __name__ == "__main__":
    main()
