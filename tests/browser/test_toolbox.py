"""The toolbox in a real browser: a visitor without JavaScript filters the methods with the
form and opens one; the pages pass axe-core, also at 360 px wide."""

from __future__ import annotations

import pytest

from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from workflows import methods

pytestmark = pytest.mark.browser


def test_a_visitor_without_javascript_filters_and_opens_a_method(browser, live_server, catalogue):
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Boîte à outils").click()
        assert page.get_by_role("heading", level=1).inner_text() == "La boîte à outils"
        every = page.locator("ul.methods > li").count()
        assert every >= 20

        page.get_by_label("Niveau de participation").select_option(label="Consultation")
        page.get_by_label("Format").select_option(label="Présentiel")
        page.get_by_label("Participants attendus").fill("40")
        page.get_by_label("Budget maximal (€)").fill("5000")
        page.get_by_role("button", name="Afficher les méthodes").click()
        page.wait_for_load_state()
        assert "level=consultation" in page.url and "size=40" in page.url
        names = page.locator("ul.methods h3 a").all_inner_texts()
        assert "Atelier citoyen" in names and "Conférence de citoyens" not in names
        assert 0 < len(names) < every
        assert page.get_by_label("Participants attendus").input_value() == "40"

        page.get_by_role("link", name="Atelier citoyen", exact=True).click()
        page.wait_for_load_state()
        assert page.url.endswith("/boite-a-outils/atelier-citoyen")
        assert page.get_by_role("heading", name="Quand l’éviter").is_visible()
        assert page.get_by_text("Estimation 2026 du Département").is_visible()
    finally:
        context.close()


def test_the_toolbox_pages_are_accessible_and_fit_a_phone(page, catalogue):
    for url in (
        "/boite-a-outils",
        "/boite-a-outils?level=co-construction&duration=90",
        "/boite-a-outils?size=abc",
        "/boite-a-outils/conference-de-citoyens",
        "/boite-a-outils/permanence-aller-vers",
    ):
        page.goto(url)
        assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    for url in ("/boite-a-outils", "/boite-a-outils/atelier-du-futur"):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways at 360 px"
        assert_accessible(page)


def test_the_missions_toolbox_pages_are_accessible(page, catalogue, people):
    from tests.support import PASSWORD

    log_in(page, people.mission.email, PASSWORD)
    cafe = methods.get_method(db.session, "world-cafe")
    for url in (
        "/admin/method/",
        f"/admin/method/details/?id={cafe.id}",
        f"/admin/method/edit/?id={cafe.id}",
        "/admin/method/new/",
    ):
        page.goto(url)
        assert_accessible(page)
