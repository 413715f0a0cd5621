"""The guide where people read it: ``/guide`` is public and tells the path, the roles, the
checklists, the charter in force and the templates the project sends — a rule the mission
changes shows at once; ``/guide.pdf`` is 503 in French until a worker made an edition, then
the PDF (read back, drawn in ink); ``GET /api/v1/guide``; the model introduction on the
synthesis sheet."""

from __future__ import annotations

import html
import io
import re

import pypdfium2
from pypdf import PdfReader
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.i18n import tr
from backoffice.outgoing.guide import make_edition
from tests.support import csrf_from, csrf_token, login, logout
from workflows import charter
from workflows.clock import utcnow
from workflows.guide import stage_roles
from workflows.mailings.templates import default_text
from workflows.models import CharterVersion, GuideDocument, MailingKind
from workflows.stages import Stage


def text_of(page: str) -> str:
    """The page's text, tags out and entities read, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def inked(data: bytes, index: int) -> float:
    """The share of a page's pixels drawn dark."""
    page = pypdfium2.PdfDocument(data)[index].render(scale=1).to_pil().convert("L")
    return sum(page.histogram()[:128]) / (page.width * page.height)


def test_the_guide_is_public_and_tells_the_path_roles_checklists_charter_and_templates(
    client, catalogue
):
    response = client.get("/guide")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Le guide méthodologique" in page
    for stage, roles in stage_roles().items():
        assert tr(stage.label) in page
        for said in (roles.summary, roles.department, roles.mission, roles.elected):
            assert said in page, (stage, said)
    assert "Le service L’élu·e référent·e" not in page  # each role says what it does
    # Checklists, derived from the guards and the charter in force.
    assert "Liste de contrôle pour passer à la suite" in page
    assert "La saisine indique le calendrier souhaité" in page
    assert (
        "La consultation dure au moins 21 jours et au plus 3 mois "
        "(règle de la charte « Durée de la consultation »)"
    ) in page
    assert "La synthèse est publiée" in page
    assert "Cette étape est la dernière" in page
    # The charter in force, the ladder and the templates the project sends.
    assert "Version 1 de la charte, en vigueur depuis le" in page
    assert "Répondre à la question d’un citoyen Échéance" in page
    assert "Délai 30 jours" in page
    assert "Codécision" in page and 'href="/boite-a-outils/budget-participatif"' in response.text
    subject, body = default_text(MailingKind.INVITATION)
    assert " ".join(body.split()) in page and subject in page
    assert "[Décisions du Département]" in page and "[Nombre de participants]" in page
    # Nothing needs JavaScript: plain links and anchors.
    assert 'href="#etape-consultation"' in response.text
    assert "Le PDF du guide et de la boîte à outils est en préparation" in page


def change_the_answer_deadline(client, mission, days: int) -> None:
    """The mission drafts a version of the charter, changes one rule and publishes it, in the
    back office."""
    login(client, mission)
    page = client.get("/admin/charter/").text
    client.post("/admin/charter/draft/", data={"csrf_token": csrf_from(page)})
    draft = db.session.scalar(select(CharterVersion).where(CharterVersion.published_at.is_(None)))
    rule = draft.rule("answer_question")
    form_url = f"/admin/charter/rule/{rule.id}/"
    saved = client.post(
        form_url,
        data={
            "csrf_token": csrf_from(client.get(form_url).text),
            "label": rule.label,
            "start_event": "question_published",
            "stop_event": "question_answered",
            "duration": str(days),
            "unit": "days",
            "maximum": "",
            "maximum_unit": "days",
            "responsible": "department",
            "reminders": "7, 1",
            "alert": ["mission", "elected"],
        },
        follow_redirects=True,
    )
    assert "La règle est enregistrée dans le brouillon." in saved.text
    published = client.post(
        "/admin/charter/publish/",
        data={"csrf_token": csrf_token(client), "id": draft.id},
        follow_redirects=True,
    )
    assert "est désormais la charte" in published.text
    logout(client)


def test_a_rule_changed_by_the_mission_changes_the_guide_at_once(client, catalogue, people):
    before = text_of(client.get("/guide").text)  # kept in the public page cache
    assert "Délai 30 jours" in before and "sous 30 jours" in before
    change_the_answer_deadline(client, people.mission, 25)
    after = text_of(client.get("/guide").text)
    assert "Délai 25 jours" in after and "sous 25 jours" in after
    assert "30 jours" not in after
    assert "Version 2 de la charte" in after


def test_the_pdf_is_503_in_french_until_a_worker_made_it_then_served(client, catalogue):
    waiting = client.get("/guide.pdf")
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == "300"
    assert "n’est pas encore prêt" in html.unescape(waiting.text)

    # What the worker's task does (tests/workers/test_guide_worker.py runs the real one).
    assert make_edition(db.session, as_of=utcnow()).startswith("made")
    assert make_edition(db.session, as_of=utcnow()) == "up to date"  # the same inputs
    assert db.session.scalar(select(func.count(GuideDocument.id))) == 1

    served = client.get("/guide.pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert "guide-dialogue-citoyen.pdf" in served.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(served.data))
    assert len(reader.pages) > 30
    text = pdf_text(served.data)
    for expected in (
        "Guide méthodologique du dialogue citoyen",
        "Sommaire",
        "Le parcours d’une démarche",
        "L’échelle de la participation",
        "Les engagements et les délais de la charte",
        "Répondre à la question d’un citoyen",
        "Les modèles",
        "Conférence de citoyens",
        "MIT License",  # the notice of the text taken from consultation.gouv.fr, kept
        "Copyright (c) 2017-2019 DINSIC/Etalab",
    ):
        assert expected in text, expected
    # Page numbers, and a table of contents that points to them.
    assert re.search(r"\b3 / \d+\b", text)
    assert re.search(r"Conférence de citoyens \.*\s*\d+", text)
    # Looked at as images: the cover and the contents are drawn in ink, no page is blank.
    assert inked(served.data, 0) > 0.005 and inked(served.data, 1) > 0.01
    assert all(inked(served.data, n) > 0.001 for n in range(len(reader.pages)))

    page = text_of(client.get("/guide").text)
    pages = db.session.scalar(select(GuideDocument.pages))
    assert f"Télécharger le guide et la boîte à outils (PDF, {pages} pages)" in page


def test_the_api_gives_the_guide_in_french(api, client, people, catalogue):
    assert client.get("/api/v1/guide").status_code == 401
    answer = api(people.agent, "get", "/api/v1/guide")
    assert answer.status_code == 200
    data = answer.json
    assert [s["stage"] for s in data["stages"]] == [s.value for s in Stage]
    draft = data["stages"][0]
    assert draft["label"] == "Brouillon" and draft["department"].startswith("Rédige la saisine")
    assert "La saisine indique son titre" in draft["exits"][0]["checklist"]
    assert data["stages"][-1]["exits"] == []
    answer_rule = next(r for r in data["charter"]["rules"] if r["code"] == "answer_question")
    assert {"name": "Délai", "value": "30 jours"} in answer_rule["facts"]
    assert answer_rule["stage"] == "consultation"
    assert [t["key"] for t in data["templates"]] == [
        "invitation",
        "feedback",
        "synthesis_introduction",
    ]
    rung = next(r for r in data["ladder"] if r["level"] == "codecision")
    assert {"slug": "budget-participatif", "name": "Budget participatif"} in rung["methods"]
    assert data["pdf"] is None


def test_the_synthesis_sheet_offers_the_model_introduction(client, make_demarche, people):
    from workflows.syntheses import build

    d = make_demarche("synthesis")
    build.build(db.session, d, actor=people.mission, as_of=utcnow())
    db.session.commit()
    login(client, people.mission)
    page = html.unescape(client.get(f"/admin/synthesis/{d.id}/").text)
    assert f"la démarche « {d.title} » a recueilli 0 contributions" in page
    assert "Une introduction modèle, remplie d’après cette version" in page
    assert charter.current_version(db.session).number == 1
