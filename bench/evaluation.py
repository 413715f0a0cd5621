"""Bench: the evaluation of a démarche (``workflows.evaluation``) on PostgreSQL, with 1,000 and
with 100,000 contributions.

Two démarches of the whole département are taken through the one transition function to the
synthesis stage (their consultation closed), then seeded in bulk: contributions over five
items from the communes of Haute-Garonne (weighted by population; 8 % without a commune),
every kind and channel, a quarter without a person; questions with their answer deadlines
(60 % answered, some late); participants, some of whom took part in the other démarche a
year before (not newcomers); two workshops with attended registrations; the department's
decisions on the five items; a feedback mailing with a delivery per contributor (most sent
over a few days, some skipped for lack of consent, some refused).

The evaluation then runs on each (``compute``, as a live evaluation does, after the session
forgot everything): its time (best of 5), the number of SQL statements (a
``before_cursor_execute`` listener) — the same at both sizes: a fixed number of queries —,
and the ratio to a baseline measured in the same run on the same démarche: the synthesis's
figures (``syntheses.figures.compute``, 7 aggregate queries over the same rows). Then the
freeze at the closing, and a few of the indicators it gave.

    make bench-evaluation
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/other make bench-evaluation

``BENCH_DATABASE_URL`` defaults to ``postgresql://postgres@127.0.0.1:5432/bench_evaluation``
(created when missing). The database is wiped at the start and emptied at the end.
Environment: CONTRIBUTIONS (100000), FIRST (1000), PARTICIPANTS (40000).
Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from _setup import bench_app, bench_people, emptied_afterwards, ensure_database, print_database
from sqlalchemy import event, insert, select, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_evaluation"
CONTRIBUTIONS = int(os.environ.get("CONTRIBUTIONS", "100000"))
FIRST = int(os.environ.get("FIRST", "1000"))
PARTICIPANTS = int(os.environ.get("PARTICIPANTS", "40000"))
BATCH = 5000
CHANNELS = [("online", 68), ("workshop", 12), ("meeting", 8), ("mail", 5), ("import", 7)]
KINDS = [("comment", 80), ("question", 8), ("proposal", 12)]
OUTCOMES = ["retained", "partly_retained", "not_retained", "retained", "under_study"]


class Statements:
    """Counts the SQL statements sent through an engine, and times each."""

    def __init__(self, engine) -> None:
        self.count = 0
        self.timings: list[tuple[float, str]] = []
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(engine, "after_cursor_execute", self._done)

    def reset(self) -> None:
        self.count, self.timings = 0, []

    def _seen(self, *args: Any) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _done(self, conn, cursor, statement: str, *args: Any) -> None:
        label = " ".join(statement.split())[:100]
        self.timings.append((time.perf_counter() - self._started, label))


def best_of(fn: Callable[[], Any], before: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


# -- seeding ----------------------------------------------------------------------------------


def closed_consultation(session, mission, title: str, now: datetime):
    """A démarche of the whole département, its consultation open 40 days then closed (with
    its reason, early) through the one transition function."""
    from _setup import consultation

    from workflows.transitions import transition

    d = consultation(mission, title)
    transition(session, d.id, "synthesis", actor=mission, as_of=now, comment="Clôture")
    session.commit()
    return d


def people_pool(session, now: datetime, rng: random.Random) -> list[int]:
    """``PARTICIPANTS`` people with an address, 5 % without the feedback consent, each with
    a commune (weighted by population)."""
    from workflows.models import Participant
    from workflows.territory import communes

    places = list(communes())
    weights = [c.population for c in places]
    table = Participant.__table__
    return list(
        session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"participant{n:05d}@exemple.fr",
                    "name": f"Participant {n}",
                    "commune_insee": rng.choices(places, weights)[0].insee_code,
                    "consent_feedback": rng.random() >= 0.05,
                    "consent_territory_news": False,
                    "created_at": now - timedelta(days=400),
                }
                for n in range(PARTICIPANTS)
            ],
        )
    )


def seed(
    session, d, pool: list[int], size: int, opened: datetime, now: datetime, rng: random.Random
) -> dict[str, int]:
    """``size`` contributions to ``d`` from ``pool`` (a quarter without a person) and what the
    evaluation reads around them: questions' deadlines, events attended, decisions, and the
    feedback mailing's deliveries."""
    from workflows.charter import due_of
    from workflows.events import create_event
    from workflows.models import (
        Contribution,
        Deadline,
        Delivery,
        ItemDecision,
        Mailing,
        Registration,
        User,
    )
    from workflows.territory import communes

    mission = session.scalar(select(User).where(User.email == "mission@bench.fr"))
    items = [item.id for item in sorted(d.items, key=lambda i: i.position)]
    places = list(communes())
    weights = [c.population for c in places]
    channels, channel_weights = zip(*CHANNELS, strict=True)
    kinds, kind_weights = zip(*KINDS, strict=True)
    rows = []
    for n in range(size):
        place = rng.choices(places, weights)[0] if rng.random() > 0.08 else None
        moment = opened + timedelta(days=rng.uniform(0, 39))
        kind = rng.choices(kinds, kind_weights)[0]
        roll = rng.random()
        answered = kind == "question" and rng.random() < 0.6
        rows.append(
            {
                "demarche_id": d.id,
                "item_id": items[n % len(items)],
                "participant_id": pool[int(len(pool) * rng.random() ** 1.5)]
                if rng.random() < 0.75
                else None,
                "kind": kind,
                "channel": rng.choices(channels, channel_weights)[0],
                "body": f"Avis n° {n} sur la démarche",
                "commune_insee": place.insee_code if place else None,
                "canton_code": place.canton_code if place else None,
                "status": "rejected" if roll < 0.01 else "hidden" if roll < 0.04 else "published",
                "moderation_reason": "",
                "contributed_at": moment,
                "created_at": moment,
                "source": f"bench:{d.id}:{n}",
                "answer": "Réponse du service." if answered else "",
                "answered_at": moment + timedelta(days=rng.uniform(1, 45)) if answered else None,
            }
        )
    table = Contribution.__table__
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            rows[start : start + BATCH],
        ).all()
    # The answer deadlines of the published questions (30 days), met when answered.
    rule = d.charter_version.rule("answer_question")
    deadlines = []
    for contribution_id, row in zip(ids, rows, strict=True):
        if row["kind"] != "question" or row["status"] != "published":
            continue
        due_date, due_at = due_of(row["contributed_at"], rule.duration, rule.unit)
        met = row["answered_at"]
        status = "met" if met else ("pending" if due_at > now else "missed")
        deadlines.append(
            {
                "key": f"answer_question:d{d.id}:q{contribution_id}",
                "rule_id": rule.id,
                "rule_code": rule.code,
                "demarche_id": d.id,
                "question_id": contribution_id,
                "started_at": row["contributed_at"],
                "due_date": due_date,
                "due_at": due_at,
                "status": status,
                "met_at": met,
                "missed_at": due_at if status == "missed" else None,
                "waive_reason": "",
            }
        )
    for start in range(0, len(deadlines), BATCH):
        session.execute(insert(Deadline.__table__), deadlines[start : start + BATCH])
    # Two workshops, a twentieth of the pool attending (some of them never wrote).
    for number in (1, 2):
        workshop = create_event(
            session,
            mission,
            d,
            {
                "kind": "workshop",
                "title": f"Atelier {number}",
                "place": "Hôtel du Département",
                "starts_at": opened + timedelta(days=7 * number),
                "ends_at": opened + timedelta(days=7 * number, hours=3),
                "capacity": 10_000,
            },
            as_of=opened,
        )
        attendees = rng.sample(pool, max(5, size // 40))
        session.execute(
            insert(Registration.__table__),
            [
                {
                    "event_id": workshop.id,
                    "participant_id": person,
                    "status": "confirmed",
                    "attended": True,
                    "created_at": opened,
                    "confirmed_at": opened,
                }
                for person in attendees
            ],
        )
    # The department's decisions, and the feedback: one delivery per contributor, most sent
    # from 5 to 12 days after the closing, some skipped (no consent) or refused.
    for item_id, outcome in zip(items, OUTCOMES, strict=False):
        session.add(
            ItemDecision(
                item_id=item_id, outcome=outcome, justification="Parce que.", decided_at=now
            )
        )
    mailing = Mailing(
        kind="feedback",
        audience="contributors",
        demarche_id=d.id,
        subject="Ce que nous avons fait de vos contributions",
        body="Merci.",
        status="sent",
        created_at=now,
        updated_at=now,
    )
    session.add(mailing)
    session.flush()
    contributors = sorted({r["participant_id"] for r in rows if r["participant_id"]})
    deliveries = []
    for person in contributors:
        roll = rng.random()
        status = "skipped" if roll < 0.05 else "refused" if roll < 0.08 else "sent"
        deliveries.append(
            {
                "mailing_id": mailing.id,
                "address": f"participant-{person}@exemple.fr",
                "participant_id": person,
                "status": status,
                "skip_reason": "no_consent" if status == "skipped" else "",
                "attempts": 0 if status == "skipped" else 1,
                "next_attempt_at": now,
                "sent_at": now + timedelta(days=rng.uniform(5, 12)) if status == "sent" else None,
                "subject": "",
                "body": "",
                "error": "",
            }
        )
    for start in range(0, len(deliveries), BATCH):
        session.execute(insert(Delivery.__table__), deliveries[start : start + BATCH])
    answers = survey_answers(session, d, deliveries, now, rng)
    session.commit()
    return {
        "contributions": size,
        "questions": len(deadlines),
        "contributors": len(contributors),
        "deliveries": len(deliveries),
        "survey answers": answers,
    }


def survey_answers(session, d, deliveries: list[dict], now: datetime, rng: random.Random) -> int:
    """The participants' survey after the feedback: sent to those told, a quarter answering
    (each statement 1 to 5, leaning to agreement)."""
    from workflows import survey
    from workflows.models import Mailing, SurveyAnswer, SurveyInvitation, SurveyScore
    from workflows.models.survey import random_id

    session.add(
        Mailing(
            kind="survey",
            audience="contributors",
            demarche_id=d.id,
            key=f"survey:demarche:{d.id}",
            subject="Votre avis",
            body="[Lien vers le questionnaire]",
            status="sent",
            created_at=now,
            updated_at=now,
        )
    )
    told = [row["participant_id"] for row in deliveries if row["status"] == "sent"]
    invitations, answers, scores = [], [], []
    for person in told:
        answered = rng.random() < 0.25
        invitations.append(
            {
                "demarche_id": d.id,
                "participant_id": person,
                "nonce": f"bench-{d.id}-{person}",
                "answered": answered,
                "created_at": now,
            }
        )
        if answered:
            answer_id = random_id()
            answers.append(
                {"id": answer_id, "demarche_id": d.id, "source": "online", "comment": ""}
            )
            for statement in survey.STATEMENTS:
                score = rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 3, 5, 4))[0]
                scores.append({"answer_id": answer_id, "question": statement.code, "score": score})
    for table, rows in (
        (SurveyInvitation.__table__, invitations),
        (SurveyAnswer.__table__, answers),
        (SurveyScore.__table__, scores),
    ):
        for start in range(0, len(rows), BATCH):
            session.execute(insert(table), rows[start : start + BATCH])
    return len(answers)


def main() -> None:
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(os.environ["BENCH_DATABASE_URL"])
    from backoffice.extensions import db

    app = bench_app("evaluation")
    with emptied_afterwards(app), app.app_context():
        run(db)


def run(db) -> None:
    from backoffice.i18n import tr
    from workflows import evaluation
    from workflows.clock import utcnow
    from workflows.models import Demarche
    from workflows.syntheses import figures

    session, engine = db.session, db.engine
    print_database(session)
    rng = random.Random(14)
    now = utcnow()
    mission = bench_people()
    started = time.perf_counter()
    pool = people_pool(session, now, rng)
    first = closed_consultation(session, mission, "Évaluation de 1 000 contributions", now)
    large = closed_consultation(session, mission, "Évaluation de 100 000 contributions", now)
    # The first took place a year before: its people are not newcomers to the second.
    year_before = now - timedelta(days=365 + 40)
    sizes = {
        first.id: seed(session, first, pool[:400], FIRST, year_before, now, rng),
        large.id: seed(session, large, pool, CONTRIBUTIONS, now - timedelta(days=40), now, rng),
    }
    session.execute(text("ANALYZE"))
    session.commit()
    print(f"seeded in {time.perf_counter() - started:.1f} s")

    counter = Statements(engine)
    figures_seen: list[dict[str, Any]] = []
    for d_id, size in sizes.items():
        session.expire_all()
        d = session.get(Demarche, d_id)

        def forget(d_id: int = d_id) -> Demarche:
            session.expire_all()
            return session.get(Demarche, d_id)

        counter.reset()
        found = evaluation.compute(session, d, as_of=now)
        statements, slowest = counter.count, sorted(counter.timings, reverse=True)[:4]
        seconds = best_of(lambda d=d: evaluation.compute(session, d, as_of=now), forget)
        baseline = best_of(lambda d=d: figures.compute(session, d), forget)
        figures_seen.append(
            {
                **size,
                "statements": statements,
                "seconds": seconds,
                "baseline": baseline,
                "slowest": slowest,
            }
        )
        last = found
    print()
    print(f"{'':<44}{'1st démarche':>16}{'2nd démarche':>16}")

    def line(label: str, values: list[str]) -> None:
        print(f"{label:<44}" + "".join(f"{v:>16}" for v in values))

    line("contributions", [f"{f['contributions']:,}" for f in figures_seen])
    line("questions (with their deadline)", [f"{f['questions']:,}" for f in figures_seen])
    line("contributors (feedback deliveries)", [f"{f['contributors']:,}" for f in figures_seen])
    line("survey answers", [f"{f['survey answers']:,}" for f in figures_seen])
    line("evaluation.compute (best of 5)", [f"{f['seconds'] * 1000:,.0f} ms" for f in figures_seen])
    line("SQL statements of the evaluation", [str(f["statements"]) for f in figures_seen])
    line(
        "baseline: figures.compute (best of 5)",
        [f"{f['baseline'] * 1000:,.0f} ms" for f in figures_seen],
    )
    line(
        "ratio evaluation / baseline", [f"{f['seconds'] / f['baseline']:.1f}" for f in figures_seen]
    )
    same = figures_seen[0]["statements"] == figures_seen[1]["statements"]
    print(f"same number of statements at both sizes: {'yes' if same else 'NO'}")
    print("the slowest statements of the 2nd (first run):")
    for seconds, label in figures_seen[1]["slowest"]:
        print(f"  {seconds * 1000:7.0f} ms  {label}")

    session.expire_all()
    d = session.get(Demarche, large.id)
    started = time.perf_counter()
    frozen = evaluation.freeze(session, d, as_of=now)
    session.commit()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"freeze of the 2nd (computed and kept): {elapsed:.0f} ms")
    print()
    print("the evaluation of the 2nd démarche:")
    from flask import current_app

    with current_app.test_request_context():
        for indicator in (frozen or last).indicators:
            shown = tr(indicator.display) if indicator.display else tr(indicator.missing)
            score = f"{indicator.score}/5" if indicator.score else "—"
            print(f"  {indicator.code:<42}{score:>5}  {shown}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"bench done in {time.perf_counter() - started:.0f} s")
