"""The démarche sheet at several stages, in a real browser: what it shows makes sense at the
stage, the page is accessible, and a refused decision brings its form into view (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from tests.support import PASSWORD
from workflows.clock import utcnow
from workflows.transitions import transition

pytestmark = pytest.mark.browser


def test_the_sheet_at_each_stage_is_accessible_and_shows_what_fits(page, people, make_demarche):
    draft = make_demarche("draft", title="Un brouillon")
    returned = make_demarche("submitted", title="Une saisine renvoyée")
    transition(
        db.session,
        returned.id,
        "returned",
        actor=people.mission,
        as_of=utcnow(),
        comment="Précisez le public concerné.",
    )
    transition(db.session, returned.id, "submitted", actor=people.agent, as_of=utcnow())
    transition(
        db.session, returned.id, "returned", actor=people.mission, as_of=utcnow(), comment="Encore."
    )
    consultation = make_demarche("consultation", title="Une consultation ouverte")
    closed = make_demarche("closed", title="Une démarche close")
    db.session.commit()
    log_in(page, people.agent.email, PASSWORD)

    page.goto(f"/admin/demarche/details/?id={draft.id}")
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Contributions")).to_have_count(0)
    expect(page.get_by_text("Exporter les contributions")).to_have_count(0)

    page.goto(f"/admin/demarche/details/?id={returned.id}")
    assert_accessible(page)
    reason = page.locator("#returned")
    expect(reason).to_contain_text("Encore.")
    reason.get_by_role("link", name="Modifier la saisine").click()
    page.wait_for_url("**/admin/saisine/**")  # an agent edits in the guided form
    assert_accessible(page)
    page.go_back()
    page.wait_for_load_state()
    assert_accessible(page)
    rows = page.locator("#charter-title + table tbody")
    expect(rows).to_contain_text("1re transmission, le")
    expect(rows).to_contain_text("2e transmission, le")

    page.goto(f"/admin/demarche/details/?id={consultation.id}")
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Contributions")).to_have_count(1)
    expect(page.get_by_role("link", name="Organiser un événement")).to_have_count(1)

    page.goto(f"/admin/demarche/details/?id={closed.id}")
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Les décisions de la direction")).to_have_count(1)
    expect(page.get_by_role("link", name="Organiser un événement")).to_have_count(0)


def test_a_refused_decision_is_brought_into_view_with_its_message(page, people, make_demarche):
    d = make_demarche("synthesis", title="Une synthèse à décider")
    item = d.items[0]
    log_in(page, people.agent.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    card = page.locator(f"#decision-{item.id}")
    card.get_by_label("Retenu en partie").check()
    # A text of spaces passes the browser's « required » but not the domain.
    card.get_by_label("Justification (obligatoire)").fill("   ")
    card.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_load_state()

    card = page.locator(f"#decision-{item.id}")
    justification = card.get_by_label("Justification (obligatoire)")
    expect(justification).to_be_focused()
    expect(justification).to_be_in_viewport()
    expect(card.get_by_label("Retenu en partie")).to_be_checked()
    expect(justification).to_have_accessible_description("la justification manque")
    assert_accessible(page)
