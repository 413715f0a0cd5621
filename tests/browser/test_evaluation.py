"""The evaluation in a real browser: the sheet's « Évaluation » section (formulas on demand, the
self-assessment refused then sent by the department, reviewed by the mission) and the public
page of a closed démarche, each page checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_contrasted, log_in
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


def test_the_department_fills_the_self_assessment_and_the_mission_reviews_it(
    page, people, make_demarche
):
    d = make_demarche("synthesis", title="Une démarche à évaluer")
    log_in(page, people.agent.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    section = page.locator("#evaluation")
    expect(section.get_by_role("heading", name="Évaluation", exact=True)).to_be_visible()
    row = section.locator("#indicator-deadlines_met_on_time")
    row.get_by_text("Mode de calcul").click()
    expect(row).to_contain_text("échéances tenues à temps ÷ échéances échues")
    assert_accessible(page)

    form = section.locator("#self-assessment-form")
    venues = form.get_by_role("group", name="Les lieux des ateliers")
    venues.get_by_label("La plupart", exact=True).check()
    venues.get_by_label("Précisions (facultatif)").fill("La salle de Portet, de plain-pied.")
    outreach = form.get_by_role("group", name="Des actions d’aller-vers")
    outreach.get_by_label("Une", exact=True).check()
    # « Les moyens… » left unanswered: the browser's « required » is taken off to reach the
    # domain, as a script or an old browser would.
    page.evaluate(
        "document.querySelectorAll('#self-assessment-form [required]')"
        ".forEach(e => e.removeAttribute('required'))"
    )
    form.get_by_role("button", name="L’envoyer à la mission").click()
    page.wait_for_load_state()
    assert_accessible(page)
    means = page.locator("#self-assessment-form").get_by_role("group", name="Les moyens donnés")
    expect(means.get_by_label("Suffisants", exact=True)).to_be_focused()
    expect(means).to_have_accessible_description("choisissez l’une des réponses")
    form = page.locator("#self-assessment-form")
    venues = form.get_by_role("group", name="Les lieux des ateliers")
    expect(venues.get_by_label("La plupart", exact=True)).to_be_checked()
    means.get_by_label("En partie", exact=True).check()
    form.get_by_role("button", name="L’envoyer à la mission").click()
    page.wait_for_load_state()
    assert_accessible(page)
    expect(page.locator("#evaluation")).to_contain_text("En attente de l’examen de la mission")
    expect(page.locator("#evaluation")).to_contain_text("La salle de Portet, de plain-pied.")

    page.context.clear_cookies()  # another person, at another desk
    log_in(page, people.mission.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    review = page.locator("#self-assessment-review")
    review.get_by_label("L’accepter").check()
    review.get_by_label("Commentaire").fill("Merci, c’est clair.")
    review.get_by_role("button", name="Enregistrer l’examen").click()
    page.wait_for_load_state()
    assert_accessible(page)
    expect(page.locator("#evaluation")).to_contain_text("Acceptée par la mission")


def test_the_public_page_of_a_closed_demarche_shows_its_evaluation(page, make_demarche):
    d = make_demarche("closed", title="Une démarche close")
    page.goto(f"/demarches/{d.slug}")
    assert_accessible(page)
    section = page.locator("#evaluation")
    expect(section.get_by_role("heading", name="Évaluation de la démarche")).to_be_visible()
    framing = section.locator("#indicator-framing_public_before_opening")
    expect(framing).to_contain_text("5 sur 5")
    expect(framing).to_contain_text("5/5")
    framing.get_by_text("Mode de calcul").click()
    expect(framing).to_contain_text("éléments publics avant l’ouverture de la consultation")
    assert_accessible(page)
    assert_contrasted(page)
