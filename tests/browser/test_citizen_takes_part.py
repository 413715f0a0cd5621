"""A citizen creates an espace citoyen, confirms it from the email the SMTP server received,
comments an item, registers to a workshop, and finds both in the espace citoyen."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backoffice.extensions import db
from tests.browser.conftest import assert_accessible
from workflows import events
from workflows.clock import utcnow

pytestmark = pytest.mark.browser


def test_a_citizen_takes_part_from_registration_to_espace(
    page, make_demarche, people, deliver, smtp
):
    d = make_demarche("consultation", title="Projet de Charte du dialogue citoyen")
    start = utcnow().replace(microsecond=0) + timedelta(days=8)
    events.create_event(
        db.session,
        people.mission,
        d,
        {
            "kind": "workshop",
            "title": "Atelier citoyen du 3 décembre",
            "starts_at": start,
            "ends_at": start + timedelta(hours=3),
            "place": "Hôtel du Département",
            "capacity": 30,
        },
        as_of=utcnow(),
    )
    db.session.commit()

    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Créer mon espace citoyen").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill("lea@exemple.fr")
    page.get_by_label("Votre nom (facultatif)").fill("Léa Martin")
    page.get_by_label("Mot de passe", exact=True).fill("un mot de passe solide")
    page.get_by_label("Confirmer le mot de passe").fill("un mot de passe solide")
    page.get_by_role("button", name="Créer mon espace citoyen").click()
    assert page.locator("h1").inner_text() == "Consultez votre messagerie"
    assert_accessible(page)

    deliver()  # what the workers do: the confirmation email leaves the outbox
    [email] = smtp.to("lea@exemple.fr")
    link = re.search(r"https?://\S+/confirm/\S+", email.text).group(0)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Mon espace citoyen"
    assert_accessible(page)

    page.goto(f"/demarches/{d.slug}")
    assert_accessible(page)
    page.get_by_role("link", name=d.items[0].title).click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Votre texte").fill("Des rencontres le soir, pour les actifs.")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.locator("body")).to_contain_text("Merci : votre contribution est publiée.")
    assert_accessible(page)

    page.goto(f"/demarches/{d.slug}")
    assert_accessible(page)
    workshop = page.locator("#evenement-1")
    workshop.get_by_role("button", name="S’inscrire").click()
    expect(page.locator("body")).to_contain_text("Vous êtes inscrit·e")
    assert_accessible(page)

    page.get_by_role("link", name="Mon espace citoyen").click()
    page.wait_for_load_state()
    assert_accessible(page)
    contributions = page.locator("#contributions .records").inner_text()
    assert "Des rencontres le soir, pour les actifs." in contributions
    registrations = page.locator("#inscriptions .records").inner_text()
    assert "Atelier citoyen du 3 décembre" in registrations and "Inscrit·e" in registrations


def test_a_neighbour_without_an_account_registers_and_confirms_from_the_email(
    page, make_demarche, people, deliver, smtp
):
    d = make_demarche("consultation", title="Projet de Charte du dialogue citoyen")
    start = utcnow().replace(microsecond=0) + timedelta(days=8)
    events.create_event(
        db.session,
        people.mission,
        d,
        {
            "kind": "meeting",
            "title": "Rencontre territoriale de Revel",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "place": "Salle des fêtes, Revel",
            "capacity": 30,
        },
        as_of=utcnow(),
    )
    db.session.commit()

    page.goto(f"/demarches/{d.slug}")
    assert_accessible(page)
    meeting = page.locator("#evenement-1")
    meeting.get_by_label("Votre adresse électronique").fill("paul@exemple.fr")
    meeting.get_by_role("button", name="S’inscrire").click()
    expect(page.locator("body")).to_contain_text("un courriel part vers cette adresse")
    assert_accessible(page)

    deliver()
    [ask] = smtp.to("paul@exemple.fr")
    assert ask.subject == "Confirmez votre inscription : Rencontre territoriale de Revel"
    path = re.search(r"http://dialogue\.test(/inscriptions/\S+)", ask.text).group(1)
    page.goto(path)
    assert page.locator("h1").inner_text() == "Confirmer mon inscription"
    assert_accessible(page)
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.environ["SCREENSHOTS"] + "/confirm.png", full_page=True)
    page.get_by_label("Votre nom").fill("Paul Garcia")
    page.get_by_role("button", name="Confirmer mon inscription").click()
    expect(page.locator("body")).to_contain_text("Vous êtes inscrit·e")
    expect(page.locator("body")).to_contain_text("Annuler mon inscription")
    assert_accessible(page)

    deliver()
    confirmation = smtp.to("paul@exemple.fr")[-1]
    assert confirmation.subject == "Votre inscription : Rencontre territoriale de Revel"
    assert confirmation.text.startswith("Bonjour Paul Garcia,")
