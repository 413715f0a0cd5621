"""The demo's démarche at its synthesis stage, as ``make run`` leaves it: the synthesis the
stage asked for is built (the workers' sweep builds no other), published, and the mission
can move the démarche on to its feedback."""

from __future__ import annotations

from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests.support import login
from workflows.clock import utcnow
from workflows.models import Demarche, Synthesis, SynthesisStatus, User
from workflows.stages import Stage
from workflows.syntheses import versions
from workflows.syntheses.requests import missing_builds
from workflows.transitions import move_options, transition


def test_the_demo_demarche_at_synthesis_can_move_on_to_its_feedback(client, ctx):
    demo.load(db.session, as_of=utcnow())
    db.session.commit()
    d = db.session.scalars(select(Demarche).where(Demarche.stage == Stage.SYNTHESIS)).one()
    mission = db.session.scalars(select(User).where(User.email == "mission@demo.cd31.fr")).one()

    # The build that entering the stage asked for is there: the sweep has nothing to add.
    assert missing_builds(db.session) == []
    [only] = db.session.scalars(select(Synthesis).where(Synthesis.demarche_id == d.id)).all()
    assert only.status == SynthesisStatus.PUBLISHED
    assert versions.version_that_matters(db.session, d) == only

    login(client, mission, password=demo.PASSWORD)
    sheet = client.get(f"/admin/synthesis/{d.id}/").text
    assert "Version 1" in sheet and "Publiée" in sheet
    options = {o.move.target: o for o in move_options(db.session, d, mission, utcnow())}
    assert options[Stage.FEEDBACK].unmet == []  # a published synthesis, every item decided

    transition(db.session, d.id, Stage.FEEDBACK, actor=mission, as_of=utcnow())
    db.session.commit()
    assert db.session.get(Demarche, d.id).stage == Stage.FEEDBACK
