"""An elected official logs in and reads their démarches, on a desktop and on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.browser.conftest import assert_accessible, log_in
from tests.conftest import PASSWORD
from workflows import charter
from workflows.clock import local_date, utcnow
from workflows.models import Deadline, DeadlineStatus

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_elected_official_reads_their_demarches(page, people, make_demarche):
    late = make_demarche(
        "submitted", title="Plan vélo du Lauragais : pistes, stationnements et intermodalité"
    )
    open_one = make_demarche("consultation", title="Routes de montagne")
    make_demarche("draft", title="Aide à domicile", elected_official=people.other_elected)
    factories.contribution(open_one, people.mission, author=factories.participant())
    review = db.session.scalar(
        select(Deadline).where(
            Deadline.demarche_id == late.id, Deadline.rule_code == "review_saisine"
        )
    )
    review.due_date = local_date(utcnow()) - timedelta(days=3)
    review.due_at = charter.paris_midnight(review.due_date + timedelta(days=1))
    review.status = DeadlineStatus.MISSED
    db.session.commit()

    log_in(page, people.elected.email, PASSWORD)
    assert "Bonjour Élodie Élue" in page.locator("h1").inner_text()
    cards = page.locator("article.card")
    expect(cards).to_have_count(2)
    assert "Plan vélo du Lauragais" in cards.nth(0).inner_text()
    expect(cards.nth(0)).to_contain_text("En retard")
    expect(cards.nth(1)).to_contain_text("1 contribution publiée")
    expect(page.locator("main")).not_to_contain_text("Aide à domicile")
    expect(page.locator("main")).not_to_contain_text("Démarches par étape")
    assert_accessible(page)

    # On a phone (and at 200 % zoom, a narrower window): no horizontal scrolling.
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits_the_width(page)
    assert_accessible(page)

    # Each card leads to the démarche's sheet, which opens for them.
    page.get_by_role("link", name="Routes de montagne").click()
    page.wait_for_url(f"**/admin/demarche/details/?id={open_one.id}")
    expect(page.locator("h1")).to_contain_text("Routes de montagne")
    assert_accessible(page)


def test_an_official_without_demarche_is_told_whom_to_ask(page, people):
    page.set_viewport_size(PHONE)
    log_in(page, people.elected.email, PASSWORD)
    expect(page.locator("main")).to_contain_text(
        "Aucune démarche participative ne vous a encore été confiée."
    )
    expect(page.get_by_role("link", name=people.mission.email)).to_have_attribute(
        "href", f"mailto:{people.mission.email}"
    )
    assert fits_the_width(page)
    assert_accessible(page)
