"""The toolbox's catalogue: the shipped file is complete and loads idempotently, the mission's
edits survive a load, bad values are refused in French with nothing saved, the filters keep
what they say, and a method in use cannot be deleted."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.i18n import tr
from tests.conftest import complete_saisine
from workflows import demarches as domain
from workflows import methods
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.methods.catalogue import Filters, parse_filters
from workflows.models import AuditEntry, Method, PlannedMethod, UsedMethod
from workflows.stages import ParticipationLevel

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def catalogue_file() -> dict:
    text = resources.files("workflows").joinpath("data/methods/catalogue.json").read_text("utf-8")
    return json.loads(text)


def load(**kwargs) -> methods.LoadReport:
    report = methods.load_catalogue(db.session, as_of=kwargs.pop("as_of", NOW), **kwargs)
    db.session.commit()
    return report


def slugs(found) -> set[str]:
    return {m.slug for m in found}


def test_the_shipped_catalogue_has_twenty_methods_with_every_field_filled():
    shipped = methods.shipped_methods()
    assert len(shipped) >= 20
    assert len({m["slug"] for m in shipped}) == len(shipped)
    for m in shipped:
        for name in methods.TEXTS:
            if name != "licence":
                assert m[name].strip(), f"{m['slug']}: {name} is empty"
        for name in ("size_min", "preparation_weeks", "duration_days", "cost_year"):
            assert isinstance(m[name], int), f"{m['slug']}: {name}"
        assert m["cost_max"] >= m["cost_min"] > 0, m["slug"]
        assert m["levels"] and m["recruitment"] and m["format"]
    names = {m["name"] for m in shipped}
    for expected in (
        "Réunion publique",
        "Atelier citoyen",
        "Rencontre territoriale",
        "World café",
        "Forum ouvert",
        "Budget participatif",
        "Conférence de citoyens",
        "Consultation en ligne",
        "Comité de suivi",
        "Restitution publique",
    ):
        assert expected in names
    # The seven sheets of consultation.gouv.fr keep their MIT notice and their 2019 costs.
    taken = [m for m in shipped if m["licence"]]
    assert len(taken) == 7
    for m in taken:
        assert "Copyright (c) 2017-2019 DINSIC/Etalab" in m["licence"]
        assert "Permission is hereby granted" in m["licence"] and m["cost_year"] == 2019
    own = [m for m in shipped if not m["licence"]]
    assert all(m["cost_year"] == 2026 and m["cost_note"].startswith("Estimation") for m in own)
    conference = next(m for m in shipped if m["slug"] == "conference-de-citoyens")
    assert conference["cost_min"] == 100_000
    assert conference["ratings"]["Qualité du panel"].startswith("4 à 5")


def test_loading_twice_changes_nothing_the_second_time(ctx):
    first = load()
    assert len(first.created) >= 20 and not first.updated
    count = db.session.scalar(select(func.count(Method.id)))
    second = load(as_of=NOW + timedelta(days=1))
    assert not second.created and not second.updated
    assert len(second.unchanged) == count
    assert db.session.scalar(select(func.count(Method.id))) == count
    loads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "methods.load"))
    assert len(loads.all()) == 1  # the load that changed nothing left no entry


def test_a_load_updates_shipped_methods_but_keeps_the_missions_edits(ctx, people):
    load()
    reunion = methods.get_method(db.session, "reunion-publique")
    methods.update_method(
        db.session, people.mission, reunion, {"summary": "Notre propre résumé."}, as_of=NOW
    )
    db.session.commit()

    newer = copy.deepcopy(catalogue_file())
    for entry in newer["methods"]:
        if entry["slug"] in ("reunion-publique", "world-cafe"):
            entry["summary"] = "Résumé livré dans une version plus récente."
    report = load(data=newer, as_of=NOW + timedelta(days=2))
    assert report.updated == ["world-cafe"] and report.kept == ["reunion-publique"]
    assert methods.get_method(db.session, "reunion-publique").summary == "Notre propre résumé."
    world_cafe = methods.get_method(db.session, "world-cafe")
    assert world_cafe.summary == "Résumé livré dans une version plus récente."

    forced = load(data=newer, force=True, as_of=NOW + timedelta(days=3))
    assert "reunion-publique" in forced.updated
    reunion = methods.get_method(db.session, "reunion-publique")
    assert reunion.summary.startswith("Résumé livré") and reunion.edited_at is None


def test_a_load_never_brings_a_retired_method_back(ctx, people):
    load()
    cafe = methods.get_method(db.session, "world-cafe")
    methods.set_retired(db.session, people.mission, cafe, True, as_of=NOW)
    db.session.commit()
    load(force=True)
    assert methods.get_method(db.session, "world-cafe").retired


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"size_min": 50, "size_max": 10}, "size_max", "le maximum est inférieur au minimum"),
        ({"cost_min": -100}, "cost_min", "un coût ne peut pas être négatif"),
        ({"levels": ["vote"]}, "levels", "valeur inconnue « vote »"),
        ({"format": "papier"}, "format", "valeur inconnue « papier »"),
        ({"name": "  "}, "name", "un nom de 120 caractères au plus"),
        ({"slug": "Pas Une Adresse"}, "slug", "lettres minuscules"),
    ],
)
def test_bad_values_are_refused_in_french_and_nothing_is_saved(ctx, people, change, field, message):
    load()
    cafe = methods.get_method(db.session, "world-cafe")
    before = {name: getattr(cafe, name) for name in methods.COLUMNS}
    with pytest.raises(InvalidFields) as refused:
        methods.update_method(db.session, people.mission, cafe, change, as_of=NOW)
    db.session.rollback()
    assert message in tr(refused.value.errors[field])
    cafe = methods.get_method(db.session, "world-cafe")
    assert {name: getattr(cafe, name) for name in methods.COLUMNS} == before
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "method.update")
    ).all()


def test_only_the_mission_edits_and_each_change_is_audited(ctx, people):
    load()
    cafe = methods.get_method(db.session, "world-cafe")
    for outsider in (people.agent, people.elected):
        with pytest.raises(PermissionDenied):
            methods.update_method(db.session, outsider, cafe, {"name": "Café"}, as_of=NOW)
    methods.update_method(
        db.session, people.mission, cafe, {"name": "Café du monde", "size_max": 200}, as_of=NOW
    )
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "method.update"))
    assert entry.actor_id == people.mission.id and entry.target == f"method:{cafe.id}"
    assert entry.data["fields"] == ["name", "size_max"]
    assert cafe.edited_by_id == people.mission.id


def test_a_method_in_use_is_retired_not_deleted(ctx, people, make_demarche):
    load()
    d = make_demarche("launch")
    cafe, forum = (methods.get_method(db.session, s) for s in ("world-cafe", "forum-ouvert"))
    db.session.add(PlannedMethod(demarche_id=d.id, method_id=cafe.id, added_at=NOW))
    db.session.add(
        UsedMethod(demarche_id=d.id, method_id=forum.id, channel="online", recorded_at=NOW)
    )
    db.session.commit()
    for method in (cafe, forum):
        with pytest.raises(Conflict) as refused:
            methods.delete_method(db.session, people.mission, method, as_of=NOW)
        db.session.rollback()
        assert "retirez-la plutôt" in tr(refused.value.messages[0])
    methods.set_retired(db.session, people.mission, cafe, True, as_of=NOW)
    db.session.commit()
    assert cafe.retired and "world-cafe" not in slugs(methods.search(db.session))

    unused = methods.get_method(db.session, "porteur-de-parole")
    methods.delete_method(db.session, people.mission, unused, as_of=NOW)
    db.session.commit()
    assert db.session.scalar(select(Method).where(Method.slug == "porteur-de-parole")) is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"method.retire", "method.delete"} <= actions


def test_the_ladder_has_its_top_rung_for_demarches_too(ctx, people):
    d = domain.create_draft(
        db.session,
        people.agent,
        {**complete_saisine(people.elected), "participation_level": "codecision"},
        as_of=NOW,
    )
    db.session.commit()
    assert db.session.get(type(d), d.id).participation_level == ParticipationLevel.CODECISION


def test_filters_keep_what_they_say(ctx):
    load()
    every = methods.search(db.session)

    codecision = methods.search(db.session, Filters(level="codecision"))
    assert slugs(codecision) == {"budget-participatif"}
    online = methods.search(db.session, Filters(format="online"))
    assert "consultation-en-ligne" in slugs(online)
    assert all(m.format in ("online", "hybrid") for m in online)
    assert "reunion-publique" not in slugs(online)

    crowd = methods.search(db.session, Filters(size=2000))
    assert "consultation-en-ligne" in slugs(crowd) and "conference-de-citoyens" not in slugs(crowd)
    assert all(m.size_min <= 2000 and (m.size_max or 2000) >= 2000 for m in crowd)

    cheap = methods.search(db.session, Filters(max_cost=10_000))
    assert cheap and all(m.cost_min <= 10_000 for m in cheap)
    assert "conference-de-citoyens" not in slugs(cheap)

    short = methods.search(db.session, Filters(duration=7))
    assert short and all(m.duration_days <= 7 for m in short)
    assert "jury-citoyen" not in slugs(short)

    # Words, all of them, accents and case ignored.
    assert "reunion-publique" in slugs(methods.search(db.session, Filters(q="REUNION publique")))
    assert "diagnostic-en-marchant" in slugs(methods.search(db.session, Filters(q="balade")))
    assert not methods.search(db.session, Filters(q="balade tirage-introuvable"))

    combined = methods.search(
        db.session, Filters(level="consultation", format="in_person", size=40, max_cost=5000)
    )
    assert combined and all(
        "consultation" in m.levels and m.format in ("in_person", "hybrid") for m in combined
    )
    assert [m.name for m in every] == sorted((m.name for m in every), key=lambda n: methods.fold(n))


def test_query_arguments_that_cannot_be_read_are_left_out_with_a_message(ctx):
    filters, errors = parse_filters(
        {"level": "vote", "size": "beaucoup", "max_cost": "-5", "duration": "10", "q": "  a  b "}
    )
    assert filters == Filters(duration=10, q="a b")
    assert set(errors) == {"level", "size", "max_cost"}
    assert "inconnu" in tr(errors["level"]) and "nombre entier" in tr(errors["size"])
