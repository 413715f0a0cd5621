"""Building a synthesis on the real reference data: themes for each question, a planted
copy-paste campaign detected, planted personal data never published, reproducible."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from workflows import imports
from workflows.clock import PARIS, utcnow
from workflows.items import add_item
from workflows.models import Synthesis
from workflows.syntheses import build

DATA = Path(__file__).parent.parent / "data" / "reference"
CAMPAIGN = (
    "Je m'oppose au projet de contournement routier qui détruirait les terres agricoles "
    "et les haies du Lauragais. Signé {name}, {email}, tél. {phone}, {number} rue des Lilas."
)
PEOPLE = [
    ("Marie Dupont", "marie.dupont@orange.fr", "06 12 34 56 78"),
    ("Jean-Pierre Lefèvre", "jp.lefevre@free.fr", "+33 6 98 76 54 32"),
    ("Fatima Benali", "fatima.benali@gmail.com", "05.61.22.33.44"),
]


@pytest.fixture
def grand_debat(make_demarche, people):
    d = make_demarche("consultation")
    titles = json.loads((DATA / "grand-debat-question-labels.json").read_text())
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    items = {
        key: add_item(db.session, people.mission, d, title=titles[key][0][:300], as_of=utcnow())
        for key in sorted({a["questionIndex"] for a in answers})
    }
    for answer in answers:
        factories.contribution(
            d,
            people.mission,
            body=answer["reponse"][:10_000],
            channel="workshop",
            contributed_at=datetime.fromisoformat(answer["publishedAt"]).replace(tzinfo=PARIS),
            source=f"gd:{answer['reference']}:{answer['index']}",
            item=items[answer["questionIndex"]],
        )
    db.session.commit()
    return d, items, answers


def test_themes_for_each_question_of_the_grand_debat(grand_debat, people):
    d, items, answers = grand_debat
    steps = []
    synthesis = build.build(
        db.session, d, actor=people.mission, as_of=utcnow(), on_step=lambda s, t: steps.append(s)
    )
    assert steps == ["read", "figures", "duplicates", "lemmas", "themes", "quotes", "save"]
    assert synthesis.version == 1 and synthesis.inputs["contributions"] == len(answers)
    overall = [t for t in synthesis.themes if t["item_id"] is None]
    assert len(overall) >= 2
    for key, item in items.items():
        said = sum(1 for a in answers if a["questionIndex"] == key)
        mine = [t for t in synthesis.themes if t["item_id"] == item.id]
        assert mine, (item.title, said)  # every question (13 to 726 answers) has themes
        if said >= 30:
            assert len(mine) >= 2, (item.title, said)
        for theme in mine:
            # Three terms at most in the label; fewer when the theme's contributions say
            # one thing in one word (eight « la téléportation »): no term they did not write.
            assert theme["size"] > 0 and theme["terms"] and theme["quotes"]
            assert theme["label"] == " · ".join(theme["terms"][:3])
            assert all(q["item_id"] == item.id for q in theme["quotes"])
    assert sum(t["size"] for t in overall) <= len(answers)


def test_a_planted_campaign_is_found_and_personal_data_never_published(make_demarche, people):
    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    importer = imports.Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    item = d.items[0]
    for n in range(30):
        name, email, phone = PEOPLE[n % 3]
        factories.contribution(
            d,
            people.mission,
            body=CAMPAIGN.format(name=name, email=email, phone=phone, number=n + 1),
            item=item,
        )
    db.session.commit()

    synthesis = build.build(db.session, d, actor=people.mission, as_of=utcnow())
    [campaign] = [c for c in synthesis.duplicates if c["size"] >= 30]
    assert campaign["size"] == 30
    assert "contournement routier" in campaign["text"]
    published = json.dumps([synthesis.themes, synthesis.duplicates], ensure_ascii=False)
    for name, email, phone in PEOPLE:
        for secret in (name, email, phone, name.split()[-1]):
            assert secret not in published, secret
    assert "[courriel]" in campaign["text"] and "[téléphone]" in campaign["text"]
    assert "[nom]" in campaign["text"] and "[adresse]" in campaign["text"]
    # The campaign counts once in the themes.
    assert sum(t["size"] for t in synthesis.themes if t["item_id"] is None) <= 408 + 1


def test_the_same_inputs_give_the_same_synthesis_and_a_trigger_builds_once(grand_debat, people):
    d, _, _ = grand_debat
    first = build.build(db.session, d, actor=None, as_of=utcnow(), trigger="transition:1")
    again = build.build(db.session, d, actor=None, as_of=utcnow(), trigger="transition:1")
    assert again.id == first.id
    rebuilt = build.build(db.session, d, actor=people.mission, as_of=utcnow())
    assert rebuilt.version == 2
    assert rebuilt.inputs["digest"] == first.inputs["digest"]
    assert rebuilt.themes == first.themes and rebuilt.duplicates == first.duplicates
    assert rebuilt.figures == first.figures
    assert set(first.inputs["libraries"]) >= {"spacy", "scikit-learn", "simplemma"}
    versions = db.session.scalars(
        select(Synthesis.version).where(Synthesis.demarche_id == d.id).order_by(Synthesis.version)
    ).all()
    assert versions == [1, 2]


def test_entering_the_synthesis_stage_builds_a_first_version_once(make_demarche, monkeypatch):
    from backoffice import after_commit

    published = []
    monkeypatch.setattr(after_commit, "publish", lambda task, *args: published.append((task, args)))
    d = make_demarche("synthesis")
    [(task, (demarche_id, trigger))] = [p for p in published if p[0] == "workers.build_synthesis"]
    assert demarche_id == d.id and trigger.startswith("transition:")
    # The task was lost: the sweep (workers.sweep_syntheses) builds what is missing, once.
    assert build.missing_builds(db.session) == [(d.id, trigger)]
    first = build.build(db.session, d, actor=None, as_of=utcnow(), trigger=trigger)
    assert build.missing_builds(db.session) == []
    late = build.build(db.session, d, actor=None, as_of=utcnow(), trigger=trigger)
    assert late.id == first.id  # the task arriving late builds nothing
    count = db.session.scalars(select(Synthesis).where(Synthesis.demarche_id == d.id)).all()
    assert len(count) == 1 and count[0].trigger == trigger


def test_the_api_gives_the_version_that_matters_and_citizens_the_published_one(
    make_demarche, people, citizen, api
):
    from workflows.syntheses import versions

    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    importer = imports.Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    db.session.commit()
    url = f"/api/v1/demarches/{d.id}/synthesis"
    assert api(people.mission, "get", url).status_code == 404
    synthesis = build.build(db.session, d, actor=people.mission, as_of=utcnow())
    body = api(people.agent, "get", url).json
    assert (body["version"], body["status"]) == (1, "draft")
    assert body["figures"]["contributions"] == 408
    assert {"per_item", "per_channel", "per_canton", "per_day", "participants"} <= set(
        body["figures"]
    )
    assert body["themes"] and {"label", "size", "terms", "quotes"} <= set(body["themes"][0])
    assert all(isinstance(q, str) for t in body["themes"] for q in t["quotes"])
    assert body["duplicates"][0]["size"] >= 2
    assert api(citizen, "get", url).status_code == 404  # nothing published yet

    versions.edit(
        db.session,
        people.mission,
        synthesis,
        introduction="408 propositions ont été déposées.",
        labels={synthesis.themes[0]["id"]: "Répartition des fonds"},
        as_of=utcnow(),
    )
    versions.validate(db.session, people.mission, synthesis, as_of=utcnow())
    versions.publish(db.session, people.mission, synthesis, as_of=utcnow())
    db.session.commit()
    public = api(citizen, "get", url).json
    assert (
        public["status"] == "published" and public["themes"][0]["label"] == "Répartition des fonds"
    )
    # A rebuild is a new draft; the published version stays until the next is published,
    # and is what staff read too (the sheet's version that matters); the draft by number.
    build.build(db.session, d, actor=people.mission, as_of=utcnow())
    assert api(people.mission, "get", url).json["version"] == 1
    assert api(citizen, "get", url).json["version"] == 1
    assert api(people.mission, "get", f"{url}/2").json["status"] == "draft"
    assert api(citizen, "get", f"{url}/2").status_code == 404


def test_the_mission_edits_merges_validates_and_publishes(grand_debat, people):
    from workflows.errors import Conflict, PermissionDenied
    from workflows.syntheses import versions

    d, items, _ = grand_debat
    synthesis = build.build(db.session, d, actor=people.mission, as_of=utcnow())
    with pytest.raises(PermissionDenied):
        versions.edit(db.session, people.agent, synthesis, introduction="x", as_of=utcnow())
    with pytest.raises(Conflict):  # no introduction yet
        versions.validate(db.session, people.mission, synthesis, as_of=utcnow())
    first, second = [t for t in synthesis.themes if t["item_id"] is None][:2]
    versions.merge_themes(
        db.session, people.mission, synthesis, first["id"], second["id"], as_of=utcnow()
    )
    merged = next(t for t in synthesis.themes if t["id"] == first["id"])
    assert merged["size"] == first["size"] + second["size"]
    assert second["id"] not in {t["id"] for t in synthesis.themes}
    item = next(iter(items.values()))
    versions.edit(
        db.session,
        people.mission,
        synthesis,
        introduction="Les réponses du Grand Débat, relues par la mission.",
        summaries={str(item.id): "Un résumé écrit par la mission."},
        as_of=utcnow(),
    )
    versions.validate(db.session, people.mission, synthesis, as_of=utcnow())
    versions.publish(db.session, people.mission, synthesis, as_of=utcnow())
    db.session.commit()
    with pytest.raises(Conflict):
        versions.edit(db.session, people.mission, synthesis, introduction="y", as_of=utcnow())
    assert versions.latest(db.session, d, published=True).id == synthesis.id
