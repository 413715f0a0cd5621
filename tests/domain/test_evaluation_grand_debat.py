"""The evaluation on real data: the Grand Débat answers from Haute-Garonne (reference data),
imported with their authors and communes, give the participants per canton per 1,000
inhabitants that a count by hand from the territory's CSV gives."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest

from backoffice.extensions import db
from workflows import evaluation
from workflows.clock import utcnow
from workflows.imports import Importer
from workflows.items import add_item

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "reference"
TERRITORY = ROOT / "workflows" / "data" / "haute-garonne-communes.csv"


def author_address(author_id: str) -> str:
    return f"auteur-{hashlib.sha256(author_id.encode()).hexdigest()[:12]}@exemple.fr"


def haute_garonne_answers() -> list[dict]:
    """The answers whose author gave a postal code of Haute-Garonne (31xxx; stored as floats)."""
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    found = []
    for answer in answers:
        code = str(int(answer["authorZipCode"])).zfill(5) if answer.get("authorZipCode") else ""
        if code.startswith("31"):
            found.append({**answer, "zip": code})
    return found


def by_hand() -> tuple[dict[str, int], dict[str, set[str]], int]:
    """From the territory's CSV alone: each canton's population, the authors of each canton
    (a postal code shared by several communes names none: the importer refuses those rows),
    and the département's population."""
    with TERRITORY.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    population: dict[str, int] = defaultdict(int)
    by_postal: dict[str, list[dict]] = defaultdict(list)
    by_insee = {}
    for row in rows:
        population[row["canton_code"]] += int(row["population"])
        by_insee[row["insee_code"]] = row
        for postal in row["postal_codes"].split():
            by_postal[postal].append(row)
    authors: dict[str, set[str]] = defaultdict(set)
    for answer in haute_garonne_answers():
        matches = by_postal.get(answer["zip"]) or (
            [by_insee[answer["zip"]]] if answer["zip"] in by_insee else []
        )
        if len(matches) == 1:
            authors[matches[0]["canton_code"]].add(answer["authorId"])
    return dict(population), authors, sum(population.values())


def test_participants_per_canton_per_1000_inhabitants_equal_the_count_by_hand(
    make_demarche, people
):
    d = make_demarche("consultation", territory="Haute-Garonne")
    labels = json.loads((DATA / "grand-debat-question-labels.json").read_text())
    answers = haute_garonne_answers()
    titles = {
        key: add_item(
            db.session, people.mission, d, title=labels[key][0][:300], as_of=utcnow()
        ).title
        for key in sorted({a["questionIndex"] for a in answers})
    }
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["item", "text", "date", "channel", "commune", "email"])
    for a in answers:
        writer.writerow(
            [
                titles[a["questionIndex"]],
                a["reponse"],
                a["publishedAt"],
                "en ligne",
                a["zip"],
                author_address(a["authorId"]),
            ]
        )
    importer = Importer(db.session, d, "csv")
    preview = importer.preview(out.getvalue().encode())
    imported = importer.apply(preview, actor=None, as_of=utcnow())
    db.session.commit()
    assert imported == len(answers) - len(preview.refused) and imported > 30

    population, authors, inhabitants = by_hand()
    e = evaluation.evaluate(db.session, d, as_of=utcnow())
    rate = e.indicator("mobilisation_per_1000")
    per_canton = {c["code"]: c for c in rate.details["per_canton"]}
    assert set(per_canton) == set(population)  # the 21 cantons and Toulouse's unit
    for code, canton in per_canton.items():
        people_here = len(authors.get(code, ()))
        assert canton["population"] == population[code]
        assert canton["participants"] == people_here, canton["name"]
        assert canton["per_1000"] == pytest.approx(people_here / population[code] * 1000, abs=1e-4)
    everyone = set().union(*authors.values())
    assert rate.counted["participants"] == len(everyone)
    assert rate.value == pytest.approx(len(everyone) / inhabitants * 1000, abs=1e-4)
    reached = e.indicator("mobilisation_cantons_reached")
    assert reached.value == pytest.approx(len(authors) / len(population), abs=1e-4)
    spread = e.indicator("mobilisation_canton_spread")
    rates = [len(authors.get(code, ())) / population[code] for code in population]
    assert spread.value == pytest.approx(min(rates) / max(rates), abs=1e-4)
    assert e.indicator("mobilisation_channels").value == 1  # all came online
