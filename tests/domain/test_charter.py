"""The charter's deadlines on a real database, time driven only through ``as_of``: Paris-day
due dates across daylight saving, reminders at J-7 and J-1 sent once, misses and their
escalation, waivers, answers to citizens' questions, the sweep's fixed number of queries,
the officials' weekly digest and the charter's versions."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from backoffice.extensions import db
from tests import factories
from tests.conftest import complete_saisine
from workflows import charter, contributions, digests, questions
from workflows import demarches as domain
from workflows.clock import PARIS
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.items import add_item
from workflows.models import (
    AuditEntry,
    Contribution,
    Deadline,
    DeadlineNotice,
    DeadlineStatus,
    Demarche,
    OutboxMessage,
)
from workflows.participants import participant_for_user
from workflows.transitions import transition


def paris(*fields: int) -> datetime:
    """A wall-clock moment in Paris, as an aware UTC datetime."""
    return datetime(*fields, tzinfo=PARIS).astimezone(UTC)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# A saisine submitted on Monday 2 March 2026 at 10:00 in Paris: its review (15 days) ends on
# Tuesday 17 March at 23:59 Paris; J-7 is 10 March at 00:00, J-1 16 March at 00:00 (CET).
SUBMITTED = utc(2026, 3, 2, 9, 0)
REVIEW_DUE = utc(2026, 3, 17, 23, 0)  # 18 March, 00:00 Paris
J7 = utc(2026, 3, 9, 23, 0)  # 10 March, 00:00 Paris
J1 = utc(2026, 3, 15, 23, 0)  # 16 March, 00:00 Paris
MINUTE = timedelta(minutes=1)


def saisine(
    people, submitted_at=SUBMITTED, *, title="Aménagement de la RD 820", agent=None, elected=None
) -> Demarche:
    """A saisine drafted an hour before ``submitted_at`` and submitted then."""
    agent = agent or people.agent
    values = {**complete_saisine(elected or people.elected), "title": title}
    d = domain.create_draft(db.session, agent, values, as_of=submitted_at - timedelta(hours=1))
    transition(db.session, d.id, "submitted", actor=agent, as_of=submitted_at)
    db.session.commit()
    return d


def consultation(people, *, title="Pistes cyclables du Lauragais") -> Demarche:
    """A démarche whose consultation opened on 20 March 2026 and closes on 31 May 2026."""
    d = saisine(people, title=title)
    transition(db.session, d.id, "launch", actor=people.mission, as_of=utc(2026, 3, 3, 9))
    add_item(
        db.session,
        people.mission,
        d,
        title="Engagement n°1",
        text="Le Département répond à chaque question.",
        as_of=utc(2026, 3, 3, 9, 5),
    )
    domain.update_demarche(
        db.session,
        people.mission,
        d,
        {
            "presentation": "Venez donner votre avis.",
            "consultation_opens": date(2026, 3, 20),
            "consultation_closes": date(2026, 5, 31),
        },
        as_of=utc(2026, 3, 3, 9, 10),
    )
    transition(db.session, d.id, "consultation", actor=people.mission, as_of=utc(2026, 3, 20, 8))
    db.session.commit()
    return d


def deadline_of(d: Demarche, code: str = "review_saisine", question=None) -> Deadline:
    query = select(Deadline).where(Deadline.demarche_id == d.id, Deadline.rule_code == code)
    query = query.where(
        Deadline.question_id == question.id if question else Deadline.question_id.is_(None)
    )
    return db.session.scalars(query.execution_options(populate_existing=True)).one()


def reminders(deadline: Deadline) -> list[tuple[str, int]]:
    """(address, offset) of the reminders queued about ``deadline``, in order."""
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.template == charter.REMINDER)
        .order_by(OutboxMessage.id)
    )
    return [
        (row.recipient.email, row.context["offset"])
        for row in rows
        if row.context["deadline_id"] == deadline.id
    ]


def alerts(deadline: Deadline) -> list[str]:
    """The addresses alerted that ``deadline`` was missed (one entry per queued email)."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == charter.MISSED))
    return sorted(row.recipient.email for row in rows if row.context["deadline_id"] == deadline.id)


def edit_charter(mission, as_of: datetime, **changes: dict):
    """A new version of the charter with ``changes`` per rule code, published by the mission."""
    draft = charter.new_draft(db.session, mission, as_of=as_of)
    for code, fields in changes.items():
        charter.update_rule(
            db.session, mission, draft.rule(code), rule_fields(draft, code, **fields), as_of=as_of
        )
    charter.publish(db.session, mission, draft, as_of=as_of)
    db.session.commit()
    return draft


def rule_fields(version, code: str, **changes) -> dict:
    rule = version.rule(code)
    return {**{c: getattr(rule, c) for c in charter.RULE_COLUMNS}, **changes}


# -- 1. due dates --------------------------------------------------------------------------------


def test_within_30_days_ends_at_midnight_paris_after_the_30th_day(ctx):
    due_date, due_at = charter.due_of(utc(2026, 1, 10, 10), 30, "days")
    assert due_date == date(2026, 2, 9)
    assert due_at == utc(2026, 2, 9, 23)  # 10 February, 00:00 in Paris (CET)
    last_minute = (due_at - MINUTE).astimezone(PARIS)
    assert (last_minute.date(), last_minute.hour, last_minute.minute) == (date(2026, 2, 9), 23, 59)
    # The day is the Paris day: 23:30 UTC on the 10th is already the 11th in Paris.
    assert charter.due_of(utc(2026, 1, 10, 23, 30), 30, "days") == (
        date(2026, 2, 10),
        utc(2026, 2, 10, 23),
    )
    # Immediate: the same day, until its end.
    assert charter.due_of(utc(2026, 1, 10, 10), 0, "days") == (
        date(2026, 1, 10),
        utc(2026, 1, 10, 23),
    )


def test_months_are_calendar_months_clamped_to_the_months_end(ctx):
    assert charter.due_of(utc(2026, 1, 31, 12), 1, "months") == (
        date(2026, 2, 28),
        utc(2026, 2, 28, 23),
    )
    # Across the spring change: 15 April ends at 22:00 UTC (CEST).
    assert charter.due_of(utc(2026, 3, 15, 10), 1, "months") == (
        date(2026, 4, 15),
        utc(2026, 4, 15, 22),
    )
    assert charter.due_of(utc(2026, 3, 31, 10), 2, "months") == (
        date(2026, 5, 31),
        utc(2026, 5, 31, 22),
    )


@pytest.mark.parametrize(
    ("start", "due_date", "due_at", "hours"),
    [
        # 25 March (CET) + 7 days crosses 29 March: ends 2 April 00:00 CEST = 22:00 UTC,
        # one hour less than 8 × 24 h after the first day's midnight.
        (utc(2026, 3, 25, 10), date(2026, 4, 1), utc(2026, 4, 1, 22), 8 * 24 - 1),
        # 22 October (CEST) + 7 days crosses 25 October: ends 30 October 00:00 CET = 23:00 UTC.
        (utc(2026, 10, 22, 10), date(2026, 10, 29), utc(2026, 10, 29, 23), 8 * 24 + 1),
        # The last day is the change itself (23 h in spring, 25 h in autumn).
        (utc(2026, 3, 22, 10), date(2026, 3, 29), utc(2026, 3, 29, 22), 8 * 24 - 1),
        (utc(2026, 10, 18, 10), date(2026, 10, 25), utc(2026, 10, 25, 23), 8 * 24 + 1),
    ],
)
def test_a_dst_week_gives_the_right_utc_instant(ctx, start, due_date, due_at, hours):
    assert charter.due_of(start, 7, "days") == (due_date, due_at)
    first_midnight = datetime.combine(start.astimezone(PARIS).date(), datetime.min.time(), PARIS)
    assert due_at - first_midnight == timedelta(hours=hours)
    last_minute = (due_at - MINUTE).astimezone(PARIS)
    assert (last_minute.date(), last_minute.hour, last_minute.minute) == (due_date, 23, 59)


def test_a_saisine_submitted_after_midnight_paris_counts_from_that_day(people):
    # 23:30 UTC on 25 March is 00:30 on the 26th in Paris.
    d = saisine(people, utc(2026, 3, 25, 23, 30))
    review = deadline_of(d)
    assert (review.due_date, review.due_at) == (date(2026, 4, 10), utc(2026, 4, 10, 22))
    assert review.started_at == utc(2026, 3, 25, 23, 30)
    receipt = deadline_of(d, "acknowledge_saisine")
    assert (receipt.due_date, receipt.due_at) == (date(2026, 3, 26), utc(2026, 3, 26, 23))
    assert {review.status, receipt.status} == {DeadlineStatus.PENDING}


@pytest.mark.parametrize(
    ("submitted", "j1", "due_at"),
    [
        # Spring: J-1 (31 March) starts at 22:00 UTC, the deadline ends 1 April 22:00 UTC.
        (utc(2026, 3, 25, 10), utc(2026, 3, 30, 22), utc(2026, 4, 1, 22)),
        # Autumn: J-1 (28 October) starts at 23:00 UTC, the end is 29 October 23:00 UTC.
        (utc(2026, 10, 22, 10), utc(2026, 10, 27, 23), utc(2026, 10, 29, 23)),
    ],
)
def test_the_sweep_reminds_and_marks_on_paris_midnights_in_a_dst_week(
    people, submitted, j1, due_at
):
    edit_charter(
        people.mission,
        submitted - timedelta(days=1),
        review_saisine={"duration": 7, "reminders": [1]},
    )
    d = saisine(people, submitted)
    review = deadline_of(d)
    assert review.due_at == due_at
    charter.scan(db.session, as_of=j1 - MINUTE)
    assert reminders(review) == []
    charter.scan(db.session, as_of=j1)
    assert reminders(review) == [(people.mission.email, 1)]
    charter.scan(db.session, as_of=due_at - MINUTE)
    assert deadline_of(d).status == DeadlineStatus.PENDING
    charter.scan(db.session, as_of=due_at)
    assert deadline_of(d).status == DeadlineStatus.MISSED
    assert deadline_of(d).missed_at == due_at


# -- 2. reminders at J-7 and J-1 ------------------------------------------------------------------


def test_reminders_go_at_j7_and_j1_to_the_mission_once_each(people, deliver, smtp):
    d = saisine(people)
    review = deadline_of(d)
    assert (review.due_date, review.due_at) == (date(2026, 3, 17), REVIEW_DUE)

    assert charter.scan(db.session, as_of=J7 - MINUTE).reminded == 0
    assert reminders(review) == []

    first = charter.scan(db.session, as_of=J7)
    assert first.reminded == 1
    # The rule's responsible is the mission: its staff, not the administrators nor the agent.
    assert reminders(review) == [(people.mission.email, 7)]

    for later in (J7, J7 + timedelta(hours=5), utc(2026, 3, 12, 9), J1 - MINUTE):
        again = charter.scan(db.session, as_of=later)
        assert (again.reminded, again.messages) == (0, 0), later
    assert reminders(review) == [(people.mission.email, 7)]

    assert charter.scan(db.session, as_of=J1).reminded == 1
    assert reminders(review) == [(people.mission.email, 7), (people.mission.email, 1)]
    assert charter.scan(db.session, as_of=J1 + timedelta(hours=3)).reminded == 0
    assert reminders(review) == [(people.mission.email, 7), (people.mission.email, 1)]

    deliver(J1 + timedelta(hours=4))
    sent = [r for r in smtp.to(people.mission.email) if r.subject.startswith("Rappel")]
    assert [r.subject for r in sent] == [
        f"Rappel : « Examiner une saisine » pour « {d.title} », au plus tard le 17 mars 2026"
    ] * 2
    assert "Dernier jour : 17 mars 2026 (jusqu’à 23 h 59)." in sent[0].text
    assert f"/admin/demarche/details/?id={d.id}" in sent[0].text
    for other in (people.admin, people.agent, people.elected):
        assert not [r for r in smtp.to(other.email) if r.subject.startswith("Rappel")]


def test_a_sweep_that_missed_j7_sends_only_the_latest_reminder(people):
    d = saisine(people)
    review = deadline_of(d)
    report = charter.scan(db.session, as_of=J1 + timedelta(hours=2))
    assert report.reminded == 1
    assert reminders(review) == [(people.mission.email, 1)]
    # J-7 is settled without being sent, and is never sent late.
    marked = db.session.execute(
        select(DeadlineNotice.kind, DeadlineNotice.offset).where(
            DeadlineNotice.deadline_id == review.id
        )
    ).all()
    assert sorted(marked) == [("remind", 1), ("remind", 7)]
    assert charter.scan(db.session, as_of=J1 + timedelta(hours=3)).reminded == 0
    assert reminders(review) == [(people.mission.email, 1)]


def test_a_sweep_late_between_j7_and_j1_sends_j7_then_j1(people):
    d = saisine(people)
    review = deadline_of(d)
    charter.scan(db.session, as_of=utc(2026, 3, 13, 8))
    assert reminders(review) == [(people.mission.email, 7)]
    charter.scan(db.session, as_of=J1)
    assert reminders(review) == [(people.mission.email, 7), (people.mission.email, 1)]


# -- 3. a miss and its escalation --------------------------------------------------------------


def test_a_missed_review_alerts_the_head_of_mission_once(people, deliver, smtp):
    d = saisine(people)
    review = deadline_of(d)
    charter.scan(db.session, as_of=REVIEW_DUE - MINUTE)
    assert deadline_of(d).status == DeadlineStatus.PENDING
    assert alerts(review) == []

    report = charter.scan(db.session, as_of=REVIEW_DUE + timedelta(hours=8))
    assert report.missed == 1  # the receipt was missed long before, at an earlier sweep
    review = deadline_of(d)
    assert review.status == DeadlineStatus.MISSED
    assert review.missed_at == REVIEW_DUE  # missed when its last day ended, not when seen
    assert review.met_at is None and review.on_time is None
    # The rule alerts "admin": the head of the mission, and nobody else.
    assert alerts(review) == [people.admin.email]

    again = charter.scan(db.session, as_of=REVIEW_DUE + timedelta(days=3))
    assert (again.missed, again.messages) == (0, 0)
    assert alerts(review) == [people.admin.email]

    deliver(REVIEW_DUE + timedelta(days=3))
    [alert] = [r for r in smtp.to(people.admin.email) if r.subject.startswith("Échéance")]
    assert alert.subject == f"Échéance manquée : « Examiner une saisine » pour « {d.title} »"
    assert "Direction des routes" in alert.text
    for other in (people.mission, people.agent, people.elected):
        # (the mission is alerted of the receipt never sent, another deadline)
        assert not [r for r in smtp.to(other.email) if r.subject == alert.subject]


def test_a_miss_alerts_everyone_the_rule_lists_and_only_them(people, make_user):
    everyone = ["mission", "admin", "elected", "department"]
    edit_charter(people.mission, SUBMITTED - timedelta(days=1), review_saisine={"alert": everyone})
    second_agent = make_user("department", department="Direction des routes")
    d = saisine(people)
    review = deadline_of(d)
    charter.scan(db.session, as_of=REVIEW_DUE)
    charter.scan(db.session, as_of=REVIEW_DUE + MINUTE)
    assert alerts(review) == sorted(
        [
            people.mission.email,
            people.admin.email,
            people.elected.email,  # the démarche's own official, not the other one
            people.agent.email,  # the démarche's department, not the other department
            second_agent.email,
        ]
    )


def test_an_unanswered_question_alerts_the_mission_and_the_official(people, citizen):
    d = consultation(people)
    question = ask(d, citizen, utc(2026, 4, 1, 10))
    deadline = deadline_of(d, "answer_question", question)
    charter.scan(db.session, as_of=deadline.due_at)
    charter.scan(db.session, as_of=deadline.due_at + timedelta(days=1))
    assert alerts(deadline) == sorted([people.mission.email, people.elected.email])


# -- 4. a waiver -----------------------------------------------------------------------------------


def test_only_the_mission_waives_with_a_reason_and_a_waived_deadline_stays_quiet(people):
    d = saisine(people)
    review = deadline_of(d)
    moment = SUBMITTED + timedelta(days=2)
    for someone in (people.agent, people.elected):
        with pytest.raises(PermissionDenied, match="only the mission waives a deadline"):
            charter.waive(db.session, someone, review, reason="Parce que", as_of=moment)
    for blank in ("", "   \n ", None, 42):
        with pytest.raises(InvalidFields) as refused:
            charter.waive(db.session, people.mission, review, reason=blank, as_of=moment)
        assert {k: str(v) for k, v in refused.value.errors.items()} == {
            "reason": "the reason is required"
        }
    assert deadline_of(d).status == DeadlineStatus.PENDING

    reason = "Le service a été reçu en réunion : l'examen attendra le budget."
    charter.waive(db.session, people.mission, review, reason=f"  {reason} ", as_of=moment)
    db.session.commit()
    review = deadline_of(d)
    assert (review.status, review.waive_reason, review.waived_by) == (
        DeadlineStatus.WAIVED,
        reason,
        people.mission,
    )
    assert review.waived_at == moment
    [audit] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "deadline.waive")
    ).all()
    assert (audit.actor_id, audit.demarche_id, audit.target, audit.at) == (
        people.mission.id,
        d.id,
        f"deadline:{review.id}",
        moment,
    )

    for later in (J7, J1, REVIEW_DUE, REVIEW_DUE + timedelta(days=10)):
        charter.scan(db.session, as_of=later)
    review = deadline_of(d)
    assert review.status == DeadlineStatus.WAIVED and review.missed_at is None
    assert reminders(review) == [] and alerts(review) == []
    # Accepting the saisine later does not turn the waiver into a met deadline.
    transition(
        db.session, d.id, "launch", actor=people.mission, as_of=REVIEW_DUE + timedelta(days=11)
    )
    db.session.commit()
    assert deadline_of(d).status == DeadlineStatus.WAIVED and deadline_of(d).met_at is None
    with pytest.raises(Conflict):
        charter.waive(db.session, people.mission, review, reason="Encore", as_of=moment)


def test_an_administrator_waives_a_missed_deadline(people):
    d = saisine(people)
    charter.scan(db.session, as_of=SUBMITTED + timedelta(days=1))
    receipt = deadline_of(d, "acknowledge_saisine")
    assert receipt.status == DeadlineStatus.MISSED
    charter.waive(
        db.session, people.admin, receipt, reason="Serveur de courriel en panne", as_of=J7
    )
    db.session.commit()
    assert deadline_of(d, "acknowledge_saisine").status == DeadlineStatus.WAIVED


# -- 5. the last minute of the last day ------------------------------------------------------------


def test_met_at_23_59_paris_on_the_last_day_is_on_time(people):
    d = saisine(people)
    transition(db.session, d.id, "launch", actor=people.mission, as_of=paris(2026, 3, 17, 23, 59))
    db.session.commit()
    charter.scan(db.session, as_of=REVIEW_DUE + timedelta(days=1))
    review = deadline_of(d)
    assert review.status == DeadlineStatus.MET
    assert review.met_at == utc(2026, 3, 17, 22, 59)
    assert review.on_time is True
    assert review.missed_at is None and alerts(review) == []


def test_one_minute_after_midnight_is_missed_then_met_late(people):
    d = saisine(people)
    report = charter.scan(db.session, as_of=paris(2026, 3, 18, 0, 1))
    review = deadline_of(d)
    assert review.status == DeadlineStatus.MISSED and review.missed_at == REVIEW_DUE
    assert report.missed == 2  # the receipt, never sent, and the review
    accepted = paris(2026, 3, 18, 9, 30)
    transition(db.session, d.id, "launch", actor=people.mission, as_of=accepted)
    db.session.commit()
    review = deadline_of(d)
    assert review.status == DeadlineStatus.MET
    assert review.met_at == accepted and review.met_at > review.due_at
    assert review.on_time is False
    assert review.missed_at == REVIEW_DUE  # the record keeps that it was missed
    charter.scan(db.session, as_of=accepted + timedelta(days=1))
    assert deadline_of(d).status == DeadlineStatus.MET
    assert alerts(review) == [people.admin.email]  # alerted once, when it was missed


def test_met_at_midnight_exactly_is_late(people):
    d = saisine(people)
    transition(db.session, d.id, "launch", actor=people.mission, as_of=paris(2026, 3, 18, 0, 0))
    db.session.commit()
    review = deadline_of(d)
    assert review.status == DeadlineStatus.MET and review.on_time is False


# -- 6. two sweeps at once -------------------------------------------------------------------------


def test_two_sweeps_at_once_send_each_reminder_and_alert_once(app, people):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent sweeps need PostgreSQL (SQLite serialises writers by itself)")
    ds = [saisine(people, title=f"Saisine numéro {n}") for n in range(8)]
    reviews = [deadline_of(d).id for d in ds]
    receipts = [deadline_of(d, "acknowledge_saisine").id for d in ds]
    engine = db.engine
    barrier = threading.Barrier(2, timeout=20)
    reports: list[charter.ScanReport] = []
    errors: list[BaseException] = []

    def sweep(moment: datetime) -> None:
        with app.app_context(), Session(engine) as session:
            try:
                barrier.wait()
                reports.append(charter.scan(session, as_of=moment))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

    def race(moment: datetime) -> list[charter.ScanReport]:
        reports.clear()
        threads = [threading.Thread(target=sweep, args=(moment,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        return list(reports)

    at_j7 = race(J7)  # the 8 reminders at J-7, and the 8 receipts missed
    assert sum(r.reminded for r in at_j7) == len(ds)
    assert sum(r.missed for r in at_j7) == len(ds)
    # Each review reminded to the mission, each missed receipt alerted to the mission.
    assert sum(r.messages for r in at_j7) == 2 * len(ds)
    at_j1 = race(J1)
    assert sum(r.reminded for r in at_j1) == len(ds)
    after = race(REVIEW_DUE)
    assert sum(r.missed for r in after) == len(ds)

    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    reminded = sorted(
        (m.context["deadline_id"], m.context["offset"])
        for m in rows
        if m.template == charter.REMINDER
    )
    assert reminded == sorted([(i, 7) for i in reviews] + [(i, 1) for i in reviews])
    alerted = sorted(m.context["deadline_id"] for m in rows if m.template == charter.MISSED)
    # A receipt alerts the mission, a review the head of mission: one person each, once.
    assert alerted == sorted(receipts + reviews)
    notices = db.session.scalar(select(func.count(DeadlineNotice.id)))
    assert notices == 2 * len(ds) + 2 * len(ds)


# -- 7. a question answered late -----------------------------------------------------------------


def ask(d: Demarche, citizen, as_of: datetime) -> Contribution:
    author = participant_for_user(db.session, citizen, as_of=as_of)
    question = factories.contribution(
        d,
        citizen,
        body="Quand les travaux commenceront-ils sur la RD 622 ?",
        kind="question",
        author=author,
        as_of=as_of,
    )
    db.session.commit()
    return question


def test_a_question_answered_on_day_31_is_met_late_and_the_asker_gets_the_answer(
    people, citizen, deliver, smtp
):
    d = consultation(people)
    asked = utc(2026, 4, 1, 10)  # noon in Paris (CEST)
    question = ask(d, citizen, asked)
    deadline = deadline_of(d, "answer_question", question)
    assert (deadline.due_date, deadline.due_at) == (date(2026, 5, 1), utc(2026, 5, 1, 22))
    assert deadline.status == DeadlineStatus.PENDING

    # The department is reminded at J-7 (24 April, 00:00 Paris): its agents, not the other one's.
    charter.scan(db.session, as_of=utc(2026, 4, 23, 21, 59))
    assert reminders(deadline) == []
    charter.scan(db.session, as_of=utc(2026, 4, 23, 22))
    assert reminders(deadline) == [(people.agent.email, 7)]

    day_31 = paris(2026, 5, 2, 11, 0)
    charter.scan(db.session, as_of=paris(2026, 5, 2, 8, 0))
    assert deadline_of(d, "answer_question", question).status == DeadlineStatus.MISSED

    with pytest.raises(PermissionDenied):
        questions.answer(db.session, people.other_agent, question, "Bientôt.", as_of=day_31)
    with pytest.raises(InvalidFields):
        questions.answer(db.session, people.agent, question, "  ", as_of=day_31)
    text = "Les travaux commenceront en septembre 2026, pour six mois."
    questions.answer(db.session, people.agent, question, text, as_of=day_31)
    db.session.commit()

    question = db.session.get(Contribution, question.id)
    assert (question.answer, question.answered_at, question.answered_by) == (
        text,
        day_31,
        people.agent,
    )
    deadline = deadline_of(d, "answer_question", question)
    assert deadline.status == DeadlineStatus.MET
    assert deadline.met_at == day_31 and deadline.on_time is False
    # The démarche's own record does not list the question's deadline.
    assert "answer_question" not in [x.rule_code for x in charter.record_of(db.session, d)]

    deliver(day_31)
    [email] = smtp.to(citizen.email)
    assert email.subject == f"Votre question sur « {d.title} » a reçu sa réponse"
    assert text in email.text
    assert "Quand les travaux commenceront-ils" in email.text
    assert "La réponse du Département (Direction des routes)" in email.text
    assert f"#contribution-{question.id}" in email.text

    # A correction is published but mailed again to nobody and settles nothing more.
    questions.answer(db.session, people.agent, question, text + " Corrigé.", as_of=day_31 + MINUTE)
    db.session.commit()
    assert db.session.get(Contribution, question.id).answered_at == day_31
    deliver(day_31 + timedelta(minutes=2))
    assert len(smtp.to(citizen.email)) == 1
    assert deadline_of(d, "answer_question", question).met_at == day_31


def test_a_question_answered_in_time_is_met_on_time(people, citizen):
    d = consultation(people)
    question = ask(d, citizen, utc(2026, 4, 1, 10))
    questions.answer(
        db.session, people.mission, question, "Dès le 1er juin.", as_of=paris(2026, 5, 1, 23, 59)
    )
    db.session.commit()
    deadline = deadline_of(d, "answer_question", question)
    assert deadline.status == DeadlineStatus.MET and deadline.on_time is True
    charter.scan(db.session, as_of=utc(2026, 5, 10))
    assert deadline_of(d, "answer_question", question).status == DeadlineStatus.MET


def test_a_hidden_question_is_neither_reminded_nor_missed(people, citizen):
    d = consultation(people)
    question = ask(d, citizen, utc(2026, 4, 1, 10))
    contributions.moderate(
        db.session,
        question,
        "hide",
        actor=people.mission,
        reason="Propos injurieux",
        as_of=utc(2026, 4, 2, 9),
    )
    db.session.commit()
    with pytest.raises(Conflict):  # nobody may answer it any more
        questions.answer(db.session, people.agent, question, "Réponse", as_of=utc(2026, 4, 3))
    db.session.rollback()
    for moment in (utc(2026, 4, 23, 22), utc(2026, 4, 30, 22), utc(2026, 5, 2, 6)):
        charter.scan(db.session, as_of=moment)
    deadline = deadline_of(d, "answer_question", question)
    assert reminders(deadline) == [] and alerts(deadline) == []
    assert deadline.status == DeadlineStatus.WAIVED
    assert deadline.waive_reason == "Propos injurieux"


def test_a_restored_question_gets_its_clock_back(people, citizen):
    d = consultation(people)
    question = ask(d, citizen, utc(2026, 4, 1, 10))
    for action, moment in (("hide", utc(2026, 4, 2, 9)), ("restore", utc(2026, 4, 3, 9))):
        contributions.moderate(
            db.session, question, action, actor=people.mission, reason="Doublon ?", as_of=moment
        )
    db.session.commit()
    deadline = deadline_of(d, "answer_question", question)
    assert deadline.status == DeadlineStatus.PENDING and deadline.waive_reason == ""
    charter.scan(db.session, as_of=utc(2026, 5, 2, 6))  # its 30 days are over
    assert deadline_of(d, "answer_question", question).status == DeadlineStatus.MISSED


# -- 8. the sweep's number of queries -------------------------------------------------------------


def count_scan_queries(as_of: datetime) -> tuple[int, charter.ScanReport]:
    db.session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        report = charter.scan(db.session, as_of=as_of)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements), report


def test_the_sweeps_queries_do_not_grow_with_the_number_of_demarches(people):
    def batch(n: int, submitted: datetime) -> datetime:
        ds = [
            saisine(
                people,
                submitted,
                title=f"Saisine {submitted:%m%d} {i}",
                agent=people.agent if i % 2 else people.other_agent,
                elected=people.elected if i % 3 else people.other_elected,
            )
            for i in range(n)
        ]
        return charter.reminder_moment(deadline_of(ds[0]).due_date, 7)

    small_j7 = batch(3, SUBMITTED)
    small, small_report = count_scan_queries(small_j7)
    assert (small_report.reminded, small_report.missed) == (3, 3)
    charter.scan(db.session, as_of=utc(2026, 4, 30))  # the first batch is over
    large_j7 = batch(12, utc(2026, 5, 4, 9))
    large, large_report = count_scan_queries(large_j7)
    assert (large_report.reminded, large_report.missed) == (12, 12)
    assert large == small, (small, large)
    assert small <= 10


# -- 9. the weekly digest --------------------------------------------------------------------------


def test_the_weekly_digest_goes_to_each_official_with_news_once_a_week(
    people, make_user, deliver, smtp
):
    late = saisine(people, utc(2026, 2, 16, 9), title="Collège de Muret")  # review due 3 March
    saisine(people, title="Voie verte du canal")  # review due 17 March
    deliver(SUBMITTED + MINUTE)  # the receipts are sent: only the late review will be missed
    quiet = make_user("elected", name="Quentin Calme")
    domain.create_draft(
        db.session,
        people.agent,
        {**complete_saisine(quiet), "title": "Un brouillon"},
        as_of=SUBMITTED,
    )  # a draft gives its official nothing to say
    db.session.commit()
    monday = paris(2026, 3, 9, 7, 0)
    charter.scan(db.session, as_of=monday)
    assert deadline_of(late).status == DeadlineStatus.MISSED
    smtp.clear()

    assert digests.send_weekly(db.session, as_of=monday) == 1
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == digests.TEMPLATE)
    ).all()
    assert [(r.recipient, r.context["digest_week"]) for r in rows] == [(people.elected, "2026-W11")]
    # Later the same week (Sunday 23:30 in Paris), nothing new.
    assert digests.send_weekly(db.session, as_of=paris(2026, 3, 15, 23, 30)) == 0
    assert digests.send_weekly(db.session, as_of=monday) == 0

    deliver(monday)
    [email] = [r for r in smtp.to(people.elected.email) if r.subject.startswith("Vos démarches")]
    assert email.subject == "Vos démarches, semaine du 9 mars 2026"
    assert "Voie verte du canal" in email.text and "Collège de Muret" in email.text
    upcoming, missed = email.text.split("Échéances manquées")
    assert "Échéances des deux prochaines semaines" in upcoming
    assert "17 mars 2026" in upcoming and "3 mars 2026" not in upcoming
    assert "3 mars 2026" in missed and "Collège de Muret" in missed
    for nobody in (people.other_elected, quiet):
        assert smtp.to(nobody.email) == []

    # The next Monday (00:30 in Paris, still Sunday in UTC) is a new week.
    assert digests.send_weekly(db.session, as_of=paris(2026, 3, 16, 0, 30)) == 1


def test_no_digest_when_no_official_has_anything_to_say(people):
    assert digests.send_weekly(db.session, as_of=paris(2026, 3, 9, 7)) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


# -- 10. the charter's versions --------------------------------------------------------------------


def test_a_demarche_keeps_its_version_and_new_ones_take_the_new_version(people):
    first = charter.current_version(db.session)
    old = domain.create_draft(
        db.session, people.agent, {**complete_saisine(people.elected)}, as_of=SUBMITTED
    )
    db.session.commit()
    assert old.charter_version == first

    drafted = SUBMITTED + timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        charter.new_draft(db.session, people.agent, as_of=drafted)
    draft = charter.new_draft(db.session, people.mission, as_of=drafted)
    assert draft.number == first.number + 1 and draft.published_at is None
    assert [r.code for r in draft.rules] == [r.code for r in first.rules]
    rule = draft.rule("review_saisine")
    shorter = rule_fields(draft, "review_saisine", duration=10, reminders=[3])
    with pytest.raises(PermissionDenied):
        charter.update_rule(db.session, people.agent, rule, shorter, as_of=drafted)
    with pytest.raises(InvalidFields) as bad:
        charter.update_rule(
            db.session, people.mission, rule, {**shorter, "stop_event": "never"}, as_of=drafted
        )
    assert "stop_event" in bad.value.errors
    charter.update_rule(db.session, people.mission, rule, shorter, as_of=drafted)
    with pytest.raises(Conflict, match="a published version no longer changes"):
        charter.update_rule(
            db.session, people.mission, first.rule("review_saisine"), shorter, as_of=drafted
        )
    with pytest.raises(PermissionDenied):
        charter.publish(db.session, people.agent, draft, as_of=drafted)
    charter.publish(db.session, people.mission, draft, as_of=drafted)
    db.session.commit()
    assert charter.current_version(db.session) == draft
    assert db.session.get(type(first), first.id).is_current is False
    with pytest.raises(Conflict, match="a published version no longer changes"):
        charter.update_rule(db.session, people.mission, rule, shorter, as_of=drafted)
    with pytest.raises(Conflict, match="already published"):
        charter.publish(db.session, people.mission, draft, as_of=drafted)
    db.session.rollback()
    assert draft.rule("review_saisine").duration == 10

    # The old draft, submitted after the publication, keeps its own (first) version.
    transition(
        db.session, old.id, "submitted", actor=people.agent, as_of=SUBMITTED + timedelta(days=1)
    )
    db.session.commit()
    assert db.session.get(Demarche, old.id).charter_version_id == first.id
    old_review = deadline_of(old)
    assert old_review.due_date == date(2026, 3, 18)  # 15 days
    assert old_review.rule.version_id == first.id

    new = saisine(people, SUBMITTED + timedelta(days=1), title="Nouvelle saisine")
    assert new.charter_version_id == draft.id
    new_review = deadline_of(new)
    assert new_review.due_date == date(2026, 3, 13)  # 10 days
    charter.scan(db.session, as_of=paris(2026, 3, 10, 0, 0))  # J-3 of the new one only
    assert reminders(new_review) == [(people.mission.email, 3)]
    assert reminders(old_review) == []

    # Resetting to the default charter makes a third version; both démarches keep theirs.
    third = charter.install_default(db.session, actor=people.mission, as_of=utc(2026, 3, 11))
    db.session.commit()
    assert charter.current_version(db.session) == third
    assert third.rule("review_saisine").duration == 15
    assert db.session.get(Demarche, new.id).charter_version_id == draft.id
    assert db.session.get(Demarche, old.id).charter_version_id == first.id


def test_a_rule_that_makes_no_sense_is_refused_with_its_reason(people):
    draft = charter.new_draft(db.session, people.mission, as_of=utc(2026, 4, 1))

    def refused(code: str, **changes) -> dict:
        rule = draft.rule(code)
        values = {column: getattr(rule, column) for column in charter.RULE_COLUMNS}
        with pytest.raises(InvalidFields) as refusal:
            charter.update_rule(
                db.session, people.mission, rule, {**values, **changes}, as_of=utc(2026, 4, 1)
            )
        return {name: str(message) for name, message in refusal.value.errors.items()}

    assert "stop_event" in refused("review_saisine", stop_event="submitted")
    assert "stop_event" in refused("answer_question", stop_event="feedback_sent")
    assert "reminders" in refused("review_saisine", reminders=[20, 1])  # a 15-day clock
    assert "maximum" in refused(
        "consultation_length", duration=3, unit="months", maximum=21, maximum_unit="days"
    )
