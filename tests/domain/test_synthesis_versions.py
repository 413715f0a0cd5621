"""Which version of a synthesis matters: the published one, else the draft the mission is
editing, never a build that arrived on its own after the mission's work. And the migration
that records the mission's edits (and drops the démarche's retired free-text fields)."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from backoffice.extensions import db
from tests import factories
from workflows.clock import utcnow
from workflows.models import Synthesis
from workflows.syntheses import build, versions
from workflows.syntheses.requests import missing_builds

SAID = [
    f"{start} {end}"
    for start in (
        "Des légumes frais des fermes locales à la cantine,",
        "Les produits locaux et les légumes de saison au menu,",
        "Acheter les légumes aux producteurs locaux,",
        "Moins de pain jeté : le pain servi en panier,",
        "Le gaspillage du pain à la cantine baisserait",
        "Servir le pain à la demande contre le gaspillage,",
    )
    for end in (
        "comme le demandent les parents d'élèves.",
        "disent les élèves du collège.",
        "propose le personnel de cuisine.",
    )
]


def closed_consultation(make_demarche, people):
    d = make_demarche("synthesis")
    for body in SAID:
        factories.contribution(d, people.mission, body=body)
    db.session.commit()
    return d


def by_worker(d, **kwargs):
    """A version built by a worker, as after the commit that entered the stage or the sweep."""
    return build.build(db.session, d, actor=None, as_of=utcnow(), **kwargs)


def test_the_version_that_matters_is_the_published_one_then_the_draft_being_edited(
    make_demarche, people
):
    d = closed_consultation(make_demarche, people)
    mission, now = people.mission, utcnow()
    assert versions.version_that_matters(db.session, d) is None
    [(_, trigger)] = missing_builds(db.session)
    first = by_worker(d, trigger=trigger)
    # Nobody has touched a version yet: the newest build is the one to work on.
    assert versions.version_that_matters(db.session, d) == first
    assert versions.being_edited(db.session, d) is None

    versions.edit(db.session, mission, first, introduction="Ce que nous avons lu.", as_of=now)
    stray = by_worker(d)  # a redelivered task, after the mission began writing
    assert stray.version == 2 and versions.latest(db.session, d) == stray
    assert versions.version_that_matters(db.session, d) == first
    assert versions.being_edited(db.session, d) == first

    versions.validate(db.session, mission, first, as_of=now)
    assert versions.version_that_matters(db.session, d) == first  # validated, still its work
    versions.publish(db.session, mission, first, as_of=now)
    # The mission starts the next version from a rebuild: the published one still matters
    # most; the draft being edited is known beside it.
    rebuilt = by_worker(d)
    versions.edit(db.session, mission, rebuilt, introduction="Deuxième lecture.", as_of=now)
    later_stray = by_worker(d)
    assert later_stray.version == 4
    assert versions.version_that_matters(db.session, d) == first
    assert versions.being_edited(db.session, d) == rebuilt

    versions.validate(db.session, mission, rebuilt, as_of=now)
    versions.publish(db.session, mission, rebuilt, as_of=now)
    assert versions.version_that_matters(db.session, d) == rebuilt
    assert versions.being_edited(db.session, d) is None  # published: no longer in the works


def test_merging_themes_is_editing_too(make_demarche, people):
    d = closed_consultation(make_demarche, people)
    first = by_worker(d)
    overall = [t for t in first.themes if t["item_id"] is None]
    assert len(overall) >= 2
    versions.merge_themes(
        db.session, people.mission, first, overall[0]["id"], overall[1]["id"], as_of=utcnow()
    )
    by_worker(d)
    assert first.edited_at is not None
    assert versions.version_that_matters(db.session, d) == first


def test_the_migration_dates_past_edits_from_the_audit_log_and_drops_the_old_fields(
    app, make_demarche, people
):
    d = closed_consultation(make_demarche, people)
    edited, untouched = by_worker(d), by_worker(d)
    when = utcnow() - timedelta(days=3)
    versions.edit(db.session, people.mission, edited, introduction="Relue.", as_of=when)
    db.session.commit()
    demarche_id, edited_id, untouched_id = d.id, edited.id, untouched.id
    db.session.remove()
    downgrade(revision="75154105aa42-1")  # just before this one
    try:
        with db.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("demarches")}
            assert {"synthesis_text", "decision_text"} <= columns
            conn.execute(
                text("UPDATE demarches SET synthesis_text = 'Ancienne synthèse' WHERE id = :id"),
                {"id": demarche_id},
            )
    finally:
        upgrade()
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("demarches")}
    assert not {"synthesis_text", "decision_text"} & columns
    edited_at = dict(db.session.execute(select(Synthesis.id, Synthesis.edited_at)).all())
    assert edited_at[untouched_id] is None
    assert abs(edited_at[edited_id] - when) < timedelta(seconds=1)
