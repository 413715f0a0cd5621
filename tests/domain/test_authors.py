"""Who took part: one rule for every participant count (``workflows.authors``) — people with
an address or an account, and imported authors by their identity in the source."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from backoffice.extensions import db
from tests import factories
from workflows import evaluation, overview
from workflows.clock import utcnow
from workflows.imports import Importer
from workflows.items import add_item
from workflows.syntheses import figures

DATA = Path(__file__).parent.parent / "data" / "reference"


def imported(d, raw: bytes, fmt: str, item_id: int | None = None) -> int:
    importer = Importer(db.session, d, fmt, item_id)
    done = importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    db.session.commit()
    return done


def mobilisation_counted(d) -> dict:
    e = evaluation.compute(db.session, d, as_of=utcnow())
    found = {i.code: i for dim in e.dimensions for i in dim.indicators}
    return found["mobilisation_per_1000"].counted


def test_a_decidim_import_counts_its_distinct_authors(make_demarche):
    """The Nancy export: 44 comments; its people are its distinct author ids, not zero."""
    d = make_demarche("consultation")
    raw = (DATA / "decidim-comments-nancy-2019.csv").read_bytes()
    authors = {
        row["author/id"]
        for row in csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter=";")
        if row["author/id"]
    }
    assert len(authors) > 1
    assert imported(d, raw, "decidim") == 44

    shown = figures.compute(db.session, d)
    assert shown["participants"] == len(authors)
    assert shown["unidentified_contributions"] == 0
    assert sum(line["participants"] for line in shown["per_item"]) >= len(authors)
    assert mobilisation_counted(d)["contributors"] == len(authors)
    # Importing the same file again adds no one.
    assert imported(d, raw, "decidim") == 0
    assert figures.compute(db.session, d)["participants"] == len(authors)


def test_names_without_address_are_people_within_their_file_only(make_demarche, people):
    d = make_demarche("consultation")
    item = add_item(db.session, people.mission, d, title="Le tracé", as_of=utcnow())
    db.session.commit()
    header = "text,name,email\n"
    first = (
        (
            header + "Un avis,Jeanne Moreau,\n"  # a name: one person …
            "Un autre avis,jeanne moreau,\n"  # … the same, whatever the case
            "Un troisième,Paul Roux,\n"
            "Par courriel,Ana,ana@exemple.fr\n"  # an address: a participant
            "Sans nom,,\n"  # nobody known
        ).encode()
    )
    assert imported(d, first, "csv", item.id) == 5
    shown = figures.compute(db.session, d)
    assert (shown["participants"], shown["unidentified_contributions"]) == (3, 1)

    # Another file naming a Jeanne Moreau: nothing says it is the same person.
    second = (header + "Encore un avis,Jeanne Moreau,\n").encode()
    assert imported(d, second, "csv", item.id) == 1
    # A participant of the site who also wrote by email is one person.
    factories.contribution(
        d, people.mission, item=item, author=factories.participant("ana@exemple.fr")
    )
    db.session.commit()
    shown = figures.compute(db.session, d)
    assert (shown["participants"], shown["unidentified_contributions"]) == (4, 1)
    assert mobilisation_counted(d)["contributors"] == 4
    assert mobilisation_counted(d)["contributions_without_person"] == 1
    assert overview.figures_of(db.session, [d.id], utcnow())[d.id].participants == 4


def test_no_name_is_stored_for_an_imported_author(make_demarche, people):
    from sqlalchemy import select

    from workflows.models import Contribution

    d = make_demarche("consultation")
    item = add_item(db.session, people.mission, d, title="Le tracé", as_of=utcnow())
    db.session.commit()
    imported(d, b"text,name\nUn avis,Jeanne Moreau\n", "csv", item.id)
    key = db.session.scalar(select(Contribution.author_key).where(Contribution.item_id == item.id))
    assert key.startswith("name:") and "jeanne" not in key.lower()
