"""Bench: the yearly report (``workflows.report.yearly``) on PostgreSQL, over 100 then over
10,000 démarches of the same year.

The démarches are seeded in bulk (``INSERT … RETURNING`` in batches): each opened its
consultation on a day of the year (a transition row), at a stage among consultation,
synthesis, feedback and closed, with a participation level and one of six departments; an
item and CONTRIBUTIONS contributions each from a pool of people living across the communes
of Haute-Garonne (weighted by population; 8 % without a commune, a fifth without a person, 1 %
refused); three of the charter's deadlines each (met on time, late, missed, pending); for the
démarches at the feedback stage or closed, a feedback mailing with a delivery per contributor
(most sent, some skipped for lack of consent). Earlier years get a few démarches too, for the
trends.

The report then runs for the year with 100 démarches, and again once the year holds 10,000:
the number of SQL statements (a ``before_cursor_execute`` listener) — the same at both sizes:
a fixed number of queries — and the time (best of 5, the session emptied before each), with
their ratios in the same run. Then the documents: the PDF and the spreadsheet made once.

    make bench-report
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/other make bench-report

``BENCH_DATABASE_URL`` defaults to ``postgresql://postgres@127.0.0.1:5432/bench_report``
(created when missing). The database is wiped at the start and emptied at the end.
Environment: DEMARCHES (10000), FIRST (100), CONTRIBUTIONS (10 per démarche), PARTICIPANTS
(30000). Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import os
import random
import time
from datetime import date, datetime, timedelta

from _setup import bench_app, bench_people, emptied_afterwards, ensure_database, print_database
from evaluation import Statements, best_of
from sqlalchemy import insert, select, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_report"
DEMARCHES = int(os.environ.get("DEMARCHES", "10000"))
FIRST = int(os.environ.get("FIRST", "100"))
CONTRIBUTIONS = int(os.environ.get("CONTRIBUTIONS", "10"))
PARTICIPANTS = int(os.environ.get("PARTICIPANTS", "30000"))
BATCH = 5000
STAGES = [("consultation", 15), ("synthesis", 15), ("feedback", 20), ("closed", 50)]
LEVELS = ["information", "consultation", "concertation", "co-construction", "codecision"]
DEPARTMENTS = [
    "Direction des routes",
    "Direction de l'action sociale",
    "Direction de l'éducation",
    "Direction de l'environnement",
    "Direction de la culture",
    "Direction des solidarités",
]


def bulk(session, table, rows: list[dict], returning: bool = False) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        if returning:
            ids += session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk
            ).all()
        else:
            session.execute(insert(table), chunk)
    return ids


class Seeder:
    def __init__(self, session, now: datetime, rng: random.Random) -> None:
        from workflows.accounts import department_named
        from workflows.models import CharterRule, CharterVersion, Participant, RuleKind
        from workflows.territory import communes

        self.session, self.now, self.rng, self.serial = session, now, rng, 0
        self.departments = [department_named(session, name).id for name in DEPARTMENTS]
        self.rules = session.execute(
            select(CharterRule.id, CharterRule.code)
            .join(CharterVersion, CharterVersion.id == CharterRule.version_id)
            .where(CharterVersion.is_current.is_(True), CharterRule.kind == RuleKind.DEADLINE)
            .order_by(CharterRule.position)
            .limit(3)
        ).all()
        self.places = list(communes())
        self.weights = [c.population for c in self.places]
        table = Participant.__table__
        self.pool = bulk(
            session,
            table,
            [
                {
                    "email": f"participant{n:05d}@exemple.fr",
                    "name": f"Participant {n}",
                    "commune_insee": rng.choices(self.places, self.weights)[0].insee_code,
                    "consent_feedback": rng.random() >= 0.05,
                    "consent_territory_news": False,
                    "created_at": now - timedelta(days=1500),
                }
                for n in range(PARTICIPANTS)
            ],
            returning=True,
        )
        session.commit()

    def demarches(self, count: int, year: int) -> dict[str, int]:
        """``count`` démarches that opened in ``year``, with what the report counts."""
        from workflows.charter import paris_midnight
        from workflows.models import (
            Contribution,
            Deadline,
            Delivery,
            Demarche,
            Item,
            Mailing,
            StageTransition,
        )

        rng, now = self.rng, self.now
        stages, stage_weights = zip(*STAGES, strict=True)
        first_day = paris_midnight(date(year, 1, 1))
        days = max(1, min(365, (now - first_day).days - 1))
        rows, opened = [], []
        for _ in range(count):
            self.serial += 1
            when = first_day + timedelta(days=rng.uniform(0, days))
            opened.append(when)
            rows.append(
                {
                    "slug": f"demarche-{self.serial}",
                    "stage": rng.choices(stages, stage_weights)[0],
                    "title": f"Démarche {self.serial}",
                    "department_id": rng.choice(self.departments),
                    "territory": "Haute-Garonne",
                    "participation_level": rng.choice(LEVELS),
                    "hold_for_review": False,
                    "created_at": when - timedelta(days=30),
                    "updated_at": when,
                }
            )
        ids = bulk(self.session, Demarche.__table__, rows, returning=True)
        stage_of = dict(zip(ids, (r["stage"] for r in rows), strict=True))
        bulk(
            self.session,
            StageTransition.__table__,
            [
                {
                    "demarche_id": d,
                    "from_stage": "launch",
                    "to_stage": "consultation",
                    "source": "cli",
                    "comment": "",
                    "at": when,
                }
                for d, when in zip(ids, opened, strict=True)
            ],
        )
        items = bulk(
            self.session,
            Item.__table__,
            [{"demarche_id": d, "title": "Question 1", "created_at": now} for d in ids],
            returning=True,
        )
        contributions, deadlines, mailings = [], [], []
        contributors: dict[int, set[int]] = {}
        for d, item, when in zip(ids, items, opened, strict=True):
            for n in range(CONTRIBUTIONS):
                place = rng.choices(self.places, self.weights)[0] if rng.random() > 0.08 else None
                person = (
                    self.pool[int(len(self.pool) * rng.random() ** 1.5)]
                    if rng.random() < 0.8
                    else None
                )
                if person:
                    contributors.setdefault(d, set()).add(person)
                contributions.append(
                    {
                        "demarche_id": d,
                        "item_id": item,
                        "participant_id": person,
                        "kind": "comment",
                        "channel": "online",
                        "body": f"Avis {n}",
                        "commune_insee": place.insee_code if place else None,
                        "canton_code": place.canton_code if place else None,
                        "status": "rejected" if rng.random() < 0.01 else "published",
                        "moderation_reason": "",
                        "contributed_at": when + timedelta(days=n),
                        "created_at": when + timedelta(days=n),
                        "answer": "",
                    }
                )
            for rule_id, code in self.rules:
                due_at = when + timedelta(days=rng.uniform(-20, 60))
                roll = rng.random()
                status = (
                    "met"
                    if roll < 0.7
                    else ("missed" if due_at < now else "pending")
                    if roll < 0.95
                    else "waived"
                )
                met = due_at - timedelta(days=rng.uniform(-5, 15)) if status == "met" else None
                deadlines.append(
                    {
                        "key": f"{code}:d{d}",
                        "rule_id": rule_id,
                        "rule_code": code,
                        "demarche_id": d,
                        "started_at": when,
                        "due_date": (due_at - timedelta(days=1)).date(),
                        "due_at": due_at,
                        "status": status,
                        "met_at": met,
                        "missed_at": due_at if status == "missed" else None,
                        "waive_reason": "",
                    }
                )
            if stage_of[d] in ("feedback", "closed"):
                mailings.append(
                    {
                        "kind": "feedback",
                        "audience": "contributors",
                        "demarche_id": d,
                        "subject": "Ce que nous avons fait de vos contributions",
                        "body": "Merci.",
                        "status": "sent",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        bulk(self.session, Contribution.__table__, contributions)
        bulk(self.session, Deadline.__table__, deadlines)
        told = [m["demarche_id"] for m in mailings]
        mailing_ids = bulk(self.session, Mailing.__table__, mailings, returning=True)
        deliveries = []
        for d, mailing in zip(told, mailing_ids, strict=True):
            for person in sorted(contributors.get(d, ())):
                roll = rng.random()
                status = "skipped" if roll < 0.06 else "refused" if roll < 0.09 else "sent"
                deliveries.append(
                    {
                        "mailing_id": mailing,
                        "address": f"participant-{person}@exemple.fr",
                        "participant_id": person,
                        "status": status,
                        "skip_reason": "no_consent" if status == "skipped" else "",
                        "attempts": 0 if status == "skipped" else 1,
                        "next_attempt_at": now,
                        "sent_at": now if status == "sent" else None,
                        "subject": "",
                        "body": "",
                        "error": "",
                    }
                )
        bulk(self.session, Delivery.__table__, deliveries)
        self.session.commit()
        return {
            "demarches": count,
            "contributions": len(contributions),
            "deadlines": len(deadlines),
            "deliveries": len(deliveries),
        }


def main() -> None:
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(os.environ["BENCH_DATABASE_URL"])
    from backoffice.extensions import db

    app = bench_app("report")
    with emptied_afterwards(app), app.app_context(), app.test_request_context():
        run(db)


def run(db) -> None:
    from workflows import report
    from workflows.clock import local_date, utcnow

    session, engine = db.session, db.engine
    print_database(session)
    rng = random.Random(14)
    now = utcnow()
    year = local_date(now).year
    bench_people()
    session.commit()
    started = time.perf_counter()
    seeder = Seeder(session, now, rng)
    for earlier in (year - 2, year - 1):
        seeder.demarches(FIRST, earlier)
    seeded = seeder.demarches(FIRST, year)
    print(f"seeded {seeded} in {year} (and {FIRST} in each of the two years before)")
    if engine.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
    statements = Statements(engine)

    def measure() -> tuple[int, float, report.YearlyReport]:
        session.expire_all()
        statements.reset()
        made = report.yearly(session, year, as_of=utcnow())
        count = statements.count
        best = best_of(lambda: report.yearly(session, year, as_of=utcnow()), session.expire_all)
        session.rollback()
        return count, best, made

    few_count, few_time, few = measure()
    print(
        f"report over {few.figures.demarches:,} démarches: {few_count} statements, "
        f"{few_time * 1000:.1f} ms"
    )
    seeded = seeder.demarches(DEMARCHES - FIRST, year)
    if engine.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
    print(f"seeded {seeded} more in {year} in {time.perf_counter() - started:.0f} s in all")
    many_count, many_time, many = measure()
    print(
        f"report over {many.figures.demarches:,} démarches: {many_count} statements, "
        f"{many_time * 1000:.1f} ms"
    )
    print(
        f"ratios ({many.figures.demarches:,} / {few.figures.demarches:,} démarches): "
        f"statements {many_count / few_count:.2f} (equal: {many_count == few_count}), "
        f"time {many_time / few_time:.1f}×"
    )
    for seconds, label in sorted(statements.timings, reverse=True)[:3]:
        print(f"  slowest statement of the last run: {seconds * 1000:.1f} ms  {label}")
    f = many.figures
    print(
        f"figures: {f.participants:,} participants, {f.contributions:,} contributions, "
        f"{f.per_1000} per 1,000 inhabitants, deadlines met on time "
        f"{(f.deadlines_share or 0) * 100:.1f} %, contributors told "
        f"{(f.feedback_share or 0) * 100:.1f} %, {len(many.trends)} earlier years"
    )
    from backoffice.outgoing.report import make_documents

    begun = time.perf_counter()
    print(make_documents(session, year, as_of=utcnow()))
    print(f"documents made in {time.perf_counter() - begun:.1f} s")


if __name__ == "__main__":
    main()
