"""The department writes its decisions, the mission starts the feedback, and the feedback
mailing is followed from its sheet, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests.browser.conftest import assert_accessible, log_in
from tests.seed import seed_contributors
from tests.support import PASSWORD, publish_synthesis
from workflows import mailings
from workflows.clock import utcnow
from workflows.models import Mailing
from workflows.transitions import transition

pytestmark = pytest.mark.browser


def test_decisions_then_the_feedback_mailing(app, page, people, make_demarche, smtp):
    d = make_demarche("consultation", title="Restauration scolaire")
    seed_contributors(db.session, d, 3, as_of=utcnow())
    transition(db.session, d.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Fin")
    publish_synthesis(d, people.mission)

    log_in(page, people.agent.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    card = page.locator(f"#decision-{d.items[0].id}")
    card.get_by_label("Retenu en partie").check()
    card.get_by_label("Justification (obligatoire)").fill("Dans dix collèges d'abord.")
    card.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("Décision sur « Engagement n°1 » enregistrée.")
    assert_accessible(page)
    page.context.clear_cookies()

    log_in(page, people.mission.email, PASSWORD)
    page.goto(f"/admin/demarche/details/?id={d.id}")
    assert_accessible(page)
    start = page.get_by_role("button", name="Lancer le retour aux citoyens")
    start.click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text(
        "La démarche est maintenant à l’étape « Retour aux citoyens »"
    )
    assert_accessible(page)

    # What the worker does after the commit, here in the test's process.
    mailing = db.session.scalar(select(Mailing))
    mailings.start(db.session, mailing.id, as_of=utcnow())
    mailings.deliver_chunk(
        db.session, mailing.id, mailer.smtp_opener, lambda m: mailer.composer(db.session, m)
    )
    page.get_by_role(
        "link", name="Ce que votre participation à « Restauration scolaire » a permis"
    ).click()
    assert page.locator("h1").inner_text() == (
        "Ce que votre participation à « Restauration scolaire » a permis"
    )
    assert page.locator('[data-count="sent"]').inner_text() == "3"
    assert "Retenu en partie." in page.locator(".card-body").inner_text()
    assert len(smtp.received) >= 3
    assert_accessible(page)
