"""The guide in a real browser: a visitor without JavaScript reaches it from the menu, jumps
from the contents to a stage and from a rung of the ladder to a method; the page passes
axe-core, also at 360 px wide, where it does not scroll sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, assert_contrasted

pytestmark = pytest.mark.browser


def test_a_visitor_without_javascript_reads_the_guide(browser, live_server, catalogue):
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Guide", exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text() == "Le guide méthodologique"

        page.get_by_role("link", name="Le parcours d’une démarche").click()
        assert page.url.endswith("/guide#parcours")
        page.locator("ol.guide-path").get_by_role("link", name="Consultation").click()
        stage = page.locator("section.guide-stage", has=page.locator("#etape-consultation"))
        assert stage.get_by_text("Répond aux questions des citoyens").is_visible()
        assert stage.get_by_role("link", name="Répondre à la question d’un citoyen").is_visible()

        page.get_by_role("link", name="Budget participatif").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/boite-a-outils/budget-participatif")
    finally:
        context.close()


def test_the_guide_is_accessible_and_fits_a_phone(page, catalogue):
    for url in ("/guide", "/guide.pdf"):
        answer = page.goto(url)
        if url == "/guide.pdf":  # no edition yet: the French page that says so
            assert answer is not None and answer.status == 503
        assert_accessible(page)
    page.goto("/guide")
    assert_accessible(page)
    assert_contrasted(page, keyboard=False)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/guide")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "/guide scrolls sideways at 360 px"
    assert_accessible(page)
    page.screenshot(path="/tmp/guide-360.png", full_page=False)
