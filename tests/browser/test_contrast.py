"""Contrast measured in a real browser on the demo data, public site and back office: every
visible text (links, buttons — disabled ones too —, badges, alerts, fields) at 4.5:1 at least
against the colour it is drawn on, and a keyboard focus indicator at 3:1 at least against its
surroundings (``assert_contrasted``); axe-core's own contrast rule runs too
(``assert_accessible`` fails if it is switched off)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests import factories
from tests.browser.conftest import assert_accessible, assert_contrasted, log_in
from workflows.models import Demarche, Mailing, User
from workflows.stages import PUBLIC_STAGES, Stage

pytestmark = pytest.mark.browser


def check(page, urls: list[str]) -> None:
    for url in urls:
        answer = page.goto(url)
        assert answer is not None and answer.ok, url
        alerts = page.locator(".alert-danger, .flash.error").all_inner_texts()
        assert not alerts, (url, alerts)
        assert_accessible(page)
        assert_contrasted(page)


def by_stage() -> dict[Stage, Demarche]:
    demarches = db.session.scalars(select(Demarche).order_by(Demarche.id)).all()
    return {d.stage: d for d in reversed(demarches)}


def test_public_pages_are_contrasted(page, demo_data):
    public = [d for d in by_stage().values() if d.stage in PUBLIC_STAGES]
    urls = ["/", "/charte", "/login", "/register", "/reset"]
    urls += [f"/demarches/{d.slug}" for d in public]
    urls += [f"/demarches/{d.slug}/elements/{d.items[0].id}" for d in public if d.items]
    check(page, urls)
    log_in(page, "citoyenne@demo.cd31.fr", demo.PASSWORD)
    check(page, ["/espace/", "/espace/bienvenue", "/"])


def test_back_office_pages_are_contrasted(page, demo_data):
    mission = db.session.scalar(select(User).where(User.email == "mission@demo.cd31.fr"))
    stages = by_stage()
    factories.mailing(mission, stages[Stage.CONSULTATION])
    db.session.commit()
    log_in(page, mission.email, demo.PASSWORD)
    sheets = [f"/admin/demarche/details/?id={d.id}" for d in stages.values() if d.stage != "draft"]
    mailing = db.session.scalar(select(Mailing.id))
    check(
        page,
        [
            "/admin/",
            "/admin/demarche/",
            *sheets,
            f"/admin/demarche/edit/?id={stages[Stage.CONSULTATION].id}",
            "/admin/item/",
            "/admin/contribution/",
            "/admin/event/",
            "/admin/deadline/",
            "/admin/mailing/",
            f"/admin/mailing/details/?id={mailing}",
            "/admin/mailing/new/",
            f"/admin/synthesis/{stages[Stage.SYNTHESIS].id}/",
            "/admin/charter/",
            "/admin/training/",
            "/admin/training/new/",
        ],
    )
    page.locator("nav").get_by_role("link", name="Consultation", exact=True).click()  # a menu
    assert page.locator(".dropdown-menu.show a").count() > 1
    assert_contrasted(page, keyboard=False)
    page.context.clear_cookies()
    # Its draft: the submission is disabled until complete.
    log_in(page, "routes@demo.cd31.fr", demo.PASSWORD)
    check(page, [f"/admin/demarche/details/?id={stages[Stage.DRAFT].id}"])
    page.context.clear_cookies()
    # Its returned saisine, its decisions to write.
    log_in(page, "social@demo.cd31.fr", demo.PASSWORD)
    check(page, [f"/admin/demarche/details/?id={stages[s].id}" for s in ("returned", "synthesis")])
