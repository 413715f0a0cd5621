"""The synthesis's figures on the real reference data equal counts made by hand from the
files themselves."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from backoffice.extensions import db
from tests import factories
from workflows import imports, questions
from workflows.clock import PARIS, utcnow
from workflows.items import add_item
from workflows.syntheses import figures

DATA = Path(__file__).parent.parent / "data" / "reference"


def run_import(d, raw: bytes, fmt: str):
    importer = imports.Importer(db.session, d, fmt)
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    db.session.commit()


def test_the_feamp_figures_equal_the_file(make_demarche, people):
    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    run_import(d, raw, "decidim")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    result = figures.compute(db.session, d)
    assert result["contributions"] == len(rows) == 408
    assert result["per_kind"]["proposal"] == 408
    assert result["agreement"]["endorsements"] == sum(
        int(r["endorsements/total_count"] or 0) for r in rows
    )
    assert sum(line["contributions"] for line in result["per_item"]) == 408


def test_the_grand_debat_figures_per_question_commune_and_day(make_demarche, people):
    d = make_demarche("consultation")
    titles = json.loads((DATA / "grand-debat-question-labels.json").read_text())
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    items = {
        key: add_item(db.session, people.mission, d, title=titles[key][0][:300], as_of=utcnow())
        for key in sorted({a["questionIndex"] for a in answers})
    }
    db.session.commit()
    # Every answer recorded as said at a workshop in Muret on its own date (Paris time).
    for answer in answers:
        said = datetime.fromisoformat(answer["publishedAt"]).replace(tzinfo=PARIS)
        factories.contribution(
            d,
            people.mission,
            body=answer["reponse"][:10_000],
            channel="workshop",
            contributed_at=said,
            commune="Muret",
            source=f"gd:{answer['reference']}:{answer['index']}",
            item=items[answer["questionIndex"]],
        )
    db.session.commit()

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = figures.compute(db.session, d)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 12  # 7 counts (+ the démarche reloaded): fixed, whatever the size
    assert result["contributions"] == len(answers) == 2204
    per_question = Counter(a["questionIndex"] for a in answers)
    by_item = {line["item_id"]: line["contributions"] for line in result["per_item"]}
    assert {key: by_item[item.id] for key, item in items.items()} == dict(per_question)
    per_day = Counter(a["publishedAt"][:10] for a in answers)
    assert {row["date"]: row["contributions"] for row in result["per_day"]} == dict(per_day)
    assert result["per_channel"] == {"workshop": 2204}
    [muret] = result["per_commune"]
    assert (muret["name"], muret["contributions"]) == ("Muret", 2204)
    assert result["per_canton"][0]["name"] == "Muret"
    assert result["unidentified_contributions"] == 2204 and result["participants"] == 0


def test_questions_answered_and_on_time(make_demarche, people, citizen):
    from workflows.participants import participant_for_user

    d = make_demarche("consultation")
    author = participant_for_user(db.session, citizen, as_of=utcnow())
    asked = [
        factories.contribution(d, citizen, body=f"Question {n} ?", kind="question", author=author)
        for n in range(3)
    ]
    questions.answer(db.session, people.agent, asked[0], "Oui.", as_of=utcnow())
    questions.answer(
        db.session, people.agent, asked[1], "Plus tard.", as_of=utcnow() + timedelta(days=40)
    )
    db.session.commit()
    result = figures.compute(db.session, d)
    assert result["questions"] == {"asked": 3, "answered": 2, "on_time": 1}
    assert result["participants"] == 1 and result["per_kind"]["question"] == 3
