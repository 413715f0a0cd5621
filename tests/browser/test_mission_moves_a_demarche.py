"""A mission member logs in, opens a saisine and accepts it, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from tests.support import PASSWORD
from workflows.models import Demarche, Item, StageTransition
from workflows.stages import Stage

pytestmark = pytest.mark.browser


def test_the_mission_accepts_a_saisine(page, people, make_demarche):
    d = make_demarche("submitted", title="Piste cyclable de la RD 820")
    log_in(page, people.mission.email, PASSWORD, start="/admin/")  # signed out, asked to sign in
    page.wait_for_url("**/admin/")
    assert "Bonjour Marc Mission" in page.locator("h1").inner_text()

    page.get_by_role("link", name="Piste cyclable de la RD 820").first.click()
    assert page.locator(".badge").first.inner_text() == "Saisine déposée"
    assert_accessible(page)
    accept = page.locator("form", has=page.get_by_role("button", name="Accepter la saisine"))
    accept.get_by_label("Commentaire (facultatif)").fill("Démarche bienvenue.")
    accept.get_by_role("button", name="Accepter la saisine").click()

    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text(
        "La démarche est maintenant à l’étape « Lancement »"
    )
    assert page.locator(".badge").first.inner_text() == "Lancement"
    assert_accessible(page)
    assert "Démarche bienvenue." in page.locator(".timeline").inner_text()
    # Now only the launch's move is offered, disabled until the sheet is complete.
    open_button = page.get_by_role("button", name="Ouvrir la consultation")
    assert open_button.is_disabled()
    expect(page.locator("body")).to_contain_text("dates de consultation manquantes")

    db.session.expire_all()
    assert db.session.get(Demarche, d.id).stage == Stage.LAUNCH
    last = db.session.scalars(select(StageTransition).order_by(StageTransition.id.desc())).first()
    assert (last.actor_id, last.source, last.comment) == (
        people.mission.id,
        "backoffice",
        "Démarche bienvenue.",
    )


def test_a_reason_is_required_to_return_a_saisine(page, people, make_demarche):
    make_demarche("submitted", title="Saisine incomplète")
    log_in(page, people.mission.email, PASSWORD)
    page.get_by_role("link", name="Saisine incomplète").first.click()
    page.wait_for_load_state()
    assert_accessible(page)
    back = page.locator("form", has=page.get_by_role("button", name="Renvoyer au service"))
    reason = back.get_by_label("Motif (obligatoire)")
    assert reason.get_attribute("required") is not None  # the browser asks before sending
    reason.fill("Précisez le public concerné.")
    back.get_by_role("button", name="Renvoyer au service").click()
    page.wait_for_load_state()
    assert page.locator(".badge").first.inner_text() == "Renvoyée au service"
    assert_accessible(page)


def test_an_item_added_from_the_sheet_stays_on_its_demarche(page, people, make_demarche):
    make_demarche("launch", title="Aaa — une autre démarche")
    d = make_demarche("launch", title="Zzz — la démarche de la fiche")
    db.session.commit()
    log_in(page, people.agent.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un élément").click()
    page.wait_for_load_state()
    assert page.locator("#fixed-demarche").inner_text() == d.title
    assert page.locator("select[name=demarche]").count() == 0
    assert_accessible(page)
    page.get_by_label("Titre").fill("Option du nord")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_url(f"**/admin/demarche/details/?id={d.id}")
    expect(page.locator("body")).to_contain_text("Option du nord")
    assert_accessible(page)
    db.session.expire_all()
    item = db.session.scalar(select(Item).where(Item.title == "Option du nord"))
    assert item.demarche_id == d.id
