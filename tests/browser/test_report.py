"""The yearly report in a real browser on a phone (360 × 740): ``/bilan/<year>`` with its map
and tables, nothing scrolling sideways but the tables' own boxes, checked by axe-core and for
contrast; the PDF's « en préparation » page too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, assert_contrasted
from tests.domain.test_report import MURET, TOULOUSE, said
from workflows.clock import local_date, utcnow
from workflows.participants import participant_for_email

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def test_the_yearly_report_reads_on_a_phone(page, make_demarche):
    now = utcnow()
    year = local_date(now).year
    ana = participant_for_email(db.session, "ana@exemple.fr", name="Ana", as_of=now)
    bruno = participant_for_email(db.session, "bruno@exemple.fr", name="Bruno", as_of=now)
    d = make_demarche("consultation", title="Une démarche de l’année")
    said(d, ana, MURET)
    said(d, bruno, TOULOUSE)
    db.session.commit()

    page.set_viewport_size(PHONE)
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Le bilan annuel").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name=f"Bilan annuel {year}", level=1)).to_be_visible()
    map_ = page.get_by_role("img", name="Participants pour 1 000 habitants, par canton")
    expect(map_).to_be_visible()
    assert map_.bounding_box()["width"] <= PHONE["width"]
    cantons = page.get_by_role("region", name="Participants par canton")
    expect(cantons.get_by_role("row", name="Muret")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
    assert_accessible(page)
    assert_contrasted(page, keyboard=False)

    page.goto(f"/bilan/{year}.pdf")
    expect(page.get_by_role("heading", name="Le bilan annuel est en préparation")).to_be_visible()
    assert_accessible(page)
