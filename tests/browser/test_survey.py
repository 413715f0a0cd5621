"""The participants' questionnaire in a real browser on a phone (360 × 740) — a plain form,
no script of its own: it fits the screen, axe-core finds nothing, a missing answer comes back said
beside its question, the answer is thanked, and the link then says it was used."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice import tokens
from backoffice.extensions import db
from tests.browser.conftest import assert_accessible
from tests.seed import address, seed_contributors
from workflows import survey
from workflows.clock import utcnow
from workflows.models import Participant

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url}: {width} px wide"
    assert_accessible(page)


def test_the_questionnaire_on_a_phone(app, page, make_demarche):
    d = make_demarche("feedback", title="Schéma départemental des mobilités du Comminges")
    seed_contributors(db.session, d, 1, as_of=utcnow(), per_person=1)
    db.session.commit()
    participant = db.session.scalar(select(Participant).where(Participant.email == address(1)))
    nonce = survey.invitation_nonce(db.session, d.id, participant.id, as_of=utcnow())
    db.session.commit()
    with app.test_request_context():
        link = f"/questionnaire/{tokens.survey_token(nonce)}"
    page.set_viewport_size(PHONE)
    page.goto(link)
    fits(page)
    expect(page.get_by_role("heading", name="Votre avis sur la démarche")).to_be_visible()
    for statement in survey.STATEMENTS:
        if statement.code == "outcome":
            continue  # left unanswered
        group = page.get_by_role("group", name=f"{survey.STATEMENTS.index(statement) + 1}.")
        group.get_by_label("Plutôt d’accord", exact=True).check()
    page.get_by_label("Votre âge (facultatif)").select_option("40_59")
    page.get_by_role("button", name="Envoyer mes réponses").click()
    page.wait_for_load_state()
    fits(page)
    expect(page.get_by_role("alert")).to_contain_text("choisissez l’une des réponses")
    outcome = page.get_by_role("group", name="J’ai compris ce qu’est devenue ma contribution")
    expect(outcome).to_have_accessible_description("choisissez l’une des réponses")
    group = page.get_by_role("group", name="J’ai eu les informations")
    expect(group.get_by_label("Plutôt d’accord", exact=True)).to_be_checked()
    outcome.get_by_label("Tout à fait d’accord", exact=True).check()
    page.get_by_role("button", name="Envoyer mes réponses").click()
    page.wait_for_load_state()
    fits(page)
    expect(page.get_by_role("status")).to_contain_text("Merci : votre réponse est enregistrée")
    page.goto(link)
    fits(page)
    expect(page.get_by_role("status")).to_contain_text("a déjà reçu une réponse par ce lien")
