"""The mission opens the synthesis of the demo's démarche at its synthesis stage, in a real
browser: the published version, its method in French, the page accessible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from workflows.clock import utcnow
from workflows.models import Demarche
from workflows.stages import Stage

pytestmark = pytest.mark.browser


def test_the_mission_opens_the_published_synthesis_from_the_demarche(page, ctx):
    demo.load(db.session, as_of=utcnow())
    db.session.commit()
    d = db.session.scalars(select(Demarche).where(Demarche.stage == Stage.SYNTHESIS)).one()
    log_in(page, "mission@demo.cd31.fr", demo.PASSWORD)

    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    page.get_by_role("link", name="La synthèse", exact=True).click()
    page.wait_for_load_state()
    heading = page.locator(".badge").first
    expect(heading).to_have_text("Publiée")
    expect(page.locator("body")).to_contain_text("Version 1")
    method = page.locator("dl.synthesis-method")
    expect(method).to_contain_text("Thèmes")
    expect(method).to_contain_text("k-moyennes sur le cosinus")
    assert "NMF on TF-IDF" not in page.content()
    assert_accessible(page)
