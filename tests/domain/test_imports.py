"""Both importers on the real files of the shared reference data (counts asserted)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from workflows.clock import utcnow
from workflows.imports import Importer, guess_format
from workflows.items import add_item
from workflows.models import Channel, Contribution, ContributionKind, Item, Participant

DATA = Path(__file__).parent.parent / "data" / "reference"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count(model.id)).where(*where))


def run(demarche, raw: bytes, fmt: str, **options):
    importer = Importer(db.session, demarche, fmt, **options)
    preview = importer.preview(raw)
    done = importer.apply(preview, actor=None, as_of=utcnow())
    return preview, done


def test_the_decidim_comments_of_nancy(make_demarche):
    d = make_demarche("consultation")
    raw = (DATA / "decidim-comments-nancy-2019.csv").read_bytes()
    assert guess_format("comments.csv", raw) == "decidim"
    preview, done = run(d, raw, "decidim")
    assert (preview.rows_read, preview.rows_to_import, preview.refused) == (44, 44, [])
    assert done == 44
    # Each commented proposal becomes an item (27 roots), and the answers are threaded.
    assert len(preview.new_items) == 27
    assert count(Item, Item.demarche_id == d.id) == 1 + 27
    answers = db.session.scalars(select(Contribution).where(Contribution.parent_id.is_not(None)))
    assert len(answers.all()) == 4
    assert count(Contribution, Contribution.alignment == 1) == 9
    assert count(Contribution, Contribution.alignment == -1) == 5
    # HTML, CRLF inside quoted fields: plain text.
    assert count(Contribution, Contribution.body.contains("<p>")) == 0
    # Pseudonymous authors without address are not kept as people.
    assert count(Participant) == 0

    again, done_again = run(d, raw, "decidim")
    assert (again.duplicates, again.rows_to_import, done_again) == (44, 0, 0)
    assert count(Contribution) == 44


def test_the_feamp_proposals(make_demarche):
    d = make_demarche("consultation")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    assert guess_format("feamp.csv", raw) == "decidim"
    preview, done = run(d, raw, "decidim")
    assert (preview.rows_read, done, len(preview.refused)) == (408, 408, 0)
    proposals = count(Contribution, Contribution.kind == ContributionKind.PROPOSAL)
    assert proposals == 408
    top = db.session.scalar(select(Contribution).order_by(Contribution.endorsements.desc()))
    assert top.title and top.endorsements >= 12


def grand_debat_sheet(labels: dict[str, str]) -> tuple[bytes, list[dict]]:
    """The 56 Grand Débat answers from Haute-Garonne as a spreadsheet of this importer."""
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    titles = json.loads((DATA / "grand-debat-question-labels.json").read_text())
    rows = []
    for a in answers:
        zip_code = str(int(a["authorZipCode"])).zfill(5) if a.get("authorZipCode") else ""
        if zip_code.startswith("31"):
            rows.append(
                {
                    "item": labels.get(a["questionIndex"]) or titles[a["questionIndex"]][0],
                    "text": a["reponse"],
                    "date": a["publishedAt"],
                    "channel": "en ligne",
                    "commune": zip_code,
                }
            )
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["item", "text", "date", "channel", "commune"], delimiter=";"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(), rows


def test_a_spreadsheet_of_the_grand_debat_answers_from_haute_garonne(make_demarche, people):
    d = make_demarche("consultation")
    titles = json.loads((DATA / "grand-debat-question-labels.json").read_text())
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    used = sorted({a["questionIndex"] for a in answers})
    labels = {}
    for key in used:
        labels[key] = add_item(
            db.session, people.mission, d, title=titles[key][0][:300], as_of=utcnow()
        ).title
    db.session.commit()
    raw, rows = grand_debat_sheet(labels)
    assert len(rows) == 56
    preview, done = run(d, raw, "csv")
    ambiguous = [
        r
        for r in preview.refused
        if "plusieurs communes" in str(r[1]) or "shared by several communes" in str(r[1])
    ]
    assert preview.rows_read == 56
    assert done + len(preview.refused) + preview.duplicates == 56
    assert len(ambiguous) == len(preview.refused)  # only shared postal codes are refused
    assert count(Contribution, Contribution.channel == Channel.ONLINE) == done
    assert count(Contribution, Contribution.canton_code.is_(None)) == 0
    toulouse = count(Contribution, Contribution.commune_insee == "31555")
    assert toulouse == sum(
        1
        for r in rows
        if r["commune"].startswith("310")
        or r["commune"] in ("31100", "31200", "31300", "31400", "31500")
    )


def test_bad_rows_are_refused_with_their_line_and_the_good_ones_kept(make_demarche):
    d = make_demarche("consultation")
    raw = (
        "item;text;date;channel;commune;email;name\n"
        "Engagement n°1;Très bien;2026-11-20;atelier;Revel;a@cd31.fr;Ana\n"
        "Engagement n°9;Élément inconnu;;;;;\n"
        "1;<p>Du <b>HTML</b></p>;20/11/2026;courrier;31555;;\n"
        "1;;;;;;\n"
        "1;Commune inconnue;;;Paris;;\n"
        "1;Date illisible;hier;;;;\n"
        "1;Canal inconnu;;pigeon;;;\n"
        "1;Courriel faux;;;;pas-un-courriel;\n"
        "1;Très bien;2026-11-20;atelier;Revel;a@cd31.fr;Ana\n"
    ).encode()
    preview, done = run(d, raw, "csv")
    # The last row says the same as the first: two people wrote it, two contributions.
    assert preview.rows_read == 9 and done == 3 and preview.duplicates == 0
    assert [(line, str(reason)) for line, reason in preview.refused] == [
        (3, "unknown item “Engagement n°9”: give its title or its position"),
        (5, "the text is empty"),
        (6, "unknown commune of Haute-Garonne “Paris”"),
        (7, "unreadable date “hier”"),
        (8, "unknown channel “pigeon”"),
        (9, "invalid email address"),
    ]
    again, done_again = run(d, raw, "csv")
    assert (done_again, again.duplicates) == (0, 3)  # the same file again adds nothing
    html = db.session.scalar(select(Contribution).where(Contribution.channel == Channel.MAIL))
    assert html.body == "Du HTML" and html.commune_insee == "31555"
    workshop = db.session.scalars(
        select(Contribution).where(Contribution.channel == "workshop")
    ).first()
    assert workshop.participant.email == "a@cd31.fr" and workshop.canton_code == "3113"


@pytest.mark.parametrize("item", ["²", "١", "1.0.0", "99999999999999999999"])
def test_an_item_that_only_looks_like_a_position_is_refused_with_its_line(make_demarche, item):
    """Found by Hypothesis: "²" is a digit for str.isdigit(), not for int()."""
    d = make_demarche("consultation")
    raw = f"item;text\n{item};Un avis\n1;Un autre avis\n".encode()
    preview, done = run(d, raw, "csv")
    assert done == 1
    assert [(line, str(reason)) for line, reason in preview.refused] == [
        (2, f"unknown item “{item}”: give its title or its position")
    ]


def test_decidim_numbers_in_other_digits_are_not_numbers(make_demarche):
    """A depth or an endorsement count of "²" is no number: the row is imported without it."""
    d = make_demarche("consultation")
    raw = (DATA / "decidim-comments-nancy-2019.csv").read_text(encoding="utf-8").splitlines()
    header, first = raw[0].split(";"), raw[1].split(";")
    first[header.index("depth")] = "²"
    proposals = (DATA / "feamp-consultation-proposals.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(proposals)))[:1]
    rows[0]["endorsements/total_count"] = "²"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    assert run(d, ";".join(first).join([raw[0] + "\n", "\n"]).encode(), "decidim")[1] == 1
    assert run(d, out.getvalue().encode(), "decidim")[1] == 1
    assert (
        db.session.scalar(select(Contribution.endorsements).where(Contribution.kind == "proposal"))
        is None
    )


def test_an_xlsx_workbook(make_demarche):
    from openpyxl import Workbook

    d = make_demarche("consultation")
    book = Workbook()
    sheet = book.active
    sheet.append(["Élément", "Texte", "Date", "Canal", "Commune", "Courriel", "Nom"])
    sheet.append(
        [
            1,
            "Depuis Excel",
            __import__("datetime").datetime(2026, 11, 21, 10, 0),
            "réunion",
            "Muret",
            "b@cd31.fr",
            "Bob",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    preview, done = run(d, buffer.getvalue(), "xlsx")
    assert done == 1 and preview.refused == []
    row = db.session.scalar(select(Contribution))
    assert (row.channel, row.commune_insee, row.contributed_at.hour) == (
        Channel.MEETING,
        "31395",
        9,
    )


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe\x00garbage", b"a,b\n1,2\n"])
def test_unreadable_files_are_refused_whole(make_demarche, raw):
    from workflows.errors import InvalidFields

    d = make_demarche("consultation")
    with pytest.raises(InvalidFields):
        Importer(db.session, d, "decidim").preview(raw)
