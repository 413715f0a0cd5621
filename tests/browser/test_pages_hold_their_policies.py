"""The public pages, in a real browser, on the demo data: no Content-Security-Policy
violation (the ``page`` fixture fails on any), no serious or critical axe-core violation, and
the behaviours that used inline scripts still work (the back office's pages, role by role:
``test_back_office_journeys.py``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from workflows.models import Demarche, Item
from workflows.stages import PUBLIC_STAGES

pytestmark = pytest.mark.browser


def test_public_pages(page, demo_data):
    public = db.session.scalars(
        select(Demarche).where(Demarche.stage.in_(PUBLIC_STAGES)).order_by(Demarche.id)
    ).all()
    urls = ["/", "/charte", "/login", "/register"]
    urls += [f"/demarches/{d.slug}" for d in public]
    urls += [f"/demarches/{d.slug}/elements/{d.items[0].id}" for d in public if d.items]
    for url in urls:
        page.goto(url)
        assert_accessible(page)


def test_confirmations_and_menus_work_without_inline_scripts(page, demo_data):
    log_in(page, "mission@demo.cd31.fr", demo.PASSWORD)
    items = db.session.scalar(select(db.func.count(Item.id)))
    page.goto("/admin/item/")
    assert_accessible(page)
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    # Deleting a row asks first; dismissed, nothing is deleted.
    page.locator("form.icon button[data-confirm]").first.click()
    assert questions and "supprimer" in questions[0]
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(Item.id))) == items
    # The filter menu opens without navigating away.
    page.get_by_role("link", name="Ajouter un filtre").click()
    page.locator(".field-filters a.filter").first.click()
    assert page.url.endswith("/admin/item/")
    assert page.locator(".filters input, .filters select").count() > 0
    assert_accessible(page)
