"""The synthesis as a PDF and a spreadsheet: they open, carry the figures, the pictures and
the themes, and no planted personal data."""

from __future__ import annotations

import io
import re

import pypdfium2
from openpyxl import load_workbook
from pypdf import PdfReader

from backoffice.extensions import db
from tests import factories
from tests.domain.test_synthesis_build import CAMPAIGN, DATA, PEOPLE
from workflows import imports
from workflows.clock import utcnow
from workflows.syntheses import build, versions


def published(make_demarche, people):
    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    importer = imports.Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    for n in range(12):
        name, email, phone = PEOPLE[n % 3]
        factories.contribution(
            d,
            people.mission,
            body=CAMPAIGN.format(name=name, email=email, phone=phone, number=n + 1),
        )
    db.session.commit()
    synthesis = build.build(db.session, d, actor=people.mission, as_of=utcnow())
    versions.edit(
        db.session, people.mission, synthesis, introduction="Une synthèse.", as_of=utcnow()
    )
    versions.validate(db.session, people.mission, synthesis, as_of=utcnow())
    versions.publish(db.session, people.mission, synthesis, as_of=utcnow())
    db.session.commit()
    return d


def secrets() -> list[str]:
    return [s for person in PEOPLE for s in (person[0], person[1], person[2])]


def test_the_pdf_opens_with_its_pictures_and_without_personal_data(client, make_demarche, people):
    d = published(make_demarche, people)
    response = client.get(f"/demarches/{d.slug}/synthese.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"synthese-{d.slug}-v1.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    for title in (
        "Contributions par élément",
        "Contributions par canal",
        "Participation par canton",
    ):
        assert title in text
    assert "420" in text  # 408 proposals and 12 letters
    assert "contournement routier" in text  # the campaign, shown once as such
    for secret in secrets():
        assert secret not in text, secret
    # Looked at as an image: the first page is not blank, its charts are drawn in ink.
    page = pypdfium2.PdfDocument(response.data)[0].render(scale=1).to_pil().convert("L")
    dark = sum(page.histogram()[:128])
    assert dark > 0.01 * page.width * page.height


def test_the_spreadsheet_has_the_figures_and_the_anonymised_contributions(
    client, make_demarche, people, api
):
    d = published(make_demarche, people)
    response = client.get(f"/demarches/{d.slug}/synthese.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Chiffres", "Thèmes", "Contributions"]
    assert book["Chiffres"]["B1"].value == 420
    rows = list(book["Contributions"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 420
    cells = " ".join(
        str(v) for row in book.worksheets for r in row.iter_rows(values_only=True) for v in r
    )
    for secret in secrets():
        assert secret not in cells, secret
    assert "[courriel]" in cells and "[téléphone]" in cells
    # The API gives the same documents to staff.
    pdf = api(people.mission, "get", f"/api/v1/demarches/{d.id}/synthesis.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    sheet = api(people.mission, "get", f"/api/v1/demarches/{d.id}/synthesis.xlsx")
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"


def test_a_published_versions_documents_are_made_once_by_a_worker_and_kept(
    client, make_demarche, people, monkeypatch
):
    from backoffice import after_commit
    from backoffice.outgoing import syntheses as rendering
    from workflows.models import Synthesis

    asked = []
    monkeypatch.setattr(after_commit, "publish", lambda task, *args: asked.append((task, args)))
    d = published(make_demarche, people)
    [(synthesis_id,)] = [args for task, args in asked if task == "workers.render_synthesis"]
    assert rendering.render_documents(db.session, synthesis_id) == ["pdf", "xlsx"]
    assert rendering.render_documents(db.session, synthesis_id) == []  # a task run twice

    def refuse(*args):
        raise AssertionError("made again")

    monkeypatch.setattr(rendering, "to_pdf", refuse)
    monkeypatch.setattr(rendering, "to_xlsx", refuse)
    kept = db.session.get(Synthesis, synthesis_id)
    response = client.get(f"/demarches/{d.slug}/synthese.pdf")
    assert response.status_code == 200 and response.data == kept.pdf
    assert client.get(f"/demarches/{d.slug}/synthese.xlsx").data == kept.xlsx


def test_the_unclassified_are_shown_with_their_size_on_the_page_pdf_and_spreadsheet(
    client, make_demarche, people
):
    from workflows.models import Synthesis

    d = published(make_demarche, people)
    synthesis = db.session.scalars(db.select(Synthesis).where(Synthesis.demarche_id == d.id)).one()
    left = synthesis.figures["unassigned"]
    overall = left["overall"]
    # Every contribution counted once (a group of copies as one): in a theme or unclassified.
    kept = 420 - sum(group["size"] - 1 for group in synthesis.duplicates)
    assert overall > 0
    assert sum(t["size"] for t in synthesis.themes if t["item_id"] is None) + overall == kept
    page = client.get(f"/demarches/{d.slug}").text
    assert re.search(rf"Non classés</strong> — {overall} contributions?\b", page)
    pdf = PdfReader(io.BytesIO(client.get(f"/demarches/{d.slug}/synthese.pdf").data))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert re.search(rf"Non classés — {overall} contributions?\b", text)
    book = load_workbook(io.BytesIO(client.get(f"/demarches/{d.slug}/synthese.xlsx").data))
    rows = list(book["Thèmes"].iter_rows(min_row=2, values_only=True))
    assert ("Ensemble", "Non classés", overall, None, None) in rows or (
        any(r[1] == "Non classés" and r[2] == overall for r in rows)
    )
