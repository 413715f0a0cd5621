"""The stage machine's table and guards, on démarches that never touch a database."""

from datetime import date

import pytest

from tests.support import at
from workflows.guards import MoveContext, unmet_conditions
from workflows.models import DecisionOutcome, Demarche, Item, ItemDecision
from workflows.stages import MOVES, ParticipationLevel, Stage, add_months, find_move


def texts(messages):
    return [str(m) for m in messages]


def check(d: Demarche, target: Stage, as_of="2026-11-25T10:00:00", comment=""):
    move = find_move(d.stage, target)
    assert move is not None
    return texts(unmet_conditions(d, move, MoveContext(None, at(as_of), comment)))


def launched(**fields) -> Demarche:
    values = dict(
        stage=Stage.LAUNCH,
        presentation="Venez",
        consultation_opens=date(2026, 11, 25),
        consultation_closes=date(2026, 12, 20),
        announced_at=at("2026-11-01T09:00:00"),
        items=[Item(title="Engagement n°1")],
    )
    values.update(fields)
    return Demarche(**values)


def test_every_stage_of_design_is_reachable_from_draft():
    reachable, frontier = {Stage.DRAFT}, [Stage.DRAFT]
    while frontier:
        stage = frontier.pop()
        for move in MOVES:
            if move.source == stage and move.target not in reachable:
                reachable.add(move.target)
                frontier.append(move.target)
    assert reachable == set(Stage)


def test_closed_and_rejected_are_final():
    assert not [m for m in MOVES if m.source in (Stage.CLOSED, Stage.REJECTED)]


def test_an_empty_saisine_lists_everything_it_misses():
    d = Demarche(stage=Stage.DRAFT, title="  ")
    assert check(d, Stage.SUBMITTED) == [
        "title missing",
        "department missing",
        "objectives missing",
        "public concerned missing",
        "territory missing",
        "desired calendar missing",
        "participation level missing",
        "sponsoring elected official missing",
    ]


def test_a_complete_saisine_may_be_submitted():
    d = Demarche(
        stage=Stage.DRAFT,
        title="T",
        department_id=1,
        objectives="O",
        public="P",
        territory="Revel",
        desired_calendar="C",
        participation_level=ParticipationLevel.CONSULTATION,
        elected_official_id=2,
    )
    assert check(d, Stage.SUBMITTED) == []


@pytest.mark.parametrize("target", [Stage.RETURNED, Stage.REJECTED])
def test_returning_or_rejecting_needs_a_reason(target):
    d = Demarche(stage=Stage.SUBMITTED)
    assert check(d, target) == ["a comment is required for this decision"]
    assert check(d, target, comment="Précisez le public") == []


def test_opening_needs_dates_a_presentation_and_items():
    d = launched(presentation="", consultation_opens=None, consultation_closes=None, items=[])
    assert check(d, Stage.CONSULTATION) == [
        "consultation dates missing",
        "public presentation missing",
        "no item to comment: prepare at least one",
    ]


def test_a_consultation_lasts_at_least_21_days_both_days_counted():
    d = launched(consultation_closes=date(2026, 12, 14))  # 25 Nov → 14 Dec: 20 days
    assert check(d, Stage.CONSULTATION) == [
        "rule “Durée de la consultation”: the consultation must last at least 21 days (it lasts 20)"
    ]
    assert check(launched(consultation_closes=date(2026, 12, 15)), Stage.CONSULTATION) == []


def test_a_consultation_lasts_at_most_three_months():
    assert check(launched(consultation_closes=date(2027, 2, 25)), Stage.CONSULTATION) == []
    assert check(launched(consultation_closes=date(2027, 2, 26)), Stage.CONSULTATION) == [
        "rule “Durée de la consultation”: the consultation may last at most 3 months"
    ]


def test_the_opening_date_is_public_15_days_before_the_opening():
    late = launched(announced_at=at("2026-11-10T23:30:00"))  # 11 Nov in Paris: too late
    assert check(late, Stage.CONSULTATION) == [
        "rule “Annoncer la consultation avant son ouverture”: the opening date must be public "
        "15 days before it (by 2026-11-10; it was announced on 2026-11-11)"
    ]
    assert check(launched(announced_at=at("2026-11-10T22:59:00")), Stage.CONSULTATION) == []
    never = launched(announced_at=None)
    assert "it was announced on —" in check(never, Stage.CONSULTATION)[0]


def test_a_consultation_does_not_open_before_its_date_nor_close_backwards():
    early = check(launched(), Stage.CONSULTATION, as_of="2026-11-24T22:59:00")  # 23:59 in Paris
    assert early == ["the consultation opens on 2026-11-25, not before"]
    # 00:00 in Paris on the 25th is still the 24th in UTC: the local day counts.
    assert check(launched(), Stage.CONSULTATION, as_of="2026-11-24T23:00:00") == []
    backwards = launched(consultation_closes=date(2026, 11, 20))
    assert check(backwards, Stage.CONSULTATION) == ["the consultation must close after it opens"]


def test_closing_early_needs_a_reason_but_not_after_the_closing_day():
    d = Demarche(stage=Stage.CONSULTATION, consultation_closes=date(2026, 12, 20))
    assert check(d, Stage.SYNTHESIS, as_of="2026-12-20T22:00:00") == [
        "the consultation is open until 2026-12-20: give the reason for closing it early"
    ]
    assert check(d, Stage.SYNTHESIS, as_of="2026-12-20T22:00:00", comment="Travaux urgents") == []
    # 23:00 UTC on the 20th is 00:00 on the 21st in Paris: the last day is over.
    assert check(d, Stage.SYNTHESIS, as_of="2026-12-20T23:00:00") == []


def test_feedback_needs_the_synthesis_and_a_justified_decision_on_every_item():
    decided = Item(title="Engagement n°1")
    decided.decision = ItemDecision(outcome=DecisionOutcome.RETAINED, justification="Parce que.")
    unjustified = Item(title="Engagement n°2")
    unjustified.decision = ItemDecision(outcome=DecisionOutcome.NOT_RETAINED, justification=" ")
    undecided = Item(title="Engagement n°3")
    d = Demarche(stage=Stage.SYNTHESIS, items=[decided, unjustified, undecided])
    assert check(d, Stage.FEEDBACK) == [
        "the synthesis is not published",
        "the department's decision on “Engagement n°2” is missing",
        "the department's decision on “Engagement n°3” is missing",
    ]
    # (With a published synthesis and every decision: tests/domain/test_synthesis_build.py.)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 10, 15), 3, date(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_month(day, months, expected):
    assert add_months(day, months) == expected
