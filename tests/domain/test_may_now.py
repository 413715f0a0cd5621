"""What the démarche's sheet offers — add an item, organise an event, record what other
channels collected, decide — is asked of the domain (``may_…``), and the domain's operations
accept exactly that: at every stage, for the mission, the démarche's agent, an agent of
another department and the elected official."""

from __future__ import annotations

import pytest

from backoffice.extensions import db
from tests import factories
from workflows import contributions, decisions, events, items
from workflows.clock import utcnow
from workflows.errors import Conflict, PermissionDenied
from workflows.stages import Stage
from workflows.transitions import transition


def at_stage(make_demarche, people, stage: Stage):
    """A démarche at ``stage`` with an item (added while items may still be)."""
    if stage == Stage.REJECTED:
        d = make_demarche("submitted")
        items.add_item(db.session, people.mission, d, title="Option", as_of=utcnow())
        now = utcnow()
        transition(db.session, d.id, "rejected", actor=people.mission, as_of=now, comment="Non")
    else:
        d = make_demarche(stage.value)
        if not d.items:
            items.add_item(db.session, people.mission, d, title="Option", as_of=utcnow())
    db.session.flush()
    return d


def accepted(operation, user) -> bool:
    try:
        operation(user)
    except (PermissionDenied, Conflict):
        return False
    return True


@pytest.mark.parametrize("stage", list(Stage))
def test_what_the_sheet_offers_is_what_the_domain_accepts(ctx, people, make_demarche, stage):
    d = at_stage(make_demarche, people, stage)
    item = d.items[0]
    now = utcnow()
    offers = {
        "item": (
            items.may_prepare_items,
            lambda user: items.add_item(db.session, user, d, title="Une autre", as_of=now),
        ),
        "event": (events.may_organise_events, lambda user: factories.event(d, user, as_of=now)),
        "collected": (
            contributions.may_record_collected,
            lambda user: factories.contribution(d, user, channel="mail", as_of=now),
        ),
        "decision": (
            decisions.may_decide,
            lambda user: decisions.decide(
                db.session, user, item, outcome="retained", justification="Oui", as_of=now
            ),
        ),
    }
    for user in (people.mission, people.agent, people.other_agent, people.elected):
        for name, (may, operation) in offers.items():
            said = may(user, d)
            assert said == accepted(operation, user), (name, user.email, said)
