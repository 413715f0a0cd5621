"""Consultations open and close on their dates by themselves, through the same transitions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from backoffice.extensions import db
from workflows import calendar
from workflows import demarches as domain
from workflows.clock import PARIS
from workflows.items import add_item
from workflows.models import Demarche
from workflows.stages import Stage


def paris(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def test_a_consultation_opens_on_its_day_and_closes_after_its_last(make_demarche, people):
    d = make_demarche("launch")
    opens = date.today() + timedelta(days=20)
    closes = opens + timedelta(days=29)
    domain.update_demarche(
        db.session,
        people.mission,
        d,
        {
            "presentation": "Donnez votre avis",
            "consultation_opens": opens,
            "consultation_closes": closes,
        },
        as_of=paris(date.today()),
    )
    add_item(db.session, people.mission, d, title="Engagement", as_of=paris(date.today()))
    db.session.commit()

    assert calendar.advance(db.session, as_of=paris(opens - timedelta(days=1), 23)).moved == []
    report = calendar.advance(db.session, as_of=paris(opens, 0))
    assert report.moved == [(d.id, Stage.LAUNCH, Stage.CONSULTATION)]
    assert calendar.advance(db.session, as_of=paris(opens, 0)).moved == []  # safe to rerun

    assert calendar.advance(db.session, as_of=paris(closes, 23)).moved == []  # last day open
    report = calendar.advance(db.session, as_of=paris(closes + timedelta(days=1), 0))
    assert report.moved == [(d.id, Stage.CONSULTATION, Stage.SYNTHESIS)]
    d = db.session.get(Demarche, d.id)
    system_moves = d.transitions[-2:]
    assert [(t.actor, t.source) for t in system_moves] == [(None, "task"), (None, "task")]


def test_a_launch_without_its_sheet_stays_and_says_why(make_demarche, people):
    d = make_demarche("launch")
    d.consultation_opens = date.today()
    d.consultation_closes = date.today() + timedelta(days=30)
    d.announced_at = paris(date.today() - timedelta(days=20), 9)
    db.session.commit()
    report = calendar.advance(db.session, as_of=paris(date.today(), 12))
    assert report.moved == []
    assert report.blocked == [
        (
            d.id,
            Stage.CONSULTATION,
            "public presentation missing; no item to comment: prepare at least one",
        )
    ]
    assert db.session.get(Demarche, d.id).stage == Stage.LAUNCH
