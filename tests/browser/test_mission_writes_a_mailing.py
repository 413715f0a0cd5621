"""The mission writes a mailing without template syntax, in a real browser: it inserts a
placeholder from the list, sees the preview of a real recipient follow what it writes, then
saves and sends the mailing as before."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests.browser.conftest import assert_accessible, log_in
from tests.seed import address, seed_contributors
from tests.support import PASSWORD
from workflows import mailings
from workflows.clock import utcnow
from workflows.models import Mailing, MailingKind, MailingStatus

pytestmark = pytest.mark.browser


def test_the_mission_writes_previews_and_sends_a_mailing(app, page, people, make_demarche, smtp):
    d = make_demarche("consultation", title="Collèges du Comminges")
    seed_contributors(db.session, d, 3, as_of=utcnow(), news=True)
    db.session.commit()
    log_in(page, people.mission.email, PASSWORD)

    page.goto(f"/admin/mailing/new/?demarche_id={d.id}")
    preview = page.locator("#mailing-preview")
    expect(preview.locator("[data-preview='subject']")).to_have_text(
        "Ce que votre participation à « Collèges du Comminges » a permis"
    )
    assert_accessible(page)
    body = page.get_by_label("Texte")
    assert "{{" not in body.input_value() and "{%" not in body.input_value()

    # Another kind brings its own default text, the one shown being unchanged.
    page.get_by_label("Type", exact=True).select_option("newsletter")
    _, newsletter = mailings.default_text(MailingKind.NEWSLETTER)
    expect(body).to_have_value(newsletter)

    subject = page.get_by_label("Objet")
    subject.fill("Merci ")
    page.get_by_role("button", name="Insérer [Prénom et nom du destinataire]").click()
    expect(subject).to_have_value("Merci [Prénom et nom du destinataire]")
    expect(preview.locator("[data-preview='subject']")).to_have_text("Merci Citoyen 1")
    expect(preview.locator("[data-preview='body']")).to_contain_text("Bonjour Citoyen 1,")

    # An event's placeholders are not offered to a mailing without an event.
    assert page.get_by_role("button", name="Insérer [Lieu de l’événement]").is_hidden()
    page.get_by_label("Tel que le lira").select_option(address(2))
    expect(preview.locator("[data-preview='subject']")).to_have_text("Merci Citoyen 2")
    body.press("Control+End")
    body.type("\n[Titre de la démarhce]")
    expect(preview.locator("[data-preview='notes']")).to_contain_text(
        "vouliez-vous écrire [Titre de la démarche]"
    )
    assert_accessible(page)

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    mailing = db.session.scalar(select(Mailing))
    assert mailing.subject == "Merci [Prénom et nom du destinataire]"
    expect(page.locator("h1")).to_have_text("Merci Citoyen 1")
    assert_accessible(page)  # its flash message included

    page.get_by_role("button", name="Envoyer", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("L’envoi est en cours.")
    assert_accessible(page)
    db.session.refresh(mailing)
    assert mailing.status == MailingStatus.SCHEDULED

    # What the worker does after the commit, here in the test's process.
    mailings.start(db.session, mailing.id, as_of=utcnow())
    mailings.deliver_chunk(
        db.session, mailing.id, mailer.smtp_opener, lambda m: mailer.composer(db.session, m)
    )
    [message] = smtp.to(address(2))
    assert message.subject == "Merci Citoyen 2"
    assert message.text.startswith("Bonjour Citoyen 2,")
