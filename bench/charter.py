"""Bench: the charter's sweep (``charter.scan``) and the elected officials' weekly digest on
PostgreSQL, with 10,000 démarches at every stage, their charter deadlines, and 100,000
citizen questions (real texts of the reference data) each with its answer deadline.

The sweep runs on 1,000 démarches (10,000 questions), then on 10,000 (100,000 questions),
each time at the first sweep after midnight in Paris — when a whole day's reminders (J-14,
J-7, J-1) and misses come due at once. It prints the time, the number of SQL statements (a
``before_cursor_execute`` listener) — the same at both sizes —, the reminders, the misses and
the emails queued, and the ratio to a baseline measured in the same run: the plain reads of
the rows the sweep has to look at. Then the weekly digest of 300 officials (compose, and
send_weekly), against plain GROUP BY reads of the same tables.

    make bench-charter
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/other make bench-charter

``BENCH_DATABASE_URL`` defaults to ``postgresql://postgres@127.0.0.1:5432/bench_charter``
(created when missing). The database is wiped at the start and emptied at the end.
Environment: DEMARCHES (10000), FIRST (1000), QUESTIONS (100000), OFFICIALS (300).
Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from _setup import DATA, bench_app, emptied_afterwards, ensure_database, print_database
from sqlalchemy import event, insert, select, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_charter"
DEMARCHES = int(os.environ.get("DEMARCHES", "10000"))
FIRST = int(os.environ.get("FIRST", "1000"))
QUESTIONS = int(os.environ.get("QUESTIONS", "100000"))
OFFICIALS = int(os.environ.get("OFFICIALS", "300"))
DEPARTMENTS = 30
AGENTS = 4  # per department
PARTICIPANTS = 30_000

# Stages of the démarches, and their shares.
STAGES = [
    ("draft", 5),
    ("submitted", 10),
    ("returned", 3),
    ("rejected", 2),
    ("launch", 15),
    ("consultation", 30),
    ("synthesis", 15),
    ("feedback", 10),
    ("closed", 10),
]
ASKED = {"consultation", "synthesis", "feedback", "closed"}  # démarches with questions


@dataclass
class World:
    """What the seeding needs: ids of the charter's rules and of the people."""

    rules: dict[str, Any]
    version_id: int
    departments: list[int]
    officials: list[int]
    mission_id: int
    agents: dict[int, list[int]]
    participants: list[int]
    questions: list[str]
    titles: list[str]
    as_of: datetime
    previous: datetime


# -- real texts -----------------------------------------------------------------------------


def real_texts() -> list[str]:
    """The reference data's texts (Grand Débat answers, FEAMP proposals, Decidim comments)."""
    texts = [a["reponse"] for a in json.loads((DATA / "grand-debat-answers-2019.json").read_text())]
    with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as fh:
        texts += [r["body"] for r in csv.DictReader(fh)]
    with (DATA / "decidim-comments-nancy-2019.csv").open(encoding="utf-8") as fh:
        texts += [r["body"] for r in csv.DictReader(fh, delimiter=";")]
    return [t for t in texts if t and t.strip()]


def real_questions() -> list[str]:
    """The questions citizens asked in those texts (sentences ending with "?"), and the
    Grand Débat questionnaire's own."""
    found = []
    for body in real_texts():
        body = re.sub(r"<[^>]+>", " ", body)
        for sentence in re.findall(r"[^.!?\n]*\?", body):
            sentence = " ".join(sentence.split()).strip(" -–«»\"'")
            if 25 <= len(sentence) <= 600:
                found.append(sentence)
    with (DATA / "grand-debat-questions.csv").open(encoding="utf-8") as fh:
        found += [r["text"] for r in csv.DictReader(fh, delimiter=";") if r["text"].endswith("?")]
    return found


def real_titles() -> list[str]:
    with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as fh:
        return [r["title"].strip() for r in csv.DictReader(fh) if r["title"].strip()]


# -- database and measures ------------------------------------------------------------------


class Statements:
    """Counts the SQL statements sent through an engine, and times each."""

    def __init__(self, engine) -> None:
        self.count = 0
        self.timings: list[tuple[str, float]] = []
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(engine, "after_cursor_execute", self._done)

    def reset(self) -> None:
        self.count, self.timings = 0, []

    def _seen(self, *args: Any) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _done(self, conn, cursor, statement: str, *args: Any) -> None:
        label = " ".join(statement.split())
        label = re.sub(r"\((%\(\w+\)s(::\w+)?(, )?)+\)", "(…)", label)
        self.timings.append((label[:90], time.perf_counter() - self._started))


def measure(counter: Statements, fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """``fn()``, its wall time and its number of SQL statements."""
    counter.reset()
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started, counter.count


def best_of(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


@contextmanager
def step(label: str):
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.1f} s")


# -- seeding --------------------------------------------------------------------------------


def people(session, now: datetime) -> tuple[list[int], list[int], int, dict[int, list[int]]]:
    """Departments with their agents, the mission, an administrator, the elected officials."""
    from workflows.models import Department, Role, User, roles_users

    role = {name: rid for rid, name in session.execute(select(Role.id, Role.name))}
    departments = list(
        session.scalars(
            insert(Department.__table__).returning(
                Department.__table__.c.id, sort_by_parameter_order=True
            ),
            [{"name": f"Direction {n + 1:02d}", "created_at": now} for n in range(DEPARTMENTS)],
        )
    )

    def users(rows: list[dict], role_name: str) -> list[int]:
        ids = list(
            session.scalars(
                insert(User.__table__).returning(User.__table__.c.id, sort_by_parameter_order=True),
                [
                    {
                        "password": None,
                        "active": True,
                        "fs_uniquifier": r["email"],
                        "confirmed_at": now,
                        "position": "",
                        "department_id": None,
                        "created_at": now,
                        **r,
                    }
                    for r in rows
                ],
            )
        )
        session.execute(
            insert(roles_users), [{"user_id": i, "role_id": role[role_name]} for i in ids]
        )
        return ids

    mission = users(
        [{"email": f"mission{n}@bench.fr", "name": f"Mission {n}"} for n in range(3)], "mission"
    )
    users([{"email": "admin@bench.fr", "name": "Cheffe de mission"}], "admin")
    officials = users(
        [
            {
                "email": f"elu{n:03d}@bench.fr",
                "name": f"Élu·e {n}",
                "position": f"Conseiller·ère départemental·e, canton {n % 27 + 1}",
            }
            for n in range(OFFICIALS)
        ],
        "elected",
    )
    agent_rows = [
        {"email": f"agent{d}-{k}@bench.fr", "name": f"Agent {d}-{k}", "department_id": d}
        for d in departments
        for k in range(AGENTS)
    ]
    agent_ids = users(agent_rows, "department")
    agents: dict[int, list[int]] = {}
    for row, uid in zip(agent_rows, agent_ids, strict=True):
        agents.setdefault(row["department_id"], []).append(uid)
    return departments, officials, mission[0], agents


def participants(session, now: datetime) -> list[int]:
    from workflows.models import Participant

    table = Participant.__table__
    return list(
        session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"citoyen{n:05d}@exemple.fr",
                    "name": f"Citoyen {n}",
                    "consent_feedback": True,
                    "consent_territory_news": False,
                    "created_at": now,
                }
                for n in range(PARTICIPANTS)
            ],
        )
    )


class Clocks:
    """The deadline rows of a batch, settled as an earlier sweep (at ``previous``) left them:
    due before it, met (85 %) or missed; due after, met or pending (more often met the older
    they are), the reminders whose day has come already marked as sent."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rows: list[dict] = []
        self.owner: list[int] = []  # index of each row's démarche in the batch

    def add(
        self,
        rng: random.Random,
        code: str,
        *,
        batch_index: int,
        started: datetime,
        met_share: float = 0.85,
        settled: bool = False,
    ) -> None:
        from workflows.charter import due_of

        rule = self.world.rules[code]
        previous = self.world.previous
        due_date, due_at = due_of(started, rule.duration, rule.unit)
        row = {
            "key": "",  # rule:démarche[:question], once the ids are known
            "rule_id": rule.id,
            "rule_code": code,
            "demarche_id": None,  # filled once the démarches have their ids
            "question_id": None,
            "started_at": started,
            "due_date": due_date,
            "due_at": due_at,
            "status": "pending",
            "met_at": None,
            "missed_at": None,
        }
        if settled or due_at <= previous:
            if settled or rng.random() < met_share:
                late = rng.random() < 0.1
                end = due_at + timedelta(days=rng.uniform(0, 5)) if late else due_at
                met = started + (min(end, previous) - started) * rng.random()
                row.update(status="met", met_at=met)
            else:
                row.update(status="missed", missed_at=due_at)
        else:
            elapsed = (previous - started) / (due_at - started)
            if rng.random() < 0.5 * elapsed:
                row.update(status="met", met_at=started + (previous - started) * rng.random())
        self.rows.append(row)
        self.owner.append(batch_index)


def seed(session, world: World, first: int, last: int, q_first: int, q_last: int) -> dict:
    """Démarches ``first``…``last - 1`` with their deadlines, and questions ``q_first``…
    ``q_last - 1`` (on those of them that reached their consultation) with theirs."""
    from workflows.charter import reminder_moment
    from workflows.models import Contribution, Deadline, DeadlineNotice, Demarche, Item

    as_of, day = world.as_of, timedelta(days=1)
    stages, weights = zip(*STAGES, strict=True)
    demarches, stage_of, items = [], [], []
    clocks = Clocks(world)
    for n in range(first, last):
        rng = random.Random(n)
        stage = rng.choices(stages, weights)[0]
        created = as_of - rng.uniform(20, 400) * day
        if stage in ("draft", "submitted", "returned"):
            created = as_of - rng.uniform(1, 30) * day
        demarches.append(
            {
                "slug": f"bench-{n}",
                "stage": stage,
                "title": f"{world.titles[n % len(world.titles)][:180]} ({n + 1})",
                "department_id": world.departments[n % len(world.departments)],
                "objectives": "Recueillir l'avis des habitants.",
                "public": "Tous les habitants",
                "territory": "Haute-Garonne",
                "participation_level": "consultation",
                "elected_official_id": world.officials[n % len(world.officials)],
                "desired_calendar": "",
                "hold_for_review": False,
                "charter_version_id": world.version_id,
                "created_by_id": world.mission_id,
                "created_at": created,
                "updated_at": created,
            }
        )
        stage_of.append(stage)
        i = len(demarches) - 1
        if stage == "draft":
            continue
        # The saisine: acknowledged the same day, reviewed within 15 days.
        submitted = (
            as_of - rng.uniform(0, 20) * day
            if stage == "submitted"
            else created + rng.uniform(0, 3) * day
        )
        before_review = stage == "submitted"
        clocks.add(
            rng,
            "acknowledge_saisine",
            batch_index=i,
            started=submitted,
            met_share=0.95,
            settled=not before_review,
        )
        clocks.add(
            rng,
            "review_saisine",
            batch_index=i,
            started=submitted,
            settled=not before_review,
        )
        if stage in ASKED:
            items.append({"index": i, "title": "Vos questions sur le projet"})
        if stage == "synthesis":
            clocks.add(
                rng,
                "publish_synthesis",
                batch_index=i,
                started=as_of - rng.uniform(0, 40) * day,
            )
        elif stage in ("feedback", "closed"):
            closed_at = as_of - rng.uniform(70, 200) * day
            clocks.add(
                rng,
                "publish_synthesis",
                batch_index=i,
                started=closed_at,
                settled=True,
            )
            clocks.add(
                rng,
                "decide_feedback",
                batch_index=i,
                started=as_of - rng.uniform(0, 75) * day
                if stage == "feedback"
                else closed_at + rng.uniform(10, 30) * day,
                settled=stage == "closed",
            )

    demarche_table = Demarche.__table__
    ids = list(
        session.scalars(
            insert(demarche_table).returning(demarche_table.c.id, sort_by_parameter_order=True),
            demarches,
        )
    )
    item_table = Item.__table__
    item_ids = list(
        session.scalars(
            insert(item_table).returning(item_table.c.id, sort_by_parameter_order=True),
            [
                {
                    "demarche_id": ids[it["index"]],
                    "title": it["title"],
                    "text": "",
                    "position": 1,
                    "source": None,
                    "created_at": demarches[it["index"]]["created_at"],
                }
                for it in items
            ],
        )
    )
    item_of = {it["index"]: item_id for it, item_id in zip(items, item_ids, strict=True)}

    # The questions: on démarches in consultation, asked in the last 45 days (their answer
    # due 30 days later: some due tonight, some reminded tonight, most pending); on later
    # démarches, asked during their consultation, long settled.
    asked = [i for i, stage in enumerate(stage_of) if stage in ASKED]
    questions, question_clocks = [], Clocks(world)
    for q in range(q_first, q_last):
        rng = random.Random(1_000_000 + q)
        i = rng.choice(asked)
        when = as_of - rng.uniform(0, 45 if stage_of[i] == "consultation" else 1) * day
        if stage_of[i] != "consultation":
            when -= rng.uniform(45, 200) * day
        questions.append(
            {
                "demarche_id": ids[i],
                "item_id": item_of[i],
                "participant_id": world.participants[q % len(world.participants)],
                "kind": "question",
                "channel": "online",
                "title": None,
                "body": world.questions[q % len(world.questions)],
                "status": "published",
                "moderation_reason": "",
                "contributed_at": when,
                "created_at": when,
                "source": None,
                "answer": "",
                "answered_at": None,
                "answered_by_id": None,
            }
        )
        question_clocks.add(
            rng,
            "answer_question",
            batch_index=i,
            started=when,
        )
    contribution_table = Contribution.__table__
    question_ids = list(
        session.scalars(
            insert(contribution_table).returning(
                contribution_table.c.id, sort_by_parameter_order=True
            ),
            questions,
        )
    )
    # The answers, for the questions whose deadline is met.
    answered = [
        {"q": qid, "at": row["met_at"], "by": world.agents[demarches[i]["department_id"]][0]}
        for qid, row, i in zip(
            question_ids, question_clocks.rows, question_clocks.owner, strict=True
        )
        if row["status"] == "met"
    ]
    if answered:
        session.execute(
            text(
                "UPDATE contributions SET answer = 'Réponse publiée par le service.', "
                "answered_at = :at, answered_by_id = :by WHERE id = :q"
            ),
            answered,
        )

    rows = []
    for row, i in zip(clocks.rows, clocks.owner, strict=True):
        row.update(demarche_id=ids[i], key=f"{row['rule_code']}:d{ids[i]}")
        rows.append(row)
    for row, i, qid in zip(question_clocks.rows, question_clocks.owner, question_ids, strict=True):
        row.update(demarche_id=ids[i], question_id=qid, key=f"answer_question:d{ids[i]}:q{qid}")
        rows.append(row)
    deadline_table = Deadline.__table__
    deadline_ids = list(
        session.scalars(
            insert(deadline_table).returning(deadline_table.c.id, sort_by_parameter_order=True),
            rows,
        )
    )
    # The notices an earlier sweep sent: the missed alerts, and the reminders whose day came.
    notices = []
    for deadline_id, row in zip(deadline_ids, rows, strict=True):
        if row["status"] == "missed":
            notices.append(
                {
                    "deadline_id": deadline_id,
                    "kind": "missed",
                    "offset": 0,
                    "sent_at": row["due_at"],
                }
            )
        elif row["status"] == "pending":
            for offset in world.rules[row["rule_code"]].reminders:
                moment = reminder_moment(row["due_date"], offset)
                if moment <= world.previous:
                    notices.append(
                        {
                            "deadline_id": deadline_id,
                            "kind": "remind",
                            "offset": offset,
                            "sent_at": moment,
                        }
                    )
    if notices:
        session.execute(insert(DeadlineNotice.__table__), notices)
    session.commit()
    return {"demarches": len(ids), "questions": len(question_ids), "deadlines": len(rows)}


# -- the bench ------------------------------------------------------------------------------


def main() -> None:
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(os.environ["BENCH_DATABASE_URL"])
    from backoffice.extensions import db

    app = bench_app("charter")
    with emptied_afterwards(app), app.app_context():
        run(db)


def run(db) -> None:
    from types import SimpleNamespace

    from workflows import charter, digests
    from workflows.clock import PARIS
    from workflows.models import CharterRule, CharterVersion

    session, engine = db.session, db.engine
    print_database(session)
    # Monday, the first sweep after midnight in Paris: every reminder and every miss of the
    # day comes due at 00:00, so this sweep carries a whole day's notices.
    as_of = datetime(2026, 11, 23, 0, 5, tzinfo=PARIS).astimezone(UTC)
    digest_at = datetime(2026, 11, 23, 7, 0, tzinfo=PARIS).astimezone(UTC)
    now = as_of - timedelta(days=400)

    version = session.scalar(select(CharterVersion).where(CharterVersion.is_current.is_(True)))
    rules = {
        r.code: SimpleNamespace(
            id=r.id, duration=r.duration, unit=r.unit, reminders=list(r.reminders)
        )
        for r in session.scalars(select(CharterRule).where(CharterRule.version_id == version.id))
    }
    departments, officials, mission_id, agents = people(session, now)
    questions = real_questions()
    world = World(
        rules=rules,
        version_id=version.id,
        departments=departments,
        officials=officials,
        mission_id=mission_id,
        agents=agents,
        participants=participants(session, now),
        questions=questions,
        titles=real_titles(),
        as_of=as_of,
        previous=as_of - timedelta(minutes=10),
    )
    session.commit()
    print(
        f"{len(officials)} elected officials, {len(departments)} departments × {AGENTS} agents, "
        f"4 mission staff, {PARTICIPANTS:,} participants; "
        f"{len(questions):,} real questions (cycled) from {DATA.name}/"
    )

    counter = Statements(engine)
    horizon = as_of + timedelta(days=charter.MAX_REMINDER_DAYS + 1)
    params = {"as_of": as_of, "horizon": horizon}
    window = text(
        "SELECT d.id, d.due_date, d.due_at, d.demarche_id, d.question_id, r.reminders, "
        "r.responsible, m.department_id FROM deadlines d "
        "JOIN charter_rules r ON r.id = d.rule_id JOIN demarches m ON m.id = d.demarche_id "
        "WHERE d.status = 'pending' AND d.due_at > :as_of AND d.due_at <= :horizon"
    )
    due = text("SELECT id FROM deadlines WHERE status = 'pending' AND due_at <= :as_of")
    pending = text("SELECT count(*) FROM deadlines WHERE status = 'pending'")

    def baseline() -> None:
        session.execute(pending).scalar()
        session.execute(window, params).all()
        session.execute(due, params).all()

    sizes = [(FIRST, QUESTIONS * FIRST // DEMARCHES), (DEMARCHES, QUESTIONS)]
    sizes = sorted(set(sizes))  # FIRST = DEMARCHES: one size
    figures = []
    done_d = done_q = 0
    for demarches, question_count in sizes:
        print(f"seeding up to {demarches:,} démarches and {question_count:,} questions")
        with step("bulk inserts"):
            seeded = seed(session, world, done_d, demarches, done_q, question_count)
        done_d, done_q = demarches, question_count
        with step("ANALYZE"):
            session.execute(text("ANALYZE"))
            session.commit()
        counts = dict(
            session.execute(text("SELECT status, count(*) FROM deadlines GROUP BY status")).all()
        )
        in_window = len(session.execute(window, params).all())
        base = best_of(baseline)
        session.commit()
        session.expunge_all()
        report, elapsed, statements = measure(counter, lambda: charter.scan(session, as_of=as_of))
        timings = list(counter.timings)
        again, again_elapsed, again_statements = measure(
            counter, lambda: charter.scan(session, as_of=as_of)
        )
        again_timings = list(counter.timings)
        figures.append(
            {
                "size": demarches,
                "questions": question_count,
                "deadlines": sum(counts.values()),
                "pending": counts.get("pending", 0),
                "window": in_window,
                "seeded": seeded,
                "report": report,
                "time": elapsed,
                "statements": statements,
                "baseline": base,
                "again": (again, again_elapsed, again_statements),
                "timings": timings,
                "again_timings": again_timings,
            }
        )

    print()
    print("charter.scan at the first sweep after midnight (Paris), Monday 23 November 2026")
    label_width = 44

    def line(label: str, values: list[str]) -> None:
        print(f"{label:<{label_width}}" + "".join(f"{v:>18}" for v in values))

    line("", [f"{f['size']:,} démarches" for f in figures])
    line("questions", [f"{f['questions']:,}" for f in figures])
    line("deadlines (all statuses)", [f"{f['deadlines']:,}" for f in figures])
    line("  pending before the sweep", [f"{f['pending']:,}" for f in figures])
    line("  pending in the reminder window", [f"{f['window']:,}" for f in figures])
    line("sweep time", [f"{f['time'] * 1000:,.0f} ms" for f in figures])
    line("SQL statements of the sweep", [str(f["statements"]) for f in figures])
    line("reminders sent", [f"{f['report'].reminded:,}" for f in figures])
    line("deadlines missed (alerts)", [f"{f['report'].missed:,}" for f in figures])
    line("emails queued (outbox rows)", [f"{f['report'].messages:,}" for f in figures])
    line(
        "baseline: plain reads of those rows", [f"{f['baseline'] * 1000:,.0f} ms" for f in figures]
    )
    line("ratio sweep / baseline", [f"{f['time'] / f['baseline']:.1f}" for f in figures])
    line(
        "same sweep again (once each): time",
        [f"{f['again'][1] * 1000:,.0f} ms" for f in figures],
    )
    line(
        "  reminders / missed / emails / statements",
        [f"{a.reminded}/{a.missed}/{a.messages}/{n}" for a, _, n in (f["again"] for f in figures)],
    )
    small, large = figures[0]["statements"], figures[-1]["statements"]
    verdict = "the same" if small == large else "NOT the same"
    print(
        f"SQL statements at {figures[0]['size']:,} and at {figures[-1]['size']:,} démarches: "
        f"{small} and {large} — {verdict}"
    )
    print(
        "baseline: SELECT count(*) of the pending deadlines, the pending rows of the reminder "
        "window (joined to their rule and démarche), the pending rows due (best of 3)"
    )
    print(
        f"(a sweep with nothing of a kind to do skips that kind's statements: {large} is "
        "the most; "
        "it never depends on the number of démarches, deadlines or notices)"
    )
    largest = figures[-1]
    for title, timings, total in (
        ("the sweep", largest["timings"], largest["time"]),
        ("the same sweep again", largest["again_timings"], largest["again"][1]),
    ):
        in_sql = sum(t for _, t in timings)
        print(
            f"{title} at {largest['size']:,} démarches, statement by statement "
            f"(SQL {in_sql * 1000:,.0f} ms, Python {(total - in_sql) * 1000:,.0f} ms):"
        )
        for label, seconds in timings:
            print(f"  {seconds * 1000:7,.1f} ms  {label}")

    # The weekly digest of the elected officials, Monday 07:00 in Paris.
    print()
    print(f"weekly digest, Monday 07:00 (Paris), {len(officials)} elected officials")
    session.commit()
    session.expunge_all()
    composed, compose_time, compose_statements = measure(
        counter, lambda: digests.compose(session, as_of=digest_at)
    )
    session.rollback()
    sent, send_time, send_statements = measure(
        counter, lambda: digests.send_weekly(session, as_of=digest_at)
    )
    twice, twice_time, twice_statements = measure(
        counter, lambda: digests.send_weekly(session, as_of=digest_at)
    )
    digest_params = {"soon": digest_at + digests.AHEAD}
    active = ", ".join(f"'{s.value}'" for s in digests.ACTIVE)
    reads = [
        text(
            "SELECT elected_official_id, stage, count(*) FROM demarches "
            f"WHERE stage IN ({active}) GROUP BY 1, 2"
        ),
        text(
            "SELECT demarche_id, count(*), count(DISTINCT participant_id) FROM contributions "
            "GROUP BY demarche_id"
        ),
        text(
            "SELECT demarche_id, count(*) FROM deadlines WHERE (status = 'pending' AND "
            "due_at <= :soon) OR status = 'missed' GROUP BY demarche_id"
        ),
    ]

    def digest_baseline() -> None:
        for query in reads:
            session.execute(query, digest_params).all()

    digest_base = best_of(digest_baseline)
    session.rollback()
    lines = sum(len(d.demarches) for d in composed)
    upcoming = sum(len(d.upcoming) for d in composed)
    missed = sum(len(d.missed) for d in composed)
    print(
        f"compose:      {compose_time * 1000:7,.0f} ms, {compose_statements} SQL statements, "
        f"{len(composed)} digests ({lines:,} démarches, {upcoming:,} deadlines within two "
        f"weeks, {missed:,} missed)"
    )
    print(
        f"send_weekly:  {send_time * 1000:7,.0f} ms, {send_statements} SQL statements, "
        f"{sent} digests queued"
    )
    print(
        f"again, same week: {twice_time * 1000:,.0f} ms, {twice_statements} SQL statements, "
        f"{twice} queued (never twice)"
    )
    print(
        f"baseline: three plain GROUP BY reads (démarches per official and stage, "
        f"contributions and participants per démarche, deadlines due or missed per démarche): "
        f"{digest_base * 1000:,.0f} ms (best of 3)"
    )
    print(
        f"ratio compose / baseline: {compose_time / digest_base:.1f}; "
        f"send_weekly / baseline: {send_time / digest_base:.1f}"
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"bench done in {time.perf_counter() - started:.0f} s")
