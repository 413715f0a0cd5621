"""Bench: a feedback mailing to 10,000 contributors through the real Celery mailing worker
(``-Q mailings``, Redis broker) into an SMTP sink running in another process. Prints
messages/s and its ratio to a bare ``smtplib`` loop sending the same rendered messages over
one connection (to a second sink of the same kind); and the worker's memory (peak resident,
its processes summed) and its ratio to the former worker (prefork, 4 processes, every queue)
at rest; both baselines measured in the same run, with the CPU each side spent.

    make bench-mailing                                        # SQLite, Redis on REDIS_URL
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench make bench-mailing

Environment: RECIPIENTS (10000), WORKER_POOL (threads), WORKER_CONCURRENCY (4), MAILING_PARALLEL
(the chunks of one mailing sent at once; default the concurrency), MAILING_CHUNK (500),
MAILING_RECORD_BATCH (10). Not a test: it prints figures, it asserts nothing. Targets: 0.8 of
the baseline's rate with every delivery recorded, under 300 MB.
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
POOL = os.environ.get("WORKER_POOL", "threads")
BATCH = os.environ.get("MAILING_RECORD_BATCH", "10")
PARALLEL = int(os.environ.get("MAILING_PARALLEL", str(CONCURRENCY)))
CHUNK = int(os.environ.get("MAILING_CHUNK", "500"))
LIGHT = {"parse": False}  # the sinks do the least per message: the figures are the sender's


def _tree(pid: int) -> list[int]:
    """A process and its children (a prefork pool's processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *kids]


def _status(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """The resident memory of a process and its children, summed: peak (VmHWM) or now (VmRSS)."""
    return sum(_status(p, field) for p in _tree(pid))


def pss_mb(pid: int) -> float:
    """The proportional memory of a process and its children now (pages shared between them
    counted once in all): what the machine spends, where the resident sum counts a prefork
    pool's shared pages in every process."""
    total = 0.0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process and its children spent so far."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def smtplib_loop(rendered: list[tuple[str, bytes]], work: Path) -> tuple[float, tuple]:
    """The baseline: the rendered messages through one ``smtplib`` connection to a sink of
    their own; (seconds, (CPU seconds of the loop, of the sink))."""
    sink = Sink(free_port(), work, LIGHT)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        sink_cpu = cpu_seconds(sink.pid)
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for to, message in rendered:
                smtp.sendmail("bench@dialogue.test", [to], message)
        elapsed = time.perf_counter() - started
        return elapsed, (time.process_time() - cpu, cpu_seconds(sink.pid) - sink_cpu)
    finally:
        sink.stop()


def at_rest_mb(worker) -> float:
    """A worker's resident memory once its pool is up and idle."""
    wait_for(lambda: False, timeout=3)  # its pool's processes finish starting
    return memory_mb(worker.pid, "VmRSS")


def main() -> None:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    from sqlalchemy import func, select

    from backoffice.extensions import db
    from backoffice.outgoing import mailer
    from workflows import after_commit, mailings
    from workflows.clock import utcnow
    from workflows.decisions import decide
    from workflows.models import Delivery, DeliveryStatus, Mailing, MailingStatus
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
        print(f"load average before the runs: {os.getloadavg()[0]:.1f}")
        first_baseline = smtplib_loop(rendered, work)
        env = {
            "DIALOGUE_ENV": "development",
            "SECRET_KEY": app.config["SECRET_KEY"],
            "DATABASE_URL": app.config["BENCH_DATABASE_URL"],
            "REDIS_URL": os.environ["REDIS_URL"],
            "MAILING_RATE": "0",
            "MAILING_PARALLEL": str(PARALLEL),
            "MAILING_CHUNK": str(CHUNK),
            "MAILING_RECORD_BATCH": BATCH,
            "INSTANCE_PATH": str(work),
            "OUTBOX_DISPATCH": "celery",
        }
        # The memory baseline: the former worker (prefork, 4 processes, every queue) at rest.
        former = start_worker(env, pool="prefork", concurrency=4)
        try:
            former_mb = at_rest_mb(former)
        finally:
            former.stop()

        sink = Sink(free_port(), work, LIGHT)
        worker = start_worker(
            {**env, "MAIL_PORT": str(sink.port)},
            pool=POOL,
            concurrency=CONCURRENCY,
            queues="mailings",
        )
        try:
            resting = at_rest_mb(worker)
            cpu = (cpu_seconds(worker.pid), cpu_seconds(sink.pid))
            started, published_at = time.perf_counter(), utcnow()
            app.extensions["celery"].send_task("workers.start_mailing", args=[mailing_id])

            def done() -> bool:
                db.session.rollback()
                return db.session.get(Mailing, mailing_id).status == MailingStatus.SENT

            finished = wait_for(done, timeout=3600)
            elapsed = time.perf_counter() - started
            cpu = (cpu_seconds(worker.pid) - cpu[0], cpu_seconds(sink.pid) - cpu[1])
            memory, proportional = memory_mb(worker.pid), pss_mb(worker.pid)
        finally:
            worker.stop()
            sink.stop()
        counts = mailings.counts(db.session, mailing_id)
        row = db.session.get(Mailing, mailing_id)
        first_sent = db.session.scalar(
            select(func.min(Delivery.sent_at)).where(Delivery.mailing_id == mailing_id)
        )
        recorded = db.session.scalar(
            select(func.count()).where(
                Delivery.mailing_id == mailing_id,
                Delivery.message_id.is_not(None),
                Delivery.sent_at.is_not(None),
                Delivery.body != "",
            )
        )
        phases = (
            f"publish → rows written: {(row.started_at - published_at).total_seconds():.1f} s, "
            f"→ first sent: {(first_sent - published_at).total_seconds():.1f} s, "
            f"→ all sent: {(row.finished_at - published_at).total_seconds():.1f} s"
        )
        arrived = len(sink.records())
        # The survey follows the feedback: its first chunk may leave before the worker stops.
        survey_sent = db.session.scalar(
            select(func.count()).where(
                Delivery.mailing_id != mailing_id, Delivery.status == DeliveryStatus.SENT
            )
        )
        dialect = db.engine.dialect.name
    # The baseline again after the worker: the machine's load moves (other work shares its
    # two cores), and the faster of the two is the one the worker is held to.
    baseline, base_cpu = min(first_baseline, smtplib_loop(rendered, work))
    sent = counts["sent"]
    rate, base_rate = sent / elapsed, len(rendered) / baseline
    print(
        f"baseline: bare smtplib loop, one connection, the faster of a run before and one after "
        f"the worker's: {len(rendered)} messages in {baseline:.1f} s = {base_rate:.0f} msg/s "
        f"(CPU per message: loop {base_cpu[0] / len(rendered) * 1000:.2f} ms, "
        f"sink {base_cpu[1] / len(rendered) * 1000:.2f} ms)"
    )
    print(
        f"worker (-Q mailings, {CONCURRENCY} × {POOL}, chunks of {CHUNK}, {PARALLEL} at once, "
        f"recorded {BATCH} at a time, {dialect}): {sent} messages in "
        f"{elapsed:.1f} s = {rate:.0f} msg/s{'' if finished else ' (NOT FINISHED)'} "
        f"(CPU per message: worker {cpu[0] / max(sent, 1) * 1000:.2f} ms, "
        f"sink {cpu[1] / max(sent, 1) * 1000:.2f} ms)"
    )
    print(phases)
    print(
        f"deliveries recorded: {counts}; with Message-ID, sent_at and body: {recorded}; "
        f"messages in the sink: {arrived} (of the survey that follows: {survey_sent})"
    )
    print(
        f"memory: the mailing worker {memory:.0f} MB at its peak ({resting:.0f} MB at rest; "
        f"resident, its processes summed; proportional at the end: {proportional:.0f} MB); the "
        f"former worker (4 × prefork, every queue) at rest: {former_mb:.0f} MB"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average of the machine (1, 5, 15 min): {load}")
    print(f"ratio to the bare smtplib loop: {rate / base_rate:.2f} (target ≥ 0.8)")
    per_base = sum(base_cpu) / len(rendered)
    per_worker = sum(cpu) / max(sent, 1)
    print(
        f"CPU a message costs, sender and sink (the load does not move it): "
        f"{per_worker * 1000:.2f} ms against the loop's {per_base * 1000:.2f} ms, "
        f"ratio {per_base / per_worker:.2f} (PostgreSQL's and Redis's not counted)"
    )
    print(f"ratio of memory to the former worker's: {memory / former_mb:.2f} (target < 300 MB)")


if __name__ == "__main__":
    main()
