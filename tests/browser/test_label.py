"""The charter's label in a real browser: the mission awards it from the sheet (refused
without a reason, then given), the public page ``/label`` and the démarche's label section,
on a desktop and on a 360 px phone, without JavaScript too, each checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_contrasted, log_in
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
REASON = "Questionnaire remis sur papier à l’atelier de clôture " + "Anticonstitutionnellement" * 3


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{page.url}: {width} px wide on a {inner} px screen"


def test_the_mission_awards_the_label_and_the_public_reads_it(page, people, make_demarche):
    d = make_demarche("closed", title="Une démarche labellisée")
    log_in(page, people.mission.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    form = page.locator("#label-form")
    expect(form.get_by_label("Pas de label")).to_be_checked()  # the proposal: no level
    form.get_by_label("★★ Démarche de qualité").check()
    form.get_by_role("button", name="Enregistrer le label").click()
    page.wait_for_load_state()
    assert_accessible(page)
    reason = page.locator("#label-reason")
    expect(reason).to_be_focused()
    expect(reason).to_have_accessible_description(
        "un niveau au-dessus de celui que proposent les règles demande une raison publique"
    )
    reason.fill(REASON)
    page.locator("#label-form").get_by_role("button", name="Enregistrer le label").click()
    page.wait_for_load_state()
    expect(page.locator("#evaluation")).to_contain_text("Attribué : ★★ Démarche de qualité")
    assert_accessible(page)

    page.context.clear_cookies()  # a visitor
    for size in (None, PHONE):
        if size:
            page.set_viewport_size(size)
        page.goto(f"/demarches/{d.slug}")
        section = page.locator("#label")
        expect(section.get_by_role("heading", name="Le label de la charte")).to_be_visible()
        expect(section).to_contain_text("★★ Démarche de qualité")
        expect(section).to_contain_text("Questionnaire remis sur papier")
        section.get_by_text("Les critères sur lesquels elle a été jugée").click()
        expect(section.locator("tr[data-indicator='survey_sent']")).to_contain_text("non tenu")
        assert_accessible(page)
        fits(page)
        page.goto("/label")
        expect(page.get_by_role("heading", name="Le label de la charte", level=1)).to_be_visible()
        expect(page.locator("ul.labelled")).to_contain_text("Une démarche labellisée")
        expect(page.locator("table").first).to_contain_text("La synthèse est publiée")
        assert_accessible(page)
        assert_contrasted(page)
        fits(page)


def test_the_label_pages_read_without_javascript(browser, live_server, make_demarche):
    d = make_demarche("closed", title="Sans script")
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.goto("/label")
        expect(page.locator("h1")).to_have_text("Le label de la charte")
        expect(page.locator("body")).to_contain_text("Aucune démarche n’a encore reçu le label.")
        page.goto(f"/demarches/{d.slug}")
        expect(page.locator("#label")).to_have_count(0)  # never judged: no label shown
    finally:
        context.close()


def test_the_evaluation_section_and_the_rules_editor_fit_a_phone(page, demo_data):
    """The demo's closed démarche, its survey answered: the answers table (seven columns)
    and the rules editor's rows scroll in their own box, the sheet keeps the phone's width."""
    from backoffice import demo
    from backoffice.extensions import db
    from workflows.models import Demarche

    closed = db.session.query(Demarche).filter_by(stage="closed").one()
    log_in(page, "mission@demo.cd31.fr", demo.PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"/admin/demarche/details/?id={closed.id}")
    expect(page.locator("table.survey-results")).to_be_attached()
    assert_accessible(page)
    fits(page)
    page.goto("/admin/label/")
    assert_accessible(page)
    fits(page)
    select = page.locator("select[name$='-measure']").first
    assert select.bounding_box()["width"] >= 100, "the select shows its choice"
