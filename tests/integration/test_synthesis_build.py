"""Building a synthesis on the real reference data: themes for each question, a planted
copy-paste campaign detected, planted personal data never published, reproducible."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from workflows import contributions, imports
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
        contributions.contribute(
            db.session,
            d,
            item_id=items[answer["questionIndex"]].id,
            body=answer["reponse"][:10_000],
            channel="workshop",
            author=None,
            actor=people.mission,
            as_of=utcnow(),
            contributed_at=datetime.fromisoformat(answer["publishedAt"]).replace(tzinfo=PARIS),
            source=f"gd:{answer['reference']}:{answer['index']}",
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
        if said >= 30:
            assert len(mine) >= 2, (item.title, said)
        for theme in mine:
            assert theme["size"] > 0 and len(theme["terms"]) >= 3 and theme["quotes"]
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
        contributions.contribute(
            db.session,
            d,
            item_id=item.id,
            body=CAMPAIGN.format(name=name, email=email, phone=phone, number=n + 1),
            channel="mail",
            author=None,
            actor=people.mission,
            as_of=utcnow(),
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
    from backoffice import outbox_dispatch

    published = []
    monkeypatch.setattr(
        outbox_dispatch, "publish", lambda task, *args: published.append((task, args))
    )
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
